//! The inbox: notifications that installed apps post to the members of the company they are
//! installed in, each member's read state, and the badge counts apps set.
//!
//! Not to be confused with the outbox ([`super::outbox`]), which carries Atrium's webhooks *to*
//! apps. Here apps speak to users: through `POST /api/notifications` with the `notifications`
//! scope, and the desktop lists what its user may see.
//!
//! **Who sees what.** A notification belongs to an install. A member of the install's company
//! sees it while the install is active and the notification is addressed to the whole company
//! or to that member. Uninstalling hides an install's notifications; they go with the install
//! row. A badge is set for the whole company or for one member; a member's own badge, once set,
//! wins over the company-wide one.
//!
//! **Bounds.** Posting counts the install's notifications in the rate window and inserts in one
//! transaction that holds the install, so racers cannot slip past the limit together; pruning
//! deletes notifications older than the retention.

use async_trait::async_trait;

use super::StoreResult;

/// What [`InboxStore::set_badge`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BadgeSet {
    /// Written: the badge is new or had another count.
    Changed,
    /// The badge already had that count: nothing written, and nobody need be told.
    Unchanged,
    /// The install is not active, or the member is not in its company: nothing written.
    NoSuchMember,
}

/// Sets badge (`$1` install, `$2` member or 0 for the company) to count `$3` at `$4`; writes
/// nothing when it already has that count. Written once for both backends (SQLite reads `$n`
/// as `?n`).
pub(crate) const SET_BADGE: &str =
    "INSERT INTO app_badges AS b (install_id, user_id, count, updated_at)
    VALUES ($1, $2, $3, $4)
    ON CONFLICT (install_id, user_id)
    DO UPDATE SET count = excluded.count, updated_at = excluded.updated_at
    WHERE b.count <> excluded.count";

/// A notification to post.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewNotification {
    pub install_id: i64,
    /// One member of the install's company, or every member (`None`).
    pub user_id: Option<i64>,
    pub title: String,
    pub body: String,
    /// Where in the app it leads (a path of the app's own URL), if anywhere.
    pub path: Option<String>,
}

/// A notification as a member sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    /// Increases with every notification posted: the inbox's order and the stream's event id.
    pub id: i64,
    pub install_id: i64,
    pub app_id: i64,
    pub app_name: String,
    pub company_id: i64,
    /// The member it is addressed to, or `None` for the whole company.
    pub user_id: Option<i64>,
    pub title: String,
    pub body: String,
    pub path: Option<String>,
    pub created_at: i64,
    /// Whether the member reading has marked it read.
    pub read: bool,
}

/// How many notifications one install may post: at most `limit` in any `window` seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    pub limit: u32,
    pub window: i64,
}

/// What posting did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Posted {
    /// Stored; as the addressed member (or any member) will see it, unread.
    Posted(Notification),
    /// The install is at its rate: nothing stored. It may post again from `retry_at`.
    Throttled { retry_at: i64 },
    /// The install is not active (uninstalled, or never was).
    NoInstall,
    /// The member it is addressed to is not in the install's company.
    NoMember,
}

/// An install's badge count as one member sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Badge {
    pub install_id: i64,
    pub count: u32,
}

#[async_trait]
pub trait InboxStore: Send + Sync {
    /// Stores a notification unless the install is inactive, the member is not in its
    /// company, or the install has posted `rate.limit` notifications in the last `rate.window`
    /// seconds (before `now`). Check and insert are one transaction holding the install.
    async fn post_notification(
        &self,
        n: NewNotification,
        rate: Rate,
        now: i64,
    ) -> StoreResult<Posted>;

    /// Sets an install's badge for one member (`Some`) or the whole company (`None`).
    async fn set_badge(
        &self,
        install_id: i64,
        user_id: Option<i64>,
        count: u32,
        now: i64,
    ) -> StoreResult<BadgeSet>;

    /// The notifications `user_id` may see, newest first: those with an id below `before`
    /// (all when `None`), at most `limit`.
    async fn notifications_for(
        &self,
        user_id: i64,
        before: Option<i64>,
        limit: usize,
    ) -> StoreResult<Vec<Notification>>;

    /// The notifications `user_id` may see with an id above `after`, oldest first, at most
    /// `limit`: what a stream that last delivered `after` missed.
    async fn notifications_since(
        &self,
        user_id: i64,
        after: i64,
        limit: usize,
    ) -> StoreResult<Vec<Notification>>;

    /// Marks read, for `user_id`, the notifications in `ids` that they may see (or, with
    /// `up_to`, every one they may see with an id up to it). How many were newly marked.
    async fn mark_read(&self, user_id: i64, ids: Vec<i64>, up_to: Option<i64>) -> StoreResult<u64>;

    /// The badges `user_id` sees on the active installs of their companies (zero counts left
    /// out), by install id.
    async fn badges_for(&self, user_id: i64) -> StoreResult<Vec<Badge>>;
}
