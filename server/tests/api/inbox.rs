//! The inbox over HTTP: an installed app posts notifications and sets badges with its token
//! (scope `notifications`), and each member's desktop lists what it may see.

use atrium_proto::paths;
use serde_json::{json, Value};

use crate::helpers::*;

/// `alice` owns Acme, where `bob` is a member; `carol` is in no company. The app is installed
/// in Acme by alice with `scopes`. (app token, alice, bob, carol ids).
async fn installed(app: &TestApp, scopes: &str) -> (String, i64, i64, i64) {
    let dev = app.user("dev").await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let carol = app.user("carol").await;
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
    (token, alice, bob, carol)
}

async fn post(app: &TestApp, token: &str, body: Value) -> reqwest::Response {
    app.call("POST", paths::API_NOTIFICATIONS, token, Some(body))
        .await
}

async fn inbox(app: &TestApp, desktop: &str, query: &str) -> Value {
    let res = app
        .call(
            "GET",
            &format!("{}{query}", paths::NOTIFICATIONS),
            desktop,
            None,
        )
        .await;
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}

async fn badges(app: &TestApp, desktop: String) -> Value {
    let res = app.call("GET", paths::BADGES, &desktop, None).await;
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}

fn titles(page: &Value) -> Vec<&str> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["title"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn an_app_reaches_the_whole_company_or_one_member_and_each_desktop_sees_its_own() {
    let app = spawn_app().await;
    let (token, _, bob, _) = installed(&app, "company notifications").await;
    let res = post(
        &app,
        &token,
        json!({"title": "Deploy done", "body": "v2 is live", "path": "/deploys/2"}),
    )
    .await;
    assert_eq!(res.status(), 201);
    let all: Value = res.json().await.unwrap();
    let res = post(
        &app,
        &token,
        json!({"title": "Review wanted", "user": bob.to_string()}),
    )
    .await;
    assert_eq!(res.status(), 201);

    let alice_desk = app.dashboard_token("alice").await;
    let bob_desk = app.dashboard_token("bob").await;
    let carol_desk = app.dashboard_token("carol").await;
    let for_alice = inbox(&app, &alice_desk, "").await;
    assert_eq!(titles(&for_alice), ["Deploy done"]);
    let n = &for_alice["items"][0];
    assert_eq!(n["id"], all["id"]);
    assert_eq!(n["body"], "v2 is live");
    assert_eq!(n["path"], "/deploys/2");
    assert_eq!(n["app_name"], "Test App");
    assert_eq!(
        (n["personal"].clone(), n["read"].clone()),
        (json!(false), json!(false))
    );
    let for_bob = inbox(&app, &bob_desk, "").await;
    assert_eq!(titles(&for_bob), ["Review wanted", "Deploy done"]);
    assert_eq!(for_bob["items"][0]["personal"], true);
    assert!(titles(&inbox(&app, &carol_desk, "").await).is_empty());

    // Read marks are bob's own.
    let res = app
        .call(
            "POST",
            paths::NOTIFICATIONS_READ,
            &bob_desk,
            Some(json!({"up_to": all["id"]})),
        )
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.json::<Value>().await.unwrap()["marked"], 1);
    let reads = |page: &Value| -> Vec<bool> {
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["read"].as_bool().unwrap())
            .collect()
    };
    assert_eq!(reads(&inbox(&app, &bob_desk, "").await), [false, true]);
    assert_eq!(reads(&inbox(&app, &alice_desk, "").await), [false]);
}

#[tokio::test]
async fn badges_are_set_for_the_company_or_one_member_and_shown_to_each() {
    let app = spawn_app().await;
    let (token, _, bob, _) = installed(&app, "notifications").await;
    let set = |body: Value| app.call("PUT", paths::API_BADGE, &token, Some(body));
    let res = set(json!({"count": 3})).await;
    assert_eq!(res.status(), 200);
    let install = res.json::<Value>().await.unwrap()["install_id"].clone();
    assert_eq!(
        set(json!({"count": 9, "user": bob.to_string()}))
            .await
            .status(),
        200
    );
    assert_eq!(
        badges(&app, app.dashboard_token("alice").await).await,
        json!([{"install_id": install, "count": 3}])
    );
    assert_eq!(
        badges(&app, app.dashboard_token("bob").await).await,
        json!([{"install_id": install, "count": 9}])
    );
    assert_eq!(
        badges(&app, app.dashboard_token("carol").await).await,
        json!([])
    );
    assert_eq!(set(json!({"count": 100_000})).await.status(), 400);
}

