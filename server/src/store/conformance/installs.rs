//! Installs: recording and widening them, uninstalling and what it revokes, and their pages.

use std::sync::Arc;

use super::fixtures::{all_pages, code_grant, d, grant, issued, keys, live, race, sorted};
use super::fixtures::{token, user, AT};
use crate::domain::now;
use crate::domain::scope::ScopeSet;
use crate::store::{After, Consumed, Install, Issue, Rotation, Store, StoreResult};

fn install_key(i: &Install) -> After {
    After {
        key: i.app_name.clone(),
        id: i.id,
    }
}

/// A user `ada` owning the company `acme`, and an app `app` with a webhook: (ada, acme, app).
async fn setting(store: &dyn Store) -> StoreResult<(i64, i64, i64)> {
    let ada = user(store, "ada").await?;
    let acme = store.create_company("acme", ada, None).await?;
    let app = super::fixtures::app(store, "app", None, true).await?;
    Ok((ada, acme, app))
}

pub(crate) async fn an_install_is_recorded_once_and_widened(store: &dyn Store) -> StoreResult<()> {
    let (ada, acme, app) = setting(store).await?;
    let before = now();
    let first = store
        .record_install(app, acme, ada, ScopeSet::from_stored("profile"))
        .await?;
    assert!(
        first.queued,
        "a new install of an app with a webhook is announced"
    );
    let i = &first.install;
    assert_eq!((i.app_id, i.company_id), (app, acme));
    assert_eq!((i.client_id.as_str(), i.app_name.as_str()), ("app", "app"));
    assert_eq!(i.installed_by.as_deref(), Some("ada"));
    assert_eq!(i.scopes.to_string(), "profile");
    assert!(i.active);
    assert!(i.created_at >= before && i.created_at <= now());
    let again = store
        .record_install(app, acme, ada, ScopeSet::from_stored("company"))
        .await?;
    assert!(!again.queued, "a widened install is not announced again");
    assert_eq!(again.install.id, i.id);
    assert_eq!(
        again.install.scopes.to_string(),
        "company profile",
        "widened"
    );
    let read = store.install(i.id).await?.expect("recorded");
    assert_eq!(read.scopes.to_string(), "company profile");
    assert!(store.install(i.id + 1000).await?.is_none());
    assert_eq!(store.outbox_backlog().await?.pending, 1);
    Ok(())
}

pub(crate) async fn an_app_without_webhook_is_installed_without_event(
    store: &dyn Store,
) -> StoreResult<()> {
    let ada = user(store, "ada").await?;
    let acme = store.create_company("acme", ada, None).await?;
    let quiet = super::fixtures::app(store, "quiet", None, false).await?;
    let recorded = store
        .record_install(quiet, acme, ada, ScopeSet::from_stored("profile"))
        .await?;
    assert!(!recorded.queued);
    assert!(store.uninstall(recorded.install.id, ada).await?);
    assert_eq!(store.outbox_backlog().await?.pending, 0);
    Ok(())
}

pub(crate) async fn uninstalling_ends_the_installs_grants_and_is_announced(
    store: &dyn Store,
) -> StoreResult<()> {
    let (ada, acme, app) = setting(store).await?;
    let scopes = ScopeSet::from_stored("profile");
    let install = store
        .record_install(app, acme, ada, scopes)
        .await?
        .install
        .id;
    let family = issued(
        store
            .issue(
                grant(app, Some(ada), Some(install)),
                None,
                token("access-1"),
                Some(token("refresh-1")),
            )
            .await?,
    );
    assert!(
        live(store, "access-1", AT).await?,
        "read once, maybe cached"
    );
    let pending_code = code_grant(app, ada, Some(install));
    assert!(store.save_code(d("code-1"), pending_code.clone()).await?);
    assert!(store.save_code(d("code-2"), pending_code.clone()).await?);
    assert!(matches!(
        store.consume_code(d("code-2"), AT).await?,
        Consumed::Fresh(_)
    ));
    assert!(store.uninstall(install, ada).await?);
    assert!(!live(store, "access-1", AT).await?, "its tokens end");
    let refresh = store.refresh_token(d("refresh-1")).await?.expect("kept");
    assert!(refresh.revoked && refresh.family_id == family);
    let rotated = store
        .rotate_refresh(d("refresh-1"), token("access-2"), token("refresh-2"), None)
        .await?;
    assert_eq!(rotated, Rotation::Invalid);
    assert!(
        !matches!(
            store.consume_code(d("code-1"), AT).await?,
            Consumed::Fresh(_)
        ),
        "its pending codes are spent"
    );
    // An exchange of a code redeemed before the uninstall writes nothing after it.
    let late = store
        .issue(
            grant(app, Some(ada), Some(install)),
            Some(d("code-2")),
            token("access-3"),
            Some(token("refresh-3")),
        )
        .await?;
    assert!(
        matches!(late, Issue::InstallGone | Issue::CodeSpent),
        "{late:?}"
    );
    assert!(!live(store, "access-3", AT).await?);
    assert!(
        !store.save_code(d("code-3"), pending_code).await?,
        "no new code"
    );
    let gone = store.install(install).await?.expect("kept, uninstalled");
    assert!(!gone.active);
    assert!(store.installs_of_company(acme).await?.is_empty());
    assert!(!store.uninstall(install, ada).await?, "once");
    assert!(!store.uninstall(install + 1000, ada).await?);
    assert_eq!(
        store.outbox_backlog().await?.pending,
        2,
        "installed, uninstalled"
    );
    let undelivered = store.undelivered(app, 10).await?;
    assert_eq!(undelivered[0].event_type, crate::events::UNINSTALLED);
    let again = store
        .record_install(app, acme, ada, ScopeSet::from_stored("profile"))
        .await?;
    assert!(
        again.queued && again.install.id != install,
        "installed anew"
    );
    Ok(())
}

