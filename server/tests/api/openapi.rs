//! `/openapi.json` describes exactly the server's JSON operations, and each one is routed.
//!
//! The routed operations are found by asking the server: every path of
//! `atrium_proto::paths::ALL` (the server's routes must name one, or they do not compile) but
//! the browser's HTML pages, with every method; whatever is not refused with 404 or 405 is an
//! operation of the API, and must be in the document.

use atrium_proto::paths;

use crate::helpers::*;

/// The browser's pages: HTML, not listed in the document (its description says so).
const PAGES: &[&str] = &[
    paths::HOME,
    paths::LOGIN,
    paths::LOGOUT,
    paths::AUTHORIZE,
    paths::END_SESSION,
];

/// The methods the server's routes take.
const METHODS: &[&str] = &["get", "post", "put", "patch", "delete"];

async fn document(app: &TestApp) -> serde_json::Value {
    http()
        .get(app.url(paths::OPENAPI))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// Every `(method, path)` of the document, sorted.
fn documented(doc: &serde_json::Value) -> Vec<(String, String)> {
    let mut documented: Vec<(String, String)> = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            documented.push((method.clone(), path.clone()));
        }
    }
    documented.sort();
    documented
}

/// Every `(method, path)` the server routes but the pages, sorted: asked of the server itself,
/// with an empty form body (so nothing is changed: every write needs a token or a body).
async fn routed_operations(app: &TestApp) -> Vec<(String, String)> {
    let mut routed = Vec::new();
    for path in paths::ALL.iter().filter(|p| !PAGES.contains(p)) {
        for method in METHODS {
            let res = http()
                .request(
                    method.to_uppercase().parse().unwrap(),
                    app.url(&concrete(path)),
                )
                .header("content-type", "application/x-www-form-urlencoded")
                .body("")
                .send()
                .await
                .unwrap();
            if !matches!(res.status().as_u16(), 404 | 405) {
                routed.push((method.to_string(), path.to_string()));
            }
        }
    }
    routed.sort();
    routed
}

#[tokio::test]
async fn the_openapi_document_lists_exactly_the_json_operations() {
    let app = spawn_app().await;
    let doc = document(&app).await;
    assert_eq!(doc["openapi"], "3.1.0");
    let routed = routed_operations(&app).await;
    // The probe must find the API (a server answering 404 to everything would pass otherwise).
    assert!(routed.len() > 30, "{routed:?}");
    assert_eq!(documented(&doc), routed);
}

#[tokio::test]
async fn every_documented_operation_is_answered_by_the_server() {
    let app = spawn_app().await;
    let doc = document(&app).await;
    for (method, path) in documented(&doc) {
        let req = match method.as_str() {
            "get" => http().get(app.url(&concrete(&path))),
            "post" | "put" | "patch" | "delete" => http()
                .request(
                    method.to_uppercase().parse().unwrap(),
                    app.url(&concrete(&path)),
                )
                .header("content-type", "application/x-www-form-urlencoded")
                .body(""),
            other => panic!("unexpected method {other}"),
        };
        let res = req.send().await.unwrap();
        assert_ne!(res.status(), 404, "{method} {path} is not routed");
        assert_ne!(res.status(), 405, "{method} {path} is not routed");
        assert!(
            res.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("application/json"),
            "{method} {path} does not answer JSON"
        );
    }
}

/// A documented path with its parameters filled in: every `{name}` becomes `1`, which every
/// parameter of the API (ids, client ids, event ids) parses.
fn concrete(path: &str) -> String {
    let mut out = String::new();
    let mut rest = path;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        out.push('1');
        rest = &rest[open + rest[open..].find('}').unwrap() + 1..];
    }
    out.push_str(rest);
    out
}

/// The status of one request written by hand (so that nothing adds or fixes headers).
async fn raw_status(app: &TestApp, request: String) -> u16 {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let host = app.base.trim_start_matches("http://");
    let mut s = tokio::net::TcpStream::connect(host).await.unwrap();
    s.write_all(request.as_bytes()).await.unwrap();
    let mut head = [0u8; 12];
    s.read_exact(&mut head).await.unwrap();
    std::str::from_utf8(&head[9..12]).unwrap().parse().unwrap()
}

#[tokio::test]
async fn every_status_the_server_answers_to_a_refused_request_is_documented() {
    let app = spawn_app().await;
    app.user("ada").await;
    let token = app.dashboard_token("ada").await;
    let doc = document(&app).await;
    let mut undocumented = Vec::new();
    for (method, path) in documented(&doc) {
        let op = &doc["paths"][&path][&method];
        let target = concrete(&path);
        let m = method.to_uppercase();
        let auth = format!("Authorization: Bearer {token}\r\n");
        let has_body = op.get("requestBody").is_some();
        let json = has_body
            && op["requestBody"]["content"]
                .get("application/json")
                .is_some();
        let mut probes = vec![
            // Two Authorization headers.
            format!("{m} {target} HTTP/1.1\r\nHost: x\r\n{auth}{auth}Content-Length: 0\r\n\r\n"),
            // A method the path does not take.
            format!("PUT {target} HTTP/1.1\r\nHost: x\r\n{auth}Content-Length: 0\r\n\r\n"),
        ];
        if has_body {
            let ct = if json {
                "application/json"
            } else {
                "application/x-www-form-urlencoded"
            };
            // A chunked body (no Content-Length).
            probes.push(format!(
                "{m} {target} HTTP/1.1\r\nHost: x\r\n{auth}Content-Type: {ct}\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
            ));
            // A body too large.
            probes.push(format!(
                "{m} {target} HTTP/1.1\r\nHost: x\r\n{auth}Content-Type: {ct}\r\nContent-Length: 10000000\r\n\r\n"
            ));
            // A body of another type.
            probes.push(format!(
                "{m} {target} HTTP/1.1\r\nHost: x\r\n{auth}Content-Type: text/plain\r\nContent-Length: 2\r\n\r\n{{}}"
            ));
        }
        for probe in probes {
            let status = raw_status(&app, probe.clone()).await;
            if op["responses"].get(status.to_string()).is_none() {
                undocumented.push(format!("{method} {path} answers {status} to {probe:?}"));
            }
        }
    }
    assert!(undocumented.is_empty(), "{undocumented:#?}");
}

#[tokio::test]
async fn every_list_endpoint_documents_its_cursor_limit_and_page() {
    let app = spawn_app().await;
    let doc = document(&app).await;
    for path in [
        paths::CATALOG,
        paths::COMPANIES,
        paths::COMPANY_MEMBERS,
        paths::COMPANY_INSTALLS,
        paths::DEV_APPS,
        paths::NOTIFICATIONS,
    ] {
        let op = &doc["paths"][path]["get"];
        let params = op["parameters"].as_array().unwrap();
        let param = |name: &str| {
            params
                .iter()
                .find(|p| p["name"] == name && p["in"] == "query")
                .unwrap_or_else(|| panic!("{path}: no {name} in {params:?}"))
        };
        assert_eq!(param("limit")["schema"]["maximum"], 100, "{path}");
        assert!(param("cursor")["schema"].is_object(), "{path}");
        let page = &op["responses"]["200"]["content"]["application/json"]["schema"];
        assert_eq!(page["properties"]["items"]["type"], "array", "{path}");
        assert!(page["properties"]["next_cursor"].is_object(), "{path}");
        assert!(op["responses"]["400"].is_object(), "{path}");
    }
}
