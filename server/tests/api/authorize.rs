//! `/oauth2/authorize`: sign-in, consent, CODE and TOKEN responses, and its error handling.

use crate::helpers::*;

#[tokio::test]
async fn an_anonymous_user_gets_the_login_page_then_the_consent_page() {
    let app = spawn_app().await;
    let dev = app.user("dev").await;
    let alice = app.user("alice").await;
    app.company("Acme", alice).await;
    let client = app.register(dev, AppSpec::code("profile company")).await;
    let query = [
        ("response_type", "code"),
        ("client_id", client.client_id.as_str()),
        ("redirect_uri", REDIRECT),
        ("scope", "profile company"),
        ("state", "s1"),
    ];
    let browser = Browser::new(&app.base);
    let res = browser.authorize(&query).await;
    assert_eq!(res.status(), 200);
    let page = res.text().await.unwrap();
    assert!(page.contains("name=\"username\"") && page.contains("name=\"password\""));

    // Sign in through the form the authorization request showed.
    let mut fields = hidden_inputs(&page);
    fields.push(("username".into(), "alice".into()));
    fields.push(("password".into(), PASSWORD.into()));
    let res = browser
        .client
        .post(app.url("/login"))
        .form(&fields)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    let back = location(&res);
    assert!(back.starts_with("/oauth2/authorize?"), "{back}");

    let res = browser.authorize(&query).await;
    let page = res.text().await.unwrap();
    assert!(page.contains("Test App"), "app name");
    assert!(page.contains("dev"), "developer");
    assert!(page.contains("An app for tests"), "description");
    assert!(
        page.contains("See your username, display name"),
        "profile in plain words"
    );
    assert!(
        page.contains("See the name of the company"),
        "company in plain words"
    );
    assert!(page.contains("Acme"), "the company it goes into");
}

#[tokio::test]
async fn a_wrong_password_shows_the_login_page_again() {
    let app = spawn_app().await;
    app.user("alice").await;
    let browser = Browser::new(&app.base);
    let res = browser.login("alice", "wrong password").await;
    assert_eq!(res.status(), 401);
    assert!(res
        .text()
        .await
        .unwrap()
        .contains("Wrong username or password"));
    let res = browser.login("nobody", "wrong password").await;
    assert_eq!(res.status(), 401);
}

#[tokio::test]
async fn code_flow_redirects_with_code_state_and_issuer_in_the_query() {
    let app = spawn_app().await;
    let dev = app.user("dev").await;
    app.user("alice").await;
    let client = app.register(dev, AppSpec::code("profile")).await;
    let browser = app.browser("alice").await;
    let loc = browser
        .authorize_and_allow(
            &Authorize::code(&client.client_id)
                .scope("profile")
                .state("the state"),
        )
        .await;
    assert!(loc.starts_with(REDIRECT), "{loc}");
    assert!(query_param(&loc, "code").unwrap().starts_with("atr_ac_"));
    assert_eq!(query_param(&loc, "state").unwrap(), "the state");
    assert_eq!(query_param(&loc, "iss").unwrap(), app.base);
    assert!(url::Url::parse(&loc).unwrap().fragment().is_none());
}

#[tokio::test]
async fn token_flow_puts_the_token_in_the_fragment_without_a_refresh_token() {
    let app = spawn_app().await;
    let dev = app.user("dev").await;
    app.user("alice").await;
    let client = app.register(dev, AppSpec::token("profile")).await;
    let browser = app.browser("alice").await;
    let loc = browser
        .authorize_and_allow(
            &Authorize::token(&client.client_id)
                .scope("profile")
                .state("st"),
        )
        .await;
    let url = url::Url::parse(&loc).unwrap();
    assert!(url.query().is_none(), "nothing in the query: {loc}");
    let f = fragment_params(&loc);
    let get = |k: &str| f.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    let token = get("access_token").unwrap();
    assert!(token.starts_with("atr_at_"));
    assert_eq!(get("token_type").unwrap(), "Bearer");
    // Implicit tokens are short-lived (`--implicit-token-ttl`, 600 s by default).
    assert_eq!(get("expires_in").unwrap(), "600");
    assert_eq!(get("scope").unwrap(), "profile");
    assert_eq!(get("state").unwrap(), "st");
    assert!(get("refresh_token").is_none());
    let res = app.api("/api/username", &token).await;
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.json::<serde_json::Value>().await.unwrap()["username"],
        "alice"
    );
}

