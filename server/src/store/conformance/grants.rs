//! Grants: codes, token families, access and refresh tokens.
//!
//! These checks pin the split between storage and policy: the store's primitives report a second use
//! of a code or a refresh token and revoke nothing; revoking is the grant's decision
//! (`oauth::grants`), made with [`revoke_family`]. The racing versions are in `races.rs`.
//!
//! [`revoke_family`]: crate::store::GrantStore::revoke_family

use super::fixtures::{
    code_grant, d, family, family_from_code, grant, issued, live, token, token_at, user, AT, TTL,
};
use crate::store::{
    Consumed, Issue, PendingRetry, RetryWindow, Rotation, Store, StoreError, StoreResult,
};

pub(crate) async fn a_second_use_of_a_code_names_its_family_and_revokes_nothing(
    store: &dyn Store,
) -> StoreResult<()> {
    let f = family_from_code(store, "code-1").await?;
    match store.consume_code(d("code-1"), AT + 1).await? {
        Consumed::Already { family: named } => assert_eq!(named, Some(f.family)),
        other => panic!("a second use is reported: {other:?}"),
    }
    assert!(
        live(store, "access-1", AT + 1).await?,
        "the store itself revokes nothing"
    );
    store.revoke_family(f.family, AT + 1).await?;
    assert!(
        !live(store, "access-1", AT + 1).await?,
        "revoke_family ends the family's tokens"
    );
    Ok(())
}

pub(crate) async fn a_code_replayed_before_its_tokens_are_written_issues_none(
    store: &dyn Store,
) -> StoreResult<()> {
    let f = family_from_code(store, "code-1").await?;
    let code = d("code-2");
    assert!(
        store
            .save_code(code, code_grant(f.app, f.user, None))
            .await?
    );
    assert!(matches!(
        store.consume_code(code, AT).await?,
        Consumed::Fresh(_)
    ));
    assert!(matches!(
        store.consume_code(code, AT).await?,
        Consumed::Already { family: None }
    ));
    let issued = store
        .issue(
            grant(f.app, Some(f.user), None),
            Some(code),
            token("access-2"),
            Some(token("refresh-2")),
        )
        .await?;
    assert_eq!(issued, Issue::CodeSpent);
    assert!(!live(store, "access-2", AT).await?, "nothing was written");
    assert!(store.refresh_token(d("refresh-2")).await?.is_none());
    Ok(())
}

pub(crate) async fn a_rotated_refresh_token_is_reported_with_its_family_and_revokes_nothing(
    store: &dyn Store,
) -> StoreResult<()> {
    let f = family_from_code(store, "code-1").await?;
    let old = d("refresh-1");
    let first = store
        .rotate_refresh(old, token("access-2"), token("refresh-2"), None)
        .await?;
    assert_eq!(first, Rotation::Rotated);
    let again = store
        .rotate_refresh(old, token("access-3"), token("refresh-3"), None)
        .await?;
    assert_eq!(
        again,
        Rotation::AlreadyRotated {
            family: f.family,
            retry: None
        }
    );
    assert!(
        live(store, "access-2", AT).await?,
        "the store itself revokes nothing"
    );
    assert!(
        !live(store, "access-3", AT).await?,
        "a second rotation writes nothing"
    );
    assert!(store.refresh_token(d("refresh-3")).await?.is_none());
    Ok(())
}

/// A deleted app keeps no secret: a rotation that lost its race with the delete finds no app.
pub(crate) async fn a_deleted_app_gets_no_new_secret(store: &dyn Store) -> StoreResult<()> {
    let f = family_from_code(store, "code-1").await?;
    store.delete_app("app", f.user).await?;
    let rotated = store.set_client_secret("app", Some(d("new-secret"))).await;
    assert!(
        matches!(rotated, Err(StoreError::NotFound(_))),
        "{rotated:?}"
    );
    Ok(())
}

pub(crate) async fn a_code_is_consumed_with_the_grant_it_was_saved_with(
    store: &dyn Store,
) -> StoreResult<()> {
    let ada = user(store, "ada").await?;
    let app = super::fixtures::app(store, "app", None, false).await?;
    assert!(matches!(
        store.consume_code(d("code-1"), AT).await?,
        Consumed::Unknown
    ));
    let saved = code_grant(app, ada, None);
    assert!(store.save_code(d("code-1"), saved.clone()).await?);
    let Consumed::Fresh(got) = store.consume_code(d("code-1"), AT).await? else {
        panic!("a saved code is fresh once");
    };
    assert_eq!(
        (got.app_id, got.user_id, got.company_id, got.install_id),
        (app, ada, None, None)
    );
    assert_eq!(got.redirect_uri.as_str(), saved.redirect_uri.as_str());
    assert_eq!(got.scopes, saved.scopes);
    assert_eq!(got.code_challenge, saved.code_challenge);
    assert_eq!(got.expires_at, saved.expires_at);
    assert!(matches!(
        store.consume_code(d("code-1"), AT).await?,
        Consumed::Already { family: None }
    ));
    Ok(())
}

