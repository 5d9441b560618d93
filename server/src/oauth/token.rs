//! The token endpoint (RFC 6749 §3.2, §4.1.3, §4.4, §6), revocation (RFC 7009) and
//! introspection (RFC 7662), with client authentication (RFC 6749 §2.3).

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde::Serialize;

use super::params::Params;
use super::{pkce, ErrorCode, OAuth, OAuthError};
use crate::domain::now;
use crate::domain::scope::ScopeSet;
use crate::domain::secret::{Kind, Secret, TokenDigest};
use crate::store::{Client, Grant, Issue, NewToken, Redeemed, RetryWindow, Rotation};

/// A successful token response (RFC 6749 §5.1).
#[derive(Debug, Clone, Serialize)]
pub struct TokenResponse {
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    pub scope: String,
}

/// An introspection answer (RFC 7662 §2.2). Inactive tokens answer `{"active": false}` only.
#[derive(Debug, Clone, Default, Serialize)]
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

/// Authenticates the client of a token, revocation or introspection request.
///
/// Accepted: `client_secret_basic` (the Authorization header), `client_secret_post` (form
/// fields), and, for public clients, `none` (client_id alone). Using two methods at once is an
/// error (RFC 6749 §2.3).
pub async fn authenticate(
    oauth: &OAuth,
    p: &Params,
    authorization: Option<&str>,
) -> Result<Client, OAuthError> {
    let body_id = p.get("client_id")?;
    let body_secret = p.get("client_secret")?;
    let (client_id, secret) = match authorization {
        Some(header) => {
            if body_secret.is_some() {
                return Err(OAuthError::invalid_request(
                    "use one client authentication method, not two",
                ));
            }
            let (id, secret) = parse_basic(header)?;
            if body_id.is_some_and(|b| b != id) {
                return Err(OAuthError::invalid_request(
                    "client_id differs from the authenticated client",
                ));
            }
            (id, Some(secret))
        }
        None => {
            let id = body_id
                .ok_or_else(|| OAuthError::invalid_client("client authentication is required"))?;
            (id.to_string(), body_secret.map(str::to_string))
        }
    };
    let client = oauth
        .store
        .client(&client_id)
        .await?
        .ok_or_else(|| OAuthError::invalid_client("unknown client or wrong secret"))?;
    match (&client.secret_digest, secret) {
        (Some(stored), Some(given)) if stored.matches(&TokenDigest::of(&given)) => Ok(client),
        (None, None) => Ok(client),
        (None, Some(_)) => Err(OAuthError::invalid_client(
            "this client is public and has no secret",
        )),
        _ => Err(OAuthError::invalid_client("unknown client or wrong secret")),
    }
}

