//! The shell's state: the server it talks to, the user's session, and the HTTP calls made on
//! the UI's behalf. Tokens live here (and in the owner-only session file), never in the webview.
//!
//! Sign-in follows RFC 8252 for native apps: the system browser opens `/oauth2/authorize` with
//! PKCE (S256) and a random `state`; the code comes back as the deep link
//! `atrium://oauth/callback?code=...&state=...` and is exchanged by the `oauth2` crate. Access
//! tokens are refreshed silently shortly before they expire, and once more on a 401.
//!
//! The sign-in also asks for `openid`, and the ID token it brings is kept with the session: on
//! sign-out it is the `id_token_hint` that ends the browser's session too ([`crate::sign_out`]).

use std::sync::{Mutex, RwLock};
use std::time::Duration;

use atrium_proto::ipc::Fetched;
use atrium_proto::paths;
use oauth2::basic::{
    BasicErrorResponse, BasicRevocationErrorResponse, BasicTokenIntrospectionResponse,
    BasicTokenType,
};
use oauth2::{
    AuthUrl, AuthorizationCode, ClientId, CsrfToken, EndpointNotSet, EndpointSet,
    PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, RefreshToken, Scope, StandardRevocableToken,
    StandardTokenResponse, TokenResponse, TokenUrl,
};
use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;
use serde::Serialize;
use url::Url;

use crate::config::{parse_server_url, ShellConfig};
use crate::error::{from_http, Error};
use crate::sign_out::{end_session_url, IdTokenField, PendingSignOut};
use crate::store::{Disk, Session, Settings};

/// Atrium's own OAuth client: public, PKCE, consent implied.
pub const CLIENT_ID: &str = "atrium-desktop";
/// Where the server sends the code: a deep link into this app.
pub const REDIRECT_URI: &str = "atrium://oauth/callback";

/// The `oauth2` crate's client for the desktop: the basic one, but its token responses keep the
/// ID token (the basic token type drops every field it does not know).
type OAuthClient<HasAuthUrl = EndpointNotSet, HasTokenUrl = EndpointNotSet> = oauth2::Client<
    BasicErrorResponse,
    StandardTokenResponse<IdTokenField, BasicTokenType>,
    BasicTokenIntrospectionResponse,
    StandardRevocableToken,
    BasicRevocationErrorResponse,
    HasAuthUrl,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    HasTokenUrl,
>;

/// A sign-in in progress: what the callback must match.
struct Pending {
    state: String,
    verifier: String,
    server_url: Url,
}

/// What became of a sign-in callback.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignInAnswer {
    SignedIn,
    /// Not the answer to the sign-in in progress (no sign-in, or another `state`): ignored.
    Ignored,
}

pub struct Shell {
    server_url: RwLock<Url>,
    http: reqwest::Client,
    disk: Disk,
    session: tokio::sync::Mutex<Option<Session>>,
    pending: Mutex<Option<Pending>>,
    signing_out: PendingSignOut,
    /// Moves on at each sign-in, sign-out, server switch and lost session: what follows the
    /// session (the inbox's event stream) starts again or stops.
    epoch: tokio::sync::watch::Sender<u64>,
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

impl Shell {
    /// The environment's server URL wins over the remembered one (so the demo and tests can
    /// point the app anywhere); otherwise the user's choice; otherwise the default.
    pub fn new(config: ShellConfig, disk: Disk) -> Shell {
        let remembered = disk
            .load_settings()
            .server_url
            .and_then(|u| parse_server_url(&u).ok());
        let server_url = if config.from_env {
            config.server_url
        } else {
            remembered.unwrap_or(config.server_url)
        };
        let session = disk
            .load_session()
            .filter(|s| s.server_url == server_url.as_str());
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(3))
            .timeout(Duration::from_secs(15))
            // OAuth answers are read as they are; a redirect is never followed.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("atrium-desktop/", env!("CARGO_PKG_VERSION")))
            .build()
            .unwrap_or_default();
        Shell {
            server_url: RwLock::new(server_url),
            http,
            disk,
            session: tokio::sync::Mutex::new(session),
            pending: Mutex::new(None),
            signing_out: PendingSignOut::default(),
            epoch: tokio::sync::watch::channel(0).0,
        }
    }

