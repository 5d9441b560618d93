//! The typed client of the server's HTTP API: one method per endpoint the dashboard uses, each
//! building its path from [`atrium_proto::paths`] and answering the endpoint's wire type. Calls
//! go through [`Shell::call`] (bearer token, one silent refresh on 401) and lists and reads the
//! offline view needs through [`Shell::fetch`] (cached). No other module writes a URL path.

use atrium_proto::dashboard::{
    AppCreated, AppPatch, AppView, CatalogApp, CompanyView, ConsentView, DeliveryView,
    InstallAnswer, InstallRequest, InstallView, InvitationSent, InvitationView, LaunchView, Me,
    MemberView, NewApp, NewCompany, NewInvitation, Page, SecretRotated,
};
use atrium_proto::inbox::{
    BadgeView, MarkRead, MarkedRead, NotificationPosted, NotificationView, UserBadge,
    UserNotification,
};
use atrium_proto::ipc::Fetched;
use atrium_proto::{paths, Health, Role};
use reqwest::Method;
use serde::de::DeserializeOwned;

use crate::error::{from_http, Error};
use crate::shell::Shell;

type Res<T> = Result<T, Error>;

/// The API as the signed-in user (or anonymously, for the health check).
pub struct Api<'a> {
    shell: &'a Shell,
}

impl Shell {
    pub fn api(&self) -> Api<'_> {
        Api { shell: self }
    }
}

