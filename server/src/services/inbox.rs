//! The inbox's rules: what an installed app may post to its users and set as its badge, and
//! what a user reads of it. The store holds the data and the atomic checks
//! ([`crate::store::InboxStore`]); here are the bounds of each field, which install a token
//! speaks for, and who a `sub` is. An open app's desktop bridge reaches the same inbox for the
//! signed-in user alone ([`post_to_user`], [`set_user_badge`]), under the same rate.

use atrium_proto::inbox as wire;

use super::inbox_hub::{Change, Ring};
use super::{installs, ServiceError, ServiceResult};
use crate::domain::ids::InstallId;
use crate::domain::text::{self, TextError};
use crate::platform::Platform;
use crate::store::{
    AccessInfo, Badge, BadgeSet, NewNotification, Notification, Posted, Rate, User,
};

/// The install an app's token speaks for, and its company: the active install of its app in
/// the token's company. A token of no company (client credentials), or of an app since uninstalled, has
/// none.
async fn install_of(p: &Platform, token: &AccessInfo) -> ServiceResult<(i64, i64)> {
    let company = token.company_id.ok_or(ServiceError::NotFoundWhy(
        "this grant is not for an install",
    ))?;
    p.store
        .installs_of_company(company)
        .await?
        .into_iter()
        .find(|i| i.app_id == token.app_id)
        .map(|i| (i.id, company))
        .ok_or(ServiceError::NotFoundWhy("the app is no longer installed"))
}

/// A `sub` as a user id. Any other string names no member.
fn member(sub: Option<&str>) -> ServiceResult<Option<i64>> {
    match sub {
        None => Ok(None),
        Some(s) => s
            .parse::<i64>()
            .ok()
            .filter(|id| *id > 0 && id.to_string() == s)
            .map(Some)
            .ok_or(ServiceError::NotFoundWhy("no such member in the company")),
    }
}

/// A path inside the app: one leading `/` (never `//`, which a browser reads as another
/// host), printable ASCII without spaces or backslashes, at most [`wire::MAX_PATH`] bytes.
fn app_path(raw: Option<&str>) -> ServiceResult<Option<String>> {
    let Some(p) = raw else { return Ok(None) };
    let ok = p.starts_with('/')
        && !p.starts_with("//")
        && p.len() <= wire::MAX_PATH
        && p.bytes().all(|b| b.is_ascii_graphic() && b != b'\\');
    if !ok {
        return Err(ServiceError::Invalid(
            format!(
                "the path must start with a single '/' and be at most {} printable characters \
                 without spaces or backslashes",
                wire::MAX_PATH
            )
            .into(),
        ));
    }
    Ok(Some(p.to_string()))
}

fn text_error(e: TextError) -> ServiceError {
    ServiceError::invalid(e)
}

/// Posts `req` for the install `token` speaks for, within `per_hour` notifications an hour.
pub async fn post(
    p: &Platform,
    token: &AccessInfo,
    req: wire::NewNotification,
    per_hour: u32,
    now: i64,
) -> ServiceResult<Notification> {
    let (title, body, path) = fields(&req.title, &req.body, req.path.as_deref())?;
    let user_id = member(req.user.as_deref())?;
    let (install_id, company) = install_of(p, token).await?;
    let new = NewNotification {
        install_id,
        user_id,
        title,
        body,
        path,
    };
    deliver(p, new, company, per_hour, now).await
}

/// The bounded title, body and path of a notification.
fn fields(
    title: &str,
    body: &str,
    path: Option<&str>,
) -> ServiceResult<(String, String, Option<String>)> {
    let title = text::name("title", title, wire::MAX_TITLE).map_err(text_error)?;
    let body = text::free_text("body", body, wire::MAX_BODY).map_err(text_error)?;
    Ok((title, body, app_path(path)?))
}

/// Stores `new` within `per_hour` notifications an hour for its install, and rings the
/// company's streams.
async fn deliver(
    p: &Platform,
    new: NewNotification,
    company: i64,
    per_hour: u32,
    now: i64,
) -> ServiceResult<Notification> {
    let rate = Rate {
        limit: per_hour,
        window: 3600,
    };
    let member = new.user_id;
    match p.store.post_notification(new, rate, now).await? {
        Posted::Posted(n) => {
            p.inbox.ring(Ring {
                company,
                member,
                change: Change::Notification,
            });
            Ok(n)
        }
        Posted::Throttled { retry_at } => Err(ServiceError::Throttled {
            retry_after: retry_at.saturating_sub(now).max(1),
            why: format!("this install may post at most {per_hour} notifications an hour"),
        }),
        Posted::NoInstall => Err(ServiceError::NotFoundWhy("the app is no longer installed")),
        Posted::NoMember => Err(ServiceError::NotFoundWhy("no such member in the company")),
    }
}

