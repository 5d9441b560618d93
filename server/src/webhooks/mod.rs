//! Delivery of install notifications from the durable outbox.
//!
//! Events are written to the `outbox` table in the same transaction as the install change, so a
//! crash loses nothing; this worker sends what is due, signs each attempt, and retries failures
//! with capped exponential backoff until the event is about a day old, when it gives up and the
//! developer sees it as failed. Delivery is at least once: receivers deduplicate by event id.
//! The user's request never waits: it only nudges the worker through a [`Notify`].
//!
//! Deliveries run concurrently, at most [`Policy::max_in_flight`] at once and at most
//! [`Policy::max_per_destination`] to one app, so a slow or silent endpoint holds only its own
//! slots and delays only its own events. The dispatcher never waits for a delivery: it starts
//! what is due whenever a slot frees up, a nudge arrives, or the poll interval passes.
//!
//! A destination's events share its fate (see [`crate::store::Store::delivery_done`]): a
//! failure defers its other pending events to the same retry, so an endpoint that is down sees
//! one probe per retry instead of one per event; a success makes its other pending events due
//! at once, so after an outage everything drains as soon as one attempt gets through, and the
//! capped backoff bounds how long that first attempt waits.
//!
//! Several replicas on one PostgreSQL database each run this worker: each claims what it sends
//! under a lease ([`crate::store::OutboxStore::claim_deliveries`]), so an event is normally
//! sent once, and the events of a replica that died are sent by another once their lease runs
//! out ([`Policy::lease`]). The caps are per replica.
//!
//! Where a notification may go is [`egress`]'s business; what a developer sees of a failure is
//! [`failure::Failure`].

pub mod egress;
pub mod failure;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, Notify};

use crate::domain::now;
use crate::keys::{webhook_signature, ServerKeys};
use crate::store::{Delivery, Store};
use egress::Egress;
use failure::Failure;

/// Retry and concurrency policy.
#[derive(Debug, Clone)]
pub struct Policy {
    /// Wait before the first retry, in seconds; doubles with each failure.
    pub first_retry_secs: i64,
    /// Longest wait between retries: after an outage, the first retry comes at most this long
    /// after the endpoint is back.
    pub max_retry_secs: i64,
    /// Give up on an event this many seconds after it was queued.
    pub give_up_after_secs: i64,
    /// How often the outbox is polled when nothing nudges the worker.
    pub poll: Duration,
    /// Timeout of one delivery attempt.
    pub timeout: Duration,
    /// Deliveries in flight at once, over all apps.
    pub max_in_flight: usize,
    /// Deliveries in flight at once to one app (per replica: see [`spawn`]).
    pub max_per_destination: usize,
    /// How long a claimed notification stays this replica's before another replica may send
    /// it (see [`crate::store::OutboxStore::claim_deliveries`]): what a replica that died
    /// mid-delivery delays its events by (`--webhook-lease`). Never less than
    /// [`Policy::timeout`] (`--webhook-timeout`) and a margin to record the attempt.
    pub lease: Duration,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            first_retry_secs: 1,
            max_retry_secs: 300,
            give_up_after_secs: 24 * 3600,
            poll: Duration::from_secs(1),
            timeout: Duration::from_secs(10),
            max_in_flight: 32,
            max_per_destination: 4,
            lease: Duration::from_secs(60),
        }
    }
}

impl Policy {
    /// When to try again after `attempts` failed attempts, or `None` to give up.
    pub fn next_attempt(&self, attempts: i64, queued_at: i64, at: i64) -> Option<i64> {
        if at - queued_at >= self.give_up_after_secs {
            return None;
        }
        let exp = attempts.clamp(1, 31) - 1;
        let wait = self
            .first_retry_secs
            .saturating_mul(1i64 << exp)
            .min(self.max_retry_secs);
        Some(at + wait)
    }

    /// Until when a notification claimed at `at` is leased (whole seconds, rounded up).
    pub fn lease_until(&self, at: i64) -> i64 {
        let lease = self.lease.max(self.timeout + Duration::from_secs(5));
        at.saturating_add(i64::try_from(lease.as_secs()).unwrap_or(i64::MAX) + 1)
    }
}

/// Starts the delivery worker on the current runtime.
pub fn spawn(
    store: Arc<dyn Store>,
    keys: Arc<ServerKeys>,
    nudge: Arc<Notify>,
    policy: Policy,
    egress: Egress,
    outcomes: prometheus::IntCounterVec,
) -> tokio::task::JoinHandle<()> {
    let sender = Arc::new(Sender {
        http: egress::client(egress, policy.timeout),
        store,
        keys,
        policy,
        egress,
        outcomes,
    });
    tokio::spawn(dispatch(sender, nudge))
}

/// What a delivery needs, shared by every delivery task.
struct Sender {
    store: Arc<dyn Store>,
    keys: Arc<ServerKeys>,
    http: reqwest::Client,
    policy: Policy,
    egress: Egress,
    /// Attempts by outcome (`delivered`, `failed`, `abandoned`), for the metrics.
    outcomes: prometheus::IntCounterVec,
}

/// Sent back by a finished delivery task (from a drop guard, so a panicking one frees its slot
/// too): the outbox row and its app.
type Finished = (i64, i64);

struct Slot {
    done: mpsc::UnboundedSender<Finished>,
    finished: Finished,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let _ = self.done.send(self.finished);
    }
}

