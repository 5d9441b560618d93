//! What the shell keeps on disk, in the app's data directory:
//! - `session.json` — the user's tokens (and the sign-in's ID token), readable by the owner only (0600), never sent to the
//!   webview. (Where a desktop keyring runs it would be the better home; headless machines and
//!   CI have none, so the owner-only file is what ships today.)
//! - `settings.json` — the server URL the user chose.
//! - `cache.db` — SQLite: the last answer of each dashboard read, so the dashboard opens at once
//!   and still shows something when the server is unreachable.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

/// The signed-in session. Its `Debug` hides the tokens.
#[derive(Clone, Serialize, Deserialize)]
pub struct Session {
    pub server_url: String,
    pub access_token: String,
    pub refresh_token: Option<String>,
    /// Unix seconds.
    pub expires_at: i64,
    /// The ID token of the sign-in (`openid`), the hint that ends the browser's session on
    /// sign-out. Sessions saved before the desktop asked for it have none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("server_url", &self.server_url)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Settings {
    pub server_url: Option<String>,
}

/// Files of the shell, under one directory.
pub struct Disk {
    dir: PathBuf,
    cache: Mutex<Option<rusqlite::Connection>>,
}

impl Disk {
    pub fn new(dir: PathBuf) -> Disk {
        let cache = create_private_dir(&dir)
            .ok()
            .and_then(|_| open_cache(&dir.join("cache.db")).ok());
        if cache.is_none() {
            tracing::warn!(dir = %dir.display(), "the offline cache is unavailable");
        }
        Disk {
            dir,
            cache: Mutex::new(cache),
        }
    }

    pub fn load_session(&self) -> Option<Session> {
        let text = std::fs::read_to_string(self.dir.join("session.json")).ok()?;
        serde_json::from_str(&text).ok()
    }

    pub fn save_session(&self, s: &Session) -> std::io::Result<()> {
        let json = serde_json::to_vec(s).map_err(std::io::Error::other)?;
        write_private(&self.dir.join("session.json"), &json)
    }

    pub fn clear_session(&self) {
        let _ = std::fs::remove_file(self.dir.join("session.json"));
        if let Some(c) = self
            .cache
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
        {
            let _ = c.execute("DELETE FROM responses", []);
        }
    }

    pub fn load_settings(&self) -> Settings {
        std::fs::read_to_string(self.dir.join("settings.json"))
            .ok()
            .and_then(|t| serde_json::from_str(&t).ok())
            .unwrap_or_default()
    }

    pub fn save_settings(&self, s: &Settings) -> std::io::Result<()> {
        let json = serde_json::to_vec_pretty(s).map_err(std::io::Error::other)?;
        write_private(&self.dir.join("settings.json"), &json)
    }

    /// Remembers the last answer for `key`.
    pub fn cache_put(&self, key: &str, json: &str) {
        if let Some(c) = self
            .cache
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
        {
            let _ = c.execute(
                "INSERT INTO responses (key, body, saved_at) VALUES (?1, ?2, unixepoch())
                 ON CONFLICT (key) DO UPDATE SET body = excluded.body, saved_at = excluded.saved_at",
                [key, json],
            );
        }
    }

    /// The last answer for `key`, if any.
    pub fn cache_get(&self, key: &str) -> Option<String> {
        let guard = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        guard
            .as_ref()?
            .query_row("SELECT body FROM responses WHERE key = ?1", [key], |r| {
                r.get(0)
            })
            .ok()
    }
}

/// The data directory, created readable by its owner only (0700); it holds the tokens.
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

/// Creates `path` owner-only (0600), or takes group and other permissions from an existing
/// file. SQLite gives its `-wal` and `-shm` files the permissions of the database file.
fn make_private(path: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        let f = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .open(path)?;
        let mode = f.metadata()?.permissions().mode();
        if mode & 0o077 != 0 {
            f.set_permissions(std::fs::Permissions::from_mode(mode & 0o700))?;
        }
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

fn open_cache(path: &Path) -> rusqlite::Result<rusqlite::Connection> {
    // The cache holds the user's dashboard answers: owner-only, like the session.
    make_private(path).map_err(|e| {
        rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_CANTOPEN),
            Some(e.to_string()),
        )
    })?;
    let c = rusqlite::Connection::open(path)?;
    c.execute_batch(
        "PRAGMA journal_mode = WAL;
         CREATE TABLE IF NOT EXISTS responses (key TEXT PRIMARY KEY, body TEXT NOT NULL, saved_at INTEGER NOT NULL);",
    )?;
    Ok(c)
}

/// Writes a file readable by its owner only, atomically (write + rename), so a crash never
/// leaves half a session behind.
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = path.with_extension("tmp");
    {
        // A temporary file left by a crash may have any mode: start afresh, owner-only.
        let _ = std::fs::remove_file(&tmp);
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        let mut f = opts.open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
    }
    std::fs::rename(tmp, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sessions_are_owner_only_and_survive_a_reload() {
        let dir = tempfile::tempdir().unwrap();
        let disk = Disk::new(dir.path().to_path_buf());
        let s = Session {
            server_url: "http://127.0.0.1:8000".into(),
            access_token: "atr_at_secret".into(),
            refresh_token: Some("atr_rt_secret".into()),
            expires_at: 42,
            id_token: Some("id.token.secret".into()),
        };
        disk.save_session(&s).unwrap();
        assert!(!format!("{s:?}").contains("atr_at_secret"));
        assert!(!format!("{s:?}").contains("id.token.secret"));
        let again = Disk::new(dir.path().to_path_buf()).load_session().unwrap();
        assert_eq!(again.access_token, "atr_at_secret");
        assert_eq!(again.id_token.as_deref(), Some("id.token.secret"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join("session.json"))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        disk.clear_session();
        assert!(disk.load_session().is_none());
    }

    #[test]
    fn a_session_saved_before_the_id_token_was_kept_still_loads() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("session.json"),
            r#"{"server_url":"http://127.0.0.1:8000","access_token":"a","refresh_token":null,"expires_at":1}"#,
        )
        .unwrap();
        let s = Disk::new(dir.path().to_path_buf()).load_session().unwrap();
        assert_eq!(s.id_token, None);
    }

    #[cfg(unix)]
    #[test]
    fn the_data_directory_and_the_cache_files_are_owner_only() {
        use std::os::unix::fs::PermissionsExt;
        let parent = tempfile::tempdir().unwrap();
        let dir = parent.path().join("atrium");
        let disk = Disk::new(dir.clone());
        disk.cache_put("catalog", "[1]");
        let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&dir), 0o700, "data directory");
        for name in ["cache.db", "cache.db-wal", "cache.db-shm"] {
            assert_eq!(mode(&dir.join(name)), 0o600, "{name}");
        }
    }

    #[test]
    fn the_cache_keeps_the_last_answer() {
        let dir = tempfile::tempdir().unwrap();
        let disk = Disk::new(dir.path().to_path_buf());
        disk.cache_put("catalog", "[1]");
        disk.cache_put("catalog", "[2]");
        assert_eq!(disk.cache_get("catalog").as_deref(), Some("[2]"));
        assert_eq!(disk.cache_get("other"), None);
    }
}
