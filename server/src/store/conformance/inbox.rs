//! The inbox: who sees an app's notifications, read state, the rate limit (also under 20
//! racers), badges, and pruning.

use std::sync::Arc;

use super::fixtures::{race, user, AT};
use crate::domain::scope::ScopeSet;
use crate::store::{
    Badge, BadgeSet, NewNotification, Posted, Prunable, Rate, Role, Store, StoreResult,
};

const RATE: Rate = Rate {
    limit: 100,
    window: 3600,
};

/// `ada` owns `acme`, where `bob` is a member and the app `app` is installed; `eve` is in no
/// company. (ada, bob, eve, install id).
async fn setting(store: &dyn Store) -> StoreResult<(i64, i64, i64, i64)> {
    let ada = user(store, "ada").await?;
    let bob = user(store, "bob").await?;
    let eve = user(store, "eve").await?;
    let acme = store.create_company("acme", ada, None).await?;
    store.add_member(acme, bob, Role::Member).await?;
    let app = super::fixtures::app(store, "app", None, false).await?;
    let install = store
        .record_install(app, acme, ada, ScopeSet::from_stored("notifications"))
        .await?
        .install
        .id;
    Ok((ada, bob, eve, install))
}

fn note(install_id: i64, user_id: Option<i64>, title: &str) -> NewNotification {
    NewNotification {
        install_id,
        user_id,
        title: title.into(),
        body: format!("{title} body"),
        path: Some("/inbox".into()),
    }
}

async fn post(store: &dyn Store, n: NewNotification, at: i64) -> StoreResult<i64> {
    match store.post_notification(n, RATE, at).await? {
        Posted::Posted(p) => Ok(p.id),
        other => panic!("not posted: {other:?}"),
    }
}

fn titles(list: &[crate::store::Notification]) -> Vec<&str> {
    list.iter().map(|n| n.title.as_str()).collect()
}

pub(crate) async fn a_notification_reaches_its_addressee_or_the_whole_company(
    store: &dyn Store,
) -> StoreResult<()> {
    let (ada, bob, eve, install) = setting(store).await?;
    let posted = store
        .post_notification(note(install, None, "all"), RATE, AT)
        .await?;
    let Posted::Posted(all) = posted else {
        panic!("posted: {posted:?}")
    };
    assert_eq!(
        (all.install_id, all.app_name.as_str(), all.user_id, all.read),
        (install, "app", None, false)
    );
    assert_eq!(
        (all.body.as_str(), all.path.as_deref(), all.created_at),
        ("all body", Some("/inbox"), AT)
    );
    let to_bob = post(store, note(install, Some(bob), "bob only"), AT + 1).await?;
    assert!(to_bob > all.id, "ids increase");

    let for_bob = store.notifications_for(bob, None, 10).await?;
    assert_eq!(titles(&for_bob), ["bob only", "all"], "newest first");
    assert_eq!(for_bob[1], all, "read back as posted");
    assert_eq!(
        titles(&store.notifications_for(ada, None, 10).await?),
        ["all"]
    );
    assert!(store.notifications_for(eve, None, 10).await?.is_empty());
    // Pages: below a cursor, and limited.
    assert_eq!(
        titles(&store.notifications_for(bob, Some(to_bob), 10).await?),
        ["all"]
    );
    assert_eq!(
        titles(&store.notifications_for(bob, None, 1).await?),
        ["bob only"]
    );
    // Since a stream's last id: oldest first.
    assert_eq!(
        titles(&store.notifications_since(bob, 0, 10).await?),
        ["all", "bob only"]
    );
    assert_eq!(
        titles(&store.notifications_since(bob, all.id, 10).await?),
        ["bob only"]
    );
    assert!(store.notifications_since(ada, all.id, 10).await?.is_empty());
    Ok(())
}

pub(crate) async fn only_an_active_install_posts_and_only_to_its_members(
    store: &dyn Store,
) -> StoreResult<()> {
    let (ada, bob, eve, install) = setting(store).await?;
    assert_eq!(
        store
            .post_notification(note(install, Some(eve), "x"), RATE, AT)
            .await?,
        Posted::NoMember
    );
    assert_eq!(
        store
            .post_notification(note(install + 1000, None, "x"), RATE, AT)
            .await?,
        Posted::NoInstall
    );
    for (install, member) in [(install, Some(eve)), (install + 1000, None)] {
        assert_eq!(
            store.set_badge(install, member, 3, AT).await?,
            BadgeSet::NoSuchMember
        );
    }
    post(store, note(install, None, "before"), AT).await?;
    assert!(store.uninstall(install, ada).await?);
    assert_eq!(
        store
            .post_notification(note(install, None, "after"), RATE, AT)
            .await?,
        Posted::NoInstall
    );
    assert_eq!(
        store.set_badge(install, None, 1, AT).await?,
        BadgeSet::NoSuchMember
    );
    assert!(
        store.notifications_for(bob, None, 10).await?.is_empty(),
        "an uninstalled app's notifications are no longer shown"
    );
    Ok(())
}

