//! Storage behind a trait, so that the grant logic does not know SQLite.
//!
//! [`sqlite::SqliteStore`] is the implementation shipped today; a PostgreSQL one can implement
//! the same trait and run through the same conformance tests (`tests` below are written against
//! `dyn Store`).

pub mod cache;
mod outbox;
pub mod sqlite;

use async_trait::async_trait;

use crate::domain::redirect::{ApplicationType, RedirectUri};
use crate::domain::scope::ScopeSet;
use crate::domain::secret::TokenDigest;

/// Storage failures. `Conflict` is the only one a caller is expected to handle.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{0} already exists")]
    Conflict(String),
    #[error("{0} not found")]
    NotFound(String),
    /// A per-user quota is reached; the message says which and how many.
    #[error("you have reached the limit of {limit} {what}; delete one before adding another")]
    Quota { what: &'static str, limit: u32 },
    #[error(transparent)]
    Db(#[from] crate::db::DbError),
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        StoreError::Db(e.into())
    }
}

pub type StoreResult<T> = Result<T, StoreError>;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: i64,
    pub username: String,
    pub email: Option<String>,
    pub display_name: String,
    pub joined_at: i64,
}

#[derive(Debug, Clone)]
pub struct NewUser {
    pub username: String,
    pub email: Option<String>,
    pub display_name: String,
    pub password_hash: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Owner,
    Member,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Member => "member",
        }
    }
    pub fn parse(s: &str) -> Role {
        if s == "owner" {
            Role::Owner
        } else {
            Role::Member
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Company {
    pub id: i64,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Membership {
    pub company: Company,
    pub role: Role,
}

/// A pending invitation to join a company (see `migrations/009_invitations.sql`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invitation {
    pub id: i64,
    pub company: Company,
    /// The invitee's username as the owner typed it.
    pub username: String,
    pub role: Role,
    pub invited_by: Option<String>,
    pub created_at: i64,
    pub expires_at: i64,
}

/// An invitation to record.
#[derive(Debug, Clone)]
pub struct NewInvitation {
    pub company: i64,
    /// Well formed ([`crate::domain::invitation::Invitee`]), never looked up.
    pub username: String,
    pub role: Role,
    /// `None` when the operator's CLI invites.
    pub invited_by: Option<i64>,
    pub expires_at: i64,
}

/// What asking for an invitation did. `Sent` does not depend on whether the user exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Invited {
    /// Recorded (or renewed, when that username was already invited).
    Sent,
    /// That username is already a member of the company.
    AlreadyMember,
    /// The company holds its cap of pending invitations.
    TooMany,
}

/// What accepting an invitation did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Accepted {
    Joined(Membership),
    /// No pending invitation with that id for this user (never, declined, revoked, used).
    NotFound,
    Expired,
    /// The user was a member already; the invitation is used up and the role unchanged.
    AlreadyMember,
}

/// What leaving a company did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Left {
    Left,
    NotMember,
    /// The user is its only owner: a company always keeps one.
    LastOwner,
}

/// An app as an OAuth client.
#[derive(Debug, Clone)]
pub struct Client {
    pub app_id: i64,
    pub client_id: String,
    /// `None` for public clients (PKCE only).
    pub secret_digest: Option<TokenDigest>,
    pub name: String,
    pub description: String,
    pub developer: Option<String>,
    pub developer_id: Option<i64>,
    pub redirect_uris: Vec<String>,
    pub iframe_url: Option<String>,
    pub webhook_url: Option<String>,
    pub scopes: ScopeSet,
    pub allow_code: bool,
    pub allow_token: bool,
    pub first_party: bool,
    pub application_type: ApplicationType,
    /// Where the dashboard sends a user to install the app (`initiate_login_uri`).
    pub install_url: Option<String>,
    pub webhook_version: i64,
    pub created_at: i64,
}

impl Client {
    pub fn is_public(&self) -> bool {
        self.secret_digest.is_none()
    }

    /// RFC 8252 §7.3: a public native app's loopback-IP redirect matches on any port. Web apps
    /// and confidential clients keep exact matching.
    pub fn loopback_any_port(&self) -> bool {
        self.application_type == ApplicationType::Native && self.is_public()
    }
}

#[derive(Debug, Clone)]
pub struct NewApp {
    pub client_id: String,
    pub secret_digest: Option<TokenDigest>,
    pub name: String,
    pub description: String,
    pub developer_id: Option<i64>,
    pub redirect_uris: Vec<String>,
    pub iframe_url: Option<String>,
    pub webhook_url: Option<String>,
    pub install_url: Option<String>,
    pub scopes: ScopeSet,
    pub allow_code: bool,
    pub allow_token: bool,
    pub application_type: ApplicationType,
}

