//! App2's OpenID Connect sign-in against the fake Atrium: the launched page starts a
//! `prompt=none` flow, and the callback accepts only an ID token that verifies (signature,
//! nonce, subject of the launch). The real server is in `tests/sample_app.rs`.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use sha2::{Digest, Sha256};

use crate::helpers::*;

/// The `<meta http-equiv="refresh">` target of a page, unescaped.
fn refresh_target(page: &str) -> Option<String> {
    let start = page.find("http-equiv=\"refresh\" content=\"0;url=")? + 36;
    let end = start + page[start..].find('"')?;
    Some(page[start..end].replace("&amp;", "&"))
}

/// The "Sign in with Atrium" link of a page, unescaped.
fn signin_link(page: &str) -> Option<String> {
    let start = page.find("data-signin href=\"")? + 18;
    let end = start + page[start..].find('"')?;
    Some(page[start..end].replace("&amp;", "&"))
}

fn param(url: &str, name: &str) -> Option<String> {
    url::Url::parse(url)
        .ok()?
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// Launches App2 and returns the authorization URL its page sends the browser to.
async fn launched(app: &TestApp, key: &Key) -> String {
    let (status, _, page) = app
        .launch("app2", &key.sign(&app.atrium.claims(APP2, 300)))
        .await;
    assert_eq!(status, 200, "{page}");
    refresh_target(&page).unwrap_or_else(|| panic!("no sign-in redirect: {page}"))
}

/// Atrium's answer to the flow of `authorize`, at App2's sign-in callback.
async fn answer(app: &TestApp, authorize: &str, params: &str) -> (u16, String) {
    let state = param(authorize, "state").expect("a state");
    let (status, _, page) = app
        .get(&format!(
            "/app2/callback?{params}&state={}&iss={}",
            urlencode(&state),
            urlencode(&app.atrium.url)
        ))
        .await;
    (status.as_u16(), page)
}

fn with_key() -> Key {
    Key::new(1, "k1")
}

#[tokio::test]
async fn a_launched_app2_page_starts_a_silent_sign_in_with_pkce_and_a_nonce() {
    let app = spawn().await;
    let key = with_key();
    app.atrium.publish(&[&key]);
    let url = launched(&app, &key).await;
    assert!(
        url.starts_with(&format!("{}/oauth2/authorize?", app.atrium.url)),
        "{url}"
    );
    assert_eq!(param(&url, "prompt").as_deref(), Some("none"));
    assert_eq!(param(&url, "response_type").as_deref(), Some("code"));
    assert_eq!(param(&url, "client_id").as_deref(), Some(APP2));
    assert_eq!(
        param(&url, "code_challenge_method").as_deref(),
        Some("S256")
    );
    assert_eq!(param(&url, "login_hint").as_deref(), Some("demo"));
    assert_eq!(param(&url, "redirect_uri"), Some(app.url("/app2/callback")));
    let scope = param(&url, "scope").unwrap();
    assert!(scope.split(' ').any(|s| s == "openid"), "{scope}");
    assert!(param(&url, "nonce").is_some_and(|n| n.len() >= 16));
}

#[tokio::test]
async fn a_verified_id_token_shows_its_claims_and_the_code_verifier_matches_the_challenge() {
    let app = spawn().await;
    let key = with_key();
    app.atrium.publish(&[&key]);
    app.install_app2(demo_user(true)).await;
    let url = launched(&app, &key).await;
    let nonce = param(&url, "nonce").unwrap();
    let id_token = key.sign(&app.atrium.id_claims(&nonce));
    let code = app.atrium.code_with_id_token(demo_user(true), id_token);

    let (status, page) = answer(&app, &url, &format!("code={code}")).await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("<dd data-claim=\"sub\">7</dd>"), "{page}");
    assert!(
        page.contains("<dd data-claim=\"preferred_username\">demo</dd>"),
        "{page}"
    );
    assert!(page.contains("matches the one App2 sent"), "{page}");
    assert!(page.contains("key <code>k1</code>"), "{page}");
    // Beside what App2 read from the API with its install token.
    assert!(page.contains("What App2 read with its token"), "{page}");
    assert!(refresh_target(&page).is_none(), "no second sign-in: {page}");

    let (_, form) = app
        .atrium
        .state
        .last_token_request
        .lock()
        .unwrap()
        .clone()
        .unwrap();
    let verifier = form.get("code_verifier").expect("a code_verifier");
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    assert_eq!(param(&url, "code_challenge"), Some(challenge));
    assert_eq!(form["redirect_uri"], app.url("/app2/callback"));

    // A state is used once: answered again, it is no sign-in's (and the code is spent).
    let (status, again) = answer(&app, &url, &format!("code={code}")).await;
    assert_eq!(status, 400, "{again}");
    assert!(!again.contains("data-claim"), "{again}");
}

