//! The apps' own pages. The dashboard opens `GET /app1/#atrium_launch=<JWT>` (or `/app2/`):
//! the token is in the fragment, which the browser never sends here, so the page's script
//! (`static/launch.js`) takes it out of the address bar and posts it to `POST /app1/launch`.
//! There the token is checked ([`crate::launch`]), its `jti` accepted once, and a session
//! started for that install ([`crate::session`]): the answer sets the session cookie and shows
//! the page. Later loads of `GET /app1/` are served from the session cookie; when such a page
//! still finds a launch token in its fragment (Atrium woke the app, whose cookie store kept
//! the earlier session), the script hides it and posts the token: the new launch wins.
//!
//! The page says who it runs for and in which company, and shows what the app reads now with
//! the token it keeps for that install (App2 refreshes an expired one). App2's page also signs
//! the user in with OpenID Connect and shows the verified ID token ([`crate::signin`]); Atrium's
//! answer comes to `GET /app2/callback` ([`signed_in`]), which shows the same page. Without a launch or a
//! session it asks to be opened from Atrium (200); a bad or replayed token is told why (401);
//! when Atrium's keys cannot be fetched, 502.

use warp::http::header::{HeaderValue, LOCATION, SET_COOKIE};
use warp::http::StatusCode;

use crate::app2;
use crate::config::AppId;
use crate::pages::{self, Stored};
use crate::session::{self, Session};
use crate::signin;
use crate::tokens::StoredToken;
use crate::web::{self, Query, Resp};
use crate::State;

/// The launch form's largest body: a launch token is under 1 KiB.
pub const LAUNCH_FORM_LIMIT: u64 = 16 * 1024;

/// The launch script of the apps' pages.
pub const LAUNCH_JS: &str = include_str!("../static/launch.js");

/// `GET /app1/` and `GET /app2/`: the session's page, or the page that asks to be opened from
/// Atrium (whose script posts a launch token found in the fragment).
pub async fn page(app: AppId, state: State, cookie: Option<String>) -> Resp {
    let now = crate::unix_now();
    let session = session::from_cookie_header(app, cookie.as_deref())
        .and_then(|id| state.sessions.get(app, &id, now).map(|s| (id, s)));
    match session {
        Some((id, s)) => show(&state, &id, &s, StatusCode::OK).await,
        None => web::html(StatusCode::OK, pages::launch_missing(app)),
    }
}

/// `POST /app1/launch` and `POST /app2/launch`, form `atrium_launch=<JWT>` and, when Atrium
/// asked for a deep path (a notification's, `#...&atrium_path=...`), `atrium_path`: once the
/// launch is accepted the answer is a redirect there (303, with the session cookie), if it is
/// a page of this app (under `/app1/` or `/app2/`); any other path is ignored.
pub async fn launch(app: AppId, state: State, body: warp::hyper::body::Bytes) -> Resp {
    let form = Query::parse(&String::from_utf8_lossy(&body));
    let Some(token) = form.get("atrium_launch").filter(|t| !t.is_empty()) else {
        return web::html(StatusCode::OK, pages::launch_missing(app));
    };
    let client_id = &state.config.app(app).client_id;
    let claims = match state.jwks.verify(token, client_id).await {
        Ok(c) => c,
        Err(e) if e.is_unavailable() => {
            tracing::warn!(error = %e, app = app.label(), "cannot check a launch token");
            return web::html(
                StatusCode::BAD_GATEWAY,
                pages::launch_unavailable(app, &e.to_string()),
            );
        }
        Err(e) => return refused(app, &e.to_string()),
    };
    let now = crate::unix_now();
    if !state.launches.accept_once(&claims.jti, claims.exp, now) {
        return refused(app, "the launch token has been used already");
    }
    tracing::info!(app = app.label(), user = %claims.username, company = claims.company, install = claims.install, "launched");
    let id = state.sessions.start(app, claims, now);
    let Some(session) = state.sessions.get(app, &id, now) else {
        return refused(app, "the session could not be kept");
    };
    let deep = form
        .get("atrium_path")
        .filter(|p| is_own_page(app, p))
        .and_then(|p| HeaderValue::from_str(p).ok());
    let mut res = match deep {
        Some(location) => {
            let mut r = web::html(StatusCode::SEE_OTHER, String::new());
            r.headers_mut().insert(LOCATION, location);
            r
        }
        None => show(&state, &id, &session, StatusCode::OK).await,
    };
    let secure = state.base_url.starts_with("https://");
    if let Ok(v) = HeaderValue::from_str(&session::set_cookie(app, &id, secure)) {
        res.headers_mut().insert(SET_COOKIE, v);
    }
    res
}

