//! `atrium-server db copy`: a SQLite deployment copied into an empty PostgreSQL database, so
//! it can move to several replicas without losing a user, token, grant, install or pending
//! event.
//!
//! **Consistency.** SQLite is read inside one read transaction (WAL gives it a snapshot), so a
//! server still writing cannot tear the copy; what it writes after the snapshot is not
//! copied, which is why the server should be stopped first. PostgreSQL is written in one
//! transaction: all or nothing.
//!
//! **Same rows, same ids.** Every row is inserted with its own id (so `sub` claims, cursors and
//! references stay valid); each identity sequence is then moved past the largest id copied.
//! Digests, wrapped signing keys and times are copied byte for byte; SQLite's 0/1 flags become
//! PostgreSQL booleans. Tables go in the order their foreign keys need ([`TABLES`]).
//!
//! **Checks.** The target must be empty (its migrations run first; the only row they make,
//! the desktop client, is replaced by the copied one). Before committing, every table's row
//! count is compared with SQLite's, and the copied signing keys are unwrapped with the key
//! file the PostgreSQL deployment will use, which must be the SQLite deployment's.

use std::path::{Path, PathBuf};

use rusqlite::types::Value;
use rusqlite::{Connection, OpenFlags};
use tokio_postgres::types::ToSql;

mod tables;

use tables::Kind::{self, *};
use tables::{Table, TABLES};

/// Rows sent to PostgreSQL at once (pipelined on the one connection).
const CHUNK: usize = 500;

