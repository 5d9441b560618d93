//! The first-party API of the desktop dashboard (`/api/dashboard/...`): the catalog, the user's
//! companies, installs with consent, uninstall and launch. Every route needs a token of Atrium's
//! own client with scope `dashboard` ([`super::api::dashboard_user`]).
//!
//! The handlers parse, call the services ([`crate::services::companies`],
//! [`crate::services::installs`], [`crate::services::launch`]) and render. Access rules live
//! there: a company's data is visible to its members only (others get 404, so ids don't leak);
//! installing, uninstalling and inviting are for owners (403 for members).

use atrium_proto::dashboard::{
    CatalogApp, CompanyView, ConsentView, InstallAnswer, InstallRequest, InstallView, LaunchView,
    Me, MemberView, NewCompany, ScopeView,
};
use atrium_proto::paths;
use warp::http::StatusCode;
use warp::Filter;

use super::api::dashboard_user;
use super::error::{reply, ApiError, ApiResult};
use super::paging;
use super::respond::{self, Resp};
use super::{json_body, with_auth, AppState, Auth};
use crate::domain::ids::{ClientId, CompanyId, InstallId};
use crate::domain::scope::ScopeSet;
use crate::oauth::authorize::{self, AuthorizeError};
use crate::oauth::params::Params;
use crate::oauth::request::{AuthorizationFields, AuthorizationRequest, ResponseType};
use crate::oauth::ErrorCode;
use crate::services::{companies, installs, launch};
use crate::store::{Client, Install, Role};

pub fn filters(state: AppState) -> impl Filter<Extract = (Resp,), Error = warp::Rejection> + Clone {
    let auth = move || with_auth(state.clone());
    // GET /api/dashboard/me
    let me = route!(paths::ME; "api" / "dashboard" / "me")
        .and(warp::get())
        .and(auth())
        .then(me)
        .map(reply);
    // GET /api/dashboard/catalog
    let catalog = route!(paths::CATALOG; "api" / "dashboard" / "catalog")
        .and(warp::get())
        .and(auth())
        .and(super::raw_query())
        .then(catalog)
        .map(reply);
    // GET /api/dashboard/companies
    let companies = route!(paths::COMPANIES; "api" / "dashboard" / "companies")
        .and(warp::get())
        .and(auth())
        .and(super::raw_query())
        .then(companies)
        .map(reply);
    // POST /api/dashboard/companies
    let create_company = route!(paths::COMPANIES; "api" / "dashboard" / "companies")
        .and(warp::post())
        .and(auth())
        .and(json_body::<NewCompany>())
        .then(create_company)
        .map(reply);
    // GET /api/dashboard/companies/{company_id}/members
    let members =
        route!(paths::COMPANY_MEMBERS; "api" / "dashboard" / "companies" / CompanyId / "members")
            .and(warp::get())
            .and(auth())
            .and(super::raw_query())
            .then(members)
            .map(reply);
    // GET /api/dashboard/companies/{company_id}/installs
    let installs =
        route!(paths::COMPANY_INSTALLS; "api" / "dashboard" / "companies" / CompanyId / "installs")
            .and(warp::get())
            .and(auth())
            .and(super::raw_query())
            .then(company_installs)
            .map(reply);
    // GET /api/dashboard/apps/{client_id}/consent?company_id=N
    let consent = route!(paths::APP_CONSENT; "api" / "dashboard" / "apps" / ClientId / "consent")
        .and(warp::get())
        .and(auth())
        .and(super::raw_query())
        .then(consent)
        .map(reply);
    // POST /api/dashboard/installs
    let install = route!(paths::INSTALLS; "api" / "dashboard" / "installs")
        .and(warp::post())
        .and(auth())
        .and(json_body::<InstallRequest>())
        .then(install)
        .map(reply);
    // GET /api/dashboard/installs/{install_id}
    let get_install = route!(paths::INSTALL; "api" / "dashboard" / "installs" / InstallId)
        .and(warp::get())
        .and(auth())
        .then(get_install)
        .map(reply);
    // DELETE /api/dashboard/installs/{install_id}
    let uninstall = route!(paths::INSTALL; "api" / "dashboard" / "installs" / InstallId)
        .and(warp::delete())
        .and(auth())
        .then(uninstall)
        .map(reply);
    // POST /api/dashboard/installs/{install_id}/launch
    let launch =
        route!(paths::INSTALL_LAUNCH; "api" / "dashboard" / "installs" / InstallId / "launch")
            .and(warp::post())
            .and(auth())
            .then(launch)
            .map(reply);
    me.or(catalog)
        .unify()
        .or(companies)
        .unify()
        .or(create_company)
        .unify()
        .or(members)
        .unify()
        .or(installs)
        .unify()
        .or(consent)
        .unify()
        .or(install)
        .unify()
        .or(get_install)
        .unify()
        .or(uninstall)
        .unify()
        .or(launch)
        .unify()
}

