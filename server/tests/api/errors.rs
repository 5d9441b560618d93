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

#[tokio::test]
async fn an_internal_error_returns_the_id_of_its_log_line() {
    let server = RealServer::start(&[], None);
    break_the_token_table(&server.db_path());
    let res = reqwest::Client::new()
        .get(server.url("/api/username"))
        .bearer_auth("atr_at_not-a-real-token")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 500);
    let id = res
        .headers()
        .get("x-error-id")
        .expect("a 500 carries its correlation id")
        .to_str()
        .unwrap()
        .to_string();
    assert_eq!(id.len(), 16, "{id}");
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
            .filter(|l| l.contains(&id))
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
        lines[0].contains("no such table"),
        "the line names the cause: {}",
        lines[0]
    );
    // The cause is logged once (warp's own per-request line only says "status=500").
    let errors = server
        .log()
        .iter()
        .filter(|l| l.contains("ERROR") && l.contains("atrium_server"))
        .count();
    assert_eq!(errors, 1, "{:?}", server.log());
}
