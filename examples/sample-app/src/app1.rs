//! App1, the TOKEN method: Atrium sends the user to `/app1/callback#access_token=...`. The URL
//! fragment never reaches a server, so the page's script (`static/app1-callback.js`) reads it,
//! wipes it from the address bar and hands the token to App1's backend, `POST /app1/api/whoami`
//! with `Authorization: Bearer <token>`. The backend reads `/api/username` and `/api/me` (and
//! `/api/company` when granted) with it, keeps it for later launches, and answers the user's
//! data as JSON; the script shows it and sends the user to
//! `atrium://install-complete?app=<client_id>&state=<state>`.

use warp::http::StatusCode;

use crate::atrium::ApiError;
use crate::config::{AppId, Secret};
use crate::tokens::StoredToken;
use crate::web::{self, Resp};
use crate::{pages, State};

/// The callback page's script.
pub const CALLBACK_JS: &str = include_str!("../static/app1-callback.js");

/// `GET /app1/callback`.
pub async fn callback(state: State) -> Resp {
    web::html(
        StatusCode::OK,
        pages::app1_callback(&state.config.app1.client_id, &state.config.server),
    )
}

/// The bearer token of an `Authorization` header.
fn bearer(header: Option<&str>) -> Option<&str> {
    let (scheme, token) = header?.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// What the page may add to the token: the scope the fragment listed.
#[derive(Debug, Default, serde::Deserialize)]
pub struct WhoamiBody {
    #[serde(default)]
    pub scope: String,
}

/// Largest `whoami` body accepted.
pub const WHOAMI_LIMIT: u64 = 4 * 1024;

/// `POST /app1/api/whoami`: reads the user's data with the token of the page's fragment. The
/// body is optional JSON, `{"scope": "<the fragment's scope>"}`.
pub async fn whoami(
    state: State,
    authorization: Option<String>,
    body: warp::hyper::body::Bytes,
) -> Resp {
    let body: WhoamiBody = if body.iter().all(u8::is_ascii_whitespace) {
        WhoamiBody::default()
    } else {
        match serde_json::from_slice(&body) {
            Ok(b) => b,
            Err(_) => {
                return web::json_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_request",
                    "the body must be empty or JSON: {\"scope\": \"...\"}",
                )
            }
        }
    };
    let Some(token) = bearer(authorization.as_deref()) else {
        return web::json_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "send the access token as: Authorization: Bearer <token>",
        );
    };
    let profile = match state.atrium.profile(token, Some(&body.scope)).await {
        Ok(p) => p,
        Err(e) => {
            let (status, code) = match &e {
                ApiError::Refused { status: 401, .. } => {
                    (StatusCode::UNAUTHORIZED, "invalid_token")
                }
                ApiError::Refused { status: 403, .. } => {
                    (StatusCode::FORBIDDEN, "insufficient_scope")
                }
                _ => (StatusCode::BAD_GATEWAY, "atrium_unavailable"),
            };
            tracing::warn!(error = %e, "App1 could not read the profile");
            return web::json_error(status, code, &e.to_string());
        }
    };
    tracing::info!(user = %profile.username, "App1 received a token");
    state.tokens.save(StoredToken {
        app: AppId::App1,
        username: profile.username.clone(),
        company_id: profile.company.as_ref().map(|c| c.id),
        access_token: Secret::new(token),
        refresh_token: None,
        // The fragment said how long it lives; the backend learns it from a 401 instead.
        expires_at: None,
        scope: body.scope.clone(),
        profile: profile.clone(),
        obtained_at: crate::unix_now(),
    });
    web::json(StatusCode::OK, &profile)
}

#[cfg(test)]
mod tests {
    use super::bearer;

    #[test]
    fn only_a_bearer_authorization_header_carries_the_token() {
        assert_eq!(bearer(Some("Bearer atr_at_x")), Some("atr_at_x"));
        assert_eq!(bearer(Some("bearer  atr_at_x ")), Some("atr_at_x"));
        assert_eq!(bearer(Some("Basic abc")), None);
        assert_eq!(bearer(Some("Bearer ")), None);
        assert_eq!(bearer(None), None);
    }
}
