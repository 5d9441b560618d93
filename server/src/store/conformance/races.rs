//! The grant primitives under racing tasks: consume-once, rotate-if-current, and revoke-family
//! while tokens are issued and rotated into the family. Every task waits at a barrier
//! ([`race`]) so that they reach the store together, on a runtime with several worker threads.

use std::sync::{Arc, Mutex};

use super::fixtures::{code_grant, d, family, grant, live, race, token, user, AT};
use crate::store::{Consumed, Issue, Rotation, Store, StoreResult};

const RACERS: usize = 20;

pub(crate) async fn a_code_raced_by_20_is_consumed_once(store: &Arc<dyn Store>) -> StoreResult<()> {
    let ada = user(store.as_ref(), "ada").await?;
    let app = super::fixtures::app(store.as_ref(), "app", None, false).await?;
    assert!(
        store
            .save_code(d("code-1"), code_grant(app, ada, None))
            .await?
    );
    let answers = race(store, RACERS, |s, _| async move {
        s.consume_code(d("code-1"), AT).await
    })
    .await
    .into_iter()
    .collect::<StoreResult<Vec<_>>>()?;
    let fresh = answers
        .iter()
        .filter(|a| matches!(a, Consumed::Fresh(_)))
        .count();
    let already = answers
        .iter()
        .filter(|a| matches!(a, Consumed::Already { family: None }))
        .count();
    assert_eq!((fresh, already), (1, RACERS - 1), "(fresh, already used)");
    Ok(())
}

pub(crate) async fn a_refresh_token_raced_by_20_is_rotated_once(
    store: &Arc<dyn Store>,
) -> StoreResult<()> {
    let f = family(store.as_ref()).await?;
    let answers = race(store, RACERS, |s, i| async move {
        s.rotate_refresh(
            d("refresh-1"),
            token(&format!("access-{i}-new")),
            token(&format!("refresh-{i}-new")),
            None,
        )
        .await
    })
    .await
    .into_iter()
    .collect::<StoreResult<Vec<_>>>()?;
    let rotated = answers.iter().filter(|a| **a == Rotation::Rotated).count();
    assert_eq!(rotated, 1, "{answers:?}");
    let reported = Rotation::AlreadyRotated {
        family: f.family,
        retry: None,
    };
    assert!(
        answers
            .iter()
            .all(|a| *a == Rotation::Rotated || *a == reported),
        "the losers are told the family: {answers:?}"
    );
    let mut live_access = 0;
    let mut current_refresh = 0;
    for i in 0..RACERS {
        if live(store.as_ref(), &format!("access-{i}-new"), AT).await? {
            live_access += 1;
        }
        if let Some(r) = store.refresh_token(d(&format!("refresh-{i}-new"))).await? {
            assert!(!r.rotated && !r.revoked);
            current_refresh += 1;
        }
    }
    assert_eq!(
        (live_access, current_refresh),
        (1, 1),
        "one new pair is written"
    );
    Ok(())
}

