//! How failures turn into waits, and the keys they are counted under.
//!
//! The counts themselves are in the store ([`crate::store::login_throttle`]), shared by every
//! replica on one database. Here is what each replica decides alike from them:
//! - [`Policy`]: a key may fail `free_failures` times; each further failure makes it wait
//!   `base`, doubling, up to `max`, counted from its last failure.
//! - [`Keys`]: the key of a username (any case) or a client network is a keyed hash
//!   (HMAC-SHA256 under [`crate::keys::ServerKeys::login_throttle_key`]), so the database
//!   holds no username or address in clear, replicas that share the key file agree on every
//!   key, and nobody without the key file can pick names that share a slot. Usernames and
//!   networks have `capacity` slots each, in separate ranges, so a flood of usernames cannot
//!   push out the networks' counts (or the reverse).

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

    /// The key of a username; the same whatever its case.
    pub fn user(&self, username: &str) -> ThrottleKey {
        let mut label = b"user:".to_vec();
        label.extend_from_slice(username.to_ascii_lowercase().as_bytes());
        self.make(0, &label)
    }

    /// The key of a client's network (see [`network`]).
    pub fn network(&self, ip: IpAddr) -> ThrottleKey {
        let mut label = b"network:".to_vec();
        label.extend_from_slice(&network(ip).to_be_bytes());
        self.make(1, &label)
    }

    /// The digest is the first half of the keyed hash; the slot, within the kind's range,
    /// comes from the rest.
    fn make(&self, kind: i64, label: &[u8]) -> ThrottleKey {
        let mac = crate::keys::derive(&self.key, label);
        let mut digest = [0u8; 16];
        digest.copy_from_slice(&mac[..16]);
        let mut pick = [0u8; 8];
        pick.copy_from_slice(&mac[16..24]);
        // `capacity` fits in an i64, so the remainder does too.
        let within = i64::try_from(u64::from_le_bytes(pick) % self.capacity.unsigned_abs())
            .unwrap_or_default();
        ThrottleKey {
            slot: kind * self.capacity + within,
            digest,
        }
    }
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
    fn addresses_of_one_ipv6_network_share_a_key_and_ipv4_keeps_its_own() {
        let keys = Keys::new([7; 32], 1000);
        let key = |ip: &str| keys.network(ip.parse().unwrap());
        assert_eq!(key("2001:db8:1:2::1"), key("2001:db8:1:2:ffff::9"));
        assert_ne!(key("2001:db8:1:2::1"), key("2001:db8:1:3::1"));
        assert_eq!(key("10.0.0.1"), key("::ffff:10.0.0.1"));
        assert_ne!(key("10.0.0.1"), key("10.0.0.2"));
    }

    #[test]
    fn keys_depend_on_the_key_and_stay_in_their_kinds_slots() {
        let keys = Keys::new([7; 32], 10);
        assert_eq!(keys.user("Ada"), keys.user("ada"));
        assert_ne!(keys.user("ada"), Keys::new([8; 32], 10).user("ada"));
        for i in 0..100 {
            let user = keys.user(&format!("user{i}"));
            let net = keys.network(IpAddr::from([10, 0, 0, i]));
            assert!((0..10).contains(&user.slot), "{user:?}");
            assert!((10..20).contains(&net.slot), "{net:?}");
        }
    }
}
