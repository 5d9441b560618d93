//! Grants: codes, token families, access and refresh tokens.
//!
//! These checks pin the split between storage and policy: the store's primitives report a second use
//! of a code or a refresh token and revoke nothing; revoking is the grant's decision
//! (`oauth::grants`), made with [`revoke_family`].
//!
//! [`revoke_family`]: crate::store::GrantStore::revoke_family

use crate::domain::redirect::{ApplicationType, RedirectUri};
use crate::domain::scope::ScopeSet;
use crate::domain::secret::TokenDigest;
use crate::store::{
    Consumed, Grant, Issue, NewApp, NewToken, NewUser, Rotation, Store, StoreResult,
};

const AT: i64 = 1_000_000;

fn token(name: &str) -> NewToken {
    NewToken {
        digest: TokenDigest::of(name),
        issued_at: AT,
        expires_at: AT + 3600,
    }
}

/// A user and an app, and a live family issued from the code `code`: (app, user, family).
async fn issued_from_code(store: &dyn Store, code: &str) -> StoreResult<(i64, i64, i64)> {
    let user = store
        .create_user(NewUser {
            username: "ada".into(),
            email: None,
            display_name: "Ada".into(),
            password_hash: "x".into(),
        })
        .await?;
    let app = store
        .create_app(
            NewApp {
                client_id: "app".into(),
                secret_digest: None,
                name: "App".into(),
                description: String::new(),
                developer_id: None,
                redirect_uris: vec!["https://app.example/cb".into()],
                iframe_url: None,
                webhook_url: None,
                install_url: None,
                scopes: ScopeSet::from_stored("profile"),
                allow_code: true,
                allow_token: false,
                application_type: ApplicationType::Web,
            },
            None,
        )
        .await?;
    let saved = store
        .save_code(
            TokenDigest::of(code),
            crate::store::CodeGrant {
                app_id: app,
                user_id: user,
                company_id: None,
                redirect_uri: RedirectUri::absolute("https://app.example/cb")
                    .expect("a constant URL"),
                scopes: ScopeSet::from_stored("profile"),
                code_challenge: None,
                expires_at: AT + 60,
                install_id: None,
            },
        )
        .await?;
    assert!(saved);
    let Consumed::Fresh(grant) = store.consume_code(TokenDigest::of(code), AT).await? else {
        panic!("a fresh code is consumed once");
    };
    let issued = store
        .issue(
            Grant {
                app_id: app,
                user_id: Some(grant.user_id),
                company_id: None,
                scopes: grant.scopes,
                install_id: None,
            },
            Some(TokenDigest::of(code)),
            token("access-1"),
            Some(token("refresh-1")),
        )
        .await?;
    let Issue::Issued { family } = issued else {
        panic!("an unreplayed code issues: {issued:?}");
    };
    Ok((app, user, family))
}

pub(crate) async fn a_second_use_of_a_code_names_its_family_and_revokes_nothing(
    store: &dyn Store,
) -> StoreResult<()> {
    let (_, _, family) = issued_from_code(store, "code-1").await?;
    match store
        .consume_code(TokenDigest::of("code-1"), AT + 1)
        .await?
    {
        Consumed::Already { family: named } => assert_eq!(named, Some(family)),
        other => panic!("a second use is reported: {other:?}"),
    }
    let live = store
        .access_token(TokenDigest::of("access-1"), AT + 1)
        .await?;
    assert!(live.is_some(), "the store itself revokes nothing");
    store.revoke_family(family, AT + 1).await?;
    let live = store
        .access_token(TokenDigest::of("access-1"), AT + 1)
        .await?;
    assert!(live.is_none(), "revoke_family ends the family's tokens");
    Ok(())
}

pub(crate) async fn a_code_replayed_before_its_tokens_are_written_issues_none(
    store: &dyn Store,
) -> StoreResult<()> {
    let (app, user, _) = issued_from_code(store, "code-1").await?;
    let code = TokenDigest::of("code-2");
    let saved = store
        .save_code(
            code,
            crate::store::CodeGrant {
                app_id: app,
                user_id: user,
                company_id: None,
                redirect_uri: RedirectUri::absolute("https://app.example/cb")
                    .expect("a constant URL"),
                scopes: ScopeSet::from_stored("profile"),
                code_challenge: None,
                expires_at: AT + 60,
                install_id: None,
            },
        )
        .await?;
    assert!(saved);
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
            Grant {
                app_id: app,
                user_id: Some(user),
                company_id: None,
                scopes: ScopeSet::from_stored("profile"),
                install_id: None,
            },
            Some(code),
            token("access-2"),
            Some(token("refresh-2")),
        )
        .await?;
    assert_eq!(issued, Issue::CodeSpent);
    let live = store.access_token(TokenDigest::of("access-2"), AT).await?;
    assert!(live.is_none(), "nothing was written");
    Ok(())
}

pub(crate) async fn a_rotated_refresh_token_is_reported_with_its_family_and_revokes_nothing(
    store: &dyn Store,
) -> StoreResult<()> {
    let (_, _, family) = issued_from_code(store, "code-1").await?;
    let old = TokenDigest::of("refresh-1");
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
            family,
            retry: None
        }
    );
    let live = store.access_token(TokenDigest::of("access-2"), AT).await?;
    assert!(live.is_some(), "the store itself revokes nothing");
    let unwritten = store.access_token(TokenDigest::of("access-3"), AT).await?;
    assert!(unwritten.is_none(), "a second rotation writes nothing");
    Ok(())
}

/// A deleted app keeps no secret: a rotation that lost its race with the delete finds no app.
pub(crate) async fn a_deleted_app_gets_no_new_secret(store: &dyn Store) -> StoreResult<()> {
    let (_, user, _) = issued_from_code(store, "code-1").await?;
    store.delete_app("app", user).await?;
    let rotated = store
        .set_client_secret("app", Some(TokenDigest::of("new-secret")))
        .await;
    assert!(
        matches!(rotated, Err(crate::store::StoreError::NotFound(_))),
        "{rotated:?}"
    );
    Ok(())
}
