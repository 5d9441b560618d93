//! What bounds the cost of signing in: password checks run a few at a time ([`verifier`]),
//! and a client network or a username that keeps failing must wait longer and longer before
//! its next try ([`backoff`]).
//!
//! `POST /login` asks [`LoginGuard::admit`] before it looks anything up, runs the check with
//! [`LoginGuard::verify`], and reports the outcome with [`LoginGuard::record`]. A refusal
//! carries the seconds to wait, for `Retry-After`: 429 for a back-off, 503 when the checks
//! are all busy.
//!
//! **Shared, and what is not.** The failure counts are in the store
//! ([`crate::store::login_throttle`]), so replicas on one PostgreSQL database count every
//! failure once, wherever it happened: spreading guesses over replicas buys nothing. (SQLite
//! keeps them in its database too; see `store/sqlite/login_throttle.rs` for why.) Admitting
//! is one read for the username's and the network's counts together; a success writes only
//! when the username had failures to forget; a failure is one write. The password checks'
//! concurrency and queue ([`verifier`]) stay per replica: they bound one process's CPU and
//! memory, which is what they are for.
//!
//! Admitting and counting are not one step: attempts admitted together are all checked, and
//! their failures all counted after. The verifier's concurrency bounds how many that is.

pub mod backoff;
pub mod verifier;

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use backoff::{Keys, Policy};
use verifier::Verifier;

use crate::keys::ServerKeys;
use crate::store::{Store, StoreResult, ThrottleKey};

/// Settings of the login guard (see "Operating Atrium" in the README). Every replica on one
/// database should have the same back-off settings: they read the same counts.
#[derive(Debug, Clone)]
pub struct LoginLimits {
    /// Password checks running at once (per replica).
    pub concurrency: usize,
    /// How long a sign-in waits for a free check before it gets 503.
    pub queue_timeout: Duration,
    /// Failures a username may have before it must wait.
    pub user_free_failures: u32,
    /// Failures a client network may have before it must wait.
    pub ip_free_failures: u32,
    /// The longest wait.
    pub max_backoff: Duration,
    /// Most usernames and most client networks remembered (each): the slots of the back-off
    /// table.
    pub capacity: usize,
}

impl Default for LoginLimits {
    fn default() -> LoginLimits {
        LoginLimits {
            // One CPU is left to serving requests: argon2 keeps a core busy for each check,
            // and during a login flood `/healthz` and the API must still answer promptly.
            concurrency: std::thread::available_parallelism().map_or(1, |n| n.get().max(2) - 1),
            queue_timeout: Duration::from_secs(5),
            user_free_failures: 5,
            ip_free_failures: 20,
            max_backoff: Duration::from_secs(300),
            capacity: 100_000,
        }
    }
}

/// Why a sign-in attempt was not checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Too many failures for this username or client: try again after this many seconds.
    TooManyAttempts { retry_after: u64 },
    /// Every password check is busy: try again after this many seconds.
    Busy { retry_after: u64 },
}

impl Refusal {
    pub fn retry_after(self) -> u64 {
        match self {
            Refusal::TooManyAttempts { retry_after } | Refusal::Busy { retry_after } => retry_after,
        }
    }
}

/// The login guard: one per server.
pub struct LoginGuard {
    verifier: Verifier,
    /// Sign-ins by outcome, for the metrics.
    outcomes: crate::metrics::Logins,
    /// Where the failures are counted.
    store: Arc<dyn Store>,
    keys: Keys,
    users: Policy,
    clients: Policy,
    /// A key with no failure for this long is forgotten.
    forget_after: Duration,
}

impl std::fmt::Debug for LoginGuard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginGuard")
            .field("verifier", &self.verifier)
            .field("users", &self.users)
            .field("clients", &self.clients)
            .finish_non_exhaustive()
    }
}

/// An attempt [`LoginGuard::admit`] let through, to hand back to [`LoginGuard::record`].
#[derive(Debug)]
pub struct Attempt {
    user: ThrottleKey,
    client: Option<ThrottleKey>,
    /// Whether the username had failures remembered, which a success must forget.
    user_failed: bool,
}

