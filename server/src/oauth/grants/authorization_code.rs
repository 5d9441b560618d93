//! `grant_type=authorization_code` (RFC 6749 §4.1.3): a code, once, by the client it was
//! issued to, at the redirect URI it was sent to, with its PKCE verifier (RFC 7636 §4.6).

use super::{new_token, TokenResponse};
use crate::domain::now;
use crate::domain::redirect::RedirectUri;
use crate::domain::secret::{Kind, Secret};
use crate::oauth::{oidc, pkce, OAuthError};
use crate::platform::Platform;
use crate::store::{Client, CodeClaims, Consumed, Grant, Issue};

/// Exchanges a code for an access token and a refresh token.
pub async fn exchange(
    oauth: &Platform,
    client: &Client,
    code: &Secret,
    redirect_uri: &RedirectUri,
    verifier: Option<&str>,
) -> Result<TokenResponse, OAuthError> {
    if !client.allow_code {
        return Err(OAuthError::unauthorized_client(
            "this client may not use the authorization_code grant",
        ));
    }
    let at = now();
    let grant = match oauth.store.consume_code(code.digest(), at).await? {
        Consumed::Fresh(grant) => grant,
        // RFC 6749 §4.1.2: "If an authorization code is used more than once, the
        // authorization server MUST deny the request and SHOULD revoke (when possible) all
        // tokens previously issued based on that authorization code" (also §10.5, RFC 9700
        // §4.2.4). Whoever presents it second, the thief or the client, the grant ends.
        Consumed::Already { family } => {
            if let Some(family) = family {
                oauth.store.revoke_family(family, at).await?;
            }
            tracing::warn!(client_id = %client.client_id, "authorization code replayed; its tokens are revoked");
            return Err(code_used());
        }
        Consumed::Unknown => return Err(OAuthError::invalid_grant("unknown authorization code")),
    };
    // RFC 6749 §4.1.3: the code was issued to this client...
    if grant.app_id != client.app_id {
        return Err(OAuthError::invalid_grant(
            "the authorization code was issued to another client",
        ));
    }
    if grant.expires_at <= at {
        return Err(OAuthError::invalid_grant(
            "the authorization code has expired",
        ));
    }
    // ... and its redirect_uri is the one the authorization request named.
    if grant.redirect_uri != *redirect_uri {
        return Err(OAuthError::invalid_grant(
            "redirect_uri differs from the authorization request's",
        ));
    }
    // RFC 7636 §4.6: a code with a challenge needs its verifier, and only such a code has one.
    match (&grant.code_challenge, verifier) {
        (Some(challenge), Some(v)) if pkce::verify(v, challenge) => {}
        (Some(_), Some(_)) => {
            return Err(OAuthError::invalid_grant("code_verifier does not match"))
        }
        (Some(_), None) => return Err(OAuthError::invalid_grant("code_verifier is missing")),
        (None, Some(_)) => {
            return Err(OAuthError::invalid_grant(
                "code_verifier sent for a request that had no code_challenge",
            ))
        }
        (None, None) => {}
    }
    let (access, access_rec) = new_token(Kind::AccessToken, oauth.config.access_ttl, at);
    let (refresh, refresh_rec) = new_token(Kind::RefreshToken, oauth.config.refresh_ttl, at);
    let issued = oauth
        .store
        .issue(
            Grant {
                app_id: client.app_id,
                user_id: Some(grant.user_id),
                company_id: grant.company_id,
                scopes: grant.scopes.clone(),
                install_id: grant.install_id,
            },
            Some(code.digest()),
            access_rec,
            Some(refresh_rec),
        )
        .await?;
    match issued {
        Issue::Issued { .. } => {}
        // A concurrent request presented the code again after we consumed it, before our
        // tokens were written, and found nothing to revoke: RFC 6749 §4.1.2 asks that what
        // the code issued be revoked, so it issues nothing.
        Issue::CodeSpent => {
            tracing::warn!(client_id = %client.client_id, "authorization code replayed during its exchange; nothing is issued");
            return Err(code_used());
        }
        // A token is only issued while the install it is for is active: an owner removed the
        // app since the user approved it.
        Issue::InstallGone => {
            return Err(OAuthError::invalid_grant(
                "the app was uninstalled from the company this code was issued for",
            ))
        }
    }
    let mut response = TokenResponse::bearer(
        &access,
        oauth.config.access_ttl,
        Some(&refresh),
        &grant.scopes,
    );
    // OpenID Connect Core §3.1.3.3: the `openid` scope asks for an ID token.
    if grant.scopes.contains("openid") {
        let claims = oauth
            .store
            .code_claims(code.digest())
            .await?
            .unwrap_or(CodeClaims {
                nonce: None,
                auth_time: None,
            });
        response.id_token =
            Some(oidc::id_token(oauth, client, grant.user_id, &claims, access.expose()).await?);
    }
    Ok(response)
}

fn code_used() -> OAuthError {
    OAuthError::invalid_grant("the authorization code was already used")
}
