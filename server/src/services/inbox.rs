//! The inbox's rules: what an installed app may post to its users and set as its badge, and
//! what a user reads of it. The store holds the data and the atomic checks
//! ([`crate::store::InboxStore`]); here are the bounds of each field, which install a token
//! speaks for, and who a `sub` is.

use atrium_proto::inbox as wire;

use super::inbox_hub::{Change, Ring};
use super::{ServiceError, ServiceResult};
use crate::domain::text::{self, TextError};
use crate::platform::Platform;
use crate::store::{AccessInfo, Badge, NewNotification, Notification, Posted, Rate};

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
    let title = text::name("title", &req.title, wire::MAX_TITLE).map_err(text_error)?;
    let body = text::free_text("body", &req.body, wire::MAX_BODY).map_err(text_error)?;
    let path = app_path(req.path.as_deref())?;
    let user_id = member(req.user.as_deref())?;
    let (install_id, company) = install_of(p, token).await?;
    let rate = Rate {
        limit: per_hour,
        window: 3600,
    };
    let new = NewNotification {
        install_id,
        user_id,
        title,
        body,
        path,
    };
    match p.store.post_notification(new, rate, now).await? {
        Posted::Posted(n) => {
            p.inbox.ring(Ring {
                company,
                member: user_id,
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

/// Sets the badge of the install `token` speaks for: the badge as set.
pub async fn set_badge(
    p: &Platform,
    token: &AccessInfo,
    req: wire::SetBadge,
    now: i64,
) -> ServiceResult<Badge> {
    if req.count > wire::MAX_BADGE {
        return Err(ServiceError::Invalid(
            format!("the count must be at most {}", wire::MAX_BADGE).into(),
        ));
    }
    let user_id = member(req.user.as_deref())?;
    let (install_id, company) = install_of(p, token).await?;
    if p.store
        .set_badge(install_id, user_id, req.count, now)
        .await?
    {
        p.inbox.ring(Ring {
            company,
            member: user_id,
            change: Change::Badge,
        });
        Ok(Badge {
            install_id,
            count: req.count,
        })
    } else {
        // The install ended meanwhile, or the sub is not a member.
        Err(ServiceError::NotFoundWhy(
            "no such member in the company of an active install",
        ))
    }
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
