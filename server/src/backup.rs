//! Online backups and their restore (`atrium-server backup` and `restore`).
//!
//! A backup is one SQLite file: a consistent copy of the database taken with SQLite's online
//! backup API while the server keeps serving, plus the server's master key (see [`crate::keys`])
//! in its `server_meta` table. The key travels inside the backup because a database restored
//! without it is only half a server: every webhook secret, the launch-token signing key and the
//! tokens of refresh retries derive from it. One file cannot be restored with the wrong key or
//! without one. The price is that a backup is as secret as the key file: it is written readable
//! by its owner only (0600), and must be stored like the key.
//!
//! The copy holds one read transaction on the source from the first page to the last. In WAL
//! mode that blocks no writer, and it keeps the copy at one snapshot: SQLite restarts a backup
//! whose source another connection changed between steps, which under steady writes would
//! never finish.
//!
//! A restore verifies the file (integrity check, a schema version this server knows, the key)
//! on a staging copy beside the database, refuses to replace a database that a process has
//! open, keeps what it replaces under a `.pre-restore-<time>` name, and only then moves the
//! staged file and the key into place.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, OptionalExtension};

use crate::db::SCHEMA_VERSION;
use crate::keys::key_path_for;

/// Where in `server_meta` a backup keeps the master key (hex).
const KEY_ROW: &str = "backup.master_key";
/// When the backup was taken (Unix seconds) and by which server version.
const TAKEN_AT_ROW: &str = "backup.taken_at";
const VERSION_ROW: &str = "backup.server_version";

/// Pages copied per step (of usually 4 KiB): small enough to report progress often.
const PAGES_PER_STEP: i32 = 1024;

/// Backup and restore errors. None of them carries key material.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("there is no database at {0}")]
    NoDatabase(PathBuf),
    #[error(transparent)]
    Key(#[from] crate::keys::KeyError),
    #[error("the key file {0} is not 32 bytes")]
    BadKey(PathBuf),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {source}")]
    Sqlite {
        path: PathBuf,
        source: rusqlite::Error,
    },
    #[error("{path} fails SQLite's integrity check: {first_problem}")]
    Corrupt {
        path: PathBuf,
        first_problem: String,
    },
    #[error("{path} is not an Atrium database (no schema version)")]
    NotAtrium { path: PathBuf },
    #[error("{path} has schema version {found}, newer than this server knows ({known}); restore it with a newer atrium-server")]
    TooNew {
        path: PathBuf,
        found: i64,
        known: usize,
    },
    #[error("{0} holds no key: it was not made by `atrium-server backup`")]
    NoKeyInBackup(PathBuf),
    #[error("the database {path} is in use{by}; stop the server before restoring")]
    InUse { path: PathBuf, by: String },
}

/// How far a copy has got: pages copied and pages in all.
#[derive(Debug, Clone, Copy)]
pub struct Progress {
    pub copied: u64,
    pub total: u64,
}

/// What [`backup`] copied.
#[derive(Debug)]
pub struct BackupReport {
    pub pages: u64,
    pub bytes: u64,
    pub schema_version: i64,
}

/// What [`restore`] did.
#[derive(Debug)]
pub struct RestoreReport {
    pub schema_version: i64,
    /// Rows per table, for the operator to recognise the data.
    pub counts: Vec<(&'static str, i64)>,
    pub key_path: PathBuf,
    /// Where the database (and key) that were replaced now are.
    pub kept: Vec<PathBuf>,
    /// When the backup was taken (Unix seconds), if it says.
    pub taken_at: Option<i64>,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> BackupError + '_ {
    move |source| BackupError::Io {
        path: path.to_owned(),
        source,
    }
}

fn sql(path: &Path) -> impl FnOnce(rusqlite::Error) -> BackupError + '_ {
    move |source| BackupError::Sqlite {
        path: path.to_owned(),
        source,
    }
}

