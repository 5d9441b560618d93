//! Failed sign-ins, counted in the database, so that every replica on one database sees every
//! failure: an attacker who spreads password guesses over several replicas gets one budget,
//! not one per replica. The policy (how many failures are free, how long each further one
//! waits) is [`crate::throttle`]'s; the store only counts.
//!
//! **Keys.** A key is fixed-size: a 16-byte keyed hash of a username or of a client network,
//! made by [`crate::throttle`] under a key derived from the server's master key (which every
//! replica shares, see [`crate::keys`]), so no username or address is stored in clear and a
//! long username costs nothing.
//!
//! **Bounds.** The table is a hash table of fixed size. Each key has one slot, chosen by its
//! keyed hash (so nobody can aim names at one slot); a failure of a key whose slot another key
//! holds takes the slot over and starts again from one. So the table never holds more rows
//! than there are slots, whatever a flood of distinct keys does: it forgets some arbitrary
//! counts instead, which is better than refusing everyone (an attacker could then lock every
//! user out) or growing without bound. A count is forgotten `forget_after` after its last
//! failure: it then reads as absent, and pruning ([`super::Prunable::LoginBackoff`]) deletes
//! its row.
//!
//! **Why not the inbox's rate** ([`super::inbox::Rate`]): that counts the rows it limits
//! (notifications posted in a window). A failed sign-in leaves no row of its own, and keeping
//! one per failure would grow with the attack; here a key's row is a counter, incremented in
//! place by one atomic upsert, so racing failures are all counted.
//!
//! Times are Unix milliseconds (a back-off starts at one second, so whole seconds would cut
//! waits short), except `forget_at`, in seconds like every expiry the pruner reads.

use async_trait::async_trait;

use super::StoreResult;

/// One key of the back-off table: the slot it may hold, and its keyed hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ThrottleKey {
    pub slot: i64,
    pub digest: [u8; 16],
}

/// What is remembered of one key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Failures {
    /// Failures since the count last started.
    pub count: u32,
    /// When the last of them was counted (Unix milliseconds).
    pub last_ms: i64,
}

/// When a count counted at `now_ms` is forgotten, in whole seconds (rounded up, so a count is
/// never forgotten early).
pub(crate) fn forget_at(now_ms: i64, forget_after_ms: i64) -> i64 {
    now_ms.saturating_add(forget_after_ms).saturating_add(999) / 1000
}

#[async_trait]
pub trait LoginThrottleStore: Send + Sync {
    /// What is remembered of each of `keys` at `now_ms`, in their order: `None` for a key
    /// whose slot is empty, held by another key, or forgotten. One read.
    async fn login_failures(
        &self,
        keys: Vec<ThrottleKey>,
        now_ms: i64,
    ) -> StoreResult<Vec<Option<Failures>>>;

    /// Counts one failure of each of `keys` at `now_ms`, each atomically: its count goes up by
    /// one, or starts at one when its slot is empty, forgotten, or held by another key (which
    /// it replaces). Remembered until `forget_after_ms` after `now_ms`. The counts, in order.
    async fn count_login_failure(
        &self,
        keys: Vec<ThrottleKey>,
        now_ms: i64,
        forget_after_ms: i64,
    ) -> StoreResult<Vec<u32>>;

    /// Forgets `key`'s count (after a successful sign-in); a slot another key has taken over
    /// is left alone.
    async fn forget_login_failures(&self, key: ThrottleKey) -> StoreResult<()>;
}

/// Counts one failure of key (`$1` slot, `$2` digest) at `$3` (ms), remembered until `$4`
/// (seconds); answers the count. Written once for both backends (SQLite reads `$n` as `?n`).
/// Every `SET` reads the row as it was, so the count restarts exactly when the slot held
/// another key or a forgotten count.
pub(crate) const COUNT_FAILURE: &str = "INSERT INTO login_backoff AS b
        (slot, digest, failures, last_failure_ms, forget_at)
    VALUES ($1, $2, 1, $3, $4)
    ON CONFLICT (slot) DO UPDATE SET
        failures = CASE WHEN b.digest = excluded.digest AND b.forget_at * 1000 > excluded.last_failure_ms
                        THEN b.failures + 1 ELSE 1 END,
        digest = excluded.digest,
        last_failure_ms = excluded.last_failure_ms,
        forget_at = excluded.forget_at
    RETURNING failures";

/// Forgets key (`$1` slot, `$2` digest), if it still holds its slot.
pub(crate) const FORGET: &str = "DELETE FROM login_backoff WHERE slot = $1 AND digest = $2";

/// What a row read for `key` says of it: `None` when another key holds the slot.
pub(crate) fn remembered(
    key: &ThrottleKey,
    digest: &[u8],
    failures: i64,
    last_ms: i64,
) -> Option<Failures> {
    (digest == key.digest).then(|| Failures {
        count: u32::try_from(failures).unwrap_or(u32::MAX),
        last_ms,
    })
}

/// A stored count as the trait answers it.
pub(crate) fn count(failures: i64) -> u32 {
    u32::try_from(failures).unwrap_or(u32::MAX)
}
