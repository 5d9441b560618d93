//! The authorization endpoint's logic (RFC 6749 §4.1.1, §4.2.1; RFC 9700).
//!
//! [`validate`] checks a request in the order that keeps users safe: first the client and its
//! redirect URI — while either is in doubt, errors are shown to the user and never redirected
//! (RFC 6749 §4.1.2.1) — then everything else, whose errors go back to the client.

use url::Url;

use super::params::Params;
use super::{pkce, ErrorCode, OAuth, OAuthError};
use crate::domain::now;
use crate::domain::redirect;
use crate::domain::scope::{ScopeError, ScopeSet};
use crate::domain::secret::{Kind, Secret};
use crate::store::{Client, CodeGrant, Grant, Install, Issue, NewToken};

/// CODE (`response_type=code`) or TOKEN (`response_type=token`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResponseType {
    Code,
    Token,
}

/// An authorization request that passed every check.
#[derive(Debug, Clone)]
pub struct ValidRequest {
    pub client: Client,
    pub response_type: ResponseType,
    pub redirect_uri: String,
    pub scopes: ScopeSet,
    pub state: Option<String>,
    pub code_challenge: Option<String>,
}

/// Why a request failed.
#[derive(Debug, Clone)]
pub enum AuthorizeError {
    /// The client or its redirect URI is not trustworthy: tell the user, redirect nowhere.
    Page(String),
    /// Send the error back to the client at its (verified) redirect URI.
    Redirect(Url),
}

/// Checks an authorization request.
pub async fn validate(oauth: &OAuth, p: &Params) -> Result<ValidRequest, AuthorizeError> {
    let page = |e: OAuthError| AuthorizeError::Page(e.description.into_owned());
    let client_id = p.require("client_id").map_err(page)?;
    let client = oauth
        .store
        .client(client_id)
        .await
        .map_err(|e| page(e.into()))?
        .ok_or_else(|| {
            AuthorizeError::Page(format!("There is no app with client_id {client_id:?}."))
        })?;
    let redirect_uri = match p.get("redirect_uri").map_err(page)? {
        Some(uri) => {
            if !redirect::matches(&client.redirect_uris, uri, client.loopback_any_port()) {
                return Err(AuthorizeError::Page(format!(
                    "The redirect_uri {uri:?} is not registered for {}.",
                    client.name
                )));
            }
            uri.to_string()
        }
        // RFC 6749 §3.1.2.3: may be omitted only when exactly one URI is registered.
        None if client.redirect_uris.len() == 1 => client.redirect_uris[0].clone(),
        None => {
            return Err(AuthorizeError::Page(
                "The request has no redirect_uri and the app registered several.".into(),
            ))
        }
    };

    // From here the redirect URI is trusted; `state` goes back with every error.
    let state = p.get("state").ok().flatten().map(str::to_string);
    let response_type = match p.get("response_type") {
        Ok(Some("code")) => ResponseType::Code,
        Ok(Some("token")) => ResponseType::Token,
        Ok(Some(_)) => {
            return Err(redirect_error(
                &redirect_uri,
                ResponseType::Code,
                OAuthError::new(
                    ErrorCode::UnsupportedResponseType,
                    "response_type must be code or token",
                ),
                state.as_deref(),
                &oauth.config.issuer,
            ))
        }
        Ok(None) | Err(_) => {
            return Err(redirect_error(
                &redirect_uri,
                ResponseType::Code,
                OAuthError::invalid_request("response_type is missing or repeated"),
                state.as_deref(),
                &oauth.config.issuer,
            ))
        }
    };
    let fail = |e: OAuthError| {
        redirect_error(
            &redirect_uri,
            response_type,
            e,
            state.as_deref(),
            &oauth.config.issuer,
        )
    };
    p.no_repeats().map_err(fail)?;
    let allowed = match response_type {
        ResponseType::Code => client.allow_code,
        ResponseType::Token => client.allow_token,
    };
    if !allowed {
        return Err(fail(OAuthError::unauthorized_client(
            "this app is not registered for this response_type",
        )));
    }

    let scopes = match p.get("scope").map_err(fail)? {
        None => client.scopes.clone(),
        Some(raw) => ScopeSet::parse(raw).map_err(|e| {
            fail(OAuthError::invalid_scope(match e {
                ScopeError::Unknown(s) => format!("unknown scope {s:?}"),
                ScopeError::Malformed => "the scope parameter is malformed".into(),
            }))
        })?,
    };
    if !scopes.is_subset(&client.scopes) {
        return Err(fail(OAuthError::invalid_scope(
            "the app may not ask for some of these scopes",
        )));
    }
    if scopes.has_first_party() && !client.first_party {
        return Err(fail(OAuthError::invalid_scope(
            "the dashboard scope is reserved for Atrium",
        )));
    }

    let code_challenge = match p.get("code_challenge").map_err(fail)? {
        Some(challenge) => {
            if response_type == ResponseType::Token {
                return Err(fail(OAuthError::invalid_request(
                    "PKCE applies to response_type=code only",
                )));
            }
            pkce::check_challenge(challenge, p.get("code_challenge_method").map_err(fail)?)
                .map_err(fail)?;
            Some(challenge.to_string())
        }
        None if client.is_public() && response_type == ResponseType::Code => {
            return Err(fail(OAuthError::invalid_request(
                "public clients must use PKCE (code_challenge with S256)",
            )))
        }
        None => None,
    };

    Ok(ValidRequest {
        client,
        response_type,
        redirect_uri,
        scopes,
        state,
        code_challenge,
    })
}