/// 20 exchanges of fresh codes race 20 replays of the same codes, each replay revoking the
/// family it is told (what the authorization-code grant does): whichever wins, no token of a
/// replayed code stays live.
pub(crate) async fn a_code_replayed_while_it_is_exchanged_leaves_no_live_token(
    store: &Arc<dyn Store>,
) -> StoreResult<()> {
    let ada = user(store.as_ref(), "ada").await?;
    let app = super::fixtures::app(store.as_ref(), "app", None, false).await?;
    for i in 0..RACERS {
        let code = d(&format!("code-{i}"));
        assert!(store.save_code(code, code_grant(app, ada, None)).await?);
        assert!(matches!(
            store.consume_code(code, AT).await?,
            Consumed::Fresh(_)
        ));
    }
    let answers = race(store, 2 * RACERS, |s, i| async move {
        let code = d(&format!("code-{}", i / 2));
        if i % 2 == 0 {
            let access = token(&format!("access-{}", i / 2));
            let refresh = token(&format!("refresh-{}", i / 2));
            let issue = s
                .issue(
                    grant(app, Some(ada), None),
                    Some(code),
                    access,
                    Some(refresh),
                )
                .await?;
            Ok(Some(issue))
        } else {
            match s.consume_code(code, AT + 1).await? {
                Consumed::Already { family: Some(f) } => s.revoke_family(f, AT + 1).await?,
                Consumed::Already { family: None } => {}
                other => panic!("a used code is reported used: {other:?}"),
            }
            Ok(None)
        }
    })
    .await
    .into_iter()
    .collect::<StoreResult<Vec<_>>>()?;
    for (i, answer) in answers.into_iter().flatten().enumerate() {
        assert!(
            matches!(answer, Issue::Issued { .. } | Issue::CodeSpent),
            "{answer:?}"
        );
        assert!(
            !live(store.as_ref(), &format!("access-{i}"), AT + 1).await?,
            "the tokens of replayed code-{i} are not live ({answer:?})"
        );
        let rotated = store
            .rotate_refresh(
                d(&format!("refresh-{i}")),
                token(&format!("access-{i}-next")),
                token(&format!("refresh-{i}-next")),
                None,
            )
            .await?;
        assert_ne!(rotated, Rotation::Rotated, "code-{i}");
    }
    Ok(())
}

/// Rotators advance one family's refresh chain, and readers look its access tokens up (so a
/// caching store caches them), while the family is revoked: afterwards no token of the
/// family is live and none rotates.
pub(crate) async fn a_family_revoked_while_it_is_rotated_keeps_no_live_token(
    store: &Arc<dyn Store>,
) -> StoreResult<()> {
    const ROTATORS: usize = 8;
    const STEPS: usize = 6;
    let f = family(store.as_ref()).await?;
    // Every refresh and access token written, by name: the newest refresh token is last.
    let chain = Arc::new(Mutex::new(vec![(
        "refresh-1".to_string(),
        "access-1".to_string(),
    )]));
    let revoked_at = AT + 1;
    let answers = race(store, ROTATORS + 1, |s, i| {
        let chain = chain.clone();
        async move {
            if i == ROTATORS {
                // The revoker lets the rotators get going first.
                for _ in 0..ROTATORS {
                    tokio::task::yield_now().await;
                }
                s.revoke_family(f.family, revoked_at).await?;
                return Ok(0);
            }
            let mut rotated = 0;
            for step in 0..STEPS {
                let (current, access) = {
                    let chain = chain.lock().expect("not poisoned");
                    chain.last().cloned().expect("never empty")
                };
                // A reader: an access token looked up while the family is being revoked.
                s.access_token(d(&access), AT).await?;
                let next = (format!("refresh-{i}-{step}"), format!("access-{i}-{step}"));
                match s
                    .rotate_refresh(d(&current), token(&next.1), token(&next.0), None)
                    .await?
                {
                    Rotation::Rotated => {
                        rotated += 1;
                        s.access_token(d(&next.1), AT).await?;
                        chain.lock().expect("not poisoned").push(next);
                    }
                    Rotation::AlreadyRotated { family, .. } => assert_eq!(family, f.family),
                    Rotation::Invalid => break,
                }
            }
            Ok(rotated)
        }
    })
    .await
    .into_iter()
    .collect::<StoreResult<Vec<usize>>>()?;
    let chain = chain.lock().expect("not poisoned").clone();
    assert_eq!(chain.len(), 1 + answers.iter().sum::<usize>());
    for (refresh, access) in &chain {
        assert!(
            !live(store.as_ref(), access, revoked_at).await?,
            "{access} of a revoked family is not live"
        );
        let state = store.refresh_token(d(refresh)).await?.expect("kept");
        assert!(state.revoked, "{refresh} is revoked with its family");
        let rotated = store
            .rotate_refresh(d(refresh), token("access-x"), token("refresh-x"), None)
            .await?;
        assert_ne!(rotated, Rotation::Rotated, "{refresh}");
    }
    assert!(!live(store.as_ref(), "access-x", revoked_at).await?);
    Ok(())
}
