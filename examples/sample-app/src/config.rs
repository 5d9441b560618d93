//! Configuration: where Atrium is, where the sample app listens, and the credentials of its two
//! apps — read from flags, environment variables and the JSON that `atrium-server demo` prints.

use std::collections::BTreeMap;
use std::io::Read;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use clap::Parser;
use serde::Deserialize;

/// A third-party app for Atrium, serving two apps on one port: App1 (TOKEN method) under
/// /app1/ and App2 (CODE method) under /app2/, plus a webhook receiver at /webhook.
///
/// Give it the credentials that `atrium-server demo` prints, e.g.
///
///   atrium-server demo > demo.json && atrium-sample-app --config demo.json
///
/// or `atrium-server demo | atrium-sample-app --config -`.
#[derive(Parser, Debug)]
#[command(name = "atrium-sample-app", version, about, verbatim_doc_comment)]
pub struct Args {
    /// Base URL of the Atrium server (the issuer of tokens and launch tokens).
    #[arg(
        long,
        env = "ATRIUM_SERVER_URL",
        default_value = "http://127.0.0.1:8000",
        value_name = "URL"
    )]
    pub server: String,

    /// Address to listen on.
    #[arg(
        long,
        env = "SAMPLE_APP_ADDR",
        default_value = "127.0.0.1:8010",
        value_name = "HOST:PORT"
    )]
    pub addr: SocketAddr,

    /// The sample app's public base URL, from which its redirect URIs are made
    /// ({URL}/app1/callback, {URL}/app2/callback) [default: http://ADDR]
    #[arg(long, env = "SAMPLE_APP_PUBLIC_URL", value_name = "URL")]
    pub public_url: Option<String>,

    /// The apps' credentials: the JSON printed by `atrium-server demo` ("-" reads standard
    /// input). Without it the apps use the demo client ids, App2 cannot exchange codes and
    /// webhooks are refused.
    #[arg(long, env = "SAMPLE_APP_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Test only: the apps' pages report what they can reach of their host (Atrium's IPC must
    /// be out of reach) to POST /app1/probe and /app2/probe; GET /probe/reports lists them.
    #[arg(long, env = "SAMPLE_APP_PROBE")]
    pub probe: bool,

    /// Test only, with --probe: the probe also exercises Atrium's app bridge (App2 sets its
    /// badge to 7 and notifies; App1 tries to act as App2). Off, the probe leaves the user's
    /// badges and notifications alone.
    #[arg(long, env = "SAMPLE_APP_PROBE_BRIDGE", requires = "probe")]
    pub probe_bridge: bool,
}

/// Why the configuration cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read the configuration {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("the configuration {path} is not the JSON `atrium-server demo` prints: {source}")]
    Json {
        path: String,
        source: serde_json::Error,
    },
    #[error("{what} {url:?} must be an http or https URL without query or fragment")]
    BadUrl { what: &'static str, url: String },
    #[error("the configuration says {label} uses the {found:?} method, but {label} is the {expected} app")]
    WrongMethod {
        label: &'static str,
        expected: &'static str,
        found: String,
    },
}

/// A secret that never prints (`Debug` shows a placeholder).
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    /// The secret itself, for the one place that must send or use it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(…)")
    }
}

/// Which of the two apps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AppId {
    /// The TOKEN method (implicit grant, token in the URL fragment).
    App1,
    /// The CODE method (authorization code exchanged server-to-server).
    App2,
}

impl AppId {
    pub const ALL: [AppId; 2] = [AppId::App1, AppId::App2];

    /// "App1" or "App2", as in the demo's JSON.
    pub fn label(self) -> &'static str {
        match self {
            AppId::App1 => "App1",
            AppId::App2 => "App2",
        }
    }

    /// The URL path segment: "app1" or "app2".
    pub fn path(self) -> &'static str {
        match self {
            AppId::App1 => "app1",
            AppId::App2 => "app2",
        }
    }

    /// "token" or "code".
    pub fn method(self) -> &'static str {
        match self {
            AppId::App1 => "token",
            AppId::App2 => "code",
        }
    }
}

