//! # atrium-sample-app
//!
//! A third-party app for the Atrium platform, written as a stranger to Atrium's code would
//! write it: it speaks to the server over HTTP only, with public crates (`oauth2`,
//! `jsonwebtoken`, `hmac`). One program serves two apps on one port:
//!
//! | path | what |
//! |---|---|
//! | `GET /app1/callback`, `POST /app1/api/whoami` | App1, the TOKEN method ([`app1`]) |
//! | `GET /app2/callback` | App2, the CODE method ([`app2`]); also the answer to App2's OpenID Connect sign-in, told apart by its `state` ([`signin`]) |
//! | `GET /app1/`, `GET /app2/` | the apps' pages, opened by the dashboard with a launch token in the fragment ([`iframe`]) |
//! | `POST /app1/launch`, `POST /app2/launch` | where a page posts its launch token: checked ([`launch`]), accepted once, a session started ([`session`]) |
//! | `POST /webhook`, `GET /webhook/events[.json]` | install notifications ([`webhook`], [`signature`]) |
//! | `POST /app1/api/session-token`, `POST /app2/api/session-token` | the page has a token from Atrium's app bridge (`getSessionToken()`) verified: as a launch, `jti` once, for the page's own install ([`bridge`]) |
//! | `POST /app1/probe`, `POST /app2/probe`, `GET /probe/reports` | test only (`--probe`): what the pages can reach of their host ([`probe`]) |
//! | `GET /probe/elsewhere`, `GET /app2/elsewhere` | test only (`--probe`): a redirect to App2's page at another origin of this server ([`probe::elsewhere`]) |
//! | `POST /app2/ping` | test only (`--probe`, loopback callers): App2's backend posts a notification through Atrium's API ([`ping`]) |
//! | `GET /` | what this program is |
//!
//! App2's page signs its user in with OpenID Connect (the `openidconnect` crate), with
//! `prompt=none` when opened inside Atrium, and shows the verified ID token's claims beside
//! what it read from the API ([`signin`]).
//!
//! Both install callbacks end by sending the user to `atrium://install-complete?app=<client_id>&state=...`.
//! Tokens and events are kept in memory only ([`tokens`]).
//!
//! `main.rs` only parses the command line ([`config`]); tests start the app on port 0 with
//! [`SampleApp::bind`].

pub mod app1;
pub mod app2;
pub mod atrium;
pub mod bridge;
pub mod config;
pub mod iframe;
pub mod launch;
pub mod pages;
pub mod ping;
pub mod probe;
pub mod session;
pub mod signature;
pub mod signin;
pub mod tokens;
pub mod transport;
pub mod web;
pub mod webhook;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use warp::http::StatusCode;
use warp::Filter;

use config::{AppId, Config};

/// What the handlers share.
pub struct Inner {
    pub config: Config,
    /// This app's public base URL, without a trailing slash.
    pub base_url: String,
    /// For the API and the token endpoint; follows no redirect.
    pub http: reqwest::Client,
    pub atrium: atrium::Atrium,
    pub jwks: launch::Jwks,
    pub app2_client: Option<app2::CodeClient>,
    pub tokens: tokens::TokenStore,
    pub events: webhook::EventLog,
    /// The `jti`s of the launch tokens accepted (each is accepted once).
    pub launches: session::Launches,
    /// What the pages reported (`--probe` only).
    pub probes: probe::Reports,
    /// The users' sessions, one per launch.
    pub sessions: session::Sessions,
    /// App2's OpenID Connect sign-ins under way.
    pub signins: signin::Flows,
}

pub type State = Arc<Inner>;

/// Unix time in seconds.
pub fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// The deep link that tells the dashboard an install went through (or not, with `error`).
pub fn install_complete_url(client_id: &str, state: Option<&str>, error: Option<&str>) -> String {
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    query.append_pair("app", client_id);
    if let Some(s) = state {
        query.append_pair("state", s);
    }
    if let Some(e) = error {
        query.append_pair("error", e);
    }
    format!("atrium://install-complete?{}", query.finish())
}

/// A bound, ready-to-run sample app.
pub struct SampleApp {
    listener: tokio::net::TcpListener,
    state: State,
}

