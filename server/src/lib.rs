//! # atrium-server
//!
//! The Atrium platform server: user accounts and companies, the app registry, an OAuth 2.0
//! authorization server, and the resource API that installed apps call with their tokens.
//!
//! - [`domain`]: validated types (ids, scopes, redirect URIs, secrets, passwords);
//! - [`store`]: storage behind one trait per aggregate (users, companies, apps, grants,
//!   installs, outbox) composed into [`store::Store`], implemented over SQLite ([`db`]) one
//!   file per aggregate in `store/sqlite/`; primitives only, no policy;
//! - [`oauth`]: the protocol logic, callable without HTTP: typed requests
//!   ([`oauth::request`]), the authorization endpoint ([`oauth::authorize`]), and one module
//!   per grant ([`oauth::grants`]; a refresh token is rotated in
//!   [`oauth::grants::refresh_token`]), where the security decisions are made;
//! - [`platform`]: [`platform::Platform`], the state the protocol and the services share;
//! - [`services`]: the platform's features (companies, invitations, installs, launch, developer
//!   apps), callable without HTTP; [`apps`]: the rules of app registration and edits;
//! - [`routes`]: warp filters and thin handlers; [`routes::error`] renders every error;
//!   [`routes::openapi`] generates `/openapi.json`;
//! - [`keys`]: the master key and what derives from it; [`jose`]: the signing key set (RS256
//!   and EdDSA, with `kid`s and rotation) and the JWKS;
//! - [`startup`]: binding and serving; [`serve`]: the connection layer (timeouts, connection
//!   cap, health reserve); [`throttle`]: the cost of signing in (its back-off counted in
//!   the store, so replicas share it);
//!   [`tls`]: https with a certificate reloaded on SIGHUP; [`backup`]: online backups and
//!   their restore; [`dbcopy`]: a SQLite deployment copied into PostgreSQL (`db copy`);
//!   [`cli`]: the `atrium-server` command line;
//! - [`metrics`]: Prometheus metrics on a listener of their own; [`telemetry`]: logs (text
//!   or JSON) and the request id every request's log lines carry.
//!
//! `main.rs` only parses the command line, so tests and `xtask` can start a real server on a
//! port with [`startup::Application`].

pub mod apps;
pub mod backup;
pub mod cli;
pub mod config;
pub mod db;
pub mod dbcopy;
pub mod domain;
pub mod events;
pub mod jose;
pub mod keys;
pub mod metrics;
pub mod oauth;
pub mod platform;
pub mod prune;
pub mod routes;
pub mod serve;
pub mod services;
pub mod startup;
pub mod store;
pub mod telemetry;
pub mod throttle;
pub mod tls;
pub mod webhooks;

/// The server's version, as reported by `GET /healthz`.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
