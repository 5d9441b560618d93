//! Users: accounts, sign-in sessions, single-use login forms.

use std::sync::Arc;

use super::fixtures::{d, race, user, AT};
use crate::domain::now;
use crate::store::{Session, Store, StoreError, StoreResult};

pub(crate) async fn a_user_is_found_by_id_and_by_username(store: &dyn Store) -> StoreResult<()> {
    let before = now();
    let id = user(store, "ada").await?;
    let other = user(store, "grace").await?;
    assert_ne!(id, other);
    let found = store.user(id).await?.expect("a created user is found");
    assert_eq!(found.id, id);
    assert_eq!(found.username, "ada");
    assert_eq!(found.email.as_deref(), Some("ada@example.com"));
    assert_eq!(found.display_name, "ADA");
    assert!(found.joined_at >= before && found.joined_at <= now());
    let (by_name, hash) = store
        .user_by_username("ada")
        .await?
        .expect("found by username");
    assert_eq!(by_name, found);
    assert_eq!(hash, "hash-of-ada", "the password hash comes with the user");
    assert!(store.user_by_username("nobody").await?.is_none());
    assert!(store.user(other + 1000).await?.is_none());
    Ok(())
}

pub(crate) async fn a_taken_username_is_a_conflict(store: &dyn Store) -> StoreResult<()> {
    user(store, "ada").await?;
    let again = user(store, "ada").await;
    assert!(matches!(again, Err(StoreError::Conflict(_))), "{again:?}");
    user(store, "ada2").await?;
    Ok(())
}

pub(crate) async fn a_session_lives_until_its_expiry(store: &dyn Store) -> StoreResult<()> {
    let ada = user(store, "ada").await?;
    // Starting a session may sweep the sessions expired by the wall clock: this one is not.
    let expires_at = now() + 600;
    let session = Session {
        user_id: ada,
        csrf: "csrf-1".into(),
        expires_at,
    };
    store.create_session(d("session-1"), session).await?;
    let found = store
        .session(d("session-1"), expires_at - 1)
        .await?
        .expect("live a second before its expiry");
    assert_eq!(found.user_id, ada);
    assert_eq!(found.csrf, "csrf-1");
    assert_eq!(found.expires_at, expires_at);
    assert!(
        store.session(d("session-1"), expires_at).await?.is_none(),
        "a session ends at its expiry"
    );
    assert!(store
        .session(d("session-2"), expires_at - 1)
        .await?
        .is_none());
    Ok(())
}

pub(crate) async fn a_deleted_session_is_gone(store: &dyn Store) -> StoreResult<()> {
    let ada = user(store, "ada").await?;
    let expires_at = now() + 600;
    for name in ["session-1", "session-2"] {
        let session = Session {
            user_id: ada,
            csrf: format!("csrf-of-{name}"),
            expires_at,
        };
        store.create_session(d(name), session).await?;
    }
    store.delete_session(d("session-1")).await?;
    assert!(store.session(d("session-1"), now()).await?.is_none());
    let other = store.session(d("session-2"), now()).await?;
    assert_eq!(other.map(|s| s.csrf).as_deref(), Some("csrf-of-session-2"));
    store.delete_session(d("session-1")).await?;
    store.delete_session(d("never")).await?;
    Ok(())
}

pub(crate) async fn a_login_form_is_consumed_once_until_it_is_forgotten(
    store: &dyn Store,
) -> StoreResult<()> {
    let expires_at = AT + 60;
    assert!(
        store
            .consume_login_form(d("form-1"), expires_at, AT)
            .await?
    );
    assert!(
        !store
            .consume_login_form(d("form-1"), expires_at, AT)
            .await?
    );
    assert!(
        store
            .consume_login_form(d("form-2"), expires_at, AT)
            .await?
    );
    assert!(
        !store
            .consume_login_form(d("form-1"), expires_at, expires_at)
            .await?,
        "remembered up to its expiry"
    );
    // Past its expiry the form is refused anyway (by the caller): the store may forget it.
    let later = store
        .consume_login_form(d("form-3"), expires_at + 61, expires_at + 1)
        .await?;
    assert!(later, "a new form is accepted after others expired");
    Ok(())
}

pub(crate) async fn a_login_form_raced_by_20_is_consumed_once(
    store: &Arc<dyn Store>,
) -> StoreResult<()> {
    let answers = race(store, 20, |s, _| async move {
        s.consume_login_form(d("form-1"), AT + 60, AT).await
    })
    .await;
    let firsts = answers
        .into_iter()
        .collect::<StoreResult<Vec<bool>>>()?
        .into_iter()
        .filter(|&first| first)
        .count();
    assert_eq!(firsts, 1, "exactly one of 20 racers submits the form");
    Ok(())
}
