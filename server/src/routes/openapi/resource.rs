//! The resource API that apps call with an install's access token.
//!
//! Each function is the description of one operation, named by its path constant; the
//! operation itself is routed in `routes/`.

#![allow(dead_code)]

use super::prelude::*;

#[utoipa::path(
    get,
    path = paths::USERNAME,
    operation_id = "username",
    tag = "resource",
    summary = "The user's username (scope profile)",
    security(("bearer" = ["profile"])),
    responses(
        (status = 200, description = "Username", body = inline(Username)),
        (status = 400, description = "Malformed Authorization header", body = ErrorBody),
        (status = 401, description = "Missing, unknown, expired or revoked token (WWW-Authenticate: Bearer)", body = ErrorBody),
        (status = 403, description = "The token lacks the required scope (error insufficient_scope)", body = ErrorBody),
        (status = 405, response = MethodNotAllowed),
        (status = 503, response = Unavailable),
    ),
)]
pub fn username() {}

#[utoipa::path(
    get,
    path = paths::API_ME,
    operation_id = "me",
    tag = "resource",
    summary = "The user's profile (scope profile; email with scope email)",
    security(("bearer" = ["profile"])),
    responses(
        (status = 200, description = "Profile", body = inline(Profile)),
        (status = 400, description = "Malformed Authorization header", body = ErrorBody),
        (status = 401, description = "Missing, unknown, expired or revoked token (WWW-Authenticate: Bearer)", body = ErrorBody),
        (status = 403, description = "The token lacks the required scope (error insufficient_scope)", body = ErrorBody),
        (status = 405, response = MethodNotAllowed),
        (status = 503, response = Unavailable),
    ),
)]
pub fn me() {}

#[utoipa::path(
    get,
    path = paths::API_COMPANY,
    operation_id = "company",
    tag = "resource",
    summary = "The company the grant is for (scope company)",
    security(("bearer" = ["company"])),
    responses(
        (status = 200, description = "Company", body = inline(AppCompany)),
        (status = 400, description = "Malformed Authorization header", body = ErrorBody),
        (status = 401, description = "Missing, unknown, expired or revoked token (WWW-Authenticate: Bearer)", body = ErrorBody),
        (status = 403, description = "The token lacks the required scope (error insufficient_scope)", body = ErrorBody),
        (status = 404, description = "The grant is for no company", body = ErrorBody),
        (status = 405, response = MethodNotAllowed),
        (status = 503, response = Unavailable),
    ),
)]
pub fn company() {}

#[utoipa::path(
    get,
    path = paths::API_COMPANY_MEMBERS,
    operation_id = "companyMembers",
    tag = "resource",
    summary = "Members of that company and their roles (scope company.members)",
    security(("bearer" = ["company.members"])),
    responses(
        (status = 200, description = "Members", body = inline(AppCompanyMembers)),
        (status = 400, description = "Malformed Authorization header", body = ErrorBody),
        (status = 401, description = "Missing, unknown, expired or revoked token (WWW-Authenticate: Bearer)", body = ErrorBody),
        (status = 403, description = "The token lacks the required scope (error insufficient_scope)", body = ErrorBody),
        (status = 404, description = "The grant is for no company", body = ErrorBody),
        (status = 405, response = MethodNotAllowed),
        (status = 503, response = Unavailable),
    ),
)]
pub fn company_members() {}
