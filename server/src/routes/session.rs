//! Browser sessions of the HTML pages: `GET/POST /login`, `POST /logout`, and finding the
//! signed-in user. The cookie holds a random id; the server keeps only its digest.

use subtle::ConstantTimeEq;
use warp::http::StatusCode;
use warp::Filter;

use super::respond::{self, Resp};
use super::{form, html, raw_query, with_state, AppState};
use crate::domain::secret::{Kind, Secret, TokenDigest};
use crate::domain::{now, password};
use crate::oauth::params::Params;
use crate::oauth::OAuthError;
use crate::store::{Session, User};

pub const SESSION_COOKIE: &str = "atrium_session";
const LOGIN_CSRF_COOKIE: &str = "atrium_login_csrf";
const SESSION_TTL: i64 = 12 * 3600;

/// The signed-in user and their session.
pub struct SignedIn {
    pub user: User,
    pub session: Session,
    pub digest: TokenDigest,
}

/// Finds the user of the session cookie, if the session is live.
pub async fn current(
    state: &AppState,
    cookie: Option<&str>,
) -> Result<Option<SignedIn>, OAuthError> {
    let Some(raw) = cookie else { return Ok(None) };
    let digest = TokenDigest::of(raw);
    let Some(session) = state.oauth.store.session(digest, now()).await? else {
        return Ok(None);
    };
    let Some(user) = state.oauth.store.user(session.user_id).await? else {
        return Ok(None);
    };
    Ok(Some(SignedIn {
        user,
        session,
        digest,
    }))
}

/// Constant-time comparison of a submitted CSRF token with the expected one.
pub fn csrf_ok(expected: &str, given: Option<&str>) -> bool {
    given.is_some_and(|g| expected.as_bytes().ct_eq(g.as_bytes()).into())
}

fn cookie(state: &AppState, name: &str, value: &str, max_age: i64) -> String {
    let secure = if state.secure_cookies { "; Secure" } else { "" };
    format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}")
}

/// Only local paths into the authorization flow (or the home page) are followed after sign-in:
/// no open redirect.
fn safe_next(next: Option<&str>) -> &str {
    match next {
        Some(n) if n.starts_with("/oauth2/authorize?") && !n.contains(['\r', '\n']) => n,
        _ => "/",
    }
}

/// The sign-in page, with a fresh login CSRF token in a cookie and in the form (double submit).
pub fn login_page(state: &AppState, next: &str, error: Option<&str>, status: StatusCode) -> Resp {
    let csrf = Secret::generate(Kind::Csrf);
    let body = html::login(next, csrf.expose(), error);
    respond::with_cookie(
        respond::html(status, body),
        &cookie(state, LOGIN_CSRF_COOKIE, csrf.expose(), 600),
    )
}

pub fn filters(state: AppState) -> impl Filter<Extract = (Resp,), Error = warp::Rejection> + Clone {
    // GET /login
    let get_login = warp::path!("login")
        .and(warp::get())
        .and(with_state(state.clone()))
        .and(raw_query())
        .map(|state: AppState, q: String| {
            let p = Params::parse(&q);
            let next = safe_next(p.get("next").ok().flatten()).to_string();
            login_page(&state, &next, None, StatusCode::OK)
        });
    // POST /login
    let post_login = warp::path!("login")
        .and(warp::post())
        .and(with_state(state.clone()))
        .and(warp::cookie::optional::<String>(LOGIN_CSRF_COOKIE))
        .and(form())
        .then(post_login);
    // POST /logout
    let logout = warp::path!("logout")
        .and(warp::post())
        .and(with_state(state.clone()))
        .and(warp::cookie::optional::<String>(SESSION_COOKIE))
        .and(form())
        .then(logout);
    // GET /
    let home = warp::path::end()
        .and(warp::get())
        .and(with_state(state))
        .and(warp::cookie::optional::<String>(SESSION_COOKIE))
        .then(home);
    get_login
        .or(post_login)
        .unify()
        .or(logout)
        .unify()
        .or(home)
        .unify()
}

