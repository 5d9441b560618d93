//! Trust boundaries of sign-in, consent and registration, each test named after the attack it
//! stops. Every one of them failed on the code before its fix.
//!
//! - The desktop's sign-in needs a click on a page naming the account, and only its deep link
//!   receives the code (RFC 8252 §8.6).
//! - Login forms are bound to the server's key, single-use, refused from other origins; signing
//!   in starts a new session; https issuers get `__Host-` cookies.
//! - Redirect URIs are an allowlist, one rule for registration and edits (RFC 8252 §7.1).
//! - Public native apps may use any loopback port, with consent always asked (RFC 8252 §7.3).
//! - Atrium itself is never installed; public CODE apps are installed through their install
//!   URL; the implicit method issues short-lived access tokens only (RFC 9700 §2.1.2).

use crate::helpers::*;

/// The desktop's authorization request (PKCE, deep-link redirect unless `redirect` is given).
fn desktop_request<'a>(pkce: &'a Pkce, redirect: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("response_type", "code"),
        ("client_id", "atrium-desktop"),
        ("redirect_uri", redirect),
        ("scope", "dashboard profile"),
        ("state", "desk"),
        ("code_challenge", &pkce.challenge),
        ("code_challenge_method", "S256"),
    ]
}

#[tokio::test]
async fn a_signed_in_browser_does_not_hand_the_desktop_a_code_without_a_click() {
    let app = spawn_app().await;
    app.user("alice").await;
    let browser = app.browser("alice").await;
    let pkce = Pkce::new();
    let res = browser
        .authorize(&desktop_request(&pkce, "atrium://oauth/callback"))
        .await;
    assert_eq!(res.status(), 200, "a page, not a redirect");
    assert!(res.headers().get("location").is_none());
    let page = res.text().await.unwrap();
    assert!(
        page.contains("Continue as alice display to the Atrium app?"),
        "the page names the account: {page}"
    );
    assert!(!page.contains("code="), "no code on the page");

    // The click: the page's own form, with the session's CSRF token.
    let res = browser.decide(&page, "allow", &[]).await;
    assert_eq!(res.status(), 303);
    assert!(location(&res).starts_with("atrium://oauth/callback?code="));

    // The same POST without the CSRF token issues nothing.
    let res = browser.decide(&page, "allow", &[("csrf", "forged")]).await;
    assert_eq!(res.status(), 400);
    assert!(res.headers().get("location").is_none());
}

#[tokio::test]
async fn a_program_listening_on_a_loopback_port_cannot_receive_the_desktops_code() {
    let app = spawn_app().await;
    app.user("alice").await;
    let browser = app.browser("alice").await;
    let pkce = Pkce::new();
    for redirect in [
        "http://127.0.0.1:5555/callback",
        "http://[::1]:5555/callback",
        "http://127.0.0.1/callback",
    ] {
        let res = browser.authorize(&desktop_request(&pkce, redirect)).await;
        assert_eq!(res.status(), 400, "{redirect}");
        assert!(res.headers().get("location").is_none(), "{redirect}");
    }
}

