//! What bounds the cost of signing in: password checks run a few at a time ([`verifier`]),
//! and a client network or a username that keeps failing must wait longer and longer before
//! its next try ([`backoff`]).
//!
//! `POST /login` asks [`LoginGuard::admit`] before it looks anything up, runs the check with
//! [`LoginGuard::verify`], and reports the outcome with [`LoginGuard::record`]. A refusal
//! carries the seconds to wait, for `Retry-After`: 429 for a back-off, 503 when the checks
//! are all busy.

pub mod backoff;
pub mod verifier;

use std::hash::BuildHasher;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use backoff::{Backoff, Policy};
use verifier::Verifier;

/// Settings of the login guard (see "Operating Atrium" in the README).
#[derive(Debug, Clone)]
pub struct LoginLimits {
    /// Password checks running at once.
    pub concurrency: usize,
    /// How long a sign-in waits for a free check before it gets 503.
    pub queue_timeout: Duration,
    /// Failures a username may have before it must wait.
    pub user_free_failures: u32,
    /// Failures a client network may have before it must wait.
    pub ip_free_failures: u32,
    /// The longest wait.
    pub max_backoff: Duration,
    /// Most usernames and most client networks remembered (each).
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
#[derive(Debug)]
pub struct LoginGuard {
    verifier: Verifier,
    /// Sign-ins by outcome, for the metrics.
    outcomes: crate::metrics::Logins,
    tables: Mutex<Tables>,
    /// Keys usernames so that nobody can aim many names at one slot of the table.
    hasher: std::collections::hash_map::RandomState,
}

#[derive(Debug)]
struct Tables {
    users: Backoff<u64>,
    clients: Backoff<u128>,
}

impl LoginGuard {
    /// A guard that counts its outcomes in `metrics`.
    pub fn new(limits: &LoginLimits, metrics: &crate::metrics::Metrics) -> LoginGuard {
        let policy = |free| Policy {
            free_failures: free,
            base: Duration::from_secs(1),
            max: limits.max_backoff,
            forget_after: limits.max_backoff.max(Duration::from_secs(900)),
            capacity: limits.capacity,
        };
        LoginGuard {
            verifier: Verifier::new(
                limits.concurrency,
                limits.queue_timeout,
                metrics.password_checks_queued.clone(),
            ),
            outcomes: metrics.logins.clone(),
            tables: Mutex::new(Tables {
                users: Backoff::new(policy(limits.user_free_failures)),
                clients: Backoff::new(policy(limits.ip_free_failures)),
            }),
            hasher: Default::default(),
        }
    }

    /// May this client try this username now?
    pub fn admit(&self, client: Option<IpAddr>, username: &str) -> Result<(), Refusal> {
        let now = Instant::now();
        let user = self.user_key(username);
        let t = self.tables.lock().unwrap_or_else(|e| e.into_inner());
        let waits = [
            t.users.check(&user, now).err(),
            client.and_then(|c| t.clients.check(&client_key(c), now).err()),
        ];
        match waits.into_iter().flatten().max() {
            Some(wait) => {
                self.outcomes.throttled.inc();
                Err(Refusal::TooManyAttempts {
                    retry_after: seconds(wait),
                })
            }
            None => Ok(()),
        }
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

    /// Records the outcome of a checked attempt.
    pub fn record(&self, client: Option<IpAddr>, username: &str, ok: bool) {
        let now = Instant::now();
        let user = self.user_key(username);
        let counter = match ok {
            true => &self.outcomes.succeeded,
            false => &self.outcomes.failed,
        };
        counter.inc();
        let mut t = self.tables.lock().unwrap_or_else(|e| e.into_inner());
        if ok {
            t.users.succeeded(&user);
        } else {
            t.users.failed(user, now);
            if let Some(c) = client {
                t.clients.failed(client_key(c), now);
            }
        }
    }

    fn user_key(&self, username: &str) -> u64 {
        self.hasher.hash_one(username.to_ascii_lowercase())
    }
}

/// A client's network: its IPv4 address, or the /64 of its IPv6 address (one host usually
/// has a whole /64 to pick addresses from).
fn client_key(ip: IpAddr) -> u128 {
    match ip {
        IpAddr::V4(v4) => u128::from(u32::from(v4)),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => u128::from(u32::from(v4)),
            None => u128::from(v6) & !((1u128 << 64) - 1) | (1 << 32),
        },
    }
}

/// Whole seconds, rounded up (a `Retry-After` of 0 would invite an immediate retry).
fn seconds(d: Duration) -> u64 {
    d.as_secs() + u64::from(d.subsec_nanos() > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_of_one_ipv6_network_share_a_key_and_ipv4_keeps_its_own() {
        let a: IpAddr = "2001:db8:1:2::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:ffff::9".parse().unwrap();
        let c: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(client_key(a), client_key(b));
        assert_ne!(client_key(a), client_key(c));
        let v4: IpAddr = "10.0.0.1".parse().unwrap();
        let mapped: IpAddr = "::ffff:10.0.0.1".parse().unwrap();
        assert_eq!(client_key(v4), client_key(mapped));
    }

    #[test]
    fn a_username_that_keeps_failing_must_wait_whatever_its_case() {
        let metrics = crate::metrics::Metrics::new(&[]).expect("metrics");
        let g = LoginGuard::new(
            &LoginLimits {
                user_free_failures: 1,
                ..LoginLimits::default()
            },
            &metrics,
        );
        g.record(None, "Ada", false);
        assert_eq!(g.admit(None, "ada"), Ok(()));
        g.record(None, "ada", false);
        assert!(matches!(
            g.admit(None, "ADA"),
            Err(Refusal::TooManyAttempts { retry_after: 1 })
        ));
        assert_eq!(g.admit(None, "grace"), Ok(()));
        let l = &metrics.logins;
        assert_eq!(
            (l.failed.get(), l.throttled.get(), l.succeeded.get()),
            (2, 1, 0)
        );
    }
}
