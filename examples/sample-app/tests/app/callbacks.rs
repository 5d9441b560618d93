//! The redirect URIs: App2's code exchange and App1's fragment page and backend.

use crate::helpers::*;

#[tokio::test]
async fn app2_exchanges_the_code_shows_the_user_and_returns_to_atrium() {
    let app = spawn().await;
    let page = app.install_app2(demo_user(true)).await;
    assert!(page.contains("demo"), "{page}");
    assert!(page.contains("Demo Company"), "{page}");
    let deep_link = "atrium://install-complete?app=demo-app2&amp;state=st4te";
    assert!(
        page.contains(&format!(
            "http-equiv=\"refresh\" content=\"2;url={deep_link}\""
        )),
        "{page}"
    );
    assert!(page.contains(&format!("href=\"{deep_link}\"")), "{page}");

    // client_secret_basic, with the registered redirect URI.
    let (auth, form) = app
        .atrium
        .state
        .last_token_request
        .lock()
        .unwrap()
        .clone()
        .unwrap();
    assert!(auth.unwrap().starts_with("Basic "));
    assert_eq!(form["grant_type"], "authorization_code");
    assert_eq!(form["redirect_uri"], app.url("/app2/callback"));
    assert!(!form.contains_key("client_secret"));
    assert_eq!(app.state.tokens.len(), 1);
}

#[tokio::test]
async fn app2_says_clearly_when_the_user_refused() {
    let app = spawn().await;
    let (status, _, page) = app
        .get(&format!(
            "/app2/callback?error=access_denied&error_description=no&state=s1&iss={}",
            urlencode(&app.atrium.url)
        ))
        .await;
    assert_eq!(status, 400);
    assert!(page.contains("You did not allow App2"), "{page}");
    assert!(page
        .contains("atrium://install-complete?app=demo-app2&amp;state=s1&amp;error=access_denied"));
}

#[tokio::test]
async fn app2_says_clearly_when_the_exchange_fails() {
    let app = spawn().await;
    let (status, _, page) = app
        .get(&format!(
            "/app2/callback?code=never-issued&state=s1&iss={}",
            urlencode(&app.atrium.url)
        ))
        .await;
    assert_eq!(status, 400);
    assert!(
        page.contains("Atrium refused the code (invalid_grant"),
        "{page}"
    );
    assert!(app.state.tokens.is_empty());
}

#[tokio::test]
async fn app2_explains_a_visit_without_a_code() {
    let app = spawn().await;
    let (status, _, page) = app.get("/app2/callback").await;
    assert_eq!(status, 400);
    assert!(page.contains("expects an authorization code"), "{page}");
}

#[tokio::test]
async fn app2_ignores_an_answer_naming_another_issuer() {
    let app = spawn().await;
    let code = app.atrium.code_for(demo_user(false));
    let (status, _, page) = app
        .get(&format!(
            "/app2/callback?code={code}&iss=http%3A%2F%2Fevil.example"
        ))
        .await;
    assert_eq!(status, 400);
    assert!(page.contains("Wrong server"), "{page}");
    assert!(app
        .atrium
        .state
        .last_token_request
        .lock()
        .unwrap()
        .is_none());
}

#[tokio::test]
async fn app2_ignores_an_answer_that_does_not_name_its_issuer() {
    let app = spawn().await;
    let code = app.atrium.code_for(demo_user(false));
    let (status, _, page) = app
        .get(&format!("/app2/callback?code={code}&state=s1"))
        .await;
    assert_eq!(status, 400);
    assert!(page.contains("does not say which server sent it"), "{page}");
    assert!(app
        .atrium
        .state
        .last_token_request
        .lock()
        .unwrap()
        .is_none());
    assert!(app.state.tokens.is_empty());
}

#[tokio::test]
async fn app1_callback_page_runs_its_own_script_only() {
    let app = spawn().await;
    let (status, headers, page) = app.get("/app1/callback").await;
    assert_eq!(status, 200);
    let csp = headers["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("script-src 'self'"), "{csp}");
    assert!(!page.contains("<script>"), "no inline script");
    assert!(page.contains("<script src=\"/app1/static/callback.js\""));
    assert!(page.contains("data-client-id=\"demo-app1\""));
    assert!(page.contains("data-whoami=\"/app1/api/whoami\""));

    let (status, headers, js) = app.get("/app1/static/callback.js").await;
    assert_eq!(status, 200);
    assert!(headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/javascript"));
    assert!(js.contains("window.location.hash"));
    assert!(js.contains("atrium://install-complete?app="));
}

#[tokio::test]
async fn app1_backend_reads_the_profile_with_the_fragments_token_and_keeps_it() {
    let app = spawn().await;
    let token = app.atrium.token_for(demo_user(true));
    let res = app
        .http
        .post(app.url("/app1/api/whoami"))
        .bearer_auth(&token)
        .json(&serde_json::json!({"scope": "profile company"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["username"], "demo");
    assert_eq!(body["company"]["name"], "Demo Company");
    assert_eq!(app.state.tokens.len(), 1);

    // Without a body too, as long as the token is there.
    let res = app
        .http
        .post(app.url("/app1/api/whoami"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn app1_backend_refuses_a_missing_or_unknown_token() {
    let app = spawn().await;
    let res = app
        .http
        .post(app.url("/app1/api/whoami"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    let res = app
        .http
        .post(app.url("/app1/api/whoami"))
        .bearer_auth("atr_at_unknown")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["error"], "invalid_token");
    assert!(app.state.tokens.is_empty());
}

#[tokio::test]
async fn unknown_pages_answer_a_readable_404() {
    let app = spawn().await;
    let (status, _, page) = app.get("/nowhere").await;
    assert_eq!(status, 404);
    assert!(page.contains("There is no page at this address"));
    let (status, _, page) = app.get("/").await;
    assert_eq!(status, 200);
    assert!(page.contains("demo-app1") && page.contains("demo-app2"));
}

#[tokio::test]
async fn app1_backend_refuses_an_oversized_body() {
    let app = spawn().await;
    let token = app.atrium.token_for(demo_user(false));
    let res = app
        .http
        .post(app.url("/app1/api/whoami"))
        .bearer_auth(&token)
        .body("x".repeat(10 * 1024))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 413);
}
