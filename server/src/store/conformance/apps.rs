//! Apps and clients: registering, quotas, secrets, updates, deletion, and the pages of the
//! catalog and of a developer's apps.

use std::sync::Arc;

use super::fixtures::{all_pages, d, family, keys, live, new_app, race, sorted, token, user};
use super::fixtures::{AT, REDIRECT};
use crate::domain::now;
use crate::domain::redirect::ApplicationType;
use crate::domain::scope::ScopeSet;
use crate::store::{After, AppUpdate, Client, PageReq, Rotation, Store, StoreError, StoreResult};

fn app_key(c: &Client) -> After {
    After {
        key: c.name.clone(),
        id: c.app_id,
    }
}

fn is_not_found<T: std::fmt::Debug>(r: &StoreResult<T>) -> bool {
    matches!(r, Err(StoreError::NotFound(_)))
}

pub(crate) async fn an_app_is_read_back_as_its_client(store: &dyn Store) -> StoreResult<()> {
    let ada = user(store, "ada").await?;
    let before = now();
    let mut app = new_app("app", "The app", Some(ada));
    app.iframe_url = Some("https://app.example/frame".into());
    app.webhook_url = Some("https://app.example/hook".into());
    app.install_url = Some("https://app.example/install".into());
    app.scopes = ScopeSet::from_stored("profile email");
    app.allow_token = true;
    let id = store.create_app(app.clone(), None).await?;
    let c = store.client("app").await?.expect("registered");
    assert_eq!((c.app_id, c.client_id.as_str()), (id, "app"));
    assert_eq!(c.secret_digest, app.secret_digest);
    assert!(!c.is_public());
    assert_eq!(
        (c.name.as_str(), c.description.as_str()),
        ("The app", "The app, for the checks")
    );
    assert_eq!(
        (c.developer.as_deref(), c.developer_id),
        (Some("ada"), Some(ada))
    );
    assert_eq!(c.redirect_uris, [REDIRECT]);
    assert_eq!(c.iframe_url, app.iframe_url);
    assert_eq!(c.webhook_url, app.webhook_url);
    assert_eq!(c.install_url, app.install_url);
    assert_eq!(c.scopes, app.scopes);
    assert!(c.allow_code && c.allow_token && !c.first_party);
    assert_eq!(c.application_type, ApplicationType::Web);
    assert!(c.created_at >= before && c.created_at <= now());
    let mut native = new_app("native", "Native", None);
    native.secret_digest = None;
    native.application_type = ApplicationType::Native;
    store.create_app(native, None).await?;
    let n = store.client("native").await?.expect("registered");
    assert!(n.is_public() && n.loopback_any_port());
    assert_eq!((n.developer, n.developer_id), (None, None));
    assert!(store.client("nobody").await?.is_none());
    Ok(())
}

pub(crate) async fn a_taken_client_id_is_a_conflict(store: &dyn Store) -> StoreResult<()> {
    super::fixtures::app(store, "app", None, false).await?;
    let again = store
        .create_app(new_app("app", "Another", None), None)
        .await;
    assert!(matches!(again, Err(StoreError::Conflict(_))), "{again:?}");
    assert_eq!(
        store.client("app").await?.map(|c| c.name).as_deref(),
        Some("app")
    );
    Ok(())
}

pub(crate) async fn the_app_quota_counts_a_developers_live_apps(
    store: &dyn Store,
) -> StoreResult<()> {
    let ada = user(store, "ada").await?;
    let grace = user(store, "grace").await?;
    store
        .create_app(new_app("a1", "a1", Some(ada)), Some(2))
        .await?;
    store
        .create_app(new_app("a2", "a2", Some(ada)), Some(2))
        .await?;
    store
        .create_app(new_app("g1", "g1", Some(grace)), Some(2))
        .await?;
    let third = store
        .create_app(new_app("a3", "a3", Some(ada)), Some(2))
        .await;
    assert!(
        matches!(
            third,
            Err(StoreError::Quota {
                what: "apps",
                limit: 2
            })
        ),
        "{third:?}"
    );
    assert!(store.client("a3").await?.is_none(), "nothing was written");
    store.delete_app("a1", ada).await?;
    store
        .create_app(new_app("a3", "a3", Some(ada)), Some(2))
        .await?;
    Ok(())
}

