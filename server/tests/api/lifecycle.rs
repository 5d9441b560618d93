//! The app lifecycle against the real server and a real webhook receiver on a port: developer
//! registration, install with consent, signed durable notifications, launch tokens, uninstall,
//! and who may do what.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;
use warp::Filter;

use crate::helpers::*;

/// Every test here sends install notifications to a receiver on 127.0.0.1, which the server
/// refuses unless its operator allows private webhooks: these servers opt in. (They shadow the
/// strict `spawn_app` and `spawn_app_with` of the helpers.)
async fn spawn_app() -> TestApp {
    spawn_app_allowing_private_webhooks(atrium_server::webhooks::Policy::default()).await
}

async fn spawn_app_with(policy: atrium_server::webhooks::Policy) -> TestApp {
    spawn_app_allowing_private_webhooks(policy).await
}

/// What the receiver got: the signature header and the raw body.
type Received = Arc<Mutex<Vec<(String, String)>>>;

/// A webhook receiver on `port` (0 for any), recording every POST /hook.
pub(crate) struct Receiver {
    pub(crate) url: String,
    got: Received,
    _stop: tokio::sync::oneshot::Sender<()>,
}

pub(crate) async fn receiver_on(port: u16) -> Receiver {
    let got: Received = Arc::default();
    let sink = got.clone();
    let route = warp::path!("hook")
        .and(warp::post())
        .and(warp::header::<String>("atrium-signature"))
        .and(warp::body::bytes())
        .map(move |sig: String, body: warp::hyper::body::Bytes| {
            sink.lock()
                .unwrap()
                .push((sig, String::from_utf8_lossy(&body).into_owned()));
            "ok"
        });
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(
        warp::serve(route)
            .incoming(listener)
            .graceful(async {
                let _ = rx.await;
            })
            .run(),
    );
    Receiver {
        url: format!("http://{addr}/hook"),
        got,
        _stop: tx,
    }
}