#[derive(Debug, Clone)]
pub struct Session {
    pub user_id: i64,
    pub csrf: String,
    pub expires_at: i64,
}

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

/// An app installed in a company.
#[derive(Debug, Clone)]
pub struct Install {
    pub id: i64,
    pub app_id: i64,
    pub client_id: String,
    pub app_name: String,
    pub iframe_url: Option<String>,
    pub company_id: i64,
    pub installed_by: Option<String>,
    pub scopes: ScopeSet,
    pub active: bool,
    pub created_at: i64,
    pub updated_at: i64,
}

/// What recording an install did.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub install: Install,
    /// A notification was queued for the app (the notification worker has work).
    pub queued: bool,
}

/// Changes a developer makes to an app; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct AppUpdate {
    pub name: Option<String>,
    pub description: Option<String>,
    pub redirect_uris: Option<Vec<String>>,
    pub iframe_url: Option<Option<String>>,
    pub webhook_url: Option<Option<String>>,
    pub install_url: Option<Option<String>>,
    pub scopes: Option<ScopeSet>,
    pub allow_code: Option<bool>,
    pub allow_token: Option<bool>,
}

/// A notification in the outbox.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub id: i64,
    /// The app it goes to: deliveries are capped, and share their fate, per app.
    pub app_id: i64,
    pub event_id: String,
    pub event_type: String,
    pub client_id: String,
    pub webhook_version: i64,
    pub url: String,
    pub body: String,
    pub attempts: i64,
    pub created_at: i64,
    /// Given up (no more attempts).
    pub failed: bool,
    /// The classified error of the last attempt.
    pub last_error: Option<String>,
    /// When the next attempt is due; `None` once given up.
    pub next_attempt_at: Option<i64>,
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
}

/// What one pruning batch did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pruned {
    pub deleted: usize,
    /// Call again with this `after` to continue; `None` when nothing is left to look at.
    pub resume_after: Option<i64>,
}