/// Why a copy did not happen. Nothing was written to PostgreSQL in any of these cases but
/// [`CopyError::KeyWrite`].
#[derive(Debug, thiserror::Error)]
pub enum CopyError {
    #[error("cannot read the SQLite database {path}: {source}")]
    Source {
        path: PathBuf,
        source: rusqlite::Error,
    },
    #[error("the SQLite database {path} has schema version {found}, but this atrium-server copies version {known}; run `atrium-server --db {path} migrate` with this version first")]
    SourceVersion {
        path: PathBuf,
        found: i64,
        known: usize,
    },
    #[error("cannot read the key file {path} (it belongs beside the SQLite database): {source}")]
    Key {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("copied and committed, but the key file could not be written to {path} ({source}): copy {source_key} there (mode 0600) before starting the server on PostgreSQL")]
    KeyWrite {
        path: PathBuf,
        source_key: PathBuf,
        source: std::io::Error,
    },
    #[error("the key file {0} is not 32 bytes")]
    KeyCorrupt(PathBuf),
    #[error("the PostgreSQL deployment's key file {target} differs from the SQLite deployment's {source_key}: the copied signing keys and webhook secrets need the same key. Remove {target} (if nothing uses it) or copy {source_key} over it, then run the copy again")]
    KeyMismatch {
        target: PathBuf,
        source_key: PathBuf,
    },
    #[error("the PostgreSQL database already holds data ({rows} rows in table {table}); `db copy` only fills an empty database. Nothing was changed")]
    NotEmpty { table: &'static str, rows: i64 },
    #[error("table {table}: {copied} rows arrived in PostgreSQL but SQLite holds {expected}; rolled back, nothing was changed")]
    CountMismatch {
        table: &'static str,
        expected: i64,
        copied: i64,
    },
    #[error("the copied signing keys do not open with the key file {path}: {source}; rolled back, nothing was changed")]
    Unwrap {
        path: PathBuf,
        source: crate::jose::JoseError,
    },
    #[error("table {table}: {source}; rolled back, nothing was changed")]
    Insert {
        table: &'static str,
        source: tokio_postgres::Error,
    },
    #[error(transparent)]
    Postgres(#[from] crate::store::postgres::PgError),
}

impl From<tokio_postgres::Error> for CopyError {
    fn from(e: tokio_postgres::Error) -> Self {
        CopyError::Postgres(e.into())
    }
}

/// What was copied.
#[derive(Debug)]
pub struct CopyReport {
    /// Rows per table, in copy order.
    pub counts: Vec<(&'static str, i64)>,
    /// Where the PostgreSQL deployment's key file is.
    pub key_path: PathBuf,
    /// Whether the copy put the key file there (it was not there yet).
    pub key_written: bool,
}

/// Copies the SQLite database at `from` (and checks its key, beside it) into the empty
/// PostgreSQL database at `to`, whose deployment reads its key from `target_key`. `progress`
/// hears each table's name and row count once copied.
pub async fn copy(
    from: &Path,
    to: &str,
    target_key: &Path,
    mut progress: impl FnMut(&'static str, i64),
) -> Result<CopyReport, CopyError> {
    let source_key = crate::keys::key_path_for(from);
    let master = read_key(&source_key)?;
    let key_written = match std::fs::read(target_key) {
        Ok(bytes) if bytes == master => false,
        Ok(_) => {
            return Err(CopyError::KeyMismatch {
                target: target_key.to_owned(),
                source_key,
            })
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => true,
        Err(source) => {
            return Err(CopyError::Key {
                path: target_key.to_owned(),
                source,
            })
        }
    };
    let src = |source| CopyError::Source {
        path: from.to_owned(),
        source,
    };
    if !from.is_file() {
        return Err(src(rusqlite::Error::InvalidPath(from.to_owned())));
    }
    let mut sqlite = Connection::open_with_flags(
        from,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(src)?;
    sqlite
        .busy_timeout(std::time::Duration::from_secs(10))
        .map_err(src)?;
    // One read transaction: every table from the same snapshot.
    let read = sqlite
        .transaction_with_behavior(rusqlite::TransactionBehavior::Deferred)
        .map_err(src)?;
    let found: i64 = read
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .map_err(src)?;
    if found != crate::db::SCHEMA_VERSION as i64 {
        return Err(CopyError::SourceVersion {
            path: from.to_owned(),
            found,
            known: crate::db::SCHEMA_VERSION,
        });
    }

    // The schema (in its own transaction, as `migrate` would), then the copy in one more.
    drop(crate::store::postgres::PostgresStore::open(to).await?);
    let (mut client, connection) = crate::store::postgres::parse_url(to)?
        .connect(tokio_postgres::NoTls)
        .await?;
    let driver = tokio::spawn(connection);
    let tx = client.transaction().await?;
    refuse_unless_empty(&tx).await?;
    // The migrations' only row, the desktop client, comes from SQLite like every other app.
    tx.execute("DELETE FROM apps", &[]).await?;

    let mut counts = Vec::new();
    for table in TABLES {
        let expected: i64 = read
            .query_row(&format!("SELECT COUNT(*) FROM {}", table.name), [], |r| {
                r.get(0)
            })
            .map_err(src)?;
        copy_table(&read, &tx, table).await.map_err(|e| match e {
            Step::Read(e) => src(e),
            Step::Write(source) => CopyError::Insert {
                table: table.name,
                source,
            },
        })?;
        let copied: i64 = tx
            .query_one(&format!("SELECT COUNT(*) FROM {}", table.name), &[])
            .await?
            .get(0);
        if copied != expected {
            return Err(CopyError::CountMismatch {
                table: table.name,
                expected,
                copied,
            });
        }
        if let Some(id) = table.identity {
            // Past the largest id copied (or back at 1 for an empty table).
            tx.execute(
                &format!(
                    "SELECT setval(pg_get_serial_sequence('{t}', '{id}'),
                                   COALESCE(MAX({id}), 1), MAX({id}) IS NOT NULL)
                     FROM {t}",
                    t = table.name
                ),
                &[],
            )
            .await?;
        }
        progress(table.name, copied);
        counts.push((table.name, copied));
    }
    check_signing_keys(&tx, &master, target_key).await?;
    tx.commit().await?;
    drop(client);
    let _ = driver.await;
    drop(read);
    if key_written {
        match crate::keys::write_new(target_key, &master) {
            Ok(()) => {}
            // Another process put one there meanwhile: fine if it is this one.
            Err(e)
                if e.kind() == std::io::ErrorKind::AlreadyExists
                    && std::fs::read(target_key).is_ok_and(|b| b == master) => {}
            Err(source) => {
                return Err(CopyError::KeyWrite {
                    path: target_key.to_owned(),
                    source_key,
                    source,
                })
            }
        }
    }
    Ok(CopyReport {
        counts,
        key_path: target_key.to_owned(),
        key_written,
    })
}

fn read_key(path: &Path) -> Result<[u8; 32], CopyError> {
    let bytes = std::fs::read(path).map_err(|source| CopyError::Key {
        path: path.to_owned(),
        source,
    })?;
    bytes
        .as_slice()
        .try_into()
        .map_err(|_| CopyError::KeyCorrupt(path.to_owned()))
}

/// Refuses a database with any row in it, but the one its migrations make.
async fn refuse_unless_empty(tx: &tokio_postgres::Transaction<'_>) -> Result<(), CopyError> {
    for table in TABLES {
        let seeded = if table.name == "apps" {
            " WHERE NOT (first_party AND client_id = 'atrium-desktop')"
        } else {
            ""
        };
        let rows: i64 = tx
            .query_one(&format!("SELECT COUNT(*) FROM {}{seeded}", table.name), &[])
            .await?
            .get(0);
        if rows > 0 {
            return Err(CopyError::NotEmpty {
                table: table.name,
                rows,
            });
        }
    }
    Ok(())
}

/// A failed step of one table's copy: reading SQLite or writing PostgreSQL.
enum Step {
    Read(rusqlite::Error),
    Write(tokio_postgres::Error),
}

/// One column's value, typed for PostgreSQL.
type Param = Box<dyn ToSql + Sync + Send>;

async fn copy_table(
    read: &rusqlite::Transaction<'_>,
    tx: &tokio_postgres::Transaction<'_>,
    table: &Table,
) -> Result<(), Step> {
    let names: Vec<&str> = table.columns.iter().map(|(n, _)| *n).collect();
    let placeholders: Vec<String> = (1..=names.len()).map(|i| format!("${i}")).collect();
    let insert = tx
        .prepare(&format!(
            "INSERT INTO {} ({}) VALUES ({})",
            table.name,
            names.join(", "),
            placeholders.join(", ")
        ))
        .await
        .map_err(Step::Write)?;
    let mut select = read
        .prepare(&format!("SELECT {} FROM {}", names.join(", "), table.name))
        .map_err(Step::Read)?;
    let mut rows = select.query([]).map_err(Step::Read)?;
    let mut chunk: Vec<Vec<Param>> = Vec::with_capacity(CHUNK);
    loop {
        let row = rows.next().map_err(Step::Read)?;
        if let Some(row) = row {
            let mut params = Vec::with_capacity(names.len());
            for (i, (_, kind)) in table.columns.iter().enumerate() {
                params.push(param(row.get::<_, Value>(i).map_err(Step::Read)?, *kind));
            }
            chunk.push(params);
        }
        if chunk.len() == CHUNK || (row.is_none() && !chunk.is_empty()) {
            // Sent together: the driver pipelines them on the connection.
            let sends = chunk.iter().map(|params| {
                let refs: Vec<&(dyn ToSql + Sync)> = params
                    .iter()
                    .map(|p| p.as_ref() as &(dyn ToSql + Sync))
                    .collect();
                let insert = &insert;
                async move { tx.execute(insert, &refs).await }
            });
            futures_util::future::try_join_all(sends)
                .await
                .map_err(Step::Write)?;
            chunk.clear();
        }
        if row.is_none() {
            return Ok(());
        }
    }
}

/// SQLite's value as the column's PostgreSQL type; NULL stays NULL, typed.
fn param(value: Value, kind: Kind) -> Param {
    match (value, kind) {
        (Value::Integer(i), Bool) => Box::new(i != 0),
        (Value::Integer(i), _) => Box::new(i),
        (Value::Text(s), _) => Box::new(s),
        (Value::Blob(b), _) => Box::new(b),
        // STRICT tables hold no REAL in these columns; copied as its integer part if one did.
        (Value::Real(f), _) => Box::new(f as i64),
        (Value::Null, Int) => Box::new(None::<i64>),
        (Value::Null, Bool) => Box::new(None::<bool>),
        (Value::Null, Text) => Box::new(None::<String>),
        (Value::Null, Bytes) => Box::new(None::<Vec<u8>>),
    }
}

/// The copied signing keys open with the key the PostgreSQL deployment will use: every
/// version still published is unwrapped, as a starting server does.
async fn check_signing_keys(
    tx: &tokio_postgres::Transaction<'_>,
    master: &[u8; 32],
    key_path: &Path,
) -> Result<(), CopyError> {
    let stored: Vec<crate::jose::StoredVersion> = tx
        .query(
            "SELECT version, rsa_wrapped, created_at, retired_at FROM signing_keys",
            &[],
        )
        .await?
        .iter()
        .map(|r| crate::jose::StoredVersion {
            version: r.get(0),
            rsa_wrapped: r.get(1),
            created_at: r.get(2),
            retired_at: r.get(3),
        })
        .collect();
    crate::jose::KeySet::load(
        master,
        &stored,
        crate::domain::now(),
        crate::jose::retention(),
    )
    .map_err(|source| CopyError::Unwrap {
        path: key_path.to_owned(),
        source,
    })?;
    Ok(())
}