impl LoginGuard {
    /// A guard that counts failures in `store`, under keys hashed with the key material of
    /// `keys` (so every replica with the same key file agrees on them), and its outcomes in
    /// `metrics`.
    pub fn new(
        limits: &LoginLimits,
        metrics: &crate::metrics::Metrics,
        store: Arc<dyn Store>,
        keys: &ServerKeys,
    ) -> LoginGuard {
        let policy = |free| Policy {
            free_failures: free,
            base: Duration::from_secs(1),
            max: limits.max_backoff,
        };
        LoginGuard {
            verifier: Verifier::new(
                limits.concurrency,
                limits.queue_timeout,
                metrics.password_checks_queued.clone(),
            ),
            outcomes: metrics.logins.clone(),
            store,
            keys: Keys::new(keys.login_throttle_key(), limits.capacity),
            users: policy(limits.user_free_failures),
            clients: policy(limits.ip_free_failures),
            forget_after: limits.max_backoff.max(Duration::from_secs(900)),
        }
    }

    /// May this client try this username now? One read of the shared counts.
    pub async fn admit(
        &self,
        client: Option<IpAddr>,
        username: &str,
    ) -> StoreResult<Result<Attempt, Refusal>> {
        let now = now_ms();
        let user = self.keys.user(username);
        let client = client.map(|c| self.keys.network(c));
        let keys = std::iter::once(user).chain(client).collect();
        let found = self.store.login_failures(keys, now).await?;
        let user_failures = found.first().copied().flatten();
        let client_failures = found.get(1).copied().flatten();
        let waits = [
            user_failures.and_then(|f| self.users.wait(&f, now)),
            client_failures.and_then(|f| self.clients.wait(&f, now)),
        ];
        Ok(match waits.into_iter().flatten().max() {
            Some(wait) => {
                self.outcomes.throttled.inc();
                Err(Refusal::TooManyAttempts {
                    retry_after: seconds(wait),
                })
            }
            None => Ok(Attempt {
                user,
                client,
                user_failed: user_failures.is_some(),
            }),
        })
    }

    /// Checks a password against a stored hash, a few checks at a time.
    pub async fn verify(&self, password: String, hash: String) -> Result<bool, Refusal> {
        self.verifier
            .verify(password, hash)
            .await
            .map_err(|verifier::Busy| {
                self.outcomes.throttled.inc();
                Refusal::Busy { retry_after: 1 }
            })
    }

    /// Records the outcome of a checked attempt: a failure counts against the username and
    /// the network; a success forgets the username's failures (none to forget: no write).
    pub async fn record(&self, attempt: Attempt, ok: bool) -> StoreResult<()> {
        let counter = match ok {
            true => &self.outcomes.succeeded,
            false => &self.outcomes.failed,
        };
        counter.inc();
        if ok {
            if attempt.user_failed {
                self.store.forget_login_failures(attempt.user).await?;
            }
        } else {
            let keys = std::iter::once(attempt.user)
                .chain(attempt.client)
                .collect();
            let forget_after = i64::try_from(self.forget_after.as_millis()).unwrap_or(i64::MAX);
            self.store
                .count_login_failure(keys, now_ms(), forget_after)
                .await?;
        }
        Ok(())
    }
}

/// The wall clock in Unix milliseconds: counts are shared, so replicas compare their clocks
/// (kept in step, as token expiry already needs).
fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// Whole seconds, rounded up (a `Retry-After` of 0 would invite an immediate retry).
fn seconds(d: Duration) -> u64 {
    d.as_secs() + u64::from(d.subsec_nanos() > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_username_that_keeps_failing_must_wait_whatever_its_case() {
        let dir = tempfile::tempdir().expect("temp dir");
        let db = crate::db::Db::open(&dir.path().join("atrium.db")).expect("database");
        let store: Arc<dyn Store> = Arc::new(crate::store::sqlite::SqliteStore::new(db));
        let metrics = crate::metrics::Metrics::new(&[]).expect("metrics");
        let g = LoginGuard::new(
            &LoginLimits {
                user_free_failures: 1,
                ..LoginLimits::default()
            },
            &metrics,
            store,
            &ServerKeys::from_master([7; 32]),
        );
        let admit = |name: &'static str| g.admit(None, name);
        let attempt = admit("Ada").await.expect("store").expect("admitted");
        g.record(attempt, false).await.expect("store");
        let attempt = admit("ada").await.expect("store").expect("admitted");
        g.record(attempt, false).await.expect("store");
        assert!(matches!(
            admit("ADA").await.expect("store"),
            Err(Refusal::TooManyAttempts { retry_after: 1 })
        ));
        let grace = admit("grace").await.expect("store").expect("admitted");
        g.record(grace, true).await.expect("store");
        let l = &metrics.logins;
        assert_eq!(
            (l.failed.get(), l.throttled.get(), l.succeeded.get()),
            (2, 1, 1)
        );
    }
}