async fn post_login(
    state: AppState,
    csrf_cookie: Option<String>,
    form: Result<Params, OAuthError>,
) -> Resp {
    let Ok(p) = form else {
        return respond::html(
            StatusCode::BAD_REQUEST,
            html::error("Bad request", "The sign-in form was malformed."),
        );
    };
    let next = safe_next(p.get("next").ok().flatten()).to_string();
    let expected = csrf_cookie.unwrap_or_default();
    if expected.is_empty() || !csrf_ok(&expected, p.get("csrf").ok().flatten()) {
        return login_page(
            &state,
            &next,
            Some("Your sign-in form expired. Please try again."),
            StatusCode::BAD_REQUEST,
        );
    }
    let username = p.get("username").ok().flatten().unwrap_or("").to_string();
    let password_given = p.get("password").ok().flatten().unwrap_or("").to_string();
    let found = match state.oauth.store.user_by_username(&username).await {
        Ok(f) => f,
        Err(_) => {
            return respond::html(
                StatusCode::INTERNAL_SERVER_ERROR,
                html::error("Server error", "Signing in failed; please try again."),
            )
        }
    };
    // Argon2 is slow by design: keep it off the async executor.
    let verified = tokio::task::spawn_blocking(move || match &found {
        Some((user, hash)) => password::verify(&password_given, hash).then(|| user.clone()),
        None => {
            password::verify(&password_given, password::dummy_hash());
            None
        }
    })
    .await
    .ok()
    .flatten();
    let Some(user) = verified else {
        return login_page(
            &state,
            &next,
            Some("Wrong username or password."),
            StatusCode::UNAUTHORIZED,
        );
    };
    let sid = Secret::generate(Kind::Session);
    let session = Session {
        user_id: user.id,
        csrf: Secret::generate(Kind::Csrf).expose().to_string(),
        expires_at: now() + SESSION_TTL,
    };
    if state
        .oauth
        .store
        .create_session(sid.digest(), session)
        .await
        .is_err()
    {
        return respond::html(
            StatusCode::INTERNAL_SERVER_ERROR,
            html::error("Server error", "Signing in failed; please try again."),
        );
    }
    tracing::info!(user = %user.username, "signed in");
    let r = respond::see_other(&next);
    let r = respond::with_cookie(
        r,
        &cookie(&state, SESSION_COOKIE, sid.expose(), SESSION_TTL),
    );
    respond::with_cookie(r, &cookie(&state, LOGIN_CSRF_COOKIE, "", 0))
}

async fn logout(state: AppState, sid: Option<String>, form: Result<Params, OAuthError>) -> Resp {
    if let (Ok(Some(signed_in)), Ok(p)) = (current(&state, sid.as_deref()).await, form) {
        if csrf_ok(&signed_in.session.csrf, p.get("csrf").ok().flatten()) {
            let _ = state.oauth.store.delete_session(signed_in.digest).await;
        } else {
            return respond::html(
                StatusCode::BAD_REQUEST,
                html::error("Bad request", "The sign-out form expired."),
            );
        }
    }
    respond::with_cookie(
        respond::see_other("/login"),
        &cookie(&state, SESSION_COOKIE, "", 0),
    )
}

async fn home(state: AppState, sid: Option<String>) -> Resp {
    match current(&state, sid.as_deref()).await {
        Ok(Some(s)) => respond::html(
            StatusCode::OK,
            html::page(
                "Atrium",
                &format!(
                    "<h1>Atrium</h1><p class=\"lead\">Signed in as <strong>{}</strong>.</p>\
                     <form method=\"post\" action=\"/logout\"><input type=\"hidden\" name=\"csrf\" value=\"{}\">\
                     <div class=\"actions\"><button class=\"secondary\" type=\"submit\">Sign out</button></div></form>",
                    html::esc(&s.user.display_name),
                    html::esc(&s.session.csrf)
                ),
            ),
        ),
        _ => respond::see_other("/login"),
    }
}
