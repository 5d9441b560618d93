//! The apps' use of Atrium's app bridge (`window.atrium`, which the desktop gives each open
//! app's page): the page's controls ("Notify me", the badge, a session token) and
//! `POST /app1/api/session-token`, `POST /app2/api/session-token`, where the page has this
//! backend verify a token from `getSessionToken()`.
//!
//! A session token is a launch token (EdDSA JWT, 60 s, one `jti`), verified exactly as a
//! launch is ([`crate::launch`]), its `jti` accepted once, and it must be for the install and
//! user of the page's own session (its cookie): a token of another install proves nothing
//! about this page.

use serde::Deserialize;
use serde_json::json;
use warp::http::StatusCode;

use crate::config::AppId;
use crate::web::{self, Resp};
use crate::{session, State};

/// The largest body of a verify request: a token is under 1 KiB.
pub const BODY_LIMIT: u64 = 4 * 1024;
/// The page's bridge script.
pub const BRIDGE_JS: &str = include_str!("../static/bridge-demo.js");
/// What an app's page adds to its `<head>` for it.
pub const BRIDGE_SCRIPT: &str = "<script src=\"/static/bridge-demo.js\" defer></script>";

/// The page's bridge controls.
pub fn section() -> &'static str {
    "<h2>Atrium bridge</h2><p id=\"bridge-status\" class=\"muted\" role=\"status\">…</p>\
     <p><button type=\"button\" id=\"bridge-notify\">Notify me</button> \
     <label>Badge <input id=\"bridge-badge-count\" type=\"number\" min=\"0\" max=\"99999\" \
     value=\"3\"></label> <button type=\"button\" id=\"bridge-badge-set\">Set badge</button> \
     <button type=\"button\" id=\"bridge-token\">Get a session token</button></p>\
     <p id=\"bridge-token-result\" class=\"muted\"></p>"
}

#[derive(Deserialize)]
struct VerifyRequest {
    token: String,
}

/// `POST /app1/api/session-token` and `/app2/api/session-token`, JSON `{"token": <JWT>}`:
/// `{"verified": true, username, install, company, jti}`, or 401
/// `{"verified": false, "reason"}`.
pub async fn verify(
    app: AppId,
    state: State,
    cookie: Option<String>,
    body: warp::hyper::body::Bytes,
) -> Resp {
    let refuse = |status: StatusCode, reason: &str| {
        web::json(status, &json!({"verified": false, "reason": reason}))
    };
    let Ok(req) = serde_json::from_slice::<VerifyRequest>(&body) else {
        return refuse(StatusCode::BAD_REQUEST, "send {\"token\": <JWT>}");
    };
    let now = crate::unix_now();
    let Some(session) = session::from_cookie_header(app, cookie.as_deref())
        .and_then(|id| state.sessions.get(app, &id, now))
    else {
        return refuse(
            StatusCode::UNAUTHORIZED,
            "no session: open the app from Atrium",
        );
    };
    let client_id = &state.config.app(app).client_id;
    let claims = match state.jwks.verify(&req.token, client_id).await {
        Ok(c) => c,
        Err(e) if e.is_unavailable() => return refuse(StatusCode::BAD_GATEWAY, &e.to_string()),
        Err(e) => return refuse(StatusCode::UNAUTHORIZED, &e.to_string()),
    };
    if claims.install != session.claims.install || claims.sub != session.claims.sub {
        return refuse(
            StatusCode::UNAUTHORIZED,
            "the token is for another install or user than this page's session",
        );
    }
    if !state.launches.accept_once(&claims.jti, claims.exp, now) {
        return refuse(StatusCode::UNAUTHORIZED, "the token has been used already");
    }
    web::json(
        StatusCode::OK,
        &json!({
            "verified": true,
            "username": claims.username,
            "install": claims.install,
            "company": claims.company,
            "jti": claims.jti,
        }),
    )
}
