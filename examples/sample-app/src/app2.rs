//! App2, the CODE method: Atrium sends the user to `/app2/callback?code=...&state=...`; App2
//! exchanges the code at `/oauth2/token` server-to-server with its client_id and client_secret
//! (`client_secret_basic`, through the `oauth2` crate), keeps the tokens in memory, reads the
//! user's data with them and answers a page that shows it and returns to
//! `atrium://install-complete?app=<client_id>&state=<state>` (see [`pages::app2_installed`]).
//!
//! An answer whose `state` is one of App2's own OpenID Connect sign-ins goes to
//! [`crate::signin`] instead: both share this one redirect URI.
//!
//! The `state` is the dashboard's (it started the install), so App2 cannot match it against
//! one of its own: it hands it back in the deep link, where the dashboard checks it.

use oauth2::basic::{BasicClient, BasicTokenResponse};
use oauth2::{
    AuthorizationCode, ClientId, ClientSecret, EndpointNotSet, EndpointSet, RedirectUrl,
    RefreshToken, RequestTokenError, TokenResponse, TokenUrl,
};
use warp::http::StatusCode;

use crate::config::{AppId, Config, Secret};
use crate::tokens::StoredToken;
use crate::transport::{self, TransportError};
use crate::web::{self, Query, Resp};
use crate::{install_complete_url, pages, unix_now, State};

/// An `oauth2` client with its token endpoint set.
pub type CodeClient =
    BasicClient<EndpointNotSet, EndpointNotSet, EndpointNotSet, EndpointNotSet, EndpointSet>;

/// App2's OAuth client, or `None` when no client secret is configured.
pub fn oauth_client(config: &Config, base_url: &str) -> anyhow::Result<Option<CodeClient>> {
    let Some(secret) = &config.app2.client_secret else {
        return Ok(None);
    };
    Ok(Some(
        BasicClient::new(ClientId::new(config.app2.client_id.clone()))
            .set_client_secret(ClientSecret::new(secret.expose().to_string()))
            .set_token_uri(TokenUrl::new(format!("{}/oauth2/token", config.server))?)
            .set_redirect_uri(RedirectUrl::new(format!("{base_url}/app2/callback"))?),
    ))
}

type ExchangeError = RequestTokenError<TransportError, oauth2::basic::BasicErrorResponse>;

/// A sentence about a failed token request, and the status to answer with.
fn describe(e: &ExchangeError) -> (StatusCode, String) {
    match e {
        RequestTokenError::ServerResponse(r) => (
            StatusCode::BAD_REQUEST,
            format!(
                "Atrium refused the code ({}{}).",
                r.error(),
                r.error_description()
                    .map(|d| format!(": {d}"))
                    .unwrap_or_default()
            ),
        ),
        RequestTokenError::Request(e) => (
            StatusCode::BAD_GATEWAY,
            format!("App2 cannot reach Atrium's token endpoint: {e}."),
        ),
        RequestTokenError::Parse(_, _) | RequestTokenError::Other(_) => (
            StatusCode::BAD_GATEWAY,
            "Atrium's token endpoint answered something App2 does not understand.".to_string(),
        ),
    }
}

fn error_page(status: StatusCode, title: &str, message: &str, back: Option<&str>) -> Resp {
    web::html(
        status,
        pages::callback_error(AppId::App2, title, message, back),
    )
}

