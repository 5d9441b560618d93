//! Storage behind traits, so that the protocol and the routes do not know SQLite.
//!
//! One trait per aggregate, each in its own file with its types, composed into [`Store`]:
//!
//! | trait | file | what |
//! |---|---|---|
//! | [`UserStore`] | `users.rs` | users, sessions, login forms |
//! | [`CompanyStore`] | `companies.rs` | companies, members and roles, invitations |
//! | [`AppStore`] | `apps.rs` | apps and their OAuth clients, the catalog |
//! | [`GrantStore`] | `grants.rs` | codes, token families, access and refresh tokens |
//! | [`InstallStore`] | `installs.rs` | installs of apps in companies |
//! | [`OutboxStore`] | `outbox.rs` | install notifications and their delivery |
//! | [`OidcStore`] | `oidc.rs` | signing-key versions, a code's `nonce` and `auth_time`, ID-token algorithms |
//! | [`InboxStore`] | `inbox.rs` | apps' notifications to their users, read state, badges |
//! | [`LoginThrottleStore`] | `login_throttle.rs` | failed sign-ins counted for the back-off, shared by replicas |
//!
//! [`Store`] itself adds what crosses them: pruning. Callers hold an `Arc<dyn Store>` and
//! import the traits whose methods they call. The stores offer primitives, each atomic, and
//! no policy: what a replayed code or a reused refresh token means is decided in
//! `oauth::grants`.
//!
//! Two implementations, one file per trait each: [`sqlite::SqliteStore`] under `sqlite/` (the
//! embedded default, one server per database) and [`postgres::PostgresStore`] under
//! `postgres/` (several replicas on one database). The conformance suite (`conformance/`)
//! runs every check on both.

pub mod apps;
pub mod backend;
pub mod cache;
pub mod companies;
#[cfg(test)]
mod conformance;
pub mod grants;
pub mod inbox;
pub mod installs;
pub mod login_throttle;
pub mod oidc;
pub mod outbox;
pub mod postgres;
pub mod sqlite;
pub mod users;

use async_trait::async_trait;

pub use apps::{AppStore, AppUpdate, Client, NewApp};
pub use backend::Backend;
pub use companies::{
    Accepted, Company, CompanyStore, Invitation, Invited, Left, Membership, NewInvitation, Role,
};
pub use grants::{
    AccessInfo, CodeGrant, Consumed, Grant, GrantStore, Issue, NewToken, PendingRetry, RefreshInfo,
    RetryWindow, Rotation,
};
pub use inbox::{Badge, BadgeSet, InboxStore, NewNotification, Notification, Posted, Rate};
pub use installs::{Install, InstallStore, Recorded};
pub use login_throttle::{Claim, Failures, LoginThrottleStore, ThrottleKey};
pub use oidc::{CodeClaims, OidcStore};
pub use outbox::{Delivery, OutboxStore};
pub use users::{NewUser, Session, User, UserStore};

/// Storage failures. `Conflict` and `NotFound` name the kind of thing ("app", "membership"):
/// a write lost a race (an edit after a delete) or broke a uniqueness rule, which the caller
/// answers as the client's problem, not the server's.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the {0} already exists")]
    Conflict(&'static str),
    #[error("no such {0}")]
    NotFound(&'static str),
    /// A per-user quota is reached; the message says which and how many.
    #[error("you have reached the limit of {limit} {what}; delete one before adding another")]
    Quota { what: &'static str, limit: u32 },
    #[error(transparent)]
    Db(#[from] crate::db::DbError),
    #[error(transparent)]
    Postgres(#[from] postgres::PgError),
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        StoreError::Db(e.into())
    }
}

pub type StoreResult<T> = Result<T, StoreError>;

/// Where a page of a list starts: just after the item with this sort key. Every list is
/// ordered by a text key and then an id, which makes the order total and stable: an item added
/// between two pages appears in a later page if it sorts after the cursor, and never twice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct After {
    pub key: String,
    pub id: i64,
}

/// One page to read: up to `limit` items after `after` (from the start when `None`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageReq {
    pub after: Option<After>,
    pub limit: usize,
}

/// A page of a list, and where the next one starts (`None` on the last page).
#[derive(Debug, Clone)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next: Option<After>,
}