    /// Changes whenever the session begins or ends: at a sign-in, a sign-out, a server switch,
    /// or when the session is lost (its refresh refused).
    pub fn session_changes(&self) -> tokio::sync::watch::Receiver<u64> {
        self.epoch.subscribe()
    }

    /// Which session this is: the value [`Shell::session_changes`] moves on from.
    pub fn session_epoch(&self) -> u64 {
        *self.epoch.borrow()
    }

    fn session_changed(&self) {
        self.epoch.send_modify(|e| *e += 1);
    }

    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    pub fn server_url(&self) -> Url {
        self.server_url
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// The server's URL as shown to people and apps (no trailing slash).
    pub fn server_url_text(&self) -> String {
        self.server_url().as_str().trim_end_matches('/').to_string()
    }

    /// Switches servers (remembered); signs out of the previous one.
    pub async fn set_server_url(&self, raw: &str) -> Result<Url, Error> {
        let url = parse_server_url(raw).map_err(Error::Invalid)?;
        if url != self.server_url() {
            // The user leaves this server for another: the session here is forgotten and
            // revoked, and its browser is left as it is (no page pops up on a settings change).
            let _ = self.sign_out().await;
            self.signing_out.forget();
        }
        *self.server_url.write().unwrap_or_else(|e| e.into_inner()) = url.clone();
        self.session_changed();
        self.disk
            .save_settings(&Settings {
                server_url: Some(url.to_string()),
            })
            .map_err(|e| Error::Internal(format!("cannot save the settings: {e}")))?;
        Ok(url)
    }

    /// The URL of an API path (from [`paths`]) on the current server.
    pub fn endpoint(&self, path: &str) -> Result<Url, Error> {
        join(&self.server_url(), path)
    }

    fn oauth_client(&self, server: &Url) -> Result<OAuthClient<EndpointSet, EndpointSet>, Error> {
        Ok(OAuthClient::new(ClientId::new(CLIENT_ID.into()))
            .set_auth_uri(AuthUrl::from_url(join(server, paths::AUTHORIZE)?))
            .set_token_uri(TokenUrl::from_url(join(server, paths::TOKEN)?))
            .set_redirect_uri(
                RedirectUrl::new(REDIRECT_URI.into())
                    .map_err(|e| Error::Internal(e.to_string()))?,
            ))
    }

    /// Starts a sign-in: remembers PKCE and state, answers the URL to open in the browser.
    pub fn begin_sign_in(&self) -> Result<Url, Error> {
        let server = self.server_url();
        let client = self.oauth_client(&server)?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let (url, state) = client
            .authorize_url(CsrfToken::new_random)
            // `openid` for the ID token that ends the browser's session on sign-out.
            .add_scope(Scope::new("openid".into()))
            .add_scope(Scope::new("dashboard".into()))
            .add_scope(Scope::new("profile".into()))
            .add_scope(Scope::new("email".into()))
            .set_pkce_challenge(challenge)
            .url();
        *self.pending.lock().unwrap_or_else(|e| e.into_inner()) = Some(Pending {
            state: state.secret().clone(),
            verifier: verifier.secret().clone(),
            server_url: server,
        });
        // A sign-out link arriving from now on answers nothing the user is waiting for.
        self.signing_out.forget();
        Ok(url)
    }

    /// Finishes a sign-in from the callback deep link.
    ///
    /// Any local program can open an `atrium://` link, so a callback is only taken as the
    /// answer when its `state` is the pending request's: anything else is
    /// [`SignInAnswer::Ignored`] and leaves the sign-in in progress untouched. A matching answer
    /// must also name the server that was asked (`iss`, RFC 9207), which the server always
    /// sends: without it a mix-up cannot be detected.
    pub async fn complete_sign_in(&self, callback: &Url) -> Result<SignInAnswer, Error> {
        let params: std::collections::HashMap<String, String> =
            callback.query_pairs().into_owned().collect();
        let Some(pending) = self
            .pending
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take_if(|p| params.get("state") == Some(&p.state))
        else {
            return Ok(SignInAnswer::Ignored);
        };
        if let Some(err) = params.get("error") {
            return Err(Error::Server(format!(
                "the server refused the sign-in: {err}"
            )));
        }
        // RFC 9207: the answer must come from the server we asked.
        match params.get("iss") {
            Some(iss)
                if iss.trim_end_matches('/')
                    == pending.server_url.as_str().trim_end_matches('/') => {}
            Some(_) => {
                return Err(Error::Invalid(
                    "the sign-in answer came from another server".into(),
                ))
            }
            None => {
                return Err(Error::Invalid(
                    "the sign-in answer does not name its server (iss)".into(),
                ))
            }
        }
        let code = params
            .get("code")
            .ok_or_else(|| Error::Invalid("the sign-in answer has no code".into()))?;
        let client = self.oauth_client(&pending.server_url)?;
        let http = self.http.clone();
        let tokens = client
            .exchange_code(AuthorizationCode::new(code.clone()))
            .set_pkce_verifier(PkceCodeVerifier::new(pending.verifier))
            .request_async(&|req| transport(http.clone(), req))
            .await
            .map_err(|e| Error::Server(format!("the code exchange failed: {e}")))?;
        let session = Session {
            server_url: pending.server_url.to_string(),
            access_token: tokens.access_token().secret().clone(),
            refresh_token: tokens.refresh_token().map(|r| r.secret().clone()),
            expires_at: now() + tokens.expires_in().map_or(3600, |d| d.as_secs() as i64),
            id_token: tokens.extra_fields().id_token.clone(),
        };
        self.disk
            .save_session(&session)
            .map_err(|e| Error::Internal(format!("cannot save the session: {e}")))?;
        *self.session.lock().await = Some(session);
        self.session_changed();
        tracing::info!("signed in");
        Ok(SignInAnswer::SignedIn)
    }

    /// Is a sign-in waiting for its callback?
    pub fn sign_in_pending(&self) -> bool {
        self.pending
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .is_some()
    }

    pub async fn signed_in(&self) -> bool {
        self.session.lock().await.is_some()
    }

    /// Revokes the refresh token (best effort) and forgets the session. Answers the URL that
    /// ends the session of the browser it signed in with, for the system browser (it holds the
    /// ID token: never log it); `None` when no one was signed in.
    pub async fn sign_out(&self) -> Option<Url> {
        let old = self.session.lock().await.take();
        self.disk.clear_session();
        let s = old?;
        self.session_changed();
        if let (Some(rt), Ok(url)) = (&s.refresh_token, self.endpoint(paths::REVOKE)) {
            let _ = self
                .http
                .post(url)
                .form(&[
                    ("token", rt.as_str()),
                    ("token_type_hint", "refresh_token"),
                    ("client_id", CLIENT_ID),
                ])
                .send()
                .await;
        }
        tracing::info!("signed out");
        let state = crate::browser::random_state();
        let end_session = Url::parse(&s.server_url)
            .map_err(|e| Error::Internal(e.to_string()))
            .and_then(|server| end_session_url(&server, CLIENT_ID, s.id_token.as_deref(), &state));
        match end_session {
            Ok(url) => {
                self.signing_out.expect(state);
                Some(url)
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot make the browser's sign-out URL");
                None
            }
        }
    }

    /// The browser's sign-out came back as `atrium://signed-out?state=...`: true when it is the
    /// answer to the pending sign-out (see [`PendingSignOut::complete`]).
    pub fn complete_sign_out(&self, link: &Url) -> bool {
        self.signing_out.complete(link)
    }

    /// A live access token for a call made outside [`Shell::call`] (the event stream): refreshed
    /// first when it is about to expire, or at once with `force_refresh` (after a 401). Never log
    /// it.
    pub(crate) async fn bearer(&self, force_refresh: bool) -> Result<String, Error> {
        self.access_token(force_refresh).await
    }

    /// A live access token, refreshed first when it is about to expire.
    async fn access_token(&self, force_refresh: bool) -> Result<String, Error> {
        let mut guard = self.session.lock().await;
        let session = guard.as_mut().ok_or(Error::NotSignedIn)?;
        if !force_refresh && session.expires_at - now() > 30 {
            return Ok(session.access_token.clone());
        }
        let Some(rt) = session.refresh_token.clone() else {
            return Err(Error::SessionExpired);
        };
        let server = Url::parse(&session.server_url).map_err(|e| Error::Internal(e.to_string()))?;
        let client = self.oauth_client(&server)?;
        let http = self.http.clone();
        match client
            .exchange_refresh_token(&RefreshToken::new(rt))
            .request_async(&|req| transport(http.clone(), req))
            .await
        {
            Ok(t) => {
                session.access_token = t.access_token().secret().clone();
                if let Some(r) = t.refresh_token() {
                    session.refresh_token = Some(r.secret().clone());
                }
                session.expires_at = now() + t.expires_in().map_or(3600, |d| d.as_secs() as i64);
                let _ = self.disk.save_session(session);
                Ok(session.access_token.clone())
            }
            Err(oauth2::RequestTokenError::ServerResponse(_)) => {
                *guard = None;
                self.disk.clear_session();
                self.session_changed();
                Err(Error::SessionExpired)
            }
            Err(e) => Err(Error::Offline(e.to_string())),
        }
    }

    /// Calls the first-party API; one silent refresh and retry on 401.
    pub async fn call<B: Serialize, T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<&B>,
    ) -> Result<T, Error> {
        let url = self.endpoint(path)?;
        for attempt in 0..2 {
            let token = self.access_token(attempt > 0).await?;
            let mut req = self
                .http
                .request(method.clone(), url.clone())
                .bearer_auth(token);
            if let Some(b) = body {
                req = req.json(b);
            }
            let res = req.send().await.map_err(from_http)?;
            let status = res.status();
            if status == StatusCode::UNAUTHORIZED && attempt == 0 {
                continue;
            }
            if status.is_success() {
                return res
                    .json::<T>()
                    .await
                    .map_err(|e| Error::Server(format!("unexpected answer from the server: {e}")));
            }
            if status == StatusCode::UNAUTHORIZED {
                return Err(Error::SessionExpired);
            }
            let message = res
                .json::<serde_json::Value>()
                .await
                .ok()
                .and_then(|v| v["error_description"].as_str().map(str::to_string))
                .unwrap_or_else(|| format!("the server answered {status}"));
            return Err(if status.is_client_error() {
                Error::Invalid(message)
            } else {
                Error::Server(message)
            });
        }
        Err(Error::SessionExpired)
    }

