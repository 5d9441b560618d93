//! The `atrium-server` command line: the global options and [`run`], which dispatches to one
//! module per subcommand group.
//!
//! - [`serve`]: `serve` and its settings;
//! - [`user`], [`company`], [`app`]: `user add`, `company add|invite`, `app add`;
//! - [`backup`]: `backup` and `restore`;
//! - [`keys`]: `keys rotate`, a new signing-key version;
//! - [`db`]: `db copy`, a SQLite deployment copied into PostgreSQL;
//! - [`demo`]: `demo`, the seeded data of the local demo;
//! - [`example_config`]: `example-config`, the commented configuration file.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use clap::{Parser, Subcommand};

use crate::config::{default_db_path, DbLocation, FileConfig};
use crate::keys::ServerKeys;
use crate::store::{Backend, Store};
use crate::webhooks::egress::Egress;

pub mod app;
pub mod backup;
pub mod company;
pub mod db;
pub mod demo;
pub mod example_config;
pub mod keys;
pub mod serve;
pub mod user;

pub use app::{AppCmd, AppTypeArg, Method};
pub use company::{CompanyCmd, InviteRole};
pub use db::DbCmd;
pub use demo::DEMO_PASSWORD;
pub use keys::KeysCmd;
pub use serve::ServeArgs;
pub use user::UserCmd;

/// The Atrium platform server: OAuth 2.0 provider, app registry and resource API.
#[derive(Debug, Parser)]
#[command(name = "atrium-server", version, about, long_about = None)]
pub struct Cli {
    /// Where the data lives: a SQLite database file, or a PostgreSQL URL
    /// (postgres://USER:PASSWORD@HOST:PORT/DATABASE; add ?options=-csearch_path%3DSCHEMA for a
    /// schema other than the user's default) for several replicas on one database. With
    /// PostgreSQL the key file is atrium.key in $XDG_DATA_HOME/atrium/, and every replica
    /// needs a copy of the same file (or see --key-file) [default:
    /// $XDG_DATA_HOME/atrium/atrium.db]
    #[arg(long, global = true, env = "ATRIUM_DB", value_name = "PATH|URL")]
    pub db: Option<PathBuf>,

    /// With PostgreSQL: the key file (webhook secrets, launch tokens, the wrapping of the
    /// signing keys and the sign-in back-off's keyed hashes derive from it), created (mode
    /// 0600) if missing. Every replica must read
    /// the same key: give each one this path on shared storage, or a copy of the file. With
    /// SQLite the key file is always beside the database (PATH.key) [default:
    /// $XDG_DATA_HOME/atrium/atrium.key]
    #[arg(long, global = true, env = "ATRIUM_KEY_FILE", value_name = "FILE")]
    pub key_file: Option<PathBuf>,

    /// TOML configuration file (keys: addr, db, public_url, access_token_ttl_secs,
    /// refresh_token_ttl_secs, implicit_token_ttl_secs, refresh_reuse_interval_secs,
    /// header_read_timeout_secs, idle_timeout_secs, body_read_timeout_secs, max_connections, login_concurrency,
    /// login_queue_timeout_secs, login_user_failures, login_ip_failures, login_max_backoff_secs,
    /// login_throttle_entries, max_apps_per_user, max_companies_per_user,
    /// max_notifications_per_install_hour, notification_retention_secs,
    /// expired_retention_secs, delivered_retention_secs, prune_interval_secs,
    /// allow_private_webhooks, webhook_max_in_flight, webhook_max_per_destination,
    /// webhook_timeout_secs, webhook_lease_secs, db_pool_size, key_file, tls_cert, tls_key,
    /// metrics_addr, log_format); flags and environment variables take precedence.
    #[arg(long, global = true, env = "ATRIUM_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// How log lines are written to stderr: `text`, or `json` (one object per line, for log
    /// shippers). Lines written while a request is handled carry its `request_id`, which the
    /// response also returns in `X-Request-Id` [default: text]
    #[arg(long, global = true, env = "ATRIUM_LOG_FORMAT", value_name = "FORMAT")]
    pub log_format: Option<crate::telemetry::LogFormat>,

    /// Let webhooks go to loopback, private and other non-public addresses, and use http on
    /// loopback. For development and the local demo only: otherwise any developer can make
    /// the server send requests into its own network. Off by default; applies to `serve`
    /// (sending) and to `app add` and `demo` (registering).
    #[arg(
        long,
        global = true,
        env = "ATRIUM_ALLOW_PRIVATE_WEBHOOKS",
        num_args = 0..=1,
        default_missing_value = "true",
        value_name = "BOOL",
        value_parser = clap::builder::BoolishValueParser::new()
    )]
    pub allow_private_webhooks: Option<bool>,

    #[command(subcommand)]
    pub command: Command,
}

