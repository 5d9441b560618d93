//! Refresh-token rotation when an answer is lost: a client whose rotation committed but whose
//! answer never arrived (the server died, the connection dropped) retries with the refresh
//! token it still holds. Inside the reuse interval, while the new refresh token is unused, the
//! retry gets the same new pair; otherwise reuse detection revokes the grant (RFC 9700 §4.14.2).
//! The retry is tested after a lost answer, across a restart of the server on the same
//! database, and across a kill of the real binary.

use serde_json::Value;

use crate::helpers::*;

struct Grant {
    app: TestApp,
    client: TestClient,
    tokens: Value,
}

async fn grant(app: TestApp) -> Grant {
    let (client, code) = app.alice_allows(AppSpec::code("profile"), "profile").await;
    let tokens = app.exchange(&client, &code, None).await;
    Grant {
        app,
        client,
        tokens,
    }
}

/// A refresh with `refresh_token` by `client`: the status and the answer.
async fn refresh(app: &TestApp, client: &TestClient, refresh_token: &Value) -> (u16, Value) {
    let res = app.refresh(client, refresh_token.as_str().unwrap()).await;
    (res.status().as_u16(), res.json().await.unwrap())
}

async fn api_status(app: &TestApp, tokens: &Value) -> u16 {
    app.api("/api/username", tokens["access_token"].as_str().unwrap())
        .await
        .status()
        .as_u16()
}

#[tokio::test]
async fn refresh_retry_after_lost_answer_gets_the_same_pair() {
    let Grant {
        app,
        client,
        tokens,
    } = grant(spawn_app().await).await;
    // The rotation commits; the client never reads this answer.
    let (status, lost) = refresh(&app, &client, &tokens["refresh_token"]).await;
    assert_eq!(status, 200);
    // The client retries with the refresh token it still has.
    let (status, retried) = refresh(&app, &client, &tokens["refresh_token"]).await;
    assert_eq!(status, 200, "the retry was treated as reuse: {retried}");
    assert_eq!(retried["access_token"], lost["access_token"]);
    assert_eq!(retried["refresh_token"], lost["refresh_token"]);
    assert_eq!(retried["token_type"], "Bearer");
    assert_eq!(retried["scope"], "profile");
    let expires_in = retried["expires_in"].as_i64().unwrap();
    assert!(expires_in > 0 && expires_in <= 3600, "{expires_in}");
    // The grant lives on: the pair works and rotates as usual.
    assert_eq!(api_status(&app, &retried).await, 200);
    let (status, next) = refresh(&app, &client, &retried["refresh_token"]).await;
    assert_eq!(status, 200, "{next}");
    assert_eq!(api_status(&app, &next).await, 200);
}

