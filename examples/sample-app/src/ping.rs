//! Test only, with `--probe`: `POST /app2/ping` makes App2's backend post a notification to its
//! users through Atrium's API (`POST /api/notifications`), as a real app's server does when
//! something happens while nobody has it open. It uses the newest App2 token that was granted
//! `notifications` (App2's install token, refreshed once if refused).
//!
//! Body (JSON, every field optional): `{"title": ..., "body": ..., "path": ...}`; the path
//! defaults to `/app2/?from=ping`, which App2's page opens at once launched. Answers the
//! server's answer (`201 {"id": ...}`), or 409 when App2 holds no such token.
//!
//! Only callers on loopback are answered, and only with `--probe` (else 404): anyone who could
//! reach it could otherwise make App2 notify its users.

use serde::Deserialize;
use warp::http::StatusCode;

use crate::app2;
use crate::config::AppId;
use crate::tokens::StoredToken;
use crate::web::{self, Resp};
use crate::State;

/// The ping's largest body.
pub const BODY_LIMIT: u64 = 4 * 1024;

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Ping {
    title: Option<String>,
    body: Option<String>,
    path: Option<String>,
}

/// `POST /app2/ping`.
pub async fn post(
    state: State,
    peer: Option<std::net::SocketAddr>,
    body: warp::hyper::body::Bytes,
) -> Resp {
    if !state.config.probe || !peer.is_some_and(|p| p.ip().is_loopback()) {
        return web::json(StatusCode::NOT_FOUND, &serde_json::json!({}));
    }
    let ping: Ping = if body.is_empty() {
        Ping::default()
    } else {
        match serde_json::from_slice(&body) {
            Ok(p) => p,
            Err(e) => {
                return web::json_error(StatusCode::BAD_REQUEST, "invalid_request", &e.to_string())
            }
        }
    };
    let Some(token) = state.tokens.newest_with_scope(AppId::App2, "notifications") else {
        return web::json_error(
            StatusCode::CONFLICT,
            "no_token",
            "App2 holds no token granted `notifications`: install it from Atrium first",
        );
    };
    let note = serde_json::json!({
        "title": ping.title.unwrap_or_else(|| "Ping from App2".into()),
        "body": ping.body.unwrap_or_else(|| "Something happened while App2 was closed.".into()),
        "path": ping.path.unwrap_or_else(|| "/app2/?from=ping".into()),
    });
    let (status, answer) = match send(&state, &token, &note).await {
        Ok((401, _)) if token.refresh_token.is_some() => {
            match app2::refresh(&state, &token).await {
                Ok(fresh) => match send(&state, &fresh, &note).await {
                    Ok(done) => done,
                    Err(e) => return web::json_error(StatusCode::BAD_GATEWAY, "unreachable", &e),
                },
                Err(e) => return web::json_error(StatusCode::BAD_GATEWAY, "refresh_failed", &e),
            }
        }
        Ok(done) => done,
        Err(e) => return web::json_error(StatusCode::BAD_GATEWAY, "unreachable", &e),
    };
    tracing::info!(status, "App2 posted a notification");
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_GATEWAY);
    web::json(status, &answer)
}

/// Posts `note` with `token`: the server's status and JSON answer.
async fn send(
    state: &State,
    token: &StoredToken,
    note: &serde_json::Value,
) -> Result<(u16, serde_json::Value), String> {
    let res = state
        .http
        .post(state.atrium.url("/api/notifications"))
        .bearer_auth(token.access_token.expose())
        .json(note)
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let status = res.status().as_u16();
    let answer = res.json().await.unwrap_or(serde_json::Value::Null);
    Ok((status, answer))
}
