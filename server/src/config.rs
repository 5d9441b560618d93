//! Server configuration, from (in order of precedence) flags, `ATRIUM_*` environment variables,
//! a TOML file (`--config`), and defaults.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::Deserialize;

/// Everything `Application::build` needs to start a server.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Address to listen on; port 0 picks a free port (tests).
    pub addr: SocketAddr,
    /// SQLite database file; created with its parent directory if missing. With `postgres`,
    /// only where the key file is (`atrium.key` beside it).
    pub db_path: PathBuf,
    /// A PostgreSQL URL (`--db postgres://...`): the store is PostgreSQL instead of the
    /// SQLite file.
    pub postgres: Option<String>,
    /// Most connections this process keeps to PostgreSQL (`--db-pool-size`).
    pub postgres_pool_size: usize,
    /// The key file (`--key-file`), when not the one beside `db_path`.
    pub key_file: Option<PathBuf>,
    /// Public base URL (the OAuth issuer); defaults to `http://{addr}`, or `https://{addr}`
    /// with TLS.
    pub public_url: Option<String>,
    /// Access-token lifetime in seconds.
    pub access_ttl: i64,
    /// Refresh-token lifetime in seconds.
    pub refresh_ttl: i64,
    /// Lifetime of access tokens issued by the TOKEN (implicit) method, in seconds.
    pub implicit_ttl: i64,
    /// Seconds during which a retry with a just-rotated refresh token gets the same new pair
    /// back (0: never; every reuse revokes the grant).
    pub refresh_reuse_interval: i64,
    /// Retry and concurrency policy of install notifications.
    pub webhook_policy: crate::webhooks::Policy,
    /// Timeouts and the connection cap of the HTTP server.
    pub connections: crate::serve::Limits,
    /// Concurrency of password checks and sign-in back-off.
    pub login: crate::throttle::LoginLimits,
    /// Per-user quotas of the dashboard and developer API.
    pub quotas: Quotas,
    /// What pruning keeps, and how often it runs.
    pub retention: crate::prune::Retention,
    /// Where install notifications may go (private addresses only if the operator allows).
    pub egress: crate::webhooks::egress::Egress,
    /// Serve https with this certificate and key (reloaded on SIGHUP); plain http without.
    pub tls: Option<crate::tls::TlsFiles>,
    /// Serve `GET /metrics` on this address (a listener of its own); nowhere when `None`.
    pub metrics_addr: Option<SocketAddr>,
}

/// Per-user quotas. They bound what one account can make the server store through the API;
/// the operator's command line (`atrium-server app add`, `company add`) is not bound by them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quotas {
    /// Apps one developer may have registered (deleted ones do not count).
    pub apps_per_user: u32,
    /// Companies one user may own.
    pub companies_per_user: u32,
    /// Notifications one install may post to its users in an hour.
    pub notifications_per_install_hour: u32,
}

impl Default for Quotas {
    fn default() -> Self {
        Quotas {
            apps_per_user: 25,
            companies_per_user: 10,
            notifications_per_install_hour: 100,
        }
    }
}

impl Settings {
    /// Defaults for a database path: loopback port 8000, one-hour access tokens, 30-day
    /// refresh tokens, a 10-second refresh reuse interval.
    pub fn new(db_path: PathBuf) -> Settings {
        Settings {
            addr: SocketAddr::from(([127, 0, 0, 1], 8000)),
            db_path,
            postgres: None,
            postgres_pool_size: crate::store::postgres::DEFAULT_POOL_SIZE,
            key_file: None,
            public_url: None,
            access_ttl: crate::oauth::OAuthConfig::DEFAULT_ACCESS_TTL,
            refresh_ttl: crate::oauth::OAuthConfig::DEFAULT_REFRESH_TTL,
            implicit_ttl: crate::oauth::OAuthConfig::DEFAULT_IMPLICIT_TTL,
            refresh_reuse_interval: crate::oauth::OAuthConfig::DEFAULT_REFRESH_REUSE_INTERVAL,
            webhook_policy: crate::webhooks::Policy::default(),
            connections: crate::serve::Limits::default(),
            login: crate::throttle::LoginLimits::default(),
            quotas: Quotas::default(),
            retention: crate::prune::Retention::default(),
            egress: crate::webhooks::egress::Egress::default(),
            tls: None,
            metrics_addr: None,
        }
    }
}