/// What an approval produced.
#[derive(Debug, Clone)]
pub struct Approval {
    /// Where to send the user: the redirect URI with the code, or with the token in the fragment.
    pub redirect: Url,
    /// The install recorded, when the app was approved for a company.
    pub install: Option<Install>,
}

/// The user allowed the request: record the install (when it is for a company, which the caller
/// checked the user owns), issue a code or a token, and answer where to send the user. The
/// dashboard's install API and the HTML consent page both come here.
pub async fn approve(
    oauth: &OAuth,
    req: &ValidRequest,
    user_id: i64,
    company_id: Option<i64>,
) -> Result<Approval, OAuthError> {
    let at = now();
    let mut url = Url::parse(&req.redirect_uri)
        .map_err(|_| OAuthError::invalid_request("redirect_uri is not a URL"))?;
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
    let install_id = install.as_ref().map(|i| i.id);
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
            {
                let mut q = url.query_pairs_mut();
                q.append_pair("code", code.expose());
                if let Some(s) = &req.state {
                    q.append_pair("state", s);
                }
                // RFC 9207: lets the client detect mix-up attacks.
                q.append_pair("iss", &oauth.config.issuer);
            }
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
            let mut f = url::form_urlencoded::Serializer::new(String::new());
            f.append_pair("access_token", token.expose());
            f.append_pair("token_type", "Bearer");
            f.append_pair("expires_in", &oauth.config.implicit_ttl.to_string());
            f.append_pair("scope", &req.scopes.to_string());
            if let Some(s) = &req.state {
                f.append_pair("state", s);
            }
            f.append_pair("iss", &oauth.config.issuer);
            url.set_fragment(Some(&f.finish()));
        }
    }
    Ok(Approval {
        redirect: url,
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
pub fn deny(oauth: &OAuth, req: &ValidRequest) -> Url {
    match redirect_error(
        &req.redirect_uri,
        req.response_type,
        OAuthError::new(ErrorCode::AccessDenied, "the user refused the request"),
        req.state.as_deref(),
        &oauth.config.issuer,
    ) {
        AuthorizeError::Redirect(url) => url,
        AuthorizeError::Page(_) => unreachable!("redirect_error always redirects or pages"),
    }
}

/// An error response at the redirect URI: in the query for CODE, in the fragment for TOKEN.
fn redirect_error(
    redirect_uri: &str,
    response_type: ResponseType,
    err: OAuthError,
    state: Option<&str>,
    issuer: &str,
) -> AuthorizeError {
    let Ok(mut url) = Url::parse(redirect_uri) else {
        return AuthorizeError::Page("The registered redirect_uri is not a URL.".into());
    };
    let pairs = [
        Some(("error", err.error.as_str())),
        Some(("error_description", err.description.as_ref())),
        state.map(|s| ("state", s)),
        Some(("iss", issuer)),
    ];
    match response_type {
        ResponseType::Code => {
            let mut q = url.query_pairs_mut();
            for (k, v) in pairs.iter().flatten() {
                q.append_pair(k, v);
            }
        }
        ResponseType::Token => {
            let mut f = url::form_urlencoded::Serializer::new(String::new());
            for (k, v) in pairs.iter().flatten() {
                f.append_pair(k, v);
            }
            url.set_fragment(Some(&f.finish()));
        }
    }
    AuthorizeError::Redirect(url)
}
