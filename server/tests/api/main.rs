//! Integration tests: the real server on 127.0.0.1:0 with a fresh temporary SQLite file,
//! spoken to over HTTP.

mod helpers;

mod api;
mod authorize;
mod backup;
mod bad_input;
mod connections;
mod files;
mod health;
mod interop;
mod invitations;
mod lifecycle;
mod limits;
mod load;
mod login_throttle;
mod openapi;
mod paging;
mod prune;
mod races;
mod readiness;
mod real_server;
mod rotation;
mod security;
mod tls;
mod token;
mod trust;
mod webhooks;
