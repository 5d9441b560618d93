//! What only several replicas on one PostgreSQL database can show: leases on the outbox, and
//! invalidations that reach another replica's cache. Each test opens two stores (two pools,
//! two listeners) on one throwaway schema, as two `atrium-server` processes would.

use std::time::Duration;

use super::testing::{fresh_store, Schema};
use super::PostgresStore;
use crate::domain::redirect::ApplicationType;
use crate::domain::scope::ScopeSet;
use crate::domain::secret::TokenDigest;
use crate::store::*;

/// Two replicas on one fresh schema, both listening; `None` without a test database.
async fn two_replicas() -> Option<(Schema, PostgresStore, PostgresStore)> {
    let (schema, a) = fresh_store().await?;
    let mut config = schema.config().expect("a test URL");
    config.application_name(format!("replica-b-{}", schema.name()));
    let b = PostgresStore::connect(config)
        .await
        .expect("a second store");
    until("both replicas listen", || a.listening() && b.listening()).await;
    Some((schema, a, b))
}

/// Polls `ready` every 5 ms for up to two seconds.
async fn until(what: &str, mut ready: impl FnMut() -> bool) {
    let start = std::time::Instant::now();
    while !ready() {
        assert!(
            start.elapsed() < Duration::from_secs(2),
            "{what}: not within 2 s"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// A user, a company and an app with a webhook: (user, company, app).
async fn world(store: &dyn Store) -> StoreResult<(i64, i64, i64)> {
    let user = store
        .create_user(NewUser {
            username: "ada".into(),
            email: None,
            display_name: "Ada".into(),
            password_hash: "x".into(),
        })
        .await?;
    let company = store.create_company("Acme", user, None).await?;
    let app = store
        .create_app(
            NewApp {
                client_id: "app".into(),
                secret_digest: None,
                name: "App".into(),
                description: String::new(),
                developer_id: Some(user),
                redirect_uris: vec!["https://app.example/cb".into()],
                iframe_url: None,
                webhook_url: Some("https://app.example/hook".into()),
                install_url: None,
                scopes: ScopeSet::from_stored("profile"),
                allow_code: true,
                allow_token: true,
                application_type: ApplicationType::Web,
            },
            None,
        )
        .await?;
    Ok((user, company, app))
}

/// A live access token `name` of a new family: the family.
async fn token(store: &dyn Store, app: i64, user: i64, name: &str) -> StoreResult<i64> {
    let issued = store
        .issue(
            Grant {
                app_id: app,
                user_id: Some(user),
                company_id: None,
                scopes: ScopeSet::from_stored("profile"),
                install_id: None,
            },
            None,
            NewToken {
                digest: TokenDigest::of(name),
                issued_at: crate::domain::now(),
                expires_at: crate::domain::now() + 3600,
            },
            None,
        )
        .await?;
    match issued {
        Issue::Issued { family } => Ok(family),
        other => panic!("issued: {other:?}"),
    }
}

fn hits(store: &dyn Store) -> u64 {
    store
        .cache_stats()
        .iter()
        .find(|s| s.cache == "tokens")
        .map_or(0, |s| s.hits)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn replicas_claim_each_event_once_and_a_lapsed_lease_is_claimed_again() {
    let Some((_schema, a, b)) = two_replicas().await else {
        return;
    };
    let (user, _, app) = world(&a).await.expect("world");
    for name in ["One", "Two", "Three"] {
        let company = a.create_company(name, user, None).await.expect("company");
        let recorded = a
            .record_install(app, company, user, ScopeSet::from_stored("profile"))
            .await
            .expect("install");
        assert!(recorded.queued);
    }
    let now = crate::domain::now();
    // Both replicas claim at once, 20 times each: every event goes to exactly one of them.
    let claims = (0..20)
        .flat_map(|_| [a.clone(), b.clone()])
        .map(|s| tokio::spawn(async move { s.claim_deliveries(now, 10, 10, now + 60).await }));
    let mut claimed = Vec::new();
    for claim in claims {
        claimed.extend(
            claim
                .await
                .expect("task")
                .expect("claim")
                .into_iter()
                .map(|d| d.id),
        );
    }
    claimed.sort();
    let before = claimed.len();
    claimed.dedup();
    assert_eq!((before, claimed.len()), (3, 3), "each event claimed once");
    assert!(b
        .claim_deliveries(now, 10, 10, now + 60)
        .await
        .expect("claim")
        .is_empty());
    // One is sent; one is given back; the third's replica dies with it.
    a.delivery_done(claimed[0], now).await.expect("done");
    a.release_delivery(claimed[1]).await.expect("release");
    let again = b
        .claim_deliveries(now, 10, 10, now + 60)
        .await
        .expect("claim");
    assert_eq!(
        again.iter().map(|d| d.id).collect::<Vec<_>>(),
        vec![claimed[1]]
    );
    let lapsed = b
        .claim_deliveries(now + 61, 10, 10, now + 120)
        .await
        .expect("claim");
    let mut lapsed: Vec<i64> = lapsed.iter().map(|d| d.id).collect();
    lapsed.sort();
    assert_eq!(
        lapsed,
        vec![claimed[1], claimed[2]],
        "leases ran out; the sent one stays sent"
    );
}

/// Looks `digest` up in `b` until the second lookup of a pair is answered from its cache. The
/// notifications of the writes that made the token reach `b` a little later and empty its
/// caches, so a first pair may miss twice.
async fn cached_in(b: &PostgresStore, digest: TokenDigest, now: i64) {
    let start = std::time::Instant::now();
    loop {
        let before = hits(b);
        assert!(b.access_token(digest, now).await.expect("lookup").is_some());
        assert!(b.access_token(digest, now).await.expect("lookup").is_some());
        if hits(b) > before {
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(2),
            "b's cache answered no lookup within 2 s"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_revocation_on_one_replica_empties_the_other_replicas_cache() {
    let Some((_schema, a, b)) = two_replicas().await else {
        return;
    };
    let (user, _, app) = world(&a).await.expect("world");
    let family = token(&a, app, user, "access").await.expect("token");
    let digest = TokenDigest::of("access");
    let now = crate::domain::now();
    cached_in(&b, digest, now).await;
    a.revoke_family(family, now).await.expect("revoke");
    // b's cache would answer for up to `cache::MAX_AGE` (5 s) on its own.
    let start = std::time::Instant::now();
    loop {
        if b.access_token(digest, now).await.expect("lookup").is_none() {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(1),
            "b still answers live after 1 s"
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_replica_that_stops_listening_stops_caching_until_it_listens_again() {
    let Some((schema, a, b)) = two_replicas().await else {
        return;
    };
    let (user, _, app) = world(&a).await.expect("world");
    let family = token(&a, app, user, "access").await.expect("token");
    let digest = TokenDigest::of("access");
    let now = crate::domain::now();
    cached_in(&b, digest, now).await;
    // The server ends b's listening connection (and b may not listen again yet).
    let gate = b.listener.hold_reconnect().await;
    let killed = a
        .query(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
             WHERE application_name = $1 AND query = 'LISTEN atrium_invalidate'",
            &[&format!("replica-b-{}", schema.name())],
        )
        .await
        .expect("terminate");
    assert_eq!(killed.len(), 1, "b has one listening connection");
    until("b notices", || !b.listening()).await;
    // Deaf, b answers nothing from memory: a revocation it cannot hear (no NOTIFY) is seen
    // at once, and a live token is read from the database each time.
    a.execute(
        "UPDATE token_families SET revoked_at = $2 WHERE id = $1",
        &[&family, &now],
    )
    .await
    .expect("revoke behind b's back");
    let live = TokenDigest::of("live");
    token(&a, app, user, "live").await.expect("token");
    let hits_before = hits(&b);
    assert!(b.access_token(digest, now).await.expect("lookup").is_none());
    assert!(b.access_token(live, now).await.expect("lookup").is_some());
    assert!(b.access_token(live, now).await.expect("lookup").is_some());
    assert_eq!(hits(&b), hits_before, "nothing answered from memory");
    assert!(!b.listening());
    drop(gate);
    // b listens again, and caches again.
    until("b listens again", || b.listening()).await;
    let family = token(&a, app, user, "access-2").await.expect("token");
    let digest = TokenDigest::of("access-2");
    b.access_token(digest, now).await.expect("lookup");
    b.access_token(digest, now).await.expect("lookup");
    assert_eq!(hits(&b), hits_before + 1, "cached again");
    a.revoke_family(family, now).await.expect("revoke");
    until("b hears the revocation", || b.access.is_empty()).await;
}
