//! OpenID Connect against the real server, with an unmodified relying party: the
//! `openidconnect` crate, which discovers the provider, runs the code flow with PKCE and a
//! nonce, and verifies every ID token itself (signature against the JWKS, `iss`, `aud`,
//! `exp`, `nonce`, `at_hash`). Only the HTTP transport is ours ([`transport`]).

use openidconnect::core::{
    CoreClient, CoreIdToken, CoreJwsSigningAlgorithm, CoreProviderMetadata, CoreResponseType,
    CoreUserInfoClaims,
};
use openidconnect::{
    AccessTokenHash, AuthenticationFlow, AuthorizationCode, ClientId, ClientSecret, CsrfToken,
    IssuerUrl, Nonce, OAuth2TokenResponse, PkceCodeChallenge, RedirectUrl, Scope, TokenResponse,
};
use serde_json::Value;

use crate::helpers::*;
use crate::interop::transport;

/// The provider as the crate discovers it, and a client for `client` at [`REDIRECT`].
pub(crate) async fn relying_party(
    app: &TestApp,
    client: &TestClient,
) -> (CoreProviderMetadata, Rp) {
    let issuer = IssuerUrl::new(app.base.clone()).unwrap();
    let metadata = CoreProviderMetadata::discover_async(issuer, &transport)
        .await
        .expect("the crate discovers the provider");
    let rp = CoreClient::from_provider_metadata(
        metadata.clone(),
        ClientId::new(client.client_id.clone()),
        client.secret.clone().map(ClientSecret::new),
    )
    .set_redirect_uri(RedirectUrl::new(REDIRECT.into()).unwrap());
    (metadata, rp)
}

/// Opens `url` in `browser` (signed in), allows the consent page, and returns the redirect.
async fn allow(browser: &Browser, url: &url::Url) -> String {
    let page = browser
        .client
        .get(url.as_str())
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    browser.decide_to(&page, "allow", &[]).await
}

/// What one sign-in through the crate produced.
pub(crate) struct SignIn {
    pub(crate) id_token: CoreIdToken,
    pub(crate) access_token: openidconnect::AccessToken,
    pub(crate) refresh_token: Option<openidconnect::RefreshToken>,
    pub(crate) nonce: Nonce,
}

/// A client made from discovered metadata: the token and userinfo endpoints "maybe set".
pub(crate) type Rp = CoreClient<
    openidconnect::EndpointSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointMaybeSet,
    openidconnect::EndpointMaybeSet,
>;

/// The code flow with PKCE and a nonce, in `browser`, through the consent page.
pub(crate) async fn sign_in(rp: &Rp, browser: &Browser, scopes: &[&str]) -> SignIn {
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let mut request = rp.authorize_url(
        AuthenticationFlow::<CoreResponseType>::AuthorizationCode,
        CsrfToken::new_random,
        Nonce::new_random,
    );
    for s in scopes {
        request = request.add_scope(Scope::new(s.to_string()));
    }
    let (url, csrf, nonce) = request.set_pkce_challenge(challenge).url();
    let location = allow(browser, &url).await;
    assert_eq!(
        query_param(&location, "state").as_deref(),
        Some(csrf.secret().as_str())
    );
    let code = query_param(&location, "code").expect("a code");
    let token = rp
        .exchange_code(AuthorizationCode::new(code))
        .unwrap()
        .set_pkce_verifier(verifier)
        .request_async(&transport)
        .await
        .expect("the code exchange");
    SignIn {
        id_token: token.id_token().expect("an ID token").clone(),
        access_token: token.access_token().clone(),
        refresh_token: token.refresh_token().cloned(),
        nonce,
    }
}

/// The `at_hash` check the crate leaves to its caller (Core §3.1.3.8).
fn assert_at_hash(s: &SignIn, verifier: &openidconnect::core::CoreIdTokenVerifier<'_>) {
    let claims = s.id_token.claims(verifier, &s.nonce).unwrap();
    let expected = claims.access_token_hash().expect("an at_hash");
    let actual = AccessTokenHash::from_token(
        &s.access_token,
        s.id_token.signing_alg().unwrap(),
        s.id_token.signing_key(verifier).unwrap(),
    )
    .unwrap();
    assert_eq!(*expected, actual);
}

