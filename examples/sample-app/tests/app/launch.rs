//! The apps' pages, opened by the dashboard with `#atrium_launch=<JWT>`, whose script posts
//! the token to `/appN/launch`.

use crate::helpers::*;

#[tokio::test]
async fn a_page_opened_without_a_launch_token_asks_to_be_opened_from_atrium() {
    let app = spawn().await;
    for path in ["/app1/", "/app2/", "/app2"] {
        let (status, _, page) = app.get(path).await;
        assert_eq!(status, 200, "{path}");
        assert!(page.contains("Open this app from Atrium"), "{path}: {page}");
    }
}

#[tokio::test]
async fn a_valid_launch_shows_who_where_and_the_data_read_with_the_stored_token() {
    let app = spawn().await;
    let key = Key::new(1, "k1");
    app.atrium.publish(&[&key]);
    app.install_app2(demo_user(true)).await;

    let token = key.sign(&app.atrium.claims(APP2, 300));
    let (status, headers, page) = app.launch("app2", &token).await;
    assert_eq!(status, 200, "{page}");
    assert!(
        page.contains("running for <strong>demo</strong> in <strong>Demo Company</strong>"),
        "{page}"
    );
    assert!(page.contains("What App2 read with its token"), "{page}");
    assert!(page.contains("Demo User"), "{page}");
    assert_eq!(headers["referrer-policy"], "no-referrer");
    assert_eq!(headers["cache-control"], "no-store");
}

#[tokio::test]
async fn a_valid_launch_without_a_stored_token_says_so() {
    let app = spawn().await;
    let key = Key::new(1, "k1");
    app.atrium.publish(&[&key]);
    let token = key.sign(&app.atrium.claims(APP1, 300));
    let (status, _, page) = app.launch("app1", &token).await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("No token yet"), "{page}");
}

#[tokio::test]
async fn bad_launch_tokens_are_answered_401_with_the_reason() {
    let app = spawn().await;
    let key = Key::new(1, "k1");
    app.atrium.publish(&[&key]);
    let stranger = Key::new(9, "k1");
    let mut wrong_issuer = app.atrium.claims(APP1, 300);
    wrong_issuer["iss"] = "http://evil.example".into();
    let cases = [
        ("garbage", "not a well-formed JWT".to_string()),
        ("for App2", key.sign(&app.atrium.claims(APP2, 300))),
        ("expired", key.sign(&app.atrium.claims(APP1, -120))),
        ("another key", stranger.sign(&app.atrium.claims(APP1, 300))),
        ("another issuer", key.sign(&wrong_issuer)),
    ];
    for (what, token) in cases {
        let token = if what == "garbage" {
            "abc.def.ghi".to_string()
        } else {
            token
        };
        let (status, _, page) = app.launch("app1", &token).await;
        assert_eq!(status, 401, "{what}: {page}");
        assert!(
            page.contains("This launch link is not valid"),
            "{what}: {page}"
        );
    }
}

#[tokio::test]
async fn keys_are_fetched_again_when_a_token_names_an_unknown_key() {
    let app = spawn().await;
    let old = Key::new(1, "old");
    app.atrium.publish(&[&old]);
    let (status, _, _) = app
        .launch("app1", &old.sign(&app.atrium.claims(APP1, 300)))
        .await;
    assert_eq!(status, 200);
    assert_eq!(app.atrium.jwks_fetches(), 1);

    // Cached: no new fetch for a known key.
    let (status, _, _) = app
        .launch("app1", &old.sign(&app.atrium.claims(APP1, 300)))
        .await;
    assert_eq!(status, 200);
    assert_eq!(app.atrium.jwks_fetches(), 1);

    // The server rotates its key; the cache must learn the new one (after the minimum
    // interval between fetches).
    let new = Key::new(2, "new");
    app.atrium.publish(&[&new, &old]);
    tokio::time::sleep(std::time::Duration::from_millis(5100)).await;
    let (status, _, page) = app
        .launch("app1", &new.sign(&app.atrium.claims(APP1, 300)))
        .await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(app.atrium.jwks_fetches(), 2);
}

