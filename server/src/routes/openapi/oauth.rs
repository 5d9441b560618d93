//! The OAuth 2.0 endpoints that answer JSON (RFC 6749, 7009, 7662); the authorization
//! endpoint is an HTML page and is not listed.
//!
//! Each function is the description of one operation, named by its path constant; the
//! operation itself is routed in `routes/`.

#![allow(dead_code)]

use super::prelude::*;

#[utoipa::path(
    post,
    path = paths::TOKEN,
    operation_id = "token",
    tag = "oauth",
    summary = "Token endpoint: authorization_code, refresh_token, client_credentials (RFC 6749)",
    security((), ("clientBasic" = [])),
    request_body(content = inline(TokenForm), content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "Tokens (Cache-Control: no-store)", body = TokenResponse),
        (status = 400, description = "invalid_request, invalid_grant, unauthorized_client, unsupported_grant_type or invalid_scope", body = OAuthErrorBody),
        (status = 401, description = "invalid_client", body = OAuthErrorBody),
        (status = 405, response = MethodNotAllowed),
        (status = 411, response = LengthRequired),
        (status = 413, response = PayloadTooLarge),
        (status = 503, response = Unavailable),
    ),
)]
pub fn token() {}

#[utoipa::path(
    post,
    path = paths::REVOKE,
    operation_id = "revoke",
    tag = "oauth",
    summary = "Token revocation (RFC 7009)",
    security((), ("clientBasic" = [])),
    request_body(content = inline(RevokeForm), content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "Revoked, or nothing to revoke"),
        (status = 400, description = "invalid_request", body = OAuthErrorBody),
        (status = 401, description = "invalid_client", body = OAuthErrorBody),
        (status = 405, response = MethodNotAllowed),
        (status = 411, response = LengthRequired),
        (status = 413, response = PayloadTooLarge),
        (status = 503, response = Unavailable),
    ),
)]
pub fn revoke() {}

#[utoipa::path(
    post,
    path = paths::INTROSPECT,
    operation_id = "introspect",
    tag = "oauth",
    summary = "Token introspection (RFC 7662), for confidential clients about their own tokens",
    security(("clientBasic" = [])),
    request_body(content = inline(IntrospectForm), content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "Introspection", body = Introspection),
        (status = 400, description = "invalid_request", body = OAuthErrorBody),
        (status = 401, description = "invalid_client", body = OAuthErrorBody),
        (status = 405, response = MethodNotAllowed),
        (status = 411, response = LengthRequired),
        (status = 413, response = PayloadTooLarge),
        (status = 503, response = Unavailable),
    ),
)]
pub fn introspect() {}

#[utoipa::path(
    get,
    path = paths::USERINFO,
    operation_id = "userinfo",
    tag = "oauth",
    summary = "OpenID Connect UserInfo (Core §5.3): claims about the user, by the token's scopes (openid required)",
    security(("bearer" = ["openid"])),
    responses(
        (status = 200, description = "Claims (Cache-Control: no-store)", body = inline(UserInfo)),
        (status = 400, description = "Malformed Authorization header", body = ErrorBody),
        (status = 401, description = "Missing, unknown, expired or revoked token, or a token that acts for no user (WWW-Authenticate: Bearer)", body = ErrorBody),
        (status = 403, description = "The token lacks the openid scope (error insufficient_scope)", body = ErrorBody),
        (status = 405, response = MethodNotAllowed),
        (status = 503, response = Unavailable),
    ),
)]
pub fn userinfo() {}

#[utoipa::path(
    post,
    path = paths::USERINFO,
    operation_id = "userinfo_post",
    tag = "oauth",
    summary = "OpenID Connect UserInfo by POST (Core §5.3.1): the same as GET",
    security(("bearer" = ["openid"])),
    responses(
        (status = 200, description = "Claims (Cache-Control: no-store)", body = inline(UserInfo)),
        (status = 400, description = "Malformed Authorization header", body = ErrorBody),
        (status = 401, description = "Missing, unknown, expired or revoked token, or a token that acts for no user (WWW-Authenticate: Bearer)", body = ErrorBody),
        (status = 403, description = "The token lacks the openid scope (error insufficient_scope)", body = ErrorBody),
        (status = 405, response = MethodNotAllowed),
        (status = 503, response = Unavailable),
    ),
)]
pub fn userinfo_post() {}

#[utoipa::path(
    post,
    path = paths::REGISTER,
    operation_id = "registerClient",
    tag = "oauth",
    summary = "Dynamic client registration (RFC 7591, OpenID Connect Registration): registers an app for the developer whose desktop token this is, within their quota",
    security(("bearer" = ["dashboard"])),
    request_body(content = inline(ClientMetadata), content_type = "application/json"),
    responses(
        (status = 201, description = "Registered: the metadata as kept, client_id, and client_secret once for a confidential client (Cache-Control: no-store)", body = inline(ClientMetadata)),
        (status = 400, description = "invalid_client_metadata or invalid_redirect_uri (RFC 7591 §3.2.2)", body = OAuthErrorBody),
        (status = 401, response = Unauthorized),
        (status = 403, response = QuotaExceeded),
        (status = 405, response = MethodNotAllowed),
        (status = 411, response = LengthRequired),
        (status = 413, response = PayloadTooLarge),
        (status = 415, response = UnsupportedMediaType),
        (status = 503, response = Unavailable),
    ),
)]
pub fn register_client() {}
