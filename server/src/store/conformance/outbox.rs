//! The outbox: what is due and in which order, recording attempts, backoff, giving up and
//! retrying, and the developer's view.
//!
//! The contract today has one worker: `due_deliveries` reads, it does not claim, and the
//! worker keeps what it has in flight in memory. The racing check therefore covers what
//! several writers can do at once (queue events, record deliveries), not two workers sharing
//! the due events, which needs a lease.

use std::sync::Arc;

use super::fixtures::{race, user};
use crate::domain::now;
use crate::domain::scope::ScopeSet;
use crate::store::{Delivery, Store, StoreResult};

/// Far enough ahead that every event queued so far is due.
fn later() -> i64 {
    now() + 10_000
}

/// `app` (with a webhook) installed in `n` new companies of `owner`: one event each.
async fn installed(store: &dyn Store, owner: i64, app: i64, n: usize) -> StoreResult<()> {
    for _ in 0..n {
        let company = store.create_company("acme", owner, None).await?;
        let scopes = ScopeSet::from_stored("profile");
        assert!(
            store
                .record_install(app, company, owner, scopes)
                .await?
                .queued
        );
    }
    Ok(())
}

/// Two apps with webhooks, `a` with `n` events and `b` with one: (a, b).
async fn two_apps(store: &dyn Store, n: usize) -> StoreResult<(i64, i64)> {
    let ada = user(store, "ada").await?;
    let a = super::fixtures::app(store, "a", None, true).await?;
    let b = super::fixtures::app(store, "b", None, true).await?;
    installed(store, ada, a, n).await?;
    installed(store, ada, b, 1).await?;
    Ok((a, b))
}

async fn due_of(store: &dyn Store, at: i64, app: i64) -> StoreResult<Vec<i64>> {
    Ok(store
        .due_deliveries(at, 100, 100)
        .await?
        .into_iter()
        .filter(|d| d.app_id == app)
        .map(|d| d.id)
        .collect())
}

fn ids(deliveries: &[Delivery]) -> Vec<i64> {
    deliveries.iter().map(|d| d.id).collect()
}

pub(crate) async fn a_queued_event_is_due_from_its_time(store: &dyn Store) -> StoreResult<()> {
    assert_eq!(store.outbox_backlog().await?.pending, 0);
    let before = now();
    let (a, _) = two_apps(store, 1).await?;
    let backlog = store.outbox_backlog().await?;
    assert_eq!(backlog.pending, 2);
    let oldest = backlog.oldest_created_at.expect("something waits");
    assert!(oldest >= before && oldest <= now());
    let due = store.due_deliveries(later(), 10, 10).await?;
    let e = due.iter().find(|d| d.app_id == a).expect("due");
    assert_eq!(e.event_type, crate::events::INSTALLED);
    assert_eq!(e.client_id, "a");
    assert_eq!(e.url, "https://a.example/hook");
    assert!(e.body.contains(&e.event_id), "the body names its event");
    assert_eq!(
        (e.attempts, e.failed, e.last_error.as_deref()),
        (0, false, None)
    );
    let t = e.next_attempt_at.expect("pending");
    assert!(t >= before && e.created_at >= before);
    assert_eq!(due_of(store, t, a).await?, [e.id], "due at its time");
    assert!(
        due_of(store, t - 1, a).await?.is_empty(),
        "not a second before"
    );
    Ok(())
}

pub(crate) async fn due_events_come_earliest_first_and_capped_per_app(
    store: &dyn Store,
) -> StoreResult<()> {
    let (a, b) = two_apps(store, 3).await?;
    let all = store.due_deliveries(later(), 100, 100).await?;
    assert_eq!(all.len(), 4);
    let order: Vec<_> = all.iter().map(|d| (d.next_attempt_at, d.id)).collect();
    let mut sorted = order.clone();
    sorted.sort();
    assert_eq!(order, sorted, "earliest first, then by id");
    let capped = store.due_deliveries(later(), 100, 2).await?;
    let of_a: Vec<_> = capped
        .iter()
        .filter(|d| d.app_id == a)
        .map(|d| d.id)
        .collect();
    let first_two_of_a: Vec<_> = all
        .iter()
        .filter(|d| d.app_id == a)
        .map(|d| d.id)
        .take(2)
        .collect();
    assert_eq!(of_a, first_two_of_a, "an app's earliest, at most per_app");
    assert_eq!(capped.iter().filter(|d| d.app_id == b).count(), 1);
    let one = store.due_deliveries(later(), 1, 100).await?;
    assert_eq!(ids(&one), [all[0].id], "at most limit");
    Ok(())
}

pub(crate) async fn a_failed_attempt_defers_the_event_and_its_apps_earlier_ones(
    store: &dyn Store,
) -> StoreResult<()> {
    let (a, b) = two_apps(store, 2).await?;
    let due = due_of(store, later(), a).await?;
    let (first, second) = (due[0], due[1]);
    let retry_at = later();
    store
        .delivery_attempt_failed(first, "timeout", Some(retry_at))
        .await?;
    assert!(
        due_of(store, retry_at - 1, a).await?.is_empty(),
        "one probe per retry"
    );
    assert_eq!(
        due_of(store, retry_at - 1, b).await?.len(),
        1,
        "other apps go on"
    );
    assert_eq!(due_of(store, retry_at, a).await?, [first, second]);
    let failed = store.undelivered(a, 10).await?;
    let failed = failed.iter().find(|d| d.id == first).expect("undelivered");
    assert_eq!((failed.attempts, failed.failed), (1, false));
    assert_eq!(failed.last_error.as_deref(), Some("timeout"));
    assert_eq!(failed.next_attempt_at, Some(retry_at));
    assert_eq!(store.outbox_backlog().await?.pending, 3, "still pending");
    Ok(())
}

