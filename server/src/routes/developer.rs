//! The developer API (`/api/developer/...`): register, list, edit and delete one's apps, rotate
//! a client secret, see install notifications not delivered yet and retry one now. Needs a
//! desktop token (scope `dashboard`). The handlers parse and render; the rules are in
//! [`crate::services::apps`] (a developer only ever sees their own apps: others' answer 404) and
//! [`crate::apps`] (what an app may be).

use atrium_proto::dashboard::{
    AppCreated, AppPatch, AppView, DeliveryState, DeliveryView, NewApp, SecretRotated,
};
use atrium_proto::paths;
use warp::http::StatusCode;
use warp::Filter;

use super::api::dashboard_user;
use super::error::{reply, ApiError, ApiResult};
use super::paging;
use super::respond::{self, Resp};
use super::{json_body, with_auth, AppState, Auth};
use crate::apps::{parse_method, AppEdit, AppRegistration, OidcFields};
use crate::domain::ids::ClientId;
use crate::domain::redirect::{parse_application_type, ApplicationType};
use crate::services::apps;
use crate::store::{Client, Delivery};

pub fn filters(state: AppState) -> impl Filter<Extract = (Resp,), Error = warp::Rejection> + Clone {
    let auth = move || with_auth(state.clone());
    // GET /api/developer/apps
    let list = route!(paths::DEV_APPS; "api" / "developer" / "apps")
        .and(warp::get())
        .and(auth())
        .and(super::raw_query())
        .then(list)
        .map(reply);
    // POST /api/developer/apps
    let create = route!(paths::DEV_APPS; "api" / "developer" / "apps")
        .and(warp::post())
        .and(auth())
        .and(json_body::<NewApp>())
        .then(create)
        .map(reply);
    // GET /api/developer/apps/{client_id}
    let get = route!(paths::DEV_APP; "api" / "developer" / "apps" / ClientId)
        .and(warp::get())
        .and(auth())
        .then(get)
        .map(reply);
    // PATCH /api/developer/apps/{client_id}
    let patch = route!(paths::DEV_APP; "api" / "developer" / "apps" / ClientId)
        .and(warp::patch())
        .and(auth())
        .and(json_body::<AppPatch>())
        .then(patch)
        .map(reply);
    // DELETE /api/developer/apps/{client_id}
    let delete = route!(paths::DEV_APP; "api" / "developer" / "apps" / ClientId)
        .and(warp::delete())
        .and(auth())
        .then(delete)
        .map(reply);
    // POST /api/developer/apps/{client_id}/secret
    let rotate = route!(paths::DEV_APP_SECRET; "api" / "developer" / "apps" / ClientId / "secret")
        .and(warp::post())
        .and(auth())
        .then(rotate)
        .map(reply);
    // GET /api/developer/apps/{client_id}/deliveries
    let deliveries =
        route!(paths::DEV_APP_DELIVERIES; "api" / "developer" / "apps" / ClientId / "deliveries")
            .and(warp::get())
            .and(auth())
            .then(deliveries)
            .map(reply);
    // POST /api/developer/apps/{client_id}/deliveries/{event_id}/retry
    let retry =
        route!(paths::DEV_DELIVERY_RETRY; "api" / "developer" / "apps" / ClientId / "deliveries" / String / "retry")
            .and(warp::post())
            .and(auth())
            .then(retry)
            .map(reply);
    list.or(create)
        .unify()
        .or(get)
        .unify()
        .or(patch)
        .unify()
        .or(delete)
        .unify()
        .or(rotate)
        .unify()
        .or(deliveries)
        .unify()
        .or(retry)
        .unify()
}

fn invalid(e: impl std::fmt::Display) -> ApiError {
    ApiError::invalid(e.to_string())
}

/// An app as its developer sees it, with its OpenID Connect registration.
async fn app_view(state: &AppState, c: &Client) -> Result<AppView, ApiError> {
    let oidc = apps::oidc_of(&state.platform, c).await?;
    Ok(AppView {
        client_id: c.client_id.clone(),
        name: c.name.clone(),
        description: c.description.clone(),
        redirect_uris: c.redirect_uris.clone(),
        iframe_url: c.iframe_url.clone(),
        webhook_url: c.webhook_url.clone(),
        scopes: c.scopes.to_string(),
        method: atrium_proto::OAuthMethod::from_allowed(c.allow_code, c.allow_token),
        public: c.is_public(),
        application_type: c.application_type,
        install_url: c.install_url.clone(),
        id_token_signed_response_alg: oidc.id_token_alg,
        post_logout_redirect_uris: oidc.post_logout_redirect_uris,
        created_at: c.created_at,
    })
}

async fn list((state, h): Auth, query: String) -> ApiResult {
    let user = dashboard_user(&state, h.as_deref()).await?;
    let page = paging::request(&query)?;
    let apps = apps::list(&state.platform, &user, page).await?;
    let mut views = Vec::with_capacity(apps.items.len());
    for app in &apps.items {
        views.push(app_view(&state, app).await?);
    }
    let page = crate::store::Page {
        items: views,
        next: apps.next,
    };
    Ok(respond::json(
        StatusCode::OK,
        &paging::page(page, |v| v.clone()),
    ))
}