impl Api<'_> {
    async fn get<T: DeserializeOwned>(&self, path: &str) -> Res<T> {
        self.shell.call::<(), T>(Method::GET, path, None).await
    }

    /// A call without a body whose answer is not needed.
    async fn act(&self, method: Method, path: &str) -> Res<()> {
        self.shell
            .call::<(), serde_json::Value>(method, path, None)
            .await
            .map(|_| ())
    }

    /// `GET /readyz`, without a token: the server answers and so does its database. A server
    /// that is up but not ready (503) says why.
    pub async fn health(&self) -> Res<Health> {
        let res = self
            .shell
            .http()
            .get(self.shell.endpoint(paths::READYZ)?)
            .send()
            .await
            .map_err(from_http)?;
        let status = res.status();
        match res.json::<Health>().await {
            Ok(health) if status.is_success() || status.as_u16() == 503 => Ok(health),
            _ if !status.is_success() => {
                Err(Error::Offline(format!("the server answered {status}")))
            }
            _ => Err(Error::Offline(
                "the answer is not an Atrium health report".into(),
            )),
        }
    }

    pub async fn me(&self) -> Res<Fetched<Me>> {
        self.shell.fetch(paths::ME).await
    }

    /// A page of the catalog; each page is cached on its own, so the offline view shows the
    /// pages the user had loaded.
    pub async fn catalog(&self, cursor: Option<&str>) -> Res<Fetched<Page<CatalogApp>>> {
        self.shell.fetch(&paths::page(paths::CATALOG, cursor)).await
    }

    pub async fn companies(&self, cursor: Option<&str>) -> Res<Fetched<Page<CompanyView>>> {
        self.shell
            .fetch(&paths::page(paths::COMPANIES, cursor))
            .await
    }

    pub async fn create_company(&self, name: String) -> Res<CompanyView> {
        let body = NewCompany { name };
        (self.shell)
            .call(Method::POST, paths::COMPANIES, Some(&body))
            .await
    }

    pub async fn company_members(
        &self,
        company_id: i64,
        cursor: Option<&str>,
    ) -> Res<Fetched<Page<MemberView>>> {
        let path = paths::page(&paths::company_members(company_id), cursor);
        self.shell.fetch(&path).await
    }

    pub async fn invite(
        &self,
        company_id: i64,
        username: String,
        role: Role,
    ) -> Res<InvitationSent> {
        let body = NewInvitation {
            username,
            role: Some(role.as_str().into()),
        };
        let path = paths::company_invitations(company_id);
        self.shell.call(Method::POST, &path, Some(&body)).await
    }

    pub async fn company_invitations(&self, company_id: i64) -> Res<Vec<InvitationView>> {
        self.get(&paths::company_invitations(company_id)).await
    }

    pub async fn revoke_invitation(&self, company_id: i64, invitation_id: i64) -> Res<()> {
        let path = paths::company_invitation(company_id, invitation_id);
        self.act(Method::DELETE, &path).await
    }

    pub async fn my_invitations(&self) -> Res<Vec<InvitationView>> {
        self.get(paths::MY_INVITATIONS).await
    }

    pub async fn accept_invitation(&self, invitation_id: i64) -> Res<CompanyView> {
        let path = paths::invitation_accept(invitation_id);
        self.shell.call::<(), _>(Method::POST, &path, None).await
    }

    pub async fn decline_invitation(&self, invitation_id: i64) -> Res<()> {
        let path = paths::invitation_decline(invitation_id);
        self.act(Method::POST, &path).await
    }

    pub async fn leave_company(&self, company_id: i64) -> Res<()> {
        let path = paths::company_membership(company_id);
        self.act(Method::DELETE, &path).await
    }

    pub async fn company_installs(
        &self,
        company_id: i64,
        cursor: Option<&str>,
    ) -> Res<Fetched<Page<InstallView>>> {
        let path = paths::page(&paths::company_installs(company_id), cursor);
        self.shell.fetch(&path).await
    }

    pub async fn consent(&self, client_id: &str, company_id: i64) -> Res<ConsentView> {
        self.get(&paths::app_consent(client_id, company_id)).await
    }

    /// Approves an install, as the consent screen's Allow does.
    pub async fn install(&self, request: &InstallRequest) -> Res<InstallAnswer> {
        (self.shell)
            .call(Method::POST, paths::INSTALLS, Some(request))
            .await
    }

    pub async fn get_install(&self, install_id: i64) -> Res<InstallView> {
        self.get(&paths::install(install_id)).await
    }

    pub async fn uninstall(&self, install_id: i64) -> Res<InstallView> {
        let path = paths::install(install_id);
        self.shell.call::<(), _>(Method::DELETE, &path, None).await
    }

    pub async fn launch(&self, install_id: i64) -> Res<LaunchView> {
        let path = paths::install_launch(install_id);
        self.shell.call::<(), _>(Method::POST, &path, None).await
    }

    /// A page of the user's notifications, newest first.
    pub async fn notifications(&self, cursor: Option<&str>) -> Res<Page<NotificationView>> {
        self.get(&paths::page(paths::NOTIFICATIONS, cursor)).await
    }

    pub async fn mark_read(&self, ids: Vec<i64>) -> Res<MarkedRead> {
        let body = MarkRead { ids, up_to: None };
        (self.shell)
            .call(Method::POST, paths::NOTIFICATIONS_READ, Some(&body))
            .await
    }

    pub async fn badges(&self) -> Res<Vec<BadgeView>> {
        self.get(paths::BADGES).await
    }

    /// An open app's bridge notifies the signed-in user.
    pub async fn notify_user(
        &self,
        install_id: i64,
        n: &UserNotification,
    ) -> Res<NotificationPosted> {
        let path = paths::install_notify(install_id);
        self.shell.call(Method::POST, &path, Some(n)).await
    }

    /// An open app's bridge sets its badge for the signed-in user.
    pub async fn set_user_badge(&self, install_id: i64, badge: &UserBadge) -> Res<BadgeView> {
        let path = paths::install_badge(install_id);
        self.shell.call(Method::PUT, &path, Some(badge)).await
    }

    pub async fn dev_apps(&self, cursor: Option<&str>) -> Res<Fetched<Page<AppView>>> {
        self.shell
            .fetch(&paths::page(paths::DEV_APPS, cursor))
            .await
    }

    pub async fn dev_register(&self, app: &NewApp) -> Res<AppCreated> {
        (self.shell)
            .call(Method::POST, paths::DEV_APPS, Some(app))
            .await
    }

    pub async fn dev_update(&self, client_id: &str, patch: &AppPatch) -> Res<AppView> {
        let path = paths::dev_app(client_id);
        self.shell.call(Method::PATCH, &path, Some(patch)).await
    }

    pub async fn dev_rotate_secret(&self, client_id: &str) -> Res<SecretRotated> {
        let path = paths::dev_app_secret(client_id);
        self.shell.call::<(), _>(Method::POST, &path, None).await
    }

    pub async fn dev_delete(&self, client_id: &str) -> Res<()> {
        self.act(Method::DELETE, &paths::dev_app(client_id)).await
    }

    pub async fn dev_deliveries(&self, client_id: &str) -> Res<Vec<DeliveryView>> {
        self.get(&paths::dev_app_deliveries(client_id)).await
    }

    pub async fn dev_retry_delivery(&self, client_id: &str, event_id: &str) -> Res<DeliveryView> {
        let path = paths::dev_delivery_retry(client_id, event_id);
        self.shell.call::<(), _>(Method::POST, &path, None).await
    }
}
