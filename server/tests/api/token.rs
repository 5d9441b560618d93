//! `/oauth2/token`, `/oauth2/revoke`, `/oauth2/introspect`.

use crate::helpers::*;

#[tokio::test]
async fn a_code_exchanges_for_tokens_with_client_secret_post() {
    a_code_exchanges_for_tokens_with_client_secret_post_on(spawn_app().await).await;
}

/// The same flow on PostgreSQL (skipped without `ATRIUM_TEST_POSTGRES_URL`).
#[tokio::test]
async fn a_code_exchanges_for_tokens_on_postgresql() {
    if let Some(app) = spawn_app_on_postgres(false).await {
        a_code_exchanges_for_tokens_with_client_secret_post_on(app).await;
    }
}

async fn a_code_exchanges_for_tokens_with_client_secret_post_on(app: TestApp) {
    let (client, code) = app.alice_allows(AppSpec::code("profile"), "profile").await;
    let res = app.try_exchange(&client, &code, None).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["cache-control"], "no-store");
    let t: serde_json::Value = res.json().await.unwrap();
    assert_eq!(t["token_type"], "Bearer");
    assert_eq!(t["expires_in"], 3600);
    assert_eq!(t["scope"], "profile");
    assert!(t["access_token"].as_str().unwrap().starts_with("atr_at_"));
    assert!(t["refresh_token"].as_str().unwrap().starts_with("atr_rt_"));
    let res = app
        .api("/api/username", t["access_token"].as_str().unwrap())
        .await;
    assert_eq!(
        res.json::<serde_json::Value>().await.unwrap(),
        serde_json::json!({"username": "alice"})
    );
}

#[tokio::test]
async fn a_code_exchanges_with_client_secret_basic() {
    let app = spawn_app().await;
    let (client, code) = app.alice_allows(AppSpec::code("profile"), "profile").await;
    let res = http()
        .post(app.url("/oauth2/token"))
        .basic_auth(&client.client_id, client.secret.as_ref())
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn a_wrong_secret_is_invalid_client_with_401() {
    let app = spawn_app().await;
    let dev = app.user("dev").await;
    let client = app.register(dev, AppSpec::code("profile")).await;
    let res = http()
        .post(app.url("/oauth2/token"))
        .basic_auth(&client.client_id, Some("atr_cs_wrong"))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    assert!(res.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .starts_with("Basic"));
    let e: serde_json::Value = res.json().await.unwrap();
    assert_eq!(e["error"], "invalid_client");
    let res = app
        .token(
            &TestClient {
                client_id: "nobody".into(),
                secret: Some("x".into()),
            },
            &[("grant_type", "client_credentials")],
        )
        .await;
    assert_eq!(res.status(), 401);
}

#[tokio::test]
async fn two_client_authentication_methods_at_once_are_refused() {
    let app = spawn_app().await;
    let dev = app.user("dev").await;
    let client = app.register(dev, AppSpec::code("profile")).await;
    let secret = client.secret.clone().unwrap();
    let res = http()
        .post(app.url("/oauth2/token"))
        .basic_auth(&client.client_id, Some(&secret))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_secret", &secret),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    assert_oauth_error(res, "invalid_request").await;
}

#[tokio::test]
async fn the_token_endpoint_checks_the_redirect_uri_of_the_code() {
    let app = spawn_app().await;
    let (client, code) = app.alice_allows(AppSpec::code("profile"), "profile").await;
    let res = app
        .token(
            &client,
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", "https://app.example/other"),
            ],
        )
        .await;
    assert_eq!(res.status(), 400);
    assert_oauth_error(res, "invalid_grant").await;
}

#[tokio::test]
async fn client_credentials_issues_an_access_token_without_a_user_or_refresh_token() {
    let app = spawn_app().await;
    let dev = app.user("dev").await;
    let client = app.register(dev, AppSpec::code("profile email")).await;
    let res = app.client_credentials(&client, Some("email")).await;
    assert_eq!(res.status(), 200);
    let t: serde_json::Value = res.json().await.unwrap();
    assert_eq!(t["scope"], "email");
    assert!(t.get("refresh_token").is_none());
    let res = app.client_credentials(&client, Some("company")).await;
    assert_oauth_error(res, "invalid_scope").await;
}

#[tokio::test]
async fn public_clients_cannot_use_client_credentials() {
    let app = spawn_app().await;
    let dev = app.user("dev").await;
    let client = app.register(dev, AppSpec::code("profile").public()).await;
    let res = app.client_credentials(&client, None).await;
    assert_eq!(res.status(), 400);
    assert_oauth_error(res, "unauthorized_client").await;
}

#[tokio::test]
async fn unknown_and_missing_grant_types_are_reported() {
    let app = spawn_app().await;
    let dev = app.user("dev").await;
    let client = app.register(dev, AppSpec::code("profile")).await;
    let res = app.token(&client, &[("grant_type", "password")]).await;
    assert_oauth_error(res, "unsupported_grant_type").await;
    let res = app.token(&client, &[]).await;
    assert_oauth_error(res, "invalid_request").await;
}

