//! The `atrium-server` command line.

use std::io::Read;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{bail, Context};
use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::apps::{register, AppRegistration};
use crate::config::{default_db_path, FileConfig, Settings};
use crate::db::Db;
use crate::domain::password;
use crate::domain::redirect::ApplicationType;
use crate::domain::secret::{Kind, Secret};
use crate::domain::text;
use crate::keys::{key_path_for, ServerKeys};
use crate::store::sqlite::SqliteStore;
use crate::store::{NewUser, Store, StoreError};
use crate::webhooks::egress::Egress;

/// The Atrium platform server: OAuth 2.0 provider, app registry and resource API.
#[derive(Debug, Parser)]
#[command(name = "atrium-server", version, about, long_about = None)]
pub struct Cli {
    /// SQLite database file [default: $XDG_DATA_HOME/atrium/atrium.db]
    #[arg(long, global = true, env = "ATRIUM_DB", value_name = "PATH")]
    pub db: Option<PathBuf>,

    /// TOML configuration file (keys: addr, db, public_url, access_token_ttl_secs,
    /// refresh_token_ttl_secs, implicit_token_ttl_secs, refresh_reuse_interval_secs,
    /// header_read_timeout_secs, idle_timeout_secs, body_read_timeout_secs, max_connections, login_concurrency,
    /// login_queue_timeout_secs, login_user_failures, login_ip_failures, login_max_backoff_secs,
    /// login_throttle_entries, max_apps_per_user, max_companies_per_user,
    /// expired_retention_secs, delivered_retention_secs, prune_interval_secs,
    /// allow_private_webhooks, webhook_max_in_flight, webhook_max_per_destination); flags and
    /// environment variables take precedence.
    #[arg(long, global = true, env = "ATRIUM_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,

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

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP server until SIGINT or SIGTERM.
    Serve(ServeArgs),
    /// Create the database or bring its schema up to date, then exit.
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
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on [default: 127.0.0.1:8000]
    #[arg(long, env = "ATRIUM_ADDR")]
    pub addr: Option<SocketAddr>,
    /// Public base URL, used as the OAuth issuer [default: http://ADDR]
    #[arg(long, env = "ATRIUM_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// Access-token lifetime in seconds [default: 3600]
    #[arg(long, env = "ATRIUM_ACCESS_TOKEN_TTL")]
    pub access_token_ttl: Option<i64>,
    /// Refresh-token lifetime in seconds [default: 2592000, 30 days]
    #[arg(long, env = "ATRIUM_REFRESH_TOKEN_TTL")]
    pub refresh_token_ttl: Option<i64>,
    /// Lifetime in seconds of access tokens issued by the TOKEN (implicit) method, which puts
    /// them in a URL fragment and never comes with a refresh token; kept short (RFC 9700
    /// §2.1.2 discourages the method) [default: 600]
    #[arg(long, env = "ATRIUM_IMPLICIT_TOKEN_TTL")]
    pub implicit_token_ttl: Option<i64>,
    /// Seconds after a refresh during which a retry with the old refresh token, by the same
    /// client, gets the same new tokens back (for answers lost to a crash or a dropped
    /// connection), as long as the new refresh token is unused; 0 disables it, so that any
    /// reuse revokes the grant. At most 60 [default: 10]
    #[arg(long, env = "ATRIUM_REFRESH_REUSE_INTERVAL", value_name = "SECS")]
    pub refresh_reuse_interval: Option<i64>,
    /// Seconds a connection may take to send a complete request head: from its accept, or
    /// from the first byte of a later head on a kept-alive connection [default: 10]
    #[arg(long, env = "ATRIUM_HEADER_READ_TIMEOUT", value_name = "SECS")]
    pub header_read_timeout: Option<f64>,
    /// Seconds a kept-alive connection may stay silent between a response and its next
    /// request; keep it longer than a reverse proxy's upstream keep-alive, so the proxy
    /// closes first [default: 75]
    #[arg(long, env = "ATRIUM_IDLE_TIMEOUT", value_name = "SECS")]
    pub idle_timeout: Option<f64>,
    /// Seconds a stalled request body may take to arrive in full [default: 30]
    #[arg(long, env = "ATRIUM_BODY_READ_TIMEOUT", value_name = "SECS")]
    pub body_read_timeout: Option<f64>,
    /// Connections served at once; lowered to fit the descriptor limit. Past it, a small
    /// reserve answers only /healthz [default: 1024]
    #[arg(long, env = "ATRIUM_MAX_CONNECTIONS", value_name = "N")]
    pub max_connections: Option<usize>,
    /// Password checks (argon2id, 19 MiB each) running at once; one CPU is left to serving
    /// other requests [default: number of CPUs - 1, at least 1]
    #[arg(long, env = "ATRIUM_LOGIN_CONCURRENCY", value_name = "N")]
    pub login_concurrency: Option<usize>,
    /// Seconds a sign-in waits for a free password check before it gets 503 [default: 5]
    #[arg(long, env = "ATRIUM_LOGIN_QUEUE_TIMEOUT", value_name = "SECS")]
    pub login_queue_timeout: Option<f64>,
    /// Failed sign-ins of one username before it must wait (1 s, doubling) [default: 5]
    #[arg(long, env = "ATRIUM_LOGIN_USER_FAILURES", value_name = "N")]
    pub login_user_failures: Option<u32>,
    /// Failed sign-ins from one client address (IPv6: its /64) before it must wait [default: 20]
    #[arg(long, env = "ATRIUM_LOGIN_IP_FAILURES", value_name = "N")]
    pub login_ip_failures: Option<u32>,
    /// Longest wait imposed after failed sign-ins, in seconds [default: 300]
    #[arg(long, env = "ATRIUM_LOGIN_MAX_BACKOFF", value_name = "SECS")]
    pub login_max_backoff: Option<f64>,
    /// Usernames, and client addresses, whose failures are remembered (each) [default: 100000]
    #[arg(long, env = "ATRIUM_LOGIN_THROTTLE_ENTRIES", value_name = "N")]
    pub login_throttle_entries: Option<usize>,
    /// Apps one developer may register through the API [default: 25]
    #[arg(long, env = "ATRIUM_MAX_APPS_PER_USER", value_name = "N")]
    pub max_apps_per_user: Option<u32>,
    /// Companies one user may create through the API [default: 10]
    #[arg(long, env = "ATRIUM_MAX_COMPANIES_PER_USER", value_name = "N")]
    pub max_companies_per_user: Option<u32>,
    /// Seconds expired sessions, tokens and codes are kept before pruning [default: 86400]
    #[arg(long, env = "ATRIUM_EXPIRED_RETENTION", value_name = "SECS")]
    pub expired_retention: Option<i64>,
    /// Seconds delivered notifications are kept before pruning [default: 604800, 7 days]
    #[arg(long, env = "ATRIUM_DELIVERED_RETENTION", value_name = "SECS")]
    pub delivered_retention: Option<i64>,
    /// Seconds between two pruning passes (one also runs at start) [default: 3600]
    #[arg(long, env = "ATRIUM_PRUNE_INTERVAL", value_name = "SECS")]
    pub prune_interval: Option<i64>,
    /// Install notifications sent at once, over all apps [default: 32]
    #[arg(long, env = "ATRIUM_WEBHOOK_MAX_IN_FLIGHT", value_name = "N")]
    pub webhook_max_in_flight: Option<usize>,
    /// Install notifications sent at once to one app, so a slow endpoint holds only its own
    /// slots [default: 4]
    #[arg(long, env = "ATRIUM_WEBHOOK_MAX_PER_DESTINATION", value_name = "N")]
    pub webhook_max_per_destination: Option<usize>,
}

