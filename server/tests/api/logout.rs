//! OpenID Connect RP-Initiated Logout against the real server: the `openidconnect` crate
//! discovers the `end_session_endpoint` and builds the logout URL, and a browser (a cookie
//! jar) follows it.

use atrium_proto::paths;
use openidconnect::{
    ClientId, CsrfToken, EndSessionUrl, IssuerUrl, LogoutRequest, PostLogoutRedirectUrl,
    ProviderMetadataWithLogout,
};

use crate::helpers::*;
use crate::interop::transport;
use crate::oidc::{openid_app, relying_party, sign_in};

const BYE: &str = "https://app.example/signed-out";

/// The end-session endpoint, as the crate discovers it.
async fn end_session_url(app: &TestApp) -> EndSessionUrl {
    let metadata = ProviderMetadataWithLogout::discover_async(
        IssuerUrl::new(app.base.clone()).unwrap(),
        &transport,
    )
    .await
    .expect("the crate discovers the provider");
    metadata
        .additional_metadata()
        .end_session_endpoint
        .clone()
        .expect("an end_session_endpoint")
}

/// Whether `browser`'s session is live: the home page answers it, or sends to `/login`.
async fn signed_in(browser: &Browser, app: &TestApp) -> bool {
    let res = browser
        .client
        .get(app.url(paths::HOME))
        .send()
        .await
        .unwrap();
    res.status() == 200
}

#[tokio::test]
async fn a_hint_naming_the_signed_in_user_ends_the_session_and_returns_to_the_registered_uri() {
    let app = spawn_app().await;
    let (client, _) = openid_app(&app, "openid profile").await;
    app.store
        .set_post_logout_redirect_uris(&client.client_id, vec![BYE.into()])
        .await
        .unwrap();
    let (_, rp) = relying_party(&app, &client).await;
    let browser = app.browser("alice").await;
    let s = sign_in(&rp, &browser, &["profile"]).await;
    let url = LogoutRequest::from(end_session_url(&app).await)
        .set_id_token_hint(&s.id_token)
        .set_post_logout_redirect_uri(PostLogoutRedirectUrl::new(BYE.into()).unwrap())
        .set_state(CsrfToken::new("after-logout".into()))
        .http_get_url();
    let res = browser.client.get(url).send().await.unwrap();
    assert_eq!(res.status(), 303);
    assert_eq!(location(&res), format!("{BYE}?state=after-logout"));
    assert!(!signed_in(&browser, &app).await, "the session ended");
}

#[tokio::test]
async fn the_session_is_deleted_on_the_server_not_only_forgotten_by_the_browser() {
    let app = spawn_app().await;
    let (client, _) = openid_app(&app, "openid").await;
    let (_, rp) = relying_party(&app, &client).await;
    let browser = app.browser("alice").await;
    let s = sign_in(&rp, &browser, &[]).await;
    // A copy of the session cookie, as something that captured it would keep.
    let home = browser.client.get(app.url(paths::HOME)).build().unwrap();
    let jar_cookie = {
        let res = Browser::new(&app.base).login("alice", PASSWORD).await;
        let set = res.headers()["set-cookie"].to_str().unwrap().to_string();
        set.split(';').next().unwrap().to_string()
    };
    let replay = || {
        http()
            .get(home.url().clone())
            .header("cookie", jar_cookie.clone())
            .send()
    };
    assert_eq!(
        replay().await.unwrap().status(),
        200,
        "the copy works before"
    );
    // That copy is a second session of alice's: end it with the hint, from its own cookie.
    let url = LogoutRequest::from(end_session_url(&app).await)
        .set_id_token_hint(&s.id_token)
        .http_get_url();
    let res = http()
        .get(url)
        .header("cookie", jar_cookie.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.text().await.unwrap().contains("You are signed out"));
    assert_ne!(replay().await.unwrap().status(), 200, "the copy is dead");
    assert!(signed_in(&browser, &app).await, "only that session ended");
}