#[tokio::test]
async fn forged_key_ids_do_not_make_the_app_hammer_the_server() {
    let app = spawn().await;
    let key = Key::new(1, "k1");
    app.atrium.publish(&[&key]);
    for i in 0..5 {
        let forged = Key::new(3, &format!("random-{i}"));
        let (status, _, _) = app
            .launch("app1", &forged.sign(&app.atrium.claims(APP1, 300)))
            .await;
        assert_eq!(status, 401);
    }
    assert_eq!(app.atrium.jwks_fetches(), 1);
}

#[tokio::test]
async fn a_launch_that_cannot_be_checked_is_a_502_not_a_401() {
    let app = spawn().await;
    let key = Key::new(1, "k1");
    app.atrium.set_up(false);
    let (status, _, page) = app
        .launch("app1", &key.sign(&app.atrium.claims(APP1, 300)))
        .await;
    assert_eq!(status, 502, "{page}");
    assert!(page.contains("Atrium cannot be reached"), "{page}");
}

#[tokio::test]
async fn app2_refreshes_a_token_the_server_no_longer_takes() {
    let app = spawn().await;
    let key = Key::new(1, "k1");
    app.atrium.publish(&[&key]);
    app.install_app2(demo_user(true)).await;
    app.atrium.revoke_access_tokens();

    let token = key.sign(&app.atrium.claims(APP2, 300));
    let (status, _, page) = app.launch("app2", &token).await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("What App2 read with its token"), "{page}");
    let (_, form) = app
        .atrium
        .state
        .last_token_request
        .lock()
        .unwrap()
        .clone()
        .unwrap();
    assert_eq!(form["grant_type"], "refresh_token");
}

