//! Integration tests: the real server on 127.0.0.1:0 with a fresh temporary SQLite file,
//! spoken to over HTTP. `helpers` starts it (`spawn_app()`) and seeds it; the HTTP side — the
//! scripted browser, typed helpers per endpoint, `AppSpec`, `assert_oauth_error` — is the
//! workspace's test kit (`testkit/`, `atrium-testkit`), re-exported by `helpers`.

mod helpers;

mod api;
mod authlib;
mod authorize;
mod backup;
mod bad_input;
mod bridge;
mod connections;
mod db_copy;
mod errors;
mod files;
mod health;
mod inbox;
mod interop;
mod invitations;
mod lifecycle;
mod limits;
mod load;
mod login_throttle;
mod logout;
mod metrics;
mod oidc;
mod openapi;
mod paging;
mod prune;
mod races;
mod readiness;
mod real_server;
mod registration;
mod replicas;
mod rotation;
mod security;
mod tls;
mod token;
mod trust;
mod webhooks;
