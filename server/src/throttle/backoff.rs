//! How failures turn into waits, and the keys they are counted under.
//!
//! The counts themselves are in the store ([`crate::store::login_throttle`]), shared by every
//! replica on one database. Here is what each replica decides alike from them:
//! - [`Policy`]: a key may fail `free_failures` times; each further failure makes it wait
//!   `base`, doubling, up to `max`, counted from its last failure.
//! - [`Keys`]: the key of a username (exactly as typed) or a client network is a keyed hash
//!   (HMAC-SHA256 under [`crate::keys::ServerKeys::login_throttle_key`]), so the database
//!   holds no username or address in clear, replicas that share the key file agree on every
//!   key, and nobody without the key file can pick names that share a slot. Usernames and
//!   networks have `capacity` slots each, in separate ranges, so a flood of usernames cannot
//!   push out the networks' counts (or the reverse); each key is kept in two of its kind's
//!   slots and read as the higher count ([`highest`]), so one colliding key cannot clear it.

use std::net::IpAddr;
use std::time::Duration;

use crate::store::{Failures, ThrottleKey};

/// How one kind of key (usernames, or client networks) backs off.
#[derive(Debug, Clone, Copy)]
pub struct Policy {
    /// Failures allowed before any wait.
    pub free_failures: u32,
    /// The wait after the first failure past the free ones; it doubles with each further one.
    pub base: Duration,
    /// The longest wait.
    pub max: Duration,
}

impl Policy {
    /// How long a key with these `failures` must still wait at `now_ms`; `None`: it may try.
    pub fn wait(&self, failures: &Failures, now_ms: i64) -> Option<Duration> {
        if failures.count <= self.free_failures {
            return None;
        }
        let doublings = (failures.count - self.free_failures - 1).min(30);
        let wait = self.base.saturating_mul(1u32 << doublings).min(self.max);
        let wait_ms = i64::try_from(wait.as_millis()).unwrap_or(i64::MAX);
        let left = failures
            .last_ms
            .saturating_add(wait_ms)
            .saturating_sub(now_ms);
        u64::try_from(left)
            .ok()
            .filter(|&ms| ms > 0)
            .map(Duration::from_millis)
    }
}

/// Makes the keys of usernames and client networks.
pub struct Keys {
    key: [u8; 32],
    /// Slots per kind.
    capacity: i64,
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keys")
            .field("capacity", &self.capacity)
            .finish_non_exhaustive()
    }
}

impl Keys {
    /// Keys hashed under `key`, with `capacity` slots for each kind (at least one).
    pub fn new(key: [u8; 32], capacity: usize) -> Keys {
        Keys {
            key,
            capacity: i64::try_from(capacity.max(1))
                .unwrap_or(i64::MAX)
                .min(i64::MAX / 2),
        }
    }

    /// The rows of a username, exactly as given: sign-in looks usernames up exactly, so
    /// `ADA` is another account (or none) and its successes must not clear `ada`'s count.
    pub fn user(&self, username: &str) -> Vec<ThrottleKey> {
        let mut label = b"user:".to_vec();
        label.extend_from_slice(username.as_bytes());
        self.make(0, &label)
    }

    /// The rows of a client's networks: its own (see [`network`]), then for IPv6 the /48
    /// around it (a site's: one attacker may be given a whole /48), each counted on its own.
    pub fn networks(&self, ip: IpAddr) -> Vec<Vec<ThrottleKey>> {
        let mut label = b"network:".to_vec();
        label.extend_from_slice(&network(ip).to_be_bytes());
        let mut keys = vec![self.make(1, &label)];
        if let Some(site) = site(ip) {
            let mut label = b"site:".to_vec();
            label.extend_from_slice(&site.to_be_bytes());
            keys.push(self.make(1, &label));
        }
        keys
    }

    /// A key's count is kept in two rows, with the same digest (the first half of the keyed
    /// hash) in two slots of the kind's range (picked by the rest), and read as the higher of
    /// the two. Another key taking over one slot (the table forgets rather than grows, see
    /// [`crate::store::login_throttle`]) then leaves the count in the other: clearing a
    /// victim's count needs keys in both its slots at once, which nobody without the key file
    /// can aim at, and which probing through 429 answers finds only among pairs of names, not
    /// names. One row when the two picks coincide (or there is one slot).
    fn make(&self, kind: i64, label: &[u8]) -> Vec<ThrottleKey> {
        let mac = crate::keys::derive(&self.key, label);
        let mut digest = [0u8; 16];
        digest.copy_from_slice(&mac[..16]);
        let slot = |bytes: &[u8]| {
            let mut pick = [0u8; 8];
            pick.copy_from_slice(bytes);
            // `capacity` fits in an i64, so the remainder does too.
            let within = i64::try_from(u64::from_le_bytes(pick) % self.capacity.unsigned_abs())
                .unwrap_or_default();
            kind * self.capacity + within
        };
        let (first, second) = (slot(&mac[16..24]), slot(&mac[24..32]));
        let mut rows = vec![ThrottleKey {
            slot: first,
            digest,
        }];
        if second != first {
            rows.push(ThrottleKey {
                slot: second,
                digest,
            });
        }
        rows
    }
}

