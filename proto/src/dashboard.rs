//! Wire types of the first-party API (`/api/dashboard/...`, `/api/developer/...`), used by the
//! server and by the desktop shell. Times are Unix seconds.

use serde::{Deserialize, Serialize};

use crate::{ApplicationType, InstallState, OAuthMethod, ResponseType, Role};

/// A scope with the words shown on consent screens.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ScopeView {
    pub name: String,
    pub description: String,
}

/// An app as the catalog shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CatalogApp {
    pub client_id: String,
    pub name: String,
    pub description: String,
    pub developer: Option<String>,
    pub scopes: Vec<ScopeView>,
    /// The response types the app may be installed with.
    pub methods: Vec<ResponseType>,
    pub has_ui: bool,
    /// Installed through the app's own install URL: the dashboard opens it and the app starts
    /// the authorization request (with its own PKCE and state).
    #[serde(default)]
    pub install_url: Option<String>,
}

/// The signed-in user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Me {
    pub username: String,
    pub display_name: String,
    pub email: Option<String>,
}

/// A company and the user's role in it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CompanyView {
    pub id: i64,
    pub name: String,
    pub role: Role,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NewCompany {
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MemberView {
    pub username: String,
    pub display_name: String,
    pub role: Role,
}

/// An owner invites a user, by username, to join their company.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NewInvitation {
    #[cfg_attr(feature = "openapi", schema(pattern = "^[A-Za-z0-9._-]{1,64}$"))]
    pub username: String,
    /// A [`Role`]'s word: `member` (default) or `owner`; owner rights start only when the
    /// invitee accepts. A string, so the server answers an unknown role with its own error.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<crate::Role>))]
    pub role: Option<String>,
}

/// The answer to an invitation: the same whether or not the username exists.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct InvitationSent {
    /// Always `pending`.
    pub status: String,
    /// Seconds until the invitation expires unless accepted.
    pub expires_in: i64,
}

/// A pending invitation, as its company's owners and its invitee see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct InvitationView {
    pub id: i64,
    pub company_id: i64,
    pub company_name: String,
    /// The invitee, as the owner typed it.
    pub username: String,
    pub role: Role,
    pub invited_by: Option<String>,
    pub created_at: i64,
    pub expires_at: i64,
}

/// An app installed in a company.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct InstallView {
    pub id: i64,
    pub client_id: String,
    pub app_name: String,
    pub company_id: i64,
    pub scopes: Vec<String>,
    pub state: InstallState,
    pub installed_by: Option<String>,
    pub has_ui: bool,
    pub created_at: i64,
    pub updated_at: i64,
}

/// What the consent screen shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ConsentView {
    pub app: CatalogApp,
    pub company: CompanyView,
    /// The scopes that will be asked for, in plain words.
    pub scopes: Vec<ScopeView>,
    /// Already installed in this company (a new consent widens it).
    pub installed: bool,
}

/// The user allowed an install. Fields after `company_id` are the authorization request's,
/// all optional (defaults: the app's method — CODE when it has it —, its only redirect URI, and
/// every scope it registered).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct InstallRequest {
    pub client_id: String,
    pub company_id: i64,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<crate::ResponseType>))]
    pub response_type: Option<String>,
    /// One of the app's registered redirect URIs; absent, the first one it registered.
    #[serde(default)]
    pub redirect_uri: Option<String>,
    #[serde(default)]
    pub scope: Option<String>,
    #[serde(default)]
    pub state: Option<String>,
    #[serde(default)]
    pub code_challenge: Option<String>,
    #[serde(default)]
    pub code_challenge_method: Option<String>,
}

/// Where to send the user after an approved install.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct InstallAnswer {
    pub install: InstallView,
    /// The app's redirect URI with the code (CODE) or the token in the fragment (TOKEN).
    pub redirect_to: String,
    pub method: ResponseType,
}

/// An app to open: its UI URL carrying a short-lived signed launch token in the fragment
/// (`#atrium_launch=<JWT>`), which the app must accept once (by its `jti`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LaunchView {
    pub url: String,
    pub expires_at: i64,
}

/// A developer registers an app.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NewApp {
    /// 1 to 100 characters, no control characters.
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 100))]
    pub name: String,
    #[serde(default)]
    /// At most 2000 characters; line breaks allowed, other control characters not.
    #[cfg_attr(feature = "openapi", schema(max_length = 2000))]
    pub description: String,
    /// At most 10, each at most 2048 characters.
    #[cfg_attr(feature = "openapi", schema(min_items = 1, max_items = 10, inline))]
    pub redirect_uris: Vec<String>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_length = 2048))]
    pub iframe_url: Option<String>,
    #[serde(default)]
    /// Where install notifications are POSTed: https on a public address. Loopback, private,
    /// link-local, CGNAT, multicast and reserved addresses (and IPv6 forms of them) are refused,
    /// here and again when sending, after DNS, unless the server's operator allows private
    /// webhooks. Redirects are not followed.
    #[cfg_attr(feature = "openapi", schema(max_length = 2048))]
    pub webhook_url: Option<String>,
    /// Space-separated scopes the app may ask for.
    pub scopes: String,
    /// An [`OAuthMethod`]'s word: `code`, `token` or `both`. A string, so the server answers
    /// an unknown method with its own error.
    #[cfg_attr(feature = "openapi", schema(value_type = crate::OAuthMethod))]
    pub method: String,
    /// A public client (no secret, PKCE required).
    #[serde(default)]
    pub public: bool,
    /// An [`ApplicationType`]'s word: `web` (default) or `native` (RFC 8252: reverse-domain
    /// private-use schemes, and loopback redirects on any port for public native apps). A
    /// string, so the server answers an unknown type with its own error.
    #[serde(default)]
    pub application_type: Option<String>,
    /// Where the dashboard sends a user who installs the app; the app then starts the
    /// authorization request itself. Required for public apps using CODE.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_length = 2048))]
    pub install_url: Option<String>,
    /// How the app's OpenID Connect ID tokens are signed: `RS256` (the default) or `EdDSA`.
    #[serde(default)]
    pub id_token_signed_response_alg: Option<String>,
    /// Where `/oauth2/logout` may send a user back to after signing out (OpenID Connect
    /// RP-Initiated Logout): exact URIs, by the rules of redirect URIs; at most 10.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_items = 10))]
    pub post_logout_redirect_uris: Vec<String>,
}

