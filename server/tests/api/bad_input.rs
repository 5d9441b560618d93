//! Malformed requests get the spec's error response: never a 500, never a redirect to an
//! unregistered URI.

use crate::helpers::*;

async fn setup() -> (TestApp, TestClient) {
    let app = spawn_app().await;
    let dev = app.user("dev").await;
    let client = app.register(dev, AppSpec::code("profile")).await;
    (app, client)
}

async fn error_of(res: reqwest::Response) -> (u16, String) {
    let status = res.status().as_u16();
    let body: serde_json::Value = res.json().await.unwrap();
    (
        status,
        body["error"].as_str().unwrap_or_default().to_string(),
    )
}

#[tokio::test]
async fn the_token_endpoint_refuses_a_body_that_is_not_a_form() {
    let (app, client) = setup().await;
    let res = http()
        .post(app.url("/oauth2/token"))
        .basic_auth(&client.client_id, client.secret.as_ref())
        .header("content-type", "application/json")
        .body(r#"{"grant_type":"client_credentials"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(error_of(res).await, (400, "invalid_request".into()));
}

#[tokio::test]
async fn the_token_endpoint_refuses_a_body_that_is_not_utf8() {
    let (app, client) = setup().await;
    let res = http()
        .post(app.url("/oauth2/token"))
        .basic_auth(&client.client_id, client.secret.as_ref())
        .header("content-type", "application/x-www-form-urlencoded")
        .body(vec![b'g', 0xff, 0xfe, b'='])
        .send()
        .await
        .unwrap();
    assert_eq!(error_of(res).await, (400, "invalid_request".into()));
}

#[tokio::test]
async fn the_token_endpoint_refuses_an_oversized_body() {
    let (app, client) = setup().await;
    let res = http()
        .post(app.url("/oauth2/token"))
        .basic_auth(&client.client_id, client.secret.as_ref())
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!(
            "grant_type=client_credentials&pad={}",
            "a".repeat(64 * 1024)
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(error_of(res).await, (413, "invalid_request".into()));
}

#[tokio::test]
async fn the_token_endpoint_refuses_repeated_parameters() {
    let (app, client) = setup().await;
    let res = app
        .token(
            &client,
            &[
                ("grant_type", "client_credentials"),
                ("scope", "profile"),
                ("scope", "profile"),
            ],
        )
        .await;
    assert_eq!(error_of(res).await, (400, "invalid_request".into()));
}

#[tokio::test]
async fn the_token_endpoint_refuses_a_malformed_basic_header() {
    let (app, _client) = setup().await;
    let res = http()
        .post(app.url("/oauth2/token"))
        .header("authorization", "Basic ###")
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(error_of(res).await, (401, "invalid_client".into()));
}

#[tokio::test]
async fn the_token_endpoint_refuses_the_wrong_method() {
    let (app, _client) = setup().await;
    let res = http().get(app.url("/oauth2/token")).send().await.unwrap();
    assert_eq!(res.status(), 405);
}

#[tokio::test]
async fn authorize_without_a_client_id_or_with_repeated_redirect_uris_shows_a_page() {
    let (app, client) = setup().await;
    let res = http()
        .get(app.url("/oauth2/authorize?response_type=code"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    assert!(res.headers().get("location").is_none());
    let res = http()
        .get(app.url(&format!(
            "/oauth2/authorize?response_type=code&client_id={}&redirect_uri={REDIRECT}&redirect_uri=https://evil.example/",
            client.client_id
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    assert!(res.headers().get("location").is_none());
}

#[tokio::test]
async fn the_consent_post_with_a_malformed_body_shows_a_page() {
    let (app, _client) = setup().await;
    let res = http()
        .post(app.url("/oauth2/authorize"))
        .header("content-type", "text/plain")
        .body("decision=allow")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    assert!(res.headers().get("location").is_none());
}