/// The optional TOML file. Every key is optional; flags and environment variables win.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub addr: Option<SocketAddr>,
    pub db: Option<PathBuf>,
    pub public_url: Option<String>,
    pub access_token_ttl_secs: Option<i64>,
    pub refresh_token_ttl_secs: Option<i64>,
    pub implicit_token_ttl_secs: Option<i64>,
    pub refresh_reuse_interval_secs: Option<i64>,
    pub header_read_timeout_secs: Option<f64>,
    pub idle_timeout_secs: Option<f64>,
    pub body_read_timeout_secs: Option<f64>,
    pub max_connections: Option<usize>,
    pub login_concurrency: Option<usize>,
    pub login_queue_timeout_secs: Option<f64>,
    pub login_user_failures: Option<u32>,
    pub login_ip_failures: Option<u32>,
    pub login_max_backoff_secs: Option<f64>,
    pub login_throttle_entries: Option<usize>,
    pub max_apps_per_user: Option<u32>,
    pub max_companies_per_user: Option<u32>,
    pub max_notifications_per_install_hour: Option<u32>,
    pub notification_retention_secs: Option<i64>,
    pub expired_retention_secs: Option<i64>,
    pub delivered_retention_secs: Option<i64>,
    pub prune_interval_secs: Option<i64>,
    pub allow_private_webhooks: Option<bool>,
    pub webhook_max_in_flight: Option<usize>,
    pub webhook_max_per_destination: Option<usize>,
    pub webhook_timeout_secs: Option<f64>,
    pub webhook_lease_secs: Option<f64>,
    pub db_pool_size: Option<usize>,
    pub key_file: Option<PathBuf>,
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    pub metrics_addr: Option<SocketAddr>,
    pub log_format: Option<crate::telemetry::LogFormat>,
}

impl FileConfig {
    pub fn load(path: &Path) -> anyhow::Result<FileConfig> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the config file {}", path.display()))?;
        toml::from_str(&text).with_context(|| format!("invalid config file {}", path.display()))
    }
}

/// Where the data lives, as `--db` (or `ATRIUM_DB`, or the file's `db`) says: a
/// `postgres://` or `postgresql://` URL means PostgreSQL, anything else a SQLite file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DbLocation {
    Sqlite(PathBuf),
    /// A PostgreSQL URL, and the key file (`--key-file`) if not the default one.
    Postgres {
        url: String,
        key_file: Option<PathBuf>,
    },
}

impl DbLocation {
    pub fn from_arg(arg: PathBuf) -> DbLocation {
        match arg.to_str() {
            Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
                DbLocation::Postgres {
                    url: url.to_string(),
                    key_file: None,
                }
            }
            _ => DbLocation::Sqlite(arg),
        }
    }

    /// The same location with the key file `--key-file` names, if it names one. SQLite keeps
    /// its key beside the database (backups and restores move the two together), so a key
    /// file elsewhere is refused there.
    pub fn with_key_file(self, key_file: Option<PathBuf>) -> anyhow::Result<DbLocation> {
        match (self, key_file) {
            (at, None) => Ok(at),
            (DbLocation::Postgres { url, .. }, Some(key)) => Ok(DbLocation::Postgres {
                url,
                key_file: Some(key),
            }),
            (DbLocation::Sqlite(path), Some(_)) => anyhow::bail!(
                "--key-file is for PostgreSQL: with SQLite the key file is always beside the \
                 database ({})",
                crate::keys::key_path_for(&path).display()
            ),
        }
    }

    /// The PostgreSQL URL, if the data lives there.
    pub fn postgres_url(&self) -> Option<&str> {
        match self {
            DbLocation::Sqlite(_) => None,
            DbLocation::Postgres { url, .. } => Some(url),
        }
    }

    /// The file whose key encrypts and signs (see [`crate::keys`]): beside a SQLite file;
    /// for PostgreSQL, `--key-file`, else `atrium.key` in the data directory, which every
    /// replica must share (the same file, copied to each).
    pub fn key_path(&self) -> PathBuf {
        match self {
            DbLocation::Sqlite(path) => crate::keys::key_path_for(path),
            DbLocation::Postgres {
                key_file: Some(key),
                ..
            } => key.clone(),
            DbLocation::Postgres { key_file: None, .. } => {
                crate::keys::key_path_for(&default_db_path())
            }
        }
    }

    /// The SQLite path, or the path the key file goes beside ([`Settings::db_path`]).
    pub fn settings_path(&self) -> PathBuf {
        match self {
            DbLocation::Sqlite(path) => path.clone(),
            DbLocation::Postgres { .. } => default_db_path(),
        }
    }
}

impl std::fmt::Display for DbLocation {
    /// The path, or the URL without its password.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DbLocation::Sqlite(path) => write!(f, "{}", path.display()),
            DbLocation::Postgres { url, .. } => match url::Url::parse(url) {
                Ok(mut u) => {
                    if u.password().is_some() {
                        let _ = u.set_password(Some("***"));
                    }
                    write!(f, "{u}")
                }
                Err(_) => f.write_str("postgres://(unparsable URL)"),
            },
        }
    }
}

/// The default database path: `$XDG_DATA_HOME/atrium/atrium.db`, else
/// `~/.local/share/atrium/atrium.db`, else `./atrium.db`.
pub fn default_db_path() -> PathBuf {
    data_dir()
        .map(|d| d.join("atrium.db"))
        .unwrap_or_else(|| PathBuf::from("atrium.db"))
}

fn data_dir() -> Option<PathBuf> {
    if let Some(x) = std::env::var_os("XDG_DATA_HOME").filter(|v| !v.is_empty()) {
        return Some(Path::new(&x).join("atrium"));
    }
    std::env::var_os("HOME")
        .filter(|v| !v.is_empty())
        .map(|h| Path::new(&h).join(".local/share/atrium"))
}
