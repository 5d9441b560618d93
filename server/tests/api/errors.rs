//! Internal errors: the client gets a 500 with a correlation id (in `X-Error-Id`, and on the
//! page of an HTML endpoint), and the operator's log has the one line with the same id and the
//! cause: on the JSON API, the OAuth endpoints and the HTML pages alike.

use std::time::Duration;

use crate::real_server::RealServer;

/// The database fails under a running server: `table` is gone.
fn break_table(server_db: &std::path::Path, table: &str) {
    let conn = rusqlite::Connection::open(server_db).expect("the server's database opens");
    conn.busy_timeout(Duration::from_secs(5)).unwrap();
    conn.execute_batch(&format!("ALTER TABLE {table} RENAME TO {table}_gone"))
        .expect("the table is renamed");
}

/// A resource API call, whose token check reads the access tokens' table.
async fn read_with_a_token(server: &RealServer) -> reqwest::Response {
    reqwest::Client::new()
        .get(server.url("/api/username"))
        .bearer_auth("atr_at_not-a-real-token")
        .send()
        .await
        .unwrap()
}

/// The correlation id of a 500: 16 hex digits in `X-Error-Id`.
fn error_id(res: &reqwest::Response) -> String {
    assert_eq!(res.status(), 500);
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
    id
}

/// The operator's log holds exactly one line with `id`, an error naming the cause (a missing
/// table), and no other error line of the server's in a request: the cause is logged once
/// (warp's own per-request line only says "status=500"; the webhook worker, which may meet the
/// broken table too, logs outside requests). Every line of the request (`request`, such as
/// `request{method=GET path=/api/username`) carries its id.
async fn assert_logged_once(server: &RealServer, id: &str, request: &str) {
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
    let of_request: Vec<String> = server
        .log()
        .into_iter()
        .filter(|l| l.contains(request))
        .collect();
    assert!(!of_request.is_empty(), "{:?}", server.log());
    for l in &of_request {
        assert!(l.ends_with(&format!("request_id={id}")), "{l}");
    }
    let errors = server
        .log()
        .iter()
        .filter(|l| l.contains("ERROR") && l.contains("request{") && l.contains("atrium_server"))
        .count();
    assert_eq!(errors, 1, "{:?}", server.log());
}

#[tokio::test]
async fn an_internal_error_returns_the_id_of_its_log_line() {
    let server = RealServer::start(&[], None);
    break_table(&server.db_path(), "access_tokens");
    let res = read_with_a_token(&server).await;
    let id = error_id(&res);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["error"], "server_error");
    assert_eq!(
        body["error_description"],
        "the server could not check the token"
    );
    assert_logged_once(&server, &id, "request{method=GET path=/api/username").await;
}

#[tokio::test]
async fn an_internal_error_of_the_token_endpoint_is_logged_once_under_its_id() {
    let server = RealServer::start(&[], None);
    break_table(&server.db_path(), "apps");
    let res = reqwest::Client::new()
        .post(server.url("/oauth2/token"))
        .basic_auth("some-client", Some("some-secret"))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    let id = error_id(&res);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(
        body["error"], "server_error",
        "RFC 6749 §5.2's shape: {body}"
    );
    assert_logged_once(&server, &id, "request{method=POST path=/oauth2/token").await;
}

#[tokio::test]
async fn an_internal_error_of_an_html_page_shows_its_id_to_the_user() {
    let server = RealServer::start(&[], None);
    let browser = atrium_testkit::Browser::new(&server.url("")).client;
    let page = browser
        .get(server.url("/login"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let mut form = atrium_testkit::hidden_inputs(&page);
    form.push(("username".into(), "ada".into()));
    form.push(("password".into(), "not her password".into()));
    break_table(&server.db_path(), "login_forms_used");
    let res = browser
        .post(server.url("/login"))
        .form(&form)
        .send()
        .await
        .unwrap();
    let id = error_id(&res);
    let page = res.text().await.unwrap();
    assert!(
        page.contains(&id),
        "the page shows the id the user can report: {page}"
    );
    assert_logged_once(&server, &id, "request{method=POST path=/login").await;
}

/// With `--log-format json`, every line is one JSON object, and the error line of a request
/// carries its id as a key.
#[tokio::test]
async fn json_logs_are_one_object_a_line_with_the_request_id() {
    let server = RealServer::start(&["--log-format", "json"], None);
    break_table(&server.db_path(), "access_tokens");
    let res = read_with_a_token(&server).await;
    assert_eq!(res.status(), 500);
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
