//! Every path of the server's HTTP API, in one place: the templates (as routed and as
//! `/openapi.json` documents them, `{name}` for a parameter) and, for those with parameters, a
//! function that fills them in, percent-encoding each value. The desktop shell's API client
//! builds every URL from here; paths are relative to the server's base URL.

use std::fmt::{Display, Write};

// Server and OAuth 2.0 (RFC 6749, 7009, 7662, 8414).
pub const HEALTHZ: &str = "/healthz";
pub const READYZ: &str = "/readyz";
pub const OAUTH_METADATA: &str = "/.well-known/oauth-authorization-server";
pub const JWKS: &str = "/.well-known/jwks.json";
/// The authorization endpoint (an HTML page in the user's browser, not JSON).
pub const AUTHORIZE: &str = "/oauth2/authorize";
pub const TOKEN: &str = "/oauth2/token";
pub const REVOKE: &str = "/oauth2/revoke";
pub const INTROSPECT: &str = "/oauth2/introspect";

// The API third-party apps call with an install's access token.
pub const USERNAME: &str = "/api/username";
pub const API_ME: &str = "/api/me";
pub const API_COMPANY: &str = "/api/company";
pub const API_COMPANY_MEMBERS: &str = "/api/company/members";

// The dashboard's first-party API.
pub const ME: &str = "/api/dashboard/me";
pub const CATALOG: &str = "/api/dashboard/catalog";
pub const COMPANIES: &str = "/api/dashboard/companies";
pub const COMPANY_MEMBERS: &str = "/api/dashboard/companies/{company_id}/members";
pub const COMPANY_INVITATIONS: &str = "/api/dashboard/companies/{company_id}/invitations";
pub const COMPANY_INVITATION: &str =
    "/api/dashboard/companies/{company_id}/invitations/{invitation_id}";
pub const COMPANY_MEMBERSHIP: &str = "/api/dashboard/companies/{company_id}/membership";
pub const COMPANY_INSTALLS: &str = "/api/dashboard/companies/{company_id}/installs";
pub const MY_INVITATIONS: &str = "/api/dashboard/invitations";
pub const INVITATION_ACCEPT: &str = "/api/dashboard/invitations/{invitation_id}/accept";
pub const INVITATION_DECLINE: &str = "/api/dashboard/invitations/{invitation_id}/decline";
pub const APP_CONSENT: &str = "/api/dashboard/apps/{client_id}/consent";
pub const INSTALLS: &str = "/api/dashboard/installs";
pub const INSTALL: &str = "/api/dashboard/installs/{install_id}";
pub const INSTALL_LAUNCH: &str = "/api/dashboard/installs/{install_id}/launch";

// The developer API.
pub const DEV_APPS: &str = "/api/developer/apps";
pub const DEV_APP: &str = "/api/developer/apps/{client_id}";
pub const DEV_APP_SECRET: &str = "/api/developer/apps/{client_id}/secret";
pub const DEV_APP_DELIVERIES: &str = "/api/developer/apps/{client_id}/deliveries";
pub const DEV_DELIVERY_RETRY: &str = "/api/developer/apps/{client_id}/deliveries/{event_id}/retry";

/// Every path template above.
pub const ALL: &[&str] = &[
    HEALTHZ,
    READYZ,
    OAUTH_METADATA,
    JWKS,
    AUTHORIZE,
    TOKEN,
    REVOKE,
    INTROSPECT,
    USERNAME,
    API_ME,
    API_COMPANY,
    API_COMPANY_MEMBERS,
    ME,
    CATALOG,
    COMPANIES,
    COMPANY_MEMBERS,
    COMPANY_INVITATIONS,
    COMPANY_INVITATION,
    COMPANY_MEMBERSHIP,
    COMPANY_INSTALLS,
    MY_INVITATIONS,
    INVITATION_ACCEPT,
    INVITATION_DECLINE,
    APP_CONSENT,
    INSTALLS,
    INSTALL,
    INSTALL_LAUNCH,
    DEV_APPS,
    DEV_APP,
    DEV_APP_SECRET,
    DEV_APP_DELIVERIES,
    DEV_DELIVERY_RETRY,
];

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
    fn every_template_is_absolute_and_listed_once() {
        for (i, p) in ALL.iter().enumerate() {
            assert!(p.starts_with('/'), "{p}");
            assert_eq!(p.matches('{').count(), p.matches('}').count(), "{p}");
            assert!(!ALL[i + 1..].contains(p), "{p} listed twice");
        }
    }
}
