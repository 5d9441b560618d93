//! A read-through cache of live access tokens: the resource API's hot path.
//!
//! Apps present the same token on every call they make, so most lookups can be answered from
//! memory. Correctness rests on three rules:
//!
//! - **Revocation empties the cache.** Every store method that revokes tokens calls
//!   [`AccessCache::invalidate`] (or [`AccessCache::forget`]) after its transaction commits, so
//!   once a revocation has answered, no request sees the token as live. Revocations are rare
//!   next to lookups, so dropping everything costs little and leaves nothing to get wrong.
//! - **No stale insert.** A lookup reads the generation before it asks the database and only
//!   inserts if no invalidation happened since; otherwise a lookup racing a revocation could
//!   put the revoked token back.
//! - **Entries age out.** Each entry lives at most [`MAX_AGE`], and never past the token's own
//!   expiry. This bounds how long a revocation made by another process on the same database
//!   (which this cache cannot see) takes to be noticed. One server process per database is the
//!   supported deployment; the bound is defence in depth.
//!
//! Only live tokens are cached: an unknown token always reaches the database.

use std::collections::HashMap;
use std::sync::RwLock;
use std::time::{Duration, Instant};

use super::AccessInfo;
use crate::domain::secret::TokenDigest;

/// How long an entry may be served without asking the database again.
pub const MAX_AGE: Duration = Duration::from_secs(5);

/// Most entries kept; when full the cache starts over (tokens in use come back at once).
const CAPACITY: usize = 32 * 1024;

#[derive(Default)]
pub struct AccessCache {
    state: RwLock<State>,
}

#[derive(Default)]
struct State {
    generation: u64,
    entries: HashMap<TokenDigest, Entry>,
}

struct Entry {
    info: AccessInfo,
    cached_at: Instant,
}

/// Where a lookup started, to be handed back to [`AccessCache::insert`].
#[derive(Debug, Clone, Copy)]
pub struct Generation(u64);

impl AccessCache {
    /// The live token, if cached: `now` is the current Unix time, checked against its expiry.
    pub fn get(&self, digest: &TokenDigest, now: i64) -> Option<AccessInfo> {
        let state = self.state.read().unwrap_or_else(|e| e.into_inner());
        let entry = state.entries.get(digest)?;
        (entry.info.expires_at > now && entry.cached_at.elapsed() < MAX_AGE)
            .then(|| entry.info.clone())
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

    /// Caches what the database said at `since`, unless something was revoked in between.
    pub fn insert(&self, digest: TokenDigest, info: AccessInfo, since: Generation) {
        let mut state = self.state.write().unwrap_or_else(|e| e.into_inner());
        if state.generation != since.0 {
            return;
        }
        if state.entries.len() >= CAPACITY {
            state.entries.clear();
        }
        state.entries.insert(
            digest,
            Entry {
                info,
                cached_at: Instant::now(),
            },
        );
    }

    /// Forgets every token: to call after any revocation.
    pub fn invalidate(&self) {
        let mut state = self.state.write().unwrap_or_else(|e| e.into_inner());
        state.generation += 1;
        state.entries.clear();
    }

    /// Forgets one token (it was revoked on its own).
    pub fn forget(&self, digest: &TokenDigest) {
        let mut state = self.state.write().unwrap_or_else(|e| e.into_inner());
        state.generation += 1;
        state.entries.remove(digest);
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
    use crate::domain::scope::ScopeSet;

    fn info(expires_at: i64) -> AccessInfo {
        AccessInfo {
            family_id: 1,
            app_id: 1,
            client_id: "c".into(),
            user_id: Some(1),
            username: Some("ada".into()),
            company_id: None,
            scopes: ScopeSet::default(),
            issued_at: 0,
            expires_at,
        }
    }

    fn digest(n: u8) -> TokenDigest {
        TokenDigest([n; 32])
    }

    #[test]
    fn a_cached_token_is_served_until_it_expires() {
        let cache = AccessCache::default();
        let g = cache.generation();
        cache.insert(digest(1), info(100), g);
        assert_eq!(cache.get(&digest(1), 99).map(|i| i.expires_at), Some(100));
        assert!(cache.get(&digest(1), 100).is_none());
        assert!(cache.get(&digest(2), 0).is_none());
    }

    #[test]
    fn invalidation_drops_every_token() {
        let cache = AccessCache::default();
        let g = cache.generation();
        cache.insert(digest(1), info(100), g);
        cache.insert(digest(2), info(100), g);
        cache.invalidate();
        assert!(cache.get(&digest(1), 0).is_none());
        assert!(cache.is_empty());
    }

    #[test]
    fn a_lookup_that_raced_a_revocation_is_not_cached() {
        let cache = AccessCache::default();
        let before = cache.generation();
        // The database said "live", then a revocation committed before the insert.
        cache.invalidate();
        cache.insert(digest(1), info(100), before);
        assert!(cache.get(&digest(1), 0).is_none());
        let g = cache.generation();
        cache.insert(digest(1), info(100), g);
        cache.forget(&digest(1));
        assert!(cache.get(&digest(1), 0).is_none());
        cache.insert(digest(1), info(100), g);
        assert!(cache.is_empty(), "forget also moves the generation on");
    }

    #[test]
    fn a_full_cache_starts_over_instead_of_growing() {
        let cache = AccessCache::default();
        let g = cache.generation();
        for i in 0..=CAPACITY {
            let mut d = [0u8; 32];
            d[..8].copy_from_slice(&(i as u64).to_le_bytes());
            cache.insert(TokenDigest(d), info(100), g);
        }
        assert_eq!(cache.len(), 1);
    }
}
