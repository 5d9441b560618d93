//! Install notifications against real receivers on 127.0.0.1: where the server may send them
//! (no SSRF into its own network), what a developer sees of a failure, that a slow endpoint
//! delays only its own notifications, and that a backlog drains once an endpoint is back.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use atrium_server::webhooks::Policy;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::helpers::*;

// ---------------------------------------------------------------------------------------------
// Receivers

/// What happened at the receivers of a test, in order.
#[derive(Clone, Default)]
struct Timeline(Arc<Mutex<Vec<String>>>);

impl Timeline {
    fn push(&self, entry: String) {
        self.0.lock().unwrap().push(entry);
    }

    fn entries(&self) -> Vec<String> {
        self.0.lock().unwrap().clone()
    }

    fn position(&self, entry: &str) -> Option<usize> {
        self.entries().iter().position(|e| e == entry)
    }
}

/// How a receiver answers.
#[derive(Clone, Copy)]
enum Answer {
    /// Reads the request, answers this status.
    Status(u16),
    /// Reads the request and never answers (a tarpit), until the client gives up.
    Hang,
    /// Answers plain text at once, whatever comes (a TLS client sees a broken handshake).
    PlainText,
}

/// A bare HTTP/1.1 receiver on 127.0.0.1. It logs `<name> connected` for every connection,
/// `<name> got <event id>` for every request read, and `<name> closed` when a client closes a
/// connection it was holding (a tarpit's client giving up).
struct Receiver {
    port: u16,
    connections: Arc<AtomicUsize>,
    max_open: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Receiver {
    async fn start(name: &'static str, answer: Answer, timeline: &Timeline) -> Receiver {
        Receiver::start_on(0, name, answer, timeline).await
    }

    async fn start_on(port: u16, name: &'static str, answer: Answer, tl: &Timeline) -> Receiver {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
            .await
            .unwrap();
        let port = listener.local_addr().unwrap().port();
        let connections = Arc::new(AtomicUsize::new(0));
        let open = Arc::new(AtomicUsize::new(0));
        let max_open = Arc::new(AtomicUsize::new(0));
        let (c, m, timeline) = (connections.clone(), max_open.clone(), tl.clone());
        let task = tokio::spawn(async move {
            while let Ok((mut sock, _)) = listener.accept().await {
                c.fetch_add(1, Ordering::SeqCst);
                let now_open = open.fetch_add(1, Ordering::SeqCst) + 1;
                m.fetch_max(now_open, Ordering::SeqCst);
                timeline.push(format!("{name} connected"));
                let (open, timeline) = (open.clone(), timeline.clone());
                tokio::spawn(async move {
                    serve(&mut sock, name, answer, &timeline).await;
                    open.fetch_sub(1, Ordering::SeqCst);
                });
            }
        });
        Receiver {
            port,
            connections,
            max_open,
            task,
        }
    }

    fn url(&self, scheme: &str) -> String {
        format!("{scheme}://127.0.0.1:{}/hook", self.port)
    }

    fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }
}

async fn serve(sock: &mut tokio::net::TcpStream, name: &str, answer: Answer, tl: &Timeline) {
    if let Answer::PlainText = answer {
        let _ = sock
            .write_all(b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n")
            .await;
        return;
    }
    let Some(body) = read_request(sock).await else {
        return;
    };
    let id = serde_json::from_slice::<Value>(&body)
        .ok()
        .and_then(|v| v["id"].as_str().map(str::to_string))
        .unwrap_or_default();
    tl.push(format!("{name} got {id}"));
    match answer {
        Answer::Status(status) => {
            let head =
                format!("HTTP/1.1 {status} X\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
            let _ = sock.write_all(head.as_bytes()).await;
        }
        Answer::Hang => {
            let mut buf = [0u8; 1024];
            while matches!(sock.read(&mut buf).await, Ok(n) if n > 0) {}
            tl.push(format!("{name} closed"));
        }
        Answer::PlainText => {}
    }
}

/// Reads one request; its body.
async fn read_request(sock: &mut tokio::net::TcpStream) -> Option<Vec<u8>> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
            let len = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse::<usize>().ok())
                .unwrap_or(0);
            while buf.len() < end + 4 + len {
                let n = sock.read(&mut chunk).await.ok().filter(|n| *n > 0)?;
                buf.extend_from_slice(&chunk[..n]);
            }
            return Some(buf[end + 4..end + 4 + len].to_vec());
        }
        let n = sock.read(&mut chunk).await.ok().filter(|n| *n > 0)?;
        buf.extend_from_slice(&chunk[..n]);
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

