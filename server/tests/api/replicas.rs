//! Several replicas on one PostgreSQL database, over real HTTP. Replica A is an in-process
//! server (`spawn_app_on_postgres`, through which the tests seed); the others are real
//! `atrium-server` processes on the same schema and the same key file (`--key-file`), each
//! with its own pool, caches, invalidation listener and outbox worker. They share the
//! sign-in back-off's counts too. A's worker is kept
//! idle (it polls once an hour and nothing nudges it), so that the outbox tests know which
//! replica sends. Skipped without `ATRIUM_TEST_POSTGRES_URL`; under `CI=true` that is a
//! failure.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::helpers::*;
use crate::real_server::RealServer;

/// How long a change on one replica may take to reach another. Well under the 5 s an
/// entry may live in a replica's cache ([`atrium_server::store::cache::MAX_AGE`]), so only
/// the invalidation, never the entry's expiry, can make these tests pass.
const PROMPTLY: Duration = Duration::from_secs(1);

/// Replica A, in process, on a fresh schema; `None` when there is no test database.
async fn replica_a() -> Option<TestApp> {
    spawn_app_on_postgres_configured(true, |s| {
        s.webhook_policy.poll = Duration::from_secs(3600);
    })
    .await
}

/// One more replica, a real process on A's database with A's key file.
fn replica_of(a: &TestApp, args: &[&str]) -> (RealServer, Atrium) {
    let url = a.postgres_url().expect("A runs on PostgreSQL");
    let mut all = vec!["--allow-private-webhooks"];
    all.extend_from_slice(args);
    let server = RealServer::start_on_postgres(&url, &a.key_path(), &all);
    let api = Atrium::new(&server.url(""));
    (server, api)
}

