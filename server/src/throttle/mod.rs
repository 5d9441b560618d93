//! What bounds the cost of signing in: password checks run a few at a time ([`verifier`]),
//! and a client network or a username that keeps failing must wait longer and longer before
//! its next try ([`backoff`]).
//!
//! `POST /login` asks [`LoginGuard::admit`] before it looks anything up, which counts the
//! attempt as a failure there and then; it runs the check with [`LoginGuard::verify`], and
//! reports the outcome with [`LoginGuard::record`], which takes the count back on success. A refusal
//! carries the seconds to wait, for `Retry-After`: 429 for a back-off, 503 when the checks
//! are all busy.
//!
//! **Shared, and what is not.** The failure counts are in the store
//! ([`crate::store::login_throttle`]), so replicas on one PostgreSQL database count every
//! failure once, wherever it happened: spreading guesses over replicas buys nothing. (SQLite
//! keeps them in its database too; see `store/sqlite/login_throttle.rs` for why.) The password
//! checks' concurrency and queue ([`verifier`]) stay per replica: they bound one process's CPU
//! and memory, which is what they are for.
//!
//! **Counted before checked.** Admitting and counting are one step: a read of the username's
//! and the network's counts, then a compare-and-set that adds the attempt to both, which
//! fails (and is tried again on a fresh read) when another attempt counted first. So guesses
//! sent at the same moment, to one replica or many, are admitted as if one after the other,
//! and at most the free failures get their password checked before the waits begin; an
//! attempt whose outcome is never recorded (a crash, a store error) stays counted. A success
//! costs one more write: it forgets the username's count and takes the attempt back from the
//! network's, so people signing in behind one address do not count against it.

pub mod backoff;
pub mod verifier;

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use backoff::{highest, Keys, Policy};
use verifier::Verifier;

use crate::keys::ServerKeys;
use crate::store::{Claim, Failures, Store, StoreResult, ThrottleKey};

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
    /// A client's own network: its IPv4 address or IPv6 /64.
    clients: Policy,
    /// The IPv6 /48 around it: one site's, which holds 65,536 /64s to move between.
    sites: Policy,
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

/// An attempt [`LoginGuard::admit`] let through (and counted), to hand back to
/// [`LoginGuard::record`].
#[derive(Debug)]
pub struct Attempt {
    /// The username's rows, forgotten after a success.
    user: Vec<ThrottleKey>,
    /// The network's rows (and its /48's), given back their count after a success.
    client: Vec<ThrottleKey>,
}

/// How many times more failures an IPv6 /48 may have than one client network before it must
/// wait: a site (a home, an office, a campus) holds many people, but an attacker given a /48
/// must not get 65,536 budgets.
const SITE_FAILURES_PER_NETWORK: u32 = 16;