// ---------------------------------------------------------------------------------------------
// The platform side: a developer, a user with companies, apps and installs

struct World {
    app: TestApp,
    dev_id: i64,
    dev: String,
    alice: String,
}

/// One row of the outbox, as stored.
#[derive(Debug)]
struct Row {
    event_id: String,
    attempts: i64,
    delivered: bool,
    last_error: Option<String>,
    next_attempt_at: i64,
}

async fn world(app: TestApp) -> World {
    let dev_id = app.user("dev").await;
    app.user("alice").await;
    let dev = app.dashboard_token("dev").await;
    let alice = app.dashboard_token("alice").await;
    World {
        app,
        dev_id,
        dev,
        alice,
    }
}

impl World {
    /// The developer registers an app through the developer API.
    async fn register(&self, webhook_url: &str) -> reqwest::Response {
        self.app
            .call(
                "POST",
                "/api/developer/apps",
                &self.dev,
                Some(
                    AppSpec::code("profile")
                        .name("Hook App")
                        .description("")
                        .without_iframe()
                        .webhook_url(webhook_url)
                        .to_json(),
                ),
            )
            .await
    }

    /// An app registered through the API; its client id.
    async fn app_with_webhook(&self, webhook_url: &str) -> String {
        let res = self.register(webhook_url).await;
        assert_eq!(res.status(), 201, "{webhook_url}");
        let created: Value = res.json().await.unwrap();
        created["app"]["client_id"].as_str().unwrap().to_string()
    }

    /// An app whose webhook URL was written straight to the database, as a row stored before
    /// the server's rule (or its setting) changed; its client id.
    async fn app_stored_with_webhook(&self, webhook_url: &str) -> String {
        let client = self
            .app
            .register(self.dev_id, AppSpec::code("profile"))
            .await;
        let (id, url) = (client.client_id.clone(), webhook_url.to_string());
        self.app
            .db()
            .call(move |c| {
                c.execute(
                    "UPDATE apps SET webhook_url = ?1 WHERE client_id = ?2",
                    [url, id],
                )?;
                Ok::<_, atrium_server::db::DbError>(())
            })
            .await
            .unwrap();
        client.client_id
    }

    /// Alice installs the app into a new company of hers, which queues `app.installed`.
    async fn install(&self, client_id: &str) {
        let res = self
            .app
            .call(
                "POST",
                "/api/dashboard/companies",
                &self.alice,
                Some(json!({"name": format!("Company {}", rand_suffix())})),
            )
            .await;
        assert_eq!(res.status(), 201);
        let company = res.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
        let res = self
            .app
            .install(
                &self.alice,
                json!({"client_id": client_id, "company_id": company, "state": "s"}),
            )
            .await;
        assert_eq!(res.status(), 200);
    }

    /// The outbox rows of an app, oldest first.
    async fn outbox(&self, client_id: &str) -> Vec<Row> {
        let id = client_id.to_string();
        self.app
            .db()
            .call(move |c| {
                let mut st = c.prepare(
                    "SELECT o.event_id, o.attempts, o.delivered_at IS NOT NULL, o.last_error,
                            o.next_attempt_at
                     FROM outbox o JOIN apps a ON a.id = o.app_id
                     WHERE a.client_id = ?1 ORDER BY o.id",
                )?;
                let rows = st.query_map([id], |r| {
                    Ok(Row {
                        event_id: r.get(0)?,
                        attempts: r.get(1)?,
                        delivered: r.get(2)?,
                        last_error: r.get(3)?,
                        next_attempt_at: r.get(4)?,
                    })
                })?;
                Ok::<_, atrium_server::db::DbError>(rows.collect::<Result<Vec<_>, _>>()?)
            })
            .await
            .unwrap()
    }