/// Polls `check` until it holds or `within` has passed; whether it held.
async fn eventually<F, Fut>(within: Duration, mut check: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + within;
    loop {
        if check().await {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn a_token_revoked_through_one_replica_is_refused_by_another_that_had_it_cached() {
    let Some(a) = replica_a().await else { return };
    let (_b, b) = replica_of(&a, &[]);
    let (client, code) = a.alice_allows(AppSpec::code("profile"), "profile").await;
    let tokens = a.exchange(&client, &code, None).await;
    let token = tokens["access_token"].as_str().unwrap().to_string();
    // B answers from the database, then from its cache.
    for _ in 0..3 {
        assert_eq!(b.api("/api/username", &token).await.status(), 200);
    }

    assert_eq!(a.revoke(&client, &token, None).await.status(), 200);
    let refused = eventually(PROMPTLY, || async {
        b.api("/api/username", &token).await.status() == 401
    })
    .await;
    assert!(refused, "replica B still accepts a token revoked through A");
    assert_eq!(a.api("/api/username", &token).await.status(), 401);
}

#[tokio::test]
async fn a_client_secret_rotated_through_one_replica_changes_on_another_at_once() {
    let Some(a) = replica_a().await else { return };
    let (_b, b) = replica_of(&a, &[]);
    let dev = a.user("dev").await;
    let old = a.register(dev, AppSpec::code("profile")).await;
    // B knows the client (and caches it).
    for _ in 0..3 {
        assert_eq!(b.client_credentials(&old, None).await.status(), 200);
    }

    let dev_token = a.dashboard_token("dev").await;
    let res = a
        .call(
            "POST",
            &format!("/api/developer/apps/{}/secret", old.client_id),
            &dev_token,
            None,
        )
        .await;
    assert_eq!(res.status(), 200);
    let rotated: Value = res.json().await.unwrap();
    let new = TestClient {
        client_id: old.client_id.clone(),
        secret: Some(rotated["client_secret"].as_str().unwrap().into()),
    };
    let refused = eventually(PROMPTLY, || async {
        b.client_credentials(&old, None).await.status() == 401
    })
    .await;
    assert!(
        refused,
        "replica B still accepts the secret rotated away on A"
    );
    assert_eq!(b.client_credentials(&new, None).await.status(), 200);

    // Deleting the app on A: B refuses its client too.
    let res = a
        .call(
            "DELETE",
            &format!("/api/developer/apps/{}", old.client_id),
            &dev_token,
            None,
        )
        .await;
    assert!(res.status().is_success(), "{}", res.status());
    let gone = eventually(PROMPTLY, || async {
        b.client_credentials(&new, None).await.status() == 401
    })
    .await;
    assert!(gone, "replica B still serves a client deleted on A");
}

#[tokio::test]
async fn a_browser_signed_in_through_one_replica_is_signed_in_on_another() {
    let Some(a) = replica_a().await else { return };
    let (_b, b) = replica_of(&a, &[]);
    let dev = a.user("dev").await;
    a.user("alice").await;
    let client = a.register(dev, AppSpec::code("profile")).await;
    let browser = a.browser("alice").await;
    let query = [
        ("response_type", "code"),
        ("client_id", client.client_id.as_str()),
        ("redirect_uri", REDIRECT),
        ("scope", "profile"),
        ("state", "s"),
    ];
    let authorize =
        |cookies: &reqwest::Client| cookies.get(b.url("/oauth2/authorize")).query(&query).send();

    // Without A's session, B shows its login page.
    let stranger = Browser::new(&b.url(""));
    let res = authorize(&stranger.client).await.unwrap();
    assert_eq!(res.status(), 200);
    let page = res.text().await.unwrap();
    assert!(page.contains("Sign in to Atrium"), "{page}");
    // With it (cookies are per host, not per port: one browser, two replicas), B asks for
    // consent: the session A created is B's too.
    let res = authorize(&browser.client).await.unwrap();
    assert_eq!(res.status(), 200);
    let page = res.text().await.unwrap();
    assert!(!page.contains("Sign in to Atrium"), "{page}");
    assert!(page.contains("Signed in as alice"), "{page}");
}

/// The `Retry-After` of a refused sign-in, in seconds.
fn retry_after(res: &reqwest::Response) -> u64 {
    res.headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .expect("a Retry-After in seconds")
}

#[tokio::test]
async fn failed_sign_ins_spread_over_two_replicas_add_up_to_one_back_off() {
    // Three free failures per username on both replicas.
    let Some(a) = spawn_app_on_postgres_configured(true, |s| {
        s.webhook_policy.poll = Duration::from_secs(3600);
        s.login.user_free_failures = 3;
    })
    .await
    else {
        return;
    };
    let (_b, b) = replica_of(&a, &["--login-user-failures", "3"]);
    let b_base = b.url("");
    a.user("ada").await;
    // Two wrong passwords through each replica: neither sees more than its free three alone,
    // but together they are four, one past them.
    for (i, base) in [&a.base, &b_base, &a.base, &b_base].into_iter().enumerate() {
        let res = Browser::new(base).login("ada", "wrong password").await;
        assert_eq!(res.status(), 401, "failure {i}");
    }
    // So both make ada wait the one second the fourth failure costs, even with the right
    // password (the attacker's budget is one, not one per replica).
    for (name, base) in [("B", &b_base), ("A", &a.base)] {
        let res = Browser::new(base).login("ada", PASSWORD).await;
        assert_eq!(res.status(), 429, "replica {name} lets ada's guesser go on");
        assert!((1..=2).contains(&retry_after(&res)), "replica {name}");
    }
    // After the wait, signing in through A forgets the count for B too: B's next failure is
    // the first again (a fifth would have to wait).
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(
        Browser::new(&a.base).login("ada", PASSWORD).await.status(),
        303
    );
    let res = Browser::new(&b_base).login("ada", "wrong password").await;
    assert_eq!(res.status(), 401);
    assert_eq!(
        Browser::new(&b_base).login("ada", PASSWORD).await.status(),
        303
    );
}

// ---------------------------------------------------------------------------------------------
// The outbox

/// A webhook receiver that records the event ids it is sent. With `hang_first`, the first
/// connection is accepted and never answered (a delivery stuck in flight).
struct Hooks {
    url: String,
    got: Arc<Mutex<Vec<String>>>,
    connections: Arc<Mutex<usize>>,
}

impl Hooks {
    async fn start(hang_first: bool) -> Hooks {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        let got: Arc<Mutex<Vec<String>>> = Arc::default();
        let connections: Arc<Mutex<usize>> = Arc::default();
        let (sink, count) = (got.clone(), connections.clone());
        tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((mut sock, _)) = listener.accept().await {
                let n = {
                    let mut c = count.lock().unwrap();
                    *c += 1;
                    *c
                };
                if hang_first && n == 1 {
                    held.push(sock);
                    continue;
                }
                let sink = sink.clone();
                tokio::spawn(async move {
                    if let Some(id) = read_event_id(&mut sock).await {
                        sink.lock().unwrap().push(id);
                        let _ = sock
                            .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok")
                            .await;
                    }
                });
            }
        });
        Hooks {
            url,
            got,
            connections,
        }
    }

    fn ids(&self) -> Vec<String> {
        self.got.lock().unwrap().clone()
    }

    fn connections(&self) -> usize {
        *self.connections.lock().unwrap()
    }
}

/// Reads one HTTP request; the `id` of its JSON body.
async fn read_event_id(sock: &mut tokio::net::TcpStream) -> Option<String> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let n = sock.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
        let text = String::from_utf8_lossy(&buf);
        let Some(head_end) = text.find("\r\n\r\n") else {
            continue;
        };
        let length = text[..head_end]
            .lines()
            .find_map(|l| {
                let (k, v) = l.split_once(':')?;
                k.eq_ignore_ascii_case("content-length")
                    .then(|| v.trim().parse::<usize>().ok())?
            })
            .unwrap_or(0);
        if buf.len() >= head_end + 4 + length {
            let body: Value = serde_json::from_slice(&buf[head_end + 4..]).ok()?;
            return body["id"].as_str().map(str::to_string);
        }
    }
}

