//! Every path of the server's HTTP API, in one place: the templates (as routed and as
//! `/openapi.json` documents them, `{name}` for a parameter) and, for those with parameters, a
//! function that fills them in, percent-encoding each value. Paths are relative to the server's
//! base URL.
//!
//! The server routes and documents each path through its constant (a warp route is checked
//! against its template with [`matches_segments`] when the server compiles), and the desktop
//! shell's API client and the test kit build every URL from here: a renamed path changes
//! everywhere at once, or fails to compile.

use std::fmt::{Display, Write};

/// Declares each path as a constant and lists them all in [`ALL`], from one list, so that a
/// path cannot be declared without being listed (the server's tests walk `ALL`).
macro_rules! paths {
    ($($(#[$doc:meta])* $name:ident = $path:literal;)+) => {
        $($(#[$doc])* pub const $name: &str = $path;)+

        /// Every path template above, in order.
        pub const ALL: &[&str] = &[$($name,)+];
    };
}

paths! {
    // Server and OAuth 2.0 (RFC 6749, 7009, 7662, 8414).
    HEALTHZ = "/healthz";
    READYZ = "/readyz";
    /// This API's own OpenAPI 3.1 description.
    OPENAPI = "/openapi.json";
    /// Prometheus metrics, on the metrics listener only (`--metrics-addr`).
    METRICS = "/metrics";
    OAUTH_METADATA = "/.well-known/oauth-authorization-server";
    /// OpenID Connect Discovery 1.0: the same document as [`OAUTH_METADATA`].
    OPENID_CONFIGURATION = "/.well-known/openid-configuration";
    JWKS = "/.well-known/jwks.json";
    /// The authorization endpoint (an HTML page in the user's browser, not JSON).
    AUTHORIZE = "/oauth2/authorize";
    TOKEN = "/oauth2/token";
    REVOKE = "/oauth2/revoke";
    INTROSPECT = "/oauth2/introspect";
    /// OpenID Connect's UserInfo endpoint (GET and POST).
    USERINFO = "/oauth2/userinfo";
    /// OpenID Connect RP-Initiated Logout's `end_session_endpoint` (an HTML page, GET and POST).
    END_SESSION = "/oauth2/logout";
    /// Dynamic client registration (RFC 7591), with a developer's desktop token.
    REGISTER = "/oauth2/register";

    // The browser's pages (HTML): signing in and out, and the signed-in home page.
    HOME = "/";
    LOGIN = "/login";
    LOGOUT = "/logout";

    // The API third-party apps call with an install's access token.
    USERNAME = "/api/username";
    API_ME = "/api/me";
    API_COMPANY = "/api/company";
    API_COMPANY_MEMBERS = "/api/company/members";
    /// An app posts a notification to its users (scope `notifications`).
    API_NOTIFICATIONS = "/api/notifications";
    /// An app sets its badge count (scope `notifications`).
    API_BADGE = "/api/badge";

    // The dashboard's first-party API.
    ME = "/api/dashboard/me";
    CATALOG = "/api/dashboard/catalog";
    COMPANIES = "/api/dashboard/companies";
    COMPANY_MEMBERS = "/api/dashboard/companies/{company_id}/members";
    COMPANY_INVITATIONS = "/api/dashboard/companies/{company_id}/invitations";
    COMPANY_INVITATION = "/api/dashboard/companies/{company_id}/invitations/{invitation_id}";
    COMPANY_MEMBERSHIP = "/api/dashboard/companies/{company_id}/membership";
    COMPANY_INSTALLS = "/api/dashboard/companies/{company_id}/installs";
    MY_INVITATIONS = "/api/dashboard/invitations";
    INVITATION_ACCEPT = "/api/dashboard/invitations/{invitation_id}/accept";
    INVITATION_DECLINE = "/api/dashboard/invitations/{invitation_id}/decline";
    APP_CONSENT = "/api/dashboard/apps/{client_id}/consent";
    INSTALLS = "/api/dashboard/installs";
    INSTALL = "/api/dashboard/installs/{install_id}";
    INSTALL_LAUNCH = "/api/dashboard/installs/{install_id}/launch";
    /// An open app notifies the signed-in user through the desktop's bridge.
    INSTALL_NOTIFY = "/api/dashboard/installs/{install_id}/notify";
    /// An open app sets its badge for the signed-in user through the desktop's bridge.
    INSTALL_BADGE = "/api/dashboard/installs/{install_id}/badge";
    /// The user's notifications from their apps, newest first.
    NOTIFICATIONS = "/api/dashboard/notifications";
    NOTIFICATIONS_READ = "/api/dashboard/notifications/read";
    /// The badges of the user's installed apps.
    BADGES = "/api/dashboard/badges";
    /// Server-Sent Events: the user's new notifications and badge changes as they happen.
    EVENTS = "/api/dashboard/events";

    // The developer API.
    DEV_APPS = "/api/developer/apps";
    DEV_APP = "/api/developer/apps/{client_id}";
    DEV_APP_SECRET = "/api/developer/apps/{client_id}/secret";
    DEV_APP_DELIVERIES = "/api/developer/apps/{client_id}/deliveries";
    DEV_DELIVERY_RETRY = "/api/developer/apps/{client_id}/deliveries/{event_id}/retry";
}

/// Whether `template` is the path that the segments `route` match, segment by segment: a
/// literal must be equal, and a `{name}` parameter of the template must face a `{}` (a typed
/// segment of the route). `const`, so that the server checks each of its warp routes against
/// its template when it compiles.
pub const fn matches_segments(template: &str, route: &[&str]) -> bool {
    let t = template.as_bytes();
    if t.is_empty() || t[0] != b'/' {
        return false;
    }
    // "/" alone is the route of no segment.
    if t.len() == 1 {
        return route.is_empty();
    }
    let mut pos = 1;
    let mut i = 0;
    while i < route.len() {
        let seg = route[i].as_bytes();
        // The template's next segment: t[pos..end].
        let mut end = pos;
        while end < t.len() && t[end] != b'/' {
            end += 1;
        }
        let is_param = end > pos && t[pos] == b'{' && t[end - 1] == b'}';
        if is_param {
            if !(seg.len() == 2 && seg[0] == b'{' && seg[1] == b'}') {
                return false;
            }
        } else {
            if seg.len() != end - pos {
                return false;
            }
            let mut k = 0;
            while k < seg.len() {
                if seg[k] != t[pos + k] {
                    return false;
                }
                k += 1;
            }
        }
        i += 1;
        if end == t.len() {
            return i == route.len();
        }
        pos = end + 1;
    }
    false
}

pub fn company_members(company_id: i64) -> String {
    fill(COMPANY_MEMBERS, &[&company_id])
}

pub fn company_invitations(company_id: i64) -> String {
    fill(COMPANY_INVITATIONS, &[&company_id])
}

pub fn company_invitation(company_id: i64, invitation_id: i64) -> String {
    fill(COMPANY_INVITATION, &[&company_id, &invitation_id])
}

pub fn company_membership(company_id: i64) -> String {
    fill(COMPANY_MEMBERSHIP, &[&company_id])
}

pub fn company_installs(company_id: i64) -> String {
    fill(COMPANY_INSTALLS, &[&company_id])
}

pub fn invitation_accept(invitation_id: i64) -> String {
    fill(INVITATION_ACCEPT, &[&invitation_id])
}

pub fn invitation_decline(invitation_id: i64) -> String {
    fill(INVITATION_DECLINE, &[&invitation_id])
}

/// The consent screen's data for installing `client_id` into `company_id`.
pub fn app_consent(client_id: &str, company_id: i64) -> String {
    format!(
        "{}?company_id={company_id}",
        fill(APP_CONSENT, &[&client_id])
    )
}

pub fn install(install_id: i64) -> String {
    fill(INSTALL, &[&install_id])
}

pub fn install_launch(install_id: i64) -> String {
    fill(INSTALL_LAUNCH, &[&install_id])
}

pub fn install_notify(install_id: i64) -> String {
    fill(INSTALL_NOTIFY, &[&install_id])
}

pub fn install_badge(install_id: i64) -> String {
    fill(INSTALL_BADGE, &[&install_id])
}

pub fn dev_app(client_id: &str) -> String {
    fill(DEV_APP, &[&client_id])
}

pub fn dev_app_secret(client_id: &str) -> String {
    fill(DEV_APP_SECRET, &[&client_id])
}

pub fn dev_app_deliveries(client_id: &str) -> String {
    fill(DEV_APP_DELIVERIES, &[&client_id])
}

pub fn dev_delivery_retry(client_id: &str, event_id: &str) -> String {
    fill(DEV_DELIVERY_RETRY, &[&client_id, &event_id])
}

/// `path` asking for the page of a list after `cursor` (the previous page's `next_cursor`), or
/// the first page without one.
pub fn page(path: &str, cursor: Option<&str>) -> String {
    match cursor.filter(|c| !c.is_empty()) {
        Some(c) => format!("{path}?cursor={}", encode(c)),
        None => path.to_string(),
    }
}

/// `template` with its `{...}` parameters replaced, in order, by `values` (percent-encoded).
fn fill(template: &str, values: &[&dyn Display]) -> String {
    let mut out = String::with_capacity(template.len() + 16);
    let mut values = values.iter();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let close = rest[open..].find('}').map_or(rest.len(), |c| open + c + 1);
        if let Some(v) = values.next() {
            out.push_str(&encode(&v.to_string()));
        }
        rest = &rest[close..];
    }
    out.push_str(rest);
    out
}

/// Percent-encodes everything but RFC 3986's unreserved characters, so a value stays one path
/// segment or one query value whatever it holds.
fn encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_are_filled_in_order() {
        assert_eq!(
            company_invitation(3, 41),
            "/api/dashboard/companies/3/invitations/41"
        );
        assert_eq!(
            dev_delivery_retry("app-1", "evt_9"),
            "/api/developer/apps/app-1/deliveries/evt_9/retry"
        );
        assert_eq!(
            app_consent("abc", 7),
            "/api/dashboard/apps/abc/consent?company_id=7"
        );
    }

    #[test]
    fn a_value_cannot_leave_its_segment() {
        assert_eq!(dev_app("../me?x=1"), "/api/developer/apps/..%2Fme%3Fx%3D1");
        assert_eq!(dev_app("a b/c"), "/api/developer/apps/a%20b%2Fc");
        assert_eq!(
            page(CATALOG, Some("k&z=1")),
            "/api/dashboard/catalog?cursor=k%26z%3D1"
        );
    }

    #[test]
    fn the_first_page_has_no_cursor() {
        assert_eq!(page(DEV_APPS, None), DEV_APPS);
        assert_eq!(page(DEV_APPS, Some("")), DEV_APPS);
    }

    #[test]
    fn routes_match_their_template_segment_by_segment() {
        assert!(matches_segments(HOME, &[]));
        assert!(matches_segments(TOKEN, &["oauth2", "token"]));
        assert!(matches_segments(
            COMPANY_INVITATION,
            &["api", "dashboard", "companies", "{}", "invitations", "{}"]
        ));
        assert!(!matches_segments(TOKEN, &["oauth2"]));
        assert!(!matches_segments(TOKEN, &["oauth2", "token", "x"]));
        assert!(!matches_segments(TOKEN, &["oauth2", "tokens"]));
        assert!(!matches_segments(
            INSTALL,
            &["api", "dashboard", "installs", "1"]
        ));
        assert!(!matches_segments(
            INSTALLS,
            &["api", "dashboard", "installs", "{}"]
        ));
        assert!(!matches_segments(HOME, &["login"]));
    }

    #[test]
    fn every_template_is_absolute_and_listed_once() {
        for (i, p) in ALL.iter().enumerate() {
            assert!(p.starts_with('/'), "{p}");
            assert_eq!(p.matches('{').count(), p.matches('}').count(), "{p}");
            assert!(!ALL[i + 1..].contains(p), "{p} listed twice");
        }
    }
}
