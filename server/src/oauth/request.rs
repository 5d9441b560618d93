//! The protocol's requests, typed: raw parameters are read here once, at the boundary, and
//! nothing below matches on a parameter string.
//!
//! - [`AuthorizationRequest`]: `/oauth2/authorize` (RFC 6749 §4.1.1, §4.2.1; RFC 7636 §4.3),
//!   built from a query or form ([`AuthorizationRequest::parse`]) or by the dashboard's
//!   install API ([`AuthorizationRequest::from_fields`]);
//! - [`TokenRequest`]: `/oauth2/token`, one variant per `grant_type`, each with the client's
//!   authentication ([`ClientAuth`]);
//! - [`TokenHandle`]: the token named to `/oauth2/revoke` and `/oauth2/introspect`.

use super::client_auth::ClientAuth;
use super::oidc::OidcParams;
use super::params::Params;
use super::{pkce, ErrorCode, OAuthError};
use crate::domain::redirect::RedirectUri;
use crate::domain::scope::{ScopeError, ScopeSet};
use crate::domain::secret::Secret;

/// CODE (`response_type=code`) or TOKEN (`response_type=token`): the API's word.
pub use atrium_proto::ResponseType;

/// How the authorization response reaches the client (`response_mode`, OAuth 2.0 Multiple
/// Response Type Encoding Practices §2.1 and Form Post Response Mode).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResponseMode {
    /// In the redirect URI's query: CODE's default.
    Query,
    /// In the redirect URI's fragment: TOKEN's default.
    Fragment,
    /// In an HTML form the browser POSTs to the redirect URI: nothing in any URL.
    FormPost,
}

impl ResponseMode {
    pub fn parse(raw: &str) -> Option<ResponseMode> {
        match raw {
            "query" => Some(ResponseMode::Query),
            "fragment" => Some(ResponseMode::Fragment),
            "form_post" => Some(ResponseMode::FormPost),
            _ => None,
        }
    }

    /// The mode of a response type when the request names none.
    pub fn default_for(response_type: ResponseType) -> ResponseMode {
        match response_type {
            ResponseType::Code => ResponseMode::Query,
            ResponseType::Token => ResponseMode::Fragment,
        }
    }
}

/// An authorization request as the client sent it; `authorize::validate` checks it against
/// the client.
///
/// Errors after the client and redirect URI are kept, not returned: RFC 6749 §4.1.2.1 reports
/// them to the client only once its redirect URI is known to be registered, so
/// `authorize::validate` looks at them then.
#[derive(Debug, Clone)]
pub struct AuthorizationRequest {
    pub client_id: String,
    /// As sent; it becomes a [`RedirectUri`] only by matching a registered one.
    pub redirect_uri: Option<String>,
    pub state: Option<String>,
    pub response_type: Result<ResponseType, OAuthError>,
    /// The `response_mode` asked for, when it is one Atrium knows; an unknown one is an error
    /// in `details`, and errors then go back by the response type's default.
    pub response_mode: Option<ResponseMode>,
    /// Scope and PKCE, or the first error in the rest of the request.
    pub details: Result<Details, OAuthError>,
}

/// The parts of an authorization request that are checked once its redirect URI is trusted.
#[derive(Debug, Clone)]
pub struct Details {
    /// `None`: the client's registered scopes.
    pub scope: Option<ScopeSet>,
    /// A well-formed S256 challenge (RFC 7636 §4.2); only with `response_type=code`.
    pub code_challenge: Option<String>,
    /// `nonce`, `prompt` and `max_age` (OpenID Connect Core §3.1.2.1).
    pub oidc: OidcParams,
}

/// An authorization request's fields, before parsing. Empty values count as absent (RFC 6749
/// §3.1).
#[derive(Debug, Clone, Copy, Default)]
pub struct AuthorizationFields<'a> {
    pub client_id: &'a str,
    pub response_type: Option<&'a str>,
    pub redirect_uri: Option<&'a str>,
    pub scope: Option<&'a str>,
    pub state: Option<&'a str>,
    pub code_challenge: Option<&'a str>,
    pub code_challenge_method: Option<&'a str>,
    pub nonce: Option<&'a str>,
    pub prompt: Option<&'a str>,
    pub max_age: Option<&'a str>,
    pub response_mode: Option<&'a str>,
}

