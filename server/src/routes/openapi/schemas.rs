//! Schemas of the bodies that have no wire type of their own: the forms of the OAuth
//! endpoints (parsed by `oauth::request`), the errors (rendered by `routes::error`), and the
//! small answers the routes build in place. The bodies of the first-party API are
//! `atrium_proto`'s types and are described from them.

#![allow(dead_code)]

use atrium_proto::Role;
use utoipa::{IntoParams, ToSchema};

/// A refused or failed request. With 500 (`server_error`), the `X-Error-Id` response header
/// holds the correlation id of the server's log line.
#[derive(ToSchema)]
#[schema(as = Error)]
pub struct ErrorBody {
    pub error: String,
    pub error_description: Option<String>,
}

/// An error of the OAuth endpoints (RFC 6749 §5.2).
#[derive(ToSchema)]
#[schema(as = OAuthError)]
pub struct OAuthErrorBody {
    pub error: OAuthErrorCode,
    pub error_description: Option<String>,
}

#[derive(ToSchema)]
#[schema(rename_all = "snake_case")]
pub enum OAuthErrorCode {
    InvalidRequest,
    InvalidClient,
    InvalidGrant,
    UnauthorizedClient,
    UnsupportedGrantType,
    InvalidScope,
    ServerError,
}

/// The answer of `GET /readyz`.
#[derive(ToSchema)]
pub struct Readiness {
    pub status: ReadyStatus,
    pub version: String,
    /// Why the server is not ready; absent when it is.
    pub reason: Option<String>,
}

#[derive(ToSchema)]
#[schema(rename_all = "snake_case")]
pub enum ReadyStatus {
    Ready,
    Unavailable,
}

#[derive(ToSchema)]
#[schema(rename_all = "snake_case")]
pub enum GrantType {
    AuthorizationCode,
    RefreshToken,
    ClientCredentials,
}

#[derive(ToSchema)]
#[schema(rename_all = "snake_case")]
pub enum TokenTypeHint {
    AccessToken,
    RefreshToken,
}

/// The token request (RFC 6749 §4.1.3, §6, §4.4). A confidential client authenticates with
/// HTTP Basic or with `client_id` and `client_secret` here; a public one sends `client_id`.
#[derive(ToSchema)]
pub struct TokenForm {
    pub grant_type: GrantType,
    pub code: Option<String>,
    pub redirect_uri: Option<String>,
    /// PKCE (RFC 7636).
    pub code_verifier: Option<String>,
    pub refresh_token: Option<String>,
    pub scope: Option<String>,
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
}

/// The revocation request (RFC 7009 §2.1).
#[derive(ToSchema)]
pub struct RevokeForm {
    pub token: String,
    pub token_type_hint: Option<TokenTypeHint>,
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
}

/// The introspection request (RFC 7662 §2.1), from a confidential client.
#[derive(ToSchema)]
pub struct IntrospectForm {
    pub token: String,
    pub token_type_hint: Option<String>,
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
}

/// The authorization server's metadata (RFC 8414 §2), built by `routes::meta::metadata`.
#[derive(ToSchema)]
pub struct OAuthMetadata {
    pub issuer: String,
    pub authorization_endpoint: String,
    pub token_endpoint: String,
    pub revocation_endpoint: Option<String>,
    pub introspection_endpoint: Option<String>,
    pub jwks_uri: Option<String>,
    pub response_types_supported: Option<Vec<String>>,
    pub grant_types_supported: Option<Vec<String>>,
    pub scopes_supported: Option<Vec<String>>,
    pub code_challenge_methods_supported: Option<Vec<String>>,
    pub service_documentation: Option<String>,
    pub userinfo_endpoint: Option<String>,
    pub subject_types_supported: Option<Vec<String>>,
    pub id_token_signing_alg_values_supported: Option<Vec<String>>,
    pub claims_supported: Option<Vec<String>>,
}

/// OpenID Connect standard claims (Core §5.1), by scope: always `sub`; `profile` adds `name`
/// and `preferred_username`; `email` adds `email` and `email_verified`.
#[derive(ToSchema)]
pub struct UserInfo {
    pub sub: String,
    pub name: Option<String>,
    pub preferred_username: Option<String>,
    pub email: Option<String>,
    pub email_verified: Option<bool>,
}

/// Client metadata (RFC 7591 §2, OpenID Connect Registration §2): what a registration sends,
/// and, with `client_id`, `client_id_issued_at` and (confidential clients) `client_secret` and
/// `client_secret_expires_at` (0: never), what it answers.
#[derive(ToSchema)]
pub struct ClientMetadata {
    pub redirect_uris: Vec<String>,
    pub client_name: Option<String>,
    /// `client_secret_basic` (default), `client_secret_post`, or `none` (a public client, PKCE).
    pub token_endpoint_auth_method: Option<String>,
    /// `authorization_code`, `refresh_token`, `implicit`, `client_credentials`.
    pub grant_types: Option<Vec<String>>,
    /// `code` (default) and/or `token`.
    pub response_types: Option<Vec<String>>,
    /// Space-separated; `openid` when absent.
    pub scope: Option<String>,
    /// `web` (default) or `native`.
    pub application_type: Option<String>,
    /// `RS256` (default) or `EdDSA`.
    pub id_token_signed_response_alg: Option<String>,
    pub post_logout_redirect_uris: Option<Vec<String>>,
    /// The install URL: where the dashboard sends a user who installs the app.
    pub initiate_login_uri: Option<String>,
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
    pub client_id_issued_at: Option<i64>,
    pub client_secret_expires_at: Option<i64>,
}

/// The server's public signing keys (RFC 7517), by `kid`: RSA (RS256) and Ed25519 (`OKP`, EdDSA).
#[derive(ToSchema)]
pub struct Jwks {
    pub keys: Vec<serde_json::Value>,
}

#[derive(ToSchema)]
pub struct Username {
    pub username: String,
}

/// The user behind a token with the `profile` scope; `email` needs the `email` scope.
#[derive(ToSchema)]
pub struct Profile {
    pub username: String,
    pub display_name: String,
    #[schema(format = DateTime)]
    pub date_joined: String,
    pub email: Option<String>,
}

/// The company a token was granted for.
#[derive(ToSchema)]
pub struct AppCompany {
    pub id: i64,
    pub name: String,
}

#[derive(ToSchema)]
pub struct AppCompanyMember {
    pub username: String,
    pub display_name: String,
    pub role: Role,
}

#[derive(ToSchema)]
pub struct AppCompanyMembers {
    pub company_id: i64,
    pub members: Vec<AppCompanyMember>,
}

/// A JSON object, described elsewhere.
#[derive(ToSchema)]
pub struct Object(serde_json::Map<String, serde_json::Value>);

/// An empty object.
#[derive(ToSchema)]
pub struct Empty {}

#[derive(ToSchema)]
pub struct Revoked {
    /// The invitation's id.
    pub revoked: i64,
}

#[derive(ToSchema)]
pub struct Left {
    /// The company's id.
    pub left: i64,
}

#[derive(ToSchema)]
pub struct Declined {
    /// The invitation's id.
    pub declined: i64,
}

/// The query of every list endpoint (see `routes::paging`).
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Items per page, 1 to 100 (default 50). Above 100 is refused with 400.
    #[param(minimum = 1, maximum = 100, default = 50)]
    pub limit: Option<u32>,
    /// Opaque: the `next_cursor` of the previous page, unchanged. Absent for the first page.
    /// Lists are ordered by name (then id), so every item present when paging began is
    /// returned exactly once, even if items are added meanwhile.
    #[param(max_length = 1024)]
    pub cursor: Option<String>,
}
