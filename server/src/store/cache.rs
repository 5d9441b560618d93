//! Read-through caches for the two lookups every request makes: live access tokens (the
//! resource API's hot path) and clients (every token request authenticates one).
//!
//! Apps present the same token on every call they make, and the same client credentials on
//! every token request, so most lookups can be answered from memory. Correctness rests on
//! three rules:
//!
//! - **A change empties the cache.** Every store method that revokes tokens (or changes a
//!   client) calls [`ReadCache::invalidate`] (or [`ReadCache::forget`]) after its transaction
//!   commits, so once a revocation has answered, no request sees the token as live.
//!   Revocations are rare next to lookups, so dropping everything costs little and leaves
//!   nothing to get wrong.
//! - **No stale insert.** A lookup reads the generation before it asks the database and only
//!   inserts if no invalidation happened since; otherwise a lookup racing a revocation could
//!   put the revoked token back.
//! - **Entries age out.** Each entry lives at most [`MAX_AGE`], and never past its own expiry
//!   (a token's `expires_at`). On SQLite (one server process per file) this bounds how long
//!   a revocation made by another process on the same file takes to be noticed; on PostgreSQL
//!   the other replicas' revocations arrive through `LISTEN/NOTIFY`, and the cache answers
//!   only while that connection listens (`postgres::notify`); the bound is defence in depth.
//!
//! Only what exists is cached: an unknown token or client always reaches the database.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::RwLock;
use std::time::{Duration, Instant};

/// How long an entry may be served without asking the database again.
pub const MAX_AGE: Duration = Duration::from_secs(5);

/// Most entries kept; when full the cache starts over (tokens in use come back at once).
const CAPACITY: usize = 32 * 1024;

pub struct ReadCache<K, V> {
    state: RwLock<State<K, V>>,
    /// Lookups answered from memory, and the others (for the metrics).
    hits: AtomicU64,
    misses: AtomicU64,
}

struct State<K, V> {
    generation: u64,
    entries: HashMap<K, Entry<V>>,
}

struct Entry<V> {
    value: V,
    /// Unix time from which the value is no longer valid.
    valid_until: i64,
    cached_at: Instant,
}

/// Where a lookup started, to be handed back to [`ReadCache::insert`].
#[derive(Debug, Clone, Copy)]
pub struct Generation(u64);

/// What [`super::Store::cache_stats`] reports for a store with these two caches (both
/// backends have them).
pub(crate) fn stats<A: Hash + Eq, B: Clone, C: Hash + Eq, D: Clone>(
    tokens: &ReadCache<A, B>,
    clients: &ReadCache<C, D>,
) -> Vec<super::CacheStats> {
    let stats = |cache, (hits, misses)| super::CacheStats {
        cache,
        hits,
        misses,
    };
    vec![
        stats("tokens", tokens.lookups()),
        stats("clients", clients.lookups()),
    ]
}

impl<K, V> Default for ReadCache<K, V> {
    fn default() -> Self {
        ReadCache {
            state: RwLock::new(State {
                generation: 0,
                entries: HashMap::new(),
            }),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }
}

impl<K: Hash + Eq, V: Clone> ReadCache<K, V> {
    /// The cached value, unless stale: `now` is the current Unix time.
    pub fn get(&self, key: &K, now: i64) -> Option<V> {
        let found = {
            let state = self.state.read().unwrap_or_else(|e| e.into_inner());
            state.entries.get(key).and_then(|entry| {
                (entry.valid_until > now && entry.cached_at.elapsed() < MAX_AGE)
                    .then(|| entry.value.clone())
            })
        };
        let counter = match found {
            Some(_) => &self.hits,
            None => &self.misses,
        };
        counter.fetch_add(1, Ordering::Relaxed);
        found
    }

    /// Lookups answered from memory, and lookups that were not, so far.
    pub fn lookups(&self) -> (u64, u64) {
        (
            self.hits.load(Ordering::Relaxed),
            self.misses.load(Ordering::Relaxed),
        )
    }

    /// To call before reading the database.
    pub fn generation(&self) -> Generation {
        Generation(
            self.state
                .read()
                .unwrap_or_else(|e| e.into_inner())
                .generation,
        )
    }

    /// Caches what the database said at `since`, valid until `valid_until` (Unix time),
    /// unless something was invalidated in between.
    pub fn insert(&self, key: K, value: V, valid_until: i64, since: Generation) {
        let mut state = self.state.write().unwrap_or_else(|e| e.into_inner());
        if state.generation != since.0 {
            return;
        }
        if state.entries.len() >= CAPACITY {
            state.entries.clear();
        }
        state.entries.insert(
            key,
            Entry {
                value,
                valid_until,
                cached_at: Instant::now(),
            },
        );
    }

    /// Forgets everything: to call after any revocation or change.
    pub fn invalidate(&self) {
        let mut state = self.state.write().unwrap_or_else(|e| e.into_inner());
        state.generation += 1;
        state.entries.clear();
    }

    /// Forgets one entry (it alone changed).
    pub fn forget(&self, key: &K) {
        let mut state = self.state.write().unwrap_or_else(|e| e.into_inner());
        state.generation += 1;
        state.entries.remove(key);
    }

    pub fn len(&self) -> usize {
        self.state
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .entries
            .len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    type Cache = ReadCache<u64, &'static str>;

    #[test]
    fn a_cached_value_is_served_until_it_expires() {
        let cache = Cache::default();
        let g = cache.generation();
        cache.insert(1, "ada", 100, g);
        assert_eq!(cache.get(&1, 99), Some("ada"));
        assert!(cache.get(&1, 100).is_none());
        assert!(cache.get(&2, 0).is_none());
        assert_eq!(cache.lookups(), (1, 2));
    }

    #[test]
    fn invalidation_drops_everything() {
        let cache = Cache::default();
        let g = cache.generation();
        cache.insert(1, "ada", 100, g);
        cache.insert(2, "bob", 100, g);
        cache.invalidate();
        assert!(cache.get(&1, 0).is_none());
        assert!(cache.is_empty());
    }

    #[test]
    fn a_lookup_that_raced_a_revocation_is_not_cached() {
        let cache = Cache::default();
        let before = cache.generation();
        // The database said "live", then a revocation committed before the insert.
        cache.invalidate();
        cache.insert(1, "ada", 100, before);
        assert!(cache.get(&1, 0).is_none());
        let g = cache.generation();
        cache.insert(1, "ada", 100, g);
        cache.forget(&1);
        assert!(cache.get(&1, 0).is_none());
        cache.insert(1, "ada", 100, g);
        assert!(cache.is_empty(), "forget also moves the generation on");
    }

    #[test]
    fn a_full_cache_starts_over_instead_of_growing() {
        let cache = Cache::default();
        let g = cache.generation();
        for i in 0..=CAPACITY as u64 {
            cache.insert(i, "x", 100, g);
        }
        assert_eq!(cache.len(), 1);
    }
}
