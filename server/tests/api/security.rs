//! The OAuth 2.0 Security Best Current Practice (RFC 9700) requirements that apply to Atrium,
//! one test each:
//!
//! 1. §2.1 / §4.1.3 — redirect URIs are matched exactly; a mismatch is shown to the user, never
//!    redirected: `a_redirect_uri_that_is_not_registered_exactly_is_never_followed`.
//! 2. §4.11 — no open redirector: `sign_in_never_redirects_off_site`.
//! 3. §2.1.1 — public clients must use PKCE: `public_clients_must_send_a_code_challenge`.
//! 4. §2.1.1 — PKCE with S256 only: `the_plain_pkce_method_is_refused`.
//! 5. §2.1.1 / §4.8.2 — PKCE downgrade: `a_code_verifier_without_a_challenge_is_refused`.
//! 6. §2.1.1 — the verifier must match: `a_wrong_code_verifier_is_refused`.
//! 7. §4.5 / RFC 6749 §4.1.2 — codes are single-use and a replay revokes what they issued:
//!    `a_replayed_code_revokes_the_tokens_it_issued`.
//! 8. §2.1 — codes are bound to their client: `a_code_cannot_be_redeemed_by_another_client`.
//! 9. §2.2.2 / §4.14.2 — refresh tokens are rotated with reuse detection:
//!    `reusing_a_rotated_refresh_token_revokes_the_whole_grant`.
//! 10. §2.3 — access tokens are restricted to their scopes:
//!     `tokens_only_reach_endpoints_of_their_scopes`.
//! 11. §4.3.2 / §2.5 — no tokens in URLs of the resource API:
//!     `the_api_ignores_access_tokens_in_the_query_string`.
//! 12. §4.16 — no clickjacking of the authorization pages: `authorization_pages_cannot_be_framed`.
//! 13. §4.2.4 — no code leaks through the Referer header:
//!     `authorization_responses_send_no_referrer`.
//! 14. §4.12 — 303 after the consent POST: `consent_answers_with_303_see_other`.
//! 15. §4.7 — CSRF on the consent decision: `a_consent_decision_without_the_csrf_token_is_refused`.
//! 16. §4.4 (RFC 9207) — mix-up defence, `iss` in authorization responses:
//!     `authorization_responses_carry_the_issuer`.
//! 17. §4.14 / §2.2 — credentials are stored as digests only:
//!     `secrets_and_tokens_are_never_stored_in_plain_text`.
//! 18. RFC 6749 §4.1.2 — codes live at most 60 seconds: `codes_expire_within_60_seconds`.

use crate::helpers::*;

async fn setup(public: bool) -> (TestApp, TestClient, Browser) {
    let app = spawn_app().await;
    let dev = app.user("dev").await;
    app.user("alice").await;
    let spec = AppSpec::code("profile");
    let spec = if public { spec.public() } else { spec };
    let client = app.register(dev, spec).await;
    let browser = app.browser("alice").await;
    (app, client, browser)
}

#[tokio::test]
async fn a_redirect_uri_that_is_not_registered_exactly_is_never_followed() {
    let (app, client, browser) = setup(false).await;
    for bad in [
        "https://app.example/callback/",
        "https://app.example/callback?x=1",
        "https://evil.example/callback",
        "https://app.example/callback#frag",
    ] {
        let res = browser
            .authorize(&[
                ("response_type", "code"),
                ("client_id", &client.client_id),
                ("redirect_uri", bad),
            ])
            .await;
        assert_eq!(res.status(), 400, "{bad}");
        assert!(res.headers().get("location").is_none(), "{bad}");
    }
    let _ = app;
}

#[tokio::test]
async fn sign_in_never_redirects_off_site() {
    let app = spawn_app().await;
    app.user("alice").await;
    let browser = Browser::new(&app.base);
    let page = browser
        .client
        .get(app.url("/login"))
        .query(&[("next", "https://evil.example/")])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let mut fields = hidden_inputs(&page);
    fields.retain(|(k, _)| k != "next");
    fields.push(("next".into(), "https://evil.example/".into()));
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
    assert_eq!(location(&res), "/");
}

#[tokio::test]
async fn public_clients_must_send_a_code_challenge() {
    let (_app, client, browser) = setup(true).await;
    let res = browser
        .authorize(&[
            ("response_type", "code"),
            ("client_id", &client.client_id),
            ("redirect_uri", REDIRECT),
        ])
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(
        query_param(&location(&res), "error").unwrap(),
        "invalid_request"
    );
}