pub(crate) async fn the_app_quota_holds_under_20_racers(store: &Arc<dyn Store>) -> StoreResult<()> {
    let ada = user(store.as_ref(), "ada").await?;
    let answers = race(store, 20, |s, i| async move {
        let id = format!("app{i}");
        s.create_app(new_app(&id, &id, Some(ada)), Some(3)).await
    })
    .await;
    assert_eq!(answers.iter().filter(|a| a.is_ok()).count(), 3);
    for a in answers {
        match a {
            Ok(_) | Err(StoreError::Quota { .. }) => {}
            Err(e) => return Err(e),
        }
    }
    let page = PageReq {
        after: None,
        limit: 100,
    };
    assert_eq!(store.apps_of_developer(ada, page).await?.items.len(), 3);
    Ok(())
}

pub(crate) async fn a_new_secret_replaces_the_old_at_once(store: &dyn Store) -> StoreResult<()> {
    super::fixtures::app(store, "app", None, false).await?;
    // Read first, so that a caching store holds the old secret.
    assert_eq!(
        store.client("app").await?.and_then(|c| c.secret_digest),
        Some(d("secret-of-app"))
    );
    store.set_client_secret("app", Some(d("new"))).await?;
    assert_eq!(
        store.client("app").await?.and_then(|c| c.secret_digest),
        Some(d("new"))
    );
    store.set_client_secret("app", None).await?;
    assert!(store.client("app").await?.expect("kept").is_public());
    assert!(is_not_found(
        &store.set_client_secret("nobody", Some(d("x"))).await
    ));
    Ok(())
}

pub(crate) async fn an_update_changes_what_it_names_and_nothing_else(
    store: &dyn Store,
) -> StoreResult<()> {
    let mut app = new_app("app", "app", None);
    app.iframe_url = Some("https://app.example/frame".into());
    app.webhook_url = Some("https://app.example/hook".into());
    store.create_app(app, None).await?;
    let before = store.client("app").await?.expect("registered");
    store.update_app("app", AppUpdate::default()).await?;
    let update = AppUpdate {
        name: Some("Renamed".into()),
        redirect_uris: Some(vec![REDIRECT.into(), "https://app.example/other".into()]),
        webhook_url: Some(None),
        install_url: Some(Some("https://app.example/install".into())),
        scopes: Some(ScopeSet::from_stored("profile company")),
        allow_token: Some(true),
        ..AppUpdate::default()
    };
    store.update_app("app", update).await?;
    let after = store.client("app").await?.expect("kept");
    assert_eq!(after.name, "Renamed");
    assert_eq!(after.redirect_uris.len(), 2);
    assert_eq!(after.webhook_url, None, "Some(None) clears");
    assert_eq!(
        after.install_url.as_deref(),
        Some("https://app.example/install")
    );
    assert_eq!(after.scopes.to_string(), "company profile");
    assert!(after.allow_token);
    assert_eq!(after.description, before.description, "None leaves it");
    assert_eq!(after.iframe_url, before.iframe_url);
    assert_eq!(after.allow_code, before.allow_code);
    assert_eq!(after.secret_digest, before.secret_digest);
    let unknown = store.update_app("nobody", AppUpdate::default()).await;
    assert!(is_not_found(&unknown), "{unknown:?}");
    Ok(())
}