impl AuthorizationRequest {
    /// Reads a query or form. `Err` is about the client or the redirect URI, so it is shown
    /// to the user and never redirected.
    pub fn parse(p: &Params) -> Result<AuthorizationRequest, OAuthError> {
        let client_id = p.require("client_id")?;
        let redirect_uri = p.get("redirect_uri")?;
        // A repeated `state` is not echoed back: the repeat is the error reported.
        let state = p.get("state").ok().flatten();
        let mut req = Self::from_fields(AuthorizationFields {
            client_id,
            response_type: p.get("response_type").unwrap_or(None),
            redirect_uri,
            scope: p.get("scope").unwrap_or(None),
            state,
            code_challenge: p.get("code_challenge").unwrap_or(None),
            code_challenge_method: p.get("code_challenge_method").unwrap_or(None),
            nonce: p.get("nonce").unwrap_or(None),
            prompt: p.get("prompt").unwrap_or(None),
            max_age: p.get("max_age").unwrap_or(None),
            response_mode: p.get("response_mode").unwrap_or(None),
        });
        // A repeated response_type reads as absent above, and is reported as such first.
        if let Err(repeated) = p.no_repeats() {
            req.details = Err(repeated);
        }
        Ok(req)
    }

    /// Builds a request from its fields: the dashboard's install API, which has no query.
    pub fn from_fields(f: AuthorizationFields<'_>) -> AuthorizationRequest {
        let owned = |v: Option<&str>| present(v).map(str::to_string);
        let response_type = match present(f.response_type) {
            Some(raw) => raw.parse::<ResponseType>().map_err(|_| {
                OAuthError::new(
                    ErrorCode::UnsupportedResponseType,
                    "response_type must be code or token",
                )
            }),
            None => Err(missing_response_type()),
        };
        let response_mode = present(f.response_mode).and_then(ResponseMode::parse);
        let details = match present(f.response_mode) {
            Some(raw) if response_mode.is_none() => Err(OAuthError::invalid_request(format!(
                "response_mode {raw:?} is not supported: use query, fragment or form_post"
            ))),
            _ => Self::details(&f, response_type.as_ref().ok().copied()),
        };
        AuthorizationRequest {
            client_id: f.client_id.to_string(),
            redirect_uri: owned(f.redirect_uri),
            state: owned(f.state),
            response_type,
            response_mode,
            details,
        }
    }

    fn details(
        f: &AuthorizationFields<'_>,
        response_type: Option<ResponseType>,
    ) -> Result<Details, OAuthError> {
        let scope = match present(f.scope) {
            None => None,
            Some(raw) => Some(ScopeSet::parse(raw).map_err(|e| {
                OAuthError::invalid_scope(match e {
                    ScopeError::Unknown(s) => format!("unknown scope {s:?}"),
                    ScopeError::Malformed => "the scope parameter is malformed".into(),
                })
            })?),
        };
        let code_challenge = match present(f.code_challenge) {
            Some(_) if response_type == Some(ResponseType::Token) => {
                return Err(OAuthError::invalid_request(
                    "PKCE applies to response_type=code only",
                ))
            }
            Some(challenge) => {
                pkce::check_challenge(challenge, present(f.code_challenge_method))?;
                Some(challenge.to_string())
            }
            None => None,
        };
        let oidc = OidcParams::parse(present(f.nonce), present(f.prompt), present(f.max_age))?;
        Ok(Details {
            scope,
            code_challenge,
            oidc,
        })
    }
}

/// Empty values count as absent (RFC 6749 §3.1).
fn present(v: Option<&str>) -> Option<&str> {
    v.filter(|v| !v.is_empty())
}

fn missing_response_type() -> OAuthError {
    OAuthError::invalid_request("response_type is missing or repeated")
}

/// A token request (RFC 6749 §3.2): one variant per `grant_type`, each with how the client
/// authenticated.
#[derive(Debug)]
pub enum TokenRequest {
    /// RFC 6749 §4.1.3.
    AuthorizationCode {
        client: ClientAuth,
        code: Secret,
        redirect_uri: RedirectUri,
        code_verifier: Option<String>,
    },
    /// RFC 6749 §6.
    RefreshToken {
        client: ClientAuth,
        refresh_token: Secret,
        /// `None`: the grant's scopes.
        scope: Option<ScopeSet>,
    },
    /// RFC 6749 §4.4.
    ClientCredentials {
        client: ClientAuth,
        /// `None`: the client's registered scopes.
        scope: Option<ScopeSet>,
    },
}