/// Everything the server stores.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    async fn create_user(&self, user: NewUser) -> StoreResult<i64>;
    /// The user and their password hash.
    async fn user_by_username(&self, username: &str) -> StoreResult<Option<(User, String)>>;
    async fn user(&self, id: i64) -> StoreResult<Option<User>>;

    /// Creates a company owned by `owner`. With `quota`, refuses (`StoreError::Quota`) when
    /// the owner already owns that many companies; the count and the insert are one
    /// transaction.
    async fn create_company(&self, name: &str, owner: i64, quota: Option<u32>) -> StoreResult<i64>;
    /// Adds a member directly: for the operator's CLI and tests only (users join through
    /// invitations).
    async fn add_member(&self, company: i64, user: i64, role: Role) -> StoreResult<()>;
    /// Invites `username` (never looked up) into `company`, or renews its invitation, unless
    /// the company already holds `cap` unexpired ones. Sweeps expired invitations first.
    async fn invite(&self, invite: NewInvitation, at: i64, cap: usize) -> StoreResult<Invited>;
    /// The company's unexpired invitations, oldest first.
    async fn company_invitations(&self, company: i64, at: i64) -> StoreResult<Vec<Invitation>>;
    /// The user's unexpired invitations, newest first, at most `limit`.
    async fn invitations_for(
        &self,
        user: i64,
        at: i64,
        limit: usize,
    ) -> StoreResult<Vec<Invitation>>;
    /// Deletes an invitation of `company`; false when there was none.
    async fn revoke_invitation(&self, company: i64, id: i64) -> StoreResult<bool>;
    /// In one transaction: checks the invitation is pending, unexpired and for `user`, makes
    /// the user a member with its role, and uses it up.
    async fn accept_invitation(&self, id: i64, user: i64, at: i64) -> StoreResult<Accepted>;
    /// Deletes an invitation for `user`; false when there was none.
    async fn decline_invitation(&self, id: i64, user: i64) -> StoreResult<bool>;
    /// Ends the user's membership, unless they are the company's last owner (checked in the
    /// same transaction).
    async fn leave_company(&self, company: i64, user: i64) -> StoreResult<Left>;
    async fn memberships(&self, user: i64) -> StoreResult<Vec<Membership>>;
    /// A page of the user's companies, by name.
    async fn memberships_page(&self, user: i64, page: PageReq) -> StoreResult<Page<Membership>>;
    async fn company(&self, id: i64) -> StoreResult<Option<Company>>;
    async fn company_members(&self, id: i64) -> StoreResult<Vec<(User, Role)>>;
    /// A page of a company's members, by username.
    async fn company_members_page(&self, id: i64, page: PageReq)
        -> StoreResult<Page<(User, Role)>>;

    /// Registers an app. With `quota`, refuses (`StoreError::Quota`) when its developer already
    /// has that many apps; the count and the insert are one transaction.
    async fn create_app(&self, app: NewApp, quota: Option<u32>) -> StoreResult<i64>;
    async fn client(&self, client_id: &str) -> StoreResult<Option<Client>>;
    /// Replaces a client's secret digest; the old secret stops working at once.
    async fn set_client_secret(
        &self,
        client_id: &str,
        digest: Option<TokenDigest>,
    ) -> StoreResult<()>;

    async fn create_session(&self, digest: TokenDigest, session: Session) -> StoreResult<()>;
    async fn session(&self, digest: TokenDigest, now: i64) -> StoreResult<Option<Session>>;
    async fn delete_session(&self, digest: TokenDigest) -> StoreResult<()>;
    /// Marks a login form (digest of its pre-session id) as submitted; false when it had been
    /// already. Forms past `expires_at` are forgotten, since they are refused anyway.
    async fn consume_login_form(
        &self,
        digest: TokenDigest,
        expires_at: i64,
        now: i64,
    ) -> StoreResult<bool>;

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

    /// The role of `user` in `company`, if a member.
    async fn role(&self, company: i64, user: i64) -> StoreResult<Option<Role>>;
    /// Records (or widens) the active install of an app in a company, and in the same
    /// transaction queues `app.installed` when the install is new and the app has a webhook.
    async fn record_install(
        &self,
        app_id: i64,
        company_id: i64,
        user_id: i64,
        scopes: ScopeSet,
    ) -> StoreResult<Recorded>;
    async fn install(&self, id: i64) -> StoreResult<Option<Install>>;
    async fn installs_of_company(&self, company: i64) -> StoreResult<Vec<Install>>;
    /// A page of a company's active installs, by app name.
    async fn installs_page(&self, company: i64, page: PageReq) -> StoreResult<Page<Install>>;
    /// Revokes every token of the install, marks it uninstalled and queues `app.uninstalled`,
    /// in one transaction. False when it was not active.
    async fn uninstall(&self, id: i64, by_user: i64) -> StoreResult<bool>;

    /// A page of the registered third-party apps (not deleted, not first-party), by name.
    async fn catalog(&self, page: PageReq) -> StoreResult<Page<Client>>;
    /// A page of a developer's apps, by name.
    async fn apps_of_developer(&self, developer: i64, page: PageReq) -> StoreResult<Page<Client>>;
    async fn update_app(&self, client_id: &str, update: AppUpdate) -> StoreResult<()>;
    /// Uninstalls the app everywhere (notifying each install) and deletes it.
    async fn delete_app(&self, client_id: &str, by_user: i64) -> StoreResult<()>;

    /// Due notifications, earliest first, at most `per_app` of any one app (so that one app's
    /// backlog cannot fill the batch).
    async fn due_deliveries(
        &self,
        now: i64,
        limit: usize,
        per_app: usize,
    ) -> StoreResult<Vec<Delivery>>;
    /// Records a delivery, and makes the app's other pending notifications due at `now`: its
    /// endpoint answers again, so nothing waits out a backoff an outage built up.
    async fn delivery_done(&self, id: i64, now: i64) -> StoreResult<()>;
    /// Records a failed attempt; `retry_at` None gives up on the delivery. A retry time also
    /// defers the app's other pending notifications that were due earlier, so an endpoint
    /// that is down gets one probe per retry rather than one per notification.
    async fn delivery_attempt_failed(
        &self,
        id: i64,
        error: &str,
        retry_at: Option<i64>,
    ) -> StoreResult<()>;
    /// Deletes at most `batch` rows of one kind that are past `cutoff`, in one short write;
    /// `after` is where the previous batch of the same kind stopped (0 at first).
    async fn prune(
        &self,
        what: Prunable,
        cutoff: i64,
        batch: usize,
        after: i64,
    ) -> StoreResult<Pruned>;
    /// An app's notifications not delivered yet (pending, retrying, given up), newest first.
    async fn undelivered(&self, app_id: i64, limit: usize) -> StoreResult<Vec<Delivery>>;
    /// Makes an undelivered notification of the app due at `now` (reviving one given up);
    /// `None` if the app has no undelivered notification with that event id.
    async fn retry_delivery(
        &self,
        app_id: i64,
        event_id: &str,
        now: i64,
    ) -> StoreResult<Option<Delivery>>;
}