pub(crate) async fn a_deleted_app_is_gone_and_its_grants_end(store: &dyn Store) -> StoreResult<()> {
    let f = family(store).await?;
    assert!(
        live(store, "access-1", AT).await?,
        "read once, maybe cached"
    );
    let code = super::fixtures::code_grant(f.app, f.user, None);
    assert!(store.save_code(d("code-1"), code).await?);
    store.delete_app("app", f.user).await?;
    assert!(store.client("app").await?.is_none());
    assert!(!live(store, "access-1", AT).await?, "its tokens end");
    let rotated = store
        .rotate_refresh(d("refresh-1"), token("access-2"), token("refresh-2"), None)
        .await?;
    assert_eq!(rotated, Rotation::Invalid);
    assert!(
        !matches!(
            store.consume_code(d("code-1"), AT).await?,
            crate::store::Consumed::Fresh(_)
        ),
        "its codes are spent"
    );
    let page = PageReq {
        after: None,
        limit: 10,
    };
    assert!(store.catalog(page.clone()).await?.items.is_empty());
    assert!(store
        .apps_of_developer(f.user, page)
        .await?
        .items
        .is_empty());
    assert!(is_not_found(&store.delete_app("app", f.user).await));
    let update = AppUpdate {
        name: Some("Back".into()),
        ..AppUpdate::default()
    };
    assert!(is_not_found(&store.update_app("app", update).await));
    assert!(is_not_found(&store.delete_app("nobody", f.user).await));
    Ok(())
}

pub(crate) async fn the_catalog_pages_by_name_and_id_without_duplicates(
    store: &dyn Store,
) -> StoreResult<()> {
    let ada = user(store, "ada").await?;
    let grace = user(store, "grace").await?;
    // Two apps share a name: the id breaks the tie.
    let names = ["delta", "alpha", "echo", "alpha", "charlie", "bravo"];
    for (i, name) in names.into_iter().enumerate() {
        let developer = if i % 2 == 0 { ada } else { grace };
        store
            .create_app(new_app(&format!("app{i}"), name, Some(developer)), None)
            .await?;
    }
    store.delete_app("app2", ada).await?;
    let read = all_pages(2, app_key, |p| store.catalog(p)).await?;
    let got = keys(&read, app_key);
    assert_eq!(got, sorted(got.clone()));
    let listed: Vec<_> = read.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(
        listed,
        ["alpha", "alpha", "bravo", "charlie", "delta"],
        "third-party, not deleted"
    );
    let first = store
        .catalog(PageReq {
            after: None,
            limit: 3,
        })
        .await?;
    store
        .create_app(new_app("late1", "aaa", None), None)
        .await?;
    store
        .create_app(new_app("late2", "zzz", None), None)
        .await?;
    let rest = all_pages(3, app_key, |mut p| {
        if p.after.is_none() {
            p.after = first.next.clone();
        }
        store.catalog(p)
    })
    .await?;
    let names: Vec<_> = rest.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(
        names,
        ["charlie", "delta", "zzz"],
        "added after the cursor: later"
    );
    let adas = all_pages(1, app_key, |p| store.apps_of_developer(ada, p)).await?;
    let names: Vec<_> = adas.iter().map(|c| c.client_id.as_str()).collect();
    assert_eq!(names, ["app4", "app0"], "ada's live apps, by name");
    Ok(())
}

/// An edit that lost its race with the delete finds no app, whatever it edits.
pub(crate) async fn an_edit_after_a_delete_is_not_found(store: &dyn Store) -> StoreResult<()> {
    let ada = user(store, "ada").await?;
    super::fixtures::app(store, "app", Some(ada), false).await?;
    store.delete_app("app", ada).await?;
    let update = AppUpdate {
        description: Some("back".into()),
        ..AppUpdate::default()
    };
    assert!(is_not_found(&store.update_app("app", update).await));
    assert!(is_not_found(&store.set_client_secret("app", None).await));
    assert!(is_not_found(&store.set_id_token_alg("app", "EdDSA").await));
    assert!(is_not_found(&store.delete_app("app", ada).await));
    assert!(store.client("app").await?.is_none());
    Ok(())
}
