//! Sign-in attempts, counted in the database before their password is checked, so that every
//! replica on one database sees every one: an attacker who spreads password guesses over
//! several replicas gets one budget, not one per replica. The policy (how many failures are free, how long each further one
//! waits) is [`crate::throttle`]'s; the store only counts.
//!
//! **Keys.** A key is fixed-size: a 16-byte keyed hash of a username or of a client network,
//! made by [`crate::throttle`] under a key derived from the server's master key (which every
//! replica shares, see [`crate::keys`]), so no username or address is stored in clear and a
//! long username costs nothing.
//!
//! **Bounds.** The table is a hash table of fixed size. A [`ThrottleKey`] is one row: a slot,
//! chosen by the keyed hash (so nobody can aim names at one slot), and the digest that says
//! whose count the slot holds. An attempt of a key whose slot another key holds takes the
//! slot over and starts again from its own count. So the table never holds more rows than
//! there are slots, whatever a flood of distinct keys does: it forgets some arbitrary counts
//! instead, which is better than refusing everyone (an attacker could then lock every user
//! out) or growing without bound. [`crate::throttle`] keeps each username and network in two
//! rows and reads the higher, so one key taking over a slot clears nobody's count. A count is
//! forgotten `forget_after` after its last attempt: it then reads as absent, and pruning
//! ([`super::Prunable::LoginBackoff`]) deletes its row.
//!
//! **Why not the inbox's rate** ([`super::inbox::Rate`]): that counts the rows it limits
//! (notifications posted in a window). A sign-in attempt leaves no row of its own, and keeping
//! one per attempt would grow with the attack; here a key's row is a counter, moved on in
//! place by a compare-and-set ([`LoginThrottleStore::claim_login_attempt`]), so attempts
//! racing on one key are counted one after the other.
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

/// One row of a claim (see [`LoginThrottleStore::claim_login_attempt`]): `key`'s row, which
/// was read with count `seen` (0: none of `key`'s), to be set to `count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Claim {
    pub key: ThrottleKey,
    pub seen: u32,
    pub count: u32,
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

    /// Counts a sign-in attempt before its password is checked, all `claims` or none, in one
    /// transaction: each row whose count, as its key sees it at `now_ms`, is still the one it
    /// was read with (`seen`) gets that key, `count` and `now_ms`, remembered until
    /// `forget_after_ms` after it. `false` (nothing written) when any row moved since it was
    /// read: another attempt counted first, and the caller reads again. A compare-and-set, so
    /// attempts sent at once are counted one after the other, each admitted (or refused) on
    /// the count the one before left.
    async fn claim_login_attempt(
        &self,
        claims: Vec<Claim>,
        now_ms: i64,
        forget_after_ms: i64,
    ) -> StoreResult<bool>;

    /// After a successful sign-in, in one transaction: forgets the counts of `forget` (the
    /// username's rows) and takes one back from each of `refund` (the network's rows: a
    /// success is not a failure). Rows other keys have taken over are left alone.
    async fn settle_login_success(
        &self,
        forget: Vec<ThrottleKey>,
        refund: Vec<ThrottleKey>,
    ) -> StoreResult<()>;
}

/// Sets key (`$1` slot, `$2` digest) to count `$3` at `$4` (ms), remembered until `$5`
/// (seconds), if its count as the key sees it at `$4` is still `$6` (0 for none); answers a
/// row when it wrote. Written once for both backends (SQLite reads `$n` as `?n`). A row that
/// is absent is written whatever `$6` says: it can only have been pruned (forgotten) or
/// forgotten after a success since it was read, and counting on from what was read then
/// over-counts by one attempt's worth at most.
pub(crate) const CLAIM: &str = "INSERT INTO login_backoff AS b
        (slot, digest, failures, last_failure_ms, forget_at)
    VALUES ($1, $2, $3, $4, $5)
    ON CONFLICT (slot) DO UPDATE SET
        digest = excluded.digest,
        failures = excluded.failures,
        last_failure_ms = excluded.last_failure_ms,
        forget_at = excluded.forget_at
    WHERE (CASE WHEN b.digest = excluded.digest AND b.forget_at * 1000 > excluded.last_failure_ms
                THEN b.failures ELSE 0 END) = $6
    RETURNING failures";

/// Forgets key (`$1` slot, `$2` digest), if it still holds its slot.
pub(crate) const FORGET: &str = "DELETE FROM login_backoff WHERE slot = $1 AND digest = $2";

/// Takes one from key's count (`$1` slot, `$2` digest), if it still holds its slot: the row
/// goes when its count would reach zero (a count is never zero), run first, then
/// [`REFUND_DECREMENT`].
pub(crate) const REFUND_LAST: &str =
    "DELETE FROM login_backoff WHERE slot = $1 AND digest = $2 AND failures <= 1";
pub(crate) const REFUND_DECREMENT: &str =
    "UPDATE login_backoff SET failures = failures - 1 WHERE slot = $1 AND digest = $2 AND failures > 1";

/// The claims in slot order: concurrent transactions then lock the rows they share in the
/// same order, so they wait for each other instead of deadlocking.
pub(crate) fn in_slot_order(mut claims: Vec<Claim>) -> Vec<Claim> {
    claims.sort_by_key(|c| c.key.slot);
    claims
}

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
