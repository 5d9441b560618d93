//! `/readyz` reports whether the database answers with the schema this server migrates to;
//! `/healthz` only that the process answers.

use std::time::Duration;

use atrium_server::db::{DbError, SCHEMA_VERSION};

use crate::helpers::{http, spawn_app, spawn_app_on_postgres};

async fn readyz(app: &crate::helpers::TestApp) -> (u16, serde_json::Value) {
    let res = http().get(app.url("/readyz")).send().await.unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap())
}

#[tokio::test]
async fn readyz_answers_ready_on_a_migrated_database() {
    let app = spawn_app().await;
    let (status, body) = readyz(&app).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "ready");
    assert_eq!(body["version"], env!("CARGO_PKG_VERSION"));
    assert!(body.get("reason").is_none(), "{body}");
}

#[tokio::test]
async fn readyz_answers_503_with_the_reason_when_the_schema_is_not_current_and_healthz_stays_ok() {
    let app = spawn_app().await;
    // Another server version migrated the file under this one.
    let newer = SCHEMA_VERSION as i64 + 1;
    app.db()
        .write(move |c| Ok::<_, DbError>(c.pragma_update(None, "user_version", newer)?))
        .await
        .unwrap();
    let (status, body) = readyz(&app).await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["status"], "unavailable");
    let reason = body["reason"].as_str().unwrap();
    assert!(
        reason.contains(&format!("schema version {newer}"))
            && reason.contains(&SCHEMA_VERSION.to_string()),
        "{reason}"
    );
    let live = http().get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(
        live.status(),
        200,
        "liveness does not depend on the database"
    );

    let current = SCHEMA_VERSION as i64;
    app.db()
        .write(move |c| Ok::<_, DbError>(c.pragma_update(None, "user_version", current)?))
        .await
        .unwrap();
    assert_eq!(readyz(&app).await.0, 200, "ready again once the schema is");
}

#[tokio::test]
async fn readyz_does_not_wait_for_a_busy_read_pool() {
    let app = spawn_app().await;
    let slow: Vec<_> = (0..32)
        .map(|_| {
            let db = app.db().clone();
            tokio::spawn(async move {
                db.call(|_| {
                    std::thread::sleep(Duration::from_secs(4));
                    Ok::<_, DbError>(())
                })
                .await
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let res = reqwest::Client::builder()
        .timeout(Duration::from_secs(2))
        .build()
        .unwrap()
        .get(app.url("/readyz"))
        .send()
        .await;
    assert!(
        matches!(&res, Ok(r) if r.status() == 200),
        "readyz waited for the read pool: {res:?}"
    );
    for s in slow {
        s.await.unwrap().unwrap();
    }
}

/// On PostgreSQL, readiness is a pooled query of the migrations table: ready on a migrated
/// schema, 503 with the reason once another server version migrated it further.
#[tokio::test]
async fn readyz_on_postgresql_reports_the_schema_version_it_finds() {
    use atrium_server::store::postgres::{parse_url, SCHEMA_VERSION};
    let Some(app) = spawn_app_on_postgres(false).await else {
        return;
    };
    assert_eq!(readyz(&app).await.0, 200);
    let url = app.postgres_url().unwrap();
    let (client, connection) = parse_url(&url)
        .unwrap()
        .connect(tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    let newer = SCHEMA_VERSION as i64 + 1;
    client
        .execute(
            "INSERT INTO atrium_migrations (version, applied_at) VALUES ($1, 0)",
            &[&newer],
        )
        .await
        .unwrap();
    let (status, body) = readyz(&app).await;
    assert_eq!(status, 503, "{body}");
    let reason = body["reason"].as_str().unwrap();
    assert!(
        reason.contains(&format!("schema version {newer}")),
        "{reason}"
    );
    client
        .execute(
            "DELETE FROM atrium_migrations WHERE version = $1",
            &[&newer],
        )
        .await
        .unwrap();
    assert_eq!(readyz(&app).await.0, 200, "ready again once the schema is");
}
