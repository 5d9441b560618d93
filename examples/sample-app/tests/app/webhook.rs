//! `POST /webhook` and the event lists.

use atrium_sample_app::{signature, unix_now};

use crate::helpers::*;

#[tokio::test]
async fn a_signed_notification_is_recorded_and_listed_newest_first() {
    let app = spawn().await;
    for id in ["evt_first", "evt_second"] {
        let body = event(id, "app.installed", APP1);
        let (status, answer) = app.webhook(&body, signed(WEBHOOK_SECRET_1, &body)).await;
        assert_eq!(status, 200, "{answer}");
        assert_eq!(answer["duplicate"], false);
    }
    let list: serde_json::Value = app
        .http
        .get(app.url("/webhook/events.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list[0]["event"]["id"], "evt_second");
    assert_eq!(list[1]["event"]["id"], "evt_first");
    assert_eq!(list[0]["event"]["type"], "app.installed");
    assert_eq!(list[0]["event"]["company"]["name"], "Demo Company");

    let (status, headers, page) = app.get("/webhook/events").await;
    assert_eq!(status, 200);
    assert!(headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    let (second, first) = (
        page.find("evt_second").unwrap(),
        page.find("evt_first").unwrap(),
    );
    assert!(second < first, "newest first");
}

#[tokio::test]
async fn each_app_is_checked_with_its_own_webhook_secret() {
    let app = spawn().await;
    let body = event("evt_app2", "app.installed", APP2);
    let (status, _) = app.webhook(&body, signed(WEBHOOK_SECRET_2, &body)).await;
    assert_eq!(status, 200);
    let (status, answer) = app.webhook(&body, signed(WEBHOOK_SECRET_1, &body)).await;
    assert_eq!(
        status, 401,
        "App1's secret must not pass for App2: {answer}"
    );
}

#[tokio::test]
async fn a_duplicate_event_is_acknowledged_but_recorded_once() {
    let app = spawn().await;
    let body = event("evt_again", "app.installed", APP1);
    let (status, _) = app.webhook(&body, signed(WEBHOOK_SECRET_1, &body)).await;
    assert_eq!(status, 200);
    let (status, answer) = app.webhook(&body, signed(WEBHOOK_SECRET_1, &body)).await;
    assert_eq!(status, 200);
    assert_eq!(answer["duplicate"], true);
    assert_eq!(app.state.events.newest_first().len(), 1);
}

#[tokio::test]
async fn a_wrong_or_missing_signature_is_refused_with_401() {
    let app = spawn().await;
    let body = event("evt_forged", "app.installed", APP1);
    let (status, answer) = app.webhook(&body, signed("not the secret", &body)).await;
    assert_eq!(status, 401);
    assert_eq!(answer["error"], "invalid_signature");
    let (status, _) = app.webhook(&body, None).await;
    assert_eq!(status, 401);
    let (status, _) = app.webhook(&body, Some("v1=deadbeef".into())).await;
    assert_eq!(status, 401);
    // Signed for another body.
    let other = event("evt_other", "app.installed", APP1);
    let (status, _) = app.webhook(&body, signed(WEBHOOK_SECRET_1, &other)).await;
    assert_eq!(status, 401);
    assert!(app.state.events.newest_first().is_empty());
}

#[tokio::test]
async fn a_timestamp_more_than_five_minutes_old_is_refused_with_401() {
    let app = spawn().await;
    let body = event("evt_old", "app.installed", APP1);
    let old = signature::sign(
        WEBHOOK_SECRET_1.as_bytes(),
        unix_now() - 301,
        body.as_bytes(),
    );
    let (status, answer) = app.webhook(&body, Some(old)).await;
    assert_eq!(status, 401, "{answer}");
    let future = signature::sign(
        WEBHOOK_SECRET_1.as_bytes(),
        unix_now() + 301,
        body.as_bytes(),
    );
    let (status, _) = app.webhook(&body, Some(future)).await;
    assert_eq!(status, 401);
    assert!(app.state.events.newest_first().is_empty());
}

#[tokio::test]
async fn a_body_that_is_not_an_event_is_refused_with_400() {
    let app = spawn().await;
    for body in [
        "not json".to_string(),
        "{}".to_string(),
        r#"{"id":"evt_1","type":"app.installed"}"#.to_string(),
        event("", "app.installed", APP1),
    ] {
        let (status, answer) = app.webhook(&body, signed(WEBHOOK_SECRET_1, &body)).await;
        assert_eq!(status, 400, "{body}: {answer}");
        assert_eq!(answer["error"], "malformed_event");
    }
}

#[tokio::test]
async fn an_event_about_an_app_this_program_does_not_serve_is_refused_with_401() {
    let app = spawn().await;
    let body = event("evt_stranger", "app.installed", "someone-else");
    let (status, answer) = app.webhook(&body, signed(WEBHOOK_SECRET_1, &body)).await;
    assert_eq!(status, 401);
    assert_eq!(answer["error"], "unknown_app");
}

#[tokio::test]
async fn an_oversized_body_is_refused() {
    let app = spawn().await;
    let body = "x".repeat(100 * 1024);
    let (status, _) = app.webhook(&body, signed(WEBHOOK_SECRET_1, &body)).await;
    assert_eq!(status, 413);
}

#[tokio::test]
async fn an_uninstall_notification_makes_the_app_forget_the_companys_tokens() {
    let app = spawn().await;
    app.install_app2(demo_user(true)).await;
    assert_eq!(app.state.tokens.len(), 1);
    let body = event("evt_bye", "app.uninstalled", APP2);
    let (status, _) = app.webhook(&body, signed(WEBHOOK_SECRET_2, &body)).await;
    assert_eq!(status, 200);
    assert!(app.state.tokens.is_empty());
}
