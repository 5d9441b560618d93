//! Browser sessions of the HTML pages: `GET/POST /login`, `POST /logout`, and finding the
//! signed-in user. The cookie holds a random id; the server keeps only its digest.
//!
//! Sign-in is guarded against login CSRF and session fixation, which matter here because every
//! port of a host shares its cookies (a page served on `127.0.0.1:9000` can set cookies that
//! `127.0.0.1:8000` receives):
//! - the login form carries a token bound to a pre-session id by the server's key
//!   ([`ServerKeys::login_form_token`](crate::keys::ServerKeys::login_form_token)), so no one can
//!   make up a cookie and field pair; each form is accepted once, for ten minutes;
//! - form POSTs whose `Origin` (or `Sec-Fetch-Site`) says they come from another origin are
//!   refused ([`same_origin`]);
//! - signing in always starts a new session and ends the one the browser presented;
//! - with an https issuer, cookies are `__Host-` prefixed and `Secure`, so no other origin can
//!   set them.

use atrium_proto::paths;
use subtle::ConstantTimeEq;
use warp::http::StatusCode;
use warp::Filter;

use super::error::internal_page;
use super::respond::{self, Resp};
use super::{form, html, raw_query, with_state, AppState};
use crate::domain::secret::{Kind, Secret, TokenDigest};
use crate::domain::{now, password};
use crate::oauth::params::Params;
use crate::oauth::OAuthError;
use crate::serve::ClientAddr;
use crate::store::{Session, User};
use crate::throttle::Refusal;
use warp::http::header::{HeaderValue, RETRY_AFTER};

const SESSION_TTL: i64 = 12 * 3600;
/// How long a login form stays valid.
const LOGIN_FORM_TTL: i64 = 600;

/// The session cookie's name: `__Host-` prefixed when cookies are `Secure` (https issuer).
pub fn session_cookie(state: &AppState) -> &'static str {
    if state.secure_cookies {
        "__Host-atrium_session"
    } else {
        "atrium_session"
    }
}

/// The login form's pre-session cookie.
fn login_cookie(state: &AppState) -> &'static str {
    if state.secure_cookies {
        "__Host-atrium_login"
    } else {
        "atrium_login"
    }
}

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
    let Some(session) = state.platform.store.session(digest, now()).await? else {
        return Ok(None);
    };
    let Some(user) = state.platform.store.user(session.user_id).await? else {
        return Ok(None);
    };
    Ok(Some(SignedIn {
        user,
        session,
        digest,
    }))
}

/// When the user of `session` signed in (OpenID Connect's `auth_time`): a session is made
/// only by signing in, and lives exactly [`SESSION_TTL`] (it is never extended), so its
/// expiry says when it began.
pub fn auth_time(session: &Session) -> i64 {
    session.expires_at - SESSION_TTL
}

/// Constant-time comparison of a submitted CSRF token with the expected one.
pub fn csrf_ok(expected: &str, given: Option<&str>) -> bool {
    given.is_some_and(|g| expected.as_bytes().ct_eq(g.as_bytes()).into())
}

/// The browser's word on where a form POST comes from: `Origin` and `Sec-Fetch-Site`.
#[derive(Debug, Default)]
pub struct FormOrigin {
    pub origin: Option<String>,
    pub fetch_site: Option<String>,
}

/// `FormOrigin` of a request.
pub fn form_origin(
) -> impl Filter<Extract = (FormOrigin,), Error = std::convert::Infallible> + Clone {
    warp::header::optional::<String>("origin")
        .and(warp::header::optional::<String>("sec-fetch-site"))
        .map(|origin, fetch_site| FormOrigin { origin, fetch_site })
        .or(warp::any().map(FormOrigin::default))
        .unify()
}

/// False when the browser says a form was posted from another origin (another port of the
/// same host included). Requests without these headers come from programs, not from a page a
/// user was lured to, and pass.
pub fn same_origin(state: &AppState, from: &FormOrigin) -> bool {
    if let Some(site) = &from.fetch_site {
        if site != "same-origin" && site != "none" {
            return false;
        }
    }
    match &from.origin {
        None => true,
        Some(origin) => url::Url::parse(&state.platform.config.issuer)
            .is_ok_and(|issuer| issuer.origin().ascii_serialization() == *origin),
    }
}

/// The page refusing a cross-origin form.
pub fn cross_origin_page() -> Resp {
    respond::html(
        StatusCode::FORBIDDEN,
        html::error(
            "Request refused",
            "This form was sent from another site. Go to Atrium directly and try again.",
        ),
    )
}

