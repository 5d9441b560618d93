//! The resource API: scopes, bearer errors (RFC 6750), and the data each endpoint returns.

use crate::helpers::*;

async fn token_for(app: &TestApp, scopes: &str) -> String {
    let dev = app.user("dev").await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let acme = app.company("Acme", alice).await;
    app.store
        .add_member(acme, bob, atrium_server::store::Role::Member)
        .await
        .unwrap();
    let client = app
        .register(dev, AppSpec::code("profile email company company.members"))
        .await;
    let browser = app.browser("alice").await;
    let code = app.code_for(&browser, &client, scopes, None).await;
    app.exchange(&client, &code, None).await["access_token"]
        .as_str()
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn me_returns_the_profile_and_the_email_only_with_the_email_scope() {
    let app = spawn_app().await;
    let token = token_for(&app, "profile").await;
    let me: serde_json::Value = app.api("/api/me", &token).await.json().await.unwrap();
    assert_eq!(me["username"], "alice");
    assert_eq!(me["display_name"], "alice display");
    assert!(me["date_joined"].as_str().unwrap().ends_with('Z'));
    assert!(me.get("email").is_none());

    let app = spawn_app().await;
    let token = token_for(&app, "profile email").await;
    let me: serde_json::Value = app.api("/api/me", &token).await.json().await.unwrap();
    assert_eq!(me["email"], "alice@example.com");
}

#[tokio::test]
async fn company_endpoints_describe_the_company_of_the_grant() {
    let app = spawn_app().await;
    let token = token_for(&app, "company company.members").await;
    let c: serde_json::Value = app.api("/api/company", &token).await.json().await.unwrap();
    assert_eq!(c["name"], "Acme");
    let m: serde_json::Value = app
        .api("/api/company/members", &token)
        .await
        .json()
        .await
        .unwrap();
    let members = m["members"].as_array().unwrap();
    assert_eq!(members.len(), 2);
    assert_eq!(members[0]["username"], "alice");
    assert_eq!(members[0]["role"], "owner");
    assert_eq!(members[1]["role"], "member");
}

#[tokio::test]
async fn a_token_without_the_required_scope_gets_403_insufficient_scope() {
    let app = spawn_app().await;
    let token = token_for(&app, "company").await;
    for path in ["/api/username", "/api/me", "/api/company/members"] {
        let res = app.api(path, &token).await;
        assert_eq!(res.status(), 403, "{path}");
        let header = res.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .to_string();
        assert!(header.starts_with("Bearer "), "{header}");
        assert!(header.contains("error=\"insufficient_scope\""), "{header}");
        assert!(header.contains("scope=\""), "{header}");
    }
}

#[tokio::test]
async fn missing_malformed_and_unknown_tokens_are_told_apart() {
    let app = spawn_app().await;
    let res = http().get(app.url("/api/username")).send().await.unwrap();
    assert_eq!(res.status(), 401);
    assert_eq!(res.headers()["www-authenticate"], "Bearer realm=\"atrium\"");

    let res = http()
        .get(app.url("/api/username"))
        .header("authorization", "Token abc")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    assert!(res.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .contains("invalid_request"));

    let res = app.api("/api/username", "atr_at_not-a-real-token").await;
    assert_eq!(res.status(), 401);
    assert!(res.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .contains("error=\"invalid_token\""));
}

#[tokio::test]
async fn a_client_credentials_token_reads_no_user_data() {
    let app = spawn_app().await;
    let dev = app.user("dev").await;
    let client = app.register(dev, AppSpec::code("profile")).await;
    let t: serde_json::Value = app
        .client_credentials(&client, None)
        .await
        .json()
        .await
        .unwrap();
    let res = app
        .api("/api/username", t["access_token"].as_str().unwrap())
        .await;
    assert_eq!(res.status(), 403);
}