#[tokio::test]
async fn the_plain_pkce_method_is_refused() {
    let (_app, client, browser) = setup(true).await;
    let pkce = Pkce::new();
    let res = browser
        .authorize(&[
            ("response_type", "code"),
            ("client_id", &client.client_id),
            ("redirect_uri", REDIRECT),
            ("code_challenge", &pkce.challenge),
            ("code_challenge_method", "plain"),
        ])
        .await;
    assert_eq!(
        query_param(&location(&res), "error").unwrap(),
        "invalid_request"
    );
}

#[tokio::test]
async fn a_code_verifier_without_a_challenge_is_refused() {
    let (app, client, browser) = setup(false).await;
    let code = app.code_for(&browser, &client, "profile", None).await;
    let res = app
        .token(
            &client,
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", REDIRECT),
                ("code_verifier", &Pkce::new().verifier),
            ],
        )
        .await;
    assert_eq!(res.status(), 400);
    assert_oauth_error(res, "invalid_grant").await;
}

#[tokio::test]
async fn a_wrong_code_verifier_is_refused() {
    let (app, client, browser) = setup(true).await;
    let pkce = Pkce::new();
    let code = app
        .code_for(&browser, &client, "profile", Some(&pkce))
        .await;
    let wrong = Pkce::new();
    let res = app
        .try_exchange(&client, &code, Some(&wrong.verifier))
        .await;
    assert_oauth_error(res, "invalid_grant").await;
}

#[tokio::test]
async fn a_replayed_code_revokes_the_tokens_it_issued() {
    let (app, client, browser) = setup(false).await;
    let code = app.code_for(&browser, &client, "profile", None).await;
    let t = app.exchange(&client, &code, None).await;
    let access = t["access_token"].as_str().unwrap();
    assert_eq!(app.api("/api/username", access).await.status(), 200);
    let res = app.try_exchange(&client, &code, None).await;
    assert_oauth_error(res, "invalid_grant").await;
    assert_eq!(app.api("/api/username", access).await.status(), 401);
    let res = app
        .refresh(&client, t["refresh_token"].as_str().unwrap())
        .await;
    assert_oauth_error(res, "invalid_grant").await;
}

#[tokio::test]
async fn a_code_cannot_be_redeemed_by_another_client() {
    let (app, client, browser) = setup(false).await;
    let dev2 = app.user("dev2").await;
    let other = app.register(dev2, AppSpec::code("profile")).await;
    let code = app.code_for(&browser, &client, "profile", None).await;
    let res = app.try_exchange(&other, &code, None).await;
    assert_oauth_error(res, "invalid_grant").await;
}

#[tokio::test]
async fn reusing_a_rotated_refresh_token_revokes_the_whole_grant() {
    let (app, client, browser) = setup(false).await;
    let code = app.code_for(&browser, &client, "profile", None).await;
    let first = app.exchange(&client, &code, None).await;
    let old = first["refresh_token"].as_str().unwrap();
    let second: serde_json::Value = app.refresh(&client, old).await.json().await.unwrap();
    // The client rotates again: the second refresh token is used, so a replay of the first
    // can no longer pass for a retry of a lost answer (see `rotation.rs`).
    let third: serde_json::Value = app
        .refresh(&client, second["refresh_token"].as_str().unwrap())
        .await
        .json()
        .await
        .unwrap();
    // The new access token works (and is now in the server's token cache).
    let fresh = third["access_token"].as_str().unwrap();
    assert_eq!(app.api("/api/username", fresh).await.status(), 200);
    // An attacker replays the old refresh token.
    let res = app.refresh(&client, old).await;
    assert_oauth_error(res, "invalid_grant").await;
    // Everything of the grant is dead, including what the legitimate client got.
    for tokens in [&second, &third] {
        assert_eq!(
            app.api("/api/username", tokens["access_token"].as_str().unwrap())
                .await
                .status(),
            401
        );
    }
    let res = app
        .refresh(&client, third["refresh_token"].as_str().unwrap())
        .await;
    assert_oauth_error(res, "invalid_grant").await;
}

#[tokio::test]
async fn tokens_only_reach_endpoints_of_their_scopes() {
    let app = spawn_app().await;
    let (client, code) = app
        .alice_allows(AppSpec::code("profile email"), "email")
        .await;
    let t = app.exchange(&client, &code, None).await;
    assert_eq!(
        app.api("/api/username", t["access_token"].as_str().unwrap())
            .await
            .status(),
        403
    );
}

