//! The sign-in back-off's counts: per key until forgotten, one key per slot, every racing
//! failure counted (and the wait the throttle computes from them), and pruning.

use std::sync::Arc;
use std::time::Duration;

use super::fixtures::{race, AT};
use crate::store::{Failures, Prunable, Store, StoreResult, ThrottleKey};
use crate::throttle::backoff::Policy;

/// The fixed clock, in milliseconds.
const AT_MS: i64 = AT * 1000;
const MINUTE_MS: i64 = 60_000;

fn key(slot: i64, tag: u8) -> ThrottleKey {
    ThrottleKey {
        slot,
        digest: [tag; 16],
    }
}

fn failures(count: u32, last_ms: i64) -> Option<Failures> {
    Some(Failures { count, last_ms })
}

pub(crate) async fn failed_sign_ins_are_counted_per_key_until_forgotten(
    store: &dyn Store,
) -> StoreResult<()> {
    let (a, b) = (key(1, 0xa), key(2, 0xb));
    assert_eq!(store.login_failures(vec![a, b], AT_MS).await?, [None, None]);
    for (i, at) in [AT_MS, AT_MS + 10, AT_MS + 30].into_iter().enumerate() {
        let counted = store.count_login_failure(vec![a], at, MINUTE_MS).await?;
        assert_eq!(counted, [i as u32 + 1]);
    }
    assert_eq!(
        store.login_failures(vec![b, a], AT_MS + 40).await?,
        [None, failures(3, AT_MS + 30)],
        "in the order asked"
    );
    assert_eq!(
        store
            .count_login_failure(vec![a, b], AT_MS + 50, MINUTE_MS)
            .await?,
        [4, 1]
    );
    // Remembered for a minute after the last failure (rounded up to a whole second).
    let forgotten_ms = (AT + 61) * 1000;
    assert_eq!(
        store.login_failures(vec![a], forgotten_ms - 1).await?,
        [failures(4, AT_MS + 50)]
    );
    assert_eq!(store.login_failures(vec![a], forgotten_ms).await?, [None]);
    assert_eq!(
        store
            .count_login_failure(vec![a], forgotten_ms, MINUTE_MS)
            .await?,
        [1],
        "a forgotten count starts again"
    );
    store.forget_login_failures(a).await?;
    assert_eq!(
        store.login_failures(vec![a, b], AT_MS + 60).await?,
        [None, failures(1, AT_MS + 50)],
        "forgetting one key leaves the others"
    );
    Ok(())
}

pub(crate) async fn a_key_takes_over_a_slot_another_key_holds(
    store: &dyn Store,
) -> StoreResult<()> {
    let (old, new) = (key(5, 1), key(5, 2));
    for _ in 0..3 {
        store
            .count_login_failure(vec![old], AT_MS, MINUTE_MS)
            .await?;
    }
    assert_eq!(
        store.login_failures(vec![new], AT_MS).await?,
        [None],
        "a slot answers only for the key that holds it"
    );
    assert_eq!(
        store
            .count_login_failure(vec![new], AT_MS + 1, MINUTE_MS)
            .await?,
        [1],
        "the newcomer starts from one, not from the old key's count"
    );
    assert_eq!(
        store.login_failures(vec![old, new], AT_MS + 2).await?,
        [None, failures(1, AT_MS + 1)]
    );
    store.forget_login_failures(old).await?;
    assert_eq!(
        store.login_failures(vec![new], AT_MS + 2).await?,
        [failures(1, AT_MS + 1)],
        "forgetting a key that lost its slot leaves the slot's new key"
    );
    Ok(())
}

pub(crate) async fn failures_of_one_key_raced_by_20_are_all_counted(
    store: &Arc<dyn Store>,
) -> StoreResult<()> {
    let (user, network) = (key(7, 0x07), key(1_000_007, 0x17));
    let answers = race(store, 20, move |s, _| async move {
        s.count_login_failure(vec![user, network], AT_MS, MINUTE_MS)
            .await
    })
    .await;
    let (mut users, mut networks) = (Vec::new(), Vec::new());
    for a in answers {
        let counted = a?;
        users.push(counted[0]);
        networks.push(counted[1]);
    }
    users.sort_unstable();
    networks.sort_unstable();
    let all: Vec<u32> = (1..=20).collect();
    assert_eq!(users, all, "each racer saw the count the one before left");
    assert_eq!(networks, all);
    let read = store.login_failures(vec![user, network], AT_MS).await?;
    assert_eq!(read, [failures(20, AT_MS), failures(20, AT_MS)]);
    // The wait is computed from the shared count: 15 free, then 1 s doubling, so the 20th
    // failure waits 16 s (and 19 would have waited 8 s).
    let policy = Policy {
        free_failures: 15,
        base: Duration::from_secs(1),
        max: Duration::from_secs(3600),
    };
    let counted = read[0].expect("counted");
    assert_eq!(policy.wait(&counted, AT_MS), Some(Duration::from_secs(16)));
    Ok(())
}

pub(crate) async fn forgotten_login_failures_are_pruned(store: &dyn Store) -> StoreResult<()> {
    let (soon, late) = (key(1, 1), key(2, 2));
    store.count_login_failure(vec![soon], AT_MS, 10_000).await?;
    store
        .count_login_failure(vec![late], AT_MS, 100_000)
        .await?;
    let (mut deleted, mut after) = (0, 0);
    for _ in 0..10 {
        let step = store
            .prune(Prunable::LoginBackoff, AT + 50, 1, after)
            .await?;
        assert!(step.deleted <= 1, "a batch at a time");
        deleted += step.deleted;
        match step.resume_after {
            Some(next) => after = next,
            None => break,
        }
    }
    assert_eq!(deleted, 1, "only the count forgotten before the cutoff");
    assert_eq!(
        store.login_failures(vec![soon, late], AT_MS).await?,
        [None, failures(1, AT_MS)]
    );
    Ok(())
}
