//! Tauri commands: the UI's only way to reach the server.

use std::time::Duration;

use atrium_proto::{Health, HealthState, ServerStatus};
use tauri::State;

use crate::config::ShellConfig;
use crate::error::Error;

/// Shell state shared by the commands.
pub struct Shell {
    config: ShellConfig,
    http: reqwest::Client,
}

impl Shell {
    pub fn new(config: ShellConfig) -> Shell {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(3))
            .timeout(Duration::from_secs(10))
            // The shell follows no redirect: an OAuth server answer is read as it is.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("atrium-desktop/", env!("CARGO_PKG_VERSION")))
            .build()
            .unwrap_or_default();
        Shell { config, http }
    }

    /// Checks `GET /healthz` on the configured server.
    pub async fn server_status(&self) -> ServerStatus {
        let url = self.config.server_url.clone();
        let health = match self.probe().await {
            Ok(h) if h.status == "ok" => HealthState::Healthy { version: h.version },
            Ok(h) => HealthState::Unreachable {
                reason: format!("the server reports status {:?}", h.status),
            },
            Err(reason) => HealthState::Unreachable { reason },
        };
        ServerStatus {
            url: url.as_str().trim_end_matches('/').to_string(),
            health,
        }
    }

    async fn probe(&self) -> Result<Health, String> {
        let url = self
            .config
            .server_url
            .join("healthz")
            .map_err(|e| e.to_string())?;
        let res = self.http.get(url).send().await.map_err(describe)?;
        if !res.status().is_success() {
            return Err(format!("the server answered {}", res.status()));
        }
        res.json::<Health>()
            .await
            .map_err(|_| "the server's answer is not an Atrium health report".to_string())
    }
}

/// A reqwest error in words a user can act on.
fn describe(err: reqwest::Error) -> String {
    if err.is_connect() {
        "connection refused or host not found".into()
    } else if err.is_timeout() {
        "the server did not answer in time".into()
    } else {
        err.to_string()
    }
}

/// The configured server and whether it answers its health check.
#[tauri::command]
pub async fn server_status(shell: State<'_, Shell>) -> Result<ServerStatus, Error> {
    Ok(shell.server_status().await)
}