/// How many times an attempt reads and claims the counts before it gives up on a race with
/// others counted at the same moment (and gets 503, to retry).
const CLAIM_ROUNDS: usize = 4;

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
            sites: policy(
                limits
                    .ip_free_failures
                    .saturating_mul(SITE_FAILURES_PER_NETWORK),
            ),
            forget_after: limits.max_backoff.max(Duration::from_secs(900)),
        }
    }

    /// May this client try this username now? If so, the attempt is counted as a failure at
    /// once, before its password is checked ([`LoginGuard::record`] takes it back on
    /// success): attempts sent at the same moment are admitted one after the other on the
    /// count the one before left, so they cannot all slip through on one read. A read and a
    /// compare-and-set of the shared counts; on losing a race, again (at most
    /// [`CLAIM_ROUNDS`] times, then 503).
    pub async fn admit(
        &self,
        client: Option<IpAddr>,
        username: &str,
    ) -> StoreResult<Result<Attempt, Refusal>> {
        let user = self.keys.user(username);
        let networks = client.map(|c| self.keys.networks(c)).unwrap_or_default();
        // Each key's rows and the policy it waits by: the username, then the client's networks.
        let groups: Vec<(&[ThrottleKey], &Policy)> = std::iter::once((&user[..], &self.users))
            .chain(
                networks
                    .iter()
                    .map(|n| &n[..])
                    .zip([&self.clients, &self.sites]),
            )
            .collect();
        let rows: Vec<ThrottleKey> = groups.iter().flat_map(|(r, _)| r.iter().copied()).collect();
        let forget_after = i64::try_from(self.forget_after.as_millis()).unwrap_or(i64::MAX);
        for _ in 0..CLAIM_ROUNDS {
            let now = now_ms();
            let found = self.store.login_failures(rows.clone(), now).await?;
            let mut claims = Vec::with_capacity(rows.len());
            let mut wait = None;
            let mut seen = found.iter();
            for (keys, policy) in &groups {
                let mine: Vec<Option<Failures>> = seen.by_ref().take(keys.len()).copied().collect();
                let failures = highest(&mine);
                wait = wait.max(failures.and_then(|f| policy.wait(&f, now)));
                // Every row of a key gets its count plus one: a row another key took over
                // gets the count back.
                let count = failures.map_or(0, |f| f.count).saturating_add(1);
                claims.extend(keys.iter().zip(&mine).map(|(key, row)| Claim {
                    key: *key,
                    seen: row.map_or(0, |f| f.count),
                    count,
                }));
            }
            if let Some(wait) = wait {
                self.outcomes.throttled.inc();
                return Ok(Err(Refusal::TooManyAttempts {
                    retry_after: seconds(wait),
                }));
            }
            if self
                .store
                .claim_login_attempt(claims, now, forget_after)
                .await?
            {
                let client = networks.into_iter().flatten().collect();
                return Ok(Ok(Attempt { user, client }));
            }
        }
        self.outcomes.throttled.inc();
        Ok(Err(Refusal::Busy { retry_after: 1 }))
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

    /// Records the outcome of a checked attempt. A failure was counted when it was admitted;
    /// a success forgets the username's count and gives the network back the one attempt.
    pub async fn record(&self, attempt: Attempt, ok: bool) -> StoreResult<()> {
        if !ok {
            self.outcomes.failed.inc();
            return Ok(());
        }
        self.outcomes.succeeded.inc();
        self.store
            .settle_login_success(attempt.user, attempt.client)
            .await
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

    /// A guard with these limits over a fresh SQLite database (kept in the returned
    /// directory), its keys made from `master`; and its metrics.
    fn guard(
        limits: LoginLimits,
        master: u8,
    ) -> (tempfile::TempDir, Arc<crate::metrics::Metrics>, LoginGuard) {
        let dir = tempfile::tempdir().expect("temp dir");
        let db = crate::db::Db::open(&dir.path().join("atrium.db")).expect("database");
        let store: Arc<dyn Store> = Arc::new(crate::store::sqlite::SqliteStore::new(db));
        let metrics = crate::metrics::Metrics::new(&[]).expect("metrics");
        let keys = ServerKeys::from_master([master; 32]);
        let g = LoginGuard::new(&limits, &metrics, store, &keys);
        (dir, metrics, g)
    }

    #[tokio::test]
    async fn a_username_that_keeps_failing_must_wait_and_its_case_is_its_own() {
        let (_dir, metrics, g) = guard(
            LoginLimits {
                user_free_failures: 1,
                ..LoginLimits::default()
            },
            7,
        );
        let admit = |name: &'static str| g.admit(None, name);
        for _ in 0..2 {
            let attempt = admit("ada").await.expect("store").expect("admitted");
            g.record(attempt, false).await.expect("store");
        }
        assert!(matches!(
            admit("ada").await.expect("store"),
            Err(Refusal::TooManyAttempts { retry_after: 1 })
        ));
        // Usernames are looked up exactly: `ADA` is another account, whose sign-in neither
        // waits for ada's failures nor clears them.
        let other = admit("ADA").await.expect("store").expect("admitted");
        g.record(other, true).await.expect("store");
        assert!(admit("ada").await.expect("store").is_err());
        let l = &metrics.logins;
        assert_eq!(
            (l.failed.get(), l.throttled.get(), l.succeeded.get()),
            (2, 2, 1)
        );
    }

    #[tokio::test]
    async fn a_network_gets_its_attempt_back_when_it_succeeds() {
        let (_dir, _, g) = guard(
            LoginLimits {
                ip_free_failures: 2,
                ..LoginLimits::default()
            },
            7,
        );
        let office = Some(IpAddr::from([192, 0, 2, 1]));
        // Many people signing in from one address are not counted against it...
        for i in 0..10 {
            let attempt = g.admit(office, &format!("user{i}")).await.expect("store");
            g.record(attempt.expect("admitted"), true)
                .await
                .expect("store");
        }
        // ...but its failures are.
        for i in 0..3 {
            let attempt = g.admit(office, &format!("guess{i}")).await.expect("store");
            g.record(attempt.expect("admitted"), false)
                .await
                .expect("store");
        }
        assert!(g.admit(office, "user0").await.expect("store").is_err());
    }

    #[tokio::test]
    async fn an_ipv6_client_moving_between_its_48s_networks_is_counted_as_one_site() {
        let (_dir, _, g) = guard(
            LoginLimits {
                ip_free_failures: 1,
                ..LoginLimits::default()
            },
            7,
        );
        // A fresh /64 (and username) for every guess: each network fails once, within its
        // own budget, but the /48 they share has 16 × 1 free failures.
        let from = |i: u16| Some(IpAddr::from([0x2001, 0xdb8, 7, i, 0, 0, 0, 1]));
        let free = SITE_FAILURES_PER_NETWORK as u16;
        for i in 0..=free {
            let attempt = g.admit(from(i), &format!("guess{i}")).await.expect("store");
            g.record(attempt.expect("admitted"), false)
                .await
                .expect("store");
        }
        assert!(g
            .admit(from(free + 1), "next")
            .await
            .expect("store")
            .is_err());
        let elsewhere = Some(IpAddr::from([0x2001, 0xdb8, 8, 0, 0, 0, 0, 1]));
        assert!(g.admit(elsewhere, "next").await.expect("store").is_ok());
    }

    /// The slots a username's count is kept in.
    fn user_slots(g: &LoginGuard, name: &str) -> Vec<i64> {
        g.keys.user(name).iter().map(|k| k.slot).collect()
    }

    #[tokio::test]
    async fn a_username_sharing_a_slot_with_another_does_not_clear_its_count() {
        let (_dir, _, g) = guard(
            LoginLimits {
                user_free_failures: 1,
                capacity: 64,
                ..LoginLimits::default()
            },
            9,
        );
        for _ in 0..2 {
            let attempt = g
                .admit(None, "ada")
                .await
                .expect("store")
                .expect("admitted");
            g.record(attempt, false).await.expect("store");
        }
        assert!(g.admit(None, "ada").await.expect("store").is_err());
        // An attacker's username that lands in one of ada's slots (found by trying names, as
        // an attacker could through the answers), failing once.
        let ada = user_slots(&g, "ada");
        let other = (0..100_000)
            .map(|i| format!("x{i}"))
            .find(|n| user_slots(&g, n).iter().any(|s| ada.contains(s)))
            .expect("a name sharing a slot");
        let attempt = g
            .admit(None, &other)
            .await
            .expect("store")
            .expect("admitted");
        g.record(attempt, false).await.expect("store");
        assert!(
            g.admit(None, "ada").await.expect("store").is_err(),
            "{other} cleared ada's count"
        );
    }
}