/// Changes to an app; absent fields stay as they are (`""` clears an optional URL).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AppPatch {
    #[serde(default)]
    /// 1 to 100 characters, no control characters.
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 100))]
    pub name: Option<String>,
    #[serde(default)]
    /// At most 2000 characters; line breaks allowed, other control characters not.
    #[cfg_attr(feature = "openapi", schema(max_length = 2000))]
    pub description: Option<String>,
    #[serde(default)]
    /// At most 10, each at most 2048 characters; at least one.
    #[cfg_attr(feature = "openapi", schema(max_items = 10))]
    pub redirect_uris: Option<Vec<String>>,
    #[serde(default)]
    /// `""` removes it.
    #[cfg_attr(feature = "openapi", schema(max_length = 2048))]
    pub iframe_url: Option<String>,
    #[serde(default)]
    /// Checked as when registering; `""` removes it.
    #[cfg_attr(feature = "openapi", schema(max_length = 2048))]
    pub webhook_url: Option<String>,
    #[serde(default)]
    /// `""` clears it (refused for public apps using CODE).
    #[cfg_attr(feature = "openapi", schema(max_length = 2048))]
    pub install_url: Option<String>,
    #[serde(default)]
    pub scopes: Option<String>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<crate::OAuthMethod>))]
    pub method: Option<String>,
    /// `RS256` or `EdDSA`.
    #[serde(default)]
    pub id_token_signed_response_alg: Option<String>,
    /// Replaces the list; `[]` empties it.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_items = 10))]
    pub post_logout_redirect_uris: Option<Vec<String>>,
}

/// A developer's app.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AppView {
    pub client_id: String,
    pub name: String,
    pub description: String,
    pub redirect_uris: Vec<String>,
    pub iframe_url: Option<String>,
    pub webhook_url: Option<String>,
    pub scopes: String,
    pub method: OAuthMethod,
    pub public: bool,
    #[serde(default)]
    pub application_type: ApplicationType,
    #[serde(default)]
    pub install_url: Option<String>,
    /// `RS256` or `EdDSA`.
    #[serde(default)]
    pub id_token_signed_response_alg: String,
    #[serde(default)]
    pub post_logout_redirect_uris: Vec<String>,
    pub created_at: i64,
}

/// Answer of registering an app: the secrets are shown this once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AppCreated {
    pub app: AppView,
    pub client_secret: Option<String>,
    pub webhook_secret: String,
}

/// Answer of rotating a client secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SecretRotated {
    pub client_id: String,
    pub client_secret: String,
    /// Always true: the previous secret stopped working when this one was made.
    pub previous_secret_revoked: bool,
}

/// An install notification not delivered yet: waiting for its first attempt, retrying, or
/// given up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeliveryView {
    pub event_id: String,
    pub event_type: String,
    pub url: String,
    pub state: DeliveryState,
    /// Attempts made so far.
    pub attempts: i64,
    /// Why the last attempt failed, classified ("connection refused", "timeout", "HTTP 404",
    /// "destination not allowed", "TLS error"...); never a raw transport error.
    pub last_error: Option<String>,
    /// When the next attempt is due; `None` once given up.
    pub next_attempt_at: Option<i64>,
    pub created_at: i64,
}

/// One page of a list endpoint. Ask for the next page with `?cursor=<next_cursor>` (and the
/// same `limit`); `next_cursor` is absent on the last page. Cursors are opaque.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Page<T> {
    pub items: Vec<T>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

impl<T> Default for Page<T> {
    fn default() -> Self {
        Page {
            items: Vec::new(),
            next_cursor: None,
        }
    }
}

/// Items per page when the request names no `limit`.
pub const DEFAULT_PAGE_LIMIT: usize = 50;
/// The largest `limit` a list endpoint accepts.
pub const MAX_PAGE_LIMIT: usize = 100;
/// Where a notification stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum DeliveryState {
    /// Not attempted yet.
    Pending,
    /// Failed at least once; will be tried again at `next_attempt_at`.
    Retrying,
    /// Given up after about a day of failures; "retry now" tries once more.
    Failed,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The enums of a view read and write the same JSON as the strings they replaced.
    #[test]
    fn views_carry_their_words_as_before() {
        let company: CompanyView =
            serde_json::from_value(json!({"id": 1, "name": "Acme", "role": "owner"})).unwrap();
        assert_eq!(company.role, Role::Owner);
        assert_eq!(serde_json::to_value(&company).unwrap()["role"], "owner");
        let install = json!({
            "id": 2, "client_id": "c", "app_name": "A", "company_id": 1, "scopes": [],
            "state": "uninstalled", "installed_by": null, "has_ui": false,
            "created_at": 0, "updated_at": 0,
        });
        let view: InstallView = serde_json::from_value(install.clone()).unwrap();
        assert_eq!(view.state, InstallState::Uninstalled);
        assert_eq!(serde_json::to_value(&view).unwrap(), install);
    }
}
