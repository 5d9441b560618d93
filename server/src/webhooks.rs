//! Delivery of install notifications from the durable outbox.
//!
//! Events are written to the `outbox` table in the same transaction as the install change, so a
//! crash loses nothing; this worker sends what is due, signs each attempt, and retries failures
//! with exponential backoff until the event is about a day old, when it gives up and the
//! developer sees it as failed. Delivery is at least once: receivers deduplicate by event id.
//! The user's request never waits: it only nudges the worker through a [`Notify`].

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;

use crate::domain::now;
use crate::keys::{webhook_signature, ServerKeys};
use crate::store::{Delivery, Store};

/// Retry policy.
#[derive(Debug, Clone)]
pub struct Policy {
    /// Wait before the first retry, in seconds; doubles with each failure.
    pub first_retry_secs: i64,
    /// Longest wait between retries.
    pub max_retry_secs: i64,
    /// Give up on an event this many seconds after it was queued.
    pub give_up_after_secs: i64,
    /// How often the outbox is polled when nothing nudges the worker.
    pub poll: Duration,
    /// Timeout of one delivery attempt.
    pub timeout: Duration,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            first_retry_secs: 1,
            max_retry_secs: 3600,
            give_up_after_secs: 24 * 3600,
            poll: Duration::from_secs(1),
            timeout: Duration::from_secs(10),
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
}

/// Starts the delivery worker on the current runtime.
pub fn spawn(
    store: Arc<dyn Store>,
    keys: Arc<ServerKeys>,
    nudge: Arc<Notify>,
    policy: Policy,
) -> tokio::task::JoinHandle<()> {
    let http = reqwest::Client::builder()
        .timeout(policy.timeout)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("atrium-webhooks/", env!("CARGO_PKG_VERSION")))
        .build()
        .unwrap_or_default();
    tokio::spawn(async move {
        loop {
            match store.due_deliveries(now(), 32).await {
                Ok(due) => {
                    let sends = due.into_iter().map(|d| {
                        deliver(store.clone(), keys.clone(), http.clone(), policy.clone(), d)
                    });
                    futures_join_all(sends).await;
                }
                Err(e) => tracing::error!(error = %e, "cannot read the outbox"),
            }
            tokio::select! {
                _ = nudge.notified() => {}
                _ = tokio::time::sleep(policy.poll) => {}
            }
        }
    })
}

/// Runs the futures concurrently and waits for all of them.
async fn futures_join_all<F: std::future::Future<Output = ()> + Send + 'static>(
    futures: impl Iterator<Item = F>,
) {
    let handles: Vec<_> = futures.map(tokio::spawn).collect();
    for h in handles {
        let _ = h.await;
    }
}

async fn deliver(
    store: Arc<dyn Store>,
    keys: Arc<ServerKeys>,
    http: reqwest::Client,
    policy: Policy,
    d: Delivery,
) {
    let secret = keys.webhook_secret(&d.client_id, d.webhook_version);
    let t = now();
    let outcome = http
        .post(&d.url)
        .header("content-type", "application/json")
        .header(
            "atrium-signature",
            webhook_signature(&secret, t, d.body.as_bytes()),
        )
        .header("atrium-event-id", &d.event_id)
        .header("atrium-event-type", &d.event_type)
        .body(d.body.clone())
        .send()
        .await;
    let error = match outcome {
        Ok(res) if res.status().is_success() => None,
        Ok(res) => Some(format!("the app answered {}", res.status())),
        Err(e) if e.is_timeout() => Some("the app did not answer in time".to_string()),
        Err(e) if e.is_connect() => Some("cannot connect to the app".to_string()),
        Err(e) => Some(e.to_string()),
    };
    let result = match error {
        None => {
            tracing::info!(event = %d.event_id, kind = %d.event_type, "notification delivered");
            store.delivery_done(d.id).await
        }
        Some(err) => {
            let retry = policy.next_attempt(d.attempts + 1, d.created_at, now());
            tracing::warn!(event = %d.event_id, attempt = d.attempts + 1, error = %err, gave_up = retry.is_none(), "notification not delivered");
            store.delivery_attempt_failed(d.id, &err, retry).await
        }
    };
    if let Err(e) = result {
        tracing::error!(error = %e, "cannot record a delivery attempt");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_exponentially_and_stop_after_a_day() {
        let p = Policy::default();
        assert_eq!(p.next_attempt(1, 0, 0), Some(1));
        assert_eq!(p.next_attempt(2, 0, 10), Some(12));
        assert_eq!(p.next_attempt(5, 0, 100), Some(116));
        assert_eq!(p.next_attempt(30, 0, 100), Some(3700));
        assert_eq!(p.next_attempt(3, 0, 24 * 3600), None);
    }
}