impl SampleApp {
    /// Binds the listening socket (port 0 picks a free one) and prepares the state.
    pub async fn bind(config: Config) -> anyhow::Result<SampleApp> {
        let listener = tokio::net::TcpListener::bind(config.addr)
            .await
            .with_context(|| format!("cannot listen on {}", config.addr))?;
        let addr = listener.local_addr()?;
        let base_url = config
            .public_url
            .clone()
            .unwrap_or_else(|| format!("http://{addr}"));
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(10))
            .user_agent(concat!("atrium-sample-app/", env!("CARGO_PKG_VERSION")))
            .build()
            .context("cannot build the HTTP client")?;
        let atrium = atrium::Atrium::new(&config.server, http.clone());
        let app2_client = app2::oauth_client(&config, &base_url)?;
        let state = Arc::new(Inner {
            jwks: launch::Jwks::new(atrium.clone()),
            atrium,
            http,
            app2_client,
            base_url,
            config,
            tokens: Default::default(),
            events: Default::default(),
            launches: Default::default(),
            sessions: Default::default(),
            probes: Default::default(),
            signins: Default::default(),
        });
        Ok(SampleApp { listener, state })
    }

    /// The address actually bound.
    pub fn addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .unwrap_or_else(|_| self.state.config.addr)
    }

    pub fn state(&self) -> &State {
        &self.state
    }

    /// Serves until `shutdown` resolves.
    pub async fn run_until(self, shutdown: impl Future<Output = ()> + Send + 'static) {
        warp::serve(routes(self.state))
            .incoming(self.listener)
            .graceful(shutdown)
            .run()
            .await;
    }
}

fn with_state(
    state: State,
) -> impl Filter<Extract = (State,), Error = std::convert::Infallible> + Clone {
    warp::any().map(move || state.clone())
}