/// What pruning deletes, one kind at a time (the rules are in `crate::prune`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Prunable {
    /// Sign-in sessions that expired before the cutoff.
    Sessions,
    /// Access tokens that expired before the cutoff.
    AccessTokens,
    /// Refresh tokens (rotated or not) that expired before the cutoff.
    RefreshTokens,
    /// Token families (revoked or not) created before the cutoff with no token left.
    Families,
    /// Codes that expired before the cutoff and whose family is gone (or never was).
    Codes,
    /// Outbox events delivered before the cutoff. Undelivered events are never pruned.
    DeliveredEvents,
    /// Apps' notifications to users posted before the cutoff.
    Notifications,
    /// Failed sign-in counts forgotten before the cutoff (see [`login_throttle`]).
    LoginBackoff,
}

impl Prunable {
    /// The kinds found by an index on their expiry (all but [`Prunable::Families`], found by
    /// what they no longer hold): which rows one batch deletes, the same for every backend.
    pub(crate) fn by_expiry(self) -> Option<ExpiryBatch> {
        let (table, key, column, extra) = match self {
            Prunable::Sessions => ("sessions", "digest", "expires_at", ""),
            Prunable::AccessTokens => ("access_tokens", "digest", "expires_at", ""),
            Prunable::RefreshTokens => ("refresh_tokens", "digest", "expires_at", ""),
            Prunable::Codes => (
                "authorization_codes",
                "digest",
                "expires_at",
                "AND family_id IS NULL",
            ),
            Prunable::DeliveredEvents => (
                "outbox",
                "id",
                "delivered_at",
                "AND delivered_at IS NOT NULL",
            ),
            Prunable::Notifications => ("app_notifications", "id", "created_at", ""),
            Prunable::LoginBackoff => ("login_backoff", "slot", "forget_at", ""),
            Prunable::Families => return None,
        };
        Some(ExpiryBatch {
            table,
            key,
            column,
            extra,
        })
    }
}

/// One pruning batch over an expiry index ([`Prunable::by_expiry`]): the oldest rows past the
/// cutoff; the kind is done when a batch comes back short.
pub(crate) struct ExpiryBatch {
    table: &'static str,
    key: &'static str,
    column: &'static str,
    extra: &'static str,
}

impl ExpiryBatch {
    /// The `DELETE` of one batch, its cutoff and batch size written as the placeholders the
    /// backend uses (`?1`, `?2` or `$1`, `$2`).
    pub(crate) fn delete(&self, cutoff: &str, limit: &str) -> String {
        let ExpiryBatch {
            table,
            key,
            column,
            extra,
        } = self;
        format!(
            "DELETE FROM {table} WHERE {key} IN (
                 SELECT {key} FROM {table} WHERE {column} < {cutoff} {extra}
                 ORDER BY {column} LIMIT {limit})"
        )
    }

    /// What a batch that deleted `deleted` rows of at most `batch` did.
    pub(crate) fn pruned(deleted: usize, batch: usize) -> Pruned {
        Pruned {
            deleted,
            resume_after: (deleted >= batch.max(1)).then_some(0),
        }
    }
}

/// What one pruning batch did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pruned {
    pub deleted: usize,
    /// Call again with this `after` to continue; `None` when nothing is left to look at.
    pub resume_after: Option<i64>,
}

/// Everything the server stores: every aggregate's store, and pruning across them.
#[async_trait]
pub trait Store:
    UserStore
    + CompanyStore
    + AppStore
    + GrantStore
    + InstallStore
    + OutboxStore
    + OidcStore
    + InboxStore
    + LoginThrottleStore
    + 'static
{
    /// Deletes at most `batch` rows of one kind that are past `cutoff`, in one short write;
    /// `after` is where the previous batch of the same kind stopped (0 at first).
    async fn prune(
        &self,
        what: Prunable,
        cutoff: i64,
        batch: usize,
        after: i64,
    ) -> StoreResult<Pruned>;

    /// Lookups of the in-memory read caches so far (none for a store without caches).
    fn cache_stats(&self) -> Vec<CacheStats> {
        Vec::new()
    }
}

/// Lookups of one read cache since the store opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CacheStats {
    /// Which cache: `tokens` or `clients`.
    pub cache: &'static str,
    pub hits: u64,
    pub misses: u64,
}
