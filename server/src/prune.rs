//! Pruning: deletes what the server no longer needs, on start and then periodically, so the
//! database does not grow with every sign-in, token and notification for ever.
//!
//! What goes, and what is kept (with `expired` the retention of expired artefacts and
//! `delivered` that of delivered notifications, see [`Retention`]):
//!
//! - **Sessions** once `expired` has passed since they expired.
//! - **Access and refresh tokens** once `expired` has passed since they expired. A rotated
//!   refresh token is kept until then too: until its own expiry, presenting it again is reuse
//!   and revokes its family (RFC 9700 §4.14.2); after its expiry it cannot mint anything, so
//!   it is refused like any unknown token.
//! - **Token families**, revoked or not, once they have no token left (and were created more
//!   than `expired` ago). So a revoked family is kept exactly as long as any of its tokens
//!   could still be presented: those are refused as revoked, and a reused rotated token is
//!   still recognised.
//! - **Authorization codes** once `expired` has passed since they expired *and* the family
//!   they issued is gone: while that family has a token, replaying the code must still
//!   revoke it (RFC 6749 §4.1.2).
//! - **Delivered notifications** once `delivered` has passed since delivery. Undelivered
//!   ones (pending, retrying or abandoned) are never pruned: the worker or the developer
//!   still needs them.
//! - **Apps' notifications to users** (the inbox) once `notifications` has passed since they
//!   were posted, read or not.
//! - **Failed sign-in counts** once forgotten (their `forget_at` has passed; see
//!   [`crate::store::login_throttle`]): a forgotten count already reads as absent, so this
//!   only keeps the table small.
//!
//! Everything is deleted in batches of [`Retention::batch`] rows, each its own short write on
//! the writer thread, so requests' writes queue behind one batch at most, never behind a whole
//! pass. Each pass logs how many rows of each kind it removed (counts only).

use std::sync::Arc;
use std::time::Duration;

use crate::domain::now;
use crate::store::{Prunable, Store, StoreResult};

/// How long things are kept, and how pruning runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Retention {
    /// Seconds expired sessions, tokens and codes are kept after they expire.
    pub expired_secs: i64,
    /// Seconds delivered notifications are kept after delivery.
    pub delivered_secs: i64,
    /// Seconds apps' notifications to users are kept after they were posted.
    pub notifications_secs: i64,
    /// Time between two passes.
    pub interval: Duration,
    /// Rows deleted per write.
    pub batch: usize,
}

impl Default for Retention {
    fn default() -> Self {
        Retention {
            expired_secs: 24 * 3600,
            delivered_secs: 7 * 24 * 3600,
            notifications_secs: 30 * 24 * 3600,
            interval: Duration::from_secs(3600),
            batch: 500,
        }
    }
}

/// Rows removed by one pass, per kind.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    pub sessions: usize,
    pub access_tokens: usize,
    pub refresh_tokens: usize,
    pub families: usize,
    pub codes: usize,
    pub delivered_events: usize,
    pub notifications: usize,
    pub login_backoff: usize,
    /// Writes it took.
    pub batches: usize,
}

impl Report {
    fn count_of(&mut self, what: Prunable) -> &mut usize {
        match what {
            Prunable::Sessions => &mut self.sessions,
            Prunable::AccessTokens => &mut self.access_tokens,
            Prunable::RefreshTokens => &mut self.refresh_tokens,
            Prunable::Families => &mut self.families,
            Prunable::Codes => &mut self.codes,
            Prunable::DeliveredEvents => &mut self.delivered_events,
            Prunable::Notifications => &mut self.notifications,
            Prunable::LoginBackoff => &mut self.login_backoff,
        }
    }

    /// Adds the rows removed to `counters`, labelled by kind.
    pub fn count_into(&self, counters: &prometheus::IntCounterVec) {
        for (kind, n) in [
            ("sessions", self.sessions),
            ("access_tokens", self.access_tokens),
            ("refresh_tokens", self.refresh_tokens),
            ("token_families", self.families),
            ("codes", self.codes),
            ("delivered_events", self.delivered_events),
            ("notifications", self.notifications),
            ("login_backoff", self.login_backoff),
        ] {
            counters
                .with_label_values(&[kind])
                .inc_by(u64::try_from(n).unwrap_or(u64::MAX));
        }
    }

    pub fn total(&self) -> usize {
        self.sessions
            + self.access_tokens
            + self.refresh_tokens
            + self.families
            + self.codes
            + self.delivered_events
            + self.notifications
            + self.login_backoff
    }
}

/// One pass at time `at`. The order matters: tokens first, then the families they leave
/// empty, then the codes of those families.
pub async fn run_once(store: &dyn Store, retention: &Retention, at: i64) -> StoreResult<Report> {
    let expired_cutoff = at.saturating_sub(retention.expired_secs);
    let delivered_cutoff = at.saturating_sub(retention.delivered_secs);
    let mut report = Report::default();
    for what in [
        Prunable::Sessions,
        Prunable::AccessTokens,
        Prunable::RefreshTokens,
        Prunable::Families,
        Prunable::Codes,
        Prunable::DeliveredEvents,
        Prunable::Notifications,
        Prunable::LoginBackoff,
    ] {
        let cutoff = match what {
            Prunable::DeliveredEvents => delivered_cutoff,
            Prunable::Notifications => at.saturating_sub(retention.notifications_secs),
            // Nothing to keep once forgotten.
            Prunable::LoginBackoff => at,
            _ => expired_cutoff,
        };
        let mut after = 0;
        loop {
            let step = store.prune(what, cutoff, retention.batch, after).await?;
            report.batches += 1;
            *report.count_of(what) += step.deleted;
            match step.resume_after {
                Some(next) => after = next,
                None => break,
            }
            // Let the requests' writes that queued behind this batch go first.
            tokio::task::yield_now().await;
        }
    }
    Ok(report)
}

/// Starts the pruning task: a pass now, then one every `retention.interval`.
/// Each pass adds what it removed to `pruned` (by `kind`).
pub fn spawn(
    store: Arc<dyn Store>,
    retention: Retention,
    pruned: prometheus::IntCounterVec,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(retention.interval);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let report = run_once(store.as_ref(), &retention, now()).await;
            if let Ok(r) = &report {
                r.count_into(&pruned);
            }
            match report {
                Ok(r) if r.total() > 0 => tracing::info!(
                    sessions = r.sessions,
                    access_tokens = r.access_tokens,
                    refresh_tokens = r.refresh_tokens,
                    token_families = r.families,
                    codes = r.codes,
                    delivered_events = r.delivered_events,
                    notifications = r.notifications,
                    login_backoff = r.login_backoff,
                    batches = r.batches,
                    "pruned expired rows"
                ),
                Ok(r) => tracing::debug!(batches = r.batches, "nothing to prune"),
                Err(e) => tracing::warn!(error = %e, "pruning failed; will try again"),
            }
        }
    })
}