pub(crate) async fn an_install_raced_by_20_is_recorded_once(
    store: &Arc<dyn Store>,
) -> StoreResult<()> {
    let (ada, acme, app) = setting(store.as_ref()).await?;
    let answers = race(store, 20, |s, _| async move {
        s.record_install(app, acme, ada, ScopeSet::from_stored("profile"))
            .await
    })
    .await
    .into_iter()
    .collect::<StoreResult<Vec<_>>>()?;
    let id = answers[0].install.id;
    assert!(answers.iter().all(|r| r.install.id == id), "one install");
    assert_eq!(
        answers.iter().filter(|r| r.queued).count(),
        1,
        "announced once"
    );
    assert_eq!(store.installs_of_company(acme).await?.len(), 1);
    assert_eq!(store.outbox_backlog().await?.pending, 1);
    Ok(())
}

/// Grants are issued under an install while it is uninstalled: whichever wins, nothing issued
/// under it stays live.
pub(crate) async fn an_uninstall_racing_issues_leaves_no_live_token(
    store: &Arc<dyn Store>,
) -> StoreResult<()> {
    let (ada, acme, app) = setting(store.as_ref()).await?;
    let scopes = ScopeSet::from_stored("profile");
    let install = store
        .record_install(app, acme, ada, scopes)
        .await?
        .install
        .id;
    let answers = race(store, 20, |s, i| async move {
        if i == 0 {
            s.uninstall(install, ada).await?;
            return Ok(None);
        }
        let issue = s
            .issue(
                grant(app, Some(ada), Some(install)),
                None,
                token(&format!("access-{i}")),
                Some(token(&format!("refresh-{i}"))),
            )
            .await?;
        let name = format!("access-{i}");
        s.access_token(d(&name), AT).await?;
        Ok(Some(issue))
    })
    .await
    .into_iter()
    .collect::<StoreResult<Vec<_>>>()?;
    for (i, answer) in answers.into_iter().enumerate().skip(1) {
        let answer = answer.expect("an issue");
        assert!(
            matches!(answer, Issue::Issued { .. } | Issue::InstallGone),
            "{answer:?}"
        );
        assert!(
            !live(store.as_ref(), &format!("access-{i}"), AT).await?,
            "access-{i}"
        );
    }
    Ok(())
}

pub(crate) async fn installs_page_by_app_name_and_id_without_duplicates(
    store: &dyn Store,
) -> StoreResult<()> {
    let ada = user(store, "ada").await?;
    let acme = store.create_company("acme", ada, None).await?;
    let other = store.create_company("other", ada, None).await?;
    let names = ["delta", "alpha", "echo", "alpha", "charlie"];
    let mut installs = Vec::new();
    for (i, name) in names.into_iter().enumerate() {
        let app = store
            .create_app(
                super::fixtures::new_app(&format!("app{i}"), name, None),
                None,
            )
            .await?;
        let scopes = ScopeSet::from_stored("profile");
        installs.push(
            store
                .record_install(app, acme, ada, scopes.clone())
                .await?
                .install
                .id,
        );
        if i == 0 {
            store.record_install(app, other, ada, scopes).await?;
        }
    }
    assert!(store.uninstall(installs[2], ada).await?);
    let read = all_pages(2, install_key, |p| store.installs_page(acme, p)).await?;
    let got = keys(&read, install_key);
    assert_eq!(got, sorted(got.clone()));
    let names: Vec<_> = read.iter().map(|i| i.app_name.as_str()).collect();
    assert_eq!(
        names,
        ["alpha", "alpha", "charlie", "delta"],
        "active, this company's"
    );
    assert!(read.iter().all(|i| i.company_id == acme && i.active));
    let listed = keys(&store.installs_of_company(acme).await?, install_key);
    assert_eq!(listed, got);
    Ok(())
}

pub(crate) async fn deleting_an_app_uninstalls_it_everywhere_and_announces_each(
    store: &dyn Store,
) -> StoreResult<()> {
    let (ada, acme, app) = setting(store).await?;
    let other = store.create_company("other", ada, None).await?;
    let mut installs = Vec::new();
    for company in [acme, other] {
        let scopes = ScopeSet::from_stored("profile");
        installs.push(
            store
                .record_install(app, company, ada, scopes)
                .await?
                .install
                .id,
        );
    }
    store.delete_app("app", ada).await?;
    for id in installs {
        assert!(!store.install(id).await?.expect("kept").active);
    }
    assert!(store.installs_of_company(acme).await?.is_empty());
    let events: Vec<_> = store
        .undelivered(app, 10)
        .await?
        .into_iter()
        .map(|e| e.event_type)
        .collect();
    let uninstalled = crate::events::UNINSTALLED;
    let installed = crate::events::INSTALLED;
    assert_eq!(events, [uninstalled, uninstalled, installed, installed]);
    Ok(())
}
