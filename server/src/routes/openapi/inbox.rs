//! The inbox: apps' notifications to their users and badges (`/api/notifications`,
//! `/api/badge` with an install's token; `/api/dashboard/notifications...` and
//! `/api/dashboard/badges` with the desktop's; `/api/dashboard/installs/{id}/notify` and
//! `.../badge`, an open app's bridge through the desktop).
//!
//! Each function is the description of one operation, named by its path constant; the
//! operation itself is routed in `routes/inbox.rs`.

#![allow(dead_code)]

use super::prelude::*;
use atrium_proto::inbox::*;

#[utoipa::path(
    post,
    path = paths::API_NOTIFICATIONS,
    operation_id = "postNotification",
    tag = "resource",
    summary = "Post a notification to one member (user: their sub) or every member of the company the app is installed in (scope notifications; at most 100 an hour per install by default)",
    security(("bearer" = ["notifications"])),
    request_body = NewNotification,
    responses(
        (status = 201, description = "Stored; the members' desktops show it", body = NotificationPosted),
        (status = 400, response = InvalidBody),
        (status = 401, description = "Missing, unknown, expired or revoked token (WWW-Authenticate: Bearer)", body = ErrorBody),
        (status = 403, description = "The token lacks the required scope (error insufficient_scope)", body = ErrorBody),
        (status = 404, description = "The grant is for no install, the app is no longer installed, or user is not a member", body = ErrorBody),
        (status = 405, response = MethodNotAllowed),
        (status = 411, response = LengthRequired),
        (status = 413, response = PayloadTooLarge),
        (status = 415, response = UnsupportedMediaType),
        (status = 429, response = RateLimited),
        (status = 503, response = Unavailable),
    ),
)]
pub fn post_notification() {}

#[utoipa::path(
    put,
    path = paths::API_BADGE,
    operation_id = "setBadge",
    tag = "resource",
    summary = "Set the app's badge count for one member (user: their sub) or the whole company; a member's own badge wins (scope notifications)",
    security(("bearer" = ["notifications"])),
    request_body = SetBadge,
    responses(
        (status = 200, description = "Set", body = BadgeView),
        (status = 400, response = InvalidBody),
        (status = 401, description = "Missing, unknown, expired or revoked token (WWW-Authenticate: Bearer)", body = ErrorBody),
        (status = 403, description = "The token lacks the required scope (error insufficient_scope)", body = ErrorBody),
        (status = 404, description = "The grant is for no install, the app is no longer installed, or user is not a member", body = ErrorBody),
        (status = 405, response = MethodNotAllowed),
        (status = 411, response = LengthRequired),
        (status = 413, response = PayloadTooLarge),
        (status = 415, response = UnsupportedMediaType),
        (status = 503, response = Unavailable),
    ),
)]
pub fn set_badge() {}

#[utoipa::path(
    post,
    path = paths::INSTALL_NOTIFY,
    operation_id = "notifyUser",
    tag = "dashboard",
    summary = "An open app notifies the signed-in user alone, through the desktop's bridge (the install must hold scope notifications; counts against the install's hourly rate)",
    security(("bearer" = ["dashboard"])),
    params(("install_id" = i64, Path, description = "The install")),
    request_body = UserNotification,
    responses(
        (status = 201, description = "Stored; the user's desktops show it", body = NotificationPosted),
        (status = 400, response = InvalidBody),
        (status = 401, response = Unauthorized),
        (status = 403, description = "No dashboard token, or the install was not granted scope notifications", body = ErrorBody),
        (status = 404, description = "No such install in the user's companies, or no longer installed", body = ErrorBody),
        (status = 405, response = MethodNotAllowed),
        (status = 411, response = LengthRequired),
        (status = 413, response = PayloadTooLarge),
        (status = 415, response = UnsupportedMediaType),
        (status = 429, response = RateLimited),
        (status = 503, response = Unavailable),
    ),
)]
pub fn notify_user() {}

#[utoipa::path(
    put,
    path = paths::INSTALL_BADGE,
    operation_id = "setUserBadge",
    tag = "dashboard",
    summary = "An open app sets its badge for the signed-in user alone, through the desktop's bridge (the install must hold scope notifications)",
    security(("bearer" = ["dashboard"])),
    params(("install_id" = i64, Path, description = "The install")),
    request_body = UserBadge,
    responses(
        (status = 200, description = "Set", body = BadgeView),
        (status = 400, response = InvalidBody),
        (status = 401, response = Unauthorized),
        (status = 403, description = "No dashboard token, or the install was not granted scope notifications", body = ErrorBody),
        (status = 404, description = "No such install in the user's companies, or no longer installed", body = ErrorBody),
        (status = 405, response = MethodNotAllowed),
        (status = 411, response = LengthRequired),
        (status = 413, response = PayloadTooLarge),
        (status = 415, response = UnsupportedMediaType),
        (status = 503, response = Unavailable),
    ),
)]
pub fn set_user_badge() {}

#[utoipa::path(
    get,
    path = paths::NOTIFICATIONS,
    operation_id = "notifications",
    tag = "dashboard",
    summary = "The user's notifications from the apps installed in their companies, newest first (paged)",
    security(("bearer" = ["dashboard"])),
    params(PageQuery),
    responses(
        (status = 200, description = "One page; follow next_cursor for older ones", body = inline(Page<NotificationView>)),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 400, response = BadPage),
        (status = 405, response = MethodNotAllowed),
        (status = 503, response = Unavailable),
    ),
)]
pub fn notifications() {}

#[utoipa::path(
    post,
    path = paths::NOTIFICATIONS_READ,
    operation_id = "markNotificationsRead",
    tag = "dashboard",
    summary = "Mark notifications read: these ids (at most 100), and every one up to up_to",
    security(("bearer" = ["dashboard"])),
    request_body = MarkRead,
    responses(
        (status = 200, description = "How many were newly marked", body = MarkedRead),
        (status = 400, response = InvalidBody),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 405, response = MethodNotAllowed),
        (status = 411, response = LengthRequired),
        (status = 413, response = PayloadTooLarge),
        (status = 415, response = UnsupportedMediaType),
        (status = 503, response = Unavailable),
    ),
)]
pub fn mark_read() {}

#[utoipa::path(
    get,
    path = paths::BADGES,
    operation_id = "badges",
    tag = "dashboard",
    summary = "The badge counts of the user's installed apps (zero counts left out)",
    security(("bearer" = ["dashboard"])),
    responses(
        (status = 200, description = "OK", body = Vec<BadgeView>),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 400, response = Malformed),
        (status = 405, response = MethodNotAllowed),
        (status = 503, response = Unavailable),
    ),
)]
pub fn badges() {}

#[utoipa::path(
    get,
    path = paths::EVENTS,
    operation_id = "events",
    tag = "dashboard",
    summary = "Server-Sent Events: `notification` events (id = the notification's id, data = a NotificationView) and `badges` events (data = every BadgeView, on connect and on change). Send Last-Event-ID to receive what was posted since; at most 4 streams per user",
    security(("bearer" = ["dashboard"])),
    params(("Last-Event-ID" = Option<i64>, Header, description = "The id of the last notification event received")),
    responses(
        (status = 200, description = "The stream", content_type = "text/event-stream", body = String),
        (status = 400, description = "Last-Event-ID is not an event id", body = ErrorBody),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 405, response = MethodNotAllowed),
        (status = 429, description = "The user holds as many streams as they may (error rate_limited, Retry-After)", body = ErrorBody),
        (status = 503, response = Unavailable),
    ),
)]
pub fn events() {}
