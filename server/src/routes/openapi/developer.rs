//! The developer API (`/api/developer/...`).
//!
//! Each function is the description of one operation, named by its path constant; the
//! operation itself is routed in `routes/`.

#![allow(dead_code)]

use super::prelude::*;

#[utoipa::path(
    get,
    path = paths::DEV_APPS,
    operation_id = "myApps",
    tag = "developer",
    summary = "The developer's apps (paged)",
    security(("bearer" = ["dashboard"])),
    params(PageQuery),
    responses(
        (status = 200, description = "One page; follow next_cursor for the next", body = inline(Page<AppView>)),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 400, response = BadPage),
        (status = 405, response = MethodNotAllowed),
        (status = 503, response = Unavailable),
    ),
)]
pub fn my_apps() {}

#[utoipa::path(
    post,
    path = paths::DEV_APPS,
    operation_id = "registerApp",
    tag = "developer",
    summary = "Register an app; the secrets are shown once",
    security(("bearer" = ["dashboard"])),
    request_body = NewApp,
    responses(
        (status = 201, description = "Created", body = AppCreated),
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
pub fn register_app() {}

#[utoipa::path(
    get,
    path = paths::DEV_APP,
    operation_id = "myApp",
    tag = "developer",
    summary = "One of the developer's apps",
    security(("bearer" = ["dashboard"])),
    params(("client_id" = String, Path)),
    responses(
        (status = 200, description = "OK", body = AppView),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 400, response = Malformed),
        (status = 405, response = MethodNotAllowed),
        (status = 503, response = Unavailable),
    ),
)]
pub fn my_app() {}

#[utoipa::path(
    patch,
    path = paths::DEV_APP,
    operation_id = "editApp",
    tag = "developer",
    summary = "Edit an app",
    security(("bearer" = ["dashboard"])),
    params(("client_id" = String, Path)),
    request_body = AppPatch,
    responses(
        (status = 200, description = "OK", body = AppView),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 400, response = InvalidBody),
        (status = 405, response = MethodNotAllowed),
        (status = 411, response = LengthRequired),
        (status = 413, response = PayloadTooLarge),
        (status = 415, response = UnsupportedMediaType),
        (status = 503, response = Unavailable),
    ),
)]
pub fn edit_app() {}

#[utoipa::path(
    delete,
    path = paths::DEV_APP,
    operation_id = "deleteApp",
    tag = "developer",
    summary = "Delete an app: uninstalled everywhere, each install notified",
    security(("bearer" = ["dashboard"])),
    params(("client_id" = String, Path)),
    responses(
        (status = 200, description = "OK", body = inline(Empty)),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 400, response = Malformed),
        (status = 405, response = MethodNotAllowed),
        (status = 503, response = Unavailable),
    ),
)]
pub fn delete_app() {}

#[utoipa::path(
    post,
    path = paths::DEV_APP_SECRET,
    operation_id = "rotateSecret",
    tag = "developer",
    summary = "Rotate the client secret; the old one stops working at once",
    security(("bearer" = ["dashboard"])),
    params(("client_id" = String, Path)),
    responses(
        (status = 200, description = "OK", body = SecretRotated),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 400, description = "Invalid request", body = ErrorBody),
        (status = 405, response = MethodNotAllowed),
        (status = 503, response = Unavailable),
    ),
)]
pub fn rotate_secret() {}

#[utoipa::path(
    get,
    path = paths::DEV_APP_DELIVERIES,
    operation_id = "deliveries",
    tag = "developer",
    summary = "Install notifications not delivered yet: pending, retrying and given up (newest first, at most 100)",
    security(("bearer" = ["dashboard"])),
    params(("client_id" = String, Path)),
    responses(
        (status = 200, description = "OK", body = [DeliveryView]),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 400, response = Malformed),
        (status = 405, response = MethodNotAllowed),
        (status = 503, response = Unavailable),
    ),
)]
pub fn deliveries() {}

#[utoipa::path(
    post,
    path = paths::DEV_DELIVERY_RETRY,
    operation_id = "retryDelivery",
    tag = "developer",
    summary = "Make an undelivered notification due now (reviving one that was given up)",
    security(("bearer" = ["dashboard"])),
    params(("client_id" = String, Path), ("event_id" = String, Path)),
    responses(
        (status = 200, description = "OK: the notification, due now", body = DeliveryView),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, description = "No such app visible to this user, or no undelivered notification with that event id", body = ErrorBody),
        (status = 400, description = "Invalid request", body = ErrorBody),
        (status = 405, response = MethodNotAllowed),
        (status = 503, response = Unavailable),
    ),
)]
pub fn retry_delivery() {}
