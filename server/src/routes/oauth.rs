//! The OAuth endpoints: `/oauth2/authorize` (GET and POST), `/oauth2/token`, `/oauth2/revoke`,
//! `/oauth2/introspect`, plus the session pages they rely on.

use atrium_proto::paths;
use warp::http::StatusCode;
use warp::Filter;

use super::error::{internal_page, ApiError};
use super::respond::{self, Resp};
use super::session::{self, csrf_ok, FormOrigin};
use super::{form, html, raw_query, with_state, AppState};
use crate::oauth::authorize::{self, AuthResponse, AuthorizeError, ValidRequest};
use crate::oauth::params::Params;
use crate::oauth::request::{AuthorizationRequest, TokenHandle, TokenRequest};
use crate::oauth::{grants, introspect, revoke, ErrorCode, OAuthError};
use crate::store::{Install, Role};

pub fn filters(state: AppState) -> impl Filter<Extract = (Resp,), Error = warp::Rejection> + Clone {
    let session_cookie = session::session_cookie(&state);
    // GET /oauth2/authorize
    let authorize_get = route!(paths::AUTHORIZE; "oauth2" / "authorize")
        .and(warp::get())
        .and(with_state(state.clone()))
        .and(warp::cookie::optional::<String>(session_cookie))
        .and(raw_query())
        .then(authorize_get);
    // POST /oauth2/authorize
    let authorize_post = route!(paths::AUTHORIZE; "oauth2" / "authorize")
        .and(warp::post())
        .and(with_state(state.clone()))
        .and(warp::cookie::optional::<String>(session_cookie))
        .and(session::form_origin())
        .and(form())
        .then(authorize_post);
    // POST /oauth2/token
    let token = route!(paths::TOKEN; "oauth2" / "token")
        .and(warp::post())
        .and(with_state(state.clone()))
        .and(warp::header::optional::<String>("authorization"))
        .and(form())
        .then(token_endpoint);
    // POST /oauth2/revoke
    let revoke = route!(paths::REVOKE; "oauth2" / "revoke")
        .and(warp::post())
        .and(with_state(state.clone()))
        .and(warp::header::optional::<String>("authorization"))
        .and(form())
        .then(revoke_endpoint);
    // POST /oauth2/introspect
    let introspect = route!(paths::INTROSPECT; "oauth2" / "introspect")
        .and(warp::post())
        .and(with_state(state.clone()))
        .and(warp::header::optional::<String>("authorization"))
        .and(form())
        .then(introspect_endpoint);
    authorize_get
        .or(authorize_post)
        .unify()
        .or(token)
        .unify()
        .or(revoke)
        .unify()
        .or(introspect)
        .unify()
        .or(session::filters(state))
        .unify()
}

/// Sends an authorization response to the client: a `303` to the redirect URI, or for
/// `response_mode=form_post` a page whose form the browser POSTs there.
fn deliver(response: &AuthResponse) -> Resp {
    match response.redirect_url() {
        Some(url) => respond::see_other(url.as_str()),
        None => respond::form_post(response.redirect_uri.url(), &response.params),
    }
}

fn error_page(message: &str) -> Resp {
    respond::html(
        StatusCode::BAD_REQUEST,
        html::error("This app's request cannot be completed", message),
    )
}

/// The page of a failure on the server's side: logged once, its id shown to the user.
fn server_error_page(e: &OAuthError) -> Resp {
    internal_page(
        e.cause(),
        "Something went wrong on our side; please try again.",
    )
}

fn authorize_failure(state: &AppState, e: AuthorizeError) -> Resp {
    match e {
        AuthorizeError::Page(message) => error_page(&message),
        AuthorizeError::Client(e) => deliver(&e.response(&state.platform.config.issuer)),
        AuthorizeError::Internal(e) => server_error_page(&e),
    }
}

