//! Install notifications sent to apps: `app.installed` and `app.uninstalled`.
//!
//! The JSON body is fixed when the event is queued (so retries send the same bytes) and signed
//! when it is sent (`Atrium-Signature: t=<unix>,v1=<hex HMAC-SHA256("<t>.<body>")>`, see
//! [`crate::keys::webhook_signature`]).

use serde::Serialize;

use crate::domain::secret;

pub const INSTALLED: &str = "app.installed";
pub const UNINSTALLED: &str = "app.uninstalled";

#[derive(Debug, Serialize)]
pub struct Event<'a> {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: &'a str,
    pub created_at: i64,
    pub app: AppRef<'a>,
    pub company: CompanyRef<'a>,
    pub user: UserRef<'a>,
    pub install_id: i64,
    pub scopes: &'a str,
}

#[derive(Debug, Serialize)]
pub struct AppRef<'a> {
    pub client_id: &'a str,
}

#[derive(Debug, Serialize)]
pub struct CompanyRef<'a> {
    pub id: i64,
    pub name: &'a str,
}

#[derive(Debug, Serialize)]
pub struct UserRef<'a> {
    pub username: &'a str,
}

/// A fresh, unique event id.
pub fn new_id() -> String {
    secret::public_id("evt_")
}
