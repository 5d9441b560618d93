//! `POST /oauth2/revoke` (RFC 7009).

use super::client_auth;
use super::request::{TokenHandle, TokenTypeHint};
use super::OAuthError;
use crate::domain::now;
use crate::platform::Platform;

/// Revokes a token of the authenticated client. Revoking a refresh token revokes its whole
/// grant, as RFC 7009 §2.1 allows ("the authorization server SHOULD also invalidate the
/// access token" ... "all tokens based on the same authorization grant"). Unknown tokens, and
/// tokens of other clients, are answered with success and left alone (RFC 7009 §2.2).
pub async fn revoke(oauth: &Platform, req: TokenHandle) -> Result<(), OAuthError> {
    let client = client_auth::authenticate(oauth, &req.client).await?;
    let digest = req.token.digest();
    // The hint says where to look first (RFC 7009 §2.1); both kinds are looked for.
    let refresh_first = req.hint == Some(TokenTypeHint::RefreshToken);
    for round in 0..2 {
        let try_refresh = (round == 0) == refresh_first;
        if try_refresh {
            if let Some(info) = oauth.store.refresh_token(digest).await? {
                if info.app_id == client.app_id {
                    oauth.store.revoke_family(info.family_id, now()).await?;
                }
                return Ok(());
            }
        } else if let Some(info) = oauth.store.access_token(digest, now()).await? {
            if info.app_id == client.app_id {
                oauth.store.revoke_access(digest).await?;
            }
            return Ok(());
        }
    }
    Ok(())
}