#[tokio::test]
async fn refresh_retry_across_a_server_restart_gets_the_same_pair() {
    let Grant {
        app,
        client,
        tokens,
    } = grant(spawn_app().await).await;
    let (status, lost) = refresh(&app, &client, &tokens["refresh_token"]).await;
    assert_eq!(status, 200);
    // The server goes away before the client reads the answer, and comes back on the same
    // database and key file.
    let app = app.restart().await;
    let (status, retried) = refresh(&app, &client, &tokens["refresh_token"]).await;
    assert_eq!(status, 200, "the retry was treated as reuse: {retried}");
    assert_eq!(retried["access_token"], lost["access_token"]);
    assert_eq!(retried["refresh_token"], lost["refresh_token"]);
    assert_eq!(api_status(&app, &retried).await, 200);
    let (status, _) = refresh(&app, &client, &retried["refresh_token"]).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn refresh_reuse_after_the_new_token_was_used_revokes_the_family() {
    refresh_reuse_after_the_new_token_was_used_revokes_the_family_on(spawn_app().await).await;
}

/// The same flow on PostgreSQL (skipped without `ATRIUM_TEST_POSTGRES_URL`).
#[tokio::test]
async fn refresh_reuse_revokes_the_family_on_postgresql() {
    if let Some(app) = spawn_app_on_postgres(false).await {
        refresh_reuse_after_the_new_token_was_used_revokes_the_family_on(app).await;
    }
}

async fn refresh_reuse_after_the_new_token_was_used_revokes_the_family_on(app: TestApp) {
    let Grant {
        app,
        client,
        tokens,
    } = grant(app).await;
    let (_, second) = refresh(&app, &client, &tokens["refresh_token"]).await;
    // The client got its answer and moved on: it used the new refresh token.
    let (status, third) = refresh(&app, &client, &second["refresh_token"]).await;
    assert_eq!(status, 200);
    assert_eq!(api_status(&app, &third).await, 200);
    // The old refresh token comes back, inside the interval: that is reuse, not a retry.
    let (status, answer) = refresh(&app, &client, &tokens["refresh_token"]).await;
    assert_eq!(status, 400);
    assert_eq!(answer["error"], "invalid_grant");
    assert!(answer.get("access_token").is_none());
    assert_eq!(api_status(&app, &third).await, 401, "the grant is revoked");
    let (status, _) = refresh(&app, &client, &third["refresh_token"]).await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn refresh_reuse_after_the_interval_revokes_the_family() {
    let app = spawn_app_configured(|s| s.refresh_reuse_interval = 1).await;
    let Grant {
        app,
        client,
        tokens,
    } = grant(app).await;
    let (status, second) = refresh(&app, &client, &tokens["refresh_token"]).await;
    assert_eq!(status, 200);
    // Rotation times are whole seconds: wait until the interval is over for sure.
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    let (status, answer) = refresh(&app, &client, &tokens["refresh_token"]).await;
    assert_eq!(status, 400);
    assert_eq!(answer["error"], "invalid_grant");
    assert_eq!(api_status(&app, &second).await, 401, "the grant is revoked");
    let (status, _) = refresh(&app, &client, &second["refresh_token"]).await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn a_zero_reuse_interval_treats_every_retry_as_reuse() {
    let app = spawn_app_configured(|s| s.refresh_reuse_interval = 0).await;
    let Grant {
        app,
        client,
        tokens,
    } = grant(app).await;
    let (_, second) = refresh(&app, &client, &tokens["refresh_token"]).await;
    let (status, _) = refresh(&app, &client, &tokens["refresh_token"]).await;
    assert_eq!(status, 400);
    assert_eq!(api_status(&app, &second).await, 401, "the grant is revoked");
}

#[tokio::test]
async fn a_refresh_retry_by_another_client_gets_nothing() {
    let Grant {
        app,
        client,
        tokens,
    } = grant(spawn_app().await).await;
    let dev = app.user("mallory").await;
    let other = app.register(dev, AppSpec::code("profile")).await;
    let (_, second) = refresh(&app, &client, &tokens["refresh_token"]).await;
    let (status, answer) = refresh(&app, &other, &tokens["refresh_token"]).await;
    assert_eq!(status, 400);
    assert_eq!(answer["error"], "invalid_grant");
    assert!(answer.get("refresh_token").is_none());
    assert_eq!(api_status(&app, &second).await, 200);
}

/// A running `atrium-server serve`, killed (SIGKILL: no shutdown at all) when dropped.
struct Served(std::process::Child);

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The real `atrium-server` binary serving `db` on `port`, ready to answer.
async fn serve(db: &std::path::Path, port: u16) -> Served {
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_atrium-server"))
        .arg("--db")
        .arg(db)
        .args(["serve", "--addr", &format!("127.0.0.1:{port}")])
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let served = Served(child);
    for _ in 0..200 {
        if http()
            .get(format!("http://127.0.0.1:{port}/healthz"))
            .send()
            .await
            .is_ok_and(|r| r.status() == 200)
        {
            return served;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    panic!("the server did not start");
}

/// Runs the CLI on `db` and returns what it printed.
fn cli(db: &std::path::Path, args: &[&str], stdin: &str) -> String {
    use std::io::Write;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_atrium-server"))
        .arg("--db")
        .arg(db)
        .args(args)
        .env("RUST_LOG", "warn")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{args:?} failed");
    String::from_utf8(out.stdout).unwrap()
}

#[tokio::test]
async fn refresh_retry_after_the_server_was_killed_gets_the_same_pair() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("atrium.db");
    cli(&db, &["user", "add", "alice", "--password-stdin"], PASSWORD);
    let created: Value = serde_json::from_str(&cli(
        &db,
        &[
            "app",
            "add",
            "--owner",
            "alice",
            "--name",
            "Crash",
            "--redirect-uri",
            REDIRECT,
            "--scopes",
            "profile",
        ],
        "",
    ))
    .unwrap();
    let id = created["client_id"].as_str().unwrap().to_string();
    let secret = created["client_secret"].as_str().unwrap().to_string();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let base = format!("http://127.0.0.1:{port}");
    let token = |form: Vec<(&'static str, String)>| {
        let (id, secret, base) = (id.clone(), secret.clone(), base.clone());
        async move {
            let mut form = form;
            form.push(("client_id", id));
            form.push(("client_secret", secret));
            let res = http()
                .post(format!("{base}/oauth2/token"))
                .form(&form)
                .send()
                .await
                .unwrap();
            (res.status().as_u16(), res.json::<Value>().await.unwrap())
        }
    };

    let server = serve(&db, port).await;
    let browser = Browser::new(&base);
    browser.login("alice", PASSWORD).await;
    let location = browser
        .authorize_and_allow(&[
            ("response_type", "code"),
            ("client_id", &id),
            ("redirect_uri", REDIRECT),
            ("scope", "profile"),
            ("state", "s"),
        ])
        .await;
    let code = query_param(&location, "code").unwrap();
    let (status, first) = token(vec![
        ("grant_type", "authorization_code".into()),
        ("code", code),
        ("redirect_uri", REDIRECT.into()),
    ])
    .await;
    assert_eq!(status, 200, "{first}");
    let old = first["refresh_token"].as_str().unwrap().to_string();
    let refresh = || {
        token(vec![
            ("grant_type", "refresh_token".into()),
            ("refresh_token", old.clone()),
        ])
    };
    let (status, lost) = refresh().await;
    assert_eq!(status, 200);
    // The server is killed (no shutdown at all) before the client got to read the answer.
    drop(server);
    let server = serve(&db, port).await;
    let (status, retried) = refresh().await;
    assert_eq!(status, 200, "the retry was treated as reuse: {retried}");
    assert_eq!(retried["access_token"], lost["access_token"]);
    assert_eq!(retried["refresh_token"], lost["refresh_token"]);
    let res = http()
        .get(format!("{base}/api/username"))
        .bearer_auth(retried["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    drop(server);
}