/// The `Set-Cookie` value that removes the session cookie from the browser.
pub fn cleared_session_cookie(state: &AppState) -> String {
    cookie(state, session_cookie(state), "", 0)
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

/// OpenID Connect's `login_hint` (Core §3.1.2.1) of the authorization request the user signs in
/// for: Atrium takes it as the username to prefill, when it could be one.
fn login_hint(next: &str) -> Option<String> {
    let query = next.strip_prefix("/oauth2/authorize?")?;
    let hint = Params::parse(query)
        .get("login_hint")
        .ok()
        .flatten()?
        .to_string();
    (hint.len() <= 100 && !hint.chars().any(char::is_control)).then_some(hint)
}

/// The sign-in page, with a fresh pre-session id in a cookie and its server-bound token in the
/// form.
pub fn login_page(state: &AppState, next: &str, error: Option<&str>, status: StatusCode) -> Resp {
    let pre_session = format!(
        "{}.{}",
        now(),
        Secret::generate(Kind::Csrf)
            .expose()
            .trim_start_matches("atr_cf_")
    );
    let token = state.platform.keys.login_form_token(&pre_session);
    let body = html::login(next, &token, error, login_hint(next));
    respond::with_cookie(
        respond::html(status, body),
        &cookie(state, login_cookie(state), &pre_session, LOGIN_FORM_TTL),
    )
}

/// Why a submitted login form is refused.
enum FormRefused {
    Invalid,
    Expired,
    Used,
}

/// Checks a login form's pre-session id and token, and uses the form up.
async fn use_login_form(
    state: &AppState,
    pre_session: Option<&str>,
    token: Option<&str>,
) -> Result<Result<(), FormRefused>, OAuthError> {
    let (Some(pre_session), Some(token)) = (pre_session, token) else {
        return Ok(Err(FormRefused::Invalid));
    };
    let expected = state.platform.keys.login_form_token(pre_session);
    if !csrf_ok(&expected, Some(token)) {
        return Ok(Err(FormRefused::Invalid));
    }
    let at = now();
    let issued = pre_session
        .split_once('.')
        .and_then(|(t, _)| t.parse::<i64>().ok())
        .unwrap_or(0);
    if issued > at + 60 || at - issued > LOGIN_FORM_TTL {
        return Ok(Err(FormRefused::Expired));
    }
    let fresh = state
        .platform
        .store
        .consume_login_form(TokenDigest::of(pre_session), issued + LOGIN_FORM_TTL, at)
        .await?;
    Ok(if fresh {
        Ok(())
    } else {
        Err(FormRefused::Used)
    })
}

pub fn filters(state: AppState) -> impl Filter<Extract = (Resp,), Error = warp::Rejection> + Clone {
    // GET /login
    let get_login = route!(paths::LOGIN; "login")
        .and(warp::get())
        .and(with_state(state.clone()))
        .and(raw_query())
        .map(|state: AppState, q: String| {
            let p = Params::parse(&q);
            let next = safe_next(p.get("next").ok().flatten()).to_string();
            login_page(&state, &next, None, StatusCode::OK)
        });
    let session_cookie = session_cookie(&state);
    // POST /login
    let post_login = route!(paths::LOGIN; "login")
        .and(warp::post())
        .and(with_state(state.clone()))
        .and(warp::cookie::optional::<String>(login_cookie(&state)))
        .and(warp::cookie::optional::<String>(session_cookie))
        .and(form_origin())
        .and(form())
        .and(warp::ext::optional::<ClientAddr>())
        .then(post_login);
    // POST /logout
    let logout = route!(paths::LOGOUT; "logout")
        .and(warp::post())
        .and(with_state(state.clone()))
        .and(warp::cookie::optional::<String>(session_cookie))
        .and(form_origin())
        .and(form())
        .then(logout);
    // GET / (paths::HOME: the end of the path, no segment)
    let home = warp::path::end()
        .and(warp::get())
        .and(with_state(state))
        .and(warp::cookie::optional::<String>(session_cookie))
        .then(home);
    get_login
        .or(post_login)
        .unify()
        .or(logout)
        .unify()
        .or(home)
        .unify()
}

/// Signing in failed on the server's side: logged once, its id shown on the page.
fn sign_in_failed(cause: &(dyn std::error::Error + 'static)) -> Resp {
    internal_page(cause, "Signing in failed; please try again.")
}

async fn post_login(
    state: AppState,
    pre_session: Option<String>,
    old_session: Option<String>,
    from: FormOrigin,
    form: Result<Params, OAuthError>,
    client: Option<ClientAddr>,
) -> Resp {
    if !same_origin(&state, &from) {
        return cross_origin_page();
    }
    let client = client.map(|ClientAddr(a)| a.ip());
    let Ok(p) = form else {
        return respond::html(
            StatusCode::BAD_REQUEST,
            html::error("Bad request", "The sign-in form was malformed."),
        );
    };
    let next = safe_next(p.get("next").ok().flatten()).to_string();
    let refused = match use_login_form(&state, pre_session.as_deref(), p.get("csrf").ok().flatten())
        .await
    {
        Ok(Ok(())) => None,
        Ok(Err(FormRefused::Invalid)) => Some("This sign-in form is not valid. Please try again."),
        Ok(Err(FormRefused::Expired)) => Some("Your sign-in form expired. Please try again."),
        Ok(Err(FormRefused::Used)) => Some("This sign-in form was already sent. Please try again."),
        Err(e) => return sign_in_failed(e.cause()),
    };
    if let Some(message) = refused {
        return login_page(&state, &next, Some(message), StatusCode::BAD_REQUEST);
    }
    let username = p.get("username").ok().flatten().unwrap_or("").to_string();
    let password_given = p.get("password").ok().flatten().unwrap_or("").to_string();
    let attempt = match state.login.admit(client, &username).await {
        Ok(Ok(attempt)) => attempt,
        Ok(Err(refusal)) => return throttled(&state, &next, refusal),
        Err(e) => return sign_in_failed(&e),
    };
    let found = match state.platform.store.user_by_username(&username).await {
        Ok(f) => f,
        Err(e) => return sign_in_failed(&e),
    };
    // Argon2 is slow and memory-hungry by design: the guard runs a few checks at a time, off
    // the async executor. An unknown username costs as much as a wrong password.
    let (user, hash) = match found {
        Some((user, hash)) => (Some(user), hash),
        None => (None, password::dummy_hash().to_string()),
    };
    let verified = match state.login.verify(password_given, hash).await {
        Ok(ok) => user.filter(|_| ok),
        Err(refusal) => return throttled(&state, &next, refusal),
    };
    if let Err(e) = state.login.record(attempt, verified.is_some()).await {
        return sign_in_failed(&e);
    }
    let Some(user) = verified else {
        return login_page(
            &state,
            &next,
            Some("Wrong username or password."),
            StatusCode::UNAUTHORIZED,
        );
    };
    // A new session every time: whatever session id the browser presented (perhaps planted)
    // ends here.
    if let Some(old) = old_session {
        if let Err(e) = state
            .platform
            .store
            .delete_session(TokenDigest::of(&old))
            .await
        {
            return sign_in_failed(&e);
        }
    }
    let sid = Secret::generate(Kind::Session);
    let session = Session {
        user_id: user.id,
        csrf: Secret::generate(Kind::Csrf).expose().to_string(),
        expires_at: now() + SESSION_TTL,
    };
    if let Err(e) = state
        .platform
        .store
        .create_session(sid.digest(), session)
        .await
    {
        return sign_in_failed(&e);
    }
    tracing::info!(user = %user.username, "signed in");
    let r = respond::see_other(&next);
    let r = respond::with_cookie(
        r,
        &cookie(&state, session_cookie(&state), sid.expose(), SESSION_TTL),
    );
    respond::with_cookie(r, &cookie(&state, login_cookie(&state), "", 0))
}

/// The sign-in page again, with 429 (back-off) or 503 (every check busy) and `Retry-After`.
fn throttled(state: &AppState, next: &str, refusal: Refusal) -> Resp {
    let (status, message) = match refusal {
        Refusal::TooManyAttempts { .. } => (
            StatusCode::TOO_MANY_REQUESTS,
            "Too many failed sign-ins. Please wait a little and try again.",
        ),
        Refusal::Busy { .. } => (
            StatusCode::SERVICE_UNAVAILABLE,
            "The server is busy. Please try again in a moment.",
        ),
    };
    let mut r = login_page(state, next, Some(message), status);
    r.headers_mut()
        .insert(RETRY_AFTER, HeaderValue::from(refusal.retry_after()));
    r
}

async fn logout(
    state: AppState,
    sid: Option<String>,
    from: FormOrigin,
    form: Result<Params, OAuthError>,
) -> Resp {
    if !same_origin(&state, &from) {
        return cross_origin_page();
    }
    let signed_in = match current(&state, sid.as_deref()).await {
        Ok(s) => s,
        Err(e) => return sign_out_failed(e.cause()),
    };
    if let (Some(signed_in), Ok(p)) = (signed_in, form) {
        if csrf_ok(&signed_in.session.csrf, p.get("csrf").ok().flatten()) {
            if let Err(e) = state.platform.store.delete_session(signed_in.digest).await {
                return sign_out_failed(&e);
            }
        } else {
            return respond::html(
                StatusCode::BAD_REQUEST,
                html::error("Bad request", "The sign-out form expired."),
            );
        }
    }
    respond::with_cookie(
        respond::see_other("/login"),
        &cookie(&state, session_cookie(&state), "", 0),
    )
}

/// Signing out failed on the server's side (the session may still be live): logged once.
fn sign_out_failed(cause: &(dyn std::error::Error + 'static)) -> Resp {
    internal_page(cause, "Signing out failed; please try again.")
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
        Ok(None) => respond::see_other("/login"),
        Err(e) => internal_page(
            e.cause(),
            "Something went wrong on our side; please try again.",
        ),
    }
}
