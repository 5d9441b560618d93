//! A bounded table of failure counts with exponential back-off.
//!
//! Keys are fixed-size (a keyed hash of a username, or a client network), so an attacker who
//! chooses usernames cannot make an entry larger; the table holds at most `capacity` entries
//! and forgets one after `forget_after` without failures. When it is full of live entries the
//! newcomer replaces an arbitrary one: the table then forgets some attacker's count, which is
//! better than refusing everyone (fail closed would let the attacker lock out every user by
//! filling it) or growing without bound.

use std::collections::HashMap;
use std::time::{Duration, Instant};

/// How one table backs off.
#[derive(Debug, Clone, Copy)]
pub struct Policy {
    /// Failures allowed before any wait.
    pub free_failures: u32,
    /// The wait after the first failure past the free ones; it doubles with each further one.
    pub base: Duration,
    /// The longest wait.
    pub max: Duration,
    /// A key with no failure for this long is forgotten.
    pub forget_after: Duration,
    /// Most keys remembered.
    pub capacity: usize,
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    failures: u32,
    last_failure: Instant,
    /// No attempt before this.
    blocked_until: Instant,
}

/// One table (per username, or per client network).
#[derive(Debug)]
pub struct Backoff<K> {
    policy: Policy,
    entries: HashMap<K, Entry>,
    /// The last sweep of forgotten entries (sweeps run only when the table is full).
    swept: Instant,
}

impl<K: std::hash::Hash + Eq + Copy> Backoff<K> {
    pub fn new(policy: Policy) -> Backoff<K> {
        Backoff {
            policy,
            entries: HashMap::new(),
            swept: Instant::now(),
        }
    }

    /// `Err(wait)` while `key` must wait before its next attempt.
    pub fn check(&self, key: &K, now: Instant) -> Result<(), Duration> {
        match self.entries.get(key) {
            Some(e) if e.blocked_until > now && !self.forgotten(e, now) => {
                Err(e.blocked_until - now)
            }
            _ => Ok(()),
        }
    }

    /// Counts a failed attempt of `key`.
    pub fn failed(&mut self, key: K, now: Instant) {
        if !self.entries.contains_key(&key) {
            self.make_room(now);
        }
        let policy = self.policy;
        let e = self.entries.entry(key).or_insert(Entry {
            failures: 0,
            last_failure: now,
            blocked_until: now,
        });
        if now.duration_since(e.last_failure) >= policy.forget_after {
            e.failures = 0;
        }
        e.failures = e.failures.saturating_add(1);
        e.last_failure = now;
        if e.failures > policy.free_failures {
            let doublings = (e.failures - policy.free_failures - 1).min(30);
            let wait = policy
                .base
                .saturating_mul(1u32 << doublings)
                .min(policy.max);
            e.blocked_until = now + wait;
        }
    }

    /// Forgets `key` (after a successful sign-in).
    pub fn succeeded(&mut self, key: &K) {
        self.entries.remove(key);
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    fn forgotten(&self, e: &Entry, now: Instant) -> bool {
        now.duration_since(e.last_failure) >= self.policy.forget_after && e.blocked_until <= now
    }

    fn make_room(&mut self, now: Instant) {
        if self.entries.len() < self.policy.capacity {
            return;
        }
        // Sweep at most once a second: a full table of live entries would otherwise be
        // scanned on every failure.
        if now.duration_since(self.swept) >= Duration::from_secs(1) {
            self.swept = now;
            let forget_after = self.policy.forget_after;
            self.entries.retain(|_, e| {
                now.duration_since(e.last_failure) < forget_after || e.blocked_until > now
            });
        }
        if self.entries.len() >= self.policy.capacity {
            if let Some(victim) = self.entries.keys().next().copied() {
                self.entries.remove(&victim);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> Policy {
        Policy {
            free_failures: 2,
            base: Duration::from_secs(1),
            max: Duration::from_secs(8),
            forget_after: Duration::from_secs(60),
            capacity: 3,
        }
    }

    #[test]
    fn waits_start_after_the_free_failures_and_double_up_to_the_maximum() {
        let mut b = Backoff::new(policy());
        let t = Instant::now();
        b.failed(1u64, t);
        b.failed(1, t);
        assert_eq!(b.check(&1, t), Ok(()));
        let waits: Vec<u64> = (0..6)
            .map(|_| {
                b.failed(1, t);
                b.check(&1, t).unwrap_err().as_secs()
            })
            .collect();
        assert_eq!(waits, [1, 2, 4, 8, 8, 8]);
        assert_eq!(b.check(&1, t + Duration::from_secs(9)), Ok(()));
        b.succeeded(&1);
        b.failed(1, t);
        assert_eq!(b.check(&1, t), Ok(()));
    }

    #[test]
    fn the_table_never_holds_more_than_its_capacity() {
        let mut b = Backoff::new(policy());
        let t = Instant::now();
        for k in 0..1000u64 {
            b.failed(k, t);
        }
        assert_eq!(b.len(), 3);
    }
}
