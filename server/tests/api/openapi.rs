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
        .replace("{client_id}", "some-client")
}