#[tokio::test]
async fn app1_forgets_a_token_the_server_no_longer_takes() {
    let app = spawn().await;
    let key = Key::new(1, "k1");
    app.atrium.publish(&[&key]);
    let token = app.atrium.token_for(demo_user(true));
    let res = app
        .http
        .post(app.url("/app1/api/whoami"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    app.atrium.revoke_access_tokens();

    let launch = key.sign(&app.atrium.claims(APP1, 300));
    let (status, _, page) = app.launch("app1", &launch).await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("no longer works"), "{page}");
    assert!(app.state.tokens.is_empty());
}

#[tokio::test]
async fn a_replayed_launch_token_is_refused() {
    let app = spawn().await;
    let key = Key::new(1, "k1");
    app.atrium.publish(&[&key]);
    let token = key.sign(&app.atrium.claims(APP1, 60));
    let (status, _, page) = app.launch("app1", &token).await;
    assert_eq!(status, 200, "{page}");
    let (status, headers, page) = app.launch("app1", &token).await;
    assert_eq!(status, 401, "{page}");
    assert!(page.contains("has been used already"), "{page}");
    assert!(headers.get("set-cookie").is_none());
}

#[tokio::test]
async fn launch_tokens_without_an_issuer_or_a_jti_are_refused() {
    let app = spawn().await;
    let key = Key::new(1, "k1");
    app.atrium.publish(&[&key]);
    for claim in ["iss", "jti"] {
        let mut claims = app.atrium.claims(APP1, 60);
        claims.as_object_mut().unwrap().remove(claim);
        let (status, _, page) = app.launch("app1", &key.sign(&claims)).await;
        assert_eq!(status, 401, "without {claim}: {page}");
    }
}

#[tokio::test]
async fn a_launch_token_in_the_query_opens_nothing() {
    let app = spawn().await;
    let key = Key::new(1, "k1");
    app.atrium.publish(&[&key]);
    let token = key.sign(&app.atrium.claims(APP1, 60));
    let (status, _, page) = app.get(&format!("/app1/?atrium_launch={token}")).await;
    assert_eq!(status, 200);
    assert!(page.contains("Open this app from Atrium"), "{page}");
    assert!(!page.contains("Hello, demo"), "{page}");
    // The page's script takes the token from the fragment instead.
    assert!(page.contains("<script src=\"/static/launch.js\""), "{page}");
    let (status, _, js) = app.get("/static/launch.js").await;
    assert_eq!(status, 200);
    assert!(
        js.contains("atrium_launch") && js.contains("location.hash"),
        "{js}"
    );
}

/// The session cookie of a launch answer.
fn session_cookie(headers: &reqwest::header::HeaderMap) -> String {
    let set = headers["set-cookie"].to_str().unwrap().to_string();
    assert!(set.contains("HttpOnly"), "{set}");
    assert!(set.contains("SameSite=Lax"), "{set}");
    set.split(';').next().unwrap().to_string()
}

#[tokio::test]
async fn after_a_launch_the_app_keeps_a_session_per_install() {
    let app = spawn().await;
    let key = Key::new(1, "k1");
    app.atrium.publish(&[&key]);
    // The same app installed in two companies, launched in each.
    let first = key.sign(&app.atrium.claims(APP1, 60));
    let mut claims = app.atrium.claims(APP1, 60);
    claims["install"] = 4.into();
    claims["company"] = 2.into();
    claims["company_name"] = "Other Company".into();
    let second = key.sign(&claims);
    let (_, headers, _) = app.launch("app1", &first).await;
    let cookie_one = session_cookie(&headers);
    let (_, headers, _) = app.launch("app1", &second).await;
    let cookie_two = session_cookie(&headers);
    assert_ne!(cookie_one, cookie_two);

    let page_with = |cookie: String, path: &'static str| {
        let http = app.http.clone();
        let url = app.url(path);
        async move {
            let res = http.get(url).header("cookie", cookie).send().await.unwrap();
            (res.status().as_u16(), res.text().await.unwrap())
        }
    };
    let (status, page) = page_with(cookie_one.clone(), "/app1/").await;
    assert_eq!(status, 200);
    assert!(page.contains("Hello, demo"), "{page}");
    assert!(page.contains("Demo Company"), "{page}");
    let (_, page) = page_with(cookie_two, "/app1/").await;
    assert!(page.contains("Other Company"), "{page}");
    assert!(!page.contains("Demo Company"), "{page}");
    // A session of App1 opens nothing in App2, and a made-up one nothing at all.
    let (_, page) = page_with(cookie_one.replace("app1_", "app2_"), "/app2/").await;
    assert!(page.contains("Open this app from Atrium"), "{page}");
    let (_, page) = page_with("app1_session=made-up".into(), "/app1/").await;
    assert!(page.contains("Open this app from Atrium"), "{page}");
}

/// The apps' pages refuse to be framed, as most web apps do: Atrium opens them as top-level
/// documents in webviews of their own, where the end-to-end tests see them work regardless.
#[tokio::test]
async fn every_page_refuses_to_be_framed() {
    let app = spawn().await;
    let key = Key::new(1, "k1");
    app.atrium.publish(&[&key]);
    let token = key.sign(&app.atrium.claims(APP1, 300));
    let launched = app.launch("app1", &token).await;
    let refused = app.launch("app1", &token).await;
    assert_eq!(launched.0, 200);
    assert_eq!(refused.0, 401);
    let mut pages = vec![("launched", launched.1), ("replayed launch", refused.1)];
    for path in ["/app1/", "/app2/", "/app1/callback", "/", "/nowhere"] {
        pages.push((path, app.get(path).await.1));
    }
    for (what, headers) in pages {
        assert_eq!(headers["x-frame-options"], "DENY", "{what}");
        let csp = headers["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("frame-ancestors 'none'"), "{what}: {csp}");
    }
    // The probe's pages (end-to-end tests only) too.
    assert!(atrium_sample_app::probe::PROBE_CSP.contains("frame-ancestors 'none'"));
}
