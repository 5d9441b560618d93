//! The OAuth 2.0 protocol logic, independent of the web framework.
//!
//! - [`request`]: raw parameters become typed requests here, once ([`request::AuthorizationRequest`],
//!   [`request::TokenRequest`] with one variant per `grant_type`); [`params`] reads forms;
//! - [`authorize`]: checking an authorization request and approving it (a code or a token,
//!   and the install) — for the consent page and the dashboard's install API alike;
//! - [`client_auth`]: who is calling the token, revocation and introspection endpoints;
//! - [`grants`]: the token endpoint, one module per grant: [`grants::authorization_code`]
//!   (code replay), [`grants::refresh_token`] (rotation and reuse), [`grants::client_credentials`];
//! - [`oidc`]: OpenID Connect: the request's `nonce`, `prompt` and `max_age`, the ID token,
//!   the UserInfo claims;
//! - [`revoke`] (RFC 7009), [`introspect`] (RFC 7662), [`pkce`] (RFC 7636), [`error`].
//!
//! Security decisions (a replayed code, a reused refresh token, a removed install) are made in
//! the grant modules, with the RFC they follow; the store only offers primitives.
//! Handlers in `routes/` are thin: they parse HTTP and call these functions.

pub mod authorize;
pub mod client_auth;
pub mod error;
pub mod grants;
pub mod introspect;
pub mod logout;
pub mod oidc;
pub mod params;
pub mod pkce;
pub mod request;
pub mod revoke;

pub use error::{ErrorCode, OAuthError};

/// Lifetimes and identity of the authorization server.
#[derive(Debug, Clone)]
pub struct OAuthConfig {
    /// The issuer identifier (RFC 8414), the server's public base URL without a trailing slash.
    pub issuer: String,
    /// Access-token lifetime in seconds (default one hour).
    pub access_ttl: i64,
    /// Refresh-token lifetime in seconds (default 30 days).
    pub refresh_ttl: i64,
    /// Lifetime of access tokens issued by the implicit method (TOKEN), which travel in a URL
    /// fragment and can't be bound to the client: short, and never with a refresh token.
    pub implicit_ttl: i64,
    /// Authorization-code lifetime in seconds (at most 60).
    pub code_ttl: i64,
    /// How long after a rotation a retry with the old refresh token gets the same new pair
    /// back, in seconds; 0 disables it (see [`token`] and README "Refresh token rotation").
    pub refresh_reuse_interval: i64,
}

impl OAuthConfig {
    pub const DEFAULT_ACCESS_TTL: i64 = 3600;
    pub const DEFAULT_REFRESH_TTL: i64 = 30 * 24 * 3600;
    pub const DEFAULT_IMPLICIT_TTL: i64 = 600;
    /// Long enough for a client to retry after a lost answer or a server restart; short
    /// enough that a stolen refresh token replayed later still trips reuse detection.
    pub const DEFAULT_REFRESH_REUSE_INTERVAL: i64 = 10;
    /// The longest reuse interval the server accepts.
    pub const MAX_REFRESH_REUSE_INTERVAL: i64 = 60;
    /// ID-token lifetime in seconds (OpenID Connect Core §2 `exp`).
    pub const ID_TOKEN_TTL: i64 = 3600;

    pub fn new(issuer: &str) -> OAuthConfig {
        OAuthConfig {
            issuer: issuer.trim_end_matches('/').to_string(),
            access_ttl: Self::DEFAULT_ACCESS_TTL,
            refresh_ttl: Self::DEFAULT_REFRESH_TTL,
            implicit_ttl: Self::DEFAULT_IMPLICIT_TTL,
            code_ttl: 60,
            refresh_reuse_interval: Self::DEFAULT_REFRESH_REUSE_INTERVAL,
        }
    }
}