    /// A GET whose answer is cached; when the server is unreachable, the cached answer is
    /// returned with `offline: true`.
    pub async fn fetch<T: DeserializeOwned + Serialize>(
        &self,
        path: &str,
    ) -> Result<Fetched<T>, Error> {
        let key = format!("{}|{path}", self.server_url());
        match self.call::<(), T>(Method::GET, path, None).await {
            Ok(data) => {
                if let Ok(json) = serde_json::to_string(&data) {
                    self.disk.cache_put(&key, &json);
                }
                Ok(Fetched {
                    data,
                    offline: false,
                })
            }
            Err(Error::Offline(reason)) => match self.disk.cache_get(&key) {
                Some(json) => serde_json::from_str(&json)
                    .map(|data| Fetched {
                        data,
                        offline: true,
                    })
                    .map_err(|_| Error::Offline(reason)),
                None => Err(Error::Offline(reason)),
            },
            Err(e) => Err(e),
        }
    }
}

/// `path` under `server`, which may itself have a path (a server behind a prefix).
fn join(server: &Url, path: &str) -> Result<Url, Error> {
    server
        .join(path.trim_start_matches('/'))
        .map_err(|e| Error::Internal(e.to_string()))
}

/// The `oauth2` crate's HTTP transport over the shell's reqwest client.
async fn transport(
    http: reqwest::Client,
    req: oauth2::HttpRequest,
) -> Result<oauth2::HttpResponse, TransportError> {
    let (parts, body) = req.into_parts();
    let res = http
        .request(parts.method, parts.uri.to_string())
        .headers(parts.headers)
        .body(body)
        .send()
        .await
        .map_err(|e| TransportError(from_http(e).to_string()))?;
    let mut builder = oauth2::http::Response::builder().status(res.status());
    for (k, v) in res.headers() {
        builder = builder.header(k, v);
    }
    let bytes = res
        .bytes()
        .await
        .map_err(|e| TransportError(e.to_string()))?;
    builder
        .body(bytes.to_vec())
        .map_err(|e| TransportError(e.to_string()))
}

