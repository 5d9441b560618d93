//! The PostgreSQL implementation of the [`Store`] traits, one file per aggregate like
//! `sqlite/`: [`users`], [`companies`], [`apps`], [`grants`], [`installs`], [`inbox`],
//! [`login_throttle`] (failed sign-ins, counted once for every replica), [`outbox`] (claimed
//! under a lease, so several replicas drain it), [`oidc`], [`prune`]; [`notify`] keeps the
//! read caches of several replicas honest with `LISTEN/NOTIFY`. This file holds the pool, the
//! migrations, the error mapping and the transaction helper with its bounded retry.
//!
//! **Driver.** `tokio-postgres` with `deadpool-postgres`: async all the way (no blocking pool
//! as SQLite needs), small, and explicit about statements: every query goes through
//! `prepare_cached`, so each statement is prepared once per pooled connection and then only
//! executed. `sqlx` would also do, but brings its own migration and macro machinery (and a
//! build-time database for its checked queries) for nothing Atrium uses; the stores already
//! write their SQL by hand.
//!
//! **TLS.** Connections use `NoTls`, which is right for a database on loopback or a private
//! network. Nothing here depends on it: the pool is built from a `tokio_postgres::Config` and
//! a connector, so a rustls connector can be passed in one place ([`PostgresStore::connect`])
//! when a deployment needs it.
//!
//! **Isolation.** Every transaction runs at READ COMMITTED. Each primitive that must not race
//! takes a row lock first (`FOR UPDATE` / `FOR SHARE`, or an `UPDATE ... WHERE ... RETURNING`
//! whose `WHERE` PostgreSQL re-checks on the row's newest version after waiting for the lock),
//! which serializes exactly the writers that conflict; each impl says which row it locks.
//! Nothing needs SERIALIZABLE. Deadlocks (40P01) and serialization failures (40001, which a
//! stricter default isolation would bring) are retried a bounded number of times
//! ([`MAX_RETRIES`]).
//!
//! **Schemas.** Every connection's `search_path` comes from the URL (`options=-c
//! search_path=...`), so one database can hold several Atrium schemas (the tests make one per
//! test); the migrations run in the first schema of the path.

mod apps;
mod companies;
mod grants;
mod inbox;
mod installs;
mod login_throttle;
pub mod notify;
mod oidc;
mod outbox;
mod prune;
#[doc(hidden)]
pub mod testing;
#[cfg(test)]
mod tests;
mod users;

use std::sync::Arc;
use std::time::Duration;

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};
use tokio_postgres::error::SqlState;
use tokio_postgres::types::ToSql;
use tokio_postgres::{NoTls, Row};

use super::cache::ReadCache;
use super::*;
use crate::db::NotReady;
use crate::domain::secret::TokenDigest;

/// Versioned migrations, applied in order; the `atrium_migrations` table records which ran.
/// Never edit a released migration: append a new one.
const MIGRATIONS: &[&str] = &[
    include_str!("../../../migrations/postgres/001_schema.sql"),
    include_str!("../../../migrations/postgres/002_inbox.sql"),
    include_str!("../../../migrations/postgres/003_login_backoff.sql"),
    include_str!("../../../migrations/postgres/004_desktop_logout.sql"),
];

/// The schema version this server migrates PostgreSQL databases to.
pub const SCHEMA_VERSION: usize = MIGRATIONS.len();

/// Most connections one process keeps to the database, unless `--db-pool-size` says
/// otherwise.
pub const DEFAULT_POOL_SIZE: usize = 16;

/// How many times a transaction that hit a deadlock or a serialization failure runs again.
pub const MAX_RETRIES: u32 = 5;

