//! `/openapi.json` describes exactly the server's JSON operations, and each one is routed.

use atrium_server::routes::JSON_OPERATIONS;

use crate::helpers::*;

#[tokio::test]
async fn the_openapi_document_lists_exactly_the_json_operations() {
    let app = spawn_app().await;
    let doc: serde_json::Value = http()
        .get(app.url("/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    let mut documented: Vec<(String, String)> = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            documented.push((method.clone(), path.clone()));
        }
    }
    documented.sort();
    let mut routed: Vec<(String, String)> = JSON_OPERATIONS
        .iter()
        .map(|(m, p)| (m.to_string(), p.to_string()))
        .collect();
    routed.sort();
    assert_eq!(documented, routed);
}

#[tokio::test]
async fn every_documented_operation_is_answered_by_the_server() {
    let app = spawn_app().await;
    for (method, path) in JSON_OPERATIONS {
        let req = match *method {
            "get" => http().get(app.url(&concrete(path))),
            "post" | "patch" | "delete" => http()
                .request(
                    method.to_uppercase().parse().unwrap(),
                    app.url(&concrete(path)),
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

/// A documented path with its parameters filled in.
fn concrete(path: &str) -> String {
    path.replace("{company_id}", "1")
        .replace("{install_id}", "1")
        .replace("{invitation_id}", "1")
        .replace("{client_id}", "some-client")
        .replace("{event_id}", "evt_some")
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
    let doc: serde_json::Value = http()
        .get(app.url("/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut undocumented = Vec::new();
    for (method, path) in JSON_OPERATIONS {
        let op = &doc["paths"][*path][*method];
        let target = concrete(path);
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
    let doc: serde_json::Value = http()
        .get(app.url("/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    for path in [
        "/api/dashboard/catalog",
        "/api/dashboard/companies",
        "/api/dashboard/companies/{company_id}/members",
        "/api/dashboard/companies/{company_id}/installs",
        "/api/developer/apps",
    ] {
        let op = &doc["paths"][path]["get"];
        let params = op["parameters"].to_string();
        assert!(params.contains("parameters/limit"), "{path}: {params}");
        assert!(params.contains("parameters/cursor"), "{path}: {params}");
        let page = &op["responses"]["200"]["content"]["application/json"]["schema"];
        assert_eq!(page["properties"]["items"]["type"], "array", "{path}");
        assert!(page["properties"]["next_cursor"].is_object(), "{path}");
        assert!(op["responses"]["400"].is_object(), "{path}");
    }
    assert_eq!(
        doc["components"]["parameters"]["limit"]["schema"]["maximum"],
        100
    );
}
