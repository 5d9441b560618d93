//! The authorization endpoint's logic (RFC 6749 §4.1.1, §4.2.1; RFC 9700).
//!
//! [`validate`] checks a request in the order that keeps users safe: first the client and its
//! redirect URI — while either is in doubt, errors are shown to the user and never redirected
//! (RFC 6749 §4.1.2.1) — then everything else, whose errors go back to the client.

use url::Url;

use super::oidc::OidcParams;
use super::request::{AuthorizationRequest, ResponseMode, ResponseType};
use super::{ErrorCode, OAuthError};
use crate::domain::now;
use crate::domain::redirect::{self, RedirectUri};
use crate::domain::scope::ScopeSet;
use crate::domain::secret::{Kind, Secret};
use crate::platform::Platform;
use crate::store::{Client, CodeClaims, CodeGrant, Grant, Install, Issue, NewToken};

/// An authorization request that passed every check.
#[derive(Debug, Clone)]
pub struct ValidRequest {
    pub client: Client,
    pub response_type: ResponseType,
    /// How the response goes back: asked for, or the response type's default.
    pub response_mode: ResponseMode,
    pub redirect_uri: RedirectUri,
    pub scopes: ScopeSet,
    pub state: Option<String>,
    pub code_challenge: Option<String>,
    /// `nonce`, `prompt`, `max_age` (OpenID Connect).
    pub oidc: OidcParams,
}

impl ValidRequest {
    /// An OpenID Connect request: the `openid` scope, which asks for an ID token.
    pub fn is_openid(&self) -> bool {
        self.scopes.contains("openid")
    }

    /// An error for the client at its redirect URI (such as OpenID Connect's
    /// `login_required`, Core §3.1.2.6).
    pub fn error(&self, error: OAuthError) -> ClientError {
        ClientError {
            error,
            redirect_uri: self.redirect_uri.clone(),
            mode: self.response_mode,
            state: self.state.clone(),
        }
    }
}