#[tokio::test]
async fn atrium_cannot_be_installed_into_a_company_by_a_direct_consent_post() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let company = app.company("Alice Co", alice).await;
    let browser = app.browser("alice").await;
    let pkce = Pkce::new();
    // A consent POST made by hand: the authorization request's fields, the session's CSRF
    // token (shown on the home page's sign-out form) and a company.
    let home = browser
        .client
        .get(app.url("/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = hidden_inputs(&home)
        .into_iter()
        .find(|(k, _)| k == "csrf")
        .expect("the session's CSRF token")
        .1;
    let mut fields: Vec<(String, String)> = desktop_request(&pkce, "atrium://oauth/callback")
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    fields.push(("csrf".into(), csrf));
    fields.push(("company_id".into(), company.to_string()));
    fields.push(("decision".into(), "allow".into()));
    let res = browser
        .client
        .post(app.url("/oauth2/authorize"))
        .form(&fields)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    assert!(res.headers().get("location").is_none());
    assert!(app
        .store
        .installs_of_company(company)
        .await
        .unwrap()
        .is_empty());
}

/// GET /login without a cookie jar: the pre-session cookie (`name=value`) and the form's fields.
async fn login_form(app: &TestApp) -> (String, Vec<(String, String)>) {
    let res = http().get(app.url("/login")).send().await.unwrap();
    let cookie = res.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let page = res.text().await.unwrap();
    (cookie, hidden_inputs(&page))
}

async fn post_login(
    app: &TestApp,
    cookie: &str,
    mut fields: Vec<(String, String)>,
    origin: Option<&str>,
) -> reqwest::Response {
    fields.push(("username".into(), "mallory".into()));
    fields.push(("password".into(), PASSWORD.into()));
    let mut req = http()
        .post(app.url("/login"))
        .header("cookie", cookie)
        .form(&fields);
    if let Some(o) = origin {
        req = req.header("origin", o);
    }
    req.send().await.unwrap()
}

fn signed_in(res: &reqwest::Response) -> bool {
    res.status() == 303
        && res
            .headers()
            .get_all("set-cookie")
            .iter()
            .any(|c| c.to_str().unwrap().contains("atrium_session=atr_ss_"))
}

#[tokio::test]
async fn a_login_cookie_and_field_pair_made_up_by_another_page_is_refused() {
    let app = spawn_app().await;
    app.user("mallory").await;
    // A page on another port of 127.0.0.1 can plant any cookie and post any field.
    let planted = "atr_cf_chosen-by-the-attacker";
    let cookie = format!("atrium_login_csrf={planted}; atrium_login={planted}");
    let fields = vec![
        ("next".to_string(), "/".to_string()),
        ("csrf".to_string(), planted.to_string()),
    ];
    let res = post_login(&app, &cookie, fields, None).await;
    assert!(!signed_in(&res), "signed in with a made-up pair");
    assert_eq!(res.status(), 400);
}

#[tokio::test]
async fn a_login_form_cannot_be_submitted_twice() {
    let app = spawn_app().await;
    app.user("mallory").await;
    let (cookie, fields) = login_form(&app).await;
    let first = post_login(&app, &cookie, fields.clone(), None).await;
    assert!(signed_in(&first), "the form works once");
    let again = post_login(&app, &cookie, fields, None).await;
    assert!(!signed_in(&again), "the same form signed in twice");
    assert_eq!(again.status(), 400);
}

#[tokio::test]
async fn a_login_form_posted_from_another_port_of_the_same_host_is_refused() {
    let app = spawn_app().await;
    app.user("mallory").await;
    let (cookie, fields) = login_form(&app).await;
    let res = post_login(&app, &cookie, fields, Some("http://127.0.0.1:9")).await;
    assert!(!signed_in(&res));
    assert_eq!(res.status(), 403);
    // The server's own origin is fine.
    let (cookie, fields) = login_form(&app).await;
    let res = post_login(&app, &cookie, fields, Some(&app.base)).await;
    assert!(signed_in(&res));
}

#[tokio::test]
async fn signing_in_ends_the_session_the_browser_presented() {
    let app = spawn_app().await;
    app.user("alice").await;
    let (cookie, fields) = login_form(&app).await;
    let first = post_login_as(&app, &cookie, fields, "alice").await;
    let planted = session_cookie(&first);
    // The browser signs in again while presenting that session (as a planted one would be).
    let (login, fields) = login_form(&app).await;
    let second = post_login_as(&app, &format!("{login}; {planted}"), fields, "alice").await;
    assert_ne!(session_cookie(&second), planted, "a new session id");
    let home = http()
        .get(app.url("/"))
        .header("cookie", &planted)
        .send()
        .await
        .unwrap();
    assert_eq!(home.status(), 303, "the presented session still works");
    assert_eq!(location(&home), "/login");
}

async fn post_login_as(
    app: &TestApp,
    cookie: &str,
    mut fields: Vec<(String, String)>,
    user: &str,
) -> reqwest::Response {
    fields.push(("username".into(), user.into()));
    fields.push(("password".into(), PASSWORD.into()));
    http()
        .post(app.url("/login"))
        .header("cookie", cookie)
        .form(&fields)
        .send()
        .await
        .unwrap()
}

fn session_cookie(res: &reqwest::Response) -> String {
    res.headers()
        .get_all("set-cookie")
        .iter()
        .map(|c| c.to_str().unwrap().split(';').next().unwrap().to_string())
        .find(|c| c.starts_with("atrium_session="))
        .expect("a session cookie")
}

#[tokio::test]
async fn an_https_issuer_sets_host_prefixed_secure_cookies_that_other_origins_cannot_plant() {
    let app = spawn_app_configured(|s| s.public_url = Some("https://atrium.test".into())).await;
    let res = http()
        .get(format!("http://{}/login", app.addr))
        .send()
        .await
        .unwrap();
    let set = res.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(set.starts_with("__Host-"), "{set}");
    assert!(set.contains("; Secure"), "{set}");
    assert!(set.contains("; Path=/"), "{set}");
    assert!(!set.to_ascii_lowercase().contains("domain="), "{set}");
}

/// Registers an app through the developer API; answers the status and body.
async fn register_via_api(
    app: &TestApp,
    token: &str,
    body: serde_json::Value,
) -> (u16, serde_json::Value) {
    let res = app
        .call("POST", "/api/developer/apps", token, Some(body))
        .await;
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or_default())
}

