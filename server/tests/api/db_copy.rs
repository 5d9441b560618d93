//! Moving up: a SQLite deployment, with state made through real flows, copied into PostgreSQL
//! by the real `atrium-server db copy` binary, then served from PostgreSQL with the same key
//! file. Everything issued before the move still works after it. (Skipped without
//! `ATRIUM_TEST_POSTGRES_URL`, a failure under `CI=true`.)

use std::path::Path;
use std::process::Output;

use atrium_server::store::postgres::testing::{self, Schema};
use atrium_server::webhooks::Policy;
use serde_json::{json, Value};

use crate::helpers::*;
use crate::lifecycle::receiver_on;
use crate::oidc::{relying_party, sign_in};

/// Every table `db copy` fills.
const TABLES: &[&str] = &[
    "users",
    "companies",
    "memberships",
    "apps",
    "sessions",
    "installs",
    "token_families",
    "authorization_codes",
    "access_tokens",
    "refresh_tokens",
    "refresh_retries",
    "outbox",
    "login_forms_used",
    "invitations",
    "signing_keys",
];

/// `atrium-server db copy --from db --to url`, with `data_home` as `$XDG_DATA_HOME` (where a
/// PostgreSQL deployment's key file lives).
async fn db_copy(db: &Path, url: &str, data_home: &Path) -> Output {
    tokio::process::Command::new(env!("CARGO_BIN_EXE_atrium-server"))
        .args(["db", "copy", "--from"])
        .arg(db)
        .args(["--to", url])
        .env("XDG_DATA_HOME", data_home)
        .env("RUST_LOG", "warn")
        .env_remove("ATRIUM_DB")
        .env_remove("ATRIUM_CONFIG")
        .output()
        .await
        .expect("the atrium-server binary runs")
}