/// What can go wrong with PostgreSQL.
#[derive(Debug, thiserror::Error)]
pub enum PgError {
    #[error("invalid PostgreSQL URL: {0}")]
    Url(String),
    #[error("cannot get a PostgreSQL connection: {0}")]
    Pool(#[from] deadpool_postgres::PoolError),
    #[error("PostgreSQL: {0}")]
    Query(#[from] tokio_postgres::Error),
    #[error("the PostgreSQL schema has version {found}, newer than this server knows ({known}); upgrade atrium-server")]
    TooNew { found: i64, known: usize },
    #[error("a stored value is not valid: {0}")]
    Corrupt(String),
}

impl From<tokio_postgres::Error> for StoreError {
    fn from(e: tokio_postgres::Error) -> Self {
        StoreError::Postgres(e.into())
    }
}

impl From<deadpool_postgres::PoolError> for StoreError {
    fn from(e: deadpool_postgres::PoolError) -> Self {
        StoreError::Postgres(e.into())
    }
}

/// The SQLSTATE of a query error, if it is one.
fn code(e: &StoreError) -> Option<&SqlState> {
    match e {
        StoreError::Postgres(PgError::Query(q)) => q.code(),
        _ => None,
    }
}

/// A deadlock or a serialization failure: the transaction may simply run again.
pub(super) fn retryable(e: &StoreError) -> bool {
    matches!(
        code(e),
        Some(&SqlState::T_R_SERIALIZATION_FAILURE) | Some(&SqlState::T_R_DEADLOCK_DETECTED)
    )
}

/// A unique (or primary-key) violation becomes `Conflict(what)`.
pub(super) fn conflict(e: tokio_postgres::Error, what: &'static str) -> StoreError {
    if e.code() == Some(&SqlState::UNIQUE_VIOLATION) {
        StoreError::Conflict(what)
    } else {
        e.into()
    }
}

/// Runs `$body` (a block giving a `StoreResult`) in a READ COMMITTED transaction bound to
/// `$tx`, committing on `Ok`, and runs it again (at most [`MAX_RETRIES`] times) after a
/// deadlock or a serialization failure. An `Err` rolls back. The body must be repeatable: it
/// borrows what it uses.
macro_rules! transaction {
    ($store:expr, |$tx:ident| $body:block) => {{
        let mut conn = $store.conn().await?;
        let mut attempt = 0u32;
        loop {
            let result: $crate::store::StoreResult<_> = async {
                let tx = conn
                    .build_transaction()
                    .isolation_level(tokio_postgres::IsolationLevel::ReadCommitted)
                    .start()
                    .await?;
                // A closure called at once, so the body's `return` and `?` know their type
                // (an async block's cannot be annotated).
                #[allow(clippy::redundant_closure_call)]
                let out = {
                    let $tx = &tx;
                    (async || -> $crate::store::StoreResult<_> { $body })().await?
                };
                tx.commit().await?;
                Ok(out)
            }
            .await;
            match result {
                Err(e)
                    if $crate::store::postgres::retryable(&e)
                        && attempt < $crate::store::postgres::MAX_RETRIES =>
                {
                    attempt += 1;
                    tokio::time::sleep(std::time::Duration::from_millis(1 << attempt)).await;
                }
                other => break other,
            }
        }
    }};
}
pub(crate) use transaction;

/// [`Store`] over PostgreSQL, with the same read caches as SQLite's, kept in step across
/// replicas by [`notify`].
#[derive(Clone)]
pub struct PostgresStore {
    pool: Pool,
    access: Arc<ReadCache<TokenDigest, AccessInfo>>,
    clients: Arc<ReadCache<String, Client>>,
    listener: Arc<notify::Listener>,
}

impl std::fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresStore").finish_non_exhaustive()
    }
}

/// Parses a `postgres://` URL (libpq's form, including `options=-c search_path=...`).
pub fn parse_url(url: &str) -> Result<tokio_postgres::Config, PgError> {
    // The driver's message never repeats the URL, so no password reaches a log.
    url.parse::<tokio_postgres::Config>()
        .map_err(|e| PgError::Url(e.to_string()))
}

impl PostgresStore {
    /// Connects to the database at `url`, brings its schema up to date, and starts listening
    /// for other replicas' invalidations.
    pub async fn open(url: &str) -> Result<PostgresStore, PgError> {
        Self::open_with(url, DEFAULT_POOL_SIZE).await
    }