/// Parses and checks an authorization request from a query or form.
async fn validate(state: &AppState, p: &Params) -> Result<ValidRequest, Resp> {
    let req = AuthorizationRequest::parse(p).map_err(|e| error_page(&e.description))?;
    authorize::validate(&state.platform, req)
        .await
        .map_err(|e| authorize_failure(state, e))
}

/// Companies the user may install into: the ones they own.
async fn owned_companies(
    state: &AppState,
    user: i64,
) -> Result<Vec<crate::store::Membership>, OAuthError> {
    Ok(state
        .platform
        .store
        .memberships(user)
        .await?
        .into_iter()
        .filter(|m| m.role == Role::Owner)
        .collect())
}

fn needs_company(req: &ValidRequest) -> bool {
    req.scopes.contains("company") || req.scopes.contains("company.members")
}

async fn authorize_get(state: AppState, sid: Option<String>, query: String) -> Resp {
    let p = Params::parse(&query);
    let req = match validate(&state, &p).await {
        Ok(r) => r,
        Err(page) => return page,
    };
    let signed_in = match session::current(&state, sid.as_deref()).await {
        Ok(s) => s,
        Err(e) => return server_error_page(&e),
    };
    // OpenID Connect Core §3.1.2.3: `prompt` and `max_age` decide whether the user must sign
    // in (again); with `prompt=none` the answer is an error instead of a page (§3.1.2.6).
    let fresh = signed_in.as_ref().filter(|s| {
        !req.oidc
            .needs_fresh_login(session::auth_time(&s.session), crate::domain::now())
    });
    let Some(signed_in) = fresh else {
        if req.oidc.prompt.none {
            return refuse(
                &state,
                &req,
                ErrorCode::LoginRequired,
                "the user is not signed in",
            );
        }
        // Signed in afresh, the request goes on without `prompt=login`, or it would loop.
        let next = format!("/oauth2/authorize?{}", without_prompt(&p));
        return session::login_page(&state, &next, None, StatusCode::OK);
    };
    if req.oidc.prompt.none {
        return authorize_silently(&state, &req, signed_in).await;
    }
    let mut hidden: Vec<(&str, &str)> = p
        .iter()
        .filter(|(k, _)| !matches!(*k, "csrf" | "decision" | "company_id"))
        .collect();
    hidden.sort();
    // Atrium's own client is never approved without a gesture, even with a live session
    // (RFC 8252 §8.6): a page names the account, and only its POST, carrying the session's
    // CSRF token, issues the code.
    if req.client.first_party {
        return respond::html(
            StatusCode::OK,
            html::continue_as(
                &hidden,
                &signed_in.session.csrf,
                &signed_in.user,
                &format!("/oauth2/authorize?{query}"),
            ),
        );
    }
    let companies = match owned_companies(&state, signed_in.user.id).await {
        Ok(c) => c,
        Err(e) => return server_error_page(&e),
    };
    if needs_company(&req) && companies.is_empty() {
        return error_page(&format!(
            "{} needs a company to be installed in, and you own none.",
            req.client.name
        ));
    }
    respond::html(
        StatusCode::OK,
        html::consent(
            &req.client,
            &req.scopes,
            &companies,
            &hidden,
            &signed_in.session.csrf,
            &signed_in.user.username,
        ),
    )
}