#[derive(Debug, Subcommand)]
pub enum UserCmd {
    /// Add a user; the password is read from standard input.
    Add {
        /// Username (letters, digits, '.', '_' and '-').
        name: String,
        /// Email address.
        #[arg(long)]
        email: Option<String>,
        /// Display name [default: the username]
        #[arg(long)]
        display_name: Option<String>,
        /// Read the password from standard input (required: passwords never go in argv).
        #[arg(long, required = true)]
        password_stdin: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum CompanyCmd {
    /// Add a company owned by a user; prints its id.
    Add {
        name: String,
        /// Username of the owner.
        #[arg(long)]
        owner: String,
    },
    /// Invite a user into a company; they join when they accept it in the desktop app.
    /// Expires after 14 days.
    Invite {
        /// The company's id (printed by `company add`).
        company_id: i64,
        /// Username of the user to invite.
        username: String,
        /// The role they get on accepting.
        #[arg(long, value_enum, default_value = "member")]
        role: InviteRole,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum InviteRole {
    Member,
    Owner,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Method {
    Code,
    Token,
    Both,
}

#[derive(Debug, Subcommand)]
pub enum AppCmd {
    /// Register an app; prints {"client_id", "client_secret", "webhook_secret"} as JSON
    /// (no client secret for --public).
    Add {
        /// Username of the developer who owns the app.
        #[arg(long)]
        owner: String,
        #[arg(long)]
        name: String,
        #[arg(long, default_value = "")]
        description: String,
        /// Redirect URI (repeatable): https; http on 127.0.0.1 or [::1]; for native apps, a
        /// reverse-domain private-use scheme (com.example.app:/callback).
        #[arg(long = "redirect-uri", required = true)]
        redirect_uris: Vec<String>,
        /// The app's page embedded in the dashboard.
        #[arg(long)]
        iframe_url: Option<String>,
        /// Where install notifications go: https on a public address (http on loopback and
        /// private addresses only with --allow-private-webhooks).
        #[arg(long)]
        webhook_url: Option<String>,
        /// Where the dashboard sends a user who installs the app; the app then starts the
        /// authorization request itself. Required for --public apps using CODE.
        #[arg(long)]
        install_url: Option<String>,
        /// `web` (a server or browser app) or `native` (an app on the user's device, RFC 8252).
        #[arg(long, value_enum, default_value = "web")]
        application_type: AppTypeArg,
        /// Scopes the app may ask for, space-separated.
        #[arg(long, default_value = "profile")]
        scopes: String,
        #[arg(long, value_enum, default_value = "code")]
        method: Method,
        /// A public client (no secret; PKCE required).
        #[arg(long)]
        public: bool,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum AppTypeArg {
    Web,
    Native,
}

/// Runs one command line.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    // warp logs every 4xx at warn: refused requests are normal traffic for an OAuth server.
    crate::telemetry::init("info,warp=error");
    let file = match &cli.config {
        Some(path) => FileConfig::load(path)?,
        None => FileConfig::default(),
    };
    let db_path = cli.db.or(file.db.clone()).unwrap_or_else(default_db_path);
    let egress = Egress {
        allow_private: cli
            .allow_private_webhooks
            .or(file.allow_private_webhooks)
            .unwrap_or(false),
    };
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    match cli.command {
        Command::Serve(args) => runtime.block_on(serve(args, file, db_path, egress)),
        Command::Migrate => {
            Db::open(&db_path)?;
            println!("database {} is up to date", db_path.display());
            Ok(())
        }
        Command::User(cmd) => runtime.block_on(user(cmd, &db_path)),
        Command::Company(cmd) => runtime.block_on(company(cmd, &db_path)),
        Command::App(cmd) => runtime.block_on(app(cmd, &db_path, egress)),
        Command::Demo { sample_app_url } => {
            runtime.block_on(demo(&sample_app_url, &db_path, egress))
        }
    }
}

async fn serve(
    args: ServeArgs,
    file: FileConfig,
    db_path: PathBuf,
    egress: Egress,
) -> anyhow::Result<()> {
    let mut settings = Settings::new(db_path);
    settings.egress = egress;
    if let Some(n) = args.webhook_max_in_flight.or(file.webhook_max_in_flight) {
        settings.webhook_policy.max_in_flight =
            at_least_one(n, "webhook concurrency (--webhook-max-in-flight)")?;
    }
    if let Some(n) = args
        .webhook_max_per_destination
        .or(file.webhook_max_per_destination)
    {
        settings.webhook_policy.max_per_destination = at_least_one(
            n,
            "per-app webhook concurrency (--webhook-max-per-destination)",
        )?;
    }
    if let Some(addr) = args.addr.or(file.addr) {
        settings.addr = addr;
    }
    settings.public_url = args.public_url.or(file.public_url);
    if let Some(ttl) = args.access_token_ttl.or(file.access_token_ttl_secs) {
        settings.access_ttl = positive(ttl, "access token lifetime")?;
    }
    if let Some(ttl) = args.refresh_token_ttl.or(file.refresh_token_ttl_secs) {
        settings.refresh_ttl = positive(ttl, "refresh token lifetime")?;
    }
    if let Some(ttl) = args.implicit_token_ttl.or(file.implicit_token_ttl_secs) {
        settings.implicit_ttl = positive(ttl, "implicit access token lifetime")?;
    }
    if let Some(secs) = args
        .refresh_reuse_interval
        .or(file.refresh_reuse_interval_secs)
    {
        settings.refresh_reuse_interval = reuse_interval(secs)?;
    }
    if let Some(n) = args.max_apps_per_user.or(file.max_apps_per_user) {
        settings.quotas.apps_per_user = n;
    }
    if let Some(n) = args.max_companies_per_user.or(file.max_companies_per_user) {
        settings.quotas.companies_per_user = n;
    }
    if let Some(s) = args.expired_retention.or(file.expired_retention_secs) {
        settings.retention.expired_secs = not_negative(s, "expired retention")?;
    }
    if let Some(s) = args.delivered_retention.or(file.delivered_retention_secs) {
        settings.retention.delivered_secs = not_negative(s, "delivered retention")?;
    }
    if let Some(s) = args.prune_interval.or(file.prune_interval_secs) {
        settings.retention.interval =
            std::time::Duration::from_secs(positive(s, "prune interval")? as u64);
    }
    let c = &mut settings.connections;
    if let Some(v) = args.header_read_timeout.or(file.header_read_timeout_secs) {
        c.header_read_timeout = duration(v, "header read timeout")?;
    }
    if let Some(v) = args.idle_timeout.or(file.idle_timeout_secs) {
        c.idle_timeout = duration(v, "idle timeout")?;
    }
    if let Some(v) = args.body_read_timeout.or(file.body_read_timeout_secs) {
        c.body_read_timeout = duration(v, "body read timeout")?;
    }
    if let Some(v) = args.max_connections.or(file.max_connections) {
        c.max_connections = at_least_one(v, "connection cap")?;
    }
    let l = &mut settings.login;
    if let Some(v) = args.login_concurrency.or(file.login_concurrency) {
        l.concurrency = at_least_one(v, "login concurrency")?;
    }
    if let Some(v) = args.login_queue_timeout.or(file.login_queue_timeout_secs) {
        l.queue_timeout = duration(v, "login queue timeout")?;
    }
    if let Some(v) = args.login_user_failures.or(file.login_user_failures) {
        l.user_free_failures = v;
    }
    if let Some(v) = args.login_ip_failures.or(file.login_ip_failures) {
        l.ip_free_failures = v;
    }
    if let Some(v) = args.login_max_backoff.or(file.login_max_backoff_secs) {
        l.max_backoff = duration(v, "longest login back-off")?;
    }
    if let Some(v) = args.login_throttle_entries.or(file.login_throttle_entries) {
        l.capacity = at_least_one(v, "login throttle size")?;
    }
    match crate::serve::raise_fd_limit() {
        Some((soft, hard)) => {
            tracing::info!(
                soft,
                hard,
                "descriptor limit (soft raised to the hard limit)"
            )
        }
        None => tracing::info!("no descriptor limit on this platform"),
    }
    let app = crate::startup::Application::build(&settings).await?;
    if egress.allow_private {
        tracing::warn!("webhooks may go to private and loopback addresses (--allow-private-webhooks): for development only");
    }
    tracing::info!(addr = %app.addr(), issuer = app.issuer(), db = %settings.db_path.display(), "atrium-server listening");
    app.run_until(crate::startup::shutdown_signal()).await;
    Ok(())
}

fn positive(v: i64, what: &str) -> anyhow::Result<i64> {
    if v <= 0 {
        bail!("the {what} must be a positive number of seconds");
    }
    Ok(v)
}

fn reuse_interval(secs: i64) -> anyhow::Result<i64> {
    let max = crate::oauth::OAuthConfig::MAX_REFRESH_REUSE_INTERVAL;
    if !(0..=max).contains(&secs) {
        bail!("the refresh reuse interval must be between 0 (off) and {max} seconds");
    }
    Ok(secs)
}

fn not_negative(v: i64, what: &str) -> anyhow::Result<i64> {
    if v < 0 {
        bail!("the {what} must be zero or a positive number of seconds");
    }
    Ok(v)
}

/// A positive number of seconds, at most a day.
fn duration(secs: f64, what: &str) -> anyhow::Result<std::time::Duration> {
    if !(secs > 0.0 && secs <= 86_400.0) {
        bail!("the {what} must be a number of seconds between 0 and 86400");
    }
    Ok(std::time::Duration::from_secs_f64(secs))
}

fn at_least_one(v: usize, what: &str) -> anyhow::Result<usize> {
    if v == 0 {
        bail!("the {what} must be at least 1");
    }
    Ok(v)
}

fn open_store(db_path: &std::path::Path) -> anyhow::Result<Arc<dyn Store>> {
    Ok(Arc::new(SqliteStore::new(Db::open(db_path)?)))
}

fn open_keys(db_path: &std::path::Path) -> anyhow::Result<ServerKeys> {
    Ok(ServerKeys::load_or_create(&key_path_for(db_path))?)
}

async fn user(cmd: UserCmd, db_path: &std::path::Path) -> anyhow::Result<()> {
    let UserCmd::Add {
        name,
        email,
        display_name,
        password_stdin: _,
    } = cmd;
    let name = text::username(&name).map_err(|e| {
        anyhow::anyhow!(
            "invalid username {name:?}: {e} (use 1-64 letters, digits, '.', '_' or '-')"
        )
    })?;
    let email = email.as_deref().map(text::email).transpose()?;
    let display_name = text::display_name(display_name.as_deref().unwrap_or(&name))?;
    let mut input = String::new();
    std::io::stdin()
        .read_to_string(&mut input)
        .context("cannot read the password from standard input")?;
    let pw = input.trim_end_matches(['\r', '\n']);
    if pw.len() < 8 {
        bail!("the password must have at least 8 characters");
    }
    let store = open_store(db_path)?;
    let hash = password::hash(pw);
    let id = store
        .create_user(NewUser {
            display_name,
            username: name.clone(),
            email,
            password_hash: hash,
        })
        .await
        .map_err(|e| match e {
            StoreError::Conflict(_) => anyhow::anyhow!("user {name:?} already exists"),
            e => e.into(),
        })?;
    println!("{}", serde_json::json!({ "id": id, "username": name }));
    Ok(())
}

async fn find_user(store: &Arc<dyn Store>, name: &str) -> anyhow::Result<i64> {
    Ok(store
        .user_by_username(name)
        .await?
        .with_context(|| format!("no user named {name:?}"))?
        .0
        .id)
}

async fn company(cmd: CompanyCmd, db_path: &std::path::Path) -> anyhow::Result<()> {
    let store = open_store(db_path)?;
    match cmd {
        CompanyCmd::Add { name, owner } => {
            let name = text::company_name(&name)?;
            let owner = find_user(&store, &owner).await?;
            // The operator is not bound by the users' quotas.
            let id = store.create_company(&name, owner, None).await?;
            println!("{}", serde_json::json!({ "id": id, "name": name }));
        }
        CompanyCmd::Invite {
            company_id,
            username,
            role,
        } => {
            use crate::domain::invitation::{INVITATION_TTL, MAX_PENDING_PER_COMPANY};
            use crate::store::{Invited, NewInvitation, Role};
            // The operator may know who exists: check, to catch typos.
            find_user(&store, &username).await?;
            if store.company(company_id).await?.is_none() {
                bail!("no company with id {company_id}");
            }
            let role = match role {
                InviteRole::Member => Role::Member,
                InviteRole::Owner => Role::Owner,
            };
            let at = crate::domain::now();
            let invite = NewInvitation {
                company: company_id,
                username: username.clone(),
                role,
                invited_by: None,
                expires_at: at + INVITATION_TTL,
            };
            let outcome = store.invite(invite, at, MAX_PENDING_PER_COMPANY).await?;
            match outcome {
                Invited::Sent => println!(
                    "{}",
                    serde_json::json!({
                        "company_id": company_id,
                        "username": username,
                        "role": role.as_str(),
                        "expires_at": at + INVITATION_TTL,
                    })
                ),
                Invited::AlreadyMember => bail!("{username:?} is already a member"),
                Invited::TooMany => {
                    bail!("the company already has {MAX_PENDING_PER_COMPANY} pending invitations")
                }
            }
        }
    }
    Ok(())
}

async fn app(cmd: AppCmd, db_path: &std::path::Path, egress: Egress) -> anyhow::Result<()> {
    let AppCmd::Add {
        owner,
        name,
        description,
        redirect_uris,
        iframe_url,
        webhook_url,
        install_url,
        application_type,
        scopes,
        method,
        public,
    } = cmd;
    let store = open_store(db_path)?;
    let developer = find_user(&store, &owner).await?;
    let (code, token) = match method {
        Method::Code => (true, false),
        Method::Token => (false, true),
        Method::Both => (true, true),
    };
    let reg = register(
        developer,
        AppRegistration {
            name,
            description,
            redirect_uris,
            iframe_url,
            webhook_url,
            install_url,
            scopes,
            allow_code: code,
            allow_token: token,
            public,
            application_type: match application_type {
                AppTypeArg::Web => ApplicationType::Web,
                AppTypeArg::Native => ApplicationType::Native,
            },
        },
        egress,
    )?;
    let client_id = reg.app.client_id.clone();
    store.create_app(reg.app, None).await?;
    let mut out = serde_json::json!({ "client_id": client_id });
    if let Some(s) = &reg.client_secret {
        out["client_secret"] = s.expose().into();
    }
    out["webhook_secret"] = open_keys(db_path)?.webhook_secret(&client_id, 1).into();
    println!("{out}");
    Ok(())
}

/// The demo user's password (demo data for a loopback demo, printed by `demo`).
pub const DEMO_PASSWORD: &str = "atrium-demo";

async fn demo(
    sample_app_url: &str,
    db_path: &std::path::Path,
    egress: Egress,
) -> anyhow::Result<()> {
    let base = sample_app_url.trim_end_matches('/');
    let store = open_store(db_path)?;
    let keys = open_keys(db_path)?;
    let user_id = match store.user_by_username("demo").await? {
        Some((u, _)) => u.id,
        None => {
            store
                .create_user(NewUser {
                    username: "demo".into(),
                    email: Some("demo@atrium.invalid".into()),
                    display_name: "Demo User".into(),
                    password_hash: password::hash(DEMO_PASSWORD),
                })
                .await?
        }
    };
    let memberships = store.memberships(user_id).await?;
    let company_id = match memberships
        .iter()
        .find(|m| m.company.name == "Demo Company")
    {
        Some(m) => m.company.id,
        None => store.create_company("Demo Company", user_id, None).await?,
    };
    let mut apps = serde_json::Map::new();
    for (label, method, public) in [("App1", "token", true), ("App2", "code", false)] {
        let client_id = format!("demo-{}", label.to_lowercase());
        let path = label.to_lowercase();
        let secret = (!public).then(|| Secret::generate(Kind::ClientSecret));
        if store.client(&client_id).await?.is_some() {
            store
                .set_client_secret(&client_id, secret.as_ref().map(Secret::digest))
                .await?;
        } else {
            let mut reg = register(
                user_id,
                AppRegistration {
                    name: label.into(),
                    description: format!(
                        "The sample app's {label}, using the {} method",
                        method.to_uppercase()
                    ),
                    redirect_uris: vec![format!("{base}/{path}/callback")],
                    iframe_url: Some(format!("{base}/{path}/")),
                    webhook_url: Some(format!("{base}/webhook")),
                    scopes: "profile email company company.members".into(),
                    allow_code: method == "code",
                    allow_token: method == "token",
                    public,
                    ..AppRegistration::default()
                },
                egress,
            )?;
            reg.app.client_id = client_id.clone();
            reg.app.secret_digest = secret.as_ref().map(Secret::digest);
            store.create_app(reg.app, None).await?;
        }
        let version = store
            .client(&client_id)
            .await?
            .map_or(1, |c| c.webhook_version);
        let mut entry = serde_json::json!({
            "client_id": client_id,
            "method": method,
            "webhook_secret": keys.webhook_secret(&client_id, version),
        });
        if let Some(s) = &secret {
            entry["client_secret"] = s.expose().into();
        }
        apps.insert(label.to_string(), entry);
    }
    println!(
        "{}",
        serde_json::json!({
            "username": "demo",
            "password": DEMO_PASSWORD,
            "company_id": company_id,
            "apps": apps,
        })
    );
    Ok(())
}