pub(crate) async fn an_access_token_is_live_until_its_expiry(store: &dyn Store) -> StoreResult<()> {
    let f = family(store).await?;
    let info = store
        .access_token(d("access-1"), AT + TTL - 1)
        .await?
        .expect("live a second before its expiry");
    assert_eq!(info.family_id, f.family);
    assert_eq!(info.app_id, f.app);
    assert_eq!(info.client_id, "app");
    assert_eq!(info.user_id, Some(f.user));
    assert_eq!(info.username.as_deref(), Some("ada"));
    assert_eq!(info.company_id, None);
    assert_eq!(info.scopes.to_string(), "profile");
    assert_eq!((info.issued_at, info.expires_at), (AT, AT + TTL));
    // Read again at its expiry: a cached entry must expire as the row does.
    assert!(
        !live(store, "access-1", AT + TTL).await?,
        "ends at its expiry"
    );
    assert!(live(store, "access-1", AT).await?);
    assert!(
        !live(store, "refresh-1", AT).await?,
        "a refresh token is no access token"
    );
    assert!(!live(store, "never", AT).await?);
    Ok(())
}

pub(crate) async fn a_revoked_access_token_ends_alone(store: &dyn Store) -> StoreResult<()> {
    let f = family(store).await?;
    assert_eq!(
        store
            .rotate_refresh(d("refresh-1"), token("access-2"), token("refresh-2"), None)
            .await?,
        Rotation::Rotated
    );
    assert!(
        live(store, "access-1", AT).await?,
        "read once, maybe cached"
    );
    store.revoke_access(d("access-1")).await?;
    assert!(!live(store, "access-1", AT).await?);
    assert!(live(store, "access-2", AT).await?, "the family lives on");
    let refresh = store.refresh_token(d("refresh-2")).await?.expect("kept");
    assert!(!refresh.revoked);
    store.revoke_access(d("access-1")).await?;
    store.revoke_access(d("never")).await?;
    assert_eq!(refresh.family_id, f.family);
    Ok(())
}

pub(crate) async fn a_refresh_token_tells_its_state(store: &dyn Store) -> StoreResult<()> {
    let f = family(store).await?;
    assert!(store.refresh_token(d("never")).await?.is_none());
    let info = store.refresh_token(d("refresh-1")).await?.expect("issued");
    assert_eq!((info.family_id, info.app_id), (f.family, f.app));
    assert_eq!(info.scopes.to_string(), "profile");
    assert_eq!(info.expires_at, AT + TTL);
    assert!(!info.rotated && !info.revoked);
    store
        .rotate_refresh(d("refresh-1"), token("access-2"), token("refresh-2"), None)
        .await?;
    let old = store.refresh_token(d("refresh-1")).await?.expect("kept");
    assert!(old.rotated && !old.revoked);
    let new = store.refresh_token(d("refresh-2")).await?.expect("written");
    assert!(!new.rotated && !new.revoked);
    assert_eq!(new.family_id, f.family);
    store.revoke_family(f.family, AT + 1).await?;
    let revoked = store.refresh_token(d("refresh-2")).await?.expect("kept");
    assert!(revoked.revoked);
    Ok(())
}

pub(crate) async fn a_grant_without_refresh_token_issues_an_access_token_only(
    store: &dyn Store,
) -> StoreResult<()> {
    let app = super::fixtures::app(store, "app", None, false).await?;
    let family = issued(
        store
            .issue(grant(app, None, None), None, token("access-1"), None)
            .await?,
    );
    let info = store.access_token(d("access-1"), AT).await?.expect("live");
    assert_eq!(info.family_id, family);
    assert_eq!((info.user_id, info.username), (None, None));
    assert!(store.refresh_token(d("refresh-1")).await?.is_none());
    Ok(())
}

pub(crate) async fn a_refresh_token_rotates_only_while_current_and_unexpired(
    store: &dyn Store,
) -> StoreResult<()> {
    let f = family(store).await?;
    let unknown = store
        .rotate_refresh(d("never"), token("access-x"), token("refresh-x"), None)
        .await?;
    assert_eq!(unknown, Rotation::Invalid);
    // `refresh-1` expires at AT + TTL: a rotation at that second is too late.
    let late = store
        .rotate_refresh(
            d("refresh-1"),
            token_at("access-x", AT + TTL, AT + 2 * TTL),
            token_at("refresh-x", AT + TTL, AT + 2 * TTL),
            None,
        )
        .await?;
    assert_eq!(late, Rotation::Invalid, "expired at its expiry");
    assert!(!live(store, "access-x", AT + TTL).await?);
    let just_in_time = store
        .rotate_refresh(
            d("refresh-1"),
            token_at("access-2", AT + TTL - 1, AT + 2 * TTL),
            token_at("refresh-2", AT + TTL - 1, AT + 2 * TTL),
            None,
        )
        .await?;
    assert_eq!(just_in_time, Rotation::Rotated);
    assert!(live(store, "access-2", AT + TTL).await?);
    store.revoke_family(f.family, AT + TTL).await?;
    let revoked = store
        .rotate_refresh(d("refresh-2"), token("access-3"), token("refresh-3"), None)
        .await?;
    assert_eq!(
        revoked,
        Rotation::Invalid,
        "a revoked family rotates no more"
    );
    assert!(!live(store, "access-3", AT).await?);
    Ok(())
}