#[tokio::test]
async fn redirect_uris_in_dangerous_or_foreign_schemes_never_register() {
    let app = spawn_app().await;
    app.user("dev").await;
    let token = app.dashboard_token("dev").await;
    for bad in [
        "atrium://oauth/callback",
        "vbscript:msgbox(1)",
        "view-source:https://app.example/",
        "blob:https://app.example/0b5c",
        "ms-settings:privacy",
        "javascript:alert(1)",
        "http://localhost/callback",
        "notes:/callback",
    ] {
        for kind in ["web", "native"] {
            let (status, body) = register_via_api(
                &app,
                &token,
                serde_json::json!({
                    "name": "Bad", "redirect_uris": [bad], "scopes": "profile",
                    "method": "code", "application_type": kind,
                }),
            )
            .await;
            assert_eq!(status, 400, "{bad} registered as {kind}: {body}");
        }
    }
    // The same rule for edits.
    let (status, created) = register_via_api(
        &app,
        &token,
        serde_json::json!({
            "name": "Good", "redirect_uris": ["https://app.example/cb"], "scopes": "profile",
            "method": "code",
        }),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    let path = format!(
        "/api/developer/apps/{}",
        created["app"]["client_id"].as_str().unwrap()
    );
    for bad in ["atrium://oauth/callback", "ms-settings:privacy"] {
        let res = app
            .call(
                "PATCH",
                &path,
                &token,
                Some(serde_json::json!({ "redirect_uris": [bad] })),
            )
            .await;
        assert_eq!(res.status(), 400, "{bad} accepted by PATCH");
    }
    // A native app's own reverse-domain scheme is fine.
    let (status, body) = register_via_api(
        &app,
        &token,
        serde_json::json!({
            "name": "Notes", "redirect_uris": ["com.example.notes:/callback"],
            "scopes": "profile", "method": "code", "application_type": "native",
            "public": true, "install_url": "https://notes.example/install",
        }),
    )
    .await;
    assert_eq!(status, 201, "{body}");
}

#[tokio::test]
async fn a_public_native_app_may_use_any_loopback_port_but_is_always_asked_for_consent() {
    let app = spawn_app().await;
    app.user("dev").await;
    app.user("alice").await;
    let token = app.dashboard_token("dev").await;
    let (status, native) = register_via_api(
        &app,
        &token,
        serde_json::json!({
            "name": "Native", "redirect_uris": ["http://127.0.0.1/callback"],
            "scopes": "profile", "method": "code", "application_type": "native",
            "public": true, "install_url": "https://native.example/install",
        }),
    )
    .await;
    assert_eq!(status, 201, "{native}");
    let (status, web) = register_via_api(
        &app,
        &token,
        serde_json::json!({
            "name": "Web", "redirect_uris": ["http://127.0.0.1:8010/callback"],
            "scopes": "profile", "method": "code",
        }),
    )
    .await;
    assert_eq!(status, 201, "{web}");
    let browser = app.browser("alice").await;
    let pkce = Pkce::new();
    let ask = |client_id: String, redirect: &'static str| {
        let pkce = &pkce;
        let browser = &browser;
        async move {
            browser
                .authorize(&[
                    ("response_type", "code"),
                    ("client_id", &client_id),
                    ("redirect_uri", redirect),
                    ("scope", "profile"),
                    ("state", "s"),
                    ("code_challenge", &pkce.challenge),
                    ("code_challenge_method", "S256"),
                ])
                .await
        }
    };
    let native_id = native["app"]["client_id"].as_str().unwrap().to_string();
    let res = ask(native_id, "http://127.0.0.1:49152/callback").await;
    assert_eq!(res.status(), 200, "the native app's ephemeral port works");
    let page = res.text().await.unwrap();
    assert!(page.contains("name=\"decision\""), "consent is asked");
    let res = browser.decide(&page, "allow", &[]).await;
    assert_eq!(res.status(), 303);
    assert!(location(&res).starts_with("http://127.0.0.1:49152/callback?code="));

    // A web app's loopback redirect is matched exactly.
    let web_id = web["app"]["client_id"].as_str().unwrap().to_string();
    let res = ask(web_id, "http://127.0.0.1:49152/callback").await;
    assert_eq!(res.status(), 400);
    assert!(res.headers().get("location").is_none());
}