    /// [`PostgresStore::open`] with a pool of at most `pool_size` connections (at least one;
    /// the listener's connection comes on top).
    pub async fn open_with(url: &str, pool_size: usize) -> Result<PostgresStore, PgError> {
        Self::connect_with(parse_url(url)?, pool_size).await
    }

    /// [`PostgresStore::open`] with a parsed configuration.
    pub async fn connect(config: tokio_postgres::Config) -> Result<PostgresStore, PgError> {
        Self::connect_with(config, DEFAULT_POOL_SIZE).await
    }

    /// [`PostgresStore::open_with`] with a parsed configuration.
    pub async fn connect_with(
        mut config: tokio_postgres::Config,
        pool_size: usize,
    ) -> Result<PostgresStore, PgError> {
        if config.get_application_name().is_none() {
            config.application_name("atrium-server");
        }
        config.keepalives(true);
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(Duration::from_secs(10));
        }
        let manager = Manager::from_config(
            config.clone(),
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(pool_size.max(1))
            .runtime(Runtime::Tokio1)
            .wait_timeout(Some(Duration::from_secs(10)))
            .create_timeout(Some(Duration::from_secs(10)))
            .build()
            .map_err(|e| PgError::Url(e.to_string()))?;
        let mut conn = pool.get().await?;
        migrate(&mut conn).await?;
        drop(conn);
        let access = Arc::<ReadCache<TokenDigest, AccessInfo>>::default();
        let clients = Arc::<ReadCache<String, Client>>::default();
        let listener = notify::Listener::start(config, access.clone(), clients.clone());
        Ok(PostgresStore {
            pool,
            access,
            clients,
            listener: Arc::new(listener),
        })
    }

    /// Whether the database answers (a pooled `SELECT`, within two seconds) and has the schema
    /// this server migrates to. What `GET /readyz` reports.
    pub async fn readiness(&self) -> Result<(), NotReady> {
        let check = async {
            let conn = self.pool.get().await.map_err(|e| e.to_string())?;
            let st = conn
                .prepare_cached("SELECT COALESCE(MAX(version), 0) FROM atrium_migrations")
                .await
                .map_err(|e| e.to_string())?;
            let row = conn.query_one(&st, &[]).await.map_err(|e| e.to_string())?;
            Ok::<i64, String>(row.get(0))
        };
        let found = tokio::time::timeout(Duration::from_secs(2), check)
            .await
            .map_err(|_| NotReady::Unavailable("no answer within 2 s".into()))?
            .map_err(NotReady::Unavailable)?;
        if usize::try_from(found).ok() != Some(SCHEMA_VERSION) {
            return Err(NotReady::Schema {
                found,
                expected: SCHEMA_VERSION,
            });
        }
        Ok(())
    }

    /// Whether the read caches may answer: only while this replica listens for the others'
    /// invalidations (see [`notify`]).
    fn caching(&self) -> bool {
        self.listener.listening()
    }

    /// Whether this replica listens for invalidations now.
    pub fn listening(&self) -> bool {
        self.listener.listening()
    }

    async fn conn(&self) -> StoreResult<deadpool_postgres::Object> {
        Ok(self.pool.get().await?)
    }

