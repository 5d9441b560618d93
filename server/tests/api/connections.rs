//! The connection layer under hostile clients: slowloris sockets (silent, half-sent heads,
//! stalled bodies) are closed within the configured timeouts, connections past the cap still
//! reach `/healthz`, and requests the server cannot read unambiguously are refused.

use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::*;

/// The head timeout of [`strict_app`].
const HEAD: Duration = Duration::from_millis(700);
/// The idle timeout of [`strict_app`], unlike its head timeout.
const IDLE: Duration = Duration::from_millis(2000);

/// A server with short timeouts, so a test sees them fire.
async fn strict_app() -> TestApp {
    spawn_app_configured(|s| {
        s.connections.header_read_timeout = HEAD;
        s.connections.idle_timeout = IDLE;
        s.connections.body_read_timeout = Duration::from_millis(700);
    })
    .await
}

/// Sends `GET /healthz` on `s` and reads its whole answer (head and body).
async fn healthz_on(s: &mut TcpStream) -> String {
    s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let text = String::from_utf8_lossy(&got).into_owned();
        if let Some(end) = text.find("\r\n\r\n") {
            let length = text[..end]
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase()
                        .strip_prefix("content-length:")
                        .map(|v| v.trim().parse::<usize>().unwrap_or(0))
                })
                .unwrap_or(0);
            if got.len() >= end + 4 + length {
                return text;
            }
        }
        match tokio::time::timeout(Duration::from_secs(5), s.read(&mut buf)).await {
            Ok(Ok(n)) if n > 0 => got.extend_from_slice(&buf[..n]),
            other => panic!("the connection ended before its answer ({other:?}): {text:?}"),
        }
    }
}

/// Reads `s` until the server closes it; how long that took. Panics after 10 s.
async fn closed_within(s: &mut TcpStream) -> Duration {
    let start = Instant::now();
    let mut buf = [0u8; 1024];
    let read = tokio::time::timeout(Duration::from_secs(10), async {
        while let Ok(n) = s.read(&mut buf).await {
            if n == 0 {
                break;
            }
        }
    })
    .await;
    assert!(read.is_ok(), "the server kept the connection open for 10 s");
    start.elapsed()
}

fn host(app: &TestApp) -> String {
    app.base.trim_start_matches("http://").to_string()
}

