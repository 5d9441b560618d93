//! The dashboard's first-party API (`/api/dashboard/...`).
//!
//! Each function is the description of one operation, named by its path constant; the
//! operation itself is routed in `routes/`.

#![allow(dead_code)]

use super::prelude::*;

#[utoipa::path(
    get,
    path = paths::ME,
    operation_id = "dashboardMe",
    tag = "dashboard",
    summary = "The signed-in user",
    security(("bearer" = ["dashboard"])),
    responses(
        (status = 200, description = "OK", body = Me),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 400, response = Malformed),
        (status = 405, response = MethodNotAllowed),
        (status = 503, response = Unavailable),
    ),
)]
pub fn dashboard_me() {}

#[utoipa::path(
    get,
    path = paths::CATALOG,
    operation_id = "catalog",
    tag = "dashboard",
    summary = "Every registered app, with what a user needs to decide (paged)",
    security(("bearer" = ["dashboard"])),
    params(PageQuery),
    responses(
        (status = 200, description = "One page; follow next_cursor for the next", body = inline(Page<CatalogApp>)),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 400, response = BadPage),
        (status = 405, response = MethodNotAllowed),
        (status = 503, response = Unavailable),
    ),
)]
pub fn catalog() {}

#[utoipa::path(
    get,
    path = paths::COMPANIES,
    operation_id = "companies",
    tag = "dashboard",
    summary = "The user's companies and roles (paged)",
    security(("bearer" = ["dashboard"])),
    params(PageQuery),
    responses(
        (status = 200, description = "One page; follow next_cursor for the next", body = inline(Page<CompanyView>)),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 400, response = BadPage),
        (status = 405, response = MethodNotAllowed),
        (status = 503, response = Unavailable),
    ),
)]
pub fn companies() {}

#[utoipa::path(
    post,
    path = paths::COMPANIES,
    operation_id = "createCompany",
    tag = "dashboard",
    summary = "Create a company owned by the user",
    security(("bearer" = ["dashboard"])),
    request_body = NewCompany,
    responses(
        (status = 201, description = "Created", body = CompanyView),
        (status = 401, response = Unauthorized),
        (status = 403, response = QuotaExceeded),
        (status = 400, response = InvalidBody),
        (status = 405, response = MethodNotAllowed),
        (status = 411, response = LengthRequired),
        (status = 413, response = PayloadTooLarge),
        (status = 415, response = UnsupportedMediaType),
        (status = 503, response = Unavailable),
    ),
)]
pub fn create_company() {}

#[utoipa::path(
    get,
    path = paths::COMPANY_MEMBERS,
    operation_id = "members",
    tag = "dashboard",
    summary = "Members of a company (members only) (paged)",
    security(("bearer" = ["dashboard"])),
    params(("company_id" = i64, Path), PageQuery),
    responses(
        (status = 200, description = "One page; follow next_cursor for the next", body = inline(Page<MemberView>)),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 400, response = BadPage),
        (status = 405, response = MethodNotAllowed),
        (status = 503, response = Unavailable),
    ),
)]
pub fn members() {}

#[utoipa::path(
    get,
    path = paths::COMPANY_INSTALLS,
    operation_id = "companyInstalls",
    tag = "dashboard",
    summary = "Active installs of a company (members only) (paged)",
    security(("bearer" = ["dashboard"])),
    params(("company_id" = i64, Path), PageQuery),
    responses(
        (status = 200, description = "One page; follow next_cursor for the next", body = inline(Page<InstallView>)),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 400, response = BadPage),
        (status = 405, response = MethodNotAllowed),
        (status = 503, response = Unavailable),
    ),
)]
pub fn company_installs() {}

#[utoipa::path(
    get,
    path = paths::APP_CONSENT,
    operation_id = "consent",
    tag = "dashboard",
    summary = "What the consent screen shows for an app and a company",
    security(("bearer" = ["dashboard"])),
    params(("client_id" = String, Path), ("company_id" = i64, Query)),
    responses(
        (status = 200, description = "OK", body = ConsentView),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 400, description = "Invalid request", body = ErrorBody),
        (status = 405, response = MethodNotAllowed),
        (status = 503, response = Unavailable),
    ),
)]
pub fn consent() {}

#[utoipa::path(
    post,
    path = paths::INSTALLS,
    operation_id = "install",
    tag = "dashboard",
    summary = "Approve an install (owners only): records it, notifies the app, answers where to send the user",
    security(("bearer" = ["dashboard"])),
    request_body = InstallRequest,
    responses(
        (status = 200, description = "OK", body = InstallAnswer),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 400, description = "Invalid request", body = ErrorBody),
        (status = 405, response = MethodNotAllowed),
        (status = 411, response = LengthRequired),
        (status = 413, response = PayloadTooLarge),
        (status = 415, response = UnsupportedMediaType),
        (status = 503, response = Unavailable),
    ),
)]
pub fn install() {}

#[utoipa::path(
    get,
    path = paths::INSTALL,
    operation_id = "getInstall",
    tag = "dashboard",
    summary = "One install (members of its company)",
    security(("bearer" = ["dashboard"])),
    params(("install_id" = i64, Path)),
    responses(
        (status = 200, description = "OK", body = InstallView),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 400, response = Malformed),
        (status = 405, response = MethodNotAllowed),
        (status = 503, response = Unavailable),
    ),
)]
pub fn get_install() {}

#[utoipa::path(
    delete,
    path = paths::INSTALL,
    operation_id = "uninstall",
    tag = "dashboard",
    summary = "Uninstall (owners only): revokes every token of the install and notifies the app",
    security(("bearer" = ["dashboard"])),
    params(("install_id" = i64, Path)),
    responses(
        (status = 200, description = "OK", body = InstallView),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, description = "Not installed", body = ErrorBody),
        (status = 400, response = Malformed),
        (status = 405, response = MethodNotAllowed),
        (status = 503, response = Unavailable),
    ),
)]
pub fn uninstall() {}

#[utoipa::path(
    post,
    path = paths::INSTALL_LAUNCH,
    operation_id = "launch",
    tag = "dashboard",
    summary = "The app's UI URL with a signed launch token in its fragment (valid 60 seconds, a unique jti)",
    security(("bearer" = ["dashboard"])),
    params(("install_id" = i64, Path)),
    responses(
        (status = 200, description = "OK", body = LaunchView),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, description = "Not installed, or no UI", body = ErrorBody),
        (status = 400, response = Malformed),
        (status = 405, response = MethodNotAllowed),
        (status = 503, response = Unavailable),
    ),
)]
pub fn launch() {}
