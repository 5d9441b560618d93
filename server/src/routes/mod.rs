//! HTTP routes, one module per resource; handlers are a few lines over the services
//! ([`crate::services`]) and the OAuth logic ([`crate::oauth`]). Each filter is documented by its
//! method and path. Handlers answer `Result<Resp, ApiError>`; [`error`] renders every error.
//!
//! Every route names its path by a constant of `atrium_proto::paths` (the `route!` macro),
//! and every JSON operation is declared once more, for `/openapi.json`, in [`openapi`]: a new
//! route is added in both places (`tests/api/openapi.rs` fails until it is).

/// The warp filter of a path of [`atrium_proto::paths`], written as `warp::path!`'s segments:
/// `route!(paths::INSTALL; "api" / "dashboard" / "installs" / InstallId)`. The segments and the
/// constant's template are compared when the server compiles
/// ([`paths::matches_segments`](atrium_proto::paths::matches_segments)), so a route cannot
/// drift from the path that the shell, the test kit and `/openapi.json` use. The filter itself
/// is `warp::path!`'s, so matching a request costs what it did.
macro_rules! route {
    ($template:expr; $($seg:tt)/+) => {{
        const _: () = assert!(
            atrium_proto::paths::matches_segments($template, &[$($crate::routes::route!(@seg $seg)),+]),
            concat!("the route ", stringify!($($seg)/+), " is not the path it names"),
        );
        warp::path!($($seg)/+)
    }};
    (@seg $lit:literal) => {
        $lit
    };
    (@seg $param:tt) => {
        "{}"
    };
}
pub(crate) use route;

pub mod api;
pub mod dashboard;
pub mod developer;
pub mod error;
pub mod events;
pub mod health;
pub mod html;
pub mod inbox;
pub mod invitations;
pub mod meta;
pub mod oauth;
pub mod oidc;
pub mod openapi;
pub mod paging;
pub mod registration;
pub mod respond;
pub mod session;

use std::convert::Infallible;

use atrium_proto::paths;

use warp::filters::BoxedFilter;
use warp::http::StatusCode;
use warp::hyper::body::Bytes;
use warp::{Filter, Rejection, Reply};

use crate::oauth::params::Params;
use crate::oauth::OAuthError;
use crate::platform::Platform;
use crate::store::Backend;
use error::ApiError;
use respond::Resp;

/// What handlers need: one `Arc`, since every request clones it (a clone of the parts would
/// touch five shared reference counts, which two cores then fight over).
#[derive(Clone)]
pub struct AppState(std::sync::Arc<State>);

pub struct State {
    pub platform: Platform,
    /// The opened store as the backend it is (readiness asks it).
    pub db: Backend,
    /// Mark cookies `Secure` (when the issuer is https).
    pub secure_cookies: bool,
    /// Bounds the cost of `POST /login` (concurrency of password checks, back-off).
    pub login: crate::throttle::LoginGuard,
    /// Per-user quotas.
    pub quotas: crate::config::Quotas,
    /// Where webhooks may go (checked when a developer registers or edits a webhook URL).
    pub egress: crate::webhooks::egress::Egress,
    /// The server's metrics (served on their own listener, see [`crate::metrics`]).
    pub metrics: std::sync::Arc<crate::metrics::Metrics>,
}

impl AppState {
    pub fn new(state: State) -> AppState {
        AppState(std::sync::Arc::new(state))
    }
}

impl std::ops::Deref for AppState {
    type Target = State;
    fn deref(&self) -> &State {
        &self.0
    }
}

/// The routes that `/openapi.json` does not list: the HTML pages, and `/metrics` (on the
/// metrics listener), as `(method, path)`.
pub const PAGES: &[(&str, &str)] = &[
    ("get", paths::HOME),
    ("get", paths::LOGIN),
    ("post", paths::LOGIN),
    ("post", paths::LOGOUT),
    ("get", paths::AUTHORIZE),
    ("post", paths::AUTHORIZE),
    ("get", paths::METRICS),
];

