//! Cursor pagination of every list endpoint: pages cover a list exactly once, in a stable
//! order, even while it grows; a page (and so a response) has a bounded size.

use std::collections::HashMap;

use serde_json::{json, Value};

use crate::helpers::*;

/// The largest page (`MAX_PAGE_LIMIT`) and the default one.
const MAX_LIMIT: usize = 100;
const DEFAULT_LIMIT: usize = 50;

async fn signed_in(app: &TestApp, name: &str) -> String {
    app.user(name).await;
    app.dashboard_token(name).await
}

async fn register(app: &TestApp, token: &str, name: &str, description: &str) -> String {
    let res = app
        .call(
            "POST",
            "/api/developer/apps",
            token,
            Some(
                AppSpec::code("profile")
                    .name(name)
                    .description(description)
                    .without_iframe()
                    .to_json(),
            ),
        )
        .await;
    assert_eq!(res.status(), 201, "registering {name}");
    let v: Value = res.json().await.unwrap();
    v["app"]["client_id"].as_str().unwrap().to_string()
}

/// One page: its items and next cursor.
async fn page(app: &TestApp, token: &str, path: &str) -> (Vec<Value>, Option<String>) {
    let res = app.call("GET", path, token, None).await;
    assert_eq!(res.status(), 200, "{path}");
    let v: Value = res.json().await.unwrap();
    let items = v["items"]
        .as_array()
        .unwrap_or_else(|| panic!("{path} answered no page of items: {v}"))
        .clone();
    (items, v["next_cursor"].as_str().map(str::to_string))
}

fn with_cursor(path: &str, limit: usize, cursor: &Option<String>) -> String {
    let sep = if path.contains('?') { '&' } else { '?' };
    match cursor {
        Some(c) => format!("{path}{sep}limit={limit}&cursor={c}"),
        None => format!("{path}{sep}limit={limit}"),
    }
}

#[tokio::test]
async fn catalog_pages_return_every_app_exactly_once_in_order_while_apps_are_added() {
    let app = spawn_app().await;
    let dev = signed_in(&app, "dev").await;
    let reader = signed_in(&app, "reader").await;
    let mut before = Vec::new();
    for name in [
        "Delta", "Bravo", "Foxtrot", "Alpha", "Echo", "Charlie", "Golf", "Bravo",
    ] {
        before.push(register(&app, &dev, name, "").await);
    }
    let mut seen: Vec<Value> = Vec::new();
    let mut cursor = None;
    let mut pages = 0;
    loop {
        let (items, next) = page(
            &app,
            &reader,
            &with_cursor("/api/dashboard/catalog", 3, &cursor),
        )
        .await;
        assert!(items.len() <= 3);
        seen.extend(items);
        pages += 1;
        // Between pages, apps are added before and after the cursor.
        if pages == 1 {
            register(&app, &dev, "Aardvark", "").await;
            register(&app, &dev, "Zulu", "").await;
        }
        match next {
            Some(c) => cursor = Some(c),
            None => break,
        }
        assert!(pages < 20, "paging does not end");
    }
    let mut count: HashMap<String, usize> = HashMap::new();
    for a in &seen {
        *count
            .entry(a["client_id"].as_str().unwrap().to_string())
            .or_default() += 1;
    }
    for id in &before {
        assert_eq!(count.get(id), Some(&1), "{id} must appear exactly once");
    }
    assert!(count.values().all(|&n| n == 1), "no app twice: {count:?}");
    // Stable order: by name (then by registration for equal names).
    let names: Vec<&str> = seen.iter().map(|a| a["name"].as_str().unwrap()).collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted);
    // The app added after the cursor was picked up; the one before it was not seen twice.
    assert!(names.contains(&"Zulu"));
}

#[tokio::test]
async fn every_list_endpoint_pages_and_refuses_a_limit_over_the_maximum_or_a_forged_cursor() {
    let app = spawn_app().await;
    let owner_id = app.user("owner").await;
    let owner = app.dashboard_token("owner").await;
    let company = app.company("Acme", owner_id).await;
    app.company("Beta", owner_id).await;
    for name in ["m1", "m2"] {
        // Members join by invitation; the store adds them directly here.
        let id = app.user(name).await;
        app.store
            .add_member(company, id, atrium_server::store::Role::Member)
            .await
            .unwrap();
    }
    for name in ["One", "Two"] {
        let client_id = register(&app, &owner, name, "").await;
        let res = app
            .install(
                &owner,
                json!({ "client_id": client_id, "company_id": company, "state": "st" }),
            )
            .await;
        assert_eq!(res.status(), 200, "install {name}");
    }
    let lists = [
        "/api/dashboard/catalog".to_string(),
        "/api/dashboard/companies".to_string(),
        format!("/api/dashboard/companies/{company}/members"),
        format!("/api/dashboard/companies/{company}/installs"),
        "/api/developer/apps".to_string(),
    ];
    for path in &lists {
        let mut all = Vec::new();
        let mut cursor = None;
        loop {
            let (items, next) = page(&app, &owner, &with_cursor(path, 1, &cursor)).await;
            assert_eq!(items.len(), 1, "{path}: one item per page");
            all.extend(items);
            match next {
                Some(c) => cursor = Some(c),
                None => break,
            }
        }
        let (whole, next) = page(&app, &owner, path).await;
        assert_eq!(next, None, "{path}: a short list is one page");
        assert_eq!(all, whole, "{path}: pages of one make the whole list");
        assert!(whole.len() >= 2, "{path}");

        let res = app
            .call(
                "GET",
                &format!("{path}?limit={}", MAX_LIMIT + 1),
                &owner,
                None,
            )
            .await;
        assert_eq!(res.status(), 400, "{path}");
        let body: Value = res.json().await.unwrap();
        assert!(
            body["error_description"].as_str().unwrap().contains("100"),
            "{path}: {body}"
        );
        let res = app
            .call("GET", &format!("{path}?cursor=not-a-cursor"), &owner, None)
            .await;
        assert_eq!(res.status(), 400, "{path}");
    }
}

#[tokio::test]
async fn the_catalog_response_is_bounded_whatever_the_number_of_apps() {
    let app = spawn_app().await;
    let reader = signed_in(&app, "reader").await;
    // Five developers fill their quota with apps whose descriptions are as long as allowed.
    let description = "x".repeat(2000);
    let mut total = 0;
    for d in 0..5 {
        let dev = signed_in(&app, &format!("dev{d}")).await;
        for i in 0..25 {
            register(&app, &dev, &format!("App {d}-{i:02}"), &description).await;
            total += 1;
        }
    }
    assert!(total > MAX_LIMIT);
    // Per app at most ~10 KB (name and description at their limits, scopes); a page at most
    // MAX_LIMIT of them.
    let per_app = 10 * 1024;
    for (path, expect) in [
        ("/api/dashboard/catalog".to_string(), DEFAULT_LIMIT),
        (
            format!("/api/dashboard/catalog?limit={MAX_LIMIT}"),
            MAX_LIMIT,
        ),
    ] {
        let res = app.call("GET", &path, &reader, None).await;
        assert_eq!(res.status(), 200);
        let body = res.bytes().await.unwrap();
        let v: Value = serde_json::from_slice(&body).unwrap();
        let items = v["items"].as_array().expect("a page");
        assert_eq!(items.len(), expect, "{path}");
        assert!(v["next_cursor"].is_string(), "{path}: more pages follow");
        assert!(
            body.len() <= expect * per_app,
            "{path}: {} bytes for {expect} apps",
            body.len()
        );
    }
}
