//! App2 signs its user in with OpenID Connect, through the `openidconnect` crate: discovery
//! (`/.well-known/openid-configuration`), the code flow with PKCE and a nonce, and the ID
//! token verified by the crate (signature against the provider's JWKS, `iss`, `aud`, `exp`,
//! `nonce`) and by App2 (`at_hash`, and the `sub` of the launch it belongs to).
//!
//! The sign-in belongs to a launch session ([`crate::session`]): the launch token says who
//! opened App2 inside Atrium, the ID token proves it in the standard way. When App2 is opened
//! inside Atrium, its page starts the sign-in at once with `prompt=none` (a
//! `<meta http-equiv="refresh">` to the authorization endpoint), so the user signs in without
//! a click: the install covers the scopes, and Atrium answers with a code and no page. When
//! Atrium answers `login_required`, `consent_required` or `interaction_required` instead,
//! App2 shows a plain "Sign in with Atrium" link (the same flow without `prompt`).
//!
//! Atrium answers at App2's one redirect URI, `GET /app2/callback` (an install registered with
//! several would have to name one in every request, and the dashboard's installs do not): an
//! answer whose `state` is one of the flows started here is a sign-in ([`Flows::started`]),
//! anything else an install ([`crate::app2`]). Each flow's `state`, nonce and PKCE verifier are
//! kept here, keyed by `state` and bound to the session that started it, and used once; the
//! callback needs no cookie (inside the dashboard's frame, the browser may not send one on a
//! cross-site redirect) and answers the session's page.

use std::collections::HashMap;
use std::sync::Mutex;

use openidconnect::core::{
    CoreAuthPrompt, CoreClient, CoreIdTokenClaims, CoreJwsSigningAlgorithm, CoreProviderMetadata,
    CoreResponseType,
};
use openidconnect::{
    AccessTokenHash, AuthenticationFlow, AuthorizationCode, ClientId, ClientSecret, CsrfToken,
    EndpointMaybeSet, EndpointNotSet, EndpointSet, IssuerUrl, JsonWebKey, Nonce,
    OAuth2TokenResponse, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope, TokenResponse,
};
use warp::http::StatusCode;

use crate::config::AppId;
use crate::pages::{esc, rfc3339};
use crate::session::Session;
use crate::transport;
use crate::web::Query;
use crate::{unix_now, State};

/// What App2 asks for when it signs its user in.
pub const SCOPES: [&str; 2] = ["profile", "email"];
/// A flow not finished within this time is forgotten.
const PENDING_SECS: i64 = 600;
/// At most this many flows are kept (each page of a session may start one).
const MAX_PENDING: usize = 10_000;

/// The errors of `prompt=none` (OpenID Connect Core §3.1.2.6) after which a click is needed.
const NEEDS_A_CLICK: [&str; 3] = ["login_required", "consent_required", "interaction_required"];

/// Where a session stands with OpenID Connect.
#[derive(Debug, Clone, Default)]
pub enum SignIn {
    /// Not tried yet: the page starts a `prompt=none` sign-in.
    #[default]
    NotStarted,
    /// Atrium needs the user (`login_required`, ...): the page offers a link.
    NeedsClick(String),
    /// The last attempt failed: the page says why and offers a link.
    Failed(String),
    /// Signed in: the verified ID token's claims.
    Verified(Box<Identity>),
}

/// What App2 shows of a verified ID token.
#[derive(Debug, Clone)]
pub struct Identity {
    pub alg: String,
    pub kid: Option<String>,
    /// Claim name and value, in the order shown.
    pub claims: Vec<(&'static str, String)>,
    pub sub: String,
}

/// One flow started and not yet finished.
struct Pending {
    session: String,
    nonce: Nonce,
    verifier: PkceCodeVerifier,
    silent: bool,
    expires_at: i64,
}

/// The flows started, by `state`.
#[derive(Default)]
pub struct Flows {
    by_state: Mutex<HashMap<String, Pending>>,
}

impl Flows {
    fn put(&self, state: String, pending: Pending, now: i64) {
        let mut map = self.by_state.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() >= MAX_PENDING {
            map.retain(|_, p| p.expires_at > now);
        }
        if map.len() >= MAX_PENDING {
            if let Some(oldest) = map
                .iter()
                .min_by_key(|(_, p)| p.expires_at)
                .map(|(k, _)| k.clone())
            {
                map.remove(&oldest);
            }
        }
        map.insert(state, pending);
    }