#[tokio::test]
async fn a_public_code_app_is_installed_through_its_install_url_with_its_own_pkce() {
    let app = spawn_app().await;
    let dev = app.user("dev").await;
    let company = app.company("Dev Co", dev).await;
    let token = app.dashboard_token("dev").await;
    let (status, body) = register_via_api(
        &app,
        &token,
        serde_json::json!({
            "name": "Spa", "redirect_uris": ["https://spa.example/cb"], "scopes": "profile company",
            "method": "code", "public": true,
        }),
    )
    .await;
    assert_eq!(
        status, 400,
        "a public CODE app without an install URL: {body}"
    );
    let (status, body) = register_via_api(
        &app,
        &token,
        serde_json::json!({
            "name": "Spa", "redirect_uris": ["https://spa.example/cb"], "scopes": "profile company",
            "method": "code", "public": true, "install_url": "https://spa.example/install",
        }),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let client_id = body["app"]["client_id"].as_str().unwrap().to_string();
    let catalog: serde_json::Value = app
        .api("/api/dashboard/catalog", &token)
        .await
        .json()
        .await
        .unwrap();
    let listed = catalog["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["client_id"] == client_id.as_str())
        .expect("in the catalog");
    assert_eq!(listed["install_url"], "https://spa.example/install");

    // The dashboard can't hold the app's verifier: it sends the user to the install URL.
    let res = app
        .install(
            &token,
            serde_json::json!({ "client_id": client_id, "company_id": company }),
        )
        .await;
    assert_eq!(res.status(), 409);
    let err: serde_json::Value = res.json().await.unwrap();
    assert_eq!(err["error"], "use_install_url");
    assert!(app
        .store
        .installs_of_company(company)
        .await
        .unwrap()
        .is_empty());

    // The app starts the request itself, with its own PKCE, and the user consents.
    let browser = app.browser("dev").await;
    let pkce = Pkce::new();
    let location = browser
        .authorize_and_allow(&[
            ("response_type", "code"),
            ("client_id", &client_id),
            ("redirect_uri", "https://spa.example/cb"),
            ("scope", "profile company"),
            ("state", "spa"),
            ("code_challenge", &pkce.challenge),
            ("code_challenge_method", "S256"),
        ])
        .await;
    let code = query_param(&location, "code").unwrap();
    let res = http()
        .post(app.url("/oauth2/token"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", "https://spa.example/cb"),
            ("client_id", &client_id),
            ("code_verifier", &pkce.verifier),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let installs = app.store.installs_of_company(company).await.unwrap();
    assert_eq!(installs.len(), 1, "installed in the chosen company");
}

#[tokio::test]
async fn implicit_tokens_are_short_lived_and_never_come_with_a_refresh_token() {
    for (configured, expected) in [(None, 600), (Some(120), 120)] {
        let app = spawn_app_configured(|s| {
            if let Some(ttl) = configured {
                s.implicit_ttl = ttl;
            }
        })
        .await;
        let dev = app.user("dev").await;
        app.user("alice").await;
        let client = app.register(dev, AppSpec::token("profile")).await;
        let browser = app.browser("alice").await;
        let location = browser
            .authorize_and_allow(
                &Authorize::token(&client.client_id)
                    .scope("profile")
                    .state("imp"),
            )
            .await;
        let params = fragment_params(&location);
        let get = |k: &str| params.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
        assert_eq!(get("expires_in"), Some(expected.to_string()));
        assert!(get("access_token").is_some());
        assert_eq!(get("refresh_token"), None);
    }
    let meta: serde_json::Value = http()
        .get(
            spawn_app()
                .await
                .url("/.well-known/oauth-authorization-server"),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        meta["atrium_discouraged_response_types"],
        serde_json::json!(["token"])
    );
}

#[tokio::test]
async fn an_app_needs_a_redirect_uri_when_registered_and_when_edited() {
    let app = spawn_app().await;
    app.user("dev").await;
    let dev = app.dashboard_token("dev").await;
    let mut body = serde_json::json!({
        "name": "No Redirect",
        "description": "",
        "redirect_uris": [],
        "scopes": "profile",
        "method": "code",
    });
    let res = app
        .call("POST", "/api/developer/apps", &dev, Some(body.clone()))
        .await;
    assert_eq!(res.status(), 400);
    let err: serde_json::Value = res.json().await.unwrap();
    assert_eq!(err["error"], "invalid_request");
    assert_eq!(
        err["error_description"],
        "an app needs at least one redirect URI"
    );
    body["redirect_uris"] = serde_json::json!([REDIRECT]);
    let res = app
        .call("POST", "/api/developer/apps", &dev, Some(body))
        .await;
    assert_eq!(res.status(), 201);
    let created: serde_json::Value = res.json().await.unwrap();
    let path = format!(
        "/api/developer/apps/{}",
        created["app"]["client_id"].as_str().unwrap()
    );
    let res = app
        .call(
            "PATCH",
            &path,
            &dev,
            Some(serde_json::json!({ "redirect_uris": [] })),
        )
        .await;
    assert_eq!(res.status(), 400);
    let err: serde_json::Value = res.json().await.unwrap();
    assert_eq!(
        err["error_description"],
        "an app needs at least one redirect URI"
    );
}
