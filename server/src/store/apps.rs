//! Apps as the developer registers them, and as OAuth clients.

use async_trait::async_trait;

use super::{Page, PageReq, StoreResult};
use crate::domain::redirect::ApplicationType;
use crate::domain::scope::ScopeSet;
use crate::domain::secret::TokenDigest;

/// An app as an OAuth client.
#[derive(Debug, Clone)]
pub struct Client {
    pub app_id: i64,
    pub client_id: String,
    /// `None` for public clients (PKCE only).
    pub secret_digest: Option<TokenDigest>,
    pub name: String,
    pub description: String,
    pub developer: Option<String>,
    pub developer_id: Option<i64>,
    pub redirect_uris: Vec<String>,
    pub iframe_url: Option<String>,
    pub webhook_url: Option<String>,
    pub scopes: ScopeSet,
    pub allow_code: bool,
    pub allow_token: bool,
    pub first_party: bool,
    pub application_type: ApplicationType,
    /// Where the dashboard sends a user to install the app (`initiate_login_uri`).
    pub install_url: Option<String>,
    pub webhook_version: i64,
    pub created_at: i64,
}

impl Client {
    pub fn is_public(&self) -> bool {
        self.secret_digest.is_none()
    }

    /// RFC 8252 §7.3: a public native app's loopback-IP redirect matches on any port. Web apps
    /// and confidential clients keep exact matching.
    pub fn loopback_any_port(&self) -> bool {
        self.application_type == ApplicationType::Native && self.is_public()
    }
}

#[derive(Debug, Clone)]
pub struct NewApp {
    pub client_id: String,
    pub secret_digest: Option<TokenDigest>,
    pub name: String,
    pub description: String,
    pub developer_id: Option<i64>,
    pub redirect_uris: Vec<String>,
    pub iframe_url: Option<String>,
    pub webhook_url: Option<String>,
    pub install_url: Option<String>,
    pub scopes: ScopeSet,
    pub allow_code: bool,
    pub allow_token: bool,
    pub application_type: ApplicationType,
}

/// Changes a developer makes to an app; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct AppUpdate {
    pub name: Option<String>,
    pub description: Option<String>,
    pub redirect_uris: Option<Vec<String>>,
    pub iframe_url: Option<Option<String>>,
    pub webhook_url: Option<Option<String>>,
    pub install_url: Option<Option<String>>,
    pub scopes: Option<ScopeSet>,
    pub allow_code: Option<bool>,
    pub allow_token: Option<bool>,
}

#[async_trait]
pub trait AppStore: Send + Sync {
    /// Registers an app. With `quota`, refuses (`StoreError::Quota`) when its developer already
    /// has that many apps; the count and the insert are one transaction.
    async fn create_app(&self, app: NewApp, quota: Option<u32>) -> StoreResult<i64>;

    async fn client(&self, client_id: &str) -> StoreResult<Option<Client>>;

    /// Replaces a client's secret digest; the old secret stops working at once.
    async fn set_client_secret(
        &self,
        client_id: &str,
        digest: Option<TokenDigest>,
    ) -> StoreResult<()>;

    /// A page of the registered third-party apps (not deleted, not first-party), by name.
    async fn catalog(&self, page: PageReq) -> StoreResult<Page<Client>>;

    /// A page of a developer's apps, by name.
    async fn apps_of_developer(&self, developer: i64, page: PageReq) -> StoreResult<Page<Client>>;

    async fn update_app(&self, client_id: &str, update: AppUpdate) -> StoreResult<()>;

    /// Uninstalls the app everywhere (notifying each install) and deletes it.
    async fn delete_app(&self, client_id: &str, by_user: i64) -> StoreResult<()>;
}
