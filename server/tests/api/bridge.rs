//! An open app's desktop bridge reaches the inbox through the dashboard API
//! (`POST /api/dashboard/installs/{id}/notify`, `PUT .../badge`, the desktop's token): for the
//! signed-in user alone, for an install of theirs granted `notifications`, under the install's
//! hourly rate.

use atrium_proto::paths;
use serde_json::{json, Value};

use crate::helpers::*;

/// `alice` owns Acme, where `bob` is a member; `carol` is in no company. The app is installed
/// in Acme by alice with `scopes`: (the app's token, the install's id).
async fn installed(app: &TestApp, scopes: &str) -> (String, i64) {
    let dev = app.user("dev").await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    app.user("carol").await;
    let acme = app.company("Acme", alice).await;
    app.store
        .add_member(acme, bob, atrium_server::store::Role::Member)
        .await
        .unwrap();
    let client = app
        .register(dev, AppSpec::code("profile company notifications"))
        .await;
    let browser = app.browser("alice").await;
    let code = app.code_for(&browser, &client, scopes, None).await;
    let token = app.exchange(&client, &code, None).await["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    let install = app.store.installs_of_company(acme).await.unwrap()[0].id;
    (token, install)
}

async fn notify(app: &TestApp, desktop: &str, install: i64, body: Value) -> reqwest::Response {
    app.call("POST", &paths::install_notify(install), desktop, Some(body))
        .await
}

async fn badge(app: &TestApp, desktop: &str, install: i64, body: Value) -> reqwest::Response {
    app.call("PUT", &paths::install_badge(install), desktop, Some(body))
        .await
}

async fn inbox(app: &TestApp, desktop: &str) -> Vec<Value> {
    let res = app.call("GET", paths::NOTIFICATIONS, desktop, None).await;
    assert_eq!(res.status(), 200);
    let page: Value = res.json().await.unwrap();
    page["items"].as_array().unwrap().clone()
}

async fn badges(app: &TestApp, desktop: &str) -> Value {
    let res = app.call("GET", paths::BADGES, desktop, None).await;
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}

#[tokio::test]
async fn an_open_apps_bridge_notifies_and_badges_the_signed_in_user_alone() {
    the_bridge_reaches_the_signed_in_user_alone_on(spawn_app().await).await;
}

/// The same on PostgreSQL (skipped without `ATRIUM_TEST_POSTGRES_URL`).
#[tokio::test]
async fn an_open_apps_bridge_notifies_and_badges_the_signed_in_user_alone_on_postgresql() {
    if let Some(app) = spawn_app_on_postgres(false).await {
        the_bridge_reaches_the_signed_in_user_alone_on(app).await;
    }
}

async fn the_bridge_reaches_the_signed_in_user_alone_on(app: TestApp) {
    let (_, install) = installed(&app, "notifications").await;
    let alice = app.dashboard_token("alice").await;
    let bob = app.dashboard_token("bob").await;
    let res = notify(
        &app,
        &alice,
        install,
        json!({"title": "Your export is ready", "body": "3 files", "path": "/exports/3"}),
    )
    .await;
    assert_eq!(res.status(), 201);
    let posted: Value = res.json().await.unwrap();
    let mine = inbox(&app, &alice).await;
    assert_eq!(mine.len(), 1, "{mine:?}");
    assert_eq!(mine[0]["id"], posted["id"]);
    assert_eq!(mine[0]["install_id"], install);
    assert_eq!(mine[0]["title"], "Your export is ready");
    assert_eq!(mine[0]["path"], "/exports/3");
    assert_eq!(mine[0]["personal"], true);
    assert!(inbox(&app, &bob).await.is_empty(), "bob saw alice's");

    let res = badge(&app, &alice, install, json!({"count": 4})).await;
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.json::<Value>().await.unwrap(),
        json!({"install_id": install, "count": 4})
    );
    assert_eq!(
        badges(&app, &alice).await,
        json!([{"install_id": install, "count": 4}])
    );
    assert_eq!(badges(&app, &bob).await, json!([]));
}

#[tokio::test]
async fn the_bridge_is_refused_for_others_installs_without_the_scope_and_out_of_bounds() {
    let app = spawn_app().await;
    let (app_token, install) = installed(&app, "notifications").await;
    let alice = app.dashboard_token("alice").await;
    let carol = app.dashboard_token("carol").await;
    // Not a member of the install's company: as if it did not exist.
    assert_eq!(
        notify(&app, &carol, install, json!({"title": "t"}))
            .await
            .status(),
        404
    );
    assert_eq!(
        badge(&app, &carol, install, json!({"count": 1}))
            .await
            .status(),
        404
    );
    assert_eq!(
        notify(&app, &alice, install + 1000, json!({"title": "t"}))
            .await
            .status(),
        404
    );
    // The app's own token is not the desktop's.
    assert_eq!(
        notify(&app, &app_token, install, json!({"title": "t"}))
            .await
            .status(),
        403
    );
    for (body, why) in [
        (json!({"title": ""}), "empty title"),
        (json!({"title": "t".repeat(121)}), "long title"),
        (json!({"title": "t", "path": "//evil.example/"}), "path"),
        (
            json!({"title": "t", "user": "2"}),
            "a recipient other than the user",
        ),
    ] {
        let res = notify(&app, &alice, install, body).await;
        assert_eq!(res.status(), 400, "{why}");
    }
    assert_eq!(
        badge(&app, &alice, install, json!({"count": 100_000}))
            .await
            .status(),
        400
    );
    assert!(inbox(&app, &alice).await.is_empty());

    // An install granted no `notifications` may not notify through the bridge either.
    let app = spawn_app().await;
    let (_, install) = installed(&app, "profile").await;
    let alice = app.dashboard_token("alice").await;
    let res = notify(&app, &alice, install, json!({"title": "t"})).await;
    assert_eq!(res.status(), 403);
    assert_eq!(
        badge(&app, &alice, install, json!({"count": 1}))
            .await
            .status(),
        403
    );
}

#[tokio::test]
async fn the_bridge_shares_the_installs_hourly_rate_and_ends_with_the_install() {
    let app = spawn_app_configured(|s| s.quotas.notifications_per_install_hour = 2).await;
    let (app_token, install) = installed(&app, "notifications").await;
    let alice = app.dashboard_token("alice").await;
    let res = app
        .call(
            "POST",
            paths::API_NOTIFICATIONS,
            &app_token,
            Some(json!({"title": "from the backend"})),
        )
        .await;
    assert_eq!(res.status(), 201);
    assert_eq!(
        notify(&app, &alice, install, json!({"title": "from the page"}))
            .await
            .status(),
        201
    );
    let res = notify(&app, &alice, install, json!({"title": "one too many"})).await;
    assert_eq!(res.status(), 429);
    assert!(res.headers().contains_key("retry-after"));

    let res = app
        .call("DELETE", &paths::install(install), &alice, None)
        .await;
    assert!(res.status().is_success(), "{}", res.status());
    assert_eq!(
        badge(&app, &alice, install, json!({"count": 1}))
            .await
            .status(),
        404
    );
}