/// An authorization response (a code, a token or an error) and how it reaches the client.
#[derive(Debug, Clone)]
pub struct AuthResponse {
    pub redirect_uri: RedirectUri,
    pub mode: ResponseMode,
    pub params: Vec<(&'static str, String)>,
}

impl AuthResponse {
    /// The redirect URI with the parameters in its query or fragment; `None` for `form_post`,
    /// whose parameters travel in a form ([`AuthResponse::params`]) and never in a URL.
    pub fn redirect_url(&self) -> Option<Url> {
        let mut url = self.redirect_uri.url().clone();
        match self.mode {
            ResponseMode::Query => {
                let mut q = url.query_pairs_mut();
                for (k, v) in &self.params {
                    q.append_pair(k, v);
                }
            }
            ResponseMode::Fragment => {
                let mut f = url::form_urlencoded::Serializer::new(String::new());
                for (k, v) in &self.params {
                    f.append_pair(k, v);
                }
                url.set_fragment(Some(&f.finish()));
            }
            ResponseMode::FormPost => return None,
        }
        Some(url)
    }
}

/// Why a request failed.
#[derive(Debug, Clone)]
pub enum AuthorizeError {
    /// The client or its redirect URI is not trustworthy: tell the user, redirect nowhere.
    Page(String),
    /// Tell the client, at its (verified) redirect URI ([`ClientError::redirect`]).
    Client(ClientError),
    /// The server failed (a `server_error` with its cause): tell the user, log it once.
    Internal(OAuthError),
}

/// An error for the client, and where it goes back (RFC 6749 §4.1.2.1, §4.2.2.1).
#[derive(Debug, Clone)]
pub struct ClientError {
    pub error: OAuthError,
    redirect_uri: RedirectUri,
    /// How the error goes back: the request's response mode.
    mode: ResponseMode,
    state: Option<String>,
}

impl ClientError {
    /// The error, `state` and `iss` (RFC 9207) for the client's redirect URI.
    pub fn response(&self, issuer: &str) -> AuthResponse {
        let mut params = vec![
            ("error", self.error.error.as_str().to_string()),
            ("error_description", self.error.description.to_string()),
        ];
        if let Some(s) = &self.state {
            params.push(("state", s.clone()));
        }
        params.push(("iss", issuer.to_string()));
        AuthResponse {
            redirect_uri: self.redirect_uri.clone(),
            mode: self.mode,
            params,
        }
    }
}

/// Checks an authorization request against its client.
pub async fn validate(
    oauth: &Platform,
    req: AuthorizationRequest,
) -> Result<ValidRequest, AuthorizeError> {
    let client_id = &req.client_id;
    let client = oauth
        .store
        .client(client_id)
        .await
        .map_err(|e| AuthorizeError::Internal(e.into()))?
        .ok_or_else(|| {
            AuthorizeError::Page(format!("There is no app with client_id {client_id:?}."))
        })?;
    let redirect_uri = match &req.redirect_uri {
        Some(uri) => redirect::matching(&client.redirect_uris, uri, client.loopback_any_port())
            .ok_or_else(|| {
                AuthorizeError::Page(format!(
                    "The redirect_uri {uri:?} is not registered for {}.",
                    client.name
                ))
            })?,
        // RFC 6749 §3.1.2.3: may be omitted only when exactly one URI is registered.
        None if client.redirect_uris.len() == 1 => RedirectUri::absolute(&client.redirect_uris[0])
            .ok_or_else(|| {
                AuthorizeError::Page("The registered redirect_uri is not a URL.".into())
            })?,
        None => {
            return Err(AuthorizeError::Page(
                "The request has no redirect_uri and the app registered several.".into(),
            ))
        }
    };

    // From here the redirect URI is trusted; `state` goes back with every error.
    let to_client = |mode, error| {
        AuthorizeError::Client(ClientError {
            error,
            redirect_uri: redirect_uri.clone(),
            mode,
            state: req.state.clone(),
        })
    };
    let asked_mode = req.response_mode;
    let response_type = req.response_type.map_err(|e| {
        to_client(
            asked_mode.unwrap_or(ResponseMode::default_for(ResponseType::Code)),
            e,
        )
    })?;
    // Tokens never travel in a query (Multiple Response Types §2.1): such a request's error
    // goes back the TOKEN way, in the fragment.
    let response_mode = match asked_mode {
        Some(ResponseMode::Query) if response_type == ResponseType::Token => {
            return Err(to_client(
                ResponseMode::Fragment,
                OAuthError::invalid_request("response_mode=query cannot carry a token"),
            ));
        }
        Some(mode) => mode,
        None => ResponseMode::default_for(response_type),
    };
    let fail = |e: OAuthError| to_client(response_mode, e);
    let details = req.details.map_err(fail)?;
    let allowed = match response_type {
        ResponseType::Code => client.allow_code,
        ResponseType::Token => client.allow_token,
    };
    if !allowed {
        return Err(fail(OAuthError::unauthorized_client(
            "this app is not registered for this response_type",
        )));
    }

    let scopes = details.scope.unwrap_or_else(|| client.scopes.clone());
    if !scopes.is_subset(&client.scopes) {
        return Err(fail(OAuthError::invalid_scope(
            "the app may not ask for some of these scopes",
        )));
    }
    // OpenID Connect's implicit flow answers `id_token`, which Atrium does not issue: the
    // TOKEN method carries no ID token, so `openid` there would promise one and send none.
    if scopes.contains("openid") && response_type == ResponseType::Token {
        return Err(fail(OAuthError::invalid_scope(
            "the openid scope needs response_type=code",
        )));
    }
    if scopes.has_first_party() && !client.first_party {
        return Err(fail(OAuthError::invalid_scope(
            "the dashboard scope is reserved for Atrium",
        )));
    }
    // RFC 9700 §2.1.1: public clients must use PKCE.
    if details.code_challenge.is_none() && client.is_public() && response_type == ResponseType::Code
    {
        return Err(fail(OAuthError::invalid_request(
            "public clients must use PKCE (code_challenge with S256)",
        )));
    }

    Ok(ValidRequest {
        client,
        response_type,
        response_mode,
        redirect_uri,
        scopes,
        state: req.state,
        code_challenge: details.code_challenge,
        oidc: details.oidc,
    })
}

/// What an approval produced.
#[derive(Debug, Clone)]
pub struct Approval {
    /// What goes back to the client: the code or the token, by the request's response mode.
    pub response: AuthResponse,
    /// The install recorded, when the app was approved for a company.
    pub install: Option<Install>,
}

/// The user allowed the request: record the install (when it is for a company, which the caller
/// checked the user owns), issue a code or a token, and answer where to send the user. The
/// dashboard's install API and the HTML consent page both come here. `auth_time` is when the
/// user signed in, when known (it goes into the ID token).
pub async fn approve(
    oauth: &Platform,
    req: &ValidRequest,
    user_id: i64,
    company_id: Option<i64>,
    auth_time: Option<i64>,
) -> Result<Approval, OAuthError> {
    let install = match company_id {
        Some(company) => {
            let recorded = oauth
                .store
                .record_install(req.client.app_id, company, user_id, req.scopes.clone())
                .await?;
            if recorded.queued {
                oauth.outbox.notify_one();
            }
            Some(recorded.install)
        }
        None => None,
    };
    issue(oauth, req, user_id, install, auth_time).await
}

/// `prompt=none` for an app already installed, with these scopes, in a company of the user's:
/// a code under that install, with no page and no new install (OpenID Connect Core §3.1.2.1).
pub async fn approve_installed(
    oauth: &Platform,
    req: &ValidRequest,
    user_id: i64,
    install: Install,
    auth_time: i64,
) -> Result<Approval, OAuthError> {
    issue(oauth, req, user_id, Some(install), Some(auth_time)).await
}

/// Issues the code or token of an approved request, under `install` when there is one.
async fn issue(
    oauth: &Platform,
    req: &ValidRequest,
    user_id: i64,
    install: Option<Install>,
    auth_time: Option<i64>,
) -> Result<Approval, OAuthError> {
    let at = now();
    let mut params: Vec<(&'static str, String)> = Vec::new();
    let install_id = install.as_ref().map(|i| i.id);
    let company_id = install.as_ref().map(|i| i.company_id);
    match req.response_type {
        ResponseType::Code => {
            let code = Secret::generate(Kind::AuthorizationCode);
            let saved = oauth
                .store
                .save_code(
                    code.digest(),
                    CodeGrant {
                        app_id: req.client.app_id,
                        user_id,
                        company_id,
                        redirect_uri: req.redirect_uri.clone(),
                        scopes: req.scopes.clone(),
                        code_challenge: req.code_challenge.clone(),
                        expires_at: at + oauth.config.code_ttl,
                        install_id,
                    },
                )
                .await?;
            if !saved {
                return Err(uninstalled_meanwhile());
            }
            if req.is_openid() {
                // Written before the code leaves the server, so its exchange finds them.
                let claims = CodeClaims {
                    nonce: req.oidc.nonce.clone(),
                    auth_time,
                };
                oauth.store.set_code_claims(code.digest(), claims).await?;
            }
            params.push(("code", code.expose().to_string()));
        }
        ResponseType::Token => {
            let token = Secret::generate(Kind::AccessToken);
            let issued = oauth
                .store
                .issue(
                    Grant {
                        app_id: req.client.app_id,
                        user_id: Some(user_id),
                        company_id,
                        scopes: req.scopes.clone(),
                        install_id,
                    },
                    None,
                    NewToken {
                        digest: token.digest(),
                        issued_at: at,
                        expires_at: at + oauth.config.implicit_ttl,
                    },
                    // Never a refresh token by the implicit method.
                    None,
                )
                .await?;
            if !matches!(issued, Issue::Issued { .. }) {
                return Err(uninstalled_meanwhile());
            }
            params.extend([
                ("access_token", token.expose().to_string()),
                ("token_type", "Bearer".to_string()),
                ("expires_in", oauth.config.implicit_ttl.to_string()),
                ("scope", req.scopes.to_string()),
            ]);
        }
    }
    if let Some(s) = &req.state {
        params.push(("state", s.clone()));
    }
    // RFC 9207: lets the client detect mix-up attacks.
    params.push(("iss", oauth.config.issuer.clone()));
    Ok(Approval {
        response: AuthResponse {
            redirect_uri: req.redirect_uri.clone(),
            mode: req.response_mode,
            params,
        },
        install,
    })
}

/// The install this approval recorded was removed before its code or token was written (by
/// an owner, concurrently): nothing was issued.
fn uninstalled_meanwhile() -> OAuthError {
    OAuthError::new(
        ErrorCode::AccessDenied,
        "the app was uninstalled while this request was being approved",
    )
}

/// The user refused: `access_denied` back to the client.
pub fn deny(oauth: &Platform, req: &ValidRequest) -> AuthResponse {
    req.error(OAuthError::new(
        ErrorCode::AccessDenied,
        "the user refused the request",
    ))
    .response(&oauth.config.issuer)
}
