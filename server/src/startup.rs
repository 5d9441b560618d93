//! Building and running the server: bind first (so tests can ask for port 0 and learn the port),
//! then serve until a shutdown signal.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use tokio::net::TcpListener;

use crate::config::DbLocation;
use crate::config::Settings;
use crate::db::Db;
use crate::keys::{key_path_for, ServerKeys};
use crate::oauth::OAuthConfig;
use crate::platform::Platform;
use crate::routes::{AppState, State};
use crate::store::Backend;

/// A bound, ready-to-run server.
pub struct Application {
    listener: TcpListener,
    addr: SocketAddr,
    state: AppState,
    webhook_policy: crate::webhooks::Policy,
    connections: crate::serve::Limits,
    retention: crate::prune::Retention,
    /// The certificates (reloaded on SIGHUP) and the acceptor that answers with them.
    tls: Option<(Arc<crate::tls::Certificates>, tokio_rustls::TlsAcceptor)>,
    /// The listener of `GET /metrics`, when asked for.
    metrics_listener: Option<TcpListener>,
}

impl Application {
    /// Opens the database (running migrations) and binds the listening socket.
    pub async fn build(settings: &Settings) -> anyhow::Result<Application> {
        let location = match &settings.postgres {
            Some(url) => DbLocation::Postgres {
                url: url.clone(),
                key_file: settings.key_file.clone(),
            },
            None => DbLocation::Sqlite(settings.db_path.clone()),
        };
        let backend = Backend::open_with(&location, settings.postgres_pool_size).await?;
        let listener = TcpListener::bind(settings.addr)
            .await
            .with_context(|| format!("cannot listen on {}", settings.addr))?;
        let addr = listener.local_addr()?;
        let metrics_listener = match settings.metrics_addr {
            Some(at) => Some(
                TcpListener::bind(at)
                    .await
                    .with_context(|| format!("cannot listen on {at} for metrics"))?,
            ),
            None => None,
        };
        let metrics = crate::metrics::Metrics::new(&crate::routes::route_list())
            .context("cannot set up the metrics")?;
        let tls = match &settings.tls {
            Some(files) => {
                let certs = crate::tls::Certificates::load(files.clone())?;
                let acceptor = certs.acceptor()?;
                Some((certs, acceptor))
            }
            None => None,
        };
        let scheme = if tls.is_some() { "https" } else { "http" };
        let issuer = settings
            .public_url
            .clone()
            .unwrap_or_else(|| format!("{scheme}://{addr}"));
        let mut config = OAuthConfig::new(&issuer);
        config.access_ttl = settings.access_ttl;
        config.refresh_ttl = settings.refresh_ttl;
        config.implicit_ttl = settings.implicit_ttl;
        config.refresh_reuse_interval = settings.refresh_reuse_interval;
        let key_path = match &settings.key_file {
            Some(path) => path.clone(),
            None => key_path_for(&settings.db_path),
        };
        let keys = ServerKeys::load_or_create(&key_path)?;
        let store = backend.store();
        // Loaded once: the RSA keys are unwrapped and parsed here, never per request.
        let signing =
            crate::jose::load_or_init(store.as_ref(), keys.master(), crate::domain::now()).await?;
        let keys = Arc::new(keys.with_signing(signing));
        // The back-off counts in the store, keyed with the key file's material: shared by
        // every replica on the same database.
        let login =
            crate::throttle::LoginGuard::new(&settings.login, &metrics, store.clone(), &keys);
        let mut platform = Platform::new(store, config, keys);
        // On SQLite this process is the only one that posts, and rings its streams' bell.
        let poll = match &backend {
            Backend::Sqlite(_) => crate::services::inbox_hub::POLL_ALONE,
            Backend::Postgres(_) => crate::services::inbox_hub::POLL_SHARED,
        };
        platform.inbox = Arc::new(crate::services::inbox_hub::InboxHub::new(poll));
        let state = AppState::new(State {
            platform,
            // Served over TLS, or behind a proxy that terminates it for an https issuer.
            secure_cookies: tls.is_some() || issuer.starts_with("https://"),
            quotas: settings.quotas,
            egress: settings.egress,
            db: backend,
            login,
            metrics,
        });
        Ok(Application {
            listener,
            addr,
            state,
            webhook_policy: settings.webhook_policy.clone(),
            connections: settings.connections.clone(),
            retention: settings.retention.clone(),
            tls,
            metrics_listener,
        })
    }

    /// The address actually bound (with the real port when port 0 was asked for).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Where `GET /metrics` is served, if anywhere.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics_listener
            .as_ref()
            .and_then(|l| l.local_addr().ok())
    }

    /// The issuer identifier (public base URL).
    pub fn issuer(&self) -> &str {
        &self.state.platform.config.issuer
    }

    /// The SQLite database the server uses (`None` on PostgreSQL).
    pub fn db(&self) -> Option<&Db> {
        self.state.db.sqlite()
    }

    /// The store the server uses (the same one: its caches are the server's).
    pub fn store(&self) -> Arc<dyn crate::store::Store> {
        self.state.platform.store.clone()
    }

    /// Serves requests until `shutdown` resolves, then lets in-flight requests finish.
    pub async fn run_until(self, shutdown: impl Future<Output = ()> + Send + 'static) {
        let oauth = &self.state.platform;
        let worker = crate::webhooks::spawn(
            oauth.store.clone(),
            oauth.keys.clone(),
            oauth.outbox.clone(),
            self.webhook_policy.clone(),
            self.state.egress,
            self.state.metrics.webhook_deliveries.clone(),
        );
        let metrics = self.state.metrics.clone();
        let health = crate::routes::health_only(self.state.clone());
        let pruner = crate::prune::spawn(
            oauth.store.clone(),
            self.retention.clone(),
            metrics.pruned.clone(),
        );
        // One shutdown for both listeners: the main one's passes it on to the metrics one.
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let inbox = oauth.inbox.clone();
        let shutdown = async move {
            shutdown.await;
            // Event streams never finish by themselves: end them, or they hold up the stop.
            inbox.close();
            let _ = stop.send(true);
        };
        let metrics_server = self.metrics_listener.map(|listener| {
            let routes = crate::routes::metrics_only(self.state.clone());
            let limits = crate::serve::Limits {
                max_connections: 16,
                ..self.connections.clone()
            };
            let mut stopped = stopped.clone();
            AbortOnDrop(tokio::spawn(crate::serve::serve(
                listener,
                routes.clone(),
                routes,
                limits,
                None,
                metrics.clone(),
                async move {
                    let _ = stopped.wait_for(|s| *s).await;
                },
            )))
        });
        let routes = crate::routes::all(self.state);
        let (acceptor, certs) = match self.tls {
            Some((certs, acceptor)) => (Some(acceptor), Some(certs)),
            None => (None, None),
        };
        let reloader = crate::tls::reload_on_sighup(certs);
        crate::serve::serve(
            self.listener,
            routes,
            health,
            self.connections,
            acceptor,
            metrics,
            shutdown,
        )
        .await;
        if let Some(mut m) = metrics_server {
            let _ = (&mut m.0).await;
        }
        reloader.abort();
        worker.abort();
        pruner.abort();
    }
}

/// A task that ends with its owner (a server stopped by dropping `run_until` takes its
/// metrics listener with it).
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Resolves on SIGINT (Ctrl-C) or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutting down");
}
