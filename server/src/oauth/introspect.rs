//! `POST /oauth2/introspect` (RFC 7662).

use serde::Serialize;

use super::client_auth;
use super::request::TokenHandle;
use super::OAuthError;
use crate::domain::now;
use crate::platform::Platform;

/// An introspection answer (RFC 7662 §2.2). Inactive tokens answer `{"active": false}` only.
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct Introspection {
    pub active: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_type: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exp: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iat: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sub: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iss: Option<String>,
}

/// Confidential clients, about their own tokens (RFC 7662 §2.1, §4: a client learns nothing
/// of another's tokens).
pub async fn introspect(oauth: &Platform, req: TokenHandle) -> Result<Introspection, OAuthError> {
    let client = client_auth::authenticate(oauth, &req.client).await?;
    if client.is_public() {
        return Err(OAuthError::invalid_client(
            "introspection requires a confidential client",
        ));
    }
    let digest = req.token.digest();
    let at = now();
    if let Some(info) = oauth.store.access_token(digest, at).await? {
        if info.app_id == client.app_id {
            return Ok(Introspection {
                active: true,
                scope: Some(info.scopes.to_string()),
                client_id: Some(info.client_id),
                sub: info.user_id.map(|u| u.to_string()),
                username: info.username,
                token_type: Some("Bearer"),
                exp: Some(info.expires_at),
                iat: Some(info.issued_at),
                iss: Some(oauth.config.issuer.clone()),
            });
        }
    } else if let Some(info) = oauth.store.refresh_token(digest).await? {
        if info.app_id == client.app_id && !info.rotated && !info.revoked && info.expires_at > at {
            return Ok(Introspection {
                active: true,
                scope: Some(info.scopes.to_string()),
                client_id: Some(client.client_id),
                token_type: Some("refresh_token"),
                exp: Some(info.expires_at),
                iss: Some(oauth.config.issuer.clone()),
                ..Introspection::default()
            });
        }
    }
    Ok(Introspection::default())
}