#[tokio::test]
async fn a_tampered_id_token_is_refused() {
    let app = spawn().await;
    let key = with_key();
    app.atrium.publish(&[&key]);
    let url = launched(&app, &key).await;
    let nonce = param(&url, "nonce").unwrap();
    let signed = key.sign(&app.atrium.id_claims(&nonce));
    let parts: Vec<&str> = signed.split('.').collect();
    let mut claims = app.atrium.id_claims(&nonce);
    claims["sub"] = "1".into();
    let payload = URL_SAFE_NO_PAD.encode(claims.to_string());
    let forged = format!("{}.{payload}.{}", parts[0], parts[2]);
    let code = app.atrium.code_with_id_token(demo_user(true), forged);

    let (status, page) = answer(&app, &url, &format!("code={code}")).await;
    assert_eq!(status, 401, "{page}");
    assert!(page.contains("data-signin-error"), "{page}");
    assert!(page.contains("The ID token is not valid"), "{page}");
    assert!(!page.contains("data-claim"), "{page}");
}

#[tokio::test]
async fn an_id_token_with_another_nonce_or_signed_by_another_key_is_refused() {
    let app = spawn().await;
    let key = with_key();
    app.atrium.publish(&[&key]);
    let stranger = Key::new(9, "k1");
    for what in ["another nonce", "another key"] {
        let url = launched(&app, &key).await;
        let sent = param(&url, "nonce").unwrap();
        let (signer, nonce) = match what {
            "another nonce" => (&key, "a-nonce-app2-never-sent"),
            _ => (&stranger, sent.as_str()),
        };
        let token = signer.sign(&app.atrium.id_claims(nonce));
        let code = app.atrium.code_with_id_token(demo_user(true), token);
        let (status, page) = answer(&app, &url, &format!("code={code}")).await;
        assert_eq!(status, 401, "{what}: {page}");
        assert!(page.contains("The ID token is not valid"), "{what}: {page}");
        assert!(!page.contains("data-claim"), "{what}: {page}");
    }
}

#[tokio::test]
async fn an_id_token_for_another_user_than_the_launch_is_refused() {
    let app = spawn().await;
    let key = with_key();
    app.atrium.publish(&[&key]);
    let url = launched(&app, &key).await;
    let mut claims = app.atrium.id_claims(&param(&url, "nonce").unwrap());
    claims["sub"] = "8".into();
    let code = app
        .atrium
        .code_with_id_token(demo_user(true), key.sign(&claims));
    let (status, page) = answer(&app, &url, &format!("code={code}")).await;
    assert_eq!(status, 401, "{page}");
    assert!(page.contains("but App2 was opened for #7"), "{page}");
}

#[tokio::test]
async fn login_required_falls_back_to_a_sign_in_link_without_prompt() {
    let app = spawn().await;
    let key = with_key();
    app.atrium.publish(&[&key]);
    let url = launched(&app, &key).await;
    let (status, page) = answer(&app, &url, "error=login_required").await;
    assert_eq!(status, 200, "{page}");
    assert!(refresh_target(&page).is_none(), "no loop: {page}");
    let link = signin_link(&page).unwrap_or_else(|| panic!("a sign-in link: {page}"));
    assert!(link.starts_with(&format!("{}/oauth2/authorize?", app.atrium.url)));
    assert_eq!(param(&link, "prompt"), None);
    assert_ne!(param(&link, "state"), param(&url, "state"));

    // The link's flow signs in as usual.
    let token = key.sign(&app.atrium.id_claims(&param(&link, "nonce").unwrap()));
    let code = app.atrium.code_with_id_token(demo_user(true), token);
    let (status, page) = answer(&app, &link, &format!("code={code}")).await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("<dd data-claim=\"sub\">7</dd>"), "{page}");
}

#[tokio::test]
async fn a_sign_in_answer_from_another_issuer_is_ignored() {
    let app = spawn().await;
    let key = with_key();
    app.atrium.publish(&[&key]);
    let url = launched(&app, &key).await;
    let (status, _, page) = app
        .get(&format!(
            "/app2/callback?code=x&state={}&iss=http%3A%2F%2Fevil.example",
            urlencode(&param(&url, "state").unwrap())
        ))
        .await;
    assert_eq!(status, 400, "{page}");
    assert!(page.contains("does not come from Atrium"), "{page}");
}