/// The deliveries in flight, by outbox row and by app.
#[derive(Default)]
struct InFlight {
    rows: HashSet<i64>,
    per_app: HashMap<i64, usize>,
}

impl InFlight {
    /// Takes a slot for row `id` of `app`, if the caps allow and it is not already in flight.
    fn take(&mut self, (id, app): Finished, max: usize, per_destination: usize) -> bool {
        let busy = self.per_app.get(&app).copied().unwrap_or(0);
        if self.rows.len() >= max || busy >= per_destination || self.rows.contains(&id) {
            return false;
        }
        self.per_app.insert(app, busy + 1);
        self.rows.insert(id);
        true
    }

    fn release(&mut self, (id, app): Finished) {
        self.rows.remove(&id);
        if let Some(n) = self.per_app.get_mut(&app) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                self.per_app.remove(&app);
            }
        }
    }
}

/// The dispatcher: starts due deliveries within the caps, and never waits for one to finish.
async fn dispatch(sender: Arc<Sender>, nudge: Arc<Notify>) {
    let max = sender.policy.max_in_flight.max(1);
    let per_destination = sender.policy.max_per_destination.max(1);
    let (done_tx, mut done_rx) = mpsc::unbounded_channel::<Finished>();
    let mut in_flight = InFlight::default();
    loop {
        if in_flight.rows.len() < max {
            // Claimed under a lease, so that several replicas share the outbox. Without leases
            // (SQLite's one worker) a delivery in flight is still due until its attempt is
            // recorded, and an app's earliest events come first: asking for each app's first
            // `per_destination` due events, and twice the global cap in all, leaves room for
            // every free slot whatever is in flight.
            let at = now();
            match sender
                .store
                .claim_deliveries(at, 2 * max, per_destination, sender.policy.lease_until(at))
                .await
            {
                Ok(due) => {
                    for d in due {
                        let finished = (d.id, d.app_id);
                        if !in_flight.take(finished, max, per_destination) {
                            // Not sent now: due again at once, to this replica or another
                            // (unless this replica is sending it already).
                            if !in_flight.rows.contains(&d.id) {
                                if let Err(e) = sender.store.release_delivery(d.id).await {
                                    tracing::error!(error = %e, "cannot release a notification");
                                }
                            }
                            continue;
                        }
                        let slot = Slot {
                            done: done_tx.clone(),
                            finished,
                        };
                        let sender = sender.clone();
                        tokio::spawn(async move {
                            deliver(&sender, d).await;
                            drop(slot);
                        });
                    }
                }
                Err(e) => tracing::error!(error = %e, "cannot read the outbox"),
            }
        }
        tokio::select! {
            _ = nudge.notified() => {}
            Some(f) = done_rx.recv() => in_flight.release(f),
            _ = tokio::time::sleep(sender.policy.poll) => {}
        }
        while let Ok(f) = done_rx.try_recv() {
            in_flight.release(f);
        }
    }
}

/// One attempt: send, classify the outcome, record it.
async fn deliver(sender: &Sender, d: Delivery) {
    let outcome = match egress::check_destination(&d.url, sender.egress) {
        Ok(()) => send(sender, &d).await,
        Err(_) => Err(Failure::NotAllowed),
    };
    let store = &sender.store;
    let result = match outcome {
        Ok(()) => {
            sender.outcomes.with_label_values(&["delivered"]).inc();
            tracing::info!(event = %d.event_id, kind = %d.event_type, "notification delivered");
            store.delivery_done(d.id, now()).await
        }
        Err(failure) => {
            let retry = sender
                .policy
                .next_attempt(d.attempts + 1, d.created_at, now());
            let outcome = if retry.is_some() {
                "failed"
            } else {
                "abandoned"
            };
            sender.outcomes.with_label_values(&[outcome]).inc();
            tracing::warn!(
                event = %d.event_id,
                attempt = d.attempts + 1,
                error = %failure,
                gave_up = retry.is_none(),
                "notification not delivered"
            );
            store
                .delivery_attempt_failed(d.id, &failure.to_string(), retry)
                .await
        }
    };
    if let Err(e) = result {
        tracing::error!(error = %e, "cannot record a delivery attempt");
    }
}

async fn send(sender: &Sender, d: &Delivery) -> Result<(), Failure> {
    let secret = sender.keys.webhook_secret(&d.client_id, d.webhook_version);
    let res = sender
        .http
        .post(&d.url)
        .header("content-type", "application/json")
        .header(
            "atrium-signature",
            webhook_signature(&secret, now(), d.body.as_bytes()),
        )
        .header("atrium-event-id", &d.event_id)
        .header("atrium-event-type", &d.event_type)
        .body(d.body.clone())
        .send()
        .await
        .map_err(|e| {
            // The raw error (addresses, resolver details) is for the operator only.
            tracing::debug!(event = %d.event_id, error = ?e, "notification attempt failed");
            Failure::of(&e)
        })?;
    if res.status().is_success() {
        Ok(())
    } else {
        Err(Failure::Status(res.status().as_u16()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_exponentially_up_to_a_cap_and_stop_after_a_day() {
        let p = Policy::default();
        assert_eq!(p.next_attempt(1, 0, 0), Some(1));
        assert_eq!(p.next_attempt(2, 0, 10), Some(12));
        assert_eq!(p.next_attempt(5, 0, 100), Some(116));
        assert_eq!(p.next_attempt(30, 0, 100), Some(400));
        assert_eq!(p.next_attempt(3, 0, 24 * 3600), None);
    }
}
