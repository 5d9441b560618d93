//! The inbox over HTTP: apps post notifications and set badges with an install's token (scope
//! `notifications`); the dashboard lists them, marks them read and reads the badges with the
//! desktop's token, and (for an open app's desktop bridge) notify the desktop's user and set
//! the app's badge for them. The rules are in [`crate::services::inbox`].

use atrium_proto::inbox::{
    MarkRead, MarkedRead, NewNotification, NotificationPosted, SetBadge, UserBadge,
    UserNotification,
};
use atrium_proto::paths;
use warp::http::StatusCode;
use warp::Filter;

use super::api::{bearer, dashboard_user};
use super::error::{reply, ApiResult};
use super::respond::{self, Resp};
use super::{json_body, paging, raw_query, with_auth, AppState, Auth};
use crate::domain::ids::InstallId;
use crate::domain::now;
use crate::services::inbox;
use crate::store::{After, Page};

pub fn filters(state: AppState) -> impl Filter<Extract = (Resp,), Error = warp::Rejection> + Clone {
    let auth = move || with_auth(state.clone());
    // POST /api/notifications
    let post = route!(paths::API_NOTIFICATIONS; "api" / "notifications")
        .and(warp::post())
        .and(auth())
        .and(json_body::<NewNotification>())
        .then(post)
        .map(reply);
    // PUT /api/badge
    let badge = route!(paths::API_BADGE; "api" / "badge")
        .and(warp::put())
        .and(auth())
        .and(json_body::<SetBadge>())
        .then(set_badge)
        .map(reply);
    // GET /api/dashboard/notifications
    let list = route!(paths::NOTIFICATIONS; "api" / "dashboard" / "notifications")
        .and(warp::get())
        .and(auth())
        .and(raw_query())
        .then(list)
        .map(reply);
    // POST /api/dashboard/notifications/read
    let read = route!(paths::NOTIFICATIONS_READ; "api" / "dashboard" / "notifications" / "read")
        .and(warp::post())
        .and(auth())
        .and(json_body::<MarkRead>())
        .then(mark_read)
        .map(reply);
    // GET /api/dashboard/badges
    let badges = route!(paths::BADGES; "api" / "dashboard" / "badges")
        .and(warp::get())
        .and(auth())
        .then(badges)
        .map(reply);
    // POST /api/dashboard/installs/{install_id}/notify
    let notify_user =
        route!(paths::INSTALL_NOTIFY; "api" / "dashboard" / "installs" / InstallId / "notify")
            .and(warp::post())
            .and(auth())
            .and(json_body::<UserNotification>())
            .then(notify_user)
            .map(reply);
    // PUT /api/dashboard/installs/{install_id}/badge
    let user_badge =
        route!(paths::INSTALL_BADGE; "api" / "dashboard" / "installs" / InstallId / "badge")
            .and(warp::put())
            .and(auth())
            .and(json_body::<UserBadge>())
            .then(user_badge)
            .map(reply);
    post.or(badge)
        .unify()
        .or(notify_user)
        .unify()
        .or(user_badge)
        .unify()
        .or(list)
        .unify()
        .or(read)
        .unify()
        .or(badges)
        .unify()
}

async fn post(
    (state, h): Auth,
    body: Result<NewNotification, super::error::ApiError>,
) -> ApiResult {
    let token = bearer(&state, h.as_deref(), "notifications").await?;
    let n = inbox::post(
        &state.platform,
        &token,
        body?,
        state.quotas.notifications_per_install_hour,
        now(),
    )
    .await?;
    Ok(respond::json(
        StatusCode::CREATED,
        &NotificationPosted { id: n.id },
    ))
}

async fn set_badge((state, h): Auth, body: Result<SetBadge, super::error::ApiError>) -> ApiResult {
    let token = bearer(&state, h.as_deref(), "notifications").await?;
    let badge = inbox::set_badge(&state.platform, &token, body?, now()).await?;
    Ok(respond::json(StatusCode::OK, &inbox::badge_view(&badge)))
}

/// An open app's bridge notifies the desktop's user (the recipient is always that user).
async fn notify_user(
    id: InstallId,
    (state, h): Auth,
    body: Result<UserNotification, super::error::ApiError>,
) -> ApiResult {
    let user = dashboard_user(&state, h.as_deref()).await?;
    let n = inbox::post_to_user(
        &state.platform,
        &user,
        id,
        body?,
        state.quotas.notifications_per_install_hour,
        now(),
    )
    .await?;
    Ok(respond::json(
        StatusCode::CREATED,
        &NotificationPosted { id: n.id },
    ))
}

/// An open app's bridge sets its badge for the desktop's user.
async fn user_badge(
    id: InstallId,
    (state, h): Auth,
    body: Result<UserBadge, super::error::ApiError>,
) -> ApiResult {
    let user = dashboard_user(&state, h.as_deref()).await?;
    let badge = inbox::set_user_badge(&state.platform, &user, id, body?, now()).await?;
    Ok(respond::json(StatusCode::OK, &inbox::badge_view(&badge)))
}

/// Newest first; the cursor is the id of the last notification of the previous page.
async fn list((state, h): Auth, query: String) -> ApiResult {
    let user = dashboard_user(&state, h.as_deref()).await?;
    let page = paging::request(&query)?;
    let before = page.after.as_ref().map(|a| a.id);
    let mut items = state
        .platform
        .store
        .notifications_for(user.id, before, page.limit + 1)
        .await?;
    let next = (items.len() > page.limit).then(|| {
        items.truncate(page.limit);
        After {
            key: String::new(),
            id: items.last().map_or(0, |n| n.id),
        }
    });
    Ok(respond::json(
        StatusCode::OK,
        &paging::page(Page { items, next }, inbox::view),
    ))
}

async fn mark_read((state, h): Auth, body: Result<MarkRead, super::error::ApiError>) -> ApiResult {
    let user = dashboard_user(&state, h.as_deref()).await?;
    let marked = inbox::mark_read(&state.platform, user.id, body?).await?;
    Ok(respond::json(StatusCode::OK, &MarkedRead { marked }))
}

async fn badges((state, h): Auth) -> ApiResult {
    let user = dashboard_user(&state, h.as_deref()).await?;
    let list = state.platform.store.badges_for(user.id).await?;
    let views: Vec<_> = list.iter().map(inbox::badge_view).collect();
    Ok(respond::json(StatusCode::OK, &views))
}
