//! The first-party API of the desktop dashboard (`/api/dashboard/...`): the catalog, the user's
//! companies, installs with consent, uninstall and launch. Every route needs a token of Atrium's
//! own client with scope `dashboard` ([`super::api::dashboard_user`]).
//!
//! Access rules: a company's data is visible to its members only (others get 404, so ids don't
//! leak); installing, uninstalling and inviting are for owners (403 for members). Nobody is
//! added to a company without accepting an invitation ([`super::invitations`]).

use atrium_proto::dashboard::{
    CatalogApp, CompanyView, ConsentView, InstallAnswer, InstallRequest, InstallView, LaunchView,
    Me, MemberView, NewCompany, ScopeView,
};
use warp::http::StatusCode;
use warp::Filter;

use super::api::dashboard_user;
use super::paging;
use super::respond::{self, Resp};
use super::{json_body, with_auth, AppState, Auth};
use crate::domain::now;
use crate::domain::scope::ScopeSet;
use crate::domain::text;
use crate::oauth::authorize::{self, AuthorizeError};
use crate::oauth::params::Params;
use crate::oauth::request::{AuthorizationFields, AuthorizationRequest, ResponseType};
use crate::oauth::ErrorCode;
use crate::store::{Client, Install, Role, User};

/// Launch tokens live this long (seconds).
pub const LAUNCH_TTL: i64 = 300;