#[tokio::test]
async fn an_unregistered_return_uri_or_a_forged_hint_is_refused_and_signs_no_one_out() {
    let app = spawn_app().await;
    let (client, _) = openid_app(&app, "openid").await;
    app.store
        .set_post_logout_redirect_uris(&client.client_id, vec![BYE.into()])
        .await
        .unwrap();
    let (_, rp) = relying_party(&app, &client).await;
    let browser = app.browser("alice").await;
    let s = sign_in(&rp, &browser, &[]).await;
    let end = end_session_url(&app).await;
    let elsewhere = LogoutRequest::from(end.clone())
        .set_id_token_hint(&s.id_token)
        .set_post_logout_redirect_uri(
            PostLogoutRedirectUrl::new("https://evil.example/".into()).unwrap(),
        )
        .http_get_url();
    let jwt = s.id_token.to_string();
    let mut parts: Vec<&str> = jwt.split('.').collect();
    let forged_payload = {
        use base64::Engine;
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let mut claims: serde_json::Value =
            serde_json::from_slice(&b64.decode(parts[1]).unwrap()).unwrap();
        claims["sub"] = "999".into();
        b64.encode(claims.to_string())
    };
    parts[1] = &forged_payload;
    let mut forged = end.url().clone();
    forged
        .query_pairs_mut()
        .append_pair("id_token_hint", &parts.join("."));
    let no_client = {
        let mut u = end.url().clone();
        u.query_pairs_mut()
            .append_pair("post_logout_redirect_uri", BYE);
        u
    };
    let wrong_client = LogoutRequest::from(end.clone())
        .set_id_token_hint(&s.id_token)
        .set_client_id(ClientId::new("someone-else".into()))
        .http_get_url();
    for url in [elsewhere, forged, no_client, wrong_client] {
        let res = browser.client.get(url.clone()).send().await.unwrap();
        assert_eq!(res.status(), 400, "{url}");
        assert!(res.headers().get("location").is_none());
        assert!(signed_in(&browser, &app).await, "{url} signed no one out");
    }
}

#[tokio::test]
async fn without_a_hint_for_this_user_the_user_is_asked_and_only_their_answer_signs_out() {
    let app = spawn_app().await;
    let (client, _) = openid_app(&app, "openid").await;
    app.store
        .set_post_logout_redirect_uris(&client.client_id, vec![BYE.into()])
        .await
        .unwrap();
    let browser = app.browser("alice").await;
    let end = end_session_url(&app).await;
    let url = LogoutRequest::from(end)
        .set_client_id(ClientId::new(client.client_id.clone()))
        .set_post_logout_redirect_uri(PostLogoutRedirectUrl::new(BYE.into()).unwrap())
        .set_state(CsrfToken::new("s1".into()))
        .http_get_url();
    // A link alone (an image on another site, say) only shows the question.
    let page = browser.client.get(url).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let page = page.text().await.unwrap();
    assert!(page.contains("Sign out of Atrium?"), "{page}");
    assert!(signed_in(&browser, &app).await);

    let mut fields = hidden_inputs(&page);
    // From another site: refused, even with the right token.
    fields.push(("decision".into(), "sign_out".into()));
    let cross = browser
        .client
        .post(app.url(paths::END_SESSION))
        .header("origin", "https://evil.example")
        .form(&fields)
        .send()
        .await
        .unwrap();
    assert_eq!(cross.status(), 403);
    // Without the page's CSRF token: refused.
    let no_csrf: Vec<_> = fields
        .iter()
        .filter(|(k, _)| k != "csrf")
        .cloned()
        .collect();
    let res = browser
        .client
        .post(app.url(paths::END_SESSION))
        .form(&no_csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    assert!(signed_in(&browser, &app).await);
    // "Stay signed in" stays on Atrium's own page, signed in: going back to the app's
    // post-logout URI would tell it (the desktop, say) that the browser was signed out.
    let mut stay = fields.clone();
    stay.retain(|(k, _)| k != "decision");
    stay.push(("decision".into(), "stay".into()));
    let res = browser
        .client
        .post(app.url(paths::END_SESSION))
        .form(&stay)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.headers().get("location").is_none());
    let page = res.text().await.unwrap();
    assert!(page.contains("still signed in"), "{page}");
    assert!(signed_in(&browser, &app).await);
    // The user's own answer.
    let res = browser
        .client
        .post(app.url(paths::END_SESSION))
        .header("origin", app.base.as_str())
        .form(&fields)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    assert_eq!(location(&res), format!("{BYE}?state=s1"));
    assert!(!signed_in(&browser, &app).await);
}

