//! The inbox's wire types: what an app posts to its users (`POST /api/notifications`,
//! `PUT /api/badge`, scope `notifications`) and what the dashboard reads of it.
//!
//! Bounds, checked by the server (and answered 400 `invalid_request`): a title of 1 to
//! [`MAX_TITLE`] characters, a body of at most [`MAX_BODY`], a path of at most [`MAX_PATH`]
//! that starts with one `/`, a badge of at most [`MAX_BADGE`].

use serde::{Deserialize, Serialize};

/// Longest title, in characters.
pub const MAX_TITLE: usize = 120;
/// Longest body, in characters.
pub const MAX_BODY: usize = 1000;
/// Longest path inside the app, in bytes.
pub const MAX_PATH: usize = 512;
/// Largest badge count.
pub const MAX_BADGE: u32 = 99_999;
/// Most ids one `mark read` request may name.
pub const MAX_MARK_IDS: usize = 100;

/// A notification an app posts to the members of the company it is installed in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewNotification {
    pub title: String,
    #[serde(default)]
    pub body: String,
    /// Where in the app it leads: a path of the app's own URL (`/orders/42`), opened when the
    /// user clicks the notification.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// The `sub` of the one member it is for; every member of the company when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
}

/// A notification an open app sends, through the desktop's bridge, to the signed-in user
/// alone (`POST /api/dashboard/installs/{install_id}/notify`, dashboard scope; the install
/// must hold the `notifications` scope). Same bounds as [`NewNotification`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UserNotification {
    pub title: String,
    #[serde(default)]
    pub body: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
}

/// An open app's badge for the signed-in user alone, set through the desktop's bridge
/// (`PUT /api/dashboard/installs/{install_id}/badge`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UserBadge {
    pub count: u32,
}

/// A stored notification's id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NotificationPosted {
    pub id: i64,
}

/// An app's badge count, for one member (`user`, a `sub`) or the whole company.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SetBadge {
    pub count: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
}

/// A notification as the dashboard shows it to its user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NotificationView {
    pub id: i64,
    pub install_id: i64,
    pub app_name: String,
    pub company_id: i64,
    pub title: String,
    pub body: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// Addressed to this user alone (else to their whole company).
    pub personal: bool,
    pub created_at: i64,
    pub read: bool,
}

/// Notifications to mark read: these `ids`, and (with `up_to`) every one up to that id.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct MarkRead {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ids: Vec<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub up_to: Option<i64>,
}

/// How many notifications a `mark read` newly marked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MarkedRead {
    pub marked: u64,
}

/// An install's badge as the dashboard's user sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BadgeView {
    pub install_id: i64,
    pub count: u32,
}
