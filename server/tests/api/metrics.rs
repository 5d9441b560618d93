//! Metrics: served on their own listener only, in the Prometheus text format, counting what
//! the operator needs (requests by route, tokens by grant, refusals, sign-ins, webhooks,
//! connections, caches), with labels that clients cannot multiply. And request ids: on every
//! response, and in the log lines of the request.

use std::collections::HashMap;
use std::net::SocketAddr;

use atrium_testkit::{assert_oauth_error, AppSpec, Browser};
use serde_json::json;

use crate::helpers::{spawn_app_configured, TestApp, PASSWORD};

async fn app_with_metrics() -> (TestApp, SocketAddr) {
    let app = spawn_app_configured(|s| {
        s.metrics_addr = Some("127.0.0.1:0".parse().unwrap());
        s.egress.allow_private = true;
    })
    .await;
    let at = app.metrics_addr.expect("a metrics listener");
    (app, at)
}

/// Every sample of a scrape: `name{labels}` → value.
async fn scrape(at: SocketAddr) -> HashMap<String, f64> {
    let res = reqwest::get(format!("http://{at}/metrics")).await.unwrap();
    assert_eq!(res.status(), 200);
    let ct = res.headers()["content-type"].to_str().unwrap().to_string();
    assert!(ct.starts_with("text/plain; version=0.0.4"), "{ct}");
    let text = res.text().await.unwrap();
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| {
            let (k, v) = l.rsplit_once(' ').expect("name and value");
            (k.to_string(), v.parse().expect("a number"))
        })
        .collect()
}

fn value(samples: &HashMap<String, f64>, key: &str) -> f64 {
    *samples
        .get(key)
        .unwrap_or_else(|| panic!("no sample {key}; have {:#?}", samples.keys()))
}

#[tokio::test]
async fn metrics_are_served_only_on_their_own_listener() {
    let (app, at) = app_with_metrics().await;
    let public = reqwest::get(app.url("/metrics")).await.unwrap();
    assert_eq!(
        public.status(),
        404,
        "the public listener never serves metrics"
    );
    let other = reqwest::get(format!("http://{at}/api/username"))
        .await
        .unwrap();
    assert_eq!(
        other.status(),
        404,
        "the metrics listener serves nothing else"
    );
    let samples = scrape(at).await;
    assert!(value(&samples, "atrium_open_connections") >= 1.0);
}

#[tokio::test]
async fn requests_are_counted_by_route_template_and_status_never_by_raw_path() {
    let (app, at) = app_with_metrics().await;
    let dev = app.user("dev").await;
    let token = app.dashboard_token("dev").await;
    for _ in 0..3 {
        let res = app.api("/api/username", "atr_at_not-a-token").await;
        assert_eq!(res.status(), 401);
    }
    let company = app.company("Acme", dev).await;
    let path = format!("/api/dashboard/companies/{company}/members");
    let res = app.call("GET", &path, &token, None).await;
    assert_eq!(res.status(), 200);
    let probe = "/no/such/path/7f3a9c";
    assert_eq!(reqwest::get(app.url(probe)).await.unwrap().status(), 404);

    let samples = scrape(at).await;
    assert_eq!(
        value(
            &samples,
            r#"atrium_http_requests_total{method="GET",route="/api/username",status="401"}"#
        ),
        3.0
    );
    assert_eq!(
        value(
            &samples,
            r#"atrium_http_requests_total{method="GET",route="/api/dashboard/companies/{company_id}/members",status="200"}"#
        ),
        1.0
    );
    assert_eq!(
        value(
            &samples,
            r#"atrium_http_requests_total{method="GET",route="unmatched",status="404"}"#
        ),
        1.0
    );
    assert_eq!(
        value(
            &samples,
            r#"atrium_http_request_duration_seconds_count{method="GET",route="/api/username"}"#
        ),
        3.0
    );
    assert!(
        samples
            .keys()
            .all(|k| !k.contains(probe) && !k.contains(&format!("/{company}/"))),
        "no raw path in a label"
    );
}

