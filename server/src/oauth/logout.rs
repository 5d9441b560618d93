//! OpenID Connect RP-Initiated Logout 1.0: a relying party sends the user to the
//! `end_session_endpoint` to end their Atrium browser session, and may name where the user goes
//! afterwards.
//!
//! [`LogoutRequest::check`] decides what the request may do; the route ends the session.
//!
//! - **`id_token_hint`** is an ID token this server issued. Its signature must verify against a
//!   published key and its `iss` must be ours; its expiry is not checked, since an RP often
//!   holds an expired one when the user signs out (§2). It names the client (`aud`/`azp`)
//!   and the user (`sub`).
//! - **`post_logout_redirect_uri`** must be one of the client's registered
//!   `post_logout_redirect_uris`, compared exactly, and the client must be known from the hint
//!   or `client_id`. Anything else is shown as an error page and never followed: an
//!   unregistered URI would make this endpoint an open redirector (§3).
//! - **Confirmation.** The session ends at once only when the hint's `sub` is the signed-in
//!   user. Otherwise the user is asked first (§2: "the OP SHOULD ask the End-User whether to
//!   log out"), so that a link on another site cannot sign anyone out.

use url::Url;

use crate::jose::KeySet;
use crate::store::{Client, Store};

/// Bounds on what a request may send, before any lookup.
const MAX_HINT_LEN: usize = 8 * 1024;
const MAX_STATE_LEN: usize = 1024;

/// The parameters of a logout request (§2), from the query or a form.
#[derive(Debug, Clone, Default)]
pub struct LogoutParams {
    pub id_token_hint: Option<String>,
    pub client_id: Option<String>,
    pub post_logout_redirect_uri: Option<String>,
    pub state: Option<String>,
}

/// A logout request that passed its checks.
#[derive(Debug, Clone)]
pub struct LogoutRequest {
    /// The relying party, when the hint or `client_id` named one.
    pub client: Option<Client>,
    /// The user the hint names (`sub`), when there was a hint.
    pub subject: Option<i64>,
    /// Where to send the user afterwards, with `state`; `None` shows Atrium's own page.
    pub redirect: Option<Url>,
    /// The parameters as sent, to carry through the confirmation form.
    pub params: LogoutParams,
}

/// Why a logout request is refused: shown to the user, never redirected.
#[derive(Debug)]
pub enum LogoutError {
    Invalid(String),
    Store(crate::store::StoreError),
}

impl From<crate::store::StoreError> for LogoutError {
    fn from(e: crate::store::StoreError) -> Self {
        LogoutError::Store(e)
    }
}

fn invalid(message: impl Into<String>) -> LogoutError {
    LogoutError::Invalid(message.into())
}

impl LogoutRequest {
    /// Checks a request against the key set and the client's registration.
    pub async fn check(
        store: &dyn Store,
        keys: &KeySet,
        issuer: &str,
        params: LogoutParams,
    ) -> Result<LogoutRequest, LogoutError> {
        if params
            .id_token_hint
            .as_ref()
            .is_some_and(|h| h.len() > MAX_HINT_LEN)
            || params
                .state
                .as_ref()
                .is_some_and(|s| s.len() > MAX_STATE_LEN)
        {
            return Err(invalid("The sign-out request is too long."));
        }
        let mut subject = None;
        let mut hinted_client = None;
        if let Some(hint) = &params.id_token_hint {
            let claims = keys.verify(hint).map_err(|_| {
                invalid("The sign-out request's id_token_hint was not issued by Atrium.")
            })?;
            if claims["iss"].as_str() != Some(issuer) {
                return Err(invalid(
                    "The sign-out request's id_token_hint was issued by another server.",
                ));
            }
            subject = claims["sub"].as_str().and_then(|s| s.parse::<i64>().ok());
            if subject.is_none() {
                return Err(invalid(
                    "The sign-out request's id_token_hint names no user.",
                ));
            }
            hinted_client = audience(&claims);
        }
        let client_id = match (&params.client_id, hinted_client) {
            (Some(given), Some(hinted)) if *given != hinted => return Err(invalid(
                "The sign-out request's client_id is not the app its id_token_hint was issued to.",
            )),
            (Some(given), _) => Some(given.clone()),
            (None, hinted) => hinted,
        };
        let client = match &client_id {
            Some(id) => Some(
                store
                    .client(id)
                    .await?
                    .ok_or_else(|| invalid(format!("There is no app with client_id {id:?}.")))?,
            ),
            None => None,
        };
        let redirect = match (&params.post_logout_redirect_uri, &client) {
            (None, _) => None,
            (Some(_), None) => return Err(invalid(
                "A post_logout_redirect_uri needs an id_token_hint or a client_id naming its app.",
            )),
            (Some(uri), Some(client)) => {
                let registered = store.post_logout_redirect_uris(client.app_id).await?;
                if !registered.iter().any(|r| r == uri) {
                    return Err(invalid(format!(
                        "The post_logout_redirect_uri {uri:?} is not registered for {}.",
                        client.name
                    )));
                }
                let mut url = Url::parse(uri).map_err(|_| {
                    invalid("The registered post_logout_redirect_uri is not a URL.")
                })?;
                if let Some(state) = &params.state {
                    url.query_pairs_mut().append_pair("state", state);
                }
                Some(url)
            }
        };
        Ok(LogoutRequest {
            client,
            subject,
            redirect,
            params,
        })
    }

    /// The fields that carry this request through the confirmation form.
    pub fn hidden_fields(&self) -> Vec<(&'static str, &str)> {
        let p = &self.params;
        [
            ("id_token_hint", p.id_token_hint.as_deref()),
            ("client_id", p.client_id.as_deref()),
            (
                "post_logout_redirect_uri",
                p.post_logout_redirect_uri.as_deref(),
            ),
            ("state", p.state.as_deref()),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.map(|v| (k, v)))
        .collect()
    }
}

/// The client an ID token was issued to: `azp` when present, else a single `aud`.
fn audience(claims: &serde_json::Value) -> Option<String> {
    if let Some(azp) = claims["azp"].as_str() {
        return Some(azp.to_string());
    }
    match &claims["aud"] {
        serde_json::Value::String(aud) => Some(aud.clone()),
        serde_json::Value::Array(auds) if auds.len() == 1 => auds[0].as_str().map(str::to_string),
        _ => None,
    }
}