/// Copies the database at `db` and its key file into `to`, while a server may be writing to
/// the database. `to` is replaced only once the copy is complete. `progress` is called after
/// each step.
pub fn backup(
    db: &Path,
    to: &Path,
    mut progress: impl FnMut(Progress),
) -> Result<BackupReport, BackupError> {
    if !db.is_file() {
        return Err(BackupError::NoDatabase(db.to_owned()));
    }
    let key_path = key_path_for(db);
    if !key_path.exists() {
        // A database never served has no key yet: make it now, as the first start would, so
        // that the backup and the server it is restored into agree on it.
        crate::keys::ServerKeys::load_or_create(&key_path)?;
    }
    let key = std::fs::read(&key_path).map_err(io(&key_path))?;
    if key.len() != 32 {
        return Err(BackupError::BadKey(key_path));
    }
    // Never create a database here: open an existing one, and change nothing in it.
    let src = Connection::open_with_flags(
        db,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(sql(db))?;
    src.busy_timeout(Duration::from_secs(5)).map_err(sql(db))?;
    // One snapshot for the whole copy (see the module doc).
    src.execute_batch("BEGIN").map_err(sql(db))?;
    let schema_version: i64 = src
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .map_err(sql(db))?;

    let staging = sibling(to, &format!(".partial-{}", std::process::id()));
    let _ = std::fs::remove_file(&staging);
    create_private(&staging)?;
    let copied = copy_into(&src, &staging, &mut progress).and_then(|pages| {
        seal(&staging, &key, schema_version)?;
        Ok(pages)
    });
    let _ = src.execute_batch("COMMIT");
    let pages = match copied {
        Ok(p) => p,
        Err(e) => {
            let _ = std::fs::remove_file(&staging);
            return Err(e);
        }
    };
    std::fs::rename(&staging, to).map_err(io(to))?;
    sync_dir(to)?;
    let bytes = std::fs::metadata(to).map_err(io(to))?.len();
    Ok(BackupReport {
        pages,
        bytes,
        schema_version,
    })
}

/// Runs the online backup from `src` into the (empty) file `dest`; returns the pages copied.
fn copy_into(
    src: &Connection,
    dest: &Path,
    progress: &mut impl FnMut(Progress),
) -> Result<u64, BackupError> {
    use rusqlite::backup::{Backup, StepResult};
    let mut out = Connection::open(dest).map_err(sql(dest))?;
    let copy = Backup::new(src, &mut out).map_err(sql(dest))?;
    loop {
        let step = copy.step(PAGES_PER_STEP).map_err(sql(dest))?;
        let p = copy.progress();
        let total = p.pagecount.max(0) as u64;
        progress(Progress {
            copied: total.saturating_sub(p.remaining.max(0) as u64),
            total,
        });
        match step {
            StepResult::Done => return Ok(total),
            StepResult::Busy | StepResult::Locked => std::thread::sleep(Duration::from_millis(10)),
            _ => {}
        }
    }
}

/// Makes the copy one self-contained file (no WAL beside it) holding the key.
fn seal(path: &Path, key: &[u8], schema_version: i64) -> Result<(), BackupError> {
    let conn = Connection::open(path).map_err(sql(path))?;
    let _: String = conn
        .pragma_update_and_check(None, "journal_mode", "DELETE", |r| r.get(0))
        .map_err(sql(path))?;
    if schema_version > 0 {
        let now = crate::domain::now();
        conn.execute(
            "INSERT OR REPLACE INTO server_meta (key, value) VALUES (?1, ?2), (?3, ?4), (?5, ?6)",
            rusqlite::params![
                KEY_ROW,
                hex::encode(key),
                TAKEN_AT_ROW,
                now.to_string(),
                VERSION_ROW,
                crate::VERSION
            ],
        )
        .map_err(sql(path))?;
    }
    drop(conn);
    std::fs::File::open(path)
        .and_then(|f| f.sync_all())
        .map_err(io(path))
}

/// Verifies the backup `from` and puts it in place as the database `db`, with its key.
pub fn restore(from: &Path, db: &Path) -> Result<RestoreReport, BackupError> {
    if !from.is_file() {
        return Err(BackupError::NoDatabase(from.to_owned()));
    }
    ensure_not_in_use(db)?;
    if let Some(dir) = db.parent().filter(|d| !d.as_os_str().is_empty()) {
        // As the server would make it: readable by its owner only.
        let mut builder = std::fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        builder.create(dir).map_err(io(dir))?;
    }
    // Work on a copy: the backup itself is never changed.
    let staging = sibling(db, &format!(".restoring-{}", std::process::id()));
    let _ = std::fs::remove_file(&staging);
    create_private(&staging)?;
    let staged = (|| {
        let mut input = std::fs::File::open(from).map_err(io(from))?;
        let mut output = std::fs::OpenOptions::new()
            .write(true)
            .open(&staging)
            .map_err(io(&staging))?;
        std::io::copy(&mut input, &mut output).map_err(io(&staging))?;
        output.sync_all().map_err(io(&staging))?;
        verify_and_unseal(&staging, from)
    })();
    let (key, mut report) = match staged {
        Ok(v) => v,
        Err(e) => {
            let _ = std::fs::remove_file(&staging);
            return Err(e);
        }
    };
    // Checked again: a server may have started while the copy was verified.
    if let Err(e) = ensure_not_in_use(db) {
        let _ = std::fs::remove_file(&staging);
        return Err(e);
    }
    let stamp = crate::domain::now();
    let key_path = key_path_for(db);
    let mut kept = Vec::new();
    let mut sides = vec![db.to_owned(), key_path.clone()];
    for suffix in ["-wal", "-shm"] {
        let mut side = db.as_os_str().to_owned();
        side.push(suffix);
        sides.push(PathBuf::from(side));
    }
    // Each file moved aside is remembered with where it came from, so that a swap that fails
    // half-way puts everything back: never a data directory with no database or no key,
    // where the next start would quietly make an empty database and a new key.
    let mut moved: Vec<(PathBuf, PathBuf)> = Vec::new();
    let swapped = (|| {
        for path in sides {
            if path.exists() {
                let aside = sibling(&path, &format!(".pre-restore-{stamp}"));
                std::fs::rename(&path, &aside).map_err(io(&path))?;
                moved.push((path, aside));
            }
        }
        crate::keys::write_new(&key_path, &key).map_err(io(&key_path))?;
        std::fs::rename(&staging, db).map_err(io(db))?;
        sync_dir(db)
    })();
    if let Err(e) = swapped {
        let _ = std::fs::remove_file(&staging);
        if !moved.iter().any(|(original, _)| original == &key_path) {
            // No key was there before: the one just written (if any) goes too.
            let _ = std::fs::remove_file(&key_path);
        }
        for (original, aside) in moved.iter().rev() {
            let _ = std::fs::rename(aside, original);
        }
        return Err(e);
    }
    kept.extend(moved.into_iter().map(|(_, aside)| aside));
    report.key_path = key_path;
    report.kept = kept;
    Ok(report)
}

/// Checks the staged copy and takes the key out of it; the copy is left without it.
fn verify_and_unseal(
    staging: &Path,
    from: &Path,
) -> Result<([u8; 32], RestoreReport), BackupError> {
    let conn = Connection::open(staging).map_err(sql(from))?;
    let check: Vec<String> = {
        let mut stmt = conn
            .prepare("PRAGMA integrity_check(10)")
            .map_err(sql(from))?;
        let rows = stmt.query_map([], |r| r.get(0)).map_err(sql(from))?;
        rows.collect::<Result<_, _>>().map_err(sql(from))?
    };
    if check.first().map(String::as_str) != Some("ok") {
        return Err(BackupError::Corrupt {
            path: from.to_owned(),
            first_problem: check.into_iter().next().unwrap_or_default(),
        });
    }
    let schema_version: i64 = conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .map_err(sql(from))?;
    if schema_version <= 0 {
        return Err(BackupError::NotAtrium {
            path: from.to_owned(),
        });
    }
    if schema_version > SCHEMA_VERSION as i64 {
        return Err(BackupError::TooNew {
            path: from.to_owned(),
            found: schema_version,
            known: SCHEMA_VERSION,
        });
    }
    let meta = |key: &str| -> Result<Option<String>, BackupError> {
        conn.query_row("SELECT value FROM server_meta WHERE key = ?1", [key], |r| {
            r.get(0)
        })
        .optional()
        .map_err(sql(from))
    };
    let key: [u8; 32] = meta(KEY_ROW)?
        .and_then(|hex| hex::decode(hex).ok())
        .and_then(|bytes| bytes.try_into().ok())
        .ok_or_else(|| BackupError::NoKeyInBackup(from.to_owned()))?;
    let taken_at = meta(TAKEN_AT_ROW)?.and_then(|t| t.parse().ok());
    // The key leaves the database file: overwritten where it was, not just unlinked.
    conn.execute_batch("PRAGMA secure_delete = ON;")
        .map_err(sql(from))?;
    conn.execute(
        "DELETE FROM server_meta WHERE key IN (?1, ?2, ?3)",
        [KEY_ROW, TAKEN_AT_ROW, VERSION_ROW],
    )
    .map_err(sql(from))?;
    conn.execute_batch("VACUUM").map_err(sql(from))?;
    let mut counts = Vec::new();
    for table in ["users", "companies", "apps", "installs"] {
        // Table names from the list above, not from input.
        let n: i64 = conn
            .query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
            .unwrap_or(0);
        counts.push((table, n));
    }
    Ok((
        key,
        RestoreReport {
            schema_version,
            counts,
            key_path: PathBuf::new(),
            kept: Vec::new(),
            taken_at,
        },
    ))
}

/// Refuses when a process has the database open. Every SQLite connection to a WAL database
/// holds a shared lock on one byte of its `-shm` file (the "DMS" byte, 128) for as long as it
/// is open; asking the kernel who would block a write lock there finds any such process.
fn ensure_not_in_use(db: &Path) -> Result<(), BackupError> {
    let mut shm = db.as_os_str().to_owned();
    shm.push("-shm");
    let shm = PathBuf::from(shm);
    #[cfg(unix)]
    {
        use std::os::fd::AsRawFd;
        let file = match std::fs::File::open(&shm) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(io(&shm)(e)),
        };
        // SAFETY: a zeroed flock is a valid value; fcntl only reads and fills it.
        let mut lock: libc::flock = unsafe { std::mem::zeroed() };
        lock.l_type = libc::F_WRLCK as _;
        lock.l_whence = libc::SEEK_SET as _;
        lock.l_start = 128;
        lock.l_len = 1;
        // SAFETY: a valid descriptor and a pointer to a live flock.
        let rc = unsafe { libc::fcntl(file.as_raw_fd(), libc::F_GETLK, &mut lock) };
        if rc != 0 {
            return Err(io(&shm)(std::io::Error::last_os_error()));
        }
        if i32::from(lock.l_type) != libc::F_UNLCK {
            return Err(BackupError::InUse {
                path: db.to_owned(),
                by: format!(" by process {}", lock.l_pid),
            });
        }
    }
    #[cfg(not(unix))]
    let _ = shm;
    Ok(())
}

/// `path` with `suffix` added to its file name.
fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_owned();
    name.push(suffix);
    path.with_file_name(name)
}

/// Creates an empty file readable by its owner only.
fn create_private(path: &Path) -> Result<(), BackupError> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    let mut f = opts.open(path).map_err(io(path))?;
    f.flush().map_err(io(path))
}

/// Flushes the directory of `path`, so that a rename into it survives a crash.
fn sync_dir(path: &Path) -> Result<(), BackupError> {
    #[cfg(unix)]
    {
        let dir = path
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        std::fs::File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(io(dir))?;
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}
