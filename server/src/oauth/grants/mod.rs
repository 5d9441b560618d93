//! The token endpoint (RFC 6749 §3.2): one module per `grant_type`, as the RFC has one
//! section per grant.
//!
//! - [`authorization_code`]: RFC 6749 §4.1.3, with PKCE (RFC 7636) and code replay (§4.1.2);
//! - [`refresh_token`]: RFC 6749 §6, with rotation and reuse detection (RFC 9700 §4.14.2);
//! - [`client_credentials`]: RFC 6749 §4.4.
//!
//! Each grant decides what a replay, a reuse or a removed install means, and says which RFC
//! asks for it; the store offers it primitives (consume-once, rotate-if-current,
//! revoke-family, issue-while-installed) that keep concurrent requests honest.

pub mod authorization_code;
pub mod client_credentials;
pub mod refresh_token;

use serde::Serialize;

use super::client_auth;
use super::request::TokenRequest;
use super::OAuthError;
use crate::domain::scope::ScopeSet;
use crate::domain::secret::{Kind, Secret};
use crate::platform::Platform;
use crate::store::NewToken;

/// A successful token response (RFC 6749 §5.1).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TokenResponse {
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    pub scope: String,
    /// OpenID Connect Core §3.1.3.3: with the `openid` scope, from a code exchange.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
}

impl TokenResponse {
    fn bearer(
        access: &Secret,
        expires_in: i64,
        refresh: Option<&Secret>,
        scopes: &ScopeSet,
    ) -> TokenResponse {
        TokenResponse {
            access_token: access.expose().to_string(),
            token_type: "Bearer",
            expires_in,
            refresh_token: refresh.map(|r| r.expose().to_string()),
            scope: scopes.to_string(),
            id_token: None,
        }
    }
}

/// `POST /oauth2/token`: authenticates the client, then runs its grant.
pub async fn exchange(oauth: &Platform, req: TokenRequest) -> Result<TokenResponse, OAuthError> {
    let client = client_auth::authenticate(oauth, req.client()).await?;
    match req {
        TokenRequest::AuthorizationCode {
            code,
            redirect_uri,
            code_verifier,
            ..
        } => {
            authorization_code::exchange(
                oauth,
                &client,
                &code,
                &redirect_uri,
                code_verifier.as_deref(),
            )
            .await
        }
        TokenRequest::RefreshToken {
            refresh_token,
            scope,
            ..
        } => refresh_token::refresh(oauth, &client, &refresh_token, scope.as_ref()).await,
        TokenRequest::ClientCredentials { scope, .. } => {
            client_credentials::issue(oauth, &client, scope).await
        }
    }
}

/// A fresh random token of `kind`, and the record that stores it.
fn new_token(kind: Kind, ttl: i64, at: i64) -> (Secret, NewToken) {
    let secret = Secret::generate(kind);
    let record = token_record(&secret, ttl, at);
    (secret, record)
}

fn token_record(secret: &Secret, ttl: i64, at: i64) -> NewToken {
    NewToken {
        digest: secret.digest(),
        issued_at: at,
        expires_at: at + ttl,
    }
}