/// The install an open app's bridge speaks for, as the signed-in `user` sees it: one of
/// their company's, still installed, and granted `notifications` at its consent. (install,
/// company)
async fn bridged(p: &Platform, user: &User, install: InstallId) -> ServiceResult<(i64, i64)> {
    let (install, _) = installs::visible(p, user, install).await?;
    if !install.active {
        return Err(ServiceError::NotFoundWhy("the app is no longer installed"));
    }
    if !install.scopes.contains("notifications") {
        return Err(ServiceError::Forbidden(
            "this app was not allowed to send notifications (scope notifications)".into(),
        ));
    }
    Ok((install.id, install.company_id))
}

/// An open app notifies the signed-in `user` alone (the desktop's bridge), within the same
/// hourly rate as the app's own posts: both count against the install.
pub async fn post_to_user(
    p: &Platform,
    user: &User,
    install: InstallId,
    req: wire::UserNotification,
    per_hour: u32,
    now: i64,
) -> ServiceResult<Notification> {
    let (title, body, path) = fields(&req.title, &req.body, req.path.as_deref())?;
    let (install_id, company) = bridged(p, user, install).await?;
    let new = NewNotification {
        install_id,
        user_id: Some(user.id),
        title,
        body,
        path,
    };
    deliver(p, new, company, per_hour, now).await
}

/// An open app sets its badge for the signed-in `user` alone (the desktop's bridge).
pub async fn set_user_badge(
    p: &Platform,
    user: &User,
    install: InstallId,
    req: wire::UserBadge,
    now: i64,
) -> ServiceResult<Badge> {
    badge_count(req.count)?;
    let (install_id, company) = bridged(p, user, install).await?;
    store_badge(p, install_id, company, Some(user.id), req.count, now).await
}

fn badge_count(count: u32) -> ServiceResult<()> {
    if count > wire::MAX_BADGE {
        return Err(ServiceError::Invalid(
            format!("the count must be at most {}", wire::MAX_BADGE).into(),
        ));
    }
    Ok(())
}

async fn store_badge(
    p: &Platform,
    install_id: i64,
    company: i64,
    user_id: Option<i64>,
    count: u32,
    now: i64,
) -> ServiceResult<Badge> {
    match p.store.set_badge(install_id, user_id, count, now).await? {
        BadgeSet::Changed => {
            p.inbox.ring(Ring {
                company,
                member: user_id,
                change: Change::Badge,
            });
            Ok(Badge { install_id, count })
        }
        // Nothing changed: the open streams are not woken to read it again.
        BadgeSet::Unchanged => Ok(Badge { install_id, count }),
        // The install ended meanwhile, or the sub is not a member.
        BadgeSet::NoSuchMember => Err(ServiceError::NotFoundWhy(
            "no such member in the company of an active install",
        )),
    }
}

/// Sets the badge of the install `token` speaks for: the badge as set.
pub async fn set_badge(
    p: &Platform,
    token: &AccessInfo,
    req: wire::SetBadge,
    now: i64,
) -> ServiceResult<Badge> {
    badge_count(req.count)?;
    let user_id = member(req.user.as_deref())?;
    let (install_id, company) = install_of(p, token).await?;
    store_badge(p, install_id, company, user_id, req.count, now).await
}

/// Marks notifications read for `user`.
pub async fn mark_read(p: &Platform, user: i64, req: wire::MarkRead) -> ServiceResult<u64> {
    if req.ids.len() > wire::MAX_MARK_IDS {
        return Err(ServiceError::Invalid(
            format!("at most {} ids at once; use up_to", wire::MAX_MARK_IDS).into(),
        ));
    }
    if req.ids.is_empty() && req.up_to.is_none() {
        return Err(ServiceError::Invalid("name ids or up_to".into()));
    }
    Ok(p.store.mark_read(user, req.ids, req.up_to).await?)
}

/// A notification as its reader sees it.
pub fn view(n: &Notification) -> wire::NotificationView {
    wire::NotificationView {
        id: n.id,
        install_id: n.install_id,
        app_name: n.app_name.clone(),
        company_id: n.company_id,
        title: n.title.clone(),
        body: n.body.clone(),
        path: n.path.clone(),
        personal: n.user_id.is_some(),
        created_at: n.created_at,
        read: n.read,
    }
}

pub fn badge_view(b: &Badge) -> wire::BadgeView {
    wire::BadgeView {
        install_id: b.install_id,
        count: b.count,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_stay_inside_the_app_and_subs_are_canonical_ids() {
        assert_eq!(
            app_path(Some("/orders/42?tab=1#x")).unwrap().as_deref(),
            Some("/orders/42?tab=1#x")
        );
        for bad in [
            "orders",
            "//evil.example/x",
            "/a b",
            "/\\evil",
            "https://evil.example/",
            "/\u{e9}",
        ] {
            assert!(app_path(Some(bad)).is_err(), "{bad}");
        }
        assert!(app_path(Some(&format!("/{}", "a".repeat(wire::MAX_PATH)))).is_err());
        assert_eq!(member(Some("42")).unwrap(), Some(42));
        for bad in ["042", "-1", "0", "x", "4 2", ""] {
            assert!(member(Some(bad)).is_err(), "{bad}");
        }
    }
}