/// `Authorization: Basic base64(urlencode(id) ":" urlencode(secret))` (RFC 6749 §2.3.1).
fn parse_basic(header: &str) -> Result<(String, String), OAuthError> {
    let bad = || OAuthError::invalid_client("malformed Basic authorization header");
    let (scheme, value) = header.trim().split_once(' ').ok_or_else(bad)?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return Err(bad());
    }
    let decoded = STANDARD.decode(value.trim()).map_err(|_| bad())?;
    let decoded = String::from_utf8(decoded).map_err(|_| bad())?;
    let (id, secret) = decoded.split_once(':').ok_or_else(bad)?;
    let unescape = |s: &str| -> String {
        url::form_urlencoded::parse(format!("x={s}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default()
    };
    Ok((unescape(id), unescape(secret)))
}

/// `POST /oauth2/token`.
pub async fn exchange(
    oauth: &OAuth,
    p: &Params,
    authorization: Option<&str>,
) -> Result<TokenResponse, OAuthError> {
    p.no_repeats()?;
    let grant_type = p.require("grant_type")?;
    if !matches!(
        grant_type,
        "authorization_code" | "refresh_token" | "client_credentials"
    ) {
        return Err(OAuthError::new(
            ErrorCode::UnsupportedGrantType,
            "grant_type must be authorization_code, refresh_token or client_credentials",
        ));
    }
    let client = authenticate(oauth, p, authorization).await?;
    match grant_type {
        "authorization_code" => authorization_code(oauth, p, &client).await,
        "refresh_token" => refresh(oauth, p, &client).await,
        _ => client_credentials(oauth, p, &client).await,
    }
}

fn new_token(kind: Kind, ttl: i64, at: i64) -> (Secret, NewToken) {
    let secret = Secret::generate(kind);
    let record = NewToken {
        digest: secret.digest(),
        issued_at: at,
        expires_at: at + ttl,
    };
    (secret, record)
}

async fn authorization_code(
    oauth: &OAuth,
    p: &Params,
    client: &Client,
) -> Result<TokenResponse, OAuthError> {
    if !client.allow_code {
        return Err(OAuthError::unauthorized_client(
            "this client may not use the authorization_code grant",
        ));
    }
    let code = Secret::from_client(p.require("code")?);
    let redirect_uri = p.require("redirect_uri")?;
    let verifier = p.get("code_verifier")?;
    let at = now();
    let grant = match oauth.store.redeem_code(code.digest(), at).await? {
        Redeemed::Fresh(grant) => grant,
        Redeemed::Replayed => {
            tracing::warn!(client_id = %client.client_id, "authorization code replayed; its tokens are revoked");
            return Err(OAuthError::invalid_grant(
                "the authorization code was already used",
            ));
        }
        Redeemed::Unknown => return Err(OAuthError::invalid_grant("unknown authorization code")),
    };
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
    if grant.redirect_uri != redirect_uri {
        return Err(OAuthError::invalid_grant(
            "redirect_uri differs from the authorization request's",
        ));
    }
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
        // A concurrent request replayed the code after we redeemed it: RFC 6749 §4.1.2 asks
        // to revoke what the code issued, so it issues nothing.
        Issue::CodeSpent => {
            tracing::warn!(client_id = %client.client_id, "authorization code replayed during its exchange; nothing is issued");
            return Err(OAuthError::invalid_grant(
                "the authorization code was already used",
            ));
        }
        Issue::InstallGone => {
            return Err(OAuthError::invalid_grant(
                "the app was uninstalled from the company this code was issued for",
            ))
        }
    }
    Ok(TokenResponse {
        access_token: access.expose().to_string(),
        token_type: "Bearer",
        expires_in: oauth.config.access_ttl,
        refresh_token: Some(refresh.expose().to_string()),
        scope: grant.scopes.to_string(),
    })
}

/// `grant_type=refresh_token` (RFC 6749 §6), with rotation and reuse detection (RFC 9700
/// §4.14.2): each refresh token works once; presenting a rotated one revokes the grant.
///
/// One exception, the reuse interval (`OAuthConfig::refresh_reuse_interval`): a client whose
/// rotation committed but whose answer was lost (the server died, the connection dropped)
/// retries with the token it still holds. Within the interval, by the same client, while the
/// new refresh token is unused and the grant live, that retry gets the same new pair again.
///
/// Only digests of tokens are stored, so the pair cannot be read back. Instead, when the
/// interval is on, the pair is derived rather than drawn: from a fresh random salt, the server
/// key and the old refresh token ([`ServerKeys::rotation_pair`]). The store keeps the salt (with
/// the old token's digest) until the interval ends or the new refresh token is rotated in
/// turn. Re-deriving the pair needs all three: the database (salt), the key file (never in the
/// database) and the old refresh token in plain text (only the client has it). So a copy of
/// the database, or of the database and the key file, yields no token. What the interval
/// accepts is what any grace period accepts: a thief who replays a stolen old refresh token
/// inside it, before the client's next refresh, gets the client's pair instead of tripping
/// reuse detection (for a public client, "the same client" is only its client_id). The
/// interval bounds that: after it, or once the new refresh token is used, a replay revokes
/// the grant as before.
///
/// [`ServerKeys::rotation_pair`]: crate::keys::ServerKeys::rotation_pair
async fn refresh(oauth: &OAuth, p: &Params, client: &Client) -> Result<TokenResponse, OAuthError> {
    let old = Secret::from_client(p.require("refresh_token")?);
    let info = oauth
        .store
        .refresh_token(old.digest())
        .await?
        .ok_or_else(|| OAuthError::invalid_grant("unknown refresh token"))?;
    if info.app_id != client.app_id {
        return Err(OAuthError::invalid_grant(
            "the refresh token was issued to another client",
        ));
    }
    if let Some(raw) = p.get("scope")? {
        let asked = ScopeSet::parse(raw).map_err(|e| OAuthError::invalid_scope(e.to_string()))?;
        // Tokens of one grant share its scopes; a narrower refresh would need per-token scopes.
        if asked != info.scopes {
            return Err(OAuthError::invalid_scope(
                "a refresh keeps the grant's scopes; omit scope or repeat them exactly",
            ));
        }
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
        (Some(window), successor_pair(oauth, &salt, &old))
    } else {
        (
            None,
            (
                Secret::generate(Kind::AccessToken),
                Secret::generate(Kind::RefreshToken),
            ),
        )
    };
    let record = |s: &Secret, ttl: i64| NewToken {
        digest: s.digest(),
        issued_at: at,
        expires_at: at + ttl,
    };
    let access_rec = record(&access, oauth.config.access_ttl);
    let refresh_rec = record(&refresh, oauth.config.refresh_ttl);
    let answer = |access: Secret, refresh: Secret, expires_in: i64| TokenResponse {
        access_token: access.expose().to_string(),
        token_type: "Bearer",
        expires_in,
        refresh_token: Some(refresh.expose().to_string()),
        scope: info.scopes.to_string(),
    };
    match oauth
        .store
        .rotate_refresh(old.digest(), access_rec, refresh_rec, retry)
        .await?
    {
        Rotation::Rotated => Ok(answer(access, refresh, oauth.config.access_ttl)),
        Rotation::Retry {
            salt,
            access_expires_at,
        } => {
            tracing::info!(client_id = %client.client_id, "refresh retried within the reuse interval; the same tokens are sent again");
            let (access, refresh) = successor_pair(oauth, &salt, &old);
            Ok(answer(access, refresh, (access_expires_at - at).max(0)))
        }
        Rotation::Reused => {
            tracing::warn!(client_id = %client.client_id, "refresh token reused; its grant is revoked");
            Err(OAuthError::invalid_grant(
                "the refresh token was already used; the grant is revoked",
            ))
        }
        Rotation::Invalid => Err(OAuthError::invalid_grant(
            "the refresh token has expired or was revoked",
        )),
    }
}

