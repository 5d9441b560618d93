//! Atrium's test kit: what every test suite needs to drive a *real* Atrium server over HTTP.
//!
//! The kit starts nothing and mocks nothing. The server's tests start the real server in
//! process (`spawn_app()` in `server/tests/api/helpers.rs`, on 127.0.0.1:0 with a fresh SQLite
//! file); the end-to-end tests start the real binaries (`tests/support`). Both then point the
//! kit at the server's base URL:
//!
//! - [`Atrium`]: a typed helper per endpoint — [`Atrium::authorize`] (in a [`Browser`]),
//!   [`Atrium::exchange`], [`Atrium::refresh`], [`Atrium::revoke`], [`Atrium::introspect`],
//!   [`Atrium::client_credentials`], [`Atrium::install`], the resource and dashboard APIs — and
//!   [`Atrium::dashboard_token`], a first-party token got the way the desktop gets it;
//! - [`Browser`]: a scripted user agent for the HTML login and consent pages (cookies on,
//!   redirects off, so each test looks at every `Location`);
//! - [`html`]: the hidden fields of a form and a page's `<meta http-equiv="refresh">`;
//! - [`urls`]: a response's `Location`, a URL's query and fragment parameters;
//! - [`AppSpec`]: what app to register (`AppSpec::code("profile").public()`), as the developer
//!   API's JSON or as the fields a suite's own registration takes;
//! - [`Authorize`]: an authorization request by name (`Authorize::code(id).scope("profile")`);
//! - [`Pkce`], [`assert_oauth_error`].
//!
//! Helpers panic with a message saying what failed: a test that cannot reach its server has
//! failed, and the message says where.

mod app_spec;
mod atrium;
mod authorize;
mod browser;
pub mod html;
mod pkce;
pub mod urls;

pub use app_spec::{AppSpec, REDIRECT};
pub use atrium::{assert_oauth_error, Atrium, TestClient, DESKTOP_CLIENT, DESKTOP_REDIRECT};
pub use authorize::Authorize;
pub use browser::Browser;
pub use html::hidden_inputs;
pub use pkce::Pkce;
pub use urls::{fragment_param, fragment_params, location, query_param};

/// A reqwest client that follows no redirect (a test looks at each one).
pub fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("an HTTP client")
}