pub(crate) async fn a_delivery_makes_its_apps_deferred_events_due(
    store: &dyn Store,
) -> StoreResult<()> {
    let (a, _) = two_apps(store, 2).await?;
    let due = due_of(store, later(), a).await?;
    let (first, second) = (due[0], due[1]);
    let retry_at = later();
    store
        .delivery_attempt_failed(first, "timeout", Some(retry_at))
        .await?;
    let at = now();
    store.delivery_done(second, at).await?;
    assert_eq!(due_of(store, at, a).await?, [first], "due again at once");
    assert_eq!(ids(&store.undelivered(a, 10).await?), [first]);
    assert_eq!(store.outbox_backlog().await?.pending, 2);
    store.delivery_done(first, at).await?;
    assert!(due_of(store, later(), a).await?.is_empty());
    assert!(store.undelivered(a, 10).await?.is_empty());
    Ok(())
}

pub(crate) async fn a_given_up_event_is_kept_until_retried(store: &dyn Store) -> StoreResult<()> {
    let (a, b) = two_apps(store, 2).await?;
    let due = due_of(store, later(), a).await?;
    let (first, second) = (due[0], due[1]);
    store.delivery_attempt_failed(first, "gone", None).await?;
    assert_eq!(
        due_of(store, later(), a).await?,
        [second],
        "never due again"
    );
    assert_eq!(store.outbox_backlog().await?.pending, 2, "not pending");
    let kept = store.undelivered(a, 10).await?;
    let given_up = kept.iter().find(|d| d.id == first).expect("undelivered");
    assert!(given_up.failed);
    assert_eq!(given_up.next_attempt_at, None);
    assert_eq!(
        (given_up.attempts, given_up.last_error.as_deref()),
        (1, Some("gone"))
    );
    let event = given_up.event_id.clone();
    assert!(
        store.retry_delivery(b, &event, now()).await?.is_none(),
        "not b's"
    );
    assert!(store
        .retry_delivery(a, "no-such-event", now())
        .await?
        .is_none());
    let at = now();
    let revived = store.retry_delivery(a, &event, at).await?.expect("revived");
    assert_eq!((revived.id, revived.failed), (first, false));
    assert_eq!(revived.next_attempt_at, Some(at));
    assert!(due_of(store, at, a).await?.contains(&first));
    assert_eq!(store.outbox_backlog().await?.pending, 3);
    store.delivery_done(first, at).await?;
    assert!(
        store.retry_delivery(a, &event, at).await?.is_none(),
        "a delivered event is not retried"
    );
    Ok(())
}

pub(crate) async fn undelivered_events_are_newest_first_and_limited(
    store: &dyn Store,
) -> StoreResult<()> {
    let (a, _) = two_apps(store, 3).await?;
    let due = due_of(store, later(), a).await?;
    store.delivery_done(due[1], now()).await?;
    let undelivered = store.undelivered(a, 10).await?;
    assert_eq!(ids(&undelivered), [due[2], due[0]]);
    assert_eq!(ids(&store.undelivered(a, 1).await?), [due[2]]);
    Ok(())
}

/// 20 installs queue their events at once, then 20 tasks deliver one each at once: every
/// event is queued once, due once, and delivered.
pub(crate) async fn events_queued_and_delivered_by_20_racers_are_each_handled_once(
    store: &Arc<dyn Store>,
) -> StoreResult<()> {
    let ada = user(store.as_ref(), "ada").await?;
    let app = super::fixtures::app(store.as_ref(), "a", None, true).await?;
    let mut companies = Vec::new();
    for _ in 0..20 {
        companies.push(store.create_company("acme", ada, None).await?);
    }
    let companies = Arc::new(companies);
    let queued = race(store, 20, |s, i| {
        let companies = companies.clone();
        async move {
            let scopes = ScopeSet::from_stored("profile");
            s.record_install(app, companies[i], ada, scopes).await
        }
    })
    .await
    .into_iter()
    .collect::<StoreResult<Vec<_>>>()?;
    assert!(queued.iter().all(|r| r.queued));
    let due = store.due_deliveries(later(), 100, 100).await?;
    let mut events: Vec<_> = due.iter().map(|d| d.event_id.clone()).collect();
    events.sort();
    events.dedup();
    assert_eq!((due.len(), events.len()), (20, 20), "each queued once");
    let due = Arc::new(ids(&due));
    let at = now();
    race(store, 20, |s, i| {
        let due = due.clone();
        async move { s.delivery_done(due[i], at).await }
    })
    .await
    .into_iter()
    .collect::<StoreResult<Vec<_>>>()?;
    assert_eq!(store.outbox_backlog().await?.pending, 0);
    assert!(store.due_deliveries(later(), 100, 100).await?.is_empty());
    assert!(store.undelivered(app, 100).await?.is_empty());
    Ok(())
}