async fn create((state, h): Auth, body: Result<NewApp, ApiError>) -> ApiResult {
    let user = dashboard_user(&state, h.as_deref()).await?;
    let body = body?;
    let (allow_code, allow_token) = parse_method(&body.method).map_err(invalid)?;
    let application_type = match body.application_type.as_deref() {
        None | Some("") => ApplicationType::Web,
        Some(raw) => parse_application_type(raw).map_err(invalid)?,
    };
    let registration = AppRegistration {
        name: body.name,
        description: body.description,
        redirect_uris: body.redirect_uris,
        iframe_url: body.iframe_url,
        webhook_url: body.webhook_url,
        install_url: body.install_url,
        scopes: body.scopes,
        allow_code,
        allow_token,
        public: body.public,
        application_type,
    };
    let oidc = OidcFields {
        id_token_alg: body.id_token_signed_response_alg,
        post_logout_redirect_uris: Some(body.post_logout_redirect_uris),
    };
    let quota = state.quotas.apps_per_user;
    let new = apps::register(
        &state.platform,
        &user,
        registration,
        oidc,
        state.egress,
        quota,
    )
    .await?;
    Ok(respond::no_store(respond::json(
        StatusCode::CREATED,
        &AppCreated {
            app: app_view(&state, &new.app).await?,
            client_secret: new.client_secret.map(|s| s.expose().to_string()),
            webhook_secret: new.webhook_secret,
        },
    )))
}

async fn get(client_id: ClientId, (state, h): Auth) -> ApiResult {
    let user = dashboard_user(&state, h.as_deref()).await?;
    let app = apps::own(&state.platform, &user, &client_id).await?;
    Ok(respond::json(
        StatusCode::OK,
        &app_view(&state, &app).await?,
    ))
}

async fn patch(
    client_id: ClientId,
    (state, h): Auth,
    body: Result<AppPatch, ApiError>,
) -> ApiResult {
    let user = dashboard_user(&state, h.as_deref()).await?;
    let body = body?;
    let edit = AppEdit {
        name: body.name,
        description: body.description,
        redirect_uris: body.redirect_uris,
        iframe_url: body.iframe_url,
        webhook_url: body.webhook_url,
        install_url: body.install_url,
        scopes: body.scopes,
        method: body.method,
    };
    let oidc = OidcFields {
        id_token_alg: body.id_token_signed_response_alg,
        post_logout_redirect_uris: body.post_logout_redirect_uris,
    };
    let app = apps::edit(&state.platform, &user, &client_id, edit, oidc, state.egress).await?;
    Ok(respond::json(
        StatusCode::OK,
        &app_view(&state, &app).await?,
    ))
}

async fn delete(client_id: ClientId, (state, h): Auth) -> ApiResult {
    let user = dashboard_user(&state, h.as_deref()).await?;
    apps::delete(&state.platform, &user, &client_id).await?;
    Ok(respond::json(
        StatusCode::OK,
        &serde_json::json!({ "deleted": client_id.as_str() }),
    ))
}

async fn rotate(client_id: ClientId, (state, h): Auth) -> ApiResult {
    let user = dashboard_user(&state, h.as_deref()).await?;
    let secret = apps::rotate_secret(&state.platform, &user, &client_id).await?;
    Ok(respond::no_store(respond::json(
        StatusCode::OK,
        &SecretRotated {
            client_id: client_id.into_string(),
            client_secret: secret.expose().to_string(),
            previous_secret_revoked: true,
        },
    )))
}

fn delivery_view(d: Delivery) -> DeliveryView {
    DeliveryView {
        state: if d.failed {
            DeliveryState::Failed
        } else if d.attempts == 0 {
            DeliveryState::Pending
        } else {
            DeliveryState::Retrying
        },
        event_id: d.event_id,
        event_type: d.event_type,
        url: d.url,
        attempts: d.attempts,
        last_error: d.last_error,
        next_attempt_at: d.next_attempt_at,
        created_at: d.created_at,
    }
}

async fn deliveries(client_id: ClientId, (state, h): Auth) -> ApiResult {
    let user = dashboard_user(&state, h.as_deref()).await?;
    let list = apps::undelivered(&state.platform, &user, &client_id).await?;
    Ok(respond::json(
        StatusCode::OK,
        &list.into_iter().map(delivery_view).collect::<Vec<_>>(),
    ))
}

async fn retry(client_id: ClientId, event_id: String, (state, h): Auth) -> ApiResult {
    let user = dashboard_user(&state, h.as_deref()).await?;
    let d = apps::retry(&state.platform, &user, &client_id, &event_id).await?;
    Ok(respond::json(StatusCode::OK, &delivery_view(d)))
}
