//! `grant_type=refresh_token` (RFC 6749 §6): **where a refresh token is rotated**, with reuse
//! detection (RFC 9700 §4.14.2) and the reuse interval.
//!
//! Each refresh token works once: a refresh rotates it into a new access and refresh token
//! ([`Store::rotate_refresh`], rotate-if-current). Presenting a rotated one again is reuse,
//! and revokes the whole grant ([`Store::revoke_family`]).
//!
//! One exception, the reuse interval (`OAuthConfig::refresh_reuse_interval`): a client whose
//! rotation committed but whose answer was lost (the server died, the connection dropped)
//! retries with the token it still holds. Within the interval, by the same client, while the
//! new refresh token is unused and the grant live, that retry gets the same new pair again.
//!
//! Only digests of tokens are stored, so the pair cannot be read back. Instead, when the
//! interval is on, the pair is derived rather than drawn: from a fresh random salt, the server
//! key and the old refresh token ([`ServerKeys::rotation_pair`]). The store keeps the salt (with
//! the old token's digest) until the interval ends or the new refresh token is rotated in
//! turn. Re-deriving the pair needs all three: the database (salt), the key file (never in the
//! database) and the old refresh token in plain text (only the client has it). So a copy of
//! the database, or of the database and the key file, yields no token. What the interval
//! accepts is what any grace period accepts: a thief who replays a stolen old refresh token
//! inside it, before the client's next refresh, gets the client's pair instead of tripping
//! reuse detection (for a public client, "the same client" is only its client_id). The
//! interval bounds that: after it, or once the new refresh token is used, a replay revokes
//! the grant as before.
//!
//! [`Store::rotate_refresh`]: crate::store::GrantStore::rotate_refresh
//! [`Store::revoke_family`]: crate::store::GrantStore::revoke_family
//! [`ServerKeys::rotation_pair`]: crate::keys::ServerKeys::rotation_pair

use super::{token_record, TokenResponse};
use crate::domain::now;
use crate::domain::scope::ScopeSet;
use crate::domain::secret::{Kind, Secret};
use crate::oauth::OAuthError;
use crate::platform::Platform;
use crate::store::{Client, RetryWindow, Rotation};

/// Rotates `old` and answers the new pair.
pub async fn refresh(
    oauth: &Platform,
    client: &Client,
    old: &Secret,
    scope: Option<&ScopeSet>,
) -> Result<TokenResponse, OAuthError> {
    let info = oauth
        .store
        .refresh_token(old.digest())
        .await?
        .ok_or_else(|| OAuthError::invalid_grant("unknown refresh token"))?;
    // RFC 6749 §6: "the refresh token was issued to the authenticated client".
    if info.app_id != client.app_id {
        return Err(OAuthError::invalid_grant(
            "the refresh token was issued to another client",
        ));
    }
    // Tokens of one grant share its scopes; a narrower refresh would need per-token scopes.
    if scope.is_some_and(|asked| *asked != info.scopes) {
        return Err(OAuthError::invalid_scope(
            "a refresh keeps the grant's scopes; omit scope or repeat them exactly",
        ));
    }
    let at = now();
    let interval = oauth.config.refresh_reuse_interval;
    let (retry, (access, refresh)) = if interval > 0 {
        let mut salt = [0u8; 32];
        getrandom::fill(&mut salt).expect("the OS random source is available");
        let window = RetryWindow {
            salt,
            until: at + interval,
        };
        (Some(window), successor_pair(oauth, &salt, old))
    } else {
        (
            None,
            (
                Secret::generate(Kind::AccessToken),
                Secret::generate(Kind::RefreshToken),
            ),
        )
    };
    let access_rec = token_record(&access, oauth.config.access_ttl, at);
    let refresh_rec = token_record(&refresh, oauth.config.refresh_ttl, at);
    let answer = |access: &Secret, refresh: &Secret, expires_in: i64| {
        TokenResponse::bearer(access, expires_in, Some(refresh), &info.scopes)
    };
    match oauth
        .store
        .rotate_refresh(old.digest(), access_rec, refresh_rec, retry)
        .await?
    {
        Rotation::Rotated => Ok(answer(&access, &refresh, oauth.config.access_ttl)),
        // The reuse interval: a retry of a rotation whose answer was lost gets that answer.
        Rotation::AlreadyRotated {
            retry: Some(kept), ..
        } => {
            tracing::info!(client_id = %client.client_id, "refresh retried within the reuse interval; the same tokens are sent again");
            let (access, refresh) = successor_pair(oauth, &kept.salt, old);
            Ok(answer(
                &access,
                &refresh,
                (kept.access_expires_at - at).max(0),
            ))
        }
        // RFC 9700 §4.14.2: a rotated refresh token presented again means that it was stolen
        // (by whoever sent it now, or whoever sent its successor); the server cannot tell the
        // thief from the client, so it revokes the whole grant, "the active refresh token ...
        // and all access tokens".
        Rotation::AlreadyRotated {
            family,
            retry: None,
        } => {
            oauth.store.revoke_family(family, at).await?;
            tracing::warn!(client_id = %client.client_id, "refresh token reused; its grant is revoked");
            Err(OAuthError::invalid_grant(
                "the refresh token was already used; the grant is revoked",
            ))
        }
        // Expired, revoked, or its install is gone: a grant lives only while its install does.
        Rotation::Invalid => Err(OAuthError::invalid_grant(
            "the refresh token has expired or was revoked",
        )),
    }
}

/// The access and refresh token that rotating `old` with `salt` hands out.
fn successor_pair(oauth: &Platform, salt: &[u8; 32], old: &Secret) -> (Secret, Secret) {
    let (access, refresh) = oauth.keys.rotation_pair(salt, old.expose());
    (
        Secret::from_bytes(Kind::AccessToken, &access),
        Secret::from_bytes(Kind::RefreshToken, &refresh),
    )
}