#[tokio::test]
async fn posting_needs_the_scope_an_install_bounded_fields_and_a_member() {
    let app = spawn_app().await;
    let (token, _, _, carol) = installed(&app, "company").await;
    let res = post(&app, &token, json!({"title": "x"})).await;
    assert_eq!(res.status(), 403, "no notifications scope");
    assert_eq!(
        res.json::<Value>().await.unwrap()["error"],
        "insufficient_scope"
    );

    let app = spawn_app().await;
    let (token, _, _, carol2) = installed(&app, "notifications").await;
    assert_eq!(carol, carol2);
    for (body, why) in [
        (json!({"title": "  "}), "empty title"),
        (json!({"title": "t".repeat(121)}), "long title"),
        (json!({"title": "a\u{7}b"}), "control character"),
        (json!({"title": "t", "body": "b".repeat(1001)}), "long body"),
        (
            json!({"title": "t", "path": "//evil.example/x"}),
            "path to another host",
        ),
        (
            json!({"title": "t", "path": "https://evil.example/"}),
            "absolute URL",
        ),
        (json!({"title": "t", "colour": "red"}), "unknown field"),
        (json!({"body": "no title"}), "missing title"),
    ] {
        let res = post(&app, &token, body).await;
        assert_eq!(res.status(), 400, "{why}");
        assert_eq!(
            res.json::<Value>().await.unwrap()["error"],
            "invalid_request",
            "{why}"
        );
    }
    for user in [carol.to_string(), "alice".into(), "0".into()] {
        let res = post(&app, &token, json!({"title": "t", "user": user})).await;
        assert_eq!(res.status(), 404, "{user} is not a member");
    }
    let res = post(&app, &"x".repeat(40), json!({"title": "t"})).await;
    assert_eq!(res.status(), 401);
    // Nothing of the refused posts was stored.
    let desk = app.dashboard_token("alice").await;
    assert!(titles(&inbox(&app, &desk, "").await).is_empty());
}

#[tokio::test]
async fn an_install_over_its_hourly_rate_is_answered_429_with_retry_after() {
    let app = spawn_app_configured(|s| s.quotas.notifications_per_install_hour = 3).await;
    let (token, _, _, _) = installed(&app, "notifications").await;
    for i in 0..3 {
        let res = post(&app, &token, json!({"title": format!("n{i}")})).await;
        assert_eq!(res.status(), 201);
    }
    let res = post(&app, &token, json!({"title": "one too many"})).await;
    assert_eq!(res.status(), 429);
    let retry: i64 = res.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=3600).contains(&retry), "{retry}");
    assert_eq!(res.json::<Value>().await.unwrap()["error"], "rate_limited");
    let desk = app.dashboard_token("alice").await;
    assert_eq!(titles(&inbox(&app, &desk, "").await), ["n2", "n1", "n0"]);
}