/// The platform side of the outbox tests: an app with a webhook at `hook`, registered by
/// `dev` through A, and alice's dashboard token.
struct Installs {
    client_id: String,
    alice: String,
}

impl Installs {
    async fn new(a: &TestApp, hook: &str) -> Installs {
        a.user("dev").await;
        a.user("alice").await;
        let dev = a.dashboard_token("dev").await;
        let alice = a.dashboard_token("alice").await;
        let res = a
            .call(
                "POST",
                "/api/developer/apps",
                &dev,
                Some(
                    AppSpec::code("profile")
                        .name("Hook App")
                        .description("")
                        .without_iframe()
                        .webhook_url(hook)
                        .to_json(),
                ),
            )
            .await;
        assert_eq!(res.status(), 201);
        let created: Value = res.json().await.unwrap();
        Installs {
            client_id: created["app"]["client_id"].as_str().unwrap().to_string(),
            alice,
        }
    }

    /// Alice installs the app into a new company of hers through `replica`, which queues
    /// `app.installed` and nudges that replica's worker. Acknowledged: the answer is 200.
    async fn install_through(&self, replica: &Atrium, n: usize) {
        let res = replica
            .call(
                "POST",
                "/api/dashboard/companies",
                &self.alice,
                Some(json!({"name": format!("Company {n}")})),
            )
            .await;
        assert_eq!(res.status(), 201);
        let company = res.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
        let res = replica
            .install(
                &self.alice,
                json!({"client_id": self.client_id, "company_id": company, "state": "s"}),
            )
            .await;
        assert_eq!(res.status(), 200);
    }
}

/// Events queued and neither delivered nor given up on.
async fn pending(a: &TestApp) -> u64 {
    a.store.outbox_backlog().await.unwrap().pending
}

#[tokio::test]
async fn a_replica_killed_mid_delivery_loses_its_lease_and_another_replica_sends_the_event() {
    let Some(a) = replica_a().await else { return };
    let hooks = Hooks::start(true).await;
    let installs = Installs::new(&a, &hooks.url).await;
    // A short lease (raised to the 1 s timeout plus 5 s), so the test waits seconds, not a
    // minute.
    let short = ["--webhook-timeout", "1", "--webhook-lease", "1"];
    let (mut k, k_api) = replica_of(&a, &short);
    installs.install_through(&k_api, 1).await;
    // K claims the event and sends it; the receiver holds the connection unanswered.
    assert!(
        eventually(Duration::from_secs(10), || async {
            hooks.connections() >= 1
        })
        .await,
        "replica K never sent the event"
    );
    // B starts while K holds the lease, then K dies mid-delivery without releasing it.
    let (_b, _) = replica_of(&a, &short);
    k.kill();

    let delivered = eventually(Duration::from_secs(30), || async {
        !hooks.ids().is_empty() && pending(&a).await == 0
    })
    .await;
    assert!(
        delivered,
        "the event of the killed replica was never sent by the other: {:?}, {} pending",
        hooks.ids(),
        pending(&a).await
    );
    assert_eq!(hooks.ids().len(), 1, "{:?}", hooks.ids());
    assert!(hooks.ids()[0].starts_with("evt_"), "{:?}", hooks.ids());
}

#[tokio::test]
async fn two_replicas_draining_one_outbox_send_each_event_once() {
    let Some(a) = replica_a().await else { return };
    let hooks = Hooks::start(false).await;
    let installs = Installs::new(&a, &hooks.url).await;
    let (_b, b) = replica_of(&a, &[]);
    let (_c, c) = replica_of(&a, &[]);
    // Fewer than the 10 companies one user may own (one per install).
    const EVENTS: usize = 8;
    for n in 0..EVENTS {
        let replica = if n % 2 == 0 { &b } else { &c };
        installs.install_through(replica, n).await;
    }

    let drained = eventually(Duration::from_secs(30), || async {
        hooks.ids().len() >= EVENTS && pending(&a).await == 0
    })
    .await;
    assert!(
        drained,
        "{} of {EVENTS} events arrived, {} pending",
        hooks.ids().len(),
        pending(&a).await
    );
    // A second copy of an event would have been claimed while the first was in flight: give
    // both workers a poll interval (1 s) and a margin to send one.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let mut seen: HashMap<String, usize> = HashMap::new();
    for id in hooks.ids() {
        *seen.entry(id).or_default() += 1;
    }
    assert_eq!(seen.len(), EVENTS, "{seen:?}");
    assert!(
        seen.values().all(|&n| n == 1),
        "sent more than once: {seen:?}"
    );
}
