//! Dynamic client registration (RFC 7591) against the real server, by an unmodified client:
//! the `openidconnect` crate registers an app with a developer's desktop token, then signs a
//! user in with the credentials it was given.

use atrium_proto::paths;
use openidconnect::core::{
    CoreClientAuthMethod, CoreClientRegistrationRequest, CoreGrantType, CoreResponseType,
};
use openidconnect::registration::EmptyAdditionalClientMetadata;
use openidconnect::{
    AccessToken, ClientName, LocalizedClaim, RedirectUrl, RegistrationUrl, ResponseTypes,
};
use serde_json::{json, Value};

use crate::helpers::*;
use crate::interop::transport;
use crate::oidc::{relying_party, sign_in};

fn request() -> CoreClientRegistrationRequest {
    let mut name = LocalizedClaim::new();
    name.insert(None, ClientName::new("Registered by a library".into()));
    CoreClientRegistrationRequest::new(
        vec![RedirectUrl::new(REDIRECT.into()).unwrap()],
        EmptyAdditionalClientMetadata {},
    )
    .set_client_name(Some(name))
    .set_response_types(Some(vec![ResponseTypes::new(vec![CoreResponseType::Code])]))
    .set_grant_types(Some(vec![
        CoreGrantType::AuthorizationCode,
        CoreGrantType::RefreshToken,
    ]))
    .set_token_endpoint_auth_method(Some(CoreClientAuthMethod::ClientSecretBasic))
}

async fn registration_endpoint(app: &TestApp) -> RegistrationUrl {
    let meta: Value = http()
        .get(app.url(paths::OPENID_CONFIGURATION))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    RegistrationUrl::new(meta["registration_endpoint"].as_str().unwrap().into()).unwrap()
}

#[tokio::test]
async fn a_library_registers_an_app_with_a_developer_token_and_signs_a_user_in_with_it() {
    let app = spawn_app().await;
    app.user("dev").await;
    app.user("alice").await;
    let token = app.dashboard_token("dev").await;
    let endpoint = registration_endpoint(&app).await;
    let registered = request()
        .set_initial_access_token(Some(AccessToken::new(token)))
        .register_async(&endpoint, &transport)
        .await
        .expect("the crate registers the app");
    let client = TestClient {
        client_id: registered.client_id().to_string(),
        secret: registered.client_secret().map(|s| s.secret().clone()),
    };
    assert!(
        client.secret.is_some(),
        "a confidential client gets a secret"
    );
    // The app is the developer's: the developer API lists it.
    let dev = app.dashboard_token("dev").await;
    let mine: Value = app
        .call(
            "GET",
            &format!("/api/developer/apps/{}", client.client_id),
            &dev,
            None,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(mine["name"], "Registered by a library");
    assert_eq!(mine["scopes"], "openid");
    // And it works: the crate signs alice in with it.
    let (_, rp) = relying_party(&app, &client).await;
    let browser = app.browser("alice").await;
    let s = sign_in(&rp, &browser, &[]).await;
    assert!(s.id_token.to_string().split('.').count() == 3);
}

#[tokio::test]
async fn registration_needs_a_developer_token_and_valid_metadata_and_keeps_the_quota() {
    let app = spawn_app_configured(|s| s.quotas.apps_per_user = 1).await;
    app.user("dev").await;
    let token = app.dashboard_token("dev").await;
    let post = |auth: Option<&str>, body: Value| {
        let mut r = http().post(app.url(paths::REGISTER)).json(&body);
        if let Some(t) = auth {
            r = r.bearer_auth(t);
        }
        r.send()
    };
    let good = json!({"redirect_uris": [REDIRECT], "client_name": "One"});
    assert_eq!(post(None, good.clone()).await.unwrap().status(), 401);
    assert_eq!(
        post(Some("atr_at_forged"), good.clone())
            .await
            .unwrap()
            .status(),
        401
    );
    for (body, error) in [
        (
            json!({"redirect_uris": ["http://evil.example/cb"]}),
            "invalid_redirect_uri",
        ),
        (json!({"redirect_uris": []}), "invalid_redirect_uri"),
        (
            json!({"redirect_uris": [REDIRECT], "token_endpoint_auth_method": "private_key_jwt"}),
            "invalid_client_metadata",
        ),
        (
            json!({"redirect_uris": [REDIRECT], "grant_types": ["implicit"]}),
            "invalid_client_metadata",
        ),
        (
            json!({"redirect_uris": [REDIRECT], "scope": "admin"}),
            "invalid_client_metadata",
        ),
        (
            json!({"redirect_uris": [REDIRECT], "id_token_signed_response_alg": "none"}),
            "invalid_client_metadata",
        ),
    ] {
        let res = post(Some(&token), body.clone()).await.unwrap();
        assert_eq!(res.status(), 400, "{body}");
        let answer: Value = res.json().await.unwrap();
        assert_eq!(answer["error"], error, "{body}: {answer}");
    }
    let res = post(
        Some(&token),
        json!({"redirect_uris": [REDIRECT], "token_endpoint_auth_method": "none",
               "id_token_signed_response_alg": "EdDSA",
               "initiate_login_uri": "https://app.example/start"}),
    )
    .await
    .unwrap();
    assert_eq!(res.status(), 201);
    assert_eq!(res.headers()["cache-control"], "no-store");
    let answer: Value = res.json().await.unwrap();
    assert!(
        answer.get("client_secret").is_none(),
        "a public client: {answer}"
    );
    assert_eq!(answer["token_endpoint_auth_method"], "none");
    assert_eq!(answer["id_token_signed_response_alg"], "EdDSA");
    assert_eq!(
        answer["client_name"], "app.example",
        "named after its redirect URI"
    );
    // The quota of apps per developer holds here too.
    let res = post(Some(&token), good).await.unwrap();
    assert_eq!(res.status(), 403);
    let answer: Value = res.json().await.unwrap();
    assert_eq!(answer["error"], "quota_exceeded");
}