/// Every route of the sample app.
pub fn routes(
    state: State,
) -> impl Filter<Extract = (impl warp::Reply,), Error = std::convert::Infallible> + Clone {
    let s = move || with_state(state.clone());
    // GET /
    let index = warp::path::end()
        .and(warp::get())
        .and(s())
        .map(|state: State| {
            web::html(StatusCode::OK, pages::index(&state.config, &state.base_url))
        });
    // GET /static/style.css
    let style = warp::path!("static" / "style.css")
        .and(warp::get())
        .map(|| {
            web::asset(
                "text/css; charset=utf-8",
                include_str!("../static/style.css"),
            )
        });
    // GET /static/launch.js
    let launch_js = warp::path!("static" / "launch.js")
        .and(warp::get())
        .map(|| web::asset("text/javascript; charset=utf-8", iframe::LAUNCH_JS));
    // GET /static/bridge-demo.js
    let bridge_js = warp::path!("static" / "bridge-demo.js")
        .and(warp::get())
        .map(|| web::asset("text/javascript; charset=utf-8", bridge::BRIDGE_JS));
    // POST /app1/api/session-token and POST /app2/api/session-token
    let session_token = |app: AppId| {
        warp::path(app.path())
            .and(warp::path("api"))
            .and(warp::path("session-token"))
            .and(warp::path::end())
            .and(warp::post())
            .and(s())
            .and(warp::header::optional::<String>("cookie"))
            .and(web::body_up_to(bridge::BODY_LIMIT))
            .then(move |state, cookie, body| bridge::verify(app, state, cookie, body))
    };
    // One boxed filter for the bridge's routes, as for the probe's: a shallower route type.
    let bridge_routes = bridge_js
        .or(session_token(AppId::App1))
        .unify()
        .or(session_token(AppId::App2))
        .unify()
        .boxed();
    // GET /app1/static/callback.js
    let app1_js = warp::path!("app1" / "static" / "callback.js")
        .and(warp::get())
        .map(|| web::asset("text/javascript; charset=utf-8", app1::CALLBACK_JS));
    // GET /app1/callback
    let app1_callback = warp::path!("app1" / "callback")
        .and(warp::get())
        .and(s())
        .then(app1::callback);
    // POST /app1/api/whoami
    let app1_whoami = warp::path!("app1" / "api" / "whoami")
        .and(warp::post())
        .and(s())
        .and(warp::header::optional::<String>("authorization"))
        .and(web::body_up_to(app1::WHOAMI_LIMIT))
        .then(app1::whoami);
    // GET /app2/callback
    let app2_callback = warp::path!("app2" / "callback")
        .and(warp::get())
        .and(s())
        .and(web::query())
        .then(app2::callback);
    // GET /app1/ and GET /app2/
    let app_page = |app: AppId| {
        warp::path(app.path())
            .and(warp::path::end())
            .and(warp::get())
            .and(s())
            .and(warp::header::optional::<String>("cookie"))
            .then(move |state, cookie| iframe::page(app, state, cookie))
    };
    // POST /app1/launch and POST /app2/launch
    let app_launch = |app: AppId| {
        warp::path(app.path())
            .and(warp::path("launch"))
            .and(warp::path::end())
            .and(warp::post())
            .and(s())
            .and(web::body_up_to(iframe::LAUNCH_FORM_LIMIT))
            .then(move |state, body| iframe::launch(app, state, body))
    };
    // POST /webhook
    // GET /static/probe.js, POST /app1/probe, POST /app2/probe (test only, `--probe`)
    let probe_js = warp::path!("static" / "probe.js")
        .and(warp::get())
        .map(|| web::asset("text/javascript; charset=utf-8", probe::PROBE_JS));
    let app_probe = |app: AppId| {
        warp::path(app.path())
            .and(warp::path("probe"))
            .and(warp::path::end())
            .and(warp::post())
            .and(s())
            .and(warp::header::optional::<String>("cookie"))
            .and(warp::body::content_length_limit(probe::BODY_LIMIT))
            .and(warp::body::bytes())
            .then(move |state, cookie, body| probe::post(app, state, cookie, body))
    };
    // GET /probe/reports (one boxed filter for the probe's routes: a shallower route type)
    let probe_reports = warp::path!("probe" / "reports")
        .and(warp::get())
        .and(s())
        .then(probe::list);
    // POST /app2/ping (test only, `--probe`)
    let ping = warp::path!("app2" / "ping")
        .and(warp::post())
        .and(s())
        .and(warp::addr::remote())
        .and(web::body_up_to(ping::BODY_LIMIT))
        .then(ping::post);
    // GET /probe/elsewhere, GET /app2/elsewhere (test only, `--probe`): App2's page at
    // another origin of this server, reached by a redirect
    let elsewhere = warp::path!("probe" / "elsewhere")
        .and(warp::get())
        .and(s())
        .and(warp::header::optional::<String>("host"))
        .then(probe::elsewhere_redirect)
        .or(warp::path!("app2" / "elsewhere")
            .and(warp::get())
            .and(s())
            .and(warp::header::optional::<String>("host"))
            .and(warp::header::optional::<String>("user-agent"))
            .then(probe::elsewhere))
        .unify();
    let probe = probe_js
        .or(ping)
        .unify()
        .or(elsewhere)
        .unify()
        .or(app_probe(AppId::App1))
        .unify()
        .or(app_probe(AppId::App2))
        .unify()
        .or(probe_reports)
        .unify()
        .boxed();
    let webhook = warp::path!("webhook")
        .and(warp::post())
        .and(s())
        .and(warp::header::optional::<String>("atrium-signature"))
        .and(warp::body::content_length_limit(webhook::BODY_LIMIT))
        .and(warp::body::bytes())
        .then(webhook::receive);
    // GET /webhook/events
    let events_page = warp::path!("webhook" / "events")
        .and(warp::get())
        .and(s())
        .then(webhook::events_page);
    // GET /webhook/events.json
    let events_json = warp::path!("webhook" / "events.json")
        .and(warp::get())
        .and(s())
        .then(webhook::events_json);

    index
        .or(style)
        .unify()
        .or(bridge_routes)
        .unify()
        .or(launch_js)
        .unify()
        .or(app1_js)
        .unify()
        .or(app1_callback)
        .unify()
        .or(app1_whoami)
        .unify()
        .or(app2_callback)
        .unify()
        // Boxed halfway: the whole chain's future type is too deep for the compiler to prove
        // it `Unpin` in a release build (E0275).
        .boxed()
        .or(app_page(AppId::App1))
        .unify()
        .or(app_page(AppId::App2))
        .unify()
        .or(app_launch(AppId::App1))
        .unify()
        .or(app_launch(AppId::App2))
        .unify()
        .or(probe)
        .unify()
        .or(webhook)
        .unify()
        .or(events_page)
        .unify()
        .or(events_json)
        .unify()
        .recover(web::recover)
        .unify()
        .with(warp::trace::request())
}

/// Resolves on SIGINT (Ctrl-C) or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutting down");
}

#[cfg(test)]
mod tests {
    use super::install_complete_url;

    #[test]
    fn the_deep_link_carries_the_app_and_the_state_encoded() {
        assert_eq!(
            install_complete_url("demo-app2", Some("a b&c"), None),
            "atrium://install-complete?app=demo-app2&state=a+b%26c"
        );
        assert_eq!(
            install_complete_url("demo-app1", None, Some("access_denied")),
            "atrium://install-complete?app=demo-app1&error=access_denied"
        );
    }
}
