//! Password checks with bounded concurrency and bounded memory.
//!
//! An argon2id check with the default parameters fills 19 MiB. Run on tokio's blocking pool
//! without a cap, 150 concurrent sign-ins meant 150 threads each allocating 19 MiB, and the
//! allocator kept most of it afterwards (per-thread arenas): gigabytes. Here at most `permits`
//! checks run at once, each on one of `permits` work areas allocated once and reused, so the
//! memory that password checks take is `permits × 19 MiB`, whatever the load. A check that
//! cannot start within the queue timeout is refused (the caller answers 503).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use argon2::password_hash::PasswordHash;
use argon2::{Algorithm, Argon2, Block, Params, Version};
use subtle::ConstantTimeEq;
use tokio::sync::Semaphore;

/// The password check could not start in time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Busy;

/// Runs password checks, a few at a time.
#[derive(Debug)]
pub struct Verifier {
    permits: Arc<Semaphore>,
    queue_timeout: Duration,
    /// Checks waiting for a permit (a metric).
    queued: prometheus::IntGauge,
    /// Work areas of checks not running now (at most one per permit).
    areas: Arc<Mutex<Vec<Vec<Block>>>>,
}

impl Verifier {
    pub fn new(
        concurrency: usize,
        queue_timeout: Duration,
        queued: prometheus::IntGauge,
    ) -> Verifier {
        Verifier {
            permits: Arc::new(Semaphore::new(concurrency.max(1))),
            queue_timeout,
            queued,
            areas: Arc::new(Mutex::new(Vec::new())),
        }
    }

    /// Checks `password` against the stored PHC string `hash`, waiting at most the queue
    /// timeout for a turn. A malformed hash never matches.
    pub async fn verify(&self, password: String, hash: String) -> Result<bool, Busy> {
        let permit = match self.permits.clone().try_acquire_owned() {
            Ok(permit) => permit,
            Err(_) => {
                // Counted while it waits, however the wait ends (even by cancellation).
                let _queued = Queued::enter(&self.queued);
                let wait = self.permits.clone().acquire_owned();
                match tokio::time::timeout(self.queue_timeout, wait).await {
                    Ok(Ok(permit)) => permit,
                    _ => return Err(Busy),
                }
            }
        };
        let areas = self.areas.clone();
        let checked = tokio::task::spawn_blocking(move || {
            let mut area = areas
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .pop()
                .unwrap_or_default();
            let ok = verify_in(&password, &hash, &mut area);
            areas.lock().unwrap_or_else(|e| e.into_inner()).push(area);
            drop(permit);
            ok
        })
        .await;
        Ok(checked.unwrap_or(false))
    }
}

/// One check in the queue, for as long as it lives.
struct Queued<'a>(&'a prometheus::IntGauge);

impl<'a> Queued<'a> {
    fn enter(gauge: &'a prometheus::IntGauge) -> Queued<'a> {
        gauge.inc();
        Queued(gauge)
    }
}

impl Drop for Queued<'_> {
    fn drop(&mut self) {
        self.0.dec();
    }
}

/// Argon2 verification of a PHC string in a caller-provided work area (grown if the stored
/// hash asks for more memory than the area has).
fn verify_in(password: &str, stored: &str, area: &mut Vec<Block>) -> bool {
    let Ok(hash) = PasswordHash::new(stored) else {
        return false;
    };
    let (Some(salt), Some(expected)) = (hash.salt, hash.hash) else {
        return false;
    };
    let Ok(algorithm) = Algorithm::try_from(hash.algorithm) else {
        return false;
    };
    let version = match hash.version.map(Version::try_from) {
        None => Version::default(),
        Some(Ok(v)) => v,
        Some(Err(_)) => return false,
    };
    let Ok(params) = Params::try_from(&hash) else {
        return false;
    };
    let mut salt_bytes = [0u8; 64];
    let Ok(salt) = salt.decode_b64(&mut salt_bytes) else {
        return false;
    };
    let blocks = params.block_count();
    if area.len() < blocks {
        area.resize(blocks, Block::default());
    }
    let mut out = vec![0u8; expected.len()];
    let argon = Argon2::new(algorithm, version, params);
    if argon
        .hash_password_into_with_memory(password.as_bytes(), salt, &mut out, &mut area[..blocks])
        .is_err()
    {
        return false;
    }
    out.ct_eq(expected.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::password;

    #[tokio::test]
    async fn checks_agree_with_the_hashes_the_server_stores() {
        let v = Verifier::new(1, Duration::from_secs(5), gauge());
        let h = password::hash("correct horse");
        assert_eq!(v.verify("correct horse".into(), h.clone()).await, Ok(true));
        assert_eq!(v.verify("battery staple".into(), h).await, Ok(false));
        assert_eq!(v.verify("x".into(), "not a hash".into()).await, Ok(false));
    }

    #[tokio::test]
    async fn a_check_that_cannot_start_in_time_is_refused() {
        let v = Verifier::new(1, Duration::from_millis(50), gauge());
        let _held = v.permits.clone().acquire_owned().await.unwrap();
        let h = password::hash("pw");
        let waiting = {
            let v = &v;
            let h = h.clone();
            async move { v.verify("pw".into(), h).await }
        };
        let mut waiting = std::pin::pin!(waiting);
        // While it waits, it is counted as queued; once refused, no longer.
        assert!(futures_poll_once(waiting.as_mut()).await.is_none());
        assert_eq!(v.queued.get(), 1);
        assert_eq!(waiting.await, Err(Busy));
        assert_eq!(v.queued.get(), 0);
        assert_eq!(v.verify("pw".into(), h).await, Err(Busy));
    }

    fn gauge() -> prometheus::IntGauge {
        prometheus::IntGauge::new("queued", "queued").expect("a valid name")
    }

    /// Polls `f` once: its output if it was ready.
    async fn futures_poll_once<F: std::future::Future + Unpin>(f: F) -> Option<F::Output> {
        let mut f = f;
        std::future::poll_fn(|cx| {
            std::task::Poll::Ready(match std::pin::Pin::new(&mut f).poll(cx) {
                std::task::Poll::Ready(v) => Some(v),
                std::task::Poll::Pending => None,
            })
        })
        .await
    }
}
