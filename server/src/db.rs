//! SQLite storage: one place that opens connections, sets pragmas and runs migrations.
//!
//! SQLite calls block, so they run off the async workers. Reads take a connection from a small
//! pool on tokio's blocking pool; WAL lets them proceed while a write is under way. Writes all
//! go to one connection owned by a dedicated writer thread, which runs them one after another
//! in the order they were asked for. SQLite admits one writer at a time anyway; queueing
//! writers here is far cheaper than letting several connections race for the lock (the losers
//! sleep in SQLite's busy handler: 1, 2, 5, 10 ms...), and a thread that takes the next write
//! off its queue at once never idles between writes, where a lock handed from one blocking
//! task to the next would be held across each thread hand-off.
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rusqlite::Connection;
use tokio::sync::Semaphore;

/// Versioned schema migrations, applied in order; `PRAGMA user_version` records how many ran.
/// Never edit a released migration: append a new one.
const MIGRATIONS: &[&str] = &[
    // 1: bookkeeping.
    "CREATE TABLE server_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT;",
    // 2: the authorization server.
    include_str!("../migrations/002_oauth.sql"),
    // 3: installs and the notification outbox.
    include_str!("../migrations/003_installs.sql"),
    // 4: application types, install URLs, the desktop's redirect, single-use login forms.
    include_str!("../migrations/004_trust.sql"),
    // 5: code replays seen, refresh retries.
    include_str!("../migrations/005_grant_races.sql"),
    // 6: indexes for pruning and paging.
    include_str!("../migrations/007_retention.sql"),
    // 7: invitations to join a company.
    include_str!("../migrations/009_invitations.sql"),
    // 8: OpenID Connect: signing keys, nonce and auth_time on codes, client fields.
    include_str!("../migrations/010_openid_connect.sql"),
    // 9: the inbox: apps' notifications to their users, read state, badges.
    include_str!("../migrations/011_inbox.sql"),
    // 10: failed sign-ins counted for the back-off.
    include_str!("../migrations/012_login_backoff.sql"),
    // 11: the desktop may ask for `openid` and return to `atrium://signed-out` after logout.
    include_str!("../migrations/013_desktop_logout.sql"),
];

/// The schema version this server migrates databases to (`PRAGMA user_version`).
pub const SCHEMA_VERSION: usize = MIGRATIONS.len();

/// Why the database cannot serve requests, as `GET /readyz` says.
#[derive(Debug, thiserror::Error)]
pub enum NotReady {
    #[error("the database does not answer: {0}")]
    Unavailable(String),
    #[error("the database has schema version {found}, but this server needs {expected}")]
    Schema { found: i64, expected: usize },
}

/// Storage errors.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("cannot create the database directory {path}: {source}")]
    CreateDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot create the database {path}: {source}")]
    CreateFile {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot open the database {path}: {source}")]
    Open {
        path: PathBuf,
        source: rusqlite::Error,
    },
    #[error("the database {path} has schema version {found}, newer than this server knows ({known}); upgrade atrium-server")]
    TooNew {
        path: PathBuf,
        found: usize,
        known: usize,
    },
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("a database task panicked or was cancelled")]
    TaskFailed,
}

/// A cheap-to-clone handle to the database.
#[derive(Clone)]
pub struct Db {
    inner: Arc<Inner>,
}

struct Inner {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
    permits: Semaphore,
    writer: std::sync::mpsc::Sender<WriteJob>,
    /// A connection of its own for [`Db::readiness`], so a health check never queues behind
    /// reads.
    health: Mutex<Connection>,
}

/// A write for the writer thread; it sends its own result back.
type WriteJob = Box<dyn FnOnce(&mut Connection) + Send>;

/// Starts the thread that owns the writer connection. It ends (closing the connection) when
/// the last [`Db`] handle is dropped.
fn spawn_writer(mut conn: Connection) -> Result<std::sync::mpsc::Sender<WriteJob>, DbError> {
    let (jobs, queue) = std::sync::mpsc::channel::<WriteJob>();
    std::thread::Builder::new()
        .name("atrium-db-writer".into())
        .spawn(move || {
            while let Ok(job) = queue.recv() {
                // A panicking write loses only its own answer (its caller sees `TaskFailed`);
                // the thread and the connection carry on with the next one.
                let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| job(&mut conn)));
            }
        })
        .map_err(|_| DbError::TaskFailed)?;
    Ok(jobs)
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Db")
            .field("path", &self.inner.path)
            .finish()
    }
}

