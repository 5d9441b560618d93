//! The outbox of install notifications (webhooks) and their delivery attempts.

use async_trait::async_trait;

use super::StoreResult;

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

/// The notifications still to deliver.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Backlog {
    /// Not delivered yet and not given up.
    pub pending: u64,
    /// When the oldest of them was queued (Unix seconds).
    pub oldest_created_at: Option<i64>,
}

#[async_trait]
pub trait OutboxStore: Send + Sync {
    /// How many notifications wait for delivery, and since when.
    async fn outbox_backlog(&self) -> StoreResult<Backlog>;

    /// Due notifications, earliest first, at most `per_app` of any one app (so that one app's
    /// backlog cannot fill the batch).
    async fn due_deliveries(
        &self,
        now: i64,
        limit: usize,
        per_app: usize,
    ) -> StoreResult<Vec<Delivery>>;

    /// Claims due notifications for this process to send: [`OutboxStore::due_deliveries`], but
    /// each one returned is leased until `lease_until`, and no other claimer gets it before
    /// its attempt is recorded ([`OutboxStore::delivery_done`],
    /// [`OutboxStore::delivery_attempt_failed`]) or the lease runs out (its claimer died
    /// mid-delivery, and another replica sends it). So several replicas can drain one outbox,
    /// and an event is normally sent once. A store drained by one worker may ignore the lease,
    /// as this default does (the worker knows what it has in flight).
    async fn claim_deliveries(
        &self,
        now: i64,
        limit: usize,
        per_app: usize,
        lease_until: i64,
    ) -> StoreResult<Vec<Delivery>> {
        let _ = lease_until;
        self.due_deliveries(now, limit, per_app).await
    }

    /// Gives back a claimed notification this process will not send now (its caps are full),
    /// so that it is due again at once. Nothing to do without leases.
    async fn release_delivery(&self, id: i64) -> StoreResult<()> {
        let _ = id;
        Ok(())
    }

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