/// `GET /app2/callback`.
pub async fn callback(state: State, query: Query) -> Resp {
    // The answer to one of App2's OpenID Connect sign-ins, not to an install.
    if query.get("state").is_some_and(|s| state.signins.started(s)) {
        return crate::iframe::signed_in(state, query).await;
    }
    let client_id = &state.config.app2.client_id;
    let back = install_complete_url(client_id, query.get("state"), None);
    if query.get("code").is_none() && query.get("error").is_none() {
        return error_page(
            StatusCode::BAD_REQUEST,
            "Nothing to do",
            "This address expects an authorization code from Atrium. Install App2 from Atrium.",
            None,
        );
    }
    // RFC 9207: the answer must name the server it comes from, and that must be Atrium; an
    // answer from another authorization server (a mix-up attack), or one that does not say,
    // is ignored.
    match query.get("iss") {
        Some(iss) if iss == state.config.server => {}
        Some(iss) => {
            return error_page(
                StatusCode::BAD_REQUEST,
                "Wrong server",
                &format!(
                    "This answer comes from {iss}, not from Atrium at {}. App2 ignores it.",
                    state.config.server
                ),
                None,
            );
        }
        None => {
            return error_page(
                StatusCode::BAD_REQUEST,
                "Wrong server",
                &format!(
                    "This answer does not say which server sent it, so it cannot be from \
                     Atrium at {}. App2 ignores it.",
                    state.config.server
                ),
                None,
            );
        }
    }
    if let Some(error) = query.get("error") {
        let back = install_complete_url(client_id, query.get("state"), Some(error));
        let (title, message) = if error == "access_denied" {
            (
                "Not installed",
                "You did not allow App2 to access your account, so it was not installed."
                    .to_string(),
            )
        } else {
            (
                "Authorization failed",
                format!(
                    "Atrium could not authorize App2 ({error}{}).",
                    query
                        .get("error_description")
                        .map(|d| format!(": {d}"))
                        .unwrap_or_default()
                ),
            )
        };
        return error_page(StatusCode::BAD_REQUEST, title, &message, Some(&back));
    }
    let Some(code) = query.get("code").filter(|c| !c.is_empty()) else {
        return error_page(
            StatusCode::BAD_REQUEST,
            "Nothing to do",
            "This address expects an authorization code from Atrium. Install App2 from Atrium.",
            None,
        );
    };
    let Some(client) = &state.app2_client else {
        return error_page(
            StatusCode::INTERNAL_SERVER_ERROR,
            "App2 is not configured",
            "App2 has no client secret, so it cannot exchange the code. Start the sample app \
             with --config and the JSON that `atrium-server demo` prints.",
            Some(&back),
        );
    };

    let tokens = match client
        .exchange_code(AuthorizationCode::new(code.to_string()))
        .request_async(&transport::with_client(state.http.clone()))
        .await
    {
        Ok(t) => t,
        Err(e) => {
            let (status, message) = describe(&e);
            tracing::warn!(error = %message, "App2's code exchange failed");
            return error_page(status, "Install not completed", &message, Some(&back));
        }
    };
    let access = tokens.access_token().secret().clone();
    let scope = granted_scope(&tokens);
    let profile = match state.atrium.profile(&access, Some(&scope)).await {
        Ok(p) => p,
        Err(e) => {
            tracing::warn!(error = %e, "App2 could not read the profile");
            return error_page(
                StatusCode::BAD_GATEWAY,
                "Install not completed",
                &format!("App2 received a token but could not read your profile: {e}."),
                Some(&back),
            );
        }
    };
    tracing::info!(user = %profile.username, "App2 exchanged a code");
    state.tokens.save(stored(&tokens, profile.clone()));
    web::html(StatusCode::OK, pages::app2_installed(&profile, &back))
}

/// The scope a token response lists (empty when it lists none).
fn granted_scope(tokens: &BasicTokenResponse) -> String {
    tokens
        .scopes()
        .map(|s| s.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

/// What App2 keeps of a token response.
fn stored(tokens: &BasicTokenResponse, profile: crate::atrium::Profile) -> StoredToken {
    let now = unix_now();
    StoredToken {
        app: AppId::App2,
        username: profile.username.clone(),
        company_id: profile.company.as_ref().map(|c| c.id),
        access_token: Secret::new(tokens.access_token().secret().clone()),
        refresh_token: tokens
            .refresh_token()
            .map(|r| Secret::new(r.secret().clone())),
        expires_at: tokens
            .expires_in()
            .map(|d| now.saturating_add(i64::try_from(d.as_secs()).unwrap_or(i64::MAX))),
        scope: granted_scope(tokens),
        profile,
        obtained_at: now,
    }
}

/// Trades a stored token's refresh token for new tokens (the old refresh token is spent:
/// Atrium rotates them). Returns the new stored token, already saved.
pub async fn refresh(state: &State, old: &StoredToken) -> Result<StoredToken, String> {
    let client = state
        .app2_client
        .as_ref()
        .ok_or("App2 has no client secret")?;
    let refresh = old
        .refresh_token
        .as_ref()
        .ok_or("the token has expired and came without a refresh token")?;
    let tokens = client
        .exchange_refresh_token(&RefreshToken::new(refresh.expose().to_string()))
        .request_async(&transport::with_client(state.http.clone()))
        .await
        .map_err(|e| describe(&e).1)?;
    let mut new = stored(&tokens, old.profile.clone());
    new.company_id = old.company_id;
    if new.scope.is_empty() {
        new.scope = old.scope.clone();
    }
    state.tokens.save(new.clone());
    Ok(new)
}