    /// Waits until every outbox row of the app satisfies `done` (up to ~20 s); the rows.
    async fn wait_for_rows(
        &self,
        client_id: &str,
        what: &str,
        done: impl Fn(&Row) -> bool,
    ) -> Vec<Row> {
        for _ in 0..200 {
            let rows = self.outbox(client_id).await;
            if !rows.is_empty() && rows.iter().all(&done) {
                return rows;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("{what}: {:?}", self.outbox(client_id).await);
    }

    /// The developer's deliveries view of an app.
    async fn deliveries(&self, client_id: &str) -> Vec<Value> {
        let res = self
            .app
            .call(
                "GET",
                &format!("/api/developer/apps/{client_id}/deliveries"),
                &self.dev,
                None,
            )
            .await;
        assert_eq!(res.status(), 200);
        res.json::<Vec<Value>>().await.unwrap()
    }
}

fn rand_suffix() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos()
}

fn unix_now() -> i64 {
    (rand_suffix() / 1_000_000_000) as i64
}

/// Waits until the timeline has `entry` (up to `secs`).
async fn wait_for_entry(tl: &Timeline, entry: &str, secs: u64) -> bool {
    for _ in 0..secs * 20 {
        if tl.position(entry).is_some() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

// ---------------------------------------------------------------------------------------------
// SSRF: webhooks go only to https on public addresses

#[tokio::test]
async fn registering_a_webhook_that_points_into_the_servers_own_network_is_refused() {
    let w = world(spawn_app().await).await;
    let port = free_port();
    for bad in [
        format!("https://[::ffff:127.0.0.1]:{port}/hook"),
        format!("https://[::ffff:7f00:1]:{port}/hook"),
        format!("https://127.0.0.1:{port}/hook"),
        format!("https://127.1:{port}/hook"),
        format!("https://2130706433:{port}/hook"),
        format!("https://[::1]:{port}/hook"),
        format!("http://127.0.0.1:{port}/hook"),
        format!("https://localhost:{port}/hook"),
        format!("https://localhost.:{port}/hook"),
        "https://169.254.169.254/latest/meta-data/".to_string(),
        "https://[::ffff:169.254.169.254]/latest/meta-data/".to_string(),
        "https://10.0.0.5/hook".to_string(),
        "https://172.16.0.1/hook".to_string(),
        "https://192.168.1.1/hook".to_string(),
        "https://100.64.0.1/hook".to_string(),
        "https://[fd00::1]/hook".to_string(),
        "https://[fe80::1]/hook".to_string(),
        "https://metadata/computeMetadata/v1/".to_string(),
        "https://db.internal/hook".to_string(),
        "http://hooks.example.com/hook".to_string(),
    ] {
        let res = w.register(&bad).await;
        assert_eq!(res.status(), 400, "registered {bad}");
        let err: Value = res.json().await.unwrap();
        assert!(
            err["error_description"]
                .as_str()
                .unwrap_or_default()
                .contains("webhook URL"),
            "{bad}: {err}"
        );
    }
    // An app that already exists cannot be pointed there either.
    let client_id = w.app_with_webhook("https://hooks.example.com/atrium").await;
    let res = w
        .app
        .call(
            "PATCH",
            &format!("/api/developer/apps/{client_id}"),
            &w.dev,
            Some(json!({"webhook_url": format!("https://[::ffff:127.0.0.1]:{port}/hook")})),
        )
        .await;
    assert_eq!(res.status(), 400);
    let app: Value = w
        .app
        .call(
            "GET",
            &format!("/api/developer/apps/{client_id}"),
            &w.dev,
            None,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(app["webhook_url"], "https://hooks.example.com/atrium");
}

#[tokio::test]
async fn the_worker_refuses_at_send_time_a_stored_webhook_that_reaches_loopback() {
    let w = world(spawn_app().await).await;
    let tl = Timeline::default();
    let receiver = Receiver::start("internal", Answer::Status(200), &tl).await;
    let port = receiver.port;
    // Rows that got in before the rule: a name that resolves to 127.0.0.1 (through
    // /etc/hosts), an IPv4-mapped IPv6 literal, and plain http to loopback.
    let mut apps = Vec::new();
    for url in [
        format!("https://localhost:{port}/hook"),
        format!("https://[::ffff:127.0.0.1]:{port}/hook"),
        format!("http://127.0.0.1:{port}/hook"),
    ] {
        let client_id = w.app_stored_with_webhook(&url).await;
        w.install(&client_id).await;
        apps.push(client_id);
    }
    for client_id in &apps {
        let rows = w
            .wait_for_rows(client_id, "the worker never tried", |r| {
                r.attempts >= 1 || r.delivered
            })
            .await;
        assert!(!rows[0].delivered, "delivered to loopback: {rows:?}");
        assert_eq!(
            rows[0].last_error.as_deref(),
            Some("destination not allowed")
        );
        let seen = w.deliveries(client_id).await;
        assert_eq!(seen[0]["last_error"], "destination not allowed", "{seen:?}");
        assert_eq!(seen[0]["state"], "retrying");
    }
    assert_eq!(
        receiver.connections(),
        0,
        "the loopback receiver was reached: {:?}",
        tl.entries()
    );
}

#[tokio::test]
async fn a_developer_sees_classified_delivery_errors_never_raw_transport_errors() {
    let policy = Policy {
        first_retry_secs: 3600,
        max_retry_secs: 3600,
        timeout: Duration::from_secs(2),
        ..Policy::default()
    };
    let w = world(spawn_app_allowing_private_webhooks(policy).await).await;
    let tl = Timeline::default();
    let not_found = Receiver::start("404", Answer::Status(404), &tl).await;
    let redirect = Receiver::start("302", Answer::Status(302), &tl).await;
    let tarpit = Receiver::start("tarpit", Answer::Hang, &tl).await;
    let plain = Receiver::start("plain", Answer::PlainText, &tl).await;
    let refused = format!("http://127.0.0.1:{}/hook", free_port());
    for (url, expected) in [
        (refused, "connection refused"),
        (not_found.url("http"), "HTTP 404"),
        (
            redirect.url("http"),
            "HTTP 302 (redirects are not followed)",
        ),
        (tarpit.url("http"), "timeout"),
        (plain.url("https"), "TLS error"),
        (
            "https://no-such-host.invalid/hook".to_string(),
            "name not resolved",
        ),
    ] {
        let client_id = w.app_with_webhook(&url).await;
        w.install(&client_id).await;
        w.wait_for_rows(&client_id, "the worker never tried", |r| r.attempts >= 1)
            .await;
        let seen = w.deliveries(&client_id).await;
        assert_eq!(seen.len(), 1, "{seen:?}");
        assert_eq!(seen[0]["last_error"], expected, "{url}");
        assert_eq!(seen[0]["state"], "retrying");
        assert_eq!(seen[0]["attempts"], 1);
    }
}

// ---------------------------------------------------------------------------------------------
// Head-of-line blocking: concurrency with caps, and draining after an outage

#[tokio::test]
async fn a_tarpitting_endpoint_delays_only_its_own_notifications() {
    let policy = Policy {
        timeout: Duration::from_secs(10),
        max_per_destination: 2,
        ..Policy::default()
    };
    let w = world(spawn_app_allowing_private_webhooks(policy).await).await;
    let tl = Timeline::default();
    let tarpit = Receiver::start("slow", Answer::Hang, &tl).await;
    let fast = Receiver::start("fast", Answer::Status(200), &tl).await;
    let slow_app = w.app_with_webhook(&tarpit.url("http")).await;
    let fast_app = w.app_with_webhook(&fast.url("http")).await;
    for _ in 0..3 {
        w.install(&slow_app).await;
    }
    assert!(
        wait_for_entry(&tl, "slow connected", 10).await,
        "the slow endpoint was never tried"
    );
    // The slow app's notifications are in flight: not yet attempted, as the developer sees.
    let pending = w.deliveries(&slow_app).await;
    assert_eq!(pending.len(), 3);
    for d in &pending {
        assert_eq!(d["state"], "pending", "{d}");
        assert_eq!(d["attempts"], 0);
        assert!(d["next_attempt_at"].as_i64().unwrap() <= unix_now());
    }

    w.install(&fast_app).await;
    let event = w.outbox(&fast_app).await.remove(0).event_id;
    let arrived = format!("fast got {event}");
    assert!(
        wait_for_entry(&tl, &arrived, 30).await,
        "the fast app's notification never arrived: {:?}",
        tl.entries()
    );
    let entries = tl.entries();
    let fast_at = tl.position(&arrived).unwrap();
    let first_slow_close = entries.iter().position(|e| e == "slow closed");
    assert!(
        first_slow_close.is_none_or(|closed| closed > fast_at),
        "the fast app's notification waited for the slow endpoint: {entries:?}"
    );
    assert_eq!(
        tarpit.max_open.load(Ordering::SeqCst),
        2,
        "three notifications were due for the slow app, at most two in flight: {entries:?}"
    );
}

#[tokio::test]
async fn after_an_outage_pending_notifications_drain_without_waiting_out_their_backoff() {
    // Failures wait a minute before a retry: longer than this test waits for anything.
    let policy = Policy {
        first_retry_secs: 60,
        ..Policy::default()
    };
    let w = world(spawn_app_allowing_private_webhooks(policy).await).await;
    let port = free_port();
    let client_id = w
        .app_with_webhook(&format!("http://127.0.0.1:{port}/hook"))
        .await;
    for _ in 0..3 {
        w.install(&client_id).await;
    }
    // The endpoint is down: every notification fails and is scheduled a minute later.
    let down = w
        .wait_for_rows(&client_id, "not every notification was tried", |r| {
            r.attempts >= 1 || r.next_attempt_at > unix_now() + 30
        })
        .await;
    let backoff_until = down.iter().map(|r| r.next_attempt_at).min().unwrap();
    assert!(down.iter().all(|r| !r.delivered));

    // The endpoint comes back, and one new notification gets through.
    let tl = Timeline::default();
    let _up = Receiver::start_on(port, "app", Answer::Status(200), &tl).await;
    w.install(&client_id).await;
    let rows = w
        .wait_for_rows(&client_id, "the backlog did not drain", |r| r.delivered)
        .await;
    assert_eq!(rows.len(), 4);
    assert!(
        unix_now() < backoff_until,
        "drained only when the old backoff expired"
    );
    for r in &rows {
        assert!(
            tl.position(&format!("app got {}", r.event_id)).is_some(),
            "{} never reached the app: {:?}",
            r.event_id,
            tl.entries()
        );
    }
}

#[tokio::test]
async fn retry_now_makes_a_retrying_notification_due_at_once() {
    let policy = Policy {
        first_retry_secs: 3600,
        max_retry_secs: 3600,
        ..Policy::default()
    };
    let w = world(spawn_app_allowing_private_webhooks(policy).await).await;
    let port = free_port();
    let client_id = w
        .app_with_webhook(&format!("http://127.0.0.1:{port}/hook"))
        .await;
    w.install(&client_id).await;
    w.wait_for_rows(&client_id, "the worker never tried", |r| r.attempts >= 1)
        .await;
    let seen = w.deliveries(&client_id).await;
    assert_eq!(seen.len(), 1);
    let d = &seen[0];
    assert_eq!(d["state"], "retrying");
    assert_eq!(d["attempts"], 1);
    assert_eq!(d["last_error"], "connection refused");
    assert!(d["next_attempt_at"].as_i64().unwrap() > unix_now() + 3000);
    let event_id = d["event_id"].as_str().unwrap().to_string();

    // Nobody else may retry it, nor retry an event that is not this app's.
    w.app.user("mallory").await;
    let mallory = w.app.dashboard_token("mallory").await;
    let path = format!("/api/developer/apps/{client_id}/deliveries/{event_id}/retry");
    let res = w.app.call("POST", &path, &mallory, None).await;
    assert_eq!(res.status(), 404);
    let res = w
        .app
        .call(
            "POST",
            &format!("/api/developer/apps/{client_id}/deliveries/evt_nope/retry"),
            &w.dev,
            None,
        )
        .await;
    assert_eq!(res.status(), 404);

    // The app is back; the developer retries now and the notification arrives.
    let tl = Timeline::default();
    let _up = Receiver::start_on(port, "app", Answer::Status(200), &tl).await;
    let res = w.app.call("POST", &path, &w.dev, None).await;
    assert_eq!(res.status(), 200);
    let due: Value = res.json().await.unwrap();
    assert_eq!(due["event_id"], event_id.as_str());
    assert!(due["next_attempt_at"].as_i64().unwrap() <= unix_now());
    assert!(
        wait_for_entry(&tl, &format!("app got {event_id}"), 20).await,
        "the retried notification never arrived"
    );
    w.wait_for_rows(&client_id, "not recorded as delivered", |r| r.delivered)
        .await;
    assert!(w.deliveries(&client_id).await.is_empty());
    // A delivered notification is not retried again.
    let res = w.app.call("POST", &path, &w.dev, None).await;
    assert_eq!(res.status(), 404);
}
