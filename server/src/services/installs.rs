//! The catalog and installs: which apps can be installed, what a company has installed, the
//! consent the dashboard shows before an install, and uninstalling.
//!
//! An install is visible to the members of its company only (not found for anyone else);
//! uninstalling is for owners. The install itself is approved by the OAuth layer
//! ([`crate::oauth::authorize::approve`]), like any authorization request.

use super::companies::{self, role_in};
use super::{ServiceError, ServiceResult};
use crate::domain::ids::{AppId, ClientId, CompanyId, InstallId};
use crate::platform::Platform;
use crate::store::{Client, Company, Install, Page, PageReq, Role, User};

/// A page of the catalog (third-party apps, by name).
pub async fn catalog(p: &Platform, page: PageReq) -> ServiceResult<Page<Client>> {
    Ok(p.store.catalog(page).await?)
}

/// A registered third-party app; Atrium's own client is not one.
pub async fn live_app(p: &Platform, client_id: &ClientId) -> ServiceResult<Client> {
    match p.store.client(client_id.as_str()).await? {
        Some(c) if !c.first_party => Ok(c),
        _ => Err(ServiceError::NotFound("app")),
    }
}

/// A page of a company's installs, for a member.
pub async fn of_company(
    p: &Platform,
    user: &User,
    company: CompanyId,
    page: PageReq,
) -> ServiceResult<Page<Install>> {
    role_in(p, company, user).await?;
    Ok(p.store.installs_page(company.get(), page).await?)
}

/// What the dashboard shows before installing an app in a company.
pub struct Consent {
    pub app: Client,
    pub company: Company,
    /// The user's role in the company.
    pub role: Role,
    /// Whether the app is installed there already.
    pub installed: bool,
}

/// The consent for installing `client_id` in `company`, for a member of it.
pub async fn consent(
    p: &Platform,
    user: &User,
    client_id: &ClientId,
    company: CompanyId,
) -> ServiceResult<Consent> {
    let role = role_in(p, company, user).await?;
    let app = live_app(p, client_id).await?;
    let company = companies::get(p, company).await?;
    let installed = p
        .store
        .installs_of_company(company.id)
        .await?
        .iter()
        .any(|i| AppId::new(i.app_id) == AppId::new(app.app_id));
    Ok(Consent {
        app,
        company,
        role,
        installed,
    })
}

/// An install visible to the user (a member of its company), with their role there; not
/// found for anyone else.
pub async fn visible(p: &Platform, user: &User, id: InstallId) -> ServiceResult<(Install, Role)> {
    let install = p
        .store
        .install(id.get())
        .await?
        .ok_or(ServiceError::NotFound("install"))?;
    let role = role_in(p, CompanyId::new(install.company_id), user)
        .await
        .map_err(|_| ServiceError::NotFound("install"))?;
    Ok((install, role))
}

/// An owner uninstalls the app; the app is notified. Answers the install as it now is.
pub async fn uninstall(p: &Platform, user: &User, id: InstallId) -> ServiceResult<Install> {
    let (install, role) = visible(p, user, id).await?;
    if role != Role::Owner {
        return Err(ServiceError::Forbidden(
            "only an owner of the company can uninstall apps".into(),
        ));
    }
    if !p.store.uninstall(install.id, user.id).await? {
        return Err(not_installed());
    }
    p.outbox.notify_one();
    tracing::info!(install = install.id, "app uninstalled");
    p.store
        .install(install.id)
        .await?
        .ok_or(ServiceError::NotFound("install"))
}

pub(super) fn not_installed() -> ServiceError {
    ServiceError::Conflict {
        code: "conflict",
        why: "the app is not installed".into(),
    }
}
