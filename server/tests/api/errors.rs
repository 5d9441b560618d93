//! Internal errors: the client gets a 500 with a correlation id, and the operator's log has
//! the one line with the same id and the cause.

use std::time::Duration;

use crate::real_server::RealServer;

/// The database fails under a running server: the table of access tokens is gone.
fn break_the_token_table(server_db: &std::path::Path) {
    let conn = rusqlite::Connection::open(server_db).expect("the server's database opens");
    conn.busy_timeout(Duration::from_secs(5)).unwrap();
    conn.execute_batch("ALTER TABLE access_tokens RENAME TO access_tokens_gone")
        .expect("the table is renamed");
}

/// Breaks the database under `server`, then asks it to check a token: a 500.
async fn fail_a_token_check(server: &RealServer) -> reqwest::Response {
    break_the_token_table(&server.db_path());
    let res = reqwest::Client::new()
        .get(server.url("/api/username"))
        .bearer_auth("atr_at_not-a-real-token")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 500);
    res
}

#[tokio::test]
async fn an_internal_error_returns_the_id_of_its_log_line() {
    let server = RealServer::start(&[], None);
    let res = fail_a_token_check(&server).await;
    let id = res
        .headers()
        .get("x-error-id")
        .expect("a 500 carries its correlation id")
        .to_str()
        .unwrap()
        .to_string();
    assert_eq!(id.len(), 16, "{id}");
    assert_eq!(
        res.headers()["x-request-id"].to_str().unwrap(),
        id,
        "the error's id is its request's id"
    );
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["error"], "server_error");
    assert_eq!(
        body["error_description"],
        "the server could not check the token"
    );
    // The log line is written as the answer goes out; give the reader a moment.
    let mut lines = Vec::new();
    for _ in 0..50 {
        lines = server
            .log()
            .into_iter()
            .filter(|l| l.contains(&format!("error_id={id}")))
            .collect();
        if !lines.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        lines.len(),
        1,
        "one log line with the id: {:?}",
        server.log()
    );
    assert!(lines[0].contains("ERROR"), "{}", lines[0]);
    assert!(
        lines[0].contains(&format!("request_id={id}")),
        "the line carries the request id: {}",
        lines[0]
    );
    assert!(
        lines[0].contains("no such table"),
        "the line names the cause: {}",
        lines[0]
    );
    // Every line of the request carries its id (warp's own per-request lines too).
    let of_request: Vec<String> = server
        .log()
        .into_iter()
        .filter(|l| l.contains("request{method=GET path=/api/username"))
        .collect();
    assert!(!of_request.is_empty());
    for l in &of_request {
        assert!(l.ends_with(&format!("request_id={id}")), "{l}");
    }
    // The cause is logged once (warp's own per-request line only says "status=500").
    let errors = server
        .log()
        .iter()
        .filter(|l| l.contains("ERROR") && l.contains("atrium_server"))
        .count();
    assert_eq!(errors, 1, "{:?}", server.log());
}

/// With `--log-format json`, every line is one JSON object, and the error line of a request
/// carries its id as a key.
#[tokio::test]
async fn json_logs_are_one_object_a_line_with_the_request_id() {
    let server = RealServer::start(&["--log-format", "json"], None);
    let res = fail_a_token_check(&server).await;
    let id = res.headers()["x-request-id"].to_str().unwrap().to_string();
    let mut found = None;
    for _ in 0..50 {
        found = server
            .log()
            .into_iter()
            .find(|l| l.contains(&id) && l.contains("error_id"));
        if found.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let line = found.unwrap_or_else(|| panic!("no line with {id}: {:?}", server.log()));
    let parsed: serde_json::Value = serde_json::from_str(&line).expect("a JSON line");
    assert_eq!(parsed["request_id"], id.as_str());
    assert_eq!(parsed["level"], "ERROR");
    for l in server.log() {
        let v: serde_json::Value =
            serde_json::from_str(&l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}"));
        assert!(v["timestamp"].is_string(), "{l}");
    }
}