/// The access and refresh token that rotating `old` with `salt` hands out.
fn successor_pair(oauth: &OAuth, salt: &[u8; 32], old: &Secret) -> (Secret, Secret) {
    let (access, refresh) = oauth.keys.rotation_pair(salt, old.expose());
    (
        Secret::from_bytes(Kind::AccessToken, &access),
        Secret::from_bytes(Kind::RefreshToken, &refresh),
    )
}

async fn client_credentials(
    oauth: &OAuth,
    p: &Params,
    client: &Client,
) -> Result<TokenResponse, OAuthError> {
    if client.is_public() {
        return Err(OAuthError::unauthorized_client(
            "public clients cannot use client_credentials",
        ));
    }
    let scopes = match p.get("scope")? {
        Some(raw) => ScopeSet::parse(raw).map_err(|e| OAuthError::invalid_scope(e.to_string()))?,
        None => client.scopes.clone(),
    };
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
            None,
        )
        .await?;
    if !matches!(issued, Issue::Issued { .. }) {
        // No install and no code: nothing can refuse this grant.
        return Err(OAuthError::server_error());
    }
    Ok(TokenResponse {
        access_token: access.expose().to_string(),
        token_type: "Bearer",
        expires_in: oauth.config.access_ttl,
        refresh_token: None,
        scope: scopes.to_string(),
    })
}

/// `POST /oauth2/revoke` (RFC 7009). Revoking a refresh token revokes its whole grant.
/// Unknown tokens, and tokens of other clients, are answered with success and left alone.
pub async fn revoke(
    oauth: &OAuth,
    p: &Params,
    authorization: Option<&str>,
) -> Result<(), OAuthError> {
    p.no_repeats()?;
    let client = authenticate(oauth, p, authorization).await?;
    let token = Secret::from_client(p.require("token")?);
    let digest = token.digest();
    let hint = p.get("token_type_hint")?;
    let refresh_first = hint == Some("refresh_token");
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

/// `POST /oauth2/introspect` (RFC 7662): confidential clients, about their own tokens.
pub async fn introspect(
    oauth: &OAuth,
    p: &Params,
    authorization: Option<&str>,
) -> Result<Introspection, OAuthError> {
    p.no_repeats()?;
    let client = authenticate(oauth, p, authorization).await?;
    if client.is_public() {
        return Err(OAuthError::invalid_client(
            "introspection requires a confidential client",
        ));
    }
    let digest = Secret::from_client(p.require("token")?).digest();
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_credentials_are_form_decoded() {
        let header = format!("Basic {}", STANDARD.encode("my%3Aapp:s%2Bcret"));
        assert_eq!(
            parse_basic(&header).unwrap(),
            ("my:app".to_string(), "s+cret".to_string())
        );
        assert!(parse_basic("Bearer abc").is_err());
        assert!(parse_basic("Basic !!!").is_err());
    }
}