impl TokenRequest {
    /// Reads a token request's form and `Authorization` header.
    pub fn parse(p: &Params, authorization: Option<&str>) -> Result<TokenRequest, OAuthError> {
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
        let client = ClientAuth::parse(p, authorization)?;
        let scope = || -> Result<Option<ScopeSet>, OAuthError> {
            p.get("scope")?
                .map(|raw| {
                    ScopeSet::parse(raw).map_err(|e| OAuthError::invalid_scope(e.to_string()))
                })
                .transpose()
        };
        Ok(match grant_type {
            "authorization_code" => TokenRequest::AuthorizationCode {
                code: Secret::from_client(p.require("code")?),
                redirect_uri: RedirectUri::absolute(p.require("redirect_uri")?).ok_or_else(
                    || {
                        OAuthError::invalid_grant(
                            "redirect_uri differs from the authorization request's",
                        )
                    },
                )?,
                code_verifier: p.get("code_verifier")?.map(str::to_string),
                client,
            },
            "refresh_token" => TokenRequest::RefreshToken {
                refresh_token: Secret::from_client(p.require("refresh_token")?),
                scope: scope()?,
                client,
            },
            _ => TokenRequest::ClientCredentials {
                scope: scope()?,
                client,
            },
        })
    }

    /// The `grant_type` this request was made with.
    pub fn grant_type(&self) -> &'static str {
        match self {
            TokenRequest::AuthorizationCode { .. } => "authorization_code",
            TokenRequest::RefreshToken { .. } => "refresh_token",
            TokenRequest::ClientCredentials { .. } => "client_credentials",
        }
    }

    pub fn client(&self) -> &ClientAuth {
        match self {
            TokenRequest::AuthorizationCode { client, .. }
            | TokenRequest::RefreshToken { client, .. }
            | TokenRequest::ClientCredentials { client, .. } => client,
        }
    }
}

/// What kind of token a revocation names (RFC 7009 §2.1 `token_type_hint`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenTypeHint {
    AccessToken,
    RefreshToken,
}

/// A token named to the revocation (RFC 7009 §2.1) or introspection (RFC 7662 §2.1) endpoint.
#[derive(Debug)]
pub struct TokenHandle {
    pub client: ClientAuth,
    pub token: Secret,
    /// An unknown hint is ignored, as RFC 7009 §2.1 allows.
    pub hint: Option<TokenTypeHint>,
}

impl TokenHandle {
    pub fn parse(p: &Params, authorization: Option<&str>) -> Result<TokenHandle, OAuthError> {
        p.no_repeats()?;
        let client = ClientAuth::parse(p, authorization)?;
        Ok(TokenHandle {
            token: Secret::from_client(p.require("token")?),
            hint: match p.get("token_type_hint")? {
                Some("access_token") => Some(TokenTypeHint::AccessToken),
                Some("refresh_token") => Some(TokenTypeHint::RefreshToken),
                _ => None,
            },
            client,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_grant_type_parses_into_its_own_variant() {
        let code = Params::parse(
            "grant_type=authorization_code&code=c&redirect_uri=https%3A%2F%2Fapp.example%2Fcb&client_id=a",
        );
        assert!(matches!(
            TokenRequest::parse(&code, None),
            Ok(TokenRequest::AuthorizationCode {
                client: ClientAuth::None { .. },
                ..
            })
        ));
        let refresh =
            Params::parse("grant_type=refresh_token&refresh_token=r&client_id=a&client_secret=s");
        assert!(matches!(
            TokenRequest::parse(&refresh, None),
            Ok(TokenRequest::RefreshToken {
                client: ClientAuth::Post { .. },
                scope: None,
                ..
            })
        ));
        let other = Params::parse("grant_type=password&client_id=a");
        assert_eq!(
            TokenRequest::parse(&other, None).unwrap_err().error,
            ErrorCode::UnsupportedGrantType
        );
    }

    #[test]
    fn authorization_errors_after_the_redirect_uri_are_kept_for_the_client() {
        let p = Params::parse("client_id=a&response_type=code&scope=nope&scope=x");
        let req = AuthorizationRequest::parse(&p).unwrap();
        assert_eq!(req.response_type.unwrap(), ResponseType::Code);
        assert!(req.details.unwrap_err().description.contains("repeated"));
        let p = Params::parse("client_id=a&client_id=b");
        assert!(AuthorizationRequest::parse(&p).is_err());
    }
}