// Parsed once per run: the size of the `serve` variant costs nothing worth a box.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP server until SIGINT or SIGTERM.
    Serve(ServeArgs),
    /// Create the database (SQLite) or the schema (PostgreSQL), or bring it up to date, then
    /// exit.
    Migrate,
    /// Manage users.
    #[command(subcommand)]
    User(UserCmd),
    /// Manage companies.
    #[command(subcommand)]
    Company(CompanyCmd),
    /// Manage apps (OAuth clients).
    #[command(subcommand)]
    App(AppCmd),
    /// Manage the keys that sign ID tokens and launch tokens.
    #[command(subcommand)]
    Keys(KeysCmd),
    /// Move between databases: `db copy` copies a SQLite deployment into PostgreSQL.
    #[command(subcommand)]
    Db(DbCmd),
    /// Copy the database and its key into one file while the server keeps serving (SQLite; for
    /// PostgreSQL use pg_dump).
    ///
    /// SQLite's online backup, one consistent snapshot. The file holds the server's master key:
    /// keep it as private as the key file. It is written readable by its owner only, and
    /// replaced only once complete.
    Backup {
        /// The backup file to write.
        #[arg(long, value_name = "FILE")]
        to: PathBuf,
    },
    /// Verify a backup and make it the database, with its key (stop the server first; SQLite).
    ///
    /// Checks SQLite's integrity, the schema version and the key before anything is replaced.
    /// Refuses while a process has the database open; what it replaces is kept beside it
    /// under a `.pre-restore-TIME` name.
    Restore {
        /// The backup file, as written by `backup`.
        #[arg(long, value_name = "FILE")]
        from: PathBuf,
    },
    /// Seed demo data (idempotent): user `demo`, company "Demo Company", App1 (TOKEN) and App2
    /// (CODE) pointing at the sample app. Prints the credentials as JSON; client secrets are
    /// rotated on every run, since only digests are stored. A sample app on loopback needs
    /// --allow-private-webhooks (here and for `serve`).
    Demo {
        /// Base URL of the sample app.
        #[arg(
            long,
            env = "ATRIUM_SAMPLE_APP_URL",
            default_value = "http://127.0.0.1:8010"
        )]
        sample_app_url: String,
    },
    /// Print a configuration file for --config that lists every setting, commented out, with
    /// its help and default. With --db, the file sets `db` to it.
    ExampleConfig,
}

/// Runs one command line.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    let db_flag = cli.db.clone();
    let file = match &cli.config {
        Some(path) => FileConfig::load(path),
        None => Ok(FileConfig::default()),
    };
    let format = cli
        .log_format
        .or(file.as_ref().ok().and_then(|f| f.log_format))
        .unwrap_or_default();
    // warp logs every 4xx at warn: refused requests are normal traffic for an OAuth server.
    crate::telemetry::init("info,warp=error", format);
    let file = file?;
    let key_file = cli.key_file.or(file.key_file.clone());
    let db = DbLocation::from_arg(cli.db.or(file.db.clone()).unwrap_or_else(default_db_path));
    // `db copy` has a target of its own (`--to`), which `--key-file` is about.
    let db = match &cli.command {
        Command::Db(_) | Command::ExampleConfig => db,
        _ => db.with_key_file(key_file.clone())?,
    };
    let egress = Egress {
        allow_private: cli
            .allow_private_webhooks
            .or(file.allow_private_webhooks)
            .unwrap_or(false),
    };
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    match cli.command {
        Command::Serve(args) => runtime.block_on(serve::serve(args, file, db, egress)),
        Command::Migrate => {
            runtime.block_on(Backend::open(&db))?;
            println!("database {db} is up to date");
            Ok(())
        }
        Command::Backup { to } => backup::run_backup(sqlite_only(&db, "backup")?, &to),
        Command::Restore { from } => backup::run_restore(sqlite_only(&db, "restore")?, &from),
        Command::User(cmd) => runtime.block_on(user::user(cmd, &db)),
        Command::Company(cmd) => runtime.block_on(company::company(cmd, &db)),
        Command::App(cmd) => runtime.block_on(app::app(cmd, &db, egress)),
        Command::Keys(cmd) => runtime.block_on(keys::keys(cmd, &db)),
        Command::Db(cmd) => runtime.block_on(db::db(cmd, key_file)),
        Command::Demo { sample_app_url } => {
            runtime.block_on(demo::demo(&sample_app_url, &db, egress))
        }
        // The file that configures everything else, with the --db flag's path if given.
        Command::ExampleConfig => {
            print!("{}", example_config::render(db_flag.as_deref()));
            Ok(())
        }
    }
}

pub(super) async fn open_store(db: &DbLocation) -> anyhow::Result<Arc<dyn Store>> {
    Ok(Backend::open(db).await?.store())
}

pub(super) fn open_keys(db: &DbLocation) -> anyhow::Result<ServerKeys> {
    Ok(ServerKeys::load_or_create(&db.key_path())?)
}

/// The SQLite file, for the commands that work on one; a clear refusal on PostgreSQL.
fn sqlite_only<'a>(db: &'a DbLocation, command: &str) -> anyhow::Result<&'a std::path::Path> {
    match db {
        DbLocation::Sqlite(path) => Ok(path),
        DbLocation::Postgres { .. } => anyhow::bail!(
            "`atrium-server {command}` copies a SQLite database; for PostgreSQL use pg_dump and \
             pg_restore (and keep a copy of the key file, {})",
            db.key_path().display()
        ),
    }
}

pub(super) async fn find_user(store: &Arc<dyn Store>, name: &str) -> anyhow::Result<i64> {
    Ok(store
        .user_by_username(name)
        .await?
        .with_context(|| format!("no user named {name:?}"))?
        .0
        .id)
}