/// Whether `path` is one of `app`'s pages here (a deep path a launch may go on to).
fn is_own_page(app: AppId, path: &str) -> bool {
    let prefix = format!("/{}/", app.path());
    path.starts_with(&prefix)
        && !path.contains("//")
        && !path.contains('\\')
        && !path.contains("/..")
}

fn refused(app: AppId, reason: &str) -> Resp {
    tracing::info!(%reason, app = app.label(), "launch token refused");
    web::html(StatusCode::UNAUTHORIZED, pages::launch_refused(app, reason))
}

/// `GET /app2/callback` with the `state` of a sign-in: Atrium's answer to App2's sign-in; the session's page.
pub async fn signed_in(state: State, query: Query) -> Resp {
    let outcome = signin::callback(&state, &query).await;
    let session = outcome.session.as_deref().and_then(|id| {
        state
            .sessions
            .get(AppId::App2, id, crate::unix_now())
            .map(|s| (id, s))
    });
    match (session, outcome.message) {
        (Some((id, s)), _) => show(&state, id, &s, outcome.status).await,
        (None, message) => web::html(
            outcome.status,
            pages::callback_error(
                AppId::App2,
                "Not signed in",
                message.as_deref().unwrap_or("Open App2 from Atrium again."),
                None,
            ),
        ),
    }
}

/// The page of a launched install.
async fn show(state: &State, id: &str, session: &Session, status: StatusCode) -> Resp {
    let (app, claims) = (session.app, &session.claims);
    let stored = match state.tokens.find(app, claims.company, &claims.username) {
        None => Stored::None,
        Some(token) => read(state, token).await,
    };
    let (head, signin) = match app {
        AppId::App2 => signin::section(state, id, session).await,
        AppId::App1 => (String::new(), String::new()),
    };
    if state.config.probe {
        let head = format!("{head}{}", crate::probe::script(state.config.probe_bridge));
        let page = pages::launched(app, claims, &stored, &head, &signin);
        let mut r = web::html(status, page);
        r.headers_mut().insert(
            "content-security-policy",
            warp::http::HeaderValue::from_static(crate::probe::PROBE_CSP),
        );
        return r;
    }
    web::html(
        status,
        pages::launched(app, claims, &stored, &head, &signin),
    )
}

/// Reads the user's data with a stored token, refreshing it first when it has expired (and
/// once more if the server calls it invalid).
async fn read(state: &State, mut token: StoredToken) -> Stored {
    let expired = token.expires_at.is_some_and(|at| at <= crate::unix_now());
    if expired && token.refresh_token.is_some() {
        match app2::refresh(state, &token).await {
            Ok(t) => token = t,
            Err(e) => return forget(state, &token, &e),
        }
    }
    match state
        .atrium
        .profile(token.access_token.expose(), Some(&token.scope))
        .await
    {
        Ok(profile) => Stored::Data {
            profile,
            scope: token.scope,
        },
        Err(e) if e.is_invalid_token() && token.refresh_token.is_some() && !expired => {
            match app2::refresh(state, &token).await {
                Ok(t) => match state
                    .atrium
                    .profile(t.access_token.expose(), Some(&t.scope))
                    .await
                {
                    Ok(profile) => Stored::Data {
                        profile,
                        scope: t.scope,
                    },
                    Err(e) => Stored::Failed(format!("Atrium refused the refreshed token: {e}")),
                },
                Err(e) => forget(state, &token, &e),
            }
        }
        Err(e) if e.is_invalid_token() => forget(state, &token, &e.to_string()),
        Err(e) => Stored::Failed(e.to_string()),
    }
}

/// Drops a token the server no longer takes.
fn forget(state: &State, token: &StoredToken, why: &str) -> Stored {
    state
        .tokens
        .forget(token.app, &token.username, token.company_id);
    Stored::Failed(format!(
        "The token this app kept no longer works ({why}); it has forgotten it. Install the app \
         again from Atrium to give it a new one."
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_launch_goes_on_only_to_a_page_of_its_own_app() {
        assert!(is_own_page(AppId::App2, "/app2/?from=ping"));
        assert!(is_own_page(AppId::App2, "/app2/orders/1"));
        for bad in [
            "/app1/",
            "/app2",
            "//evil.example/app2/",
            "/app2//evil",
            "/app2/../app1/",
            "https://evil.example/app2/",
        ] {
            assert!(!is_own_page(AppId::App2, bad), "{bad}");
        }
    }
}