/// Every route the server answers, as `(method, path template)`: what the metrics count
/// requests under. The JSON operations are those of the OpenAPI document
/// ([`openapi::operations`]), which a test checks against what the server routes.
pub fn route_list() -> Vec<(&'static str, &'static str)> {
    let mut routes = openapi::operations();
    routes.extend_from_slice(PAGES);
    routes
}

/// `GET /metrics`, for the metrics listener only (never part of [`all`]).
pub fn metrics_only(state: AppState) -> BoxedFilter<(Resp,)> {
    route!(paths::METRICS; "metrics")
        .and(warp::get())
        .then(move || {
            let state = state.clone();
            async move {
                let text = state
                    .metrics
                    .render(state.platform.store.as_ref(), crate::domain::now())
                    .await;
                let mut r = warp::http::Response::new(warp::hyper::body::Bytes::from(text).into());
                r.headers_mut().insert(
                    warp::http::header::CONTENT_TYPE,
                    warp::http::HeaderValue::from_static(prometheus::TEXT_FORMAT),
                );
                r
            }
        })
        .or(warp::any().map(|| ApiError::not_found("route").into_response()))
        .unify()
        .boxed()
}

/// Injects the application state into a handler.
pub fn with_state(
    state: AppState,
) -> impl Filter<Extract = (AppState,), Error = Infallible> + Clone {
    warp::any().map(move || state.clone())
}

/// The state and the `Authorization` header, for handlers of bearer-protected routes.
pub type Auth = (AppState, Option<String>);

/// Injects [`Auth`].
pub fn with_auth(state: AppState) -> impl Filter<Extract = (Auth,), Error = Rejection> + Clone {
    with_state(state)
        .and(warp::header::optional::<String>("authorization"))
        .map(|s, h| (s, h))
}

/// Injects the database handle into a handler.
pub fn with_db(db: Backend) -> impl Filter<Extract = (Backend,), Error = Infallible> + Clone {
    warp::any().map(move || db.clone())
}

/// Largest form body accepted (OAuth requests are small).
const FORM_LIMIT: u64 = 16 * 1024;

/// An `application/x-www-form-urlencoded` body, checked for its type, size and encoding.
pub fn form() -> impl Filter<Extract = (Result<Params, OAuthError>,), Error = Rejection> + Clone {
    warp::header::optional::<String>("content-type")
        .and(warp::body::content_length_limit(FORM_LIMIT))
        .and(warp::body::bytes())
        .map(|content_type: Option<String>, body: Bytes| {
            let is_form = content_type.as_deref().is_some_and(|ct| {
                ct.split(';').next().is_some_and(|m| {
                    m.trim()
                        .eq_ignore_ascii_case("application/x-www-form-urlencoded")
                })
            });
            if !is_form {
                return Err(OAuthError::invalid_request(
                    "the body must be application/x-www-form-urlencoded",
                ));
            }
            let text = std::str::from_utf8(&body)
                .map_err(|_| OAuthError::invalid_request("the body is not UTF-8"))?;
            Ok(Params::parse(text))
        })
}

/// Largest JSON body accepted by the first-party API.
const JSON_LIMIT: u64 = 64 * 1024;

/// A JSON body decoded as `T`, or the answer explaining why not: 415 unless the body is
/// declared `application/json` (a browser form on another site can send `text/plain`, never
/// `application/json`, without a CORS preflight), 400 if it does not decode.
pub fn json_body<T: serde::de::DeserializeOwned + Send>(
) -> impl Filter<Extract = (Result<T, ApiError>,), Error = Rejection> + Clone {
    warp::header::optional::<String>("content-type")
        .and(warp::body::content_length_limit(JSON_LIMIT))
        .and(warp::body::bytes())
        .map(|content_type: Option<String>, body: Bytes| {
            if !content_type.as_deref().is_some_and(is_json) {
                return Err(ApiError::refused(
                    StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    "invalid_request",
                    "the body must be application/json",
                ));
            }
            serde_json::from_slice::<T>(&body)
                .map_err(|e| ApiError::invalid(format!("the JSON body is not valid: {e}")))
        })
}