pub(crate) async fn read_marks_are_per_member_and_only_on_what_they_see(
    store: &dyn Store,
) -> StoreResult<()> {
    let (ada, bob, eve, install) = setting(store).await?;
    let one = post(store, note(install, None, "one"), AT).await?;
    let two = post(store, note(install, None, "two"), AT).await?;
    let secret = post(store, note(install, Some(bob), "bob's"), AT).await?;
    // ada cannot mark what she does not see; eve sees nothing.
    assert_eq!(store.mark_read(ada, vec![one, secret], None).await?, 1);
    assert_eq!(store.mark_read(eve, vec![one], Some(secret)).await?, 0);
    assert_eq!(
        store.mark_read(ada, vec![one], None).await?,
        0,
        "already read"
    );
    let read = |list: Vec<crate::store::Notification>| -> Vec<(String, bool)> {
        list.into_iter().map(|n| (n.title, n.read)).collect()
    };
    assert_eq!(
        read(store.notifications_for(ada, None, 10).await?),
        [("two".into(), false), ("one".into(), true)]
    );
    assert_eq!(
        read(store.notifications_for(bob, None, 10).await?),
        [
            ("bob's".into(), false),
            ("two".into(), false),
            ("one".into(), false)
        ],
        "ada's marks are hers"
    );
    assert_eq!(store.mark_read(bob, vec![], Some(two)).await?, 2);
    assert_eq!(
        read(store.notifications_for(bob, None, 10).await?),
        [
            ("bob's".into(), false),
            ("two".into(), true),
            ("one".into(), true)
        ]
    );
    Ok(())
}

pub(crate) async fn the_rate_limit_counts_the_window_and_says_when_to_retry(
    store: &dyn Store,
) -> StoreResult<()> {
    let (_, _, _, install) = setting(store).await?;
    let rate = Rate {
        limit: 2,
        window: 60,
    };
    for at in [AT, AT + 10] {
        assert!(matches!(
            store
                .post_notification(note(install, None, "n"), rate, at)
                .await?,
            Posted::Posted(_)
        ));
    }
    assert_eq!(
        store
            .post_notification(note(install, None, "n"), rate, AT + 20)
            .await?,
        Posted::Throttled { retry_at: AT + 60 },
        "free again when the oldest in the window leaves it"
    );
    assert!(matches!(
        store
            .post_notification(note(install, None, "n"), rate, AT + 60)
            .await?,
        Posted::Posted(_)
    ));
    Ok(())
}

pub(crate) async fn the_rate_limit_holds_under_20_racers(
    store: &Arc<dyn Store>,
) -> StoreResult<()> {
    let (_, bob, _, install) = setting(store.as_ref()).await?;
    let rate = Rate {
        limit: 5,
        window: 3600,
    };
    let answers = race(store, 20, move |s, i| async move {
        s.post_notification(note(install, None, &format!("n{i}")), rate, AT)
            .await
    })
    .await;
    let mut posted = 0;
    for a in answers {
        match a? {
            Posted::Posted(_) => posted += 1,
            Posted::Throttled { .. } => {}
            other => panic!("unexpected: {other:?}"),
        }
    }
    assert_eq!(posted, 5, "exactly the limit got through");
    assert_eq!(store.notifications_for(bob, None, 100).await?.len(), 5);
    Ok(())
}

pub(crate) async fn a_members_own_badge_wins_over_the_companys(
    store: &dyn Store,
) -> StoreResult<()> {
    let (ada, bob, eve, install) = setting(store).await?;
    assert!(store.badges_for(bob).await?.is_empty(), "no badge yet");
    assert_eq!(
        store.set_badge(install, None, 3, AT).await?,
        BadgeSet::Changed
    );
    assert_eq!(
        store.set_badge(install, Some(bob), 7, AT).await?,
        BadgeSet::Changed
    );
    // The same count again: nothing written (nobody need be told).
    assert_eq!(
        store.set_badge(install, Some(bob), 7, AT + 1).await?,
        BadgeSet::Unchanged
    );
    assert_eq!(
        store.set_badge(install, None, 3, AT).await?,
        BadgeSet::Unchanged
    );
    let badge = |count| {
        vec![Badge {
            install_id: install,
            count,
        }]
    };
    assert_eq!(store.badges_for(ada).await?, badge(3));
    assert_eq!(store.badges_for(bob).await?, badge(7));
    assert!(store.badges_for(eve).await?.is_empty());
    // Set again: replaced. Zero: shown as none.
    assert_eq!(
        store.set_badge(install, None, 4, AT).await?,
        BadgeSet::Changed
    );
    assert_eq!(
        store.set_badge(install, Some(bob), 0, AT).await?,
        BadgeSet::Changed
    );
    assert_eq!(store.badges_for(ada).await?, badge(4));
    assert!(
        store.badges_for(bob).await?.is_empty(),
        "bob's own zero wins over the company's 4"
    );
    assert!(store.uninstall(install, ada).await?);
    assert!(
        store.badges_for(ada).await?.is_empty(),
        "gone with the install"
    );
    Ok(())
}

pub(crate) async fn notifications_posted_before_the_cutoff_are_pruned(
    store: &dyn Store,
) -> StoreResult<()> {
    let (ada, _, _, install) = setting(store).await?;
    let old = post(store, note(install, None, "old"), AT).await?;
    post(store, note(install, None, "new"), AT + 100).await?;
    store.mark_read(ada, vec![old], None).await?;
    let mut deleted = 0;
    let mut after = 0;
    loop {
        let step = store
            .prune(Prunable::Notifications, AT + 50, 1, after)
            .await?;
        deleted += step.deleted;
        match step.resume_after {
            Some(next) => after = next,
            None => break,
        }
    }
    assert_eq!(deleted, 1);
    assert_eq!(
        titles(&store.notifications_for(ada, None, 10).await?),
        ["new"]
    );
    Ok(())
}
