//! A developer's own apps: register, list, edit, delete, rotate the client secret, and see or
//! retry the install notifications not delivered yet.
//!
//! A developer only ever sees their own apps: anyone else's answer not found. The rules on what
//! an app may be are in [`crate::apps`], shared with the command line.

use super::{ServiceError, ServiceResult};
use crate::apps::{self, AppEdit, AppRegistration, OidcFields, OidcUpdate};
use crate::domain::ids::ClientId;
use crate::domain::now;
use crate::domain::secret::{Kind, Secret};
use crate::platform::Platform;
use crate::store::{Client, Delivery, Page, PageReq, User};
use crate::webhooks::egress::Egress;

/// How many undelivered notifications the developer's view lists.
pub const DELIVERIES_SHOWN: usize = 100;

/// One of the developer's own apps; not found for anyone else's.
pub async fn own(p: &Platform, developer: &User, client_id: &ClientId) -> ServiceResult<Client> {
    match p.store.client(client_id.as_str()).await? {
        Some(c) if c.developer_id == Some(developer.id) && !c.first_party => Ok(c),
        _ => Err(ServiceError::NotFound("app")),
    }
}

/// A page of the developer's apps.
pub async fn list(p: &Platform, developer: &User, page: PageReq) -> ServiceResult<Page<Client>> {
    Ok(p.store.apps_of_developer(developer.id, page).await?)
}

/// A new app and its credentials, each shown once.
pub struct Registered {
    pub app: Client,
    pub client_secret: Option<Secret>,
    pub webhook_secret: String,
}

/// Registers an app for the developer, within their quota of apps.
pub async fn register(
    p: &Platform,
    developer: &User,
    registration: AppRegistration,
    oidc: OidcFields,
    egress: Egress,
    quota: u32,
) -> ServiceResult<Registered> {
    let kind = registration.application_type;
    let reg = apps::register(developer.id, registration, egress).map_err(ServiceError::invalid)?;
    let oidc = oidc.validate(kind).map_err(ServiceError::invalid)?;
    let client_id = reg.app.client_id.clone();
    p.store.create_app(reg.app, Some(quota)).await?;
    // A second write: were it lost, the app keeps the defaults (RS256, no post-logout URIs),
    // which its developer sees and can edit.
    set_oidc(p, &client_id, oidc).await?;
    let app = p
        .store
        .client(&client_id)
        .await?
        .ok_or_else(|| ServiceError::internal("a new app vanished"))?;
    tracing::info!(client_id = %client_id, developer = %developer.username, "app registered");
    Ok(Registered {
        webhook_secret: p.keys.webhook_secret(&client_id, app.webhook_version),
        app,
        client_secret: reg.client_secret,
    })
}

/// Edits one of the developer's apps; answers the app as it now is.
pub async fn edit(
    p: &Platform,
    developer: &User,
    client_id: &ClientId,
    edit: AppEdit,
    oidc: OidcFields,
    egress: Egress,
) -> ServiceResult<Client> {
    let app = own(p, developer, client_id).await?;
    let update = edit.validate(&app, egress).map_err(ServiceError::invalid)?;
    let oidc = oidc
        .validate(app.application_type)
        .map_err(ServiceError::invalid)?;
    p.store.update_app(client_id.as_str(), update).await?;
    set_oidc(p, client_id.as_str(), oidc).await?;
    p.store
        .client(client_id.as_str())
        .await?
        .ok_or(ServiceError::NotFound("app"))
}

/// An app's OpenID Connect registration, as the developer sees it.
pub struct OidcView {
    pub id_token_alg: String,
    pub post_logout_redirect_uris: Vec<String>,
}

/// The OpenID Connect fields of an app.
pub async fn oidc_of(p: &Platform, app: &Client) -> ServiceResult<OidcView> {
    Ok(OidcView {
        id_token_alg: p
            .store
            .id_token_alg(app.app_id)
            .await?
            .unwrap_or_else(|| crate::jose::Alg::Rs256.as_str().to_string()),
        post_logout_redirect_uris: p.store.post_logout_redirect_uris(app.app_id).await?,
    })
}

/// Stores the OpenID Connect fields that were given.
async fn set_oidc(p: &Platform, client_id: &str, oidc: OidcUpdate) -> ServiceResult<()> {
    if let Some(alg) = oidc.id_token_alg {
        p.store.set_id_token_alg(client_id, alg.as_str()).await?;
    }
    if let Some(uris) = oidc.post_logout_redirect_uris {
        p.store
            .set_post_logout_redirect_uris(client_id, uris)
            .await?;
    }
    Ok(())
}

/// Deletes one of the developer's apps, uninstalling it everywhere (each install notified).
pub async fn delete(p: &Platform, developer: &User, client_id: &ClientId) -> ServiceResult<()> {
    own(p, developer, client_id).await?;
    p.store.delete_app(client_id.as_str(), developer.id).await?;
    p.outbox.notify_one();
    tracing::info!(client_id = %client_id, "app deleted");
    Ok(())
}

/// A new client secret for a confidential app; the previous one stops working at once.
pub async fn rotate_secret(
    p: &Platform,
    developer: &User,
    client_id: &ClientId,
) -> ServiceResult<Secret> {
    let app = own(p, developer, client_id).await?;
    if app.is_public() {
        return Err(ServiceError::invalid("a public client has no secret"));
    }
    let secret = Secret::generate(Kind::ClientSecret);
    p.store
        .set_client_secret(client_id.as_str(), Some(secret.digest()))
        .await?;
    tracing::info!(client_id = %client_id, "client secret rotated");
    Ok(secret)
}

/// The app's install notifications not delivered yet (the first [`DELIVERIES_SHOWN`]).
pub async fn undelivered(
    p: &Platform,
    developer: &User,
    client_id: &ClientId,
) -> ServiceResult<Vec<Delivery>> {
    let app = own(p, developer, client_id).await?;
    Ok(p.store.undelivered(app.app_id, DELIVERIES_SHOWN).await?)
}

/// Makes an undelivered notification due now (reviving one given up).
pub async fn retry(
    p: &Platform,
    developer: &User,
    client_id: &ClientId,
    event_id: &str,
) -> ServiceResult<Delivery> {
    let app = own(p, developer, client_id).await?;
    let d = p
        .store
        .retry_delivery(app.app_id, event_id, now())
        .await?
        .ok_or(ServiceError::NotFoundWhy(
            "no undelivered notification with that event id",
        ))?;
    p.outbox.notify_one();
    tracing::info!(client_id = %client_id, event = %d.event_id, "delivery retried now");
    Ok(d)
}
