//! What OAuth grants leave behind: authorization codes, token families and their access and
//! refresh tokens.
//!
//! Primitives only (consume-once, issue-while-installed, rotate-if-current, revoke-family),
//! each atomic; what a replay or a reuse means is decided in `oauth::grants`.

use async_trait::async_trait;

use super::StoreResult;
use crate::domain::redirect::RedirectUri;
use crate::domain::scope::ScopeSet;
use crate::domain::secret::TokenDigest;

/// What an authorization code stands for.
#[derive(Debug, Clone)]
pub struct CodeGrant {
    pub app_id: i64,
    pub user_id: i64,
    pub company_id: Option<i64>,
    /// The redirect URI the code was sent to, which the exchange must name again.
    pub redirect_uri: RedirectUri,
    pub scopes: ScopeSet,
    pub code_challenge: Option<String>,
    pub expires_at: i64,
    pub install_id: Option<i64>,
}

/// Outcome of consuming a code ([`Store::consume_code`]).
#[derive(Debug, Clone)]
pub enum Consumed {
    /// First use: the code's grant. The code is now used.
    Fresh(CodeGrant),
    /// Consumed before. `family` is what its first exchange issued, if it has yet; if not,
    /// that exchange will now issue nothing ([`Issue::CodeSpent`]). What a second use means
    /// is the grant's decision (`oauth::grants::authorization_code`).
    Already {
        family: Option<i64>,
    },
    Unknown,
}

/// The subject of a token family.
#[derive(Debug, Clone)]
pub struct Grant {
    pub app_id: i64,
    pub user_id: Option<i64>,
    pub company_id: Option<i64>,
    pub scopes: ScopeSet,
    /// The install this grant belongs to; uninstalling revokes it.
    pub install_id: Option<i64>,
}

/// A token to store: its digest and lifetime.
#[derive(Debug, Clone, Copy)]
pub struct NewToken {
    pub digest: TokenDigest,
    pub issued_at: i64,
    pub expires_at: i64,
}

/// A live access token, as the resource API sees it.
#[derive(Debug, Clone)]
pub struct AccessInfo {
    pub family_id: i64,
    pub app_id: i64,
    pub client_id: String,
    pub user_id: Option<i64>,
    pub username: Option<String>,
    pub company_id: Option<i64>,
    pub scopes: ScopeSet,
    pub issued_at: i64,
    pub expires_at: i64,
}

/// A refresh token's state.
#[derive(Debug, Clone)]
pub struct RefreshInfo {
    pub family_id: i64,
    pub app_id: i64,
    pub scopes: ScopeSet,
    pub expires_at: i64,
    pub rotated: bool,
    pub revoked: bool,
}

/// Outcome of writing a grant's first tokens ([`Store::issue`]). Nothing is written unless
/// `Issued`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Issue {
    Issued {
        family: i64,
    },
    /// The grant's install is no longer active (uninstalled while the grant was under way).
    InstallGone,
    /// The code the tokens come from was replayed, or deleted (its install was removed),
    /// after it was redeemed.
    CodeSpent,
}

/// What a rotation keeps so that a retry within the reuse interval gets the same new pair:
/// the random salt the pair was derived from (with the server key and the old refresh token;
/// see `oauth::grants::refresh_token`), and until when.
#[derive(Clone, Copy)]
pub struct RetryWindow {
    pub salt: [u8; 32],
    /// Unix time from which a retry counts as reuse.
    pub until: i64,
}

impl std::fmt::Debug for RetryWindow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RetryWindow")
            .field("until", &self.until)
            .finish_non_exhaustive()
    }
}

/// The retry a rotation kept ([`RetryWindow`]), while its window is open and the successor
/// is unused.
#[derive(Clone, PartialEq, Eq)]
pub struct PendingRetry {
    pub salt: [u8; 32],
    pub access_expires_at: i64,
}

/// Outcome of rotating a refresh token if it is current ([`Store::rotate_refresh`]).
#[derive(Clone, PartialEq, Eq)]
pub enum Rotation {
    Rotated,
    /// The token had been rotated already; nothing changed. `retry` is the rotation's kept
    /// retry, if its window is open and its successor unused. What this reuse means is the
    /// grant's decision (`oauth::grants::refresh_token`).
    AlreadyRotated {
        family: i64,
        retry: Option<PendingRetry>,
    },
    /// Unknown, expired, or its family revoked (or its install gone).
    Invalid,
}

impl std::fmt::Debug for Rotation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Rotation::Rotated => f.write_str("Rotated"),
            Rotation::AlreadyRotated { family, retry } => f
                .debug_struct("AlreadyRotated")
                .field("family", family)
                .field("retry", &retry.is_some())
                .finish(),
            Rotation::Invalid => f.write_str("Invalid"),
        }
    }
}

#[async_trait]
pub trait GrantStore: Send + Sync {
    /// Saves a code; false (and nothing saved) when the code's install is no longer active.
    async fn save_code(&self, digest: TokenDigest, code: CodeGrant) -> StoreResult<bool>;

    /// Consume-once: marks a code used and returns its grant. A used code that comes back is
    /// marked replayed, in the same transaction, so that an exchange of it that has not
    /// written its tokens yet writes none ([`Issue::CodeSpent`]); the answer names the family
    /// an earlier exchange issued, if any. Revokes nothing.
    async fn consume_code(&self, digest: TokenDigest, now: i64) -> StoreResult<Consumed>;

    /// Creates a token family with its first tokens; `code` links it to the code it came from,
    /// so a replay of that code revokes it. In the same transaction it checks that the grant's
    /// install is still active and that the code was not replayed or deleted since it was
    /// redeemed; otherwise it writes nothing.
    async fn issue(
        &self,
        grant: Grant,
        code: Option<TokenDigest>,
        access: NewToken,
        refresh: Option<NewToken>,
    ) -> StoreResult<Issue>;

    /// The hot path of the resource API: a live (unexpired, unrevoked) access token.
    async fn access_token(&self, digest: TokenDigest, now: i64) -> StoreResult<Option<AccessInfo>>;

    async fn refresh_token(&self, digest: TokenDigest) -> StoreResult<Option<RefreshInfo>>;

    /// Rotate-if-current: rotates `old` into `access` and `refresh` if `old` is current,
    /// atomically, so two rotations of one token cannot both succeed. With `retry`, keeps
    /// what a retry of this rotation needs until `retry.until` (replacing the family's earlier
    /// one: its successor, `old`, is used now). A rotated `old` changes nothing and answers
    /// [`Rotation::AlreadyRotated`] with its family, and the kept retry while that is open.
    /// Revokes nothing.
    async fn rotate_refresh(
        &self,
        old: TokenDigest,
        access: NewToken,
        refresh: NewToken,
        retry: Option<RetryWindow>,
    ) -> StoreResult<Rotation>;

    /// Revoke-family: every token of the family, at once and for good (with any retry kept
    /// for it).
    async fn revoke_family(&self, family: i64, now: i64) -> StoreResult<()>;

    async fn revoke_access(&self, digest: TokenDigest) -> StoreResult<()>;
}