/// Rows per table in the schema, and how many outbox events are still pending.
async fn counts(schema: &Schema) -> (Vec<i64>, i64) {
    let (client, connection) = schema
        .config()
        .unwrap()
        .connect(tokio_postgres::NoTls)
        .await
        .unwrap();
    let driver = tokio::spawn(connection);
    let mut rows = Vec::new();
    for table in TABLES {
        let q = format!("SELECT COUNT(*) FROM {table}");
        rows.push(client.query_one(&q, &[]).await.unwrap().get(0));
    }
    let pending = client
        .query_one(
            "SELECT COUNT(*) FROM outbox WHERE delivered_at IS NULL AND failed_at IS NULL",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    drop(client);
    let _ = driver.await;
    (rows, pending)
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[tokio::test]
async fn a_sqlite_deployment_copied_into_postgresql_keeps_its_tokens_sessions_keys_and_events() {
    let Some(base) = testing::url() else {
        return;
    };
    // Retries at most a second apart, so the event pending at the move goes out soon after.
    let policy = Policy {
        max_retry_secs: 1,
        ..Policy::default()
    };
    let app = spawn_app_allowing_private_webhooks(policy).await;

    // State made the way users make it: accounts, an app registered through the developer
    // API with a webhook that nobody answers yet, a company, an install (its event pending),
    // an OpenID Connect sign-in (ID token, access and refresh token), a browser session.
    app.user("dev").await;
    app.user("alice").await;
    let dev = app.dashboard_token("dev").await;
    let alice = app.dashboard_token("alice").await;
    let hook_port = free_port();
    let res = app
        .call(
            "POST",
            "/api/developer/apps",
            &dev,
            Some(json!({
                "name": "Moving App",
                "description": "Moves to PostgreSQL",
                "redirect_uris": [REDIRECT],
                "webhook_url": format!("http://127.0.0.1:{hook_port}/hook"),
                "scopes": "openid profile company",
                "method": "code",
            })),
        )
        .await;
    assert_eq!(res.status(), 201);
    let created: Value = res.json().await.unwrap();
    let client = TestClient {
        client_id: created["app"]["client_id"].as_str().unwrap().into(),
        secret: created["client_secret"].as_str().map(String::from),
    };
    let webhook_secret = created["webhook_secret"].as_str().unwrap().to_string();
    let res = app
        .call(
            "POST",
            "/api/dashboard/companies",
            &alice,
            Some(json!({"name": "Acme"})),
        )
        .await;
    assert_eq!(res.status(), 201);
    let company = res.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let res = app
        .install(
            &alice,
            json!({"client_id": client.client_id, "company_id": company, "state": "st"}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let install = res.json::<Value>().await.unwrap()["install"]["id"]
        .as_i64()
        .unwrap();
    let (_, rp) = relying_party(&app, &client).await;
    let browser = app.browser("alice").await;
    let before = sign_in(&rp, &browser, &["profile"]).await;
    let access = before.access_token.secret().clone();
    let refresh = before.refresh_token.as_ref().unwrap().secret().clone();
    let res = app.api("/api/username", &access).await;
    assert_eq!(res.json::<Value>().await.unwrap()["username"], "alice");
    let stopped = app.stop().await;

    // The copy, by the real binary, into a fresh schema.
    let schema = Schema::create(&base).await.unwrap();
    let data_home = tempfile::tempdir().unwrap();
    let out = db_copy(&stopped.db_path, &schema.url(), data_home.path()).await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "db copy failed: {stderr}");
    for table in TABLES {
        assert!(
            stderr.contains(&format!("{table}: copied")),
            "no progress for {table}: {stderr}"
        );
    }
    assert!(stderr.contains("users: copied 2 rows"), "{stderr}");
    // The PostgreSQL deployment's key file is the SQLite deployment's.
    let key = std::fs::read(stopped.db_path.with_extension("key")).unwrap();
    assert_eq!(
        std::fs::read(data_home.path().join("atrium/atrium.key")).unwrap(),
        key
    );
    let (copied, pending) = counts(&schema).await;
    assert_eq!(pending, 1, "the install's event is still pending");
    let rows = |table: &str| copied[TABLES.iter().position(|t| *t == table).unwrap()];
    assert_eq!(
        (rows("users"), rows("installs"), rows("signing_keys")),
        (2, 1, 1)
    );

    // A second copy into the now non-empty database is refused and changes nothing.
    let again = db_copy(&stopped.db_path, &schema.url(), data_home.path()).await;
    assert!(!again.status.success());
    let stderr = String::from_utf8_lossy(&again.stderr);
    assert!(stderr.contains("already holds data"), "{stderr}");
    assert_eq!(counts(&schema).await, (copied, pending));

    // Served from PostgreSQL, same key file and address.
    let app = stopped.start_on_postgres(schema).await;
    assert!(app.postgres_url().is_some());
    // The access token issued before the move.
    let res = app.api("/api/username", &access).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.json::<Value>().await.unwrap()["username"], "alice");
    // The ID token signed before the move verifies against the new server's JWKS.
    let (_, rp) = relying_party(&app, &client).await;
    before
        .id_token
        .claims(&rp.id_token_verifier(), &before.nonce)
        .expect("the ID token from before the move verifies");
    // The session cookie still signs alice in (the desktop's flow needs a session).
    let desktop = app.desktop_token(&browser).await;
    let res = app.api("/api/username", &desktop).await;
    assert_eq!(res.json::<Value>().await.unwrap()["username"], "alice");
    // The refresh token rotates once; its reuse after the new one was used revokes the grant.
    let res = app.refresh(&client, &refresh).await;
    assert_eq!(res.status(), 200);
    let second: Value = res.json().await.unwrap();
    let res = app
        .refresh(&client, second["refresh_token"].as_str().unwrap())
        .await;
    assert_eq!(res.status(), 200);
    let third: Value = res.json().await.unwrap();
    let third_access = third["access_token"].as_str().unwrap();
    assert_eq!(app.api("/api/username", third_access).await.status(), 200);
    assert_oauth_error(app.refresh(&client, &refresh).await, "invalid_grant").await;
    assert_eq!(app.api("/api/username", third_access).await.status(), 401);
    // The event pending at the move is delivered, signed with the same webhook secret.
    let hook = receiver_on(hook_port).await;
    let event = hook.wait_for("app.installed", &webhook_secret).await;
    assert_eq!(event["install_id"], install);
}
