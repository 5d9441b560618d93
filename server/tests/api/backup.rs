//! `atrium-server backup` and `restore`, run as the real binary against a serving server: a
//! backup taken under install load restores every install acknowledged before it started,
//! with working tokens and the same keys; a restore refuses bad files and a database in use.

#![cfg(unix)]

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use serde_json::{json, Value};

use crate::helpers::*;

/// Companies to install the app into, one install each.
const COMPANIES: usize = 40;
/// Installs made at once.
const WORKERS: usize = 4;

/// Runs the server binary's `args` on the database `db`: (success, stdout, stderr).
async fn cli(db: &Path, args: &[&str]) -> (bool, String, String) {
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_atrium-server"))
        .arg("--db")
        .arg(db)
        .args(args)
        .env("RUST_LOG", "warn")
        .output()
        .await
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// An acknowledged install: its id and the tokens the app got for it.
#[derive(Debug, Clone)]
struct Installed {
    id: i64,
    access: String,
    refresh: String,
}

/// Installs the app into `company` and exchanges the code, as the app would.
async fn install(app: &TestApp, alice: &str, client: &TestClient, company: i64) -> Installed {
    let res = app
        .call(
            "POST",
            "/api/dashboard/installs",
            alice,
            Some(json!({
                "client_id": client.client_id,
                "company_id": company,
                "scope": "profile company",
                "state": "st",
            })),
        )
        .await;
    assert_eq!(res.status(), 200, "an install failed during the backup");
    let answer: Value = res.json().await.unwrap();
    let code = query_param(answer["redirect_to"].as_str().unwrap(), "code").unwrap();
    let tokens = app.exchange(client, &code, None).await;
    Installed {
        id: answer["install"]["id"].as_i64().unwrap(),
        access: tokens["access_token"].as_str().unwrap().into(),
        refresh: tokens["refresh_token"].as_str().unwrap().into(),
    }
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_backup_under_install_load_restores_every_install_acknowledged_before_it() {
    let app = Arc::new(spawn_app().await);
    let dev = app.user("dev").await;
    let alice_id = app.user("alice").await;
    let client = app.register(dev, AppSpec::code("profile company")).await;
    let alice = app.dashboard_token("alice").await;
    let mut companies = Vec::new();
    for i in 0..COMPANIES {
        companies.push(app.company(&format!("Company {i:02}"), alice_id).await);
    }
    let queue = Arc::new(Mutex::new(companies));
    let acknowledged = Arc::new(Mutex::new(Vec::<Installed>::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let workers: Vec<_> = (0..WORKERS)
        .map(|_| {
            let (app, alice, client) = (app.clone(), alice.clone(), client.clone());
            let (queue, acknowledged, stop) = (queue.clone(), acknowledged.clone(), stop.clone());
            tokio::spawn(async move {
                while !stop.load(Ordering::SeqCst) {
                    let Some(company) = queue.lock().unwrap().pop() else {
                        break;
                    };
                    let done = install(&app, &alice, &client, company).await;
                    acknowledged.lock().unwrap().push(done);
                }
            })
        })
        .collect();
    // Let the load get going, then back up while it goes on.
    while acknowledged.lock().unwrap().len() < 8 {
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    let before: Vec<Installed> = acknowledged.lock().unwrap().clone();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("atrium.backup");
    let (ok, out, err) = cli(&app.db_path, &["backup", "--to", file.to_str().unwrap()]).await;
    let during = acknowledged.lock().unwrap().len() - before.len();
    assert!(ok, "backup failed: {err}");
    assert!(out.contains("and its key"), "{out}");
    stop.store(true, Ordering::SeqCst);
    for w in workers {
        w.await.unwrap();
    }
    eprintln!(
        "{} installs acknowledged before the backup, {during} while it ran",
        before.len()
    );
    assert_eq!(mode(&file), 0o600, "the backup holds the key: owner only");

    let restored_db = dir.path().join("restored/atrium.db");
    let (ok, out, err) = cli(&restored_db, &["restore", "--from", file.to_str().unwrap()]).await;
    assert!(ok, "restore failed: {err}");
    assert!(out.contains("integrity check ok"), "{out}");
    assert_eq!(mode(&restored_db.with_extension("key")), 0o600);
    assert_eq!(mode(restored_db.parent().unwrap()), 0o700);
    assert_eq!(mode(&restored_db), 0o600);
    let restored = spawn_app_configured({
        let restored_db = restored_db.clone();
        move |s| s.db_path = restored_db
    })
    .await;

    for installed in &before {
        let res = restored
            .call(
                "GET",
                &format!("/api/dashboard/installs/{}", installed.id),
                &alice,
                None,
            )
            .await;
        assert_eq!(res.status(), 200, "install {} is missing", installed.id);
        assert_eq!(res.json::<Value>().await.unwrap()["state"], "active");
        let me = restored.api("/api/username", &installed.access).await;
        assert_eq!(me.status(), 200, "the access token of {}", installed.id);
        assert_eq!(me.json::<Value>().await.unwrap()["username"], "alice");
        let refreshed = restored
            .token(
                &client,
                &[
                    ("grant_type", "refresh_token"),
                    ("refresh_token", &installed.refresh),
                ],
            )
            .await;
        assert_eq!(
            refreshed.status(),
            200,
            "the refresh token of {}",
            installed.id
        );
    }
    // The same master key: the same launch-token signing key is published.
    let jwks = |base: String| async move {
        http()
            .get(format!("{base}/.well-known/jwks.json"))
            .send()
            .await
            .unwrap()
            .json::<Value>()
            .await
            .unwrap()
    };
    assert_eq!(
        jwks(app.base.clone()).await,
        jwks(restored.base.clone()).await
    );
}

#[tokio::test]
async fn restore_refuses_a_database_that_a_server_has_open() {
    let app = spawn_app().await;
    app.user("ada").await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("atrium.backup");
    let (ok, _, err) = cli(&app.db_path, &["backup", "--to", file.to_str().unwrap()]).await;
    assert!(ok, "{err}");
    let before = std::fs::read(&app.db_path).unwrap();

    let (ok, _, err) = cli(&app.db_path, &["restore", "--from", file.to_str().unwrap()]).await;
    assert!(!ok, "restored over a database in use");
    assert!(err.contains("in use"), "{err}");
    assert_eq!(std::fs::read(&app.db_path).unwrap(), before);
    let res = http().get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn restore_refuses_files_that_are_not_whole_backups_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("new/atrium.db");

    let garbage = dir.path().join("garbage");
    std::fs::write(&garbage, vec![7u8; 8192]).unwrap();
    let (ok, _, err) = cli(&target, &["restore", "--from", garbage.to_str().unwrap()]).await;
    assert!(!ok);
    assert!(err.contains("garbage"), "{err}");

    // A database copied without the key (as `cp` would) is not a backup.
    let app = spawn_app().await;
    app.user("ada").await;
    let copy = dir.path().join("copy.db");
    let copy_path = copy.clone();
    app.db()
        .write(move |c| {
            c.execute("VACUUM INTO ?1", [copy_path.to_str().unwrap()])?;
            Ok::<_, atrium_server::db::DbError>(())
        })
        .await
        .unwrap();
    let (ok, _, err) = cli(&target, &["restore", "--from", copy.to_str().unwrap()]).await;
    assert!(!ok);
    assert!(err.contains("holds no key"), "{err}");

    assert!(!target.exists(), "a failed restore left a database");
    assert!(!target.with_extension("key").exists());
    let leftovers: Vec<_> = std::fs::read_dir(target.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}
