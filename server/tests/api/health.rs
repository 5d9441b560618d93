use atrium_proto::Health;

use crate::helpers::{http, spawn_app};

#[tokio::test]
async fn healthz_answers_ok_with_the_server_version() {
    let app = spawn_app().await;
    let res = http().get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let body: Health = res.json().await.unwrap();
    assert_eq!(body.status, "ok");
    assert_eq!(body.version, env!("CARGO_PKG_VERSION"));
}

#[tokio::test]
async fn unknown_paths_answer_404_in_json() {
    let app = spawn_app().await;
    let res = http().get(app.url("/nope")).send().await.unwrap();
    assert_eq!(res.status(), 404);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["error"], "not_found");
}

#[tokio::test]
async fn metadata_describes_the_endpoints_under_the_issuer() {
    let app = spawn_app().await;
    let m: serde_json::Value = http()
        .get(app.url("/.well-known/oauth-authorization-server"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(m["issuer"], app.base);
    assert_eq!(m["token_endpoint"], app.url("/oauth2/token"));
    assert_eq!(
        m["code_challenge_methods_supported"],
        serde_json::json!(["S256"])
    );
    assert!(m["response_types_supported"]
        .as_array()
        .unwrap()
        .contains(&"token".into()));
}
