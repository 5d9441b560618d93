//! The health checks and discovery documents.
//!
//! Each function is the description of one operation, named by its path constant; the
//! operation itself is routed in `routes/`.

#![allow(dead_code)]

use super::prelude::*;

#[utoipa::path(
    get,
    path = paths::HEALTHZ,
    operation_id = "health",
    tag = "health",
    summary = "Liveness: the process answers (the database is not consulted)",
    responses(
        (status = 200, description = "Alive", body = Health),
        (status = 400, response = Malformed),
        (status = 405, response = MethodNotAllowed),
    ),
)]
pub fn health() {}

#[utoipa::path(
    get,
    path = paths::READYZ,
    operation_id = "readiness",
    tag = "health",
    summary = "Readiness: the database answers and its schema is current",
    responses(
        (status = 200, description = "Ready", body = Readiness),
        (status = 503, description = "Not ready: the database does not answer, or its schema version is not this server's; `reason` says which", body = Readiness),
        (status = 400, response = Malformed),
        (status = 405, response = MethodNotAllowed),
    ),
)]
pub fn readiness() {}

#[utoipa::path(
    get,
    path = paths::OAUTH_METADATA,
    operation_id = "metadata",
    tag = "discovery",
    summary = "Authorization server metadata (RFC 8414)",
    responses(
        (status = 200, description = "Metadata", body = inline(OAuthMetadata)),
        (status = 400, response = Malformed),
        (status = 405, response = MethodNotAllowed),
        (status = 503, response = Unavailable),
    ),
)]
pub fn metadata() {}

#[utoipa::path(
    get,
    path = paths::OPENID_CONFIGURATION,
    operation_id = "openid_configuration",
    tag = "discovery",
    summary = "OpenID Provider metadata (OpenID Connect Discovery 1.0): the same document as the RFC 8414 one",
    responses(
        (status = 200, description = "Metadata", body = inline(OAuthMetadata)),
        (status = 400, response = Malformed),
        (status = 405, response = MethodNotAllowed),
        (status = 503, response = Unavailable),
    ),
)]
pub fn openid_configuration() {}

#[utoipa::path(
    get,
    path = paths::JWKS,
    operation_id = "jwks",
    tag = "discovery",
    summary = "The public keys that sign ID tokens and launch tokens (RFC 7517: RSA for RS256, OKP Ed25519 for EdDSA), by kid",
    responses(
        (status = 200, description = "JWKS", body = inline(Jwks)),
        (status = 400, response = Malformed),
        (status = 405, response = MethodNotAllowed),
        (status = 503, response = Unavailable),
    ),
)]
pub fn jwks() {}

#[utoipa::path(
    get,
    path = paths::OPENAPI,
    operation_id = "openapi",
    tag = "discovery",
    summary = "This document: the OpenAPI 3.1 description of every JSON operation",
    responses(
        (status = 200, description = "The document", body = inline(Object)),
        (status = 400, response = Malformed),
        (status = 405, response = MethodNotAllowed),
        (status = 503, response = Unavailable),
    ),
)]
pub fn openapi() {}
