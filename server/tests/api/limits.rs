//! Lengths and quotas: one user cannot make the server store without bound, and nobody can
//! put control characters in a name that others will see.

use serde_json::{json, Value};

use crate::helpers::*;

/// The default per-user quotas (`Quotas::default()`, documented in the README).
const DEFAULT_APPS_PER_USER: usize = 25;
const DEFAULT_COMPANIES_PER_USER: usize = 10;

fn new_app(name: &str) -> Value {
    json!({
        "name": name,
        "description": "an app",
        "redirect_uris": [REDIRECT],
        "scopes": "profile",
        "method": "code",
    })
}

async fn signed_in(app: &TestApp, name: &str) -> String {
    app.user(name).await;
    app.dashboard_token(name).await
}

/// Asserts a 400 whose message contains every one of `words`.
async fn assert_refused(res: reqwest::Response, words: &[&str], case: &str) {
    let status = res.status();
    let body: Value = res.json().await.unwrap_or(Value::Null);
    assert_eq!(status, 400, "{case}: {body}");
    let msg = body["error_description"].as_str().unwrap_or_default();
    for w in words {
        assert!(msg.contains(w), "{case}: {msg:?} should mention {w:?}");
    }
}

#[tokio::test]
async fn registering_an_app_refuses_every_field_over_its_limit_and_says_the_limit() {
    let app = spawn_app().await;
    let dev = signed_in(&app, "dev").await;
    let long_url = format!("https://app.example/{}", "a".repeat(2100));
    let eleven: Vec<String> = (0..11)
        .map(|i| format!("https://app.example/cb{i}"))
        .collect();
    let cases: Vec<(&str, Value, &[&str])> = vec![
        (
            "name",
            json!({ "name": "n".repeat(101) }),
            &["app name", "100"],
        ),
        (
            "description",
            json!({ "description": "d".repeat(64 * 1000) }),
            &["description", "2000"],
        ),
        (
            "redirect URI count",
            json!({ "redirect_uris": eleven }),
            &["redirect URIs", "10"],
        ),
        (
            "redirect URI length",
            json!({ "redirect_uris": [long_url] }),
            &["redirect URI", "2048"],
        ),
        (
            "iframe URL",
            json!({ "iframe_url": long_url }),
            &["iframe URL", "2048"],
        ),
        (
            "webhook URL",
            json!({ "webhook_url": long_url }),
            &["webhook URL", "2048"],
        ),
    ];
    for (case, fields, words) in cases {
        let mut body = new_app("Notes");
        for (k, v) in fields.as_object().unwrap() {
            body[k] = v.clone();
        }
        let res = app
            .call("POST", "/api/developer/apps", &dev, Some(body))
            .await;
        assert_refused(res, words, case).await;
    }
    // At the limits, it is accepted.
    let mut body = new_app(&"n".repeat(100));
    body["description"] = json!("d".repeat(2000));
    let res = app
        .call("POST", "/api/developer/apps", &dev, Some(body))
        .await;
    assert_eq!(res.status(), 201);
}

#[tokio::test]
async fn names_with_nul_or_other_control_characters_are_refused_everywhere() {
    let app = spawn_app().await;
    let dev = signed_in(&app, "dev").await;
    for bad in [
        "Note\u{0}s",
        "Notes\u{1b}[31m",
        "Two\nlines",
        "evil\u{202e}gpj.exe",
    ] {
        let res = app
            .call("POST", "/api/developer/apps", &dev, Some(new_app(bad)))
            .await;
        assert_refused(res, &["app name", "control characters"], bad).await;
        let res = app
            .call(
                "POST",
                "/api/dashboard/companies",
                &dev,
                Some(json!({ "name": bad })),
            )
            .await;
        assert_refused(res, &["company name", "control characters"], bad).await;
    }
    // PATCH applies the same rules.
    let created: Value = app
        .call("POST", "/api/developer/apps", &dev, Some(new_app("Notes")))
        .await
        .json()
        .await
        .unwrap();
    let path = format!(
        "/api/developer/apps/{}",
        created["app"]["client_id"].as_str().unwrap()
    );
    let res = app
        .call("PATCH", &path, &dev, Some(json!({ "name": "a\u{0}b" })))
        .await;
    assert_refused(res, &["control characters"], "patch name").await;
    let res = app
        .call(
            "PATCH",
            &path,
            &dev,
            Some(json!({ "description": "d".repeat(2001) })),
        )
        .await;
    assert_refused(res, &["description", "2000"], "patch description").await;
}

#[tokio::test]
async fn a_developer_cannot_register_more_apps_than_the_quota() {
    let app = spawn_app().await;
    let dev = signed_in(&app, "dev").await;
    let mut last = String::new();
    for i in 0..DEFAULT_APPS_PER_USER {
        let res = app
            .call(
                "POST",
                "/api/developer/apps",
                &dev,
                Some(new_app(&format!("App {i}"))),
            )
            .await;
        assert_eq!(res.status(), 201, "app {i}");
        let v: Value = res.json().await.unwrap();
        last = v["app"]["client_id"].as_str().unwrap().to_string();
    }
    let res = app
        .call(
            "POST",
            "/api/developer/apps",
            &dev,
            Some(new_app("One more")),
        )
        .await;
    assert_eq!(res.status(), 403);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"], "quota_exceeded");
    let msg = body["error_description"].as_str().unwrap();
    assert!(msg.contains("25 apps"), "{msg}");
    // Another developer is not affected, and deleting an app frees a place.
    let other = signed_in(&app, "other").await;
    let res = app
        .call(
            "POST",
            "/api/developer/apps",
            &other,
            Some(new_app("Theirs")),
        )
        .await;
    assert_eq!(res.status(), 201);
    let res = app
        .call("DELETE", &format!("/api/developer/apps/{last}"), &dev, None)
        .await;
    assert_eq!(res.status(), 200);
    let res = app
        .call("POST", "/api/developer/apps", &dev, Some(new_app("Again")))
        .await;
    assert_eq!(res.status(), 201);
}

#[tokio::test]
async fn a_user_cannot_create_more_companies_than_the_quota() {
    let app = spawn_app().await;
    let alice = signed_in(&app, "alice").await;
    for i in 0..DEFAULT_COMPANIES_PER_USER {
        let res = app
            .call(
                "POST",
                "/api/dashboard/companies",
                &alice,
                Some(json!({ "name": format!("Company {i}") })),
            )
            .await;
        assert_eq!(res.status(), 201, "company {i}");
    }
    let res = app
        .call(
            "POST",
            "/api/dashboard/companies",
            &alice,
            Some(json!({ "name": "One more" })),
        )
        .await;
    assert_eq!(res.status(), 403);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"], "quota_exceeded");
    assert!(body["error_description"]
        .as_str()
        .unwrap()
        .contains("10 companies"));
}

#[tokio::test]
async fn concurrent_registrations_cannot_overshoot_the_app_quota() {
    let app = spawn_app().await;
    let dev = signed_in(&app, "dev").await;
    let app = std::sync::Arc::new(app);
    let attempts: Vec<_> = (0..DEFAULT_APPS_PER_USER + 10)
        .map(|i| {
            let app = app.clone();
            let dev = dev.clone();
            tokio::spawn(async move {
                app.call(
                    "POST",
                    "/api/developer/apps",
                    &dev,
                    Some(new_app(&format!("Racer {i}"))),
                )
                .await
                .status()
                .as_u16()
            })
        })
        .collect();
    let mut created = 0;
    for a in attempts {
        if a.await.unwrap() == 201 {
            created += 1;
        }
    }
    assert_eq!(created, DEFAULT_APPS_PER_USER);
}