#[tokio::test]
async fn tokens_refusals_sign_ins_and_caches_are_counted() {
    let (app, at) = app_with_metrics().await;
    let dev = app.user("dev").await;
    let client = app.register(dev, AppSpec::code("profile")).await;
    let res = app.client_credentials(&client, None).await;
    assert_eq!(res.status(), 200);
    let mut wrong = client.clone();
    wrong.secret = Some("not-the-secret".into());
    assert_oauth_error(app.client_credentials(&wrong, None).await, "invalid_client").await;
    let browser = Browser::new(&app.base);
    assert_eq!(browser.login("dev", "wrong password").await.status(), 401);
    assert_eq!(browser.login("dev", PASSWORD).await.status(), 303);
    let token = app.dashboard_token("dev").await;
    for _ in 0..2 {
        assert_eq!(app.api("/api/dashboard/me", &token).await.status(), 200);
    }

    let samples = scrape(at).await;
    assert_eq!(
        value(
            &samples,
            r#"atrium_tokens_issued_total{grant="client_credentials"}"#
        ),
        1.0
    );
    assert_eq!(
        value(
            &samples,
            r#"atrium_oauth_errors_total{endpoint="token",error="invalid_client"}"#
        ),
        1.0
    );
    // The desktop token's own sign-in succeeded too.
    assert_eq!(
        value(&samples, r#"atrium_logins_total{outcome="failed"}"#),
        1.0
    );
    assert!(value(&samples, r#"atrium_logins_total{outcome="succeeded"}"#) >= 1.0);
    assert_eq!(
        value(&samples, r#"atrium_logins_total{outcome="throttled"}"#),
        0.0
    );
    assert!(
        value(
            &samples,
            r#"atrium_cache_lookups_total{cache="tokens",result="hit"}"#
        ) >= 1.0
    );
    assert!(
        value(
            &samples,
            r#"atrium_cache_lookups_total{cache="clients",result="miss"}"#
        ) >= 1.0
    );
    assert_eq!(value(&samples, "atrium_password_checks_queued"), 0.0);
}

#[tokio::test]
async fn the_webhook_backlog_and_failed_deliveries_are_counted() {
    let (app, at) = app_with_metrics().await;
    let dev = app.user("dev").await;
    let alice = app.user("alice").await;
    // Nothing listens there: the delivery is refused and retried later.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hook", closed.local_addr().unwrap());
    drop(closed);
    let client = app
        .register(dev, AppSpec::code("profile").webhook_url(&url))
        .await;
    let company = app.company("Acme", alice).await;
    let token = app.dashboard_token("alice").await;
    let res = app
        .install(
            &token,
            json!({"client_id": client.client_id, "company_id": company, "state": "s"}),
        )
        .await;
    assert_eq!(res.status(), 200);

    let mut samples = scrape(at).await;
    for _ in 0..100 {
        if samples.get(r#"atrium_webhook_deliveries_total{outcome="failed"}"#) == Some(&1.0) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        samples = scrape(at).await;
    }
    assert_eq!(
        value(
            &samples,
            r#"atrium_webhook_deliveries_total{outcome="failed"}"#
        ),
        1.0
    );
    assert_eq!(value(&samples, "atrium_webhook_queue_depth"), 1.0);
    assert!(value(&samples, "atrium_webhook_oldest_pending_age_seconds") >= 0.0);
}

#[tokio::test]
async fn every_response_names_its_request() {
    let (app, _) = app_with_metrics().await;
    let mut ids = Vec::new();
    for path in ["/healthz", "/api/username", "/nowhere"] {
        let res = reqwest::get(app.url(path)).await.unwrap();
        let id = res
            .headers()
            .get("x-request-id")
            .unwrap_or_else(|| panic!("{path} has no X-Request-Id"))
            .to_str()
            .unwrap()
            .to_string();
        assert_eq!(id.len(), 16, "{id}");
        ids.push(id);
    }
    ids.dedup();
    assert_eq!(ids.len(), 3, "each request has its own id");
}
