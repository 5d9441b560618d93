//! `grant_type=client_credentials` (RFC 6749 §4.4): a confidential client acting for itself,
//! with no user, company or refresh token.

use super::{new_token, TokenResponse};
use crate::domain::now;
use crate::domain::scope::ScopeSet;
use crate::domain::secret::Kind;
use crate::oauth::OAuthError;
use crate::platform::Platform;
use crate::store::{Client, Grant, Issue};

/// Issues an access token to the client itself.
pub async fn issue(
    oauth: &Platform,
    client: &Client,
    scope: Option<ScopeSet>,
) -> Result<TokenResponse, OAuthError> {
    // RFC 6749 §4.4: "MUST only be used by confidential clients".
    if client.is_public() {
        return Err(OAuthError::unauthorized_client(
            "public clients cannot use client_credentials",
        ));
    }
    let scopes = scope.unwrap_or_else(|| client.scopes.clone());
    if !scopes.is_subset(&client.scopes) || scopes.has_first_party() {
        return Err(OAuthError::invalid_scope(
            "the client may not ask for some of these scopes",
        ));
    }
    let at = now();
    let (access, access_rec) = new_token(Kind::AccessToken, oauth.config.access_ttl, at);
    let issued = oauth
        .store
        .issue(
            Grant {
                app_id: client.app_id,
                user_id: None,
                company_id: None,
                scopes: scopes.clone(),
                install_id: None,
            },
            None,
            access_rec,
            // RFC 6749 §4.4.3: "A refresh token SHOULD NOT be included".
            None,
        )
        .await?;
    if !matches!(issued, Issue::Issued { .. }) {
        // No install and no code: nothing can refuse this grant.
        return Err(OAuthError::internal(
            "a client credentials grant was refused by the store",
        ));
    }
    Ok(TokenResponse::bearer(
        &access,
        oauth.config.access_ttl,
        None,
        &scopes,
    ))
}
