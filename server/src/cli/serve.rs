//! `atrium-server serve`: its flags, merged over the configuration file into [`Settings`].

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::bail;
use clap::Args;

use crate::config::{FileConfig, Settings};
use crate::webhooks::egress::Egress;

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on [default: 127.0.0.1:8000]
    #[arg(long, env = "ATRIUM_ADDR")]
    pub addr: Option<SocketAddr>,
    /// Public base URL, used as the OAuth issuer [default: http://ADDR, or https://ADDR with
    /// --tls-cert]
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
    /// Failed sign-ins from one client address before it must wait (IPv6: its /64, and its /48
    /// with 16 times as many) [default: 20]
    #[arg(long, env = "ATRIUM_LOGIN_IP_FAILURES", value_name = "N")]
    pub login_ip_failures: Option<u32>,
    /// Longest wait imposed after failed sign-ins, in seconds [default: 300]
    #[arg(long, env = "ATRIUM_LOGIN_MAX_BACKOFF", value_name = "SECS")]
    pub login_max_backoff: Option<f64>,
    /// Usernames, and client addresses, whose failures are remembered (each), in the database
    /// that replicas share; give every replica the same value [default: 100000]
    #[arg(long, env = "ATRIUM_LOGIN_THROTTLE_ENTRIES", value_name = "N")]
    pub login_throttle_entries: Option<usize>,
    /// Apps one developer may register through the API [default: 25]
    #[arg(long, env = "ATRIUM_MAX_APPS_PER_USER", value_name = "N")]
    pub max_apps_per_user: Option<u32>,
    /// Companies one user may create through the API [default: 10]
    #[arg(long, env = "ATRIUM_MAX_COMPANIES_PER_USER", value_name = "N")]
    pub max_companies_per_user: Option<u32>,
    /// Notifications one installed app may post to its users in an hour [default: 100]
    #[arg(
        long,
        env = "ATRIUM_MAX_NOTIFICATIONS_PER_INSTALL_HOUR",
        value_name = "N"
    )]
    pub max_notifications_per_install_hour: Option<u32>,
    /// Seconds apps' notifications to users are kept before pruning [default: 2592000, 30 days]
    #[arg(long, env = "ATRIUM_NOTIFICATION_RETENTION", value_name = "SECS")]
    pub notification_retention: Option<i64>,
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
    /// Seconds one install notification may take (connect, send, answer) before the attempt
    /// counts as failed and is retried later [default: 10]
    #[arg(long, env = "ATRIUM_WEBHOOK_TIMEOUT", value_name = "SECS")]
    pub webhook_timeout: Option<f64>,
    /// Seconds a replica holds the install notifications it claimed before another replica
    /// on the same PostgreSQL database may send them: how long the events of a replica that
    /// died mid-delivery wait. Never less than --webhook-timeout plus 5 s (a shorter value
    /// is raised to that), so a slow attempt is not sent twice [default: 60]
    #[arg(long, env = "ATRIUM_WEBHOOK_LEASE", value_name = "SECS")]
    pub webhook_lease: Option<f64>,
    /// Most connections this replica keeps to PostgreSQL (the connection that listens for the
    /// other replicas' invalidations comes on top). Keep the sum over all replicas below the
    /// server's max_connections. Ignored with SQLite [default: 16]
    #[arg(long, env = "ATRIUM_DB_POOL_SIZE", value_name = "N")]
    pub db_pool_size: Option<usize>,
    /// Serve https with this PEM certificate chain (leaf first); needs --tls-key. Both files
    /// are read again on SIGHUP, so a renewed certificate takes effect without a restart.
    /// With TLS, cookies are `__Host-` prefixed and `Secure`, and responses carry HSTS
    #[arg(
        long,
        env = "ATRIUM_TLS_CERT",
        value_name = "PEM",
        requires = "tls_key"
    )]
    pub tls_cert: Option<PathBuf>,
    /// The PEM private key (PKCS#8, PKCS#1 or SEC1) of --tls-cert
    #[arg(
        long,
        env = "ATRIUM_TLS_KEY",
        value_name = "PEM",
        requires = "tls_cert"
    )]
    pub tls_key: Option<PathBuf>,
    /// Serve Prometheus metrics at GET /metrics on this address, a listener of its own (the
    /// public one never serves them). Keep it on loopback or a private network: metrics show
    /// how busy the server is and how sign-ins and webhooks fare. [default: no metrics]
    #[arg(long, env = "ATRIUM_METRICS_ADDR", value_name = "ADDR")]
    pub metrics_addr: Option<SocketAddr>,
}

pub(super) async fn serve(
    args: ServeArgs,
    file: FileConfig,
    db: crate::config::DbLocation,
    egress: Egress,
) -> anyhow::Result<()> {
    let mut settings = Settings::new(db.settings_path());
    if let Some(url) = db.postgres_url() {
        settings.postgres = Some(url.to_string());
        settings.key_file = Some(db.key_path());
    }
    if let Some(n) = args.db_pool_size.or(file.db_pool_size) {
        settings.postgres_pool_size = at_least_one(n, "database pool size (--db-pool-size)")?;
    }
    settings.egress = egress;
    if let Some(v) = args.webhook_timeout.or(file.webhook_timeout_secs) {
        settings.webhook_policy.timeout = duration(v, "webhook timeout")?;
    }
    if let Some(v) = args.webhook_lease.or(file.webhook_lease_secs) {
        settings.webhook_policy.lease = duration(v, "webhook lease")?;
    }
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
    if let Some(n) = args
        .max_notifications_per_install_hour
        .or(file.max_notifications_per_install_hour)
    {
        settings.quotas.notifications_per_install_hour = n;
    }
    if let Some(s) = args
        .notification_retention
        .or(file.notification_retention_secs)
    {
        settings.retention.notifications_secs = not_negative(s, "notification retention")?;
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
    settings.tls = match (
        args.tls_cert.or(file.tls_cert),
        args.tls_key.or(file.tls_key),
    ) {
        (Some(cert), Some(key)) => Some(crate::tls::TlsFiles { cert, key }),
        (None, None) => None,
        _ => bail!("TLS needs both a certificate (--tls-cert) and its key (--tls-key)"),
    };
    settings.metrics_addr = args.metrics_addr.or(file.metrics_addr);
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
    tracing::info!(addr = %app.addr(), issuer = app.issuer(), %db, "atrium-server listening");
    if let Some(addr) = app.metrics_addr() {
        if addr.ip().is_loopback() {
            tracing::info!(%addr, "metrics at GET /metrics");
        } else {
            tracing::warn!(%addr, "metrics at GET /metrics on a non-loopback address: make sure only your monitoring can reach it");
        }
    }
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