/// What a key's rows say of it: the higher count (and its time), or `None` when no row
/// holds a count of the key's.
pub fn highest(rows: &[Option<Failures>]) -> Option<Failures> {
    rows.iter()
        .flatten()
        .copied()
        .max_by_key(|f| (f.count, f.last_ms))
}

/// A client's network: its IPv4 address, or the /64 of its IPv6 address (one host usually
/// has a whole /64 to pick addresses from).
fn network(ip: IpAddr) -> u128 {
    match ip {
        IpAddr::V4(v4) => u128::from(u32::from(v4)),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => u128::from(u32::from(v4)),
            None => u128::from(v6) & !((1u128 << 64) - 1) | (1 << 32),
        },
    }
}

/// The /48 of an IPv6 address (not one mapped from IPv4).
fn site(ip: IpAddr) -> Option<u128> {
    match ip {
        IpAddr::V6(v6) if v6.to_ipv4_mapped().is_none() => Some(u128::from(v6) >> 80),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_start_after_the_free_failures_and_double_up_to_the_maximum() {
        let policy = Policy {
            free_failures: 2,
            base: Duration::from_secs(1),
            max: Duration::from_secs(8),
        };
        let t = 1_000_000;
        let at = |count| Failures { count, last_ms: t };
        assert_eq!(policy.wait(&at(2), t), None);
        let waits: Vec<u64> = (3..9)
            .map(|n| policy.wait(&at(n), t).unwrap().as_secs())
            .collect();
        assert_eq!(waits, [1, 2, 4, 8, 8, 8]);
        assert_eq!(
            policy.wait(&at(4), t + 1500),
            Some(Duration::from_millis(500)),
            "counted from the last failure"
        );
        assert_eq!(policy.wait(&at(8), t + 8000), None);
    }

    #[test]
    fn a_key_reads_as_its_highest_row() {
        let f = |count, last_ms| Some(Failures { count, last_ms });
        assert_eq!(highest(&[None, None]), None);
        assert_eq!(highest(&[None, f(3, 5)]), f(3, 5));
        assert_eq!(highest(&[f(4, 1), f(3, 5)]), f(4, 1));
        assert_eq!(highest(&[f(4, 1), f(4, 2)]), f(4, 2));
    }

    #[test]
    fn addresses_of_one_ipv6_network_share_a_key_and_its_48_another_and_ipv4_keeps_its_own() {
        let keys = Keys::new([7; 32], 1000);
        let key = |ip: &str| keys.networks(ip.parse().unwrap());
        assert_eq!(key("2001:db8:1:2::1"), key("2001:db8:1:2:ffff::9"));
        let (a, b) = (key("2001:db8:1:2::1"), key("2001:db8:1:3::1"));
        assert_ne!(a[0], b[0], "another /64");
        assert_eq!(a[1], b[1], "in the same /48");
        assert_ne!(a[1], key("2001:db8:2:2::1")[1], "another /48");
        assert_eq!(key("10.0.0.1"), key("::ffff:10.0.0.1"));
        assert_eq!(key("10.0.0.1").len(), 1, "IPv4 has no site");
        assert_ne!(key("10.0.0.1"), key("10.0.0.2"));
    }

    #[test]
    fn keys_depend_on_the_key_and_stay_in_their_kinds_slots() {
        let keys = Keys::new([7; 32], 10);
        assert_ne!(
            keys.user("Ada"),
            keys.user("ada"),
            "usernames are looked up exactly"
        );
        assert_ne!(keys.user("ada"), Keys::new([8; 32], 10).user("ada"));
        for i in 0..100 {
            let user = keys.user(&format!("user{i}"));
            let net = keys.networks(IpAddr::from([10, 0, 0, i])).remove(0);
            assert!(user.iter().all(|k| (0..10).contains(&k.slot)), "{user:?}");
            assert!(net.iter().all(|k| (10..20).contains(&k.slot)), "{net:?}");
            assert!(
                !user.is_empty()
                    && user.len() <= 2
                    && user[0].digest == user[user.len() - 1].digest
            );
        }
        // Mostly in two distinct slots; one slot of one kind means one row.
        let two = (0..100)
            .filter(|i| keys.user(&format!("u{i}")).len() == 2)
            .count();
        assert!(two > 70, "{two}");
        assert_eq!(Keys::new([7; 32], 1).user("ada").len(), 1);
    }
}