#[tokio::test]
async fn a_developer_registers_and_edits_the_openid_fields_through_the_api() {
    let app = spawn_app().await;
    app.user("dev").await;
    let dev = app.dashboard_token("dev").await;
    let body = |extra: serde_json::Value| {
        let mut b = serde_json::json!({
            "name": "Signs in", "redirect_uris": [REDIRECT], "scopes": "openid profile",
            "method": "code",
        });
        b.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        b
    };
    for (bad, why) in [
        (
            serde_json::json!({"id_token_signed_response_alg": "none"}),
            "RS256 or EdDSA",
        ),
        (
            serde_json::json!({"post_logout_redirect_uris": ["http://evil.example/"]}),
            "post-logout",
        ),
        (
            serde_json::json!({"post_logout_redirect_uris": ["https://a.example/#frag"]}),
            "post-logout",
        ),
    ] {
        let res = app
            .call("POST", paths::DEV_APPS, &dev, Some(body(bad.clone())))
            .await;
        assert_eq!(res.status(), 400, "{bad}");
        let text = res.text().await.unwrap();
        assert!(text.contains(why), "{bad}: {text}");
    }
    let res = app
        .call(
            "POST",
            paths::DEV_APPS,
            &dev,
            Some(body(serde_json::json!({
                "id_token_signed_response_alg": "EdDSA",
                "post_logout_redirect_uris": [BYE],
            }))),
        )
        .await;
    assert_eq!(res.status(), 201);
    let created: serde_json::Value = res.json().await.unwrap();
    assert_eq!(created["app"]["id_token_signed_response_alg"], "EdDSA");
    assert_eq!(
        created["app"]["post_logout_redirect_uris"],
        serde_json::json!([BYE])
    );
    let client_id = created["app"]["client_id"].as_str().unwrap().to_string();
    let path = format!("/api/developer/apps/{client_id}");
    let res = app
        .call(
            "PATCH",
            &path,
            &dev,
            Some(serde_json::json!({
                "id_token_signed_response_alg": "RS256",
                "post_logout_redirect_uris": [BYE, "https://app.example/other"],
            })),
        )
        .await;
    assert_eq!(res.status(), 200);
    let view: serde_json::Value = app
        .call("GET", &path, &dev, None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(view["id_token_signed_response_alg"], "RS256");
    assert_eq!(
        view["post_logout_redirect_uris"],
        serde_json::json!([BYE, "https://app.example/other"])
    );
    // What the API stored is what logout honours.
    let stored = app.store.client(&client_id).await.unwrap().unwrap();
    assert_eq!(
        app.store
            .post_logout_redirect_uris(stored.app_id)
            .await
            .unwrap(),
        vec![BYE.to_string(), "https://app.example/other".into()]
    );
}

/// Where the desktop asks to be sent after it signs its browser out: its deep link.
const DESKTOP_SIGNED_OUT: &str = "atrium://signed-out";

#[tokio::test]
async fn the_desktop_signs_its_browser_out_and_the_browser_returns_to_its_deep_link() {
    the_desktop_signs_its_browser_out_on(spawn_app().await).await;
}

/// The same on PostgreSQL, whose migrations register the desktop's URI apart (skipped without
/// `ATRIUM_TEST_POSTGRES_URL`).
#[tokio::test]
async fn the_desktop_signs_its_browser_out_on_postgresql() {
    if let Some(app) = spawn_app_on_postgres(false).await {
        the_desktop_signs_its_browser_out_on(app).await;
    }
}

/// Atrium's own desktop client, as the migrations seed it: it signs in with `openid` and gets
/// an ID token; its sign-out sends that token as the hint with its registered deep link, and
/// the browser's session ends at once (the hint names the signed-in user) and the browser is
/// sent back to the desktop with its `state`.
async fn the_desktop_signs_its_browser_out_on(app: TestApp) {
    app.user("alice").await;
    let browser = app.browser("alice").await;
    let pkce = Pkce::new();
    let request = Authorize::code(DESKTOP_CLIENT)
        .redirect_uri(DESKTOP_REDIRECT)
        .scope("dashboard profile email openid")
        .state("desk")
        .pkce(&pkce);
    let page = browser.consent_page(&request).await;
    assert!(page.contains("to the Atrium app?"), "{page}");
    let loc = browser.decide_to(&page, "allow", &[]).await;
    let code = query_param(&loc, "code").expect("a code for the desktop");
    let res = http()
        .post(app.url(paths::TOKEN))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", DESKTOP_REDIRECT),
            ("client_id", DESKTOP_CLIENT),
            ("code_verifier", &pkce.verifier),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "the desktop's code exchange");
    let tokens: serde_json::Value = res.json().await.unwrap();
    let id_token = tokens["id_token"]
        .as_str()
        .unwrap_or_else(|| panic!("no ID token for the desktop: {tokens}"));
    assert!(signed_in(&browser, &app).await);

    let mut url = url::Url::parse(&app.url(paths::END_SESSION)).unwrap();
    url.query_pairs_mut()
        .append_pair("id_token_hint", id_token)
        .append_pair("post_logout_redirect_uri", DESKTOP_SIGNED_OUT)
        .append_pair("state", "bye-desk");
    let res = browser.client.get(url).send().await.unwrap();
    assert_eq!(
        res.status(),
        303,
        "{}",
        res.text().await.unwrap_or_default()
    );
    assert_eq!(
        location(&res),
        format!("{DESKTOP_SIGNED_OUT}?state=bye-desk")
    );
    assert!(
        !signed_in(&browser, &app).await,
        "the browser's session ended"
    );
}