#[tokio::test]
async fn the_api_ignores_access_tokens_in_the_query_string() {
    let (app, client, browser) = setup(false).await;
    let code = app.code_for(&browser, &client, "profile", None).await;
    let t = app.exchange(&client, &code, None).await;
    let res = http()
        .get(app.url("/api/username"))
        .query(&[("access_token", t["access_token"].as_str().unwrap())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
}

#[tokio::test]
async fn authorization_pages_cannot_be_framed() {
    let (app, client, browser) = setup(false).await;
    let consent = browser
        .authorize(&[
            ("response_type", "code"),
            ("client_id", &client.client_id),
            ("redirect_uri", REDIRECT),
        ])
        .await;
    let login = http().get(app.url("/login")).send().await.unwrap();
    for res in [consent, login] {
        assert_eq!(res.headers()["x-frame-options"], "DENY");
        assert!(res.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("frame-ancestors 'none'"));
    }
}

#[tokio::test]
async fn authorization_responses_send_no_referrer() {
    let (_app, client, browser) = setup(false).await;
    let res = browser
        .authorize(&[
            ("response_type", "code"),
            ("client_id", &client.client_id),
            ("redirect_uri", REDIRECT),
        ])
        .await;
    assert_eq!(res.headers()["referrer-policy"], "no-referrer");
    let page = res.text().await.unwrap();
    let res = browser.decide(&page, "allow", &[]).await;
    assert_eq!(res.headers()["referrer-policy"], "no-referrer");
}

#[tokio::test]
async fn consent_answers_with_303_see_other() {
    let (_app, client, browser) = setup(false).await;
    let page = browser
        .authorize(&[
            ("response_type", "code"),
            ("client_id", &client.client_id),
            ("redirect_uri", REDIRECT),
        ])
        .await
        .text()
        .await
        .unwrap();
    let res = browser.decide(&page, "allow", &[]).await;
    assert_eq!(res.status(), 303);
}

#[tokio::test]
async fn a_consent_decision_without_the_csrf_token_is_refused() {
    let (_app, client, browser) = setup(false).await;
    let page = browser
        .authorize(&[
            ("response_type", "code"),
            ("client_id", &client.client_id),
            ("redirect_uri", REDIRECT),
        ])
        .await
        .text()
        .await
        .unwrap();
    let res = browser.decide(&page, "allow", &[("csrf", "forged")]).await;
    assert_eq!(res.status(), 400);
    assert!(res.headers().get("location").is_none());
}

#[tokio::test]
async fn authorization_responses_carry_the_issuer() {
    let (app, client, browser) = setup(false).await;
    let loc = browser
        .authorize_and_allow(&[
            ("response_type", "code"),
            ("client_id", &client.client_id),
            ("redirect_uri", REDIRECT),
        ])
        .await;
    assert_eq!(query_param(&loc, "iss").unwrap(), app.base);
}

#[tokio::test]
async fn secrets_and_tokens_are_never_stored_in_plain_text() {
    let (app, client, browser) = setup(false).await;
    let code = app.code_for(&browser, &client, "profile", None).await;
    let t = app.exchange(&client, &code, None).await;
    // Checkpoint the WAL so the main file holds everything, then search every byte.
    app.db()
        .call(|c| {
            Ok::<_, atrium_server::db::DbError>(c.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)")?)
        })
        .await
        .unwrap();
    let mut bytes = std::fs::read(&app.db_path).unwrap();
    if let Ok(wal) = std::fs::read(app.db_path.with_extension("db-wal")) {
        bytes.extend(wal);
    }
    let haystack = String::from_utf8_lossy(&bytes);
    for secret in [
        client.secret.as_deref().unwrap(),
        &code,
        t["access_token"].as_str().unwrap(),
        t["refresh_token"].as_str().unwrap(),
        PASSWORD,
    ] {
        assert!(
            !haystack.contains(secret),
            "a secret is stored in plain text"
        );
    }
}

#[tokio::test]
async fn codes_expire_within_60_seconds() {
    let (app, client, browser) = setup(false).await;
    app.code_for(&browser, &client, "profile", None).await;
    let lifetime: i64 = app
        .db()
        .call(|c| {
            Ok::<_, atrium_server::db::DbError>(c.query_row(
                "SELECT expires_at - unixepoch() FROM authorization_codes",
                [],
                |r| r.get(0),
            )?)
        })
        .await
        .unwrap();
    assert!((1..=60).contains(&lifetime), "code lifetime {lifetime}s");
}