pub(super) fn ok<T: serde::Serialize>(body: &T) -> ApiResult {
    Ok(respond::no_store(respond::json(StatusCode::OK, body)))
}

pub fn scope_views(scopes: &ScopeSet) -> Vec<ScopeView> {
    scopes
        .iter()
        .map(|s| ScopeView {
            name: s.name.into(),
            description: s.description.into(),
        })
        .collect()
}

pub fn catalog_app(c: &Client) -> CatalogApp {
    let mut methods = Vec::new();
    if c.allow_code {
        methods.push(atrium_proto::ResponseType::Code);
    }
    if c.allow_token {
        methods.push(atrium_proto::ResponseType::Token);
    }
    CatalogApp {
        client_id: c.client_id.clone(),
        name: c.name.clone(),
        description: c.description.clone(),
        developer: c.developer.clone(),
        scopes: scope_views(&c.scopes),
        methods,
        has_ui: c.iframe_url.is_some(),
        install_url: c.install_url.clone(),
    }
}

fn install_view(i: &Install) -> InstallView {
    InstallView {
        id: i.id,
        client_id: i.client_id.clone(),
        app_name: i.app_name.clone(),
        company_id: i.company_id,
        scopes: i.scopes.iter().map(|s| s.name.to_string()).collect(),
        state: atrium_proto::InstallState::from_active(i.active),
        installed_by: i.installed_by.clone(),
        has_ui: i.iframe_url.is_some(),
        created_at: i.created_at,
        updated_at: i.updated_at,
    }
}

async fn me((state, h): Auth) -> ApiResult {
    let user = dashboard_user(&state, h.as_deref()).await?;
    ok(&Me {
        username: user.username,
        display_name: user.display_name,
        email: user.email,
    })
}

async fn catalog((state, h): Auth, query: String) -> ApiResult {
    dashboard_user(&state, h.as_deref()).await?;
    let page = paging::request(&query)?;
    let apps = installs::catalog(&state.platform, page).await?;
    ok(&paging::page(apps, catalog_app))
}

fn company_view(m: &crate::store::Membership) -> CompanyView {
    CompanyView {
        id: m.company.id,
        name: m.company.name.clone(),
        role: m.role,
    }
}

async fn companies((state, h): Auth, query: String) -> ApiResult {
    let user = dashboard_user(&state, h.as_deref()).await?;
    let page = paging::request(&query)?;
    let list = companies::of_user(&state.platform, &user, page).await?;
    ok(&paging::page(list, company_view))
}

async fn create_company((state, h): Auth, body: Result<NewCompany, ApiError>) -> ApiResult {
    let user = dashboard_user(&state, h.as_deref()).await?;
    let body = body?;
    let quota = state.quotas.companies_per_user;
    let company = companies::create(&state.platform, &user, &body.name, quota).await?;
    Ok(respond::json(
        StatusCode::CREATED,
        &CompanyView {
            id: company.id,
            name: company.name,
            role: Role::Owner,
        },
    ))
}

async fn members(company: CompanyId, (state, h): Auth, query: String) -> ApiResult {
    let user = dashboard_user(&state, h.as_deref()).await?;
    let page = paging::request(&query)?;
    let list = companies::members(&state.platform, &user, company, page).await?;
    ok(&paging::page(list, |(u, role)| MemberView {
        username: u.username.clone(),
        display_name: u.display_name.clone(),
        role: *role,
    }))
}

async fn company_installs(company: CompanyId, (state, h): Auth, query: String) -> ApiResult {
    let user = dashboard_user(&state, h.as_deref()).await?;
    let page = paging::request(&query)?;
    let list = installs::of_company(&state.platform, &user, company, page).await?;
    ok(&paging::page(list, install_view))
}