#[derive(Debug)]
pub struct TransportError(String);

impl std::fmt::Display for TransportError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for TransportError {}

#[cfg(test)]
mod tests {
    use super::*;

    fn shell(dir: &std::path::Path) -> Shell {
        let config = ShellConfig {
            server_url: Url::parse("http://127.0.0.1:9").unwrap(),
            from_env: true,
        };
        Shell::new(config, Disk::new(dir.to_path_buf()))
    }

    fn callback(query: &[(&str, &str)]) -> Url {
        let mut url = Url::parse(REDIRECT_URI).unwrap();
        url.query_pairs_mut().extend_pairs(query);
        url
    }

    fn state_of(url: &Url) -> String {
        url.query_pairs()
            .find(|(k, _)| k == "state")
            .map(|(_, v)| v.into_owned())
            .unwrap()
    }

    #[tokio::test]
    async fn a_callback_with_another_state_leaves_the_sign_in_in_progress_alone() {
        let dir = tempfile::tempdir().unwrap();
        let shell = shell(dir.path());
        let state = state_of(&shell.begin_sign_in().unwrap());
        let forged = callback(&[
            ("code", "forged"),
            ("state", "not-the-state"),
            ("iss", "http://127.0.0.1:9"),
        ]);
        assert_eq!(
            shell.complete_sign_in(&forged).await.unwrap(),
            SignInAnswer::Ignored
        );
        let no_state = callback(&[("error", "access_denied")]);
        assert_eq!(
            shell.complete_sign_in(&no_state).await.unwrap(),
            SignInAnswer::Ignored
        );
        assert!(shell.sign_in_pending());
        // The real answer is still taken (here it fails later, for want of `iss`).
        let real = callback(&[("code", "c"), ("state", &state)]);
        let err = shell.complete_sign_in(&real).await.unwrap_err();
        assert!(err.to_string().contains("(iss)"), "{err}");
        assert!(!shell.sign_in_pending());
    }

    #[tokio::test]
    async fn a_callback_must_name_the_server_that_was_asked() {
        let dir = tempfile::tempdir().unwrap();
        let shell = shell(dir.path());
        let state = state_of(&shell.begin_sign_in().unwrap());
        let other = callback(&[
            ("code", "c"),
            ("state", &state),
            ("iss", "http://attacker.example"),
        ]);
        let err = shell.complete_sign_in(&other).await.unwrap_err();
        assert!(err.to_string().contains("another server"), "{err}");
    }
}