pub fn filters(state: AppState) -> impl Filter<Extract = (Resp,), Error = warp::Rejection> + Clone {
    let auth = move || with_auth(state.clone());
    // GET /api/dashboard/me
    let me = warp::path!("api" / "dashboard" / "me")
        .and(warp::get())
        .and(auth())
        .then(me);
    // GET /api/dashboard/catalog
    let catalog = warp::path!("api" / "dashboard" / "catalog")
        .and(warp::get())
        .and(auth())
        .and(super::raw_query())
        .then(catalog);
    // GET /api/dashboard/companies
    let companies = warp::path!("api" / "dashboard" / "companies")
        .and(warp::get())
        .and(auth())
        .and(super::raw_query())
        .then(companies);
    // POST /api/dashboard/companies
    let create_company = warp::path!("api" / "dashboard" / "companies")
        .and(warp::post())
        .and(auth())
        .and(json_body::<NewCompany>())
        .then(create_company);
    // GET /api/dashboard/companies/{company_id}/members
    let members = warp::path!("api" / "dashboard" / "companies" / i64 / "members")
        .and(warp::get())
        .and(auth())
        .and(super::raw_query())
        .then(members);
    // GET /api/dashboard/companies/{company_id}/installs
    let installs = warp::path!("api" / "dashboard" / "companies" / i64 / "installs")
        .and(warp::get())
        .and(auth())
        .and(super::raw_query())
        .then(company_installs);
    // GET /api/dashboard/apps/{client_id}/consent?company_id=N
    let consent = warp::path!("api" / "dashboard" / "apps" / String / "consent")
        .and(warp::get())
        .and(auth())
        .and(super::raw_query())
        .then(consent);
    // POST /api/dashboard/installs
    let install = warp::path!("api" / "dashboard" / "installs")
        .and(warp::post())
        .and(auth())
        .and(json_body::<InstallRequest>())
        .then(install);
    // GET /api/dashboard/installs/{install_id}
    let get_install = warp::path!("api" / "dashboard" / "installs" / i64)
        .and(warp::get())
        .and(auth())
        .then(get_install);
    // DELETE /api/dashboard/installs/{install_id}
    let uninstall = warp::path!("api" / "dashboard" / "installs" / i64)
        .and(warp::delete())
        .and(auth())
        .then(uninstall);
    // POST /api/dashboard/installs/{install_id}/launch
    let launch = warp::path!("api" / "dashboard" / "installs" / i64 / "launch")
        .and(warp::post())
        .and(auth())
        .then(launch);
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

pub(super) fn ok<T: serde::Serialize>(body: &T) -> Resp {
    respond::no_store(respond::json(StatusCode::OK, body))
}

pub(super) fn not_found(what: &str) -> Resp {
    respond::api_error(
        StatusCode::NOT_FOUND,
        "not_found",
        &format!("no such {what}"),
    )
}

pub(super) fn forbidden(why: &str) -> Resp {
    respond::api_error(StatusCode::FORBIDDEN, "forbidden", why)
}

pub(super) fn bad_request(why: &str) -> Resp {
    respond::api_error(StatusCode::BAD_REQUEST, "invalid_request", why)
}

pub(super) fn server_error<E: std::fmt::Display>(e: E) -> Resp {
    tracing::error!(error = %e, "dashboard request failed");
    respond::api_error(
        StatusCode::INTERNAL_SERVER_ERROR,
        "server_error",
        "please try again",
    )
}

/// The user's role in a company; 404 for non-members.
pub(super) async fn member_role(state: &AppState, company: i64, user: &User) -> Result<Role, Resp> {
    match state.oauth.store.role(company, user.id).await {
        Ok(Some(role)) => Ok(role),
        Ok(None) => Err(not_found("company")),
        Err(e) => Err(server_error(e)),
    }
}

pub(super) async fn owner_of(state: &AppState, company: i64, user: &User) -> Result<(), Resp> {
    match member_role(state, company, user).await? {
        Role::Owner => Ok(()),
        Role::Member => Err(forbidden("only an owner of the company can do this")),
    }
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

async fn me((state, h): Auth) -> Resp {
    let user = tri!(dashboard_user(&state, h.as_deref()).await);
    ok(&Me {
        username: user.username,
        display_name: user.display_name,
        email: user.email,
    })
}

async fn catalog((state, h): Auth, query: String) -> Resp {
    tri!(dashboard_user(&state, h.as_deref()).await);
    let page = tri!(paging::request(&query));
    match state.oauth.store.catalog(page).await {
        Ok(apps) => ok(&paging::page(apps, catalog_app)),
        Err(e) => server_error(e),
    }
}

fn company_view(m: &crate::store::Membership) -> CompanyView {
    CompanyView {
        id: m.company.id,
        name: m.company.name.clone(),
        role: m.role.into(),
    }
}

async fn companies((state, h): Auth, query: String) -> Resp {
    let user = tri!(dashboard_user(&state, h.as_deref()).await);
    let page = tri!(paging::request(&query));
    match state.oauth.store.memberships_page(user.id, page).await {
        Ok(list) => ok(&paging::page(list, company_view)),
        Err(e) => server_error(e),
    }
}

/// 403 with the quota in words, for a `StoreError::Quota`.
pub fn quota_exceeded(e: &crate::store::StoreError) -> Resp {
    respond::api_error(StatusCode::FORBIDDEN, "quota_exceeded", &e.to_string())
}

async fn create_company((state, h): Auth, body: Result<NewCompany, Resp>) -> Resp {
    let user = tri!(dashboard_user(&state, h.as_deref()).await);
    let body = tri!(body);
    let name = match text::company_name(&body.name) {
        Ok(n) => n,
        Err(e) => return bad_request(&e.to_string()),
    };
    let quota = Some(state.quotas.companies_per_user);
    match state
        .oauth
        .store
        .create_company(&name, user.id, quota)
        .await
    {
        Ok(id) => respond::json(
            StatusCode::CREATED,
            &CompanyView {
                id,
                name,
                role: Role::Owner.into(),
            },
        ),
        Err(e @ crate::store::StoreError::Quota { .. }) => quota_exceeded(&e),
        Err(e) => server_error(e),
    }
}

async fn members(company: i64, (state, h): Auth, query: String) -> Resp {
    let user = tri!(dashboard_user(&state, h.as_deref()).await);
    let page = tri!(paging::request(&query));
    tri!(member_role(&state, company, &user).await);
    match state.oauth.store.company_members_page(company, page).await {
        Ok(list) => ok(&paging::page(list, |(u, role)| MemberView {
            username: u.username.clone(),
            display_name: u.display_name.clone(),
            role: (*role).into(),
        })),
        Err(e) => server_error(e),
    }
}

async fn company_installs(company: i64, (state, h): Auth, query: String) -> Resp {
    let user = tri!(dashboard_user(&state, h.as_deref()).await);
    let page = tri!(paging::request(&query));
    tri!(member_role(&state, company, &user).await);
    match state.oauth.store.installs_page(company, page).await {
        Ok(list) => ok(&paging::page(list, install_view)),
        Err(e) => server_error(e),
    }
}

async fn live_app(state: &AppState, client_id: &str) -> Result<Client, Resp> {
    match state.oauth.store.client(client_id).await {
        Ok(Some(c)) if !c.first_party => Ok(c),
        Ok(_) => Err(not_found("app")),
        Err(e) => Err(server_error(e)),
    }
}

async fn consent(client_id: String, (state, h): Auth, query: String) -> Resp {
    let user = tri!(dashboard_user(&state, h.as_deref()).await);
    let p = Params::parse(&query);
    let Some(company) = p
        .get("company_id")
        .ok()
        .flatten()
        .and_then(|c| c.parse::<i64>().ok())
    else {
        return bad_request("company_id is required");
    };
    let role = tri!(member_role(&state, company, &user).await);
    let app = tri!(live_app(&state, &client_id).await);
    let company_name = match state.oauth.store.company(company).await {
        Ok(Some(c)) => c.name,
        Ok(None) => return not_found("company"),
        Err(e) => return server_error(e),
    };
    let installed = match state.oauth.store.installs_of_company(company).await {
        Ok(list) => list.iter().any(|i| i.app_id == app.app_id),
        Err(e) => return server_error(e),
    };
    ok(&ConsentView {
        scopes: scope_views(&app.scopes),
        app: catalog_app(&app),
        company: CompanyView {
            id: company,
            name: company_name,
            role: role.into(),
        },
        installed,
    })
}

async fn install((state, h): Auth, body: Result<InstallRequest, Resp>) -> Resp {
    let user = tri!(dashboard_user(&state, h.as_deref()).await);
    let req = tri!(body);
    tri!(owner_of(&state, req.company_id, &user).await);
    let app = tri!(live_app(&state, &req.client_id).await);
    if let Some(url) = &app.install_url {
        // The app starts its own authorization request (with its PKCE verifier and state),
        // which the dashboard could not hold for it.
        return respond::api_error(
            StatusCode::CONFLICT,
            "use_install_url",
            &format!("{} is installed from its install URL: open {url}", app.name),
        );
    }
    // The same typed request, checks and approval as /oauth2/authorize.
    let default_method = if app.allow_code { "code" } else { "token" };
    let request = AuthorizationRequest::from_fields(AuthorizationFields {
        client_id: &req.client_id,
        response_type: Some(req.response_type.as_deref().unwrap_or(default_method)),
        redirect_uri: req.redirect_uri.as_deref(),
        scope: req.scope.as_deref(),
        state: req.state.as_deref(),
        code_challenge: req.code_challenge.as_deref(),
        code_challenge_method: req.code_challenge_method.as_deref(),
    });
    let valid = match authorize::validate(&state.oauth, request).await {
        Ok(v) => v,
        Err(AuthorizeError::Page(msg)) => return bad_request(&msg),
        Err(AuthorizeError::Client(e)) => {
            return respond::api_error(
                StatusCode::BAD_REQUEST,
                e.error.error.as_str(),
                &e.error.description,
            );
        }
    };
    match authorize::approve(&state.oauth, &valid, user.id, Some(req.company_id)).await {
        Ok(approval) => {
            let Some(install) = approval.install else {
                return server_error("an install approval recorded no install");
            };
            tracing::info!(client_id = %req.client_id, install = install.id, "app installed");
            ok(&InstallAnswer {
                install: install_view(&install),
                redirect_to: approval.redirect.to_string(),
                method: match valid.response_type {
                    ResponseType::Code => atrium_proto::ResponseType::Code,
                    ResponseType::Token => atrium_proto::ResponseType::Token,
                },
            })
        }
        // An owner uninstalled the app while this install was being approved.
        Err(e) if e.error == ErrorCode::AccessDenied => {
            respond::api_error(StatusCode::CONFLICT, "conflict", &e.description)
        }
        Err(e) => server_error(e),
    }
}

/// An install visible to the user (member of its company), else 404.
async fn visible_install(state: &AppState, id: i64, user: &User) -> Result<(Install, Role), Resp> {
    let install = match state.oauth.store.install(id).await {
        Ok(Some(i)) => i,
        Ok(None) => return Err(not_found("install")),
        Err(e) => return Err(server_error(e)),
    };
    let role = member_role(state, install.company_id, user)
        .await
        .map_err(|_| not_found("install"))?;
    Ok((install, role))
}

async fn get_install(id: i64, (state, h): Auth) -> Resp {
    let user = tri!(dashboard_user(&state, h.as_deref()).await);
    let (install, _) = tri!(visible_install(&state, id, &user).await);
    ok(&install_view(&install))
}

async fn uninstall(id: i64, (state, h): Auth) -> Resp {
    let user = tri!(dashboard_user(&state, h.as_deref()).await);
    let (install, role) = tri!(visible_install(&state, id, &user).await);
    if role != Role::Owner {
        return forbidden("only an owner of the company can uninstall apps");
    }
    match state.oauth.store.uninstall(install.id, user.id).await {
        Ok(true) => {
            state.oauth.outbox.notify_one();
            tracing::info!(install = install.id, "app uninstalled");
            match state.oauth.store.install(install.id).await {
                Ok(Some(i)) => ok(&install_view(&i)),
                Ok(None) => not_found("install"),
                Err(e) => server_error(e),
            }
        }
        Ok(false) => {
            respond::api_error(StatusCode::CONFLICT, "conflict", "the app is not installed")
        }
        Err(e) => server_error(e),
    }
}

async fn launch(id: i64, (state, h): Auth) -> Resp {
    let user = tri!(dashboard_user(&state, h.as_deref()).await);
    let (install, _) = tri!(visible_install(&state, id, &user).await);
    if !install.active {
        return respond::api_error(StatusCode::CONFLICT, "conflict", "the app is not installed");
    }
    let Some(iframe_url) = &install.iframe_url else {
        return respond::api_error(
            StatusCode::CONFLICT,
            "conflict",
            "this app has no user interface",
        );
    };
    let company_name = match state.oauth.store.company(install.company_id).await {
        Ok(Some(c)) => c.name,
        Ok(None) => return not_found("company"),
        Err(e) => return server_error(e),
    };
    let iat = now();
    let exp = iat + LAUNCH_TTL;
    let jwt = state.oauth.keys.sign_jwt(&serde_json::json!({
        "iss": state.oauth.config.issuer,
        "aud": install.client_id,
        "sub": user.id.to_string(),
        "username": user.username,
        "install": install.id,
        "company": install.company_id,
        "company_name": company_name,
        "app": install.client_id,
        "iat": iat,
        "exp": exp,
    }));
    let mut url = match url::Url::parse(iframe_url) {
        Ok(u) => u,
        Err(e) => return server_error(e),
    };
    url.query_pairs_mut().append_pair("atrium_launch", &jwt);
    ok(&LaunchView {
        url: url.to_string(),
        expires_at: exp,
    })
}