async fn consent(client_id: ClientId, (state, h): Auth, query: String) -> ApiResult {
    let user = dashboard_user(&state, h.as_deref()).await?;
    let p = Params::parse(&query);
    let Some(company) = p
        .get("company_id")
        .ok()
        .flatten()
        .and_then(|c| c.parse::<CompanyId>().ok())
    else {
        return Err(ApiError::invalid("company_id is required"));
    };
    let c = installs::consent(&state.platform, &user, &client_id, company).await?;
    ok(&ConsentView {
        scopes: scope_views(&c.app.scopes),
        app: catalog_app(&c.app),
        company: CompanyView {
            id: c.company.id,
            name: c.company.name,
            role: c.role,
        },
        installed: c.installed,
    })
}

async fn install((state, h): Auth, body: Result<InstallRequest, ApiError>) -> ApiResult {
    let user = dashboard_user(&state, h.as_deref()).await?;
    let req = body?;
    let company = CompanyId::new(req.company_id);
    companies::require_owner(&state.platform, company, &user).await?;
    let app = installs::live_app(&state.platform, &ClientId::new(req.client_id.as_str())).await?;
    if let Some(url) = &app.install_url {
        // The app starts its own authorization request (with its PKCE verifier and state),
        // which the dashboard could not hold for it.
        return Err(ApiError::conflict(
            "use_install_url",
            format!("{} is installed from its install URL: open {url}", app.name),
        ));
    }
    // The same typed request, checks and approval as /oauth2/authorize.
    let default_method = if app.allow_code {
        ResponseType::Code
    } else {
        ResponseType::Token
    };
    let request = AuthorizationRequest::from_fields(AuthorizationFields {
        client_id: &req.client_id,
        response_type: Some(
            req.response_type
                .as_deref()
                .unwrap_or(default_method.as_str()),
        ),
        // The dashboard does not know the app's callbacks, so it names none: the app's first
        // registered redirect URI is its install callback. (At /oauth2/authorize, where the
        // app itself asks, RFC 6749 §3.1.2.3 makes it name one when it registered several.)
        redirect_uri: req
            .redirect_uri
            .as_deref()
            .or(app.redirect_uris.first().map(String::as_str)),
        scope: req.scope.as_deref(),
        state: req.state.as_deref(),
        code_challenge: req.code_challenge.as_deref(),
        code_challenge_method: req.code_challenge_method.as_deref(),
        ..AuthorizationFields::default()
    });
    let valid = match authorize::validate(&state.platform, request).await {
        Ok(v) => v,
        Err(AuthorizeError::Page(msg)) => return Err(ApiError::invalid(msg)),
        Err(AuthorizeError::Internal(e)) => return Err(e.into()),
        Err(AuthorizeError::Client(e)) => {
            return Err(ApiError::refused(
                StatusCode::BAD_REQUEST,
                e.error.error.as_str(),
                e.error.description,
            ));
        }
    };
    match authorize::approve(&state.platform, &valid, user.id, Some(req.company_id), None).await {
        Ok(approval) => {
            let Some(install) = approval.install else {
                return Err(ApiError::internal(
                    "an install approval recorded no install",
                ));
            };
            state.metrics.approved(valid.response_type);
            tracing::info!(client_id = %req.client_id, install = install.id, "app installed");
            ok(&InstallAnswer {
                install: install_view(&install),
                // The install API builds its requests itself, always with a redirect mode.
                redirect_to: approval
                    .response
                    .redirect_url()
                    .ok_or_else(|| ApiError::internal("an install answered by form_post"))?
                    .to_string(),
                method: valid.response_type,
            })
        }
        // An owner uninstalled the app while this install was being approved.
        Err(e) if e.error == ErrorCode::AccessDenied => {
            Err(ApiError::conflict("conflict", e.description))
        }
        Err(e) => Err(e.into()),
    }
}

async fn get_install(id: InstallId, (state, h): Auth) -> ApiResult {
    let user = dashboard_user(&state, h.as_deref()).await?;
    let (install, _) = installs::visible(&state.platform, &user, id).await?;
    ok(&install_view(&install))
}

async fn uninstall(id: InstallId, (state, h): Auth) -> ApiResult {
    let user = dashboard_user(&state, h.as_deref()).await?;
    let install = installs::uninstall(&state.platform, &user, id).await?;
    ok(&install_view(&install))
}

async fn launch(id: InstallId, (state, h): Auth) -> ApiResult {
    let user = dashboard_user(&state, h.as_deref()).await?;
    let l = launch::launch(&state.platform, &user, id).await?;
    ok(&LaunchView {
        url: l.url.to_string(),
        expires_at: l.expires_at,
    })
}