/// Writes `bytes`, then reads until the server closes the connection; returns what it
/// answered and how long the connection stayed open. Gives up (panics) after `limit`.
async fn until_closed(app: &TestApp, bytes: &[u8], limit: Duration) -> (String, Duration) {
    let start = Instant::now();
    let mut s = TcpStream::connect(host(app)).await.unwrap();
    s.write_all(bytes).await.unwrap();
    let mut got = Vec::new();
    let read = tokio::time::timeout(limit, async {
        let mut buf = [0u8; 4096];
        loop {
            match s.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => got.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    assert!(
        read.is_ok(),
        "the server kept the connection open for {limit:?}; it answered {:?}",
        String::from_utf8_lossy(&got)
    );
    (String::from_utf8_lossy(&got).into_owned(), start.elapsed())
}

#[tokio::test]
async fn a_silent_connection_is_closed_after_the_header_read_timeout() {
    let app = strict_app().await;
    let (answer, open) = until_closed(&app, b"", Duration::from_secs(10)).await;
    assert!(
        open >= Duration::from_millis(600),
        "closed too early: {open:?}"
    );
    assert!(!answer.contains("200 OK"), "{answer}");
}

#[tokio::test]
async fn a_half_sent_request_head_is_closed_after_the_header_read_timeout() {
    let app = strict_app().await;
    let (answer, _) = until_closed(
        &app,
        b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: 1",
        Duration::from_secs(10),
    )
    .await;
    assert!(!answer.contains("200 OK"), "{answer}");
}

#[tokio::test]
async fn an_idle_kept_alive_connection_is_closed_after_the_idle_timeout() {
    let app = strict_app().await;
    let mut s = TcpStream::connect(host(&app)).await.unwrap();
    let answer = healthz_on(&mut s).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    let open = closed_within(&mut s).await;
    // Its own clock: not the (shorter) head timeout.
    assert!(
        open >= IDLE - Duration::from_millis(100),
        "an idle connection was closed after {open:?}, before the idle timeout of {IDLE:?}"
    );
}

#[tokio::test]
async fn a_kept_alive_connection_may_idle_longer_than_the_head_timeout() {
    let app = strict_app().await;
    let mut s = TcpStream::connect(host(&app)).await.unwrap();
    assert!(healthz_on(&mut s).await.starts_with("HTTP/1.1 200"));
    // Silent for longer than a head may take, shorter than the idle timeout.
    tokio::time::sleep(HEAD + Duration::from_millis(500)).await;
    let again = healthz_on(&mut s).await;
    assert!(again.starts_with("HTTP/1.1 200"), "{again}");
}

#[tokio::test]
async fn a_slow_head_on_a_kept_alive_connection_gets_the_head_timeout_not_the_idle_timeout() {
    let app = strict_app().await;
    let mut s = TcpStream::connect(host(&app)).await.unwrap();
    assert!(healthz_on(&mut s).await.starts_with("HTTP/1.1 200"));
    tokio::time::sleep(Duration::from_millis(300)).await;
    // The first bytes of a head that never completes: its clock starts now.
    s.write_all(b"GET /healthz HTTP/1.1\r\nX-Slow: 1")
        .await
        .unwrap();
    let open = closed_within(&mut s).await;
    assert!(
        open >= HEAD - Duration::from_millis(100),
        "cut off {open:?} after its first byte, before the head timeout of {HEAD:?}"
    );
    assert!(
        open < IDLE,
        "a half-sent head was kept {open:?}, as long as an idle connection"
    );
}

#[tokio::test]
async fn a_stalled_request_body_is_abandoned_after_the_body_read_timeout() {
    let app = strict_app().await;
    let token = {
        app.user("ada").await;
        app.dashboard_token("ada").await
    };
    let head = format!(
        "POST /api/dashboard/companies HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{{\"name\":"
    );
    let (answer, _) = until_closed(&app, head.as_bytes(), Duration::from_secs(10)).await;
    assert!(!answer.contains("201 Created"), "{answer}");
    let companies = app
        .call("GET", "/api/dashboard/companies", &token, None)
        .await;
    let list: serde_json::Value = companies.json().await.unwrap();
    assert_eq!(list["items"].as_array().map(Vec::len), Some(0), "{list}");
}

#[tokio::test]
async fn two_authorization_headers_get_400() {
    let app = spawn_app().await;
    app.user("ada").await;
    let token = app.dashboard_token("ada").await;
    let res = http()
        .get(app.url("/api/dashboard/me"))
        .header("authorization", format!("Bearer {token}"))
        .header("authorization", "Bearer someone-elses-token")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["error"], "invalid_request");
    // One of them alone is fine.
    let res = app.call("GET", "/api/dashboard/me", &token, None).await;
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn json_endpoints_refuse_a_body_not_declared_as_json() {
    let app = spawn_app().await;
    app.user("ada").await;
    let token = app.dashboard_token("ada").await;
    for content_type in [
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
        None,
    ] {
        let mut req = http()
            .post(app.url("/api/dashboard/companies"))
            .bearer_auth(&token)
            .body(r#"{"name":"Posted from another site"}"#);
        if let Some(ct) = content_type {
            req = req.header("content-type", ct);
        }
        let res = req.send().await.unwrap();
        assert_eq!(res.status(), 415, "{content_type:?}");
    }
    let res = http()
        .post(app.url("/api/dashboard/companies"))
        .bearer_auth(&token)
        .header("content-type", "application/json; charset=utf-8")
        .body(r#"{"name":"Declared"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
}

#[tokio::test]
async fn connections_past_the_cap_still_reach_healthz_and_get_503_elsewhere() {
    let app = spawn_app_configured(|s| s.connections.max_connections = 4).await;
    let mut idle = Vec::new();
    for _ in 0..4 {
        idle.push(TcpStream::connect(host(&app)).await.unwrap());
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    let res = client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let res = client.get(app.url("/api/username")).send().await.unwrap();
    assert_eq!(res.status(), 503);
    assert_eq!(res.headers()["retry-after"], "1");
    drop(idle);
}

#[tokio::test]
async fn a_client_that_never_reads_its_answers_loses_its_connection() {
    // One connection slot: while the stalled client holds it, others get only the reserve.
    let app = spawn_app_configured(|s| {
        s.connections.header_read_timeout = HEAD;
        s.connections.idle_timeout = IDLE;
        s.connections.body_read_timeout = Duration::from_millis(700);
        s.connections.max_connections = 1;
    })
    .await;
    // A small receive window, 200 pipelined requests for a large answer, and no reading:
    // the server's writes stall once the socket buffers are full.
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let mut stalled = socket.connect(app.addr).await.unwrap();
    let pipelined = "GET /openapi.json HTTP/1.1\r\nHost: x\r\n\r\n".repeat(200);
    stalled.write_all(pipelined.as_bytes()).await.unwrap();
    let held = reqwest::get(format!("{}/openapi.json", app.base))
        .await
        .unwrap();
    assert_eq!(
        held.status(),
        503,
        "the stalled client did not hold the only slot"
    );
    // Past the idle timeout and the time a closing connection has to finish.
    tokio::time::sleep(IDLE + Duration::from_millis(700) + Duration::from_secs(2)).await;
    let freed = reqwest::get(format!("{}/openapi.json", app.base))
        .await
        .unwrap();
    assert_eq!(
        freed.status(),
        200,
        "a client that never read its answers still held its connection"
    );
    drop(stalled);
}
