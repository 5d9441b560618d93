//! # atrium-proto
//!
//! The contract between Atrium's crates: the only code the server, the desktop shell and the
//! Yew UI share. It holds plain serde types and no I/O, so it builds for
//! `wasm32-unknown-unknown` as well as for the host.
//!
//! - [`dashboard`]: the bodies of the first-party API (`/api/dashboard/...`,
//!   `/api/developer/...`), as the server sends them and the shell reads them;
//! - [`kinds`]: the closed sets of words in those bodies (role, install state, OAuth method,
//!   response type) as enums, with their JSON pinned by tests;
//! - [`paths`]: every path of the HTTP API, templates and builders;
//! - [`inbox`]: apps' notifications and badges, as apps post them and the dashboard reads them;
//! - [`bridge`]: between an open app's page and the shell (the app bridge: its calls, replies
//!   and the script the shell injects);
//! - [`ipc`]: between the shell and the UI: one type per Tauri command and per event, and the
//!   shell's error;
//! - here: the health check.
//!
//! With the `openapi` feature (the server turns it on), the wire types also derive
//! `utoipa::ToSchema`, so the server's `/openapi.json` describes them from these definitions;
//! the UI and the shell leave it off and never compile utoipa.

use serde::{Deserialize, Serialize};

/// Answer of `GET /healthz` (`status` is `"ok"`: the process answers) and of `GET /readyz`
/// (`"ready"`: the database answers with the current schema; else `"unavailable"` and a
/// `reason`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Health {
    pub status: String,
    /// The server's version (its crate version).
    pub version: String,
    /// Why the server is not ready, for people; absent when it is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// What the desktop shell knows about the server it is configured with, as shown by the UI.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerStatus {
    /// Base URL of the server, e.g. `http://127.0.0.1:8000`.
    pub url: String,
    /// The health check's outcome.
    pub health: HealthState,
}

/// Outcome of a health check made by the shell.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum HealthState {
    /// The server answered `GET /readyz` with status `ready`.
    Healthy { version: String },
    /// The server could not be reached or answered something else; `reason` is for people.
    Unreachable { reason: String },
}

pub mod bridge;
pub mod dashboard;
pub mod inbox;
pub mod ipc;
pub mod kinds;
pub mod paths;

pub use kinds::{ApplicationType, InstallState, OAuthMethod, ResponseType, Role, UnknownWord};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn health_state_is_tagged_so_the_ui_can_match_on_it() {
        let s = ServerStatus {
            url: "http://127.0.0.1:8000".into(),
            health: HealthState::Unreachable {
                reason: "connection refused".into(),
            },
        };
        let json = serde_json::to_value(&s).unwrap();
        assert_eq!(json["health"]["state"], "unreachable");
        assert_eq!(json["health"]["reason"], "connection refused");
        let back: ServerStatus = serde_json::from_value(json).unwrap();
        assert_eq!(back, s);
    }
}