#[tokio::test]
async fn the_inbox_pages_newest_first_and_an_uninstall_hides_it() {
    let app = spawn_app().await;
    let (token, _, _, _) = installed(&app, "notifications").await;
    for i in 0..5 {
        assert_eq!(
            post(&app, &token, json!({"title": format!("n{i}")}))
                .await
                .status(),
            201
        );
    }
    let desk = app.dashboard_token("alice").await;
    let mut seen = Vec::new();
    let mut query = "?limit=2".to_string();
    loop {
        let page = inbox(&app, &desk, &query).await;
        seen.extend(titles(&page).into_iter().map(String::from));
        match page["next_cursor"].as_str() {
            Some(c) => query = format!("?limit=2&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(seen, ["n4", "n3", "n2", "n1", "n0"]);

    // Uninstalled: the app's token is revoked and its notifications leave the inbox.
    let badge: Value = app
        .call("PUT", paths::API_BADGE, &token, Some(json!({"count": 1})))
        .await
        .json()
        .await
        .unwrap();
    let id = badge["install_id"].as_i64().unwrap();
    let res = app.call("DELETE", &paths::install(id), &desk, None).await;
    assert!(res.status().is_success(), "{}", res.status());
    assert_eq!(
        post(&app, &token, json!({"title": "late"})).await.status(),
        401
    );
    assert!(titles(&inbox(&app, &desk, "").await).is_empty());
}

/// A Server-Sent Events client over one response: the events as (event, id, data).
struct Sse {
    res: reqwest::Response,
    buf: String,
}

impl Sse {
    async fn open(app: &TestApp, desktop: &str, last_event_id: Option<i64>) -> reqwest::Response {
        let mut req = atrium_testkit::http()
            .get(app.url(paths::EVENTS))
            .bearer_auth(desktop);
        if let Some(id) = last_event_id {
            req = req.header("last-event-id", id.to_string());
        }
        req.send().await.unwrap()
    }

    async fn connect(app: &TestApp, desktop: &str, last_event_id: Option<i64>) -> Sse {
        let res = Sse::open(app, desktop, last_event_id).await;
        assert_eq!(res.status(), 200);
        assert!(res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream"));
        Sse {
            res,
            buf: String::new(),
        }
    }

    /// The next event (comments skipped), within 10 seconds.
    async fn next(&mut self) -> (String, Option<i64>, Value) {
        tokio::time::timeout(std::time::Duration::from_secs(10), async {
            loop {
                if let Some(end) = self.buf.find("\n\n") {
                    let block: String = self.buf.drain(..end + 2).collect();
                    let (mut event, mut id, mut data) = (String::new(), None, String::new());
                    for line in block.lines() {
                        if let Some(v) = line.strip_prefix("event:") {
                            event = v.trim().into();
                        } else if let Some(v) = line.strip_prefix("id:") {
                            id = v.trim().parse().ok();
                        } else if let Some(v) = line.strip_prefix("data:") {
                            data.push_str(v.trim());
                        }
                    }
                    if event.is_empty() {
                        continue; // a keep-alive comment
                    }
                    return (event, id, serde_json::from_str(&data).unwrap());
                }
                let chunk = self.res.chunk().await.unwrap().expect("the stream ended");
                self.buf.push_str(std::str::from_utf8(&chunk).unwrap());
            }
        })
        .await
        .expect("an event within 10 s")
    }

    async fn notification(&mut self) -> (i64, String) {
        loop {
            let (event, id, data) = self.next().await;
            if event == "notification" {
                assert_eq!(
                    id,
                    data["id"].as_i64(),
                    "the event id is the notification's"
                );
                return (id.unwrap(), data["title"].as_str().unwrap().into());
            }
        }
    }
}

#[tokio::test]
async fn the_event_stream_brings_new_notifications_and_badges_and_resumes_from_last_event_id() {
    let app = spawn_app().await;
    let (token, _, bob, _) = installed(&app, "notifications").await;
    assert_eq!(
        post(&app, &token, json!({"title": "before"}))
            .await
            .status(),
        201
    );
    let desk = app.dashboard_token("alice").await;
    let mut stream = Sse::connect(&app, &desk, None).await;
    assert_eq!(
        stream.next().await,
        ("badges".into(), None, json!([])),
        "a snapshot first"
    );
    // Without Last-Event-ID: only what comes next ("before" is not replayed).
    post(&app, &token, json!({"title": "first"})).await;
    let (first, title) = stream.notification().await;
    assert_eq!(title, "first");
    // Bob's own notification is not alice's.
    post(
        &app,
        &token,
        json!({"title": "for bob", "user": bob.to_string()}),
    )
    .await;
    app.call("PUT", paths::API_BADGE, &token, Some(json!({"count": 2})))
        .await;
    let (event, _, data) = stream.next().await;
    assert_eq!(event, "badges", "bob's notification was not sent to alice");
    assert_eq!(data[0]["count"], 2);
    drop(stream);

    // Away, then back with the last id received: exactly what was missed, in order.
    post(&app, &token, json!({"title": "gap 1"})).await;
    post(&app, &token, json!({"title": "gap 2"})).await;
    let mut again = Sse::connect(&app, &desk, Some(first)).await;
    assert_eq!(again.notification().await.1, "gap 1");
    assert_eq!(again.notification().await.1, "gap 2");
    let (event, _, _) = again.next().await;
    assert_eq!(event, "badges");
    post(&app, &token, json!({"title": "live"})).await;
    assert_eq!(
        again.notification().await.1,
        "live",
        "nothing twice, nothing else"
    );
}

#[tokio::test]
async fn a_badge_set_again_to_the_same_count_tells_no_stream() {
    let app = spawn_app().await;
    let (token, _, _, _) = installed(&app, "notifications").await;
    let desk = app.dashboard_token("alice").await;
    let mut stream = Sse::connect(&app, &desk, None).await;
    assert_eq!(stream.next().await.0, "badges", "a snapshot first");
    let set = |count: u32| {
        app.call(
            "PUT",
            paths::API_BADGE,
            &token,
            Some(json!({ "count": count })),
        )
    };
    assert_eq!(set(2).await.status(), 200);
    let (event, _, data) = stream.next().await;
    assert_eq!((event.as_str(), &data[0]["count"]), ("badges", &json!(2)));
    // The same count again: answered as set, but the stream has nothing to say; the next
    // event is the notification posted after it.
    for _ in 0..3 {
        let res = set(2).await;
        assert_eq!(res.status(), 200);
        assert_eq!(res.json::<Value>().await.unwrap()["count"], 2);
    }
    post(&app, &token, json!({"title": "after"})).await;
    let (event, _, data) = stream.next().await;
    assert_eq!(
        event, "notification",
        "an unchanged badge was sent again: {data}"
    );
    assert_eq!(data["title"], "after");
}

#[tokio::test]
async fn a_stream_cut_by_a_restart_resumes_with_exactly_what_was_posted_meanwhile() {
    let app = spawn_app().await;
    let (token, _, _, _) = installed(&app, "notifications").await;
    let desk = app.dashboard_token("alice").await;
    let mut stream = Sse::connect(&app, &desk, None).await;
    post(&app, &token, json!({"title": "one"})).await;
    let (last, _) = stream.notification().await;
    // The stop ends the open stream instead of waiting for it.
    let started = std::time::Instant::now();
    let app = app.restart_at_same_address().await;
    assert!(
        started.elapsed() < std::time::Duration::from_secs(5),
        "an open event stream held up the stop for {:?}",
        started.elapsed()
    );
    assert!(
        tokio::time::timeout(std::time::Duration::from_secs(5), stream.res.chunk())
            .await
            .expect("the old stream ended")
            .map_or(true, |c| c.is_none()),
        "the old stream ended"
    );
    post(&app, &token, json!({"title": "two"})).await;
    post(&app, &token, json!({"title": "three"})).await;
    let mut again = Sse::connect(&app, &desk, Some(last)).await;
    assert_eq!(again.notification().await.1, "two");
    assert_eq!(again.notification().await.1, "three");
}

#[tokio::test]
async fn a_user_holds_a_bounded_number_of_streams() {
    let app = spawn_app().await;
    app.user("alice").await;
    let desk = app.dashboard_token("alice").await;
    let mut open = Vec::new();
    for _ in 0..4 {
        open.push(Sse::connect(&app, &desk, None).await);
    }
    let res = Sse::open(&app, &desk, None).await;
    assert_eq!(res.status(), 429);
    assert!(res.headers().contains_key("retry-after"));
    drop(open.pop());
    // The place is given back once the server sees the client gone.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let res = Sse::open(&app, &desk, None).await;
        if res.status() == 200 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the place was never given back"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    // Another user, with no stream open: a Last-Event-ID that is no event id is refused.
    app.user("bob").await;
    let bob = app.dashboard_token("bob").await;
    let bad = atrium_testkit::http()
        .get(app.url(paths::EVENTS))
        .bearer_auth(&bob)
        .header("last-event-id", "soon")
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
}

/// A backlog longer than one read (100) comes through at once: each read goes on past the
/// last batch, where it used to read the first batch again, all sent, until it aged out of
/// the 10 s look-back (a busy loop on the store, and the rest 10 s late).
#[tokio::test]
async fn a_backlog_longer_than_a_batch_is_sent_straight_through() {
    let app = spawn_app_configured(|s| s.quotas.notifications_per_install_hour = 1000).await;
    let (token, _, _, _) = installed(&app, "notifications").await;
    for i in 0..150 {
        let res = post(&app, &token, json!({"title": format!("n{i}")})).await;
        assert_eq!(res.status(), 201);
    }
    let desk = app.dashboard_token("alice").await;
    let mut stream = Sse::connect(&app, &desk, Some(0)).await;
    let started = std::time::Instant::now();
    for i in 0..150 {
        assert_eq!(stream.notification().await.1, format!("n{i}"));
    }
    assert!(
        started.elapsed() < std::time::Duration::from_secs(5),
        "150 notifications took {:?}: the stream stalled after the first batch",
        started.elapsed()
    );
}
