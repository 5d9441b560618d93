//! The developer API (`/api/developer/...`): register, list, edit and delete one's apps, rotate
//! a client secret, see install notifications not delivered yet and retry one now. Needs a
//! desktop token (scope `dashboard`); a developer only ever sees their own apps (others' answer
//! 404).

use atrium_proto::dashboard::{
    AppCreated, AppPatch, AppView, DeliveryState, DeliveryView, NewApp, SecretRotated,
};
use warp::http::StatusCode;
use warp::Filter;

use super::api::dashboard_user;
use super::paging;
use super::respond::{self, Resp};
use super::{json_body, with_auth, AppState, Auth};
use crate::apps::{
    self, check_app_url, check_install_path, check_redirect_uris, check_scopes, parse_method,
    AppRegistration,
};
use crate::domain::now;
use crate::domain::redirect::ApplicationType;
use crate::domain::secret::{Kind, Secret};
use crate::domain::text;
use crate::store::{AppUpdate, Client, Delivery, StoreError, User};
use crate::webhooks::egress::{Egress, WebhookUrl};

pub fn filters(state: AppState) -> impl Filter<Extract = (Resp,), Error = warp::Rejection> + Clone {
    let auth = move || with_auth(state.clone());
    // GET /api/developer/apps
    let list = warp::path!("api" / "developer" / "apps")
        .and(warp::get())
        .and(auth())
        .and(super::raw_query())
        .then(list);
    // POST /api/developer/apps
    let create = warp::path!("api" / "developer" / "apps")
        .and(warp::post())
        .and(auth())
        .and(json_body::<NewApp>())
        .then(create);
    // GET /api/developer/apps/{client_id}
    let get = warp::path!("api" / "developer" / "apps" / String)
        .and(warp::get())
        .and(auth())
        .then(get);
    // PATCH /api/developer/apps/{client_id}
    let patch = warp::path!("api" / "developer" / "apps" / String)
        .and(warp::patch())
        .and(auth())
        .and(json_body::<AppPatch>())
        .then(patch);
    // DELETE /api/developer/apps/{client_id}
    let delete = warp::path!("api" / "developer" / "apps" / String)
        .and(warp::delete())
        .and(auth())
        .then(delete);
    // POST /api/developer/apps/{client_id}/secret
    let rotate = warp::path!("api" / "developer" / "apps" / String / "secret")
        .and(warp::post())
        .and(auth())
        .then(rotate);
    // GET /api/developer/apps/{client_id}/deliveries
    let deliveries = warp::path!("api" / "developer" / "apps" / String / "deliveries")
        .and(warp::get())
        .and(auth())
        .then(deliveries);
    // POST /api/developer/apps/{client_id}/deliveries/{event_id}/retry
    let retry =
        warp::path!("api" / "developer" / "apps" / String / "deliveries" / String / "retry")
            .and(warp::post())
            .and(auth())
            .then(retry);
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

fn invalid(e: impl std::fmt::Display) -> Resp {
    respond::api_error(StatusCode::BAD_REQUEST, "invalid_request", &e.to_string())
}

fn server_error<E: std::fmt::Display>(e: E) -> Resp {
    tracing::error!(error = %e, "developer request failed");
    respond::api_error(
        StatusCode::INTERNAL_SERVER_ERROR,
        "server_error",
        "please try again",
    )
}

fn app_view(c: &Client) -> AppView {
    AppView {
        client_id: c.client_id.clone(),
        name: c.name.clone(),
        description: c.description.clone(),
        redirect_uris: c.redirect_uris.clone(),
        iframe_url: c.iframe_url.clone(),
        webhook_url: c.webhook_url.clone(),
        scopes: c.scopes.to_string(),
        method: atrium_proto::OAuthMethod::from_allowed(c.allow_code, c.allow_token),
        public: c.is_public(),
        application_type: c.application_type.as_str().into(),
        install_url: c.install_url.clone(),
        created_at: c.created_at,
    }
}

/// One of the developer's own apps, else 404.
async fn own_app(state: &AppState, client_id: &str, user: &User) -> Result<Client, Resp> {
    match state.oauth.store.client(client_id).await {
        Ok(Some(c)) if c.developer_id == Some(user.id) && !c.first_party => Ok(c),
        Ok(_) => Err(respond::api_error(
            StatusCode::NOT_FOUND,
            "not_found",
            "no such app",
        )),
        Err(e) => Err(server_error(e)),
    }
}

async fn list((state, h): Auth, query: String) -> Resp {
    let user = tri!(dashboard_user(&state, h.as_deref()).await);
    let page = tri!(paging::request(&query));
    match state.oauth.store.apps_of_developer(user.id, page).await {
        Ok(apps) => respond::json(StatusCode::OK, &paging::page(apps, app_view)),
        Err(e) => server_error(e),
    }
}

async fn create((state, h): Auth, body: Result<NewApp, Resp>) -> Resp {
    let user = tri!(dashboard_user(&state, h.as_deref()).await);
    let body = tri!(body);
    let (allow_code, allow_token) = tri!(parse_method(&body.method).map_err(invalid));
    let application_type = match body.application_type.as_deref() {
        None | Some("") => ApplicationType::Web,
        Some(raw) => tri!(ApplicationType::parse(raw).map_err(invalid)),
    };
    let reg = tri!(apps::register(
        user.id,
        AppRegistration {
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
        },
        state.egress,
    )
    .map_err(invalid));
    let client_id = reg.app.client_id.clone();
    let quota = Some(state.quotas.apps_per_user);
    match state.oauth.store.create_app(reg.app, quota).await {
        Ok(_) => {}
        Err(e @ StoreError::Quota { .. }) => return super::dashboard::quota_exceeded(&e),
        Err(e) => return server_error(e),
    }
    let app = match state.oauth.store.client(&client_id).await {
        Ok(Some(c)) => c,
        Ok(None) => return server_error("a new app vanished"),
        Err(e) => return server_error(e),
    };
    tracing::info!(client_id = %client_id, developer = %user.username, "app registered");
    respond::no_store(respond::json(
        StatusCode::CREATED,
        &AppCreated {
            app: app_view(&app),
            client_secret: reg.client_secret.map(|s| s.expose().to_string()),
            webhook_secret: state
                .oauth
                .keys
                .webhook_secret(&client_id, app.webhook_version),
        },
    ))
}

async fn get(client_id: String, (state, h): Auth) -> Resp {
    let user = tri!(dashboard_user(&state, h.as_deref()).await);
    let app = tri!(own_app(&state, &client_id, &user).await);
    respond::json(StatusCode::OK, &app_view(&app))
}

/// `""` clears an optional URL; anything else must be a valid app URL.
fn optional_url(what: &'static str, v: Option<String>) -> Result<Option<Option<String>>, Resp> {
    match v {
        None => Ok(None),
        Some(u) if u.is_empty() => Ok(Some(None)),
        Some(u) => {
            check_app_url(what, &u).map_err(invalid)?;
            Ok(Some(Some(u)))
        }
    }
}

/// A webhook URL from a request (`""` or absent: none), checked against the egress rule.
fn webhook_url(raw: Option<&str>, egress: Egress) -> Result<Option<WebhookUrl>, Resp> {
    raw.filter(|u| !u.is_empty())
        .map(|u| {
            text::url_length("webhook URL", u).map_err(invalid)?;
            WebhookUrl::parse(u, egress).map_err(invalid)
        })
        .transpose()
}

async fn patch(client_id: String, (state, h): Auth, body: Result<AppPatch, Resp>) -> Resp {
    let user = tri!(dashboard_user(&state, h.as_deref()).await);
    let body = tri!(body);
    let app = tri!(own_app(&state, &client_id, &user).await);
    let mut update = AppUpdate::default();
    if let Some(name) = body.name {
        update.name = Some(tri!(text::app_name(&name).map_err(invalid)));
    }
    if let Some(d) = body.description {
        update.description = Some(tri!(text::description(&d).map_err(invalid)));
    }
    if let Some(uris) = body.redirect_uris {
        update.redirect_uris = Some(tri!(
            check_redirect_uris(&uris, app.application_type).map_err(invalid)
        ));
    }
    update.iframe_url = tri!(optional_url("iframe URL", body.iframe_url));
    if let Some(raw) = body.webhook_url.as_deref() {
        let url = tri!(webhook_url(Some(raw), state.egress));
        update.webhook_url = Some(url.map(WebhookUrl::into_string));
    }
    update.install_url = tri!(optional_url("install URL", body.install_url));
    if let Some(scopes) = body.scopes {
        update.scopes = Some(tri!(check_scopes(&scopes).map_err(invalid)));
    }
    if let Some(method) = body.method {
        let (code, token) = tri!(parse_method(&method).map_err(invalid));
        update.allow_code = Some(code);
        update.allow_token = Some(token);
    }
    // The edited app must still be installable from the dashboard.
    tri!(check_install_path(
        app.is_public(),
        update.allow_code.unwrap_or(app.allow_code),
        match &update.install_url {
            Some(new) => new.as_deref(),
            None => app.install_url.as_deref(),
        },
    )
    .map_err(invalid));
    if let Err(e) = state.oauth.store.update_app(&client_id, update).await {
        return server_error(e);
    }
    match state.oauth.store.client(&client_id).await {
        Ok(Some(c)) => respond::json(StatusCode::OK, &app_view(&c)),
        Ok(None) => respond::api_error(StatusCode::NOT_FOUND, "not_found", "no such app"),
        Err(e) => server_error(e),
    }
}

async fn delete(client_id: String, (state, h): Auth) -> Resp {
    let user = tri!(dashboard_user(&state, h.as_deref()).await);
    tri!(own_app(&state, &client_id, &user).await);
    match state.oauth.store.delete_app(&client_id, user.id).await {
        Ok(()) => {
            state.oauth.outbox.notify_one();
            tracing::info!(client_id = %client_id, "app deleted");
            respond::json(StatusCode::OK, &serde_json::json!({ "deleted": client_id }))
        }
        Err(e) => server_error(e),
    }
}

async fn rotate(client_id: String, (state, h): Auth) -> Resp {
    let user = tri!(dashboard_user(&state, h.as_deref()).await);
    let app = tri!(own_app(&state, &client_id, &user).await);
    if app.is_public() {
        return invalid("a public client has no secret");
    }
    let secret = Secret::generate(Kind::ClientSecret);
    if let Err(e) = state
        .oauth
        .store
        .set_client_secret(&client_id, Some(secret.digest()))
        .await
    {
        return server_error(e);
    }
    tracing::info!(client_id = %client_id, "client secret rotated");
    respond::no_store(respond::json(
        StatusCode::OK,
        &SecretRotated {
            client_id,
            client_secret: secret.expose().to_string(),
            previous_secret_revoked: true,
        },
    ))
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

/// How many undelivered notifications the developer's view lists.
const DELIVERIES_SHOWN: usize = 100;

async fn deliveries(client_id: String, (state, h): Auth) -> Resp {
    let user = tri!(dashboard_user(&state, h.as_deref()).await);
    let app = tri!(own_app(&state, &client_id, &user).await);
    match state
        .oauth
        .store
        .undelivered(app.app_id, DELIVERIES_SHOWN)
        .await
    {
        Ok(list) => respond::json(
            StatusCode::OK,
            &list.into_iter().map(delivery_view).collect::<Vec<_>>(),
        ),
        Err(e) => server_error(e),
    }
}

async fn retry(client_id: String, event_id: String, (state, h): Auth) -> Resp {
    let user = tri!(dashboard_user(&state, h.as_deref()).await);
    let app = tri!(own_app(&state, &client_id, &user).await);
    match state
        .oauth
        .store
        .retry_delivery(app.app_id, &event_id, now())
        .await
    {
        Ok(Some(d)) => {
            state.oauth.outbox.notify_one();
            tracing::info!(client_id = %client_id, event = %d.event_id, "delivery retried now");
            respond::json(StatusCode::OK, &delivery_view(d))
        }
        Ok(None) => respond::api_error(
            StatusCode::NOT_FOUND,
            "not_found",
            "no undelivered notification with that event id",
        ),
        Err(e) => server_error(e),
    }
}