/// One app's credentials.
#[derive(Debug, Clone)]
pub struct AppCredentials {
    pub client_id: String,
    /// Only App2 (a confidential client) has one.
    pub client_secret: Option<Secret>,
    /// Keys the `Atrium-Signature` of webhooks about this app.
    pub webhook_secret: Option<Secret>,
}

/// Everything the sample app needs to run.
#[derive(Debug, Clone)]
pub struct Config {
    /// The Atrium server's base URL, without a trailing slash; also the expected issuer.
    pub server: String,
    pub addr: SocketAddr,
    /// The public base URL, without a trailing slash; `None` means `http://{bound address}`.
    pub public_url: Option<String>,
    pub app1: AppCredentials,
    pub app2: AppCredentials,
    /// Test only: the pages run the probe ([`crate::probe`]).
    pub probe: bool,
    /// Test only: the probe also exercises the app bridge.
    pub probe_bridge: bool,
}

impl Config {
    /// Validates the flags and reads the credentials file, if any.
    pub fn from_args(args: Args) -> Result<Config, ConfigError> {
        let server = base_url("the server URL", &args.server)?;
        let public_url = args
            .public_url
            .as_deref()
            .map(|u| base_url("the public URL", u))
            .transpose()?;
        let file = match &args.config {
            Some(path) => Some(CredentialsFile::load(path)?),
            None => None,
        };
        let app = |id: AppId| -> Result<AppCredentials, ConfigError> {
            match file.as_ref().and_then(|f| f.apps.get(id.label())) {
                Some(entry) => entry.credentials(id),
                None => Ok(AppCredentials {
                    client_id: format!("demo-{}", id.path()),
                    client_secret: None,
                    webhook_secret: None,
                }),
            }
        };
        Ok(Config {
            server,
            addr: args.addr,
            public_url,
            app1: app(AppId::App1)?,
            app2: app(AppId::App2)?,
            probe: args.probe,
            probe_bridge: args.probe_bridge,
        })
    }

    /// The credentials of one app.
    pub fn app(&self, id: AppId) -> &AppCredentials {
        match id {
            AppId::App1 => &self.app1,
            AppId::App2 => &self.app2,
        }
    }

    /// Which app a client_id belongs to.
    pub fn app_by_client_id(&self, client_id: &str) -> Option<AppId> {
        AppId::ALL
            .into_iter()
            .find(|id| self.app(*id).client_id == client_id)
    }
}

/// A base URL: http(s), no query or fragment; returned without its trailing slash.
fn base_url(what: &'static str, raw: &str) -> Result<String, ConfigError> {
    let bad = || ConfigError::BadUrl {
        what,
        url: raw.to_string(),
    };
    let url = url::Url::parse(raw).map_err(|_| bad())?;
    if !matches!(url.scheme(), "http" | "https")
        || url.query().is_some()
        || url.fragment().is_some()
        || url.host().is_none()
    {
        return Err(bad());
    }
    Ok(raw.trim_end_matches('/').to_string())
}

/// The part of `atrium-server demo`'s output that the sample app uses.
#[derive(Debug, Deserialize)]
struct CredentialsFile {
    apps: BTreeMap<String, FileApp>,
}

#[derive(Debug, Deserialize)]
struct FileApp {
    client_id: String,
    method: Option<String>,
    client_secret: Option<String>,
    // Older `demo` output has no webhook secrets; webhooks are then refused.
    webhook_secret: Option<String>,
}

impl CredentialsFile {
    fn load(path: &Path) -> Result<CredentialsFile, ConfigError> {
        let shown = path.display().to_string();
        let text = if path == Path::new("-") {
            let mut s = String::new();
            std::io::stdin()
                .read_to_string(&mut s)
                .map(|_| s)
                .map_err(|source| ConfigError::Read {
                    path: "(standard input)".into(),
                    source,
                })?
        } else {
            std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                path: shown.clone(),
                source,
            })?
        };
        Self::parse(&text, &shown)
    }

    fn parse(text: &str, path: &str) -> Result<CredentialsFile, ConfigError> {
        serde_json::from_str(text).map_err(|source| ConfigError::Json {
            path: path.to_string(),
            source,
        })
    }
}