async fn authorize_post(
    state: AppState,
    sid: Option<String>,
    from: FormOrigin,
    form: Result<Params, OAuthError>,
) -> Resp {
    if !session::same_origin(&state, &from) {
        return session::cross_origin_page();
    }
    let p = match form {
        Ok(p) => p,
        Err(e) => return error_page(&e.description),
    };
    let signed_in = match session::current(&state, sid.as_deref()).await {
        Ok(Some(s)) => s,
        Ok(None) => return error_page("Your session has ended. Start again from the app."),
        Err(e) => return server_error_page(&e),
    };
    if !csrf_ok(&signed_in.session.csrf, p.get("csrf").ok().flatten()) {
        return error_page("This consent form is not valid any more. Start again from the app.");
    }
    let req = match validate(&state, &p).await {
        Ok(r) => r,
        Err(page) => return page,
    };
    match p.get("decision").ok().flatten() {
        Some("allow") => {}
        Some("deny") => return deliver(&authorize::deny(&state.platform, &req)),
        _ => return error_page("The consent form must say allow or deny."),
    }
    if req.client.first_party {
        // Atrium's own client signs the user in to the desktop; it is never installed.
        if p.get("company_id").ok().flatten().is_some() {
            return error_page("Atrium itself cannot be installed in a company.");
        }
        let auth_time = Some(session::auth_time(&signed_in.session));
        return match authorize::approve(&state.platform, &req, signed_in.user.id, None, auth_time)
            .await
        {
            Ok(a) => {
                tracing::info!(user = %signed_in.user.username, "desktop sign-in approved");
                deliver(&a.response)
            }
            Err(e) => server_error_page(&e),
        };
    }
    let company = match company_choice(&state, &req, signed_in.user.id, &p).await {
        Ok(c) => c,
        Err(page) => return page,
    };
    let auth_time = Some(session::auth_time(&signed_in.session));
    match authorize::approve(&state.platform, &req, signed_in.user.id, company, auth_time).await {
        Ok(approval) => {
            state.metrics.approved(req.response_type);
            tracing::info!(
                client_id = %req.client.client_id,
                method = req.response_type.as_str(),
                "authorization approved"
            );
            deliver(&approval.response)
        }
        Err(e) => server_error_page(&e),
    }
}

/// An OpenID Connect error (`login_required`, ...) at the client's redirect URI.
fn refuse(state: &AppState, req: &ValidRequest, code: ErrorCode, why: &'static str) -> Resp {
    deliver(
        &req.error(OAuthError::new(code, why))
            .response(&state.platform.config.issuer),
    )
}

/// The request's query without `prompt`.
fn without_prompt(p: &Params) -> String {
    let mut q = url::form_urlencoded::Serializer::new(String::new());
    let mut pairs: Vec<_> = p.iter().filter(|(k, _)| *k != "prompt").collect();
    pairs.sort();
    for (k, v) in pairs {
        q.append_pair(k, v);
    }
    q.finish()
}

/// `prompt=none` with a signed-in user: a code with no page, when an install of the app in
/// one of the user's companies already covers the scopes; otherwise `consent_required`.
/// This is how an app embedded in the dashboard signs in the member who opened it: the
/// company's owner consented when installing it, as the launch token already assumes. Atrium's
/// own client is never approved without a gesture (RFC 8252 §8.6).
async fn authorize_silently(
    state: &AppState,
    req: &ValidRequest,
    signed_in: &session::SignedIn,
) -> Resp {
    if req.client.first_party {
        return refuse(
            state,
            req,
            ErrorCode::InteractionRequired,
            "Atrium's own client always asks the user",
        );
    }
    let install = match covering_install(state, req, signed_in.user.id).await {
        Ok(Some(i)) => i,
        Ok(None) => {
            return refuse(
                state,
                req,
                ErrorCode::ConsentRequired,
                "the app is not installed with these scopes in any of the user's companies",
            )
        }
        Err(e) => return server_error_page(&e),
    };
    let auth_time = session::auth_time(&signed_in.session);
    match authorize::approve_installed(&state.platform, req, signed_in.user.id, install, auth_time)
        .await
    {
        Ok(a) => {
            state.metrics.approved(req.response_type);
            deliver(&a.response)
        }
        Err(e) if e.error == ErrorCode::AccessDenied => refuse(
            state,
            req,
            ErrorCode::ConsentRequired,
            "the app was uninstalled",
        ),
        Err(e) => server_error_page(&e),
    }
}