impl Receiver {
    /// Waits for an event of `kind`; returns its body, after checking its signature.
    pub(crate) async fn wait_for(&self, kind: &str, secret: &str) -> Value {
        for _ in 0..200 {
            let found = self.got.lock().unwrap().iter().find_map(|(sig, body)| {
                let v: Value = serde_json::from_str(body).ok()?;
                (v["type"] == kind).then(|| (sig.clone(), body.clone(), v))
            });
            if let Some((sig, body, v)) = found {
                assert!(
                    signature_is_valid(&sig, &body, secret),
                    "bad signature {sig}"
                );
                return v;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("no {kind} event arrived");
    }

    fn event_ids(&self) -> Vec<String> {
        self.got
            .lock()
            .unwrap()
            .iter()
            .filter_map(|(_, b)| serde_json::from_str::<Value>(b).ok())
            .map(|v| v["id"].as_str().unwrap_or_default().to_string())
            .collect()
    }
}

/// Checks `t=<unix>,v1=<hex HMAC-SHA256("<t>.<body>")>` independently of the server's code.
fn signature_is_valid(header: &str, body: &str, secret: &str) -> bool {
    let mut t = None;
    let mut v1 = None;
    for part in header.split(',') {
        match part.split_once('=') {
            Some(("t", x)) => t = Some(x.to_string()),
            Some(("v1", x)) => v1 = Some(x.to_string()),
            _ => {}
        }
    }
    let (Some(t), Some(v1)) = (t, v1) else {
        return false;
    };
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{t}.{body}").as_bytes());
    hex::encode(mac.finalize().into_bytes()) == v1
}

struct World {
    app: TestApp,
    dev: String,
    alice: String,
    client_id: String,
    client_secret: String,
    webhook_secret: String,
    company: i64,
}

/// A developer registers an app through the developer API; alice creates a company.
async fn world(app: TestApp, webhook_url: &str, method: &str) -> World {
    app.user("dev").await;
    app.user("alice").await;
    let dev = app.dashboard_token("dev").await;
    let alice = app.dashboard_token("alice").await;
    let res = app
        .call(
            "POST",
            "/api/developer/apps",
            &dev,
            Some(json!({
                "name": "Lifecycle App",
                "description": "Tests the lifecycle",
                "redirect_uris": [REDIRECT],
                "iframe_url": "https://app.example/ui",
                "webhook_url": webhook_url,
                "scopes": "profile company",
                "method": method,
            })),
        )
        .await;
    assert_eq!(res.status(), 201);
    let created: Value = res.json().await.unwrap();
    let res = app
        .call(
            "POST",
            "/api/dashboard/companies",
            &alice,
            Some(json!({"name": "Acme"})),
        )
        .await;
    assert_eq!(res.status(), 201);
    let company = res.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    World {
        dev,
        alice,
        client_id: created["app"]["client_id"].as_str().unwrap().into(),
        client_secret: created["client_secret"].as_str().unwrap_or_default().into(),
        webhook_secret: created["webhook_secret"].as_str().unwrap().into(),
        company,
        app,
    }
}

impl World {
    /// The registered app as a confidential client.
    fn client(&self) -> TestClient {
        TestClient {
            client_id: self.client_id.clone(),
            secret: Some(self.client_secret.clone()),
        }
    }

    /// A `client_credentials` token request; its status.
    async fn client_credentials(&self, client: &TestClient) -> reqwest::StatusCode {
        self.app
            .token(client, &[("grant_type", "client_credentials")])
            .await
            .status()
    }

    async fn install(&self, token: &str) -> reqwest::Response {
        self.app
            .install(
                token,
                json!({
                    "client_id": self.client_id,
                    "company_id": self.company,
                    "state": "st",
                }),
            )
            .await
    }

    /// Installs as alice and exchanges the code as the app would: (install id, access token).
    async fn install_and_exchange(&self) -> (i64, String) {
        let res = self.install(&self.alice).await;
        assert_eq!(res.status(), 200);
        let answer: Value = res.json().await.unwrap();
        let redirect = answer["redirect_to"].as_str().unwrap();
        assert!(redirect.starts_with(REDIRECT));
        assert_eq!(query_param(redirect, "state").unwrap(), "st");
        let code = query_param(redirect, "code").unwrap();
        let t = self.app.exchange(&self.client(), &code, None).await;
        (
            answer["install"]["id"].as_i64().unwrap(),
            t["access_token"].as_str().unwrap().to_string(),
        )
    }

    /// Launches `install` as alice: the URL the dashboard opens.
    async fn launch_url(&self, install: i64) -> String {
        let res = self
            .app
            .call(
                "POST",
                &format!("/api/dashboard/installs/{install}/launch"),
                &self.alice,
                None,
            )
            .await;
        assert_eq!(res.status(), 200);
        let launch: Value = res.json().await.unwrap();
        launch["url"].as_str().unwrap().to_string()
    }
}

#[tokio::test]
async fn install_notifies_the_app_which_reads_data_until_uninstall_revokes_its_token() {
    install_notifies_the_app_which_reads_data_until_uninstall_revokes_its_token_on(
        spawn_app().await,
    )
    .await;
}

/// The same flow on PostgreSQL (skipped without `ATRIUM_TEST_POSTGRES_URL`).
#[tokio::test]
async fn install_notifies_and_uninstall_revokes_on_postgresql() {
    if let Some(app) = spawn_app_on_postgres(true).await {
        install_notifies_the_app_which_reads_data_until_uninstall_revokes_its_token_on(app).await;
    }
}

async fn install_notifies_the_app_which_reads_data_until_uninstall_revokes_its_token_on(
    app: TestApp,
) {
    let hook = receiver_on(0).await;
    let w = world(app, &hook.url, "code").await;

    let consent: Value = w
        .app
        .call(
            "GET",
            &format!(
                "/api/dashboard/apps/{}/consent?company_id={}",
                w.client_id, w.company
            ),
            &w.alice,
            None,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(consent["app"]["name"], "Lifecycle App");
    assert_eq!(consent["app"]["developer"], "dev");
    assert_eq!(consent["company"]["name"], "Acme");
    assert!(consent["scopes"][0]["description"].as_str().unwrap().len() > 10);

    let (install, token) = w.install_and_exchange().await;
    let event = hook.wait_for("app.installed", &w.webhook_secret).await;
    assert_eq!(event["app"]["client_id"], w.client_id.as_str());
    assert_eq!(event["company"]["name"], "Acme");
    assert_eq!(event["user"]["username"], "alice");
    assert_eq!(event["install_id"], install);
    assert!(event["id"].as_str().unwrap().starts_with("evt_"));

    let res = w.app.api("/api/username", &token).await;
    assert_eq!(res.json::<Value>().await.unwrap()["username"], "alice");
    let res = w.app.api("/api/company", &token).await;
    assert_eq!(res.json::<Value>().await.unwrap()["name"], "Acme");

    let installs: Value = w
        .app
        .call(
            "GET",
            &format!("/api/dashboard/companies/{}/installs", w.company),
            &w.alice,
            None,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(installs["items"].as_array().unwrap().len(), 1);

    let res = w
        .app
        .call(
            "DELETE",
            &format!("/api/dashboard/installs/{install}"),
            &w.alice,
            None,
        )
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.json::<Value>().await.unwrap()["state"], "uninstalled");
    assert_eq!(w.app.api("/api/username", &token).await.status(), 401);
    let event = hook.wait_for("app.uninstalled", &w.webhook_secret).await;
    assert_eq!(event["install_id"], install);
}

#[tokio::test]
async fn notifications_survive_a_receiver_outage_and_a_server_restart() {
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}/hook");
    let w = world(spawn_app().await, &url, "code").await;
    w.install_and_exchange().await;
    // Nobody listens: the first attempts fail.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let attempts: i64 = w
        .app
        .db()
        .call(|c| {
            Ok::<_, atrium_server::db::DbError>(c.query_row(
                "SELECT attempts FROM outbox",
                [],
                |r| r.get(0),
            )?)
        })
        .await
        .unwrap();
    assert!(
        attempts >= 1,
        "the worker tried while the receiver was down"
    );

    let app = w.app.restart().await;
    let hook = receiver_on(port).await;
    let event = hook.wait_for("app.installed", &w.webhook_secret).await;
    let ids = hook.event_ids();
    assert!(
        ids.iter().all(|id| id == event["id"].as_str().unwrap()),
        "only that event, maybe twice: {ids:?}"
    );
    drop(app);
}

#[tokio::test]
async fn deliveries_that_give_up_are_listed_for_the_developer() {
    let policy = atrium_server::webhooks::Policy {
        give_up_after_secs: 0,
        ..Default::default()
    };
    let url = format!("http://127.0.0.1:{}/hook", free_port());
    let w = world(spawn_app_with(policy).await, &url, "code").await;
    w.install_and_exchange().await;
    let path = format!("/api/developer/apps/{}/deliveries", w.client_id);
    for _ in 0..50 {
        let list: Value = w
            .app
            .call("GET", &path, &w.dev, None)
            .await
            .json()
            .await
            .unwrap();
        if let Some(d) = list
            .as_array()
            .unwrap()
            .first()
            .filter(|d| d["state"] == "failed")
        {
            assert_eq!(d["event_type"], "app.installed");
            assert_eq!(d["next_attempt_at"], Value::Null);
            assert_eq!(d["last_error"], "connection refused");
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the failed delivery was never listed");
}

#[tokio::test]
async fn a_member_who_is_not_an_owner_cannot_install_or_uninstall() {
    let w = world(spawn_app().await, "http://127.0.0.1:9/hook", "code").await;
    w.app.user("bob").await;
    let res = w
        .app
        .call(
            "POST",
            &format!("/api/dashboard/companies/{}/invitations", w.company),
            &w.alice,
            Some(json!({"username": "bob"})),
        )
        .await;
    assert_eq!(res.status(), 202);
    let bob = w.app.dashboard_token("bob").await;
    let mine: Value = w
        .app
        .call("GET", "/api/dashboard/invitations", &bob, None)
        .await
        .json()
        .await
        .unwrap();
    let accept = format!("/api/dashboard/invitations/{}/accept", mine[0]["id"]);
    let res = w.app.call("POST", &accept, &bob, None).await;
    assert_eq!(res.status(), 200);
    let res = w.install(&bob).await;
    assert_eq!(res.status(), 403);
    let (install, _) = w.install_and_exchange().await;
    // Bob sees the install and can open it, but not remove it.
    assert_eq!(
        w.app
            .call(
                "GET",
                &format!("/api/dashboard/installs/{install}"),
                &bob,
                None
            )
            .await
            .status(),
        200
    );
    assert_eq!(
        w.app
            .call(
                "POST",
                &format!("/api/dashboard/installs/{install}/launch"),
                &bob,
                None
            )
            .await
            .status(),
        200
    );
    assert_eq!(
        w.app
            .call(
                "DELETE",
                &format!("/api/dashboard/installs/{install}"),
                &bob,
                None
            )
            .await
            .status(),
        403
    );
}

#[tokio::test]
async fn a_user_cannot_see_or_touch_another_companys_installs() {
    let w = world(spawn_app().await, "http://127.0.0.1:9/hook", "code").await;
    let (install, _) = w.install_and_exchange().await;
    w.app.user("mallory").await;
    let mallory = w.app.dashboard_token("mallory").await;
    for (method, path) in [
        ("GET", format!("/api/dashboard/installs/{install}")),
        ("DELETE", format!("/api/dashboard/installs/{install}")),
        ("POST", format!("/api/dashboard/installs/{install}/launch")),
        (
            "GET",
            format!("/api/dashboard/companies/{}/installs", w.company),
        ),
        (
            "GET",
            format!("/api/dashboard/companies/{}/members", w.company),
        ),
    ] {
        let res = w.app.call(method, &path, &mallory, None).await;
        assert_eq!(res.status(), 404, "{method} {path}");
    }
    assert_eq!(w.install(&mallory).await.status(), 404);
    let still: Value = w
        .app
        .call(
            "GET",
            &format!("/api/dashboard/installs/{install}"),
            &w.alice,
            None,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(still["state"], "active");
}

#[tokio::test]
async fn a_developer_cannot_read_or_change_another_developers_app() {
    let w = world(spawn_app().await, "http://127.0.0.1:9/hook", "code").await;
    let other = w.app.dashboard_token("alice").await;
    let base = format!("/api/developer/apps/{}", w.client_id);
    for (method, path, body) in [
        ("GET", base.clone(), None),
        ("PATCH", base.clone(), Some(json!({"name": "Stolen"}))),
        ("DELETE", base.clone(), None),
        ("POST", format!("{base}/secret"), None),
        ("GET", format!("{base}/deliveries"), None),
    ] {
        let res = w.app.call(method, &path, &other, body).await;
        assert_eq!(res.status(), 404, "{method} {path}");
    }
    let mine: Value = w
        .app
        .call("GET", &base, &w.dev, None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(mine["name"], "Lifecycle App");
    let theirs: Value = w
        .app
        .call("GET", "/api/developer/apps", &other, None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(theirs["items"].as_array().unwrap().len(), 0);
}

#[tokio::test]
async fn rotating_the_client_secret_stops_the_old_one_at_once() {
    let w = world(spawn_app().await, "http://127.0.0.1:9/hook", "code").await;
    let old = w.client();
    // The old secret works first (and the server now holds the client in its cache).
    assert_eq!(w.client_credentials(&old).await, 200);
    let res = w
        .app
        .call(
            "POST",
            &format!("/api/developer/apps/{}/secret", w.client_id),
            &w.dev,
            None,
        )
        .await;
    let rotated: Value = res.json().await.unwrap();
    assert_eq!(rotated["previous_secret_revoked"], true);
    let new = TestClient {
        client_id: w.client_id.clone(),
        secret: Some(rotated["client_secret"].as_str().unwrap().into()),
    };
    assert_eq!(w.client_credentials(&old).await, 401);
    assert_eq!(w.client_credentials(&new).await, 200);
}

#[tokio::test]
async fn developers_edit_their_apps_and_bad_registrations_are_refused() {
    let w = world(spawn_app().await, "http://127.0.0.1:9/hook", "code").await;
    let path = format!("/api/developer/apps/{}", w.client_id);
    let res = w
        .app
        .call(
            "PATCH",
            &path,
            &w.dev,
            Some(json!({"name": "Renamed", "method": "both", "webhook_url": ""})),
        )
        .await;
    assert_eq!(res.status(), 200);
    let app: Value = res.json().await.unwrap();
    assert_eq!(app["name"], "Renamed");
    assert_eq!(app["method"], "both");
    assert_eq!(app["webhook_url"], Value::Null);
    for bad in [
        json!({"name": "X", "redirect_uris": ["http://evil.example/cb"], "scopes": "profile", "method": "code"}),
        json!({"name": "X", "redirect_uris": ["https://x.example/cb#frag"], "scopes": "profile", "method": "code"}),
        json!({"name": "X", "redirect_uris": ["https://x.example/cb"], "scopes": "dashboard", "method": "code"}),
        json!({"name": "X", "redirect_uris": ["https://x.example/cb"], "scopes": "profile", "method": "magic"}),
        json!({"name": "X", "redirect_uris": ["https://x.example/cb"], "iframe_url": "http://x.example/", "scopes": "profile", "method": "code"}),
        json!({"name": "", "redirect_uris": ["https://x.example/cb"], "scopes": "profile", "method": "code"}),
    ] {
        let res = w
            .app
            .call("POST", "/api/developer/apps", &w.dev, Some(bad.clone()))
            .await;
        assert_eq!(res.status(), 400, "{bad}");
    }
    let res = w
        .app
        .call(
            "POST",
            "/api/developer/apps",
            &w.dev,
            Some(json!("not an object")),
        )
        .await;
    assert_eq!(res.status(), 400);
}

#[tokio::test]
async fn reinstalling_works_and_a_wider_consent_widens_the_install() {
    let w = world(spawn_app().await, "http://127.0.0.1:9/hook", "code").await;
    let body =
        |scope: &str| json!({"client_id": w.client_id, "company_id": w.company, "scope": scope});
    let first: Value = w
        .app
        .install(&w.alice, body("profile"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(first["install"]["scopes"], json!(["profile"]));
    let wider: Value = w
        .app
        .install(&w.alice, body("company"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        wider["install"]["id"], first["install"]["id"],
        "one active install per app and company"
    );
    assert_eq!(wider["install"]["scopes"], json!(["company", "profile"]));
    let id = first["install"]["id"].as_i64().unwrap();
    assert_eq!(
        w.app
            .call(
                "DELETE",
                &format!("/api/dashboard/installs/{id}"),
                &w.alice,
                None
            )
            .await
            .status(),
        200
    );
    assert_eq!(
        w.app
            .call(
                "DELETE",
                &format!("/api/dashboard/installs/{id}"),
                &w.alice,
                None
            )
            .await
            .status(),
        409
    );
    let again: Value = w
        .app
        .install(&w.alice, body("profile"))
        .await
        .json()
        .await
        .unwrap();
    assert_ne!(again["install"]["id"], first["install"]["id"]);
    assert_eq!(again["install"]["state"], "active");
}

#[tokio::test]
async fn a_token_method_install_answers_the_token_in_the_fragment() {
    let w = world(spawn_app().await, "http://127.0.0.1:9/hook", "token").await;
    let answer: Value = w.install(&w.alice).await.json().await.unwrap();
    assert_eq!(answer["method"], "token");
    let redirect = answer["redirect_to"].as_str().unwrap();
    let f = fragment_params(redirect);
    let token = &f.iter().find(|(k, _)| k == "access_token").unwrap().1;
    assert_eq!(w.app.api("/api/username", token).await.status(), 200);
    assert!(f.iter().all(|(k, _)| k != "refresh_token"));
}

#[tokio::test]
async fn launch_tokens_are_signed_by_the_published_key_and_short_lived() {
    let w = world(spawn_app().await, "http://127.0.0.1:9/hook", "code").await;
    let (install, _) = w.install_and_exchange().await;
    let url = w.launch_url(install).await;
    // In the fragment, which no browser sends to a server; never in the query.
    assert!(
        url.starts_with("https://app.example/ui#atrium_launch="),
        "{url}"
    );
    assert_eq!(query_param(&url, "atrium_launch"), None);
    let jwt = launch_token(&url);
    let parts: Vec<&str> = jwt.split('.').collect();
    let jwks: Value = http()
        .get(w.app.url("/.well-known/jwks.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let x = URL_SAFE_NO_PAD
        .decode(jwks["keys"][0]["x"].as_str().unwrap())
        .unwrap();
    let key = ed25519_dalek::VerifyingKey::from_bytes(&x.try_into().unwrap()).unwrap();
    let sig =
        ed25519_dalek::Signature::from_slice(&URL_SAFE_NO_PAD.decode(parts[2]).unwrap()).unwrap();
    use ed25519_dalek::Verifier;
    key.verify(format!("{}.{}", parts[0], parts[1]).as_bytes(), &sig)
        .expect("valid signature");
    let header: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[0]).unwrap()).unwrap();
    assert_eq!(header["alg"], "EdDSA");
    assert_eq!(header["kid"], jwks["keys"][0]["kid"]);
    let claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
    assert_eq!(claims["aud"], w.client_id.as_str());
    assert_eq!(claims["install"], install);
    assert_eq!(claims["company"], w.company);
    assert_eq!(claims["username"], "alice");
    assert_eq!(claims["iss"], w.app.base.as_str());
    let lifetime = claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap();
    assert!((1..=60).contains(&lifetime), "{lifetime}");
}

#[tokio::test]
async fn each_launch_token_has_a_jti_of_its_own() {
    let w = world(spawn_app().await, "http://127.0.0.1:9/hook", "code").await;
    let (install, _) = w.install_and_exchange().await;
    let claims = |jwt: String| -> Value {
        let payload = jwt.split('.').nth(1).unwrap().to_string();
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
    };
    let first = claims(launch_token(&w.launch_url(install).await));
    let second = claims(launch_token(&w.launch_url(install).await));
    let (a, b) = (
        first["jti"].as_str().unwrap(),
        second["jti"].as_str().unwrap(),
    );
    assert!(a.len() >= 16, "{a}");
    assert_ne!(a, b);
}

/// The launch token of a launch URL's fragment.
fn launch_token(url: &str) -> String {
    fragment_params(url)
        .into_iter()
        .find(|(k, _)| k == "atrium_launch")
        .map(|(_, v)| v)
        .unwrap_or_else(|| panic!("no launch token in the fragment of {url}"))
}

#[tokio::test]
async fn deleting_an_app_uninstalls_it_everywhere_and_notifies_each_install() {
    let hook = receiver_on(0).await;
    let w = world(spawn_app().await, &hook.url, "code").await;
    let (install, token) = w.install_and_exchange().await;
    hook.wait_for("app.installed", &w.webhook_secret).await;
    assert_eq!(w.app.api("/api/username", &token).await.status(), 200);
    let res = w
        .app
        .call(
            "DELETE",
            &format!("/api/developer/apps/{}", w.client_id),
            &w.dev,
            None,
        )
        .await;
    assert_eq!(res.status(), 200);
    let event = hook.wait_for("app.uninstalled", &w.webhook_secret).await;
    assert_eq!(event["install_id"], install);
    assert_eq!(w.app.api("/api/username", &token).await.status(), 401);
    // Its client no longer authenticates.
    assert_eq!(w.client_credentials(&w.client()).await, 401);
    let catalog: Value = w
        .app
        .call("GET", "/api/dashboard/catalog", &w.alice, None)
        .await
        .json()
        .await
        .unwrap();
    assert!(catalog["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|a| a["client_id"] != w.client_id.as_str()));
}

#[tokio::test]
async fn the_first_party_api_refuses_third_party_tokens() {
    let w = world(spawn_app().await, "http://127.0.0.1:9/hook", "code").await;
    let (_, token) = w.install_and_exchange().await;
    let res = w
        .app
        .call("GET", "/api/dashboard/catalog", &token, None)
        .await;
    assert_eq!(res.status(), 403);
    assert!(res.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .contains("insufficient_scope"));
    let res = http()
        .get(w.app.url("/api/developer/apps"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The dashboard's install names no redirect URI (the app, not the dashboard, knows its
/// callbacks): an app that registered several is installed to the first, and a request that
/// names another registered one goes there.
#[tokio::test]
async fn a_dashboard_install_of_an_app_with_several_redirect_uris_lands_on_the_first() {
    let w = world(spawn_app().await, "http://127.0.0.1:9/hook", "code").await;
    let second = "https://app.example/other-callback";
    let res = w
        .app
        .call(
            "PATCH",
            &format!("/api/developer/apps/{}", w.client_id),
            &w.dev,
            Some(json!({"redirect_uris": [REDIRECT, second]})),
        )
        .await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    let res = w.install(&w.alice).await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    let answer: Value = res.json().await.unwrap();
    let redirect = answer["redirect_to"].as_str().unwrap();
    assert!(redirect.starts_with(&format!("{REDIRECT}?")), "{redirect}");
    let res = w
        .app
        .install(
            &w.alice,
            json!({
                "client_id": w.client_id,
                "company_id": w.company,
                "redirect_uri": second,
            }),
        )
        .await;
    assert_eq!(res.status(), 200);
    let answer: Value = res.json().await.unwrap();
    let redirect = answer["redirect_to"].as_str().unwrap();
    assert!(redirect.starts_with(&format!("{second}?")), "{redirect}");
}
