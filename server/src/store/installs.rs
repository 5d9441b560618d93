//! Apps installed in companies. Uninstalling revokes what was issued under the install.

use async_trait::async_trait;

use super::{Page, PageReq, StoreResult};
use crate::domain::scope::ScopeSet;

/// An app installed in a company.
#[derive(Debug, Clone)]
pub struct Install {
    pub id: i64,
    pub app_id: i64,
    pub client_id: String,
    pub app_name: String,
    pub iframe_url: Option<String>,
    pub company_id: i64,
    pub installed_by: Option<String>,
    pub scopes: ScopeSet,
    pub active: bool,
    pub created_at: i64,
    pub updated_at: i64,
}

/// What recording an install did.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub install: Install,
    /// A notification was queued for the app (the notification worker has work).
    pub queued: bool,
}

#[async_trait]
pub trait InstallStore: Send + Sync {
    /// Records (or widens) the active install of an app in a company, and in the same
    /// transaction queues `app.installed` when the install is new and the app has a webhook.
    async fn record_install(
        &self,
        app_id: i64,
        company_id: i64,
        user_id: i64,
        scopes: ScopeSet,
    ) -> StoreResult<Recorded>;

    async fn install(&self, id: i64) -> StoreResult<Option<Install>>;

    async fn installs_of_company(&self, company: i64) -> StoreResult<Vec<Install>>;

    /// A page of a company's active installs, by app name.
    async fn installs_page(&self, company: i64, page: PageReq) -> StoreResult<Page<Install>>;

    /// Revokes every token of the install, marks it uninstalled and queues `app.uninstalled`,
    /// in one transaction. False when it was not active.
    async fn uninstall(&self, id: i64, by_user: i64) -> StoreResult<bool>;
}
