//! Which store a server runs on, opened from a [`DbLocation`]: the embedded SQLite file or a
//! PostgreSQL database. What differs between the two outside the [`Store`] traits (readiness,
//! the SQLite-only commands) asks this.

use std::sync::Arc;

use super::postgres::PostgresStore;
use super::sqlite::SqliteStore;
use super::{Store, StoreError};
use crate::config::DbLocation;
use crate::db::{Db, NotReady};

/// The opened store, one per process (its read caches are shared by every request).
#[derive(Clone, Debug)]
pub enum Backend {
    Sqlite(SqliteStore),
    Postgres(PostgresStore),
}

impl Backend {
    /// Opens the store, creating or migrating its schema.
    pub async fn open(at: &DbLocation) -> Result<Backend, StoreError> {
        Self::open_with(at, super::postgres::DEFAULT_POOL_SIZE).await
    }

    /// [`Backend::open`], keeping at most `pool_size` connections to PostgreSQL (SQLite's
    /// pool is its own: one writer and a few readers).
    pub async fn open_with(at: &DbLocation, pool_size: usize) -> Result<Backend, StoreError> {
        Ok(match at {
            DbLocation::Sqlite(path) => {
                let path = path.clone();
                let db = tokio::task::spawn_blocking(move || Db::open(&path))
                    .await
                    .map_err(|_| crate::db::DbError::TaskFailed)??;
                Backend::Sqlite(SqliteStore::new(db))
            }
            DbLocation::Postgres { url, .. } => {
                Backend::Postgres(PostgresStore::open_with(url, pool_size).await?)
            }
        })
    }

    pub fn store(&self) -> Arc<dyn Store> {
        match self {
            Backend::Sqlite(s) => Arc::new(s.clone()),
            Backend::Postgres(s) => Arc::new(s.clone()),
        }
    }

    /// The SQLite database, for what only SQLite has (backups, its file).
    pub fn sqlite(&self) -> Option<&Db> {
        match self {
            Backend::Sqlite(s) => Some(s.db()),
            Backend::Postgres(_) => None,
        }
    }

    /// Whether the database answers and has this server's schema (`GET /readyz`).
    pub async fn readiness(&self) -> Result<(), NotReady> {
        match self {
            Backend::Sqlite(s) => s.db().readiness(),
            Backend::Postgres(s) => s.readiness().await,
        }
    }
}
