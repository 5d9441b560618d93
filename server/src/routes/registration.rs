//! Dynamic client registration (RFC 7591, OpenID Connect Registration 1.0):
//! `POST /oauth2/register`, so that standard tooling registers an app with no Atrium-specific
//! code.
//!
//! **Who may register.** Registration is protected (RFC 7591 §3): the request carries a
//! developer's desktop token (`Authorization: Bearer`, scope `dashboard`), and the app is that
//! developer's, exactly as if registered in the developer pane. It then appears in the pane
//! and the developer API, which is where it is edited or deleted: there is no RFC 7592
//! configuration endpoint, hence no registration access token to keep safe.
//!
//! **Bounds.** The same as the developer API's: the per-developer quota of apps
//! (`--max-apps-per-user`), the JSON body limit, and the length and count limits of every field
//! ([`crate::apps`]). A request fails as a whole; nothing is half-registered.
//!
//! **Metadata.** What Atrium keeps is answered back, as §3.2.1 requires; metadata it does not
//! use (`logo_uri`, `contacts`, ...) is ignored, which §2 allows.

use atrium_proto::paths;
use serde::Deserialize;
use warp::http::StatusCode;
use warp::Filter;

use super::api::dashboard_user;
use super::error::{reply, ApiError, ApiResult};
use super::respond::{self, Resp};
use super::{json_body, with_auth, AppState, Auth};
use crate::apps::{AppRegistration, OidcFields};
use crate::domain::redirect::{parse_application_type, ApplicationType};
use crate::services::apps;

pub fn filters(state: AppState) -> impl Filter<Extract = (Resp,), Error = warp::Rejection> + Clone {
    // POST /oauth2/register
    route!(paths::REGISTER; "oauth2" / "register")
        .and(warp::post())
        .and(with_auth(state))
        .and(json_body::<ClientMetadata>())
        .then(register)
        .map(reply)
}

/// The client metadata Atrium reads (RFC 7591 §2, OpenID Connect Registration §2).
#[derive(Debug, Deserialize)]
pub struct ClientMetadata {
    #[serde(default)]
    redirect_uris: Vec<String>,
    client_name: Option<String>,
    token_endpoint_auth_method: Option<String>,
    grant_types: Option<Vec<String>>,
    response_types: Option<Vec<String>>,
    scope: Option<String>,
    application_type: Option<String>,
    id_token_signed_response_alg: Option<String>,
    #[serde(default)]
    post_logout_redirect_uris: Vec<String>,
    /// OpenID Connect's name for the install URL: where a third party starts a sign-in.
    initiate_login_uri: Option<String>,
}

/// RFC 7591 §3.2.2's error for metadata Atrium refuses.
fn bad_metadata(description: impl std::fmt::Display) -> ApiError {
    ApiError::refused(
        StatusCode::BAD_REQUEST,
        "invalid_client_metadata",
        description.to_string(),
    )
}

