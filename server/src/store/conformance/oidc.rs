//! OpenID Connect: signing-key versions, a code's claims, an app's ID-token algorithm.

use std::sync::Arc;

use super::fixtures::{code_grant, d, race, user, AT};
use crate::store::{CodeClaims, Store, StoreError, StoreResult};

pub(crate) async fn signing_keys_are_added_in_order_and_retire_the_older(
    store: &dyn Store,
) -> StoreResult<()> {
    assert!(store.signing_keys().await?.is_empty());
    assert!(
        !store.add_signing_key(2, vec![2], AT).await?,
        "versions start at 1"
    );
    assert!(store.add_signing_key(1, vec![1, 1], AT).await?);
    assert!(!store.add_signing_key(1, vec![9], AT + 1).await?, "taken");
    assert!(
        !store.add_signing_key(3, vec![3], AT + 1).await?,
        "one more than the newest"
    );
    assert!(store.add_signing_key(2, vec![2, 2], AT + 5).await?);
    let keys = store.signing_keys().await?;
    let got: Vec<_> = keys
        .iter()
        .map(|k| (k.version, k.rsa_wrapped.clone(), k.created_at, k.retired_at))
        .collect();
    assert_eq!(
        got,
        [
            (1, vec![1, 1], AT, Some(AT + 5)),
            (2, vec![2, 2], AT + 5, None)
        ]
    );
    Ok(())
}

pub(crate) async fn a_signing_key_version_raced_by_20_is_added_once(
    store: &Arc<dyn Store>,
) -> StoreResult<()> {
    let answers = race(store, 20, |s, i| async move {
        s.add_signing_key(1, vec![i as u8], AT).await
    })
    .await
    .into_iter()
    .collect::<StoreResult<Vec<bool>>>()?;
    assert_eq!(answers.iter().filter(|&&added| added).count(), 1);
    let keys = store.signing_keys().await?;
    assert_eq!(keys.len(), 1);
    let winner = answers.iter().position(|&added| added).expect("one");
    assert_eq!(
        keys[0].rsa_wrapped,
        [winner as u8],
        "the winner's key is kept"
    );
    Ok(())
}

pub(crate) async fn a_codes_claims_are_kept_with_it(store: &dyn Store) -> StoreResult<()> {
    let ada = user(store, "ada").await?;
    let app = super::fixtures::app(store, "app", None, false).await?;
    for code in ["code-1", "code-2"] {
        assert!(store.save_code(d(code), code_grant(app, ada, None)).await?);
    }
    let claims = CodeClaims {
        nonce: Some("n-0S6_WzA2Mj".into()),
        auth_time: Some(AT - 5),
    };
    store.set_code_claims(d("code-1"), claims.clone()).await?;
    assert_eq!(store.code_claims(d("code-1")).await?, Some(claims));
    let none = CodeClaims {
        nonce: None,
        auth_time: None,
    };
    assert_eq!(
        store.code_claims(d("code-2")).await?,
        Some(none),
        "none recorded"
    );
    assert_eq!(store.code_claims(d("never")).await?, None);
    store.consume_code(d("code-1"), AT).await?;
    assert!(
        store.code_claims(d("code-1")).await?.is_some(),
        "kept once the code is used"
    );
    Ok(())
}

pub(crate) async fn an_apps_id_token_algorithm_is_rs256_until_it_chooses(
    store: &dyn Store,
) -> StoreResult<()> {
    let app = super::fixtures::app(store, "app", None, false).await?;
    let other = super::fixtures::app(store, "other", None, false).await?;
    assert_eq!(store.id_token_alg(app).await?.as_deref(), Some("RS256"));
    store.set_id_token_alg("app", "EdDSA").await?;
    assert_eq!(store.id_token_alg(app).await?.as_deref(), Some("EdDSA"));
    assert_eq!(store.id_token_alg(other).await?.as_deref(), Some("RS256"));
    store.set_id_token_alg("app", "RS256").await?;
    assert_eq!(store.id_token_alg(app).await?.as_deref(), Some("RS256"));
    assert_eq!(store.id_token_alg(other + 1000).await?, None);
    let unknown = store.set_id_token_alg("nobody", "EdDSA").await;
    assert!(
        matches!(unknown, Err(StoreError::NotFound(_))),
        "{unknown:?}"
    );
    Ok(())
}

pub(crate) async fn an_apps_post_logout_uris_are_replaced_as_a_whole(
    store: &dyn Store,
) -> StoreResult<()> {
    let ada = user(store, "ada").await?;
    let app = super::fixtures::app(store, "app", Some(ada), false).await?;
    let other = super::fixtures::app(store, "other", None, false).await?;
    assert!(store.post_logout_redirect_uris(app).await?.is_empty());
    let uris = vec![
        "https://app.example/bye".to_string(),
        "https://app.example/bye?again=1".to_string(),
    ];
    store
        .set_post_logout_redirect_uris("app", uris.clone())
        .await?;
    assert_eq!(
        store.post_logout_redirect_uris(app).await?,
        uris,
        "exact, in order"
    );
    assert!(store.post_logout_redirect_uris(other).await?.is_empty());
    let fewer = vec!["https://app.example/bye".to_string()];
    store
        .set_post_logout_redirect_uris("app", fewer.clone())
        .await?;
    assert_eq!(store.post_logout_redirect_uris(app).await?, fewer);
    store
        .set_post_logout_redirect_uris("app", Vec::new())
        .await?;
    assert!(store.post_logout_redirect_uris(app).await?.is_empty());
    assert!(store
        .post_logout_redirect_uris(other + 1000)
        .await?
        .is_empty());
    let unknown = store
        .set_post_logout_redirect_uris("nobody", fewer.clone())
        .await;
    assert!(
        matches!(unknown, Err(StoreError::NotFound(_))),
        "{unknown:?}"
    );
    store.delete_app("app", ada).await?;
    let deleted = store.set_post_logout_redirect_uris("app", fewer).await;
    assert!(
        matches!(deleted, Err(StoreError::NotFound(_))),
        "{deleted:?}"
    );
    Ok(())
}