pub(crate) async fn a_rotation_keeps_its_retry_until_the_window_closes(
    store: &dyn Store,
) -> StoreResult<()> {
    let f = family(store).await?;
    let salt = [7u8; 32];
    let window = RetryWindow {
        salt,
        until: AT + 30,
    };
    let rotated = store
        .rotate_refresh(
            d("refresh-1"),
            token("access-2"),
            token("refresh-2"),
            Some(window),
        )
        .await?;
    assert_eq!(rotated, Rotation::Rotated);
    let retry_at = |at: i64| {
        let access = token_at("access-x", at, at + TTL);
        let refresh = token_at("refresh-x", at, at + TTL);
        store.rotate_refresh(d("refresh-1"), access, refresh, None)
    };
    let kept = PendingRetry {
        salt,
        access_expires_at: AT + TTL,
    };
    assert_eq!(
        retry_at(AT + 29).await?,
        Rotation::AlreadyRotated {
            family: f.family,
            retry: Some(kept),
        },
        "open a second before `until`"
    );
    assert_eq!(
        retry_at(AT + 30).await?,
        Rotation::AlreadyRotated {
            family: f.family,
            retry: None,
        },
        "closed at `until`"
    );
    assert!(
        !live(store, "access-x", AT).await?,
        "a retry writes nothing"
    );
    Ok(())
}

pub(crate) async fn a_retry_ends_when_its_successor_is_used_or_the_family_revoked(
    store: &dyn Store,
) -> StoreResult<()> {
    let f = family(store).await?;
    let window = |salt: u8| RetryWindow {
        salt: [salt; 32],
        until: AT + 30,
    };
    let retry_of = |name: &'static str| {
        store.rotate_refresh(d(name), token("access-x"), token("refresh-x"), None)
    };
    store
        .rotate_refresh(
            d("refresh-1"),
            token("access-2"),
            token("refresh-2"),
            Some(window(1)),
        )
        .await?;
    store
        .rotate_refresh(
            d("refresh-2"),
            token("access-3"),
            token("refresh-3"),
            Some(window(2)),
        )
        .await?;
    assert_eq!(
        retry_of("refresh-1").await?,
        Rotation::AlreadyRotated {
            family: f.family,
            retry: None
        },
        "its successor was used: a retry of refresh-1 is reuse"
    );
    assert_eq!(
        retry_of("refresh-2").await?,
        Rotation::AlreadyRotated {
            family: f.family,
            retry: Some(PendingRetry {
                salt: [2; 32],
                access_expires_at: AT + TTL
            })
        }
    );
    store.revoke_family(f.family, AT + 1).await?;
    let after = retry_of("refresh-2").await?;
    assert!(
        matches!(
            after,
            Rotation::Invalid | Rotation::AlreadyRotated { retry: None, .. }
        ),
        "a revoked family keeps no retry: {after:?}"
    );
    Ok(())
}

pub(crate) async fn a_revoked_family_ends_only_its_own_tokens(
    store: &dyn Store,
) -> StoreResult<()> {
    let f = family(store).await?;
    let other = issued(
        store
            .issue(
                grant(f.app, Some(f.user), None),
                None,
                token("access-b"),
                Some(token("refresh-b")),
            )
            .await?,
    );
    assert_ne!(other, f.family);
    store
        .rotate_refresh(d("refresh-1"), token("access-2"), token("refresh-2"), None)
        .await?;
    assert!(
        live(store, "access-2", AT).await?,
        "read once, maybe cached"
    );
    store.revoke_family(f.family, AT + 1).await?;
    for name in ["access-1", "access-2"] {
        assert!(
            !live(store, name, AT + 1).await?,
            "{name} ends with its family"
        );
    }
    assert!(
        live(store, "access-b", AT + 1).await?,
        "another family lives on"
    );
    let rotated = store
        .rotate_refresh(d("refresh-b"), token("access-c"), token("refresh-c"), None)
        .await?;
    assert_eq!(rotated, Rotation::Rotated);
    store.revoke_family(f.family, AT + 2).await?;
    store.revoke_family(other + 1000, AT + 2).await?;
    Ok(())
}