impl FileApp {
    fn credentials(&self, id: AppId) -> Result<AppCredentials, ConfigError> {
        if let Some(method) = &self.method {
            if method != id.method() {
                return Err(ConfigError::WrongMethod {
                    label: id.label(),
                    expected: id.method(),
                    found: method.clone(),
                });
            }
        }
        let secret = |s: &Option<String>| s.as_deref().filter(|s| !s.is_empty()).map(Secret::new);
        Ok(AppCredentials {
            client_id: self.client_id.clone(),
            client_secret: secret(&self.client_secret),
            webhook_secret: secret(&self.webhook_secret),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEMO: &str = r#"{"username":"demo","password":"atrium-demo","company_id":1,"apps":{
        "App1":{"client_id":"demo-app1","method":"token","webhook_secret":"atr_wh_one"},
        "App2":{"client_id":"demo-app2","method":"code","client_secret":"atr_cs_two","webhook_secret":"atr_wh_two"}}}"#;

    fn args(server: &str, config: Option<PathBuf>) -> Args {
        Args {
            server: server.into(),
            addr: "127.0.0.1:0".parse().unwrap(),
            public_url: None,
            config,
            probe: false,
            probe_bridge: false,
        }
    }

    fn write(text: &str) -> tempfile::NamedTempFile {
        let file = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(file.path(), text).unwrap();
        file
    }

    #[test]
    fn the_demo_output_gives_both_apps_their_credentials() {
        let file = write(DEMO);
        let config =
            Config::from_args(args("http://127.0.0.1:8000/", Some(file.path().into()))).unwrap();
        assert_eq!(config.server, "http://127.0.0.1:8000");
        assert_eq!(config.app1.client_id, "demo-app1");
        assert!(config.app1.client_secret.is_none());
        assert_eq!(
            config.app1.webhook_secret.as_ref().map(Secret::expose),
            Some("atr_wh_one")
        );
        assert_eq!(
            config.app2.client_secret.as_ref().map(Secret::expose),
            Some("atr_cs_two")
        );
        assert_eq!(config.app_by_client_id("demo-app2"), Some(AppId::App2));
        assert_eq!(config.app_by_client_id("someone-else"), None);
    }

    #[test]
    fn demo_output_without_webhook_secrets_is_still_accepted() {
        let file = write(
            r#"{"apps":{"App1":{"client_id":"a1","method":"token"},
                "App2":{"client_id":"a2","method":"code","client_secret":"s"}}}"#,
        );
        let config =
            Config::from_args(args("http://localhost:8000", Some(file.path().into()))).unwrap();
        assert!(config.app1.webhook_secret.is_none());
        assert!(config.app2.webhook_secret.is_none());
        assert_eq!(config.app1.client_id, "a1");
    }

    #[test]
    fn without_a_file_the_apps_use_the_demo_client_ids_and_no_secrets() {
        let config = Config::from_args(args("https://atrium.example", None)).unwrap();
        assert_eq!(config.app1.client_id, "demo-app1");
        assert_eq!(config.app2.client_id, "demo-app2");
        assert!(config.app2.client_secret.is_none());
    }

    #[test]
    fn a_swapped_method_is_refused_with_a_clear_reason() {
        let file = write(r#"{"apps":{"App1":{"client_id":"a1","method":"code"}}}"#);
        let err =
            Config::from_args(args("http://localhost:8000", Some(file.path().into()))).unwrap_err();
        assert!(err.to_string().contains("App1"), "{err}");
    }

    #[test]
    fn bad_urls_and_bad_files_are_refused() {
        assert!(Config::from_args(args("ftp://x", None)).is_err());
        assert!(Config::from_args(args("http://x/?a=b", None)).is_err());
        assert!(Config::from_args(args("not a url", None)).is_err());
        let file = write("not json");
        let err = Config::from_args(args("http://x", Some(file.path().into()))).unwrap_err();
        assert!(matches!(err, ConfigError::Json { .. }));
        let err =
            Config::from_args(args("http://x", Some("/nonexistent/demo.json".into()))).unwrap_err();
        assert!(matches!(err, ConfigError::Read { .. }));
    }

    #[test]
    fn secrets_do_not_print() {
        let s = Secret::new("atr_cs_very_secret");
        assert!(!format!("{s:?}").contains("very_secret"));
    }
}
