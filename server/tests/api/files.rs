//! What the server leaves on disk is readable by its owner only: the database, its WAL and
//! shared-memory files, the key file, and a data directory it creates.

#![cfg(unix)]

use std::os::unix::fs::PermissionsExt;

use crate::helpers::*;

fn mode(path: &std::path::Path) -> u32 {
    std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o777
}

#[tokio::test]
async fn the_database_its_wal_and_shm_the_key_and_the_data_directory_are_owner_only() {
    let parent = tempfile::tempdir().unwrap();
    let data = parent.path().join("data");
    let db_path = data.join("atrium.db");
    let app = spawn_app_configured({
        let db_path = db_path.clone();
        move |s| s.db_path = db_path
    })
    .await;
    // A write, so that the WAL and the shared-memory file exist.
    app.user("ada").await;
    let res = http().get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(mode(&data), 0o700, "the data directory");
    for name in ["atrium.db", "atrium.db-wal", "atrium.db-shm", "atrium.key"] {
        assert_eq!(mode(&data.join(name)), 0o600, "{name}");
    }
}

#[tokio::test]
async fn an_existing_database_readable_by_others_is_made_owner_only_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let db_path = dir.path().join("atrium.db");
    std::fs::write(&db_path, b"").unwrap();
    std::fs::set_permissions(&db_path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let app = spawn_app_configured({
        let db_path = db_path.clone();
        move |s| s.db_path = db_path
    })
    .await;
    let res = http().get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(mode(&db_path), 0o600);
}