    /// Is `state` one of the flows started (and not finished)?
    pub fn started(&self, state: &str) -> bool {
        let map = self.by_state.lock().unwrap_or_else(|p| p.into_inner());
        map.contains_key(state)
    }

    /// The flow of `state`, removed: each is used once.
    fn take(&self, state: &str, now: i64) -> Option<Pending> {
        let mut map = self.by_state.lock().unwrap_or_else(|p| p.into_inner());
        map.remove(state).filter(|p| p.expires_at > now)
    }
}

/// Why a sign-in could not start or finish.
#[derive(Debug, thiserror::Error)]
pub enum SignInError {
    #[error("App2 has no client secret")]
    NotConfigured,
    #[error("cannot read Atrium's OpenID Connect discovery document: {0}")]
    Discovery(String),
    #[error("{0}")]
    Config(String),
}

/// A client made from discovered metadata.
type Rp = CoreClient<
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

/// The redirect URI of App2's sign-in: App2's one redirect URI.
pub fn redirect_uri(base_url: &str) -> String {
    format!("{base_url}/app2/callback")
}

/// Discovers Atrium and makes App2's relying party. Discovery also fetches the JWKS, so the
/// keys are as fresh as the flow (a rotated key is found at once).
async fn relying_party(state: &State) -> Result<Rp, SignInError> {
    let creds = &state.config.app2;
    let secret = creds
        .client_secret
        .as_ref()
        .ok_or(SignInError::NotConfigured)?;
    let issuer = IssuerUrl::new(state.config.server.clone())
        .map_err(|e| SignInError::Config(e.to_string()))?;
    let metadata =
        CoreProviderMetadata::discover_async(issuer, &transport::with_client(state.http.clone()))
            .await
            .map_err(|e| SignInError::Discovery(e.to_string()))?;
    let redirect = RedirectUrl::new(redirect_uri(&state.base_url))
        .map_err(|e| SignInError::Config(e.to_string()))?;
    Ok(CoreClient::from_provider_metadata(
        metadata,
        ClientId::new(creds.client_id.clone()),
        Some(ClientSecret::new(secret.expose().to_string())),
    )
    .set_redirect_uri(redirect))
}

/// Starts a flow for the session `session_id`: the authorization URL to send the user to.
/// `silent` asks with `prompt=none`.
pub async fn start(
    state: &State,
    session_id: &str,
    session: &Session,
    silent: bool,
) -> Result<String, SignInError> {
    let rp = relying_party(state).await?;
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let mut request = rp
        .authorize_url(
            AuthenticationFlow::<CoreResponseType>::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .set_pkce_challenge(challenge)
        // The launch said who opened App2: Atrium pre-fills that account if it asks.
        .set_login_hint(openidconnect::LoginHint::new(
            session.claims.username.clone(),
        ));
    for s in SCOPES {
        request = request.add_scope(Scope::new(s.to_string()));
    }
    if silent {
        request = request.add_prompt(CoreAuthPrompt::None);
    }
    let (url, csrf, nonce) = request.url();
    let now = unix_now();
    state.signins.put(
        csrf.secret().clone(),
        Pending {
            session: session_id.to_string(),
            nonce,
            verifier,
            silent,
            expires_at: now + PENDING_SECS,
        },
        now,
    );
    Ok(url.to_string())
}

/// How a callback ended: the session it belongs to (when known), and the status to answer.
pub struct Outcome {
    pub session: Option<String>,
    pub status: StatusCode,
    pub message: Option<String>,
}

/// Atrium's answer to a sign-in (at `GET /app2/callback`): finishes the flow named by `state`
/// and records the result in its session.
pub async fn callback(state: &State, query: &Query) -> Outcome {
    let now = unix_now();
    let fail = |status, message: String| Outcome {
        session: None,
        status,
        message: Some(message),
    };
    let Some(pending) = query.get("state").and_then(|s| state.signins.take(s, now)) else {
        return fail(
            StatusCode::BAD_REQUEST,
            "This sign-in answer is unknown, expired or used already. Open App2 from Atrium \
             again."
                .into(),
        );
    };
    // RFC 9207: the answer must name the server it comes from, and that must be Atrium.
    if query.get("iss") != Some(state.config.server.as_str()) {
        return fail(
            StatusCode::BAD_REQUEST,
            format!(
                "This answer does not come from Atrium at {}; App2 ignores it.",
                state.config.server
            ),
        );
    }
    let (result, status) = finish(state, &pending, query).await;
    let set = state.sessions.set_signin(&pending.session, result, now);
    Outcome {
        session: set.then_some(pending.session),
        status,
        message: (!set).then(|| "Your App2 session has ended. Open App2 from Atrium again.".into()),
    }
}

/// The result of a flow, and the status to answer with.
async fn finish(state: &State, pending: &Pending, query: &Query) -> (SignIn, StatusCode) {
    if let Some(error) = query.get("error") {
        if pending.silent && NEEDS_A_CLICK.contains(&error) {
            return (SignIn::NeedsClick(error.to_string()), StatusCode::OK);
        }
        let description = query
            .get("error_description")
            .map(|d| format!(": {d}"))
            .unwrap_or_default();
        return (
            SignIn::Failed(format!(
                "Atrium refused the sign-in ({error}{description})."
            )),
            StatusCode::BAD_REQUEST,
        );
    }
    let Some(code) = query.get("code").filter(|c| !c.is_empty()) else {
        return (
            SignIn::Failed("Atrium's answer has neither a code nor an error.".into()),
            StatusCode::BAD_REQUEST,
        );
    };
    match verify(state, pending, code).await {
        Ok(identity) => (SignIn::Verified(Box::new(identity)), StatusCode::OK),
        Err((status, why)) => {
            tracing::warn!(reason = %why, "App2's OpenID Connect sign-in failed");
            (SignIn::Failed(why), status)
        }
    }
}

/// Exchanges the code and verifies the ID token.
async fn verify(
    state: &State,
    pending: &Pending,
    code: &str,
) -> Result<Identity, (StatusCode, String)> {
    let gateway = |e: String| (StatusCode::BAD_GATEWAY, e);
    let refused = |e: String| (StatusCode::UNAUTHORIZED, e);
    let rp = relying_party(state)
        .await
        .map_err(|e| gateway(e.to_string()))?;
    let tokens = rp
        .exchange_code(AuthorizationCode::new(code.to_string()))
        .map_err(|e| gateway(e.to_string()))?
        .set_pkce_verifier(PkceCodeVerifier::new(pending.verifier.secret().clone()))
        .request_async(&transport::with_client(state.http.clone()))
        .await
        .map_err(|e| gateway(format!("Atrium did not exchange the code: {e}")))?;
    let id_token = tokens
        .id_token()
        .ok_or_else(|| refused("Atrium's token response has no ID token.".into()))?;
    // Atrium signs with RS256 unless an app registered another algorithm; EdDSA is the other
    // one it offers.
    let verifier = rp.id_token_verifier().set_allowed_algs([
        CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
        CoreJwsSigningAlgorithm::EdDsa,
    ]);
    let claims = id_token
        .claims(&verifier, &pending.nonce)
        .map_err(|e| refused(format!("The ID token is not valid: {e}.")))?;
    // Core §3.1.3.8: the access token must be the one the ID token was issued with.
    if let Some(expected) = claims.access_token_hash() {
        let alg = id_token.signing_alg().map_err(|e| refused(e.to_string()))?;
        let key = id_token
            .signing_key(&verifier)
            .map_err(|e| refused(e.to_string()))?;
        let actual = AccessTokenHash::from_token(tokens.access_token(), alg, key)
            .map_err(|e| refused(e.to_string()))?;
        if actual != *expected {
            return Err(refused(
                "The ID token's at_hash does not match the access token.".into(),
            ));
        }
    }
    let session = state
        .sessions
        .get(AppId::App2, &pending.session, unix_now())
        .ok_or_else(|| refused("Your App2 session has ended.".into()))?;
    let sub = claims.subject().as_str();
    if sub != session.claims.sub {
        return Err(refused(format!(
            "Atrium signed in user #{sub}, but App2 was opened for #{}: sign in to Atrium as \
             {}.",
            session.claims.sub, session.claims.username
        )));
    }
    Ok(Identity {
        alg: id_token.signing_alg().map(serde_plain).unwrap_or_default(),
        kid: id_token
            .signing_key(&verifier)
            .ok()
            .and_then(|k| k.key_id())
            .map(|k| k.to_string()),
        claims: shown(claims),
        sub: sub.to_string(),
    })
}

/// A serialized enum value (`RS256`), without quotes.
fn serde_plain<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

/// The claims shown on the page, verified.
fn shown(c: &CoreIdTokenClaims) -> Vec<(&'static str, String)> {
    let mut rows = vec![
        ("iss", c.issuer().to_string()),
        ("sub", c.subject().to_string()),
        (
            "aud",
            c.audiences()
                .iter()
                .map(|a| a.to_string())
                .collect::<Vec<_>>()
                .join(" "),
        ),
    ];
    if let Some(azp) = c.authorized_party() {
        rows.push(("azp", azp.to_string()));
    }
    rows.push(("iat", rfc3339(c.issue_time().timestamp())));
    rows.push(("exp", rfc3339(c.expiration().timestamp())));
    if let Some(t) = c.auth_time() {
        rows.push(("auth_time", rfc3339(t.timestamp())));
    }
    if c.nonce().is_some() {
        rows.push(("nonce", "matches the one App2 sent".into()));
    }
    if c.access_token_hash().is_some() {
        rows.push(("at_hash", "matches the access token".into()));
    }
    if let Some(u) = c.preferred_username() {
        rows.push(("preferred_username", u.to_string()));
    }
    if let Some(n) = c.name().and_then(|n| n.get(None)) {
        rows.push(("name", n.to_string()));
    }
    if let Some(e) = c.email() {
        rows.push(("email", e.to_string()));
    }
    if let Some(v) = c.email_verified() {
        rows.push(("email_verified", v.to_string()));
    }
    rows
}

/// The sign-in part of App2's page for a session: (extra `<head>` markup, body section).
/// Starts a flow when the page needs one.
pub async fn section(state: &State, session_id: &str, session: &Session) -> (String, String) {
    let start_link = |silent: bool| async move {
        start(state, session_id, session, silent)
            .await
            .map_err(|e| {
                tracing::warn!(error = %e, "App2 cannot start an OpenID Connect sign-in");
                e.to_string()
            })
    };
    let link = |url: &str| {
        format!(
            "<p><a class=\"button\" data-signin href=\"{}\">Sign in with Atrium</a></p>",
            esc(url)
        )
    };
    let title = "<h2>Signed in with OpenID Connect</h2>";
    let unavailable = |e: &str| {
        format!(
            "{title}<p class=\"notice error\">App2 cannot sign you in with Atrium: {}.</p>",
            esc(e)
        )
    };
    match &session.signin {
        SignIn::Verified(identity) => (String::new(), verified(identity)),
        SignIn::NotStarted => match start_link(true).await {
            Ok(url) => (
                format!(
                    "<meta http-equiv=\"refresh\" content=\"0;url={}\">",
                    esc(&url)
                ),
                format!(
                    "{title}<p class=\"muted\">Signing you in with Atrium…</p>{}",
                    link(&url)
                ),
            ),
            Err(e) => (String::new(), unavailable(&e)),
        },
        SignIn::NeedsClick(error) => match start_link(false).await {
            Ok(url) => (
                String::new(),
                format!(
                    "{title}<p class=\"lead\">Atrium needs you to sign in first \
                     (<code>{}</code>).</p>{}",
                    esc(error),
                    link(&url)
                ),
            ),
            Err(e) => (String::new(), unavailable(&e)),
        },
        SignIn::Failed(why) => match start_link(false).await {
            Ok(url) => (
                String::new(),
                format!(
                    "{title}<p class=\"notice error\" role=\"alert\" data-signin-error>{}</p>{}",
                    esc(why),
                    link(&url)
                ),
            ),
            Err(e) => (String::new(), unavailable(&e)),
        },
    }
}

/// The verified claims, as a definition list.
fn verified(identity: &Identity) -> String {
    let rows: String = identity
        .claims
        .iter()
        .map(|(k, v)| {
            format!(
                "<dt><code>{k}</code></dt><dd data-claim=\"{k}\">{}</dd>",
                esc(v)
            )
        })
        .collect();
    format!(
        "<h2>Signed in with OpenID Connect</h2><p class=\"lead\">Atrium's ID token, verified \
         by App2 ({alg}{kid}):</p><dl class=\"claims\">{rows}</dl>",
        alg = esc(&identity.alg),
        kid = identity
            .kid
            .as_deref()
            .map(|k| format!(", key <code>{}</code>", esc(k)))
            .unwrap_or_default(),
    )
}
