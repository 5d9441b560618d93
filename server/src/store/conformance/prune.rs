//! Pruning: each kind goes in short batches, resumes where it stopped, and deletes only what
//! is past the cutoff (and, for families, codes and events, only what nothing needs).

use super::fixtures::{code_grant, d, family, grant, issued, token_at, user, AT, TTL};
use crate::domain::now;
use crate::domain::scope::ScopeSet;
use crate::store::{Prunable, Session, Store, StoreResult};

/// Prunes one kind to the end, `batch` rows at a time; how many went.
async fn prune_all(
    store: &dyn Store,
    what: Prunable,
    cutoff: i64,
    batch: usize,
) -> StoreResult<usize> {
    let (mut deleted, mut after) = (0, 0);
    for _ in 0..100 {
        let done = store.prune(what, cutoff, batch, after).await?;
        assert!(done.deleted <= batch, "{what:?}: at most a batch at a time");
        deleted += done.deleted;
        match done.resume_after {
            Some(next) => after = next,
            None => {
                let again = store.prune(what, cutoff, batch, 0).await?;
                assert_eq!(again.deleted, 0, "{what:?}: nothing is left");
                return Ok(deleted);
            }
        }
    }
    panic!("{what:?}: pruning a few rows ends");
}

pub(crate) async fn sessions_expired_before_the_cutoff_are_pruned(
    store: &dyn Store,
) -> StoreResult<()> {
    let ada = user(store, "ada").await?;
    // Starting a session may sweep those expired by the wall clock: these are not.
    let base = now() + 1000;
    for i in 0..6 {
        let session = Session {
            user_id: ada,
            csrf: "csrf".into(),
            expires_at: base + i,
        };
        store
            .create_session(d(&format!("session-{i}")), session)
            .await?;
    }
    assert_eq!(prune_all(store, Prunable::Sessions, base + 5, 2).await?, 5);
    assert!(store.session(d("session-4"), now()).await?.is_none());
    assert!(
        store.session(d("session-5"), now()).await?.is_some(),
        "one that expires at the cutoff stays"
    );
    Ok(())
}

pub(crate) async fn tokens_expired_before_the_cutoff_are_pruned(
    store: &dyn Store,
) -> StoreResult<()> {
    let f = family(store).await?;
    // Five more access tokens, in families of their own, expiring one second apart.
    for i in 0..5 {
        let access = token_at(&format!("access-x{i}"), AT, AT + TTL + 1 + i);
        let refresh = token_at(&format!("refresh-x{i}"), AT, AT + TTL + 1 + i);
        store
            .issue(
                grant(f.app, Some(f.user), None),
                None,
                access,
                Some(refresh),
            )
            .await?;
    }
    let cutoff = AT + TTL + 5;
    assert_eq!(
        prune_all(store, Prunable::AccessTokens, cutoff, 2).await?,
        5
    );
    assert!(
        store.access_token(d("access-x3"), AT).await?.is_none(),
        "gone"
    );
    assert!(
        store.access_token(d("access-x4"), AT).await?.is_some(),
        "at the cutoff"
    );
    assert_eq!(
        prune_all(store, Prunable::RefreshTokens, cutoff, 2).await?,
        5
    );
    assert!(store.refresh_token(d("refresh-1")).await?.is_none());
    assert!(store.refresh_token(d("refresh-x4")).await?.is_some());
    Ok(())
}

pub(crate) async fn a_family_is_pruned_once_its_tokens_are(store: &dyn Store) -> StoreResult<()> {
    let f = family(store).await?;
    let ended = token_at("access-2", AT, AT + 10);
    let kept = token_at("access-3", AT, AT + 2 * TTL);
    for access in [ended, kept] {
        issued(
            store
                .issue(grant(f.app, Some(f.user), None), None, access, None)
                .await?,
        );
    }
    let cutoff = AT + TTL + 1;
    assert_eq!(
        prune_all(store, Prunable::Families, cutoff, 1).await?,
        0,
        "every family still has a token"
    );
    prune_all(store, Prunable::AccessTokens, cutoff, 10).await?;
    prune_all(store, Prunable::RefreshTokens, cutoff, 10).await?;
    assert_eq!(
        prune_all(store, Prunable::Families, AT, 1).await?,
        0,
        "created before the cutoff only"
    );
    assert_eq!(prune_all(store, Prunable::Families, cutoff, 1).await?, 2);
    assert!(store.access_token(d("access-3"), AT).await?.is_some());
    Ok(())
}

pub(crate) async fn an_expired_code_is_pruned_once_its_family_is_gone(
    store: &dyn Store,
) -> StoreResult<()> {
    let ada = user(store, "ada").await?;
    let app = super::fixtures::app(store, "app", None, false).await?;
    for code in ["unused", "exchanged", "fresh"] {
        let mut grant = code_grant(app, ada, None);
        if code == "fresh" {
            grant.expires_at = AT + 2 * TTL;
        }
        assert!(store.save_code(d(code), grant).await?);
    }
    store.consume_code(d("exchanged"), AT).await?;
    let access = token_at("access-1", AT, AT + 10);
    store
        .issue(
            grant(app, Some(ada), None),
            Some(d("exchanged")),
            access,
            None,
        )
        .await?;
    let cutoff = AT + TTL;
    assert_eq!(prune_all(store, Prunable::Codes, cutoff, 1).await?, 1);
    assert!(store.code_claims(d("unused")).await?.is_none());
    assert!(
        store.code_claims(d("exchanged")).await?.is_some(),
        "kept while its family is: a replay must still find it"
    );
    prune_all(store, Prunable::AccessTokens, cutoff, 10).await?;
    prune_all(store, Prunable::Families, cutoff, 10).await?;
    assert_eq!(prune_all(store, Prunable::Codes, cutoff, 1).await?, 1);
    assert!(store.code_claims(d("exchanged")).await?.is_none());
    assert!(store.code_claims(d("fresh")).await?.is_some());
    Ok(())
}

pub(crate) async fn delivered_events_are_pruned_and_undelivered_never(
    store: &dyn Store,
) -> StoreResult<()> {
    let ada = user(store, "ada").await?;
    let app = super::fixtures::app(store, "app", None, true).await?;
    for _ in 0..4 {
        let company = store.create_company("acme", ada, None).await?;
        let scopes = ScopeSet::from_stored("profile");
        store.record_install(app, company, ada, scopes).await?;
    }
    let due = store.due_deliveries(now() + 10_000, 10, 10).await?;
    let at = now();
    for d in &due[..2] {
        store.delivery_done(d.id, at).await?;
    }
    store
        .delivery_attempt_failed(due[2].id, "gone", None)
        .await?;
    assert_eq!(
        prune_all(store, Prunable::DeliveredEvents, at, 1).await?,
        0,
        "delivered at the cutoff: kept"
    );
    assert_eq!(
        prune_all(store, Prunable::DeliveredEvents, at + 1, 1).await?,
        2
    );
    let left = store.undelivered(app, 10).await?;
    assert_eq!(left.len(), 2, "the given-up and the pending events stay");
    Ok(())
}