/// What the metadata asks for, as Atrium's registration: the methods (CODE, TOKEN) from
/// `response_types` and `grant_types`, and public or confidential from the auth method.
fn registration(m: &ClientMetadata) -> Result<(AppRegistration, &'static str), ApiError> {
    let response_types = m
        .response_types
        .clone()
        .unwrap_or_else(|| vec!["code".into()]);
    let mut allow_code = false;
    let mut allow_token = false;
    for t in &response_types {
        match t.as_str() {
            "code" => allow_code = true,
            "token" => allow_token = true,
            other => {
                return Err(bad_metadata(format!(
                    "response type {other:?} is not supported"
                )))
            }
        }
    }
    let grant_types = m
        .grant_types
        .clone()
        .unwrap_or_else(|| vec!["authorization_code".into()]);
    for g in &grant_types {
        let consistent = match g.as_str() {
            "authorization_code" | "refresh_token" => allow_code,
            "implicit" => allow_token,
            // Any confidential client may use it; nothing to register.
            "client_credentials" => true,
            other => {
                return Err(bad_metadata(format!(
                    "grant type {other:?} is not supported"
                )))
            }
        };
        if !consistent {
            return Err(bad_metadata(format!(
                "grant type {g:?} needs its response type (RFC 7591 §2.1)"
            )));
        }
    }
    let (public, auth_method) = match m.token_endpoint_auth_method.as_deref() {
        None | Some("client_secret_basic") => (false, "client_secret_basic"),
        Some("client_secret_post") => (false, "client_secret_post"),
        Some("none") => (true, "none"),
        Some(other) => {
            return Err(bad_metadata(format!(
                "token_endpoint_auth_method {other:?} is not supported"
            )))
        }
    };
    let application_type = match m.application_type.as_deref() {
        None => ApplicationType::Web,
        Some(raw) => parse_application_type(raw).map_err(bad_metadata)?,
    };
    // A name is required in Atrium (users see it on the consent page): without one, the
    // redirect URI's host names the app.
    let name = m.client_name.clone().unwrap_or_else(|| {
        m.redirect_uris
            .first()
            .and_then(|u| url::Url::parse(u).ok())
            .and_then(|u| u.host_str().map(str::to_string))
            .unwrap_or_else(|| "Unnamed app".into())
    });
    Ok((
        AppRegistration {
            name,
            description: String::new(),
            redirect_uris: m.redirect_uris.clone(),
            iframe_url: None,
            webhook_url: None,
            install_url: m.initiate_login_uri.clone(),
            scopes: m.scope.clone().unwrap_or_else(|| "openid".into()),
            allow_code,
            allow_token,
            public,
            application_type,
        },
        auth_method,
    ))
}

async fn register((state, h): Auth, body: Result<ClientMetadata, ApiError>) -> ApiResult {
    let user = dashboard_user(&state, h.as_deref()).await?;
    let metadata = body?;
    let (registration, auth_method) = registration(&metadata)?;
    let oidc = OidcFields {
        id_token_alg: metadata.id_token_signed_response_alg.clone(),
        post_logout_redirect_uris: Some(metadata.post_logout_redirect_uris.clone()),
    };
    let quota = state.quotas.apps_per_user;
    let new = apps::register(
        &state.platform,
        &user,
        registration,
        oidc,
        state.egress,
        quota,
    )
    .await
    .map_err(|e| match e {
        // The rules of `crate::apps` speak of the metadata; RFC 7591 names redirect URIs
        // apart.
        crate::services::ServiceError::Invalid(m) if m.contains("redirect URI") => {
            ApiError::refused(StatusCode::BAD_REQUEST, "invalid_redirect_uri", m)
        }
        crate::services::ServiceError::Invalid(m) => bad_metadata(m),
        other => other.into(),
    })?;
    let app = &new.app;
    let oidc = apps::oidc_of(&state.platform, app).await?;
    let mut response_types = Vec::new();
    let mut grant_types = Vec::new();
    if app.allow_code {
        response_types.push("code");
        grant_types.extend(["authorization_code", "refresh_token"]);
    }
    if app.allow_token {
        response_types.push("token");
        grant_types.push("implicit");
    }
    let mut answer = serde_json::json!({
        "client_id": app.client_id,
        "client_id_issued_at": app.created_at,
        "client_name": app.name,
        "redirect_uris": app.redirect_uris,
        "response_types": response_types,
        "grant_types": grant_types,
        "token_endpoint_auth_method": auth_method,
        "scope": app.scopes.to_string(),
        "application_type": app.application_type.as_str(),
        "id_token_signed_response_alg": oidc.id_token_alg,
        "post_logout_redirect_uris": oidc.post_logout_redirect_uris,
    });
    if let Some(url) = &app.install_url {
        answer["initiate_login_uri"] = url.as_str().into();
    }
    if let Some(secret) = &new.client_secret {
        answer["client_secret"] = secret.expose().into();
        // Secrets do not expire; the developer rotates one in the pane or the API.
        answer["client_secret_expires_at"] = 0.into();
    }
    tracing::info!(client_id = %app.client_id, "app registered dynamically");
    Ok(respond::no_store(respond::json(
        StatusCode::CREATED,
        &answer,
    )))
}
