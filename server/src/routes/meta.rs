//! Discovery documents: the authorization server's metadata, served both as RFC 8414's
//! `/.well-known/oauth-authorization-server` and as OpenID Connect Discovery 1.0's
//! `/.well-known/openid-configuration` (one document, [`metadata`], so the two never
//! disagree), the JWKS, and the OpenAPI description.

use atrium_proto::paths;
use warp::http::StatusCode;
use warp::Filter;

use super::respond::{self, Resp};
use super::AppState;
use crate::domain::scope::CATALOGUE;
use crate::jose::Alg;

pub fn filters(state: AppState) -> impl Filter<Extract = (Resp,), Error = warp::Rejection> + Clone {
    let issuer = state.platform.config.issuer.clone();
    // GET /.well-known/oauth-authorization-server
    // GET /.well-known/openid-configuration
    // Built once: the document depends only on the issuer.
    let document = std::sync::Arc::new(metadata(&issuer));
    let metadata = route!(paths::OAUTH_METADATA; ".well-known" / "oauth-authorization-server")
        .or(route!(paths::OPENID_CONFIGURATION; ".well-known" / "openid-configuration"))
        .unify()
        .and(warp::get())
        .map(move || respond::json(StatusCode::OK, &*document));
    // GET /openapi.json
    let openapi = route!(paths::OPENAPI; "openapi.json")
        .and(warp::get())
        .map(|| {
            let mut r = respond::json(StatusCode::OK, &());
            *r.body_mut() = super::openapi::document().into();
            r
        });
    // GET /.well-known/jwks.json
    let keys = state.platform.keys.clone();
    let jwks = route!(paths::JWKS; ".well-known" / "jwks.json")
        .and(warp::get())
        .map(move || respond::json(StatusCode::OK, &keys.jwks()));
    metadata.or(openapi).unify().or(jwks).unify()
}

/// The provider's metadata: RFC 8414 §2, which OpenID Connect Discovery 1.0 §3 extends (every
/// field it requires is here; RFC 8414 §2 allows them in its document too).
pub fn metadata(issuer: &str) -> serde_json::Value {
    let scopes: Vec<&str> = CATALOGUE.iter().map(|s| s.name).collect();
    let algs: Vec<&str> = Alg::ALL.iter().map(|a| a.as_str()).collect();
    serde_json::json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{issuer}/oauth2/authorize"),
        "token_endpoint": format!("{issuer}/oauth2/token"),
        "revocation_endpoint": format!("{issuer}/oauth2/revoke"),
        "introspection_endpoint": format!("{issuer}/oauth2/introspect"),
        "response_types_supported": ["code", "token"],
        "response_modes_supported": ["query", "fragment", "form_post"],
        "grant_types_supported": ["authorization_code", "implicit", "refresh_token", "client_credentials"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "revocation_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "introspection_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "code_challenge_methods_supported": ["S256"],
        "scopes_supported": scopes,
        "authorization_response_iss_parameter_supported": true,
        "service_documentation": format!("{issuer}/openapi.json"),
        "jwks_uri": format!("{issuer}/.well-known/jwks.json"),
        // OpenID Connect Discovery 1.0 §3.
        "userinfo_endpoint": format!("{issuer}/oauth2/userinfo"),
        // OpenID Connect RP-Initiated Logout 1.0 §2.1.
        "end_session_endpoint": format!("{issuer}/oauth2/logout"),
        // RFC 7591, protected: a developer's desktop token (scope `dashboard`).
        "registration_endpoint": format!("{issuer}/oauth2/register"),
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": algs,
        "claims_supported": [
            "iss", "sub", "aud", "azp", "exp", "iat", "auth_time", "nonce", "at_hash",
            "name", "preferred_username", "email", "email_verified",
        ],
        "claims_parameter_supported": false,
        "request_parameter_supported": false,
        "request_uri_parameter_supported": false,
        // An extension of Atrium's: the TOKEN (implicit) method stays only for existing browser
        // apps that chose it; it is discouraged (RFC 9700 §2.1.2), issues short-lived access
        // tokens and never a refresh token. New apps use CODE with PKCE.
        "atrium_discouraged_response_types": ["token"],
    })
}