impl Db {
    /// Opens (creating if needed) the database at `path` and brings its schema up to date.
    pub fn open(path: &Path) -> Result<Db, DbError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            create_private_dir(dir).map_err(|source| DbError::CreateDir {
                path: dir.to_owned(),
                source,
            })?;
        }
        make_private_file(path).map_err(|source| DbError::CreateFile {
            path: path.to_owned(),
            source,
        })?;
        let mut conn = open_connection(path)?;
        migrate(&mut conn, path)?;
        let size = std::thread::available_parallelism().map_or(4, |n| n.get() * 2);
        let reader = open_connection(path)?;
        let health = open_connection(path)?;
        health.busy_timeout(Duration::from_millis(100))?;
        Ok(Db {
            inner: Arc::new(Inner {
                path: path.to_owned(),
                idle: Mutex::new(vec![reader]),
                permits: Semaphore::new(size),
                writer: spawn_writer(conn)?,
                health: Mutex::new(health),
            }),
        })
    }

    /// Whether the database answers and its schema is the one this server migrates to, read
    /// on a connection kept for this alone, which neither waits for the read pool nor for the
    /// blocking threads; it takes microseconds (one page, usually cached), so it runs where it
    /// is called. What `GET /readyz` reports.
    pub fn readiness(&self) -> Result<(), NotReady> {
        let conn = self.inner.health.lock().unwrap_or_else(|e| e.into_inner());
        let found: i64 = conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .map_err(|e| NotReady::Unavailable(e.to_string()))?;
        if usize::try_from(found).ok() != Some(SCHEMA_VERSION) {
            return Err(NotReady::Schema {
                found,
                expected: SCHEMA_VERSION,
            });
        }
        Ok(())
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// Runs `f`, which only reads, with a pooled connection on the blocking pool.
    pub async fn call<T, E, F>(&self, f: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<DbError> + Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, E> + Send + 'static,
    {
        let _permit = self
            .inner
            .permits
            .acquire()
            .await
            .map_err(|_| DbError::TaskFailed)?;
        let inner = Arc::clone(&self.inner);
        tokio::task::spawn_blocking(move || {
            let pooled = inner.idle.lock().unwrap_or_else(|e| e.into_inner()).pop();
            let mut conn = match pooled {
                Some(c) => c,
                None => open_connection(&inner.path)?,
            };
            let out = f(&mut conn);
            inner
                .idle
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(conn);
            out
        })
        .await
        .map_err(|_| DbError::TaskFailed)?
    }

    /// Runs `f`, which writes, on the writer thread. Writes run in the order they were asked.
    pub async fn write<T, E, F>(&self, f: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<DbError> + Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, E> + Send + 'static,
    {
        let (answer, answered) = tokio::sync::oneshot::channel();
        let job: WriteJob = Box::new(move |conn| {
            let _ = answer.send(f(conn));
        });
        self.inner
            .writer
            .send(job)
            .map_err(|_| DbError::TaskFailed)?;
        answered.await.map_err(|_| DbError::TaskFailed)?
    }
}

/// Creates the directories of the database that do not exist yet, readable by the owner only
/// (0700). Directories that exist are left as the operator made them.
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

/// Creates the database file readable by its owner only (0600), or takes group and other
/// permissions away from an existing one. SQLite gives the `-wal` and `-shm` files it creates
/// the permissions of the database file, so they are owner-only too.
fn make_private_file(path: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .open(path)?;
        let mode = file.metadata()?.permissions().mode();
        if mode & 0o077 != 0 {
            file.set_permissions(std::fs::Permissions::from_mode(mode & 0o700))?;
            tracing::info!(path = %path.display(), "made the database readable by its owner only");
        }
        for suffix in ["-wal", "-shm"] {
            let mut side = path.as_os_str().to_owned();
            side.push(suffix);
            if let Ok(meta) = std::fs::metadata(&side) {
                let mode = meta.permissions().mode();
                if mode & 0o077 != 0 {
                    std::fs::set_permissions(&side, std::fs::Permissions::from_mode(mode & 0o700))?;
                }
            }
        }
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

/// Opens one connection with Atrium's pragmas. Every connection goes through here.
fn open_connection(path: &Path) -> Result<Connection, DbError> {
    let open_err = |source| DbError::Open {
        path: path.to_owned(),
        source,
    };
    let conn = Connection::open(path).map_err(open_err)?;
    conn.busy_timeout(Duration::from_secs(5))
        .map_err(open_err)?;
    // Every statement of the store stays compiled (the default keeps 16; the writer alone
    // runs more than that).
    conn.set_prepared_statement_cache_capacity(64);
    // WAL is a property of the file: set once, by the first connection. A connection that
    // asks for it again while others read and write can be refused at once with "database is
    // locked" (the mode change is not retried by the busy handler), which a burst of new pooled
    // readers did.
    let mode: String = conn
        .pragma_query_value(None, "journal_mode", |r| r.get(0))
        .map_err(open_err)?;
    if !mode.eq_ignore_ascii_case("wal") {
        conn.execute_batch("PRAGMA journal_mode = WAL;")
            .map_err(open_err)?;
    }
    conn.execute_batch(
        "PRAGMA synchronous = NORMAL;
         PRAGMA foreign_keys = ON;",
    )
    .map_err(open_err)?;
    Ok(conn)
}

/// Applies the migrations this database has not seen yet, each in its own transaction.
fn migrate(conn: &mut Connection, path: &Path) -> Result<(), DbError> {
    let applied: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    let applied = usize::try_from(applied).unwrap_or(usize::MAX);
    if applied > MIGRATIONS.len() {
        return Err(DbError::TooNew {
            path: path.to_owned(),
            found: applied,
            known: MIGRATIONS.len(),
        });
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(applied) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", (i + 1) as i64)?;
        tx.commit()?;
        tracing::info!(version = i + 1, "applied database migration");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// SQLite 3.51.0 and 3.51.1 can deadlock when two connections to one database close on two
    /// threads at once: `unixClose` takes the VFS's global mutex, then the file's; the WAL close
    /// of the other (`unixLock` → `unixIsSharingShmNode`) takes them the other way round. A
    /// `Db` closes its writer on the writer thread and its readers where its last handle
    /// drops, so the conformance checks, which drop a database per check, hung CI that way
    /// (both stacks were seen in gdb). Fixed in SQLite 3.51.2: the bundled one must not be older.
    #[test]
    fn the_bundled_sqlite_has_the_fix_for_the_close_deadlock() {
        assert!(
            rusqlite::version_number() >= 3_051_002,
            "SQLite {} deadlocks on concurrent closes; bundle 3.51.2 or later",
            rusqlite::version()
        );
    }

    #[tokio::test]
    async fn opening_twice_keeps_the_schema_version_and_the_data() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested/atrium.db");
        let db = Db::open(&path).unwrap();
        db.call(|c| {
            c.execute("INSERT INTO server_meta VALUES ('k', 'v')", [])?;
            Ok::<_, DbError>(())
        })
        .await
        .unwrap();
        drop(db);
        let db = Db::open(&path).unwrap();
        let (version, value): (i64, String) = db
            .call(|c| {
                let v = c.pragma_query_value(None, "user_version", |r| r.get(0))?;
                let s = c.query_row("SELECT value FROM server_meta WHERE key='k'", [], |r| {
                    r.get(0)
                })?;
                Ok::<_, DbError>((v, s))
            })
            .await
            .unwrap();
        assert_eq!(version as usize, MIGRATIONS.len());
        assert_eq!(value, "v");
    }

    #[tokio::test]
    async fn concurrent_writes_all_land_and_survive_a_panicking_one() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&dir.path().join("atrium.db")).unwrap();
        let pending: Vec<_> = (0..20)
            .map(|i| {
                let db = db.clone();
                tokio::spawn(async move {
                    db.write(move |c| {
                        c.execute("INSERT INTO server_meta VALUES (?1, 'v')", [i.to_string()])?;
                        Ok::<_, DbError>(())
                    })
                    .await
                })
            })
            .collect();
        for p in pending {
            p.await.unwrap().unwrap();
        }
        let failed = db
            .write(|_| -> Result<(), DbError> { panic!("a bug in one write") })
            .await;
        assert!(matches!(failed, Err(DbError::TaskFailed)));
        let count: i64 = db
            .write(|c| {
                Ok::<_, DbError>(c.query_row("SELECT count(*) FROM server_meta", [], |r| r.get(0))?)
            })
            .await
            .unwrap();
        assert_eq!(count, 20);
    }

    #[test]
    fn a_database_from_a_newer_server_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("atrium.db");
        let conn = Connection::open(&path).unwrap();
        conn.pragma_update(None, "user_version", 999).unwrap();
        drop(conn);
        let err = Db::open(&path).unwrap_err();
        assert!(matches!(err, DbError::TooNew { found: 999, .. }), "{err}");
    }
}
