//! The apps' own pages, `GET /app1/` and `GET /app2/`, which the dashboard embeds with
//! `?atrium_launch=<JWT>`. With a valid launch token the page says who it runs for and in
//! which company, and shows what the app reads now with the token it keeps for that install
//! (App2 refreshes an expired one). Without a token it asks to be opened from Atrium (200);
//! with a bad one it says why (401); when Atrium's keys cannot be fetched, 502.

use warp::http::StatusCode;

use crate::app2;
use crate::config::AppId;
use crate::pages::{self, Stored};
use crate::tokens::StoredToken;
use crate::web::{self, Query, Resp};
use crate::State;

/// `GET /app1/` and `GET /app2/`.
pub async fn page(app: AppId, state: State, query: Query) -> Resp {
    let Some(token) = query.get("atrium_launch").filter(|t| !t.is_empty()) else {
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
        Err(e) => {
            tracing::info!(reason = %e, app = app.label(), "launch token refused");
            return web::html(
                StatusCode::UNAUTHORIZED,
                pages::launch_refused(app, &e.to_string()),
            );
        }
    };
    tracing::info!(app = app.label(), user = %claims.username, company = claims.company, install = claims.install, "launched");
    let stored = match state.tokens.find(app, claims.company, &claims.username) {
        None => Stored::None,
        Some(token) => read(&state, token).await,
    };
    web::html(StatusCode::OK, pages::launched(app, &claims, &stored))
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