#[tokio::test]
async fn denying_consent_redirects_with_access_denied() {
    let app = spawn_app().await;
    let dev = app.user("dev").await;
    app.user("alice").await;
    let client = app.register(dev, AppSpec::code("profile")).await;
    let browser = app.browser("alice").await;
    let page = browser
        .authorize(&[
            ("response_type", "code"),
            ("client_id", &client.client_id),
            ("redirect_uri", REDIRECT),
            ("state", "s"),
        ])
        .await
        .text()
        .await
        .unwrap();
    let res = browser.decide(&page, "deny", &[]).await;
    assert_eq!(res.status(), 303);
    let loc = location(&res);
    assert_eq!(query_param(&loc, "error").unwrap(), "access_denied");
    assert_eq!(query_param(&loc, "state").unwrap(), "s");
    assert!(query_param(&loc, "code").is_none());
}

#[tokio::test]
async fn an_unknown_client_gets_an_error_page_not_a_redirect() {
    let app = spawn_app().await;
    let res = http()
        .get(app.url("/oauth2/authorize"))
        .query(&[
            ("response_type", "code"),
            ("client_id", "nope"),
            ("redirect_uri", REDIRECT),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    assert!(res.headers().get("location").is_none());
    assert!(res.text().await.unwrap().contains("no app with client_id"));
}

#[tokio::test]
async fn client_errors_after_the_redirect_uri_is_verified_go_back_to_the_client() {
    let app = spawn_app().await;
    let dev = app.user("dev").await;
    let client = app.register(dev, AppSpec::code("profile")).await;
    let cases = [
        (
            vec![("response_type", "magic")],
            "unsupported_response_type",
        ),
        (vec![("response_type", "token")], "unauthorized_client"),
        (
            vec![("response_type", "code"), ("scope", "profile admin")],
            "invalid_scope",
        ),
        (
            vec![("response_type", "code"), ("scope", "email")],
            "invalid_scope",
        ),
        (
            vec![("response_type", "code"), ("scope", "dashboard")],
            "invalid_scope",
        ),
        (
            vec![("response_type", "code"), ("state", "a"), ("state", "b")],
            "invalid_request",
        ),
    ];
    for (extra, expected) in cases {
        let mut q = vec![
            ("client_id", client.client_id.as_str()),
            ("redirect_uri", REDIRECT),
        ];
        q.extend(extra.iter().cloned());
        let res = http()
            .get(app.url("/oauth2/authorize"))
            .query(&q)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 303, "{extra:?}");
        let loc = location(&res);
        assert!(loc.starts_with(REDIRECT));
        // Errors of TOKEN requests travel in the fragment, the others in the query.
        let error = query_param(&loc, "error").or_else(|| {
            fragment_params(&loc)
                .into_iter()
                .find(|(k, _)| k == "error")
                .map(|(_, v)| v)
        });
        assert_eq!(error.as_deref(), Some(expected), "{extra:?}");
    }
}

#[tokio::test]
async fn an_app_asking_for_company_scopes_needs_a_company_the_user_owns() {
    let app = spawn_app().await;
    let dev = app.user("dev").await;
    app.user("alice").await;
    let client = app.register(dev, AppSpec::code("profile company")).await;
    let browser = app.browser("alice").await;
    let res = browser
        .authorize(&[
            ("response_type", "code"),
            ("client_id", &client.client_id),
            ("redirect_uri", REDIRECT),
            ("scope", "company"),
        ])
        .await;
    assert_eq!(res.status(), 400);
    assert!(res.text().await.unwrap().contains("you own none"));
}

#[tokio::test]
async fn the_consent_form_only_installs_into_companies_the_user_owns() {
    let app = spawn_app().await;
    let dev = app.user("dev").await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    app.company("Alice Co", alice).await;
    let bobs = app.company("Bob Co", bob).await;
    let client = app.register(dev, AppSpec::code("profile company")).await;
    let browser = app.browser("alice").await;
    let page = browser
        .authorize(&[
            ("response_type", "code"),
            ("client_id", &client.client_id),
            ("redirect_uri", REDIRECT),
            ("scope", "company"),
        ])
        .await
        .text()
        .await
        .unwrap();
    let res = browser
        .decide(&page, "allow", &[("company_id", &bobs.to_string())])
        .await;
    assert_eq!(res.status(), 400);
    assert!(res.headers().get("location").is_none());
}