#[tokio::test]
async fn refresh_rotates_and_the_old_access_token_keeps_working_until_it_expires() {
    let app = spawn_app().await;
    let (client, code) = app.alice_allows(AppSpec::code("profile"), "profile").await;
    let first = app.exchange(&client, &code, None).await;
    let res = app
        .refresh(&client, first["refresh_token"].as_str().unwrap())
        .await;
    assert_eq!(res.status(), 200);
    let second: serde_json::Value = res.json().await.unwrap();
    assert_ne!(second["refresh_token"], first["refresh_token"]);
    assert_ne!(second["access_token"], first["access_token"]);
    assert_eq!(
        app.api("/api/username", second["access_token"].as_str().unwrap())
            .await
            .status(),
        200
    );
}

#[tokio::test]
async fn revoking_an_access_token_makes_the_api_answer_401() {
    revoking_an_access_token_makes_the_api_answer_401_on(spawn_app().await).await;
}

/// The same flow on PostgreSQL (skipped without `ATRIUM_TEST_POSTGRES_URL`).
#[tokio::test]
async fn revoking_an_access_token_makes_the_api_answer_401_on_postgresql() {
    if let Some(app) = spawn_app_on_postgres(false).await {
        revoking_an_access_token_makes_the_api_answer_401_on(app).await;
    }
}

async fn revoking_an_access_token_makes_the_api_answer_401_on(app: TestApp) {
    let (client, code) = app.alice_allows(AppSpec::code("profile"), "profile").await;
    let t = app.exchange(&client, &code, None).await;
    let access = t["access_token"].as_str().unwrap();
    // Used once first, so that the revocation also has to reach the server's token cache.
    assert_eq!(app.api("/api/username", access).await.status(), 200);
    let res = app.revoke(&client, access, Some("access_token")).await;
    assert_eq!(res.status(), 200);
    assert_eq!(app.api("/api/username", access).await.status(), 401);
    // Unknown tokens are fine too (RFC 7009 §2.2).
    let res = app.revoke(&client, "atr_at_unknown", None).await;
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn revoking_a_refresh_token_revokes_its_access_tokens() {
    let app = spawn_app().await;
    let (client, code) = app.alice_allows(AppSpec::code("profile"), "profile").await;
    let t = app.exchange(&client, &code, None).await;
    let res = app.token(&client, &[]).await;
    assert_eq!(res.status(), 400);
    let access = t["access_token"].as_str().unwrap();
    assert_eq!(app.api("/api/username", access).await.status(), 200);
    let res = http()
        .post(app.url("/oauth2/revoke"))
        .form(&[
            ("token", t["refresh_token"].as_str().unwrap()),
            ("client_id", &client.client_id),
            ("client_secret", client.secret.as_deref().unwrap()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(
        app.api("/api/username", t["access_token"].as_str().unwrap())
            .await
            .status(),
        401
    );
    let res = app
        .refresh(&client, t["refresh_token"].as_str().unwrap())
        .await;
    assert_oauth_error(res, "invalid_grant").await;
}

#[tokio::test]
async fn another_client_cannot_revoke_my_tokens() {
    let app = spawn_app().await;
    let dev = app.user("dev").await;
    app.user("alice").await;
    let mine = app.register(dev, AppSpec::code("profile")).await;
    let other = app.register(dev, AppSpec::code("profile")).await;
    let browser = app.browser("alice").await;
    let code = app.code_for(&browser, &mine, "profile", None).await;
    let t = app.exchange(&mine, &code, None).await;
    let access = t["access_token"].as_str().unwrap();
    let res = app.revoke(&other, access, None).await;
    assert_eq!(res.status(), 200);
    assert_eq!(app.api("/api/username", access).await.status(), 200);
}

#[tokio::test]
async fn introspection_describes_own_tokens_and_hides_others() {
    let app = spawn_app().await;
    let dev = app.user("dev").await;
    app.user("alice").await;
    let mine = app.register(dev, AppSpec::code("profile")).await;
    let other = app.register(dev, AppSpec::code("profile")).await;
    let browser = app.browser("alice").await;
    let code = app.code_for(&browser, &mine, "profile", None).await;
    let t = app.exchange(&mine, &code, None).await;
    let access = t["access_token"].as_str().unwrap();
    let ask = |c: &TestClient, token: &str| {
        let (app, c, token) = (&app, c.clone(), token.to_string());
        async move {
            app.introspect(&c, &token)
                .await
                .json::<serde_json::Value>()
                .await
                .unwrap()
        }
    };
    let i = ask(&mine, access).await;
    assert_eq!(i["active"], true);
    assert_eq!(i["username"], "alice");
    assert_eq!(i["scope"], "profile");
    assert_eq!(i["client_id"], mine.client_id);
    let i = ask(&other, access).await;
    assert_eq!(i, serde_json::json!({"active": false}));
    let i = ask(&mine, "atr_at_nothing").await;
    assert_eq!(i, serde_json::json!({"active": false}));
    // Without client authentication: 401.
    let res = http()
        .post(app.url("/oauth2/introspect"))
        .form(&[("token", access)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
}