/// The header of a compact JWS, decoded.
fn header(jwt: &str) -> Value {
    use base64::Engine;
    let h = jwt.split('.').next().unwrap();
    serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(h)
            .unwrap(),
    )
    .unwrap()
}

/// `jwt` with its payload changed by `edit` and its signature kept.
fn tampered(jwt: &str, edit: impl FnOnce(&mut Value)) -> CoreIdToken {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let parts: Vec<&str> = jwt.split('.').collect();
    let mut payload: Value = serde_json::from_slice(&b64.decode(parts[1]).unwrap()).unwrap();
    edit(&mut payload);
    let forged = format!(
        "{}.{}.{}",
        parts[0],
        b64.encode(payload.to_string()),
        parts[2]
    );
    forged.parse().unwrap()
}

/// Users `dev` and `alice`; `dev` registers a confidential CODE app with `scopes`.
pub(crate) async fn openid_app(app: &TestApp, scopes: &str) -> (TestClient, i64) {
    let dev = app.user("dev").await;
    let alice = app.user("alice").await;
    (app.register(dev, AppSpec::code(scopes)).await, alice)
}

#[tokio::test]
async fn discovery_lists_what_openid_connect_requires_and_matches_rfc_8414() {
    let app = spawn_app().await;
    let oidc: Value = http()
        .get(app.url("/.well-known/openid-configuration"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let oauth: Value = http()
        .get(app.url("/.well-known/oauth-authorization-server"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(oidc, oauth, "one document, two addresses");
    // OpenID Connect Discovery 1.0 §3: the REQUIRED fields.
    for field in [
        "issuer",
        "authorization_endpoint",
        "token_endpoint",
        "jwks_uri",
        "response_types_supported",
        "subject_types_supported",
        "id_token_signing_alg_values_supported",
    ] {
        assert!(oidc.get(field).is_some(), "{field} is missing: {oidc}");
    }
    assert_eq!(oidc["userinfo_endpoint"], app.url("/oauth2/userinfo"));
    let algs = oidc["id_token_signing_alg_values_supported"].to_string();
    assert!(algs.contains("\"RS256\"") && algs.contains("\"EdDSA\""));
    assert!(oidc["scopes_supported"].to_string().contains("\"openid\""));

    let (metadata, _) = relying_party(
        &app,
        &TestClient {
            client_id: "x".into(),
            secret: None,
        },
    )
    .await;
    assert_eq!(metadata.issuer().as_str(), app.base);
    let kinds: Vec<String> = metadata
        .jwks()
        .keys()
        .iter()
        .map(|k| serde_json::to_value(k).unwrap()["kty"].to_string())
        .collect();
    assert!(kinds.contains(&"\"RSA\"".into()) && kinds.contains(&"\"OKP\"".into()));
}

#[tokio::test]
async fn the_code_flow_with_pkce_and_a_nonce_gives_an_rs256_id_token_the_crate_verifies() {
    let app = spawn_app().await;
    let (client, alice) = openid_app(&app, "openid profile email").await;
    let (_, rp) = relying_party(&app, &client).await;
    let browser = app.browser("alice").await;
    let s = sign_in(&rp, &browser, &["profile", "email"]).await;

    let verifier = rp.id_token_verifier();
    let claims = s
        .id_token
        .claims(&verifier, &s.nonce)
        .expect("a valid ID token");
    assert_eq!(
        *s.id_token.signing_alg().unwrap(),
        CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256
    );
    // The subject is the account's id, not its (changeable) username.
    assert_eq!(claims.subject().as_str(), alice.to_string());
    assert_eq!(claims.issuer().as_str(), app.base);
    assert_eq!(claims.audiences()[0].as_str(), client.client_id);
    assert_eq!(
        claims.authorized_party().unwrap().as_str(),
        client.client_id
    );
    assert_eq!(claims.nonce().unwrap().secret(), s.nonce.secret());
    let auth_time = claims.auth_time().expect("auth_time");
    assert!(auth_time <= claims.issue_time() && claims.issue_time() < claims.expiration());
    assert_at_hash(&s, &verifier);
    let jwt = s.id_token.to_string();
    let kid = header(&jwt)["kid"].as_str().unwrap().to_string();
    let jwks = http()
        .get(app.url("/.well-known/jwks.json"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(jwks.contains(&kid), "the kid is published");

    // Rejected: a wrong nonce, a changed claim, an expired token.
    assert!(s
        .id_token
        .claims(&verifier, &Nonce::new("other".into()))
        .is_err());
    let forged = tampered(&jwt, |p| p["sub"] = "1".into());
    assert!(forged.claims(&verifier, &s.nonce).is_err());
    let later = rp
        .id_token_verifier()
        .set_time_fn(|| chrono::Utc::now() + chrono::Duration::hours(2));
    assert!(s.id_token.claims(&later, &s.nonce).is_err());
}

#[tokio::test]
async fn a_client_that_registered_eddsa_gets_eddsa_id_tokens() {
    let app = spawn_app().await;
    let (client, _) = openid_app(&app, "openid profile").await;
    app.store
        .set_id_token_alg(&client.client_id, "EdDSA")
        .await
        .unwrap();
    let (_, rp) = relying_party(&app, &client).await;
    let browser = app.browser("alice").await;
    let s = sign_in(&rp, &browser, &["profile"]).await;
    assert_eq!(
        *s.id_token.signing_alg().unwrap(),
        CoreJwsSigningAlgorithm::EdDsa
    );
    // Verified with EdDSA alone allowed: the token cannot have passed as RS256.
    let verifier = rp
        .id_token_verifier()
        .set_allowed_algs([CoreJwsSigningAlgorithm::EdDsa]);
    s.id_token
        .claims(&verifier, &s.nonce)
        .expect("a valid EdDSA ID token");
    assert_at_hash(&s, &verifier);
    let forged = tampered(&s.id_token.to_string(), |p| {
        p["aud"] = "someone-else".into()
    });
    assert!(forged.claims(&verifier, &s.nonce).is_err());
}

#[tokio::test]
async fn userinfo_answers_the_granted_claims_and_rfc_6750_errors() {
    let app = spawn_app().await;
    let (client, alice) = openid_app(&app, "openid profile email").await;
    let (_, rp) = relying_party(&app, &client).await;
    let browser = app.browser("alice").await;
    let s = sign_in(&rp, &browser, &["profile", "email"]).await;
    let info: CoreUserInfoClaims = rp
        .user_info(s.access_token.clone(), None)
        .unwrap()
        .request_async(&transport)
        .await
        .expect("userinfo through the crate");
    assert_eq!(info.subject().as_str(), alice.to_string());
    assert_eq!(info.preferred_username().unwrap().as_str(), "alice");
    assert_eq!(info.email().unwrap().as_str(), "alice@example.com");
    assert_eq!(info.email_verified(), Some(false));

    // POST works too.
    let post: Value = http()
        .post(app.url("/oauth2/userinfo"))
        .bearer_auth(s.access_token.secret())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(post["name"], "alice display");

    // Only `openid`: the subject and nothing else.
    let only = sign_in(&rp, &browser, &[]).await;
    let body: Value = app
        .api("/oauth2/userinfo", only.access_token.secret())
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(body, serde_json::json!({ "sub": alice.to_string() }));

    // RFC 6750 §3.
    let none = http()
        .get(app.url("/oauth2/userinfo"))
        .send()
        .await
        .unwrap();
    assert_eq!(none.status(), 401);
    assert!(none.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .starts_with("Bearer"));
    let bad = app.api("/oauth2/userinfo", "atr_at_nonsense").await;
    assert_eq!(bad.status(), 401);
    assert!(bad.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .contains("invalid_token"));
    let other = app.register(alice, AppSpec::code("profile")).await;
    let code = app.code_for(&browser, &other, "profile", None).await;
    let token = app.exchange(&other, &code, None).await;
    let res = app
        .api("/oauth2/userinfo", token["access_token"].as_str().unwrap())
        .await;
    assert_eq!(res.status(), 403);
    assert!(res.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .contains("insufficient_scope"));
}

#[tokio::test]
async fn prompt_none_signs_in_a_member_of_a_company_that_installed_the_app() {
    let app = spawn_app().await;
    let (client, alice) = openid_app(&app, "openid profile email").await;
    app.company("Acme", alice).await;
    let (_, rp) = relying_party(&app, &client).await;
    let browser = app.browser("alice").await;
    // The owner installs it once, through the consent page.
    sign_in(&rp, &browser, &["profile"]).await;

    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, _, nonce) = rp
        .authorize_url(
            AuthenticationFlow::<CoreResponseType>::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_scope(Scope::new("profile".into()))
        .add_prompt(openidconnect::core::CoreAuthPrompt::None)
        .set_pkce_challenge(challenge)
        .url();
    let res = browser.client.get(url.as_str()).send().await.unwrap();
    assert_eq!(res.status(), 303, "no page with prompt=none");
    let code = query_param(&location(&res), "code").expect("a code without a click");
    let token = rp
        .exchange_code(AuthorizationCode::new(code))
        .unwrap()
        .set_pkce_verifier(verifier)
        .request_async(&transport)
        .await
        .unwrap();
    let claims = token
        .id_token()
        .unwrap()
        .claims(&rp.id_token_verifier(), &nonce)
        .unwrap();
    assert_eq!(claims.subject().as_str(), alice.to_string());

    // Scopes the install does not cover need consent.
    let res = browser
        .authorize(
            &Authorize::code(&client.client_id)
                .scope("openid profile email")
                .state("s")
                .param("prompt", "none"),
        )
        .await;
    assert_eq!(
        query_param(&location(&res), "error").as_deref(),
        Some("consent_required")
    );
}

#[tokio::test]
async fn prompt_none_without_a_fresh_sign_in_answers_login_required() {
    let app = spawn_app().await;
    let (client, _) = openid_app(&app, "openid profile").await;
    let request = Authorize::code(&client.client_id)
        .scope("openid")
        .state("s1")
        .param("prompt", "none");
    let stranger = Browser::new(&app.base);
    let res = stranger.authorize(&request).await;
    assert_eq!(res.status(), 303);
    let loc = location(&res);
    assert!(loc.starts_with(REDIRECT), "{loc}");
    assert_eq!(
        query_param(&loc, "error").as_deref(),
        Some("login_required")
    );
    assert_eq!(query_param(&loc, "state").as_deref(), Some("s1"));

    // Signed in, but asked for a sign-in younger than zero seconds.
    let browser = app.browser("alice").await;
    let res = browser
        .authorize(&request.clone().param("max_age", "0"))
        .await;
    assert_eq!(
        query_param(&location(&res), "error").as_deref(),
        Some("login_required")
    );
    // Signed in, nothing installed: consent is needed.
    let res = browser.authorize(&request).await;
    assert_eq!(
        query_param(&location(&res), "error").as_deref(),
        Some("consent_required")
    );
    // prompt=login shows the sign-in page even with a session.
    let res = browser
        .authorize(
            &Authorize::code(&client.client_id)
                .scope("openid")
                .param("prompt", "login"),
        )
        .await;
    assert_eq!(res.status(), 200);
    assert!(res.text().await.unwrap().contains("name=\"password\""));
}

#[tokio::test]
async fn an_openid_grant_refreshes_through_the_crate() {
    let app = spawn_app().await;
    let (client, alice) = openid_app(&app, "openid profile").await;
    let (_, rp) = relying_party(&app, &client).await;
    let browser = app.browser("alice").await;
    let s = sign_in(&rp, &browser, &["profile"]).await;
    let refreshed = rp
        .exchange_refresh_token(s.refresh_token.as_ref().expect("a refresh token"))
        .unwrap()
        .request_async(&transport)
        .await
        .expect("the refresh");
    assert_ne!(refreshed.access_token().secret(), s.access_token.secret());
    let info: CoreUserInfoClaims = rp
        .user_info(refreshed.access_token().clone(), None)
        .unwrap()
        .request_async(&transport)
        .await
        .unwrap();
    assert_eq!(info.subject().as_str(), alice.to_string());
}

#[tokio::test]
async fn a_token_signed_before_a_key_rotation_verifies_until_it_expires() {
    let app = spawn_app().await;
    let (client, _) = openid_app(&app, "openid").await;
    let (_, rp) = relying_party(&app, &client).await;
    let browser = app.browser("alice").await;
    let before = sign_in(&rp, &browser, &[]).await;
    let old_kid = header(&before.id_token.to_string())["kid"].clone();

    atrium_server::cli::keys::rotate(&atrium_server::config::DbLocation::Sqlite(
        app.db_path.clone(),
    ))
    .await
    .unwrap();
    let app = app.restart_at_same_address().await;

    // A relying party that fetches the JWKS now still verifies the old token...
    let (_, rp) = relying_party(&app, &client).await;
    before
        .id_token
        .claims(&rp.id_token_verifier(), &before.nonce)
        .expect("the old token still verifies");
    // ... until it expires.
    let later = rp
        .id_token_verifier()
        .set_time_fn(|| chrono::Utc::now() + chrono::Duration::hours(2));
    assert!(before.id_token.claims(&later, &before.nonce).is_err());
    // New tokens carry the new kid.
    let browser = app.browser("alice").await;
    let after = sign_in(&rp, &browser, &[]).await;
    after
        .id_token
        .claims(&rp.id_token_verifier(), &after.nonce)
        .unwrap();
    let new_kid = header(&after.id_token.to_string())["kid"].clone();
    assert_ne!(new_kid, old_kid);
}

#[tokio::test]
async fn login_hint_prefills_the_username_on_the_sign_in_page_and_nothing_else() {
    let app = spawn_app().await;
    let (client, _) = openid_app(&app, "openid").await;
    let browser = Browser::new(&app.base);
    let mut pages = Vec::new();
    for hint in ["alice", "\"><script>alert(1)</script>"] {
        let res = browser
            .authorize(&[
                ("response_type", "code"),
                ("client_id", client.client_id.as_str()),
                ("redirect_uri", REDIRECT),
                ("scope", "openid"),
                ("login_hint", hint),
            ])
            .await;
        // Without a session, the sign-in page itself.
        assert_eq!(res.status(), 200);
        pages.push(res.text().await.unwrap());
    }
    assert!(
        pages[0].contains(r#"name="username" autocomplete="username" value="alice""#),
        "{}",
        pages[0]
    );
    assert!(!pages[1].contains("<script>alert"), "{}", pages[1]);
    assert!(
        pages[1].contains("&quot;&gt;&lt;script&gt;"),
        "escaped: {}",
        pages[1]
    );
}

#[tokio::test]
async fn response_mode_form_post_puts_the_code_in_a_form_and_in_no_url() {
    let app = spawn_app().await;
    let (client, _) = openid_app(&app, "openid").await;
    let browser = app.browser("alice").await;
    let query = [
        ("response_type", "code"),
        ("client_id", client.client_id.as_str()),
        ("redirect_uri", REDIRECT),
        ("scope", "openid"),
        ("state", "s-1"),
        ("nonce", "n-1"),
        ("response_mode", "form_post"),
    ];
    let page = browser.consent_page(&query).await;
    let res = browser.decide(&page, "allow", &[]).await;
    assert_eq!(res.status(), 200, "a page, not a redirect");
    assert!(res.headers().get("location").is_none());
    let csp = res.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(csp.contains("form-action https://app.example;"), "{csp}");
    assert!(csp.contains("script-src 'sha256-"), "{csp}");
    let form = res.text().await.unwrap();
    assert!(
        form.contains(&format!(r#"<form method="post" action="{REDIRECT}">"#)),
        "{form}"
    );
    let fields: std::collections::HashMap<_, _> = hidden_inputs(&form).into_iter().collect();
    assert_eq!(fields["state"], "s-1");
    assert_eq!(fields["iss"], app.base);
    // The code in the form is a real one: it is exchanged like any other.
    let tokens = app.exchange(&client, &fields["code"], None).await;
    assert!(tokens["id_token"].is_string(), "{tokens}");

    // Errors go back the same way, and tokens never go in a query.
    let mut denied = query.to_vec();
    denied.retain(|(k, _)| *k != "nonce");
    let page = browser.consent_page(&denied).await;
    let res = browser.decide(&page, "deny", &[]).await;
    let fields: std::collections::HashMap<_, _> = hidden_inputs(&res.text().await.unwrap())
        .into_iter()
        .collect();
    assert_eq!(fields["error"], "access_denied");
    let bad = browser
        .authorize(&[
            ("response_type", "code"),
            ("client_id", client.client_id.as_str()),
            ("redirect_uri", REDIRECT),
            ("response_mode", "carrier_pigeon"),
        ])
        .await;
    assert_eq!(
        query_param(&location(&bad), "error").as_deref(),
        Some("invalid_request")
    );
}