/// `application/json`, with or without parameters (`; charset=utf-8`).
fn is_json(content_type: &str) -> bool {
    content_type
        .split(';')
        .next()
        .is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json"))
}

/// The raw query string, or an empty one.
pub fn raw_query() -> impl Filter<Extract = (String,), Error = Infallible> + Clone {
    warp::query::raw().or(warp::any().map(String::new)).unify()
}

/// Every route of the server, boxed.
///
/// The server clones its filter for every request it serves, and this tree holds a copy of the
/// state (a handful of `Arc`s) in each of its dozens of routes: cloning and dropping it took
/// about a third of the CPU of `GET /api/username`. Boxed, the whole tree sits behind one `Arc`
/// and a request costs one reference count.
///
/// The resource API, which apps call on every page they show, is tried first and boxed on its
/// own, so its requests neither walk past the other routes nor carry a future sized for the
/// largest handler of the server.
pub fn all(state: AppState) -> BoxedFilter<(Resp,)> {
    let resource = api::filters(state.clone()).boxed();
    let rest = health::filter(state.db.clone())
        .map(Reply::into_response)
        .or(meta::filters(state.clone()))
        .unify()
        .or(oauth::filters(state.clone()))
        .unify()
        .or(oidc::filters(state.clone()))
        .unify()
        .or(dashboard::filters(state.clone()))
        .unify()
        .or(invitations::filters(state.clone()))
        .unify()
        .or(inbox::filters(state.clone()))
        .unify()
        .or(events::filters(state.clone()))
        .unify()
        .or(developer::filters(state.clone()))
        .unify()
        .or(registration::filters(state))
        .unify()
        .boxed();
    resource
        .or(rest)
        .unify()
        .recover(handle_rejection)
        .with(warp::trace::request())
        .map(Reply::into_response)
        .boxed()
}

/// What connections past the cap are served ([`crate::serve`]): `GET /healthz`, and 503 with
/// `Retry-After` for anything else.
pub fn health_only(state: AppState) -> BoxedFilter<(Resp,)> {
    health::filter(state.db.clone())
        .map(Reply::into_response)
        .or(warp::any().map(|| {
            let mut r = ApiError::refused(
                StatusCode::SERVICE_UNAVAILABLE,
                "temporarily_unavailable",
                "the server is at its connection limit; try again shortly",
            )
            .into_response();
            r.headers_mut().insert(
                warp::http::header::RETRY_AFTER,
                warp::http::HeaderValue::from_static("1"),
            );
            r
        }))
        .unify()
        .boxed()
}

/// Turns warp's rejections into JSON errors: never a 500 for bad input.
async fn handle_rejection(r: Rejection) -> Result<Resp, Infallible> {
    use warp::reject::{LengthRequired, MethodNotAllowed, PayloadTooLarge};
    let resp = if r.is_not_found() {
        ApiError::refused(StatusCode::NOT_FOUND, "not_found", "no such resource")
    } else if r.find::<PayloadTooLarge>().is_some() {
        ApiError::refused(
            StatusCode::PAYLOAD_TOO_LARGE,
            "invalid_request",
            "the body is too large",
        )
    } else if r.find::<LengthRequired>().is_some() {
        ApiError::refused(
            StatusCode::LENGTH_REQUIRED,
            "invalid_request",
            "a Content-Length is required",
        )
    } else if r.find::<MethodNotAllowed>().is_some() {
        ApiError::refused(
            StatusCode::METHOD_NOT_ALLOWED,
            "invalid_request",
            "method not allowed",
        )
    } else {
        tracing::debug!(rejection = ?r, "request rejected");
        ApiError::refused(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "the request is malformed",
        )
    };
    Ok(resp.into_response())
}