    /// One statement, outside any transaction: its rows.
    async fn query(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> StoreResult<Vec<Row>> {
        let conn = self.conn().await?;
        let st = conn.prepare_cached(sql).await?;
        Ok(conn.query(&st, params).await?)
    }

    /// One statement, outside any transaction: its row, if any.
    async fn query_opt(
        &self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> StoreResult<Option<Row>> {
        let conn = self.conn().await?;
        let st = conn.prepare_cached(sql).await?;
        Ok(conn.query_opt(&st, params).await?)
    }

    /// One statement, outside any transaction: how many rows it changed.
    async fn execute(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> StoreResult<u64> {
        let conn = self.conn().await?;
        let st = conn.prepare_cached(sql).await?;
        Ok(conn.execute(&st, params).await?)
    }
}

/// Runs one prepared statement in a transaction: its rows.
pub(super) async fn tx_query(
    tx: &deadpool_postgres::Transaction<'_>,
    sql: &str,
    params: &[&(dyn ToSql + Sync)],
) -> StoreResult<Vec<Row>> {
    let st = tx.prepare_cached(sql).await?;
    Ok(tx.query(&st, params).await?)
}

/// Runs one prepared statement in a transaction: its row, if any.
pub(super) async fn tx_query_opt(
    tx: &deadpool_postgres::Transaction<'_>,
    sql: &str,
    params: &[&(dyn ToSql + Sync)],
) -> StoreResult<Option<Row>> {
    let st = tx.prepare_cached(sql).await?;
    Ok(tx.query_opt(&st, params).await?)
}

/// Runs one prepared statement in a transaction: how many rows it changed.
pub(super) async fn tx_execute(
    tx: &deadpool_postgres::Transaction<'_>,
    sql: &str,
    params: &[&(dyn ToSql + Sync)],
) -> StoreResult<u64> {
    let st = tx.prepare_cached(sql).await?;
    Ok(tx.execute(&st, params).await?)
}

/// Applies the migrations this schema has not seen yet, in one transaction, under a lock
/// that makes replicas starting together take turns.
async fn migrate(conn: &mut deadpool_postgres::Object) -> Result<(), PgError> {
    let tx = conn.transaction().await?;
    tx.execute(
        "SELECT pg_advisory_xact_lock(hashtext('atrium_migrations:' || current_schema()))",
        &[],
    )
    .await?;
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS atrium_migrations (
             version    BIGINT PRIMARY KEY,
             applied_at BIGINT NOT NULL
         )",
    )
    .await?;
    let applied: i64 = tx
        .query_one(
            "SELECT COALESCE(MAX(version), 0) FROM atrium_migrations",
            &[],
        )
        .await?
        .get(0);
    if applied > MIGRATIONS.len() as i64 {
        return Err(PgError::TooNew {
            found: applied,
            known: MIGRATIONS.len(),
        });
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(applied.max(0) as usize) {
        tx.batch_execute(sql).await?;
        let version = (i + 1) as i64;
        tx.execute(
            "INSERT INTO atrium_migrations (version, applied_at) VALUES ($1, $2)",
            &[&version, &crate::domain::now()],
        )
        .await?;
        tracing::info!(version, "applied PostgreSQL migration");
    }
    tx.commit().await?;
    Ok(())
}

/// A digest column.
pub(super) fn digest(bytes: Option<Vec<u8>>) -> Option<TokenDigest> {
    bytes.and_then(|b| TokenDigest::from_slice(&b))
}

/// A column holding one of the API's words (a role, an application type): a word the enum does
/// not know is a broken row, not a default.
pub(super) fn word<T>(raw: &str) -> StoreResult<T>
where
    T: std::str::FromStr<Err = atrium_proto::UnknownWord>,
{
    raw.parse().map_err(|e: atrium_proto::UnknownWord| {
        StoreError::Postgres(PgError::Corrupt(e.to_string()))
    })
}

/// The cursor as two query parameters (both NULL for the first page).
pub(super) fn after_params(page: &PageReq) -> (Option<String>, Option<i64>) {
    match &page.after {
        Some(a) => (Some(a.key.clone()), Some(a.id)),
        None => (None, None),
    }
}

/// One row more than the page holds, to learn whether another page follows.
pub(super) fn fetch_limit(page: &PageReq) -> i64 {
    i64::try_from(page.limit.saturating_add(1)).unwrap_or(i64::MAX)
}

/// Cuts the rows read with [`fetch_limit`] to a page, with the cursor of the next one.
pub(super) fn paged<T>(mut rows: Vec<T>, page: &PageReq, key: impl Fn(&T) -> After) -> Page<T> {
    let more = rows.len() > page.limit;
    rows.truncate(page.limit);
    let next = if more { rows.last().map(key) } else { None };
    Page { items: rows, next }
}

/// A count or limit as the BIGINT parameter PostgreSQL expects.
pub(super) fn big(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}