/// The oldest active install of the request's app, in a company the user belongs to, whose
/// scopes include the request's.
async fn covering_install(
    state: &AppState,
    req: &ValidRequest,
    user: i64,
) -> Result<Option<Install>, OAuthError> {
    let store = &state.platform.store;
    let mut found: Option<Install> = None;
    for m in store.memberships(user).await? {
        for i in store.installs_of_company(m.company.id).await? {
            if i.active
                && i.app_id == req.client.app_id
                && req.scopes.is_subset(&i.scopes)
                && found.as_ref().is_none_or(|f| i.id < f.id)
            {
                found = Some(i);
            }
        }
    }
    Ok(found)
}

/// The company a consent POST installs into. A third-party app goes into a company the user
/// owns and chose on the page: when they own any, the POST must name one (the page pre-selects
/// none when there are several), and a POST without one is refused, not defaulted.
async fn company_choice(
    state: &AppState,
    req: &ValidRequest,
    user: i64,
    p: &Params,
) -> Result<Option<i64>, Resp> {
    if req.client.first_party {
        return Ok(None);
    }
    let owned = owned_companies(state, user)
        .await
        .map_err(|e| server_error_page(&e))?;
    match p
        .get("company_id")
        .ok()
        .flatten()
        .filter(|raw| !raw.is_empty())
    {
        Some(raw) => match raw
            .parse::<i64>()
            .ok()
            .filter(|id| owned.iter().any(|m| m.company.id == *id))
        {
            Some(id) => Ok(Some(id)),
            None => Err(error_page(
                "You can only install apps in companies you own.",
            )),
        },
        None if needs_company(req) || !owned.is_empty() => Err(error_page(&format!(
            "Choose the company to install {} in: go back and pick one, then allow it.",
            req.client.name
        ))),
        None => Ok(None),
    }
}

async fn token_endpoint(
    state: AppState,
    authorization: Option<String>,
    form: Result<Params, OAuthError>,
) -> Resp {
    let used_basic = authorization.is_some();
    let result = match form.and_then(|p| TokenRequest::parse(&p, authorization.as_deref())) {
        Ok(req) => {
            let grant = req.grant_type();
            let issued = grants::exchange(&state.platform, req).await;
            if issued.is_ok() {
                state
                    .metrics
                    .tokens_issued
                    .with_label_values(&[grant])
                    .inc();
            }
            issued
        }
        Err(e) => Err(e),
    };
    match result {
        Ok(t) => respond::no_store(respond::json(StatusCode::OK, &t)),
        Err(e) => refused(&state, "token", e, used_basic),
    }
}

async fn revoke_endpoint(
    state: AppState,
    authorization: Option<String>,
    form: Result<Params, OAuthError>,
) -> Resp {
    let used_basic = authorization.is_some();
    let result = match form.and_then(|p| TokenHandle::parse(&p, authorization.as_deref())) {
        Ok(req) => revoke::revoke(&state.platform, req).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => respond::no_store(respond::json(StatusCode::OK, &serde_json::json!({}))),
        Err(e) => refused(&state, "revoke", e, used_basic),
    }
}

async fn introspect_endpoint(
    state: AppState,
    authorization: Option<String>,
    form: Result<Params, OAuthError>,
) -> Resp {
    let used_basic = authorization.is_some();
    let result = match form.and_then(|p| TokenHandle::parse(&p, authorization.as_deref())) {
        Ok(req) => introspect::introspect(&state.platform, req).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(i) => respond::no_store(respond::json(StatusCode::OK, &i)),
        Err(e) => refused(&state, "introspect", e, used_basic),
    }
}

/// The RFC 6749 §5.2 answer to a refused request, counted by endpoint and error code.
fn refused(state: &AppState, endpoint: &'static str, e: OAuthError, used_basic: bool) -> Resp {
    state
        .metrics
        .oauth_refusals
        .with_label_values(&[endpoint, e.error.as_str()])
        .inc();
    ApiError::oauth(e, used_basic).into_response()
}
