//! Client authentication at the token, revocation and introspection endpoints (RFC 6749 §2.3).
//!
//! Accepted: `client_secret_basic` (the Authorization header), `client_secret_post` (form
//! fields), and, for public clients, `none` (client_id alone). Using two methods at once is an
//! error (RFC 6749 §2.3).

use base64::engine::general_purpose::STANDARD;
use base64::Engine;

use super::params::Params;
use super::OAuthError;
use crate::domain::secret::Secret;
use crate::platform::Platform;
use crate::store::Client;

/// How a request authenticates its client, as sent; [`authenticate`] checks it.
#[derive(Debug)]
pub enum ClientAuth {
    /// `client_secret_basic` (RFC 6749 §2.3.1).
    Basic { client_id: String, secret: Secret },
    /// `client_secret_post` (RFC 6749 §2.3.1).
    Post { client_id: String, secret: Secret },
    /// `none`: a public client names itself (RFC 6749 §2.1, RFC 8252 §8.4).
    None { client_id: String },
}

impl ClientAuth {
    /// Reads the `Authorization` header and the `client_id` / `client_secret` fields.
    pub fn parse(p: &Params, authorization: Option<&str>) -> Result<ClientAuth, OAuthError> {
        let body_id = p.get("client_id")?;
        let body_secret = p.get("client_secret")?;
        match authorization {
            Some(header) => {
                if body_secret.is_some() {
                    return Err(OAuthError::invalid_request(
                        "use one client authentication method, not two",
                    ));
                }
                let (client_id, secret) = parse_basic(header)?;
                if body_id.is_some_and(|b| b != client_id) {
                    return Err(OAuthError::invalid_request(
                        "client_id differs from the authenticated client",
                    ));
                }
                Ok(ClientAuth::Basic {
                    client_id,
                    secret: Secret::from_client(&secret),
                })
            }
            None => {
                let client_id = body_id
                    .ok_or_else(|| OAuthError::invalid_client("client authentication is required"))?
                    .to_string();
                Ok(match body_secret {
                    Some(secret) => ClientAuth::Post {
                        client_id,
                        secret: Secret::from_client(secret),
                    },
                    None => ClientAuth::None { client_id },
                })
            }
        }
    }

    pub fn client_id(&self) -> &str {
        match self {
            ClientAuth::Basic { client_id, .. }
            | ClientAuth::Post { client_id, .. }
            | ClientAuth::None { client_id } => client_id,
        }
    }

    fn secret(&self) -> Option<&Secret> {
        match self {
            ClientAuth::Basic { secret, .. } | ClientAuth::Post { secret, .. } => Some(secret),
            ClientAuth::None { .. } => None,
        }
    }
}

/// The client, if its credentials are right: a confidential client proves its secret, a
/// public one has none to prove (and must not send one).
pub async fn authenticate(oauth: &Platform, auth: &ClientAuth) -> Result<Client, OAuthError> {
    let client = oauth
        .store
        .client(auth.client_id())
        .await?
        .ok_or_else(|| OAuthError::invalid_client("unknown client or wrong secret"))?;
    match (&client.secret_digest, auth.secret()) {
        (Some(stored), Some(given)) if stored.matches(&given.digest()) => Ok(client),
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

    #[test]
    fn the_method_is_typed_and_two_at_once_are_refused() {
        let header = format!("Basic {}", STANDARD.encode("app:secret"));
        let p = Params::parse("client_id=app");
        assert!(matches!(
            ClientAuth::parse(&p, Some(&header)),
            Ok(ClientAuth::Basic { .. })
        ));
        let p = Params::parse("client_id=app&client_secret=s");
        assert!(ClientAuth::parse(&p, Some(&header)).is_err());
        assert!(matches!(
            ClientAuth::parse(&p, None),
            Ok(ClientAuth::Post { .. })
        ));
        let p = Params::parse("client_id=app");
        assert!(matches!(
            ClientAuth::parse(&p, None),
            Ok(ClientAuth::None { .. })
        ));
    }
}
