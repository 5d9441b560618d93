//! The SQLite implementation of the [`Store`] traits, one file per aggregate:
//! [`users`], [`companies`], [`apps`], [`grants`] (codes and tokens; where a refresh token's
//! rotation is written), [`installs`], [`inbox`] (apps' notifications to users),
//! [`login_throttle`] (failed sign-ins), [`outbox`], [`oidc`] (signing keys, a code's OpenID
//! claims), and [`prune`]. This file holds the connection helpers and what the files share.

mod apps;
mod companies;
mod grants;
mod inbox;
mod installs;
mod login_throttle;
mod oidc;
mod outbox;
mod prune;
mod users;

use rusqlite::types::Type;
use rusqlite::Row;

use std::sync::Arc;

use super::cache::ReadCache;
use super::*;
use crate::db::Db;
use crate::domain::secret::TokenDigest;

/// [`Store`] over the embedded SQLite database, with live access tokens and clients cached in
/// memory (see [`super::cache`]).
#[derive(Clone)]
pub struct SqliteStore {
    db: Db,
    access: Arc<ReadCache<TokenDigest, AccessInfo>>,
    clients: Arc<ReadCache<String, Client>>,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore").field("db", &self.db).finish()
    }
}

impl SqliteStore {
    pub fn new(db: Db) -> SqliteStore {
        SqliteStore {
            db,
            access: Arc::default(),
            clients: Arc::default(),
        }
    }

    pub fn db(&self) -> &Db {
        &self.db
    }

    async fn run<T, F>(&self, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut rusqlite::Connection) -> StoreResult<T> + Send + 'static,
    {
        self.db.call(f).await
    }

    async fn write<T, F>(&self, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut rusqlite::Connection) -> StoreResult<T> + Send + 'static,
    {
        self.db.write(f).await
    }

    /// Runs a write that may revoke tokens, then empties the access-token cache (whatever the
    /// outcome: when in doubt, ask the database again).
    async fn write_revoking<T, F>(&self, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut rusqlite::Connection) -> StoreResult<T> + Send + 'static,
    {
        let out = self.db.write(f).await;
        self.access.invalidate();
        out
    }

    /// Runs a write that changes a client (secret, settings, deletion), then empties the
    /// client cache.
    async fn write_client<T, F>(&self, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut rusqlite::Connection) -> StoreResult<T> + Send + 'static,
    {
        let out = self.db.write(f).await;
        self.clients.invalidate();
        out
    }
}

pub(super) fn is_unique_violation(e: &rusqlite::Error) -> bool {
    matches!(e, rusqlite::Error::SqliteFailure(f, _)
        if f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
            || f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY)
}

pub(super) fn digest_col(row: &Row, idx: usize) -> rusqlite::Result<Option<TokenDigest>> {
    let bytes: Option<Vec<u8>> = row.get(idx)?;
    Ok(bytes.and_then(|b| TokenDigest::from_slice(&b)))
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

/// A column holding one of the API's words (a role, an application type), parsed here, once:
/// a word the enum does not know is a broken row, not a default.
pub(super) fn word_col<T>(r: &Row, column: usize) -> rusqlite::Result<T>
where
    T: std::str::FromStr<Err = atrium_proto::UnknownWord>,
{
    word(column, &r.get::<_, String>(column)?)
}

/// [`word_col`] of a value already read.
pub(super) fn word<T>(column: usize, raw: &str) -> rusqlite::Result<T>
where
    T: std::str::FromStr<Err = atrium_proto::UnknownWord>,
{
    raw.parse()
        .map_err(|e| rusqlite::Error::FromSqlConversionFailure(column, Type::Text, Box::new(e)))
}
