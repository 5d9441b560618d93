//! The sign-in back-off's counts: claimed per key (compare-and-set, all of an attempt's rows
//! or none) until forgotten, one key per slot, racing attempts counted one after the other
//! (and the wait the throttle computes from them), settling a success, and pruning.

use std::sync::Arc;
use std::time::Duration;

use super::fixtures::{race, AT};
use crate::store::{Claim, Failures, Prunable, Store, StoreResult, ThrottleKey};
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

/// Claims `key` from `seen` to `count` at `at_ms`, remembered for a minute.
async fn claim(
    store: &dyn Store,
    rows: &[(ThrottleKey, u32, u32)],
    at_ms: i64,
) -> StoreResult<bool> {
    let claims = rows
        .iter()
        .map(|&(key, seen, count)| Claim { key, seen, count })
        .collect();
    store.claim_login_attempt(claims, at_ms, MINUTE_MS).await
}

pub(crate) async fn sign_in_attempts_are_claimed_per_key_until_forgotten(
    store: &dyn Store,
) -> StoreResult<()> {
    let (a, b) = (key(1, 0xa), key(2, 0xb));
    assert_eq!(store.login_failures(vec![a, b], AT_MS).await?, [None, None]);
    assert!(claim(store, &[(a, 0, 1)], AT_MS).await?);
    assert!(
        !claim(store, &[(a, 0, 1)], AT_MS + 10).await?,
        "a claim on a count that moved since it was read writes nothing"
    );
    assert!(claim(store, &[(a, 1, 2)], AT_MS + 10).await?);
    assert!(claim(store, &[(a, 2, 3), (b, 0, 1)], AT_MS + 30).await?);
    assert_eq!(
        store.login_failures(vec![b, a], AT_MS + 40).await?,
        [failures(1, AT_MS + 30), failures(3, AT_MS + 30)],
        "in the order asked"
    );
    assert!(
        !claim(store, &[(a, 3, 4), (b, 5, 6)], AT_MS + 50).await?,
        "all of a claim's rows or none"
    );
    assert_eq!(
        store.login_failures(vec![a, b], AT_MS + 50).await?,
        [failures(3, AT_MS + 30), failures(1, AT_MS + 30)]
    );
    // Remembered for a minute after the last claim (rounded up to a whole second).
    let forgotten_ms = (AT + 61) * 1000;
    assert_eq!(
        store.login_failures(vec![a], forgotten_ms - 1).await?,
        [failures(3, AT_MS + 30)]
    );
    assert_eq!(store.login_failures(vec![a], forgotten_ms).await?, [None]);
    assert!(
        !claim(store, &[(a, 3, 4)], forgotten_ms).await?,
        "a forgotten count reads as none"
    );
    assert!(claim(store, &[(a, 0, 1)], forgotten_ms).await?);
    Ok(())
}

pub(crate) async fn a_success_forgets_the_username_and_gives_the_network_its_attempt_back(
    store: &dyn Store,
) -> StoreResult<()> {
    let (user, net, net_once) = (key(1, 1), key(2, 2), key(3, 3));
    assert!(claim(store, &[(user, 0, 4), (net, 0, 3), (net_once, 0, 1)], AT_MS).await?);
    store
        .settle_login_success(vec![user], vec![net, net_once])
        .await?;
    assert_eq!(
        store
            .login_failures(vec![user, net, net_once], AT_MS)
            .await?,
        [None, failures(2, AT_MS), None],
        "the last attempt given back leaves no count"
    );
    Ok(())
}

pub(crate) async fn a_key_takes_over_a_slot_another_key_holds(
    store: &dyn Store,
) -> StoreResult<()> {
    let (old, new) = (key(5, 1), key(5, 2));
    assert!(claim(store, &[(old, 0, 3)], AT_MS).await?);
    assert_eq!(
        store.login_failures(vec![new], AT_MS).await?,
        [None],
        "a slot answers only for the key that holds it"
    );
    assert!(claim(store, &[(new, 0, 1)], AT_MS + 1).await?);
    assert_eq!(
        store.login_failures(vec![old, new], AT_MS + 2).await?,
        [None, failures(1, AT_MS + 1)]
    );
    store.settle_login_success(vec![old], vec![old]).await?;
    assert_eq!(
        store.login_failures(vec![new], AT_MS + 2).await?,
        [failures(1, AT_MS + 1)],
        "settling a key that lost its slot leaves the slot's new key"
    );
    Ok(())
}

pub(crate) async fn sign_ins_raced_by_20_are_counted_one_after_the_other(
    store: &Arc<dyn Store>,
) -> StoreResult<()> {
    let (user, network) = (key(7, 0x07), key(1_000_007, 0x17));
    // Each racer reads, then claims one more than it read, and reads again when it lost, as
    // the login guard does.
    let answers = race(store, 20, move |s, _| async move {
        for _ in 0..1000 {
            let read = s.login_failures(vec![user, network], AT_MS).await?;
            let seen: Vec<u32> = read.iter().map(|f| f.map_or(0, |f| f.count)).collect();
            let claims = vec![
                Claim {
                    key: user,
                    seen: seen[0],
                    count: seen[0] + 1,
                },
                Claim {
                    key: network,
                    seen: seen[1],
                    count: seen[1] + 1,
                },
            ];
            if s.claim_login_attempt(claims, AT_MS, MINUTE_MS).await? {
                return Ok::<_, crate::store::StoreError>(seen[0] + 1);
            }
        }
        panic!("a racer never got its turn");
    })
    .await;
    let mut got = answers.into_iter().collect::<StoreResult<Vec<u32>>>()?;
    got.sort_unstable();
    assert_eq!(
        got,
        (1..=20).collect::<Vec<u32>>(),
        "each racer counted on the count the one before left"
    );
    let read = store.login_failures(vec![user, network], AT_MS).await?;
    assert_eq!(read, [failures(20, AT_MS), failures(20, AT_MS)]);
    // The wait is computed from the shared count: 15 free, then 1 s doubling, so the 20th
    // attempt waits 16 s (and 19 would have waited 8 s).
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
    let one = |key| {
        vec![Claim {
            key,
            seen: 0,
            count: 1,
        }]
    };
    assert!(store.claim_login_attempt(one(soon), AT_MS, 10_000).await?);
    assert!(store.claim_login_attempt(one(late), AT_MS, 100_000).await?);
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
