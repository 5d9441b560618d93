//! Prometheus metrics, served in the text exposition format at `GET /metrics` on a listener
//! of their own (`serve --metrics-addr`), never on the public one.
//!
//! **Why a listener of its own.** Metrics tell an outsider how busy the server is, which
//! apps fail their webhooks and how often sign-ins fail; they are for the operator's
//! Prometheus, not for the clients of the API. On the public listener they would be public
//! the day someone forgets a proxy rule. So they are served only where the operator asks
//! (`--metrics-addr 127.0.0.1:9464`, or a private interface), and nowhere by default; the
//! server warns at start when that address is not a loopback one.
//!
//! **Why `prometheus` with a registry per server.** Each [`crate::startup::Application`]
//! owns its [`Metrics`], so two servers in one process (every test binary) never count into
//! each other. Handles are resolved once and shared by clone (an `Arc` each); a recording is
//! an atomic add.
//!
//! What is counted where:
//! - requests by route and status, with latency: [`http`], from [`crate::serve`];
//! - open connections: [`crate::serve`];
//! - tokens issued by grant type, and OAuth refusals by error code: the OAuth routes;
//! - sign-ins by outcome, and password checks queued: [`crate::throttle`];
//! - webhook deliveries by outcome: [`crate::webhooks`]; queue depth and the age of the
//!   oldest pending event: read from the store at each scrape;
//! - read-cache lookups, hits and misses: read from the store at each scrape;
//! - rows pruned, by kind: [`crate::prune`].

pub mod http;

use std::sync::Arc;

use prometheus::{IntCounter, IntCounterVec, IntGauge, Opts, Registry};

use crate::store::Store;
pub use http::{HttpMetrics, RouteIndex};

/// Every metric of one server.
pub struct Metrics {
    registry: Registry,
    pub http: HttpMetrics,
    /// Connections being served (the health reserve included).
    pub connections: IntGauge,
    /// Tokens issued, by `grant` (`authorization_code`, `refresh_token`, `client_credentials`,
    /// `implicit`).
    pub tokens_issued: IntCounterVec,
    /// OAuth error responses, by `endpoint` and `error` code (RFC 6749 §5.2 and friends).
    pub oauth_refusals: IntCounterVec,
    pub logins: Logins,
    /// Sign-ins waiting for a password check.
    pub password_checks_queued: IntGauge,
    /// Webhook delivery attempts, by `outcome`: `delivered`, `failed` (to be retried) or
    /// `abandoned`.
    pub webhook_deliveries: IntCounterVec,
    /// Rows removed by pruning, by `kind`.
    pub pruned: IntCounterVec,
    webhook_queue: IntGauge,
    webhook_oldest: IntGauge,
    cache_lookups: IntCounterVec,
    /// Serialises scrapes, which bring the store-read values up to date.
    scrape: tokio::sync::Mutex<()>,
}

/// Sign-ins by outcome.
#[derive(Clone)]
pub struct Logins {
    pub succeeded: IntCounter,
    pub failed: IntCounter,
    /// Refused by the back-off, or by a full password-check queue.
    pub throttled: IntCounter,
}

impl std::fmt::Debug for Logins {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Logins")
            .field("succeeded", &self.succeeded.get())
            .field("failed", &self.failed.get())
            .field("throttled", &self.throttled.get())
            .finish()
    }
}

impl Metrics {
    /// A registry with every metric, for the routes `(method, template)`.
    pub fn new(routes: &[(&'static str, &'static str)]) -> prometheus::Result<Arc<Metrics>> {
        let registry = Registry::new();
        let http = HttpMetrics::new(routes)?;
        for c in http.collectors() {
            registry.register(c)?;
        }
        let gauge = |name: &str, help: &str| -> prometheus::Result<IntGauge> {
            let g = IntGauge::new(name, help)?;
            registry.register(Box::new(g.clone()))?;
            Ok(g)
        };
        let counters = |name: &str, help: &str, labels: &[&str]| {
            let c = IntCounterVec::new(Opts::new(name, help), labels)?;
            registry.register(Box::new(c.clone()))?;
            prometheus::Result::Ok(c)
        };
        let logins = counters(
            "atrium_logins_total",
            "Sign-in attempts, by outcome (succeeded, failed, throttled)",
            &["outcome"],
        )?;
        let metrics = Metrics {
            connections: gauge(
                "atrium_open_connections",
                "Connections being served, the health reserve included",
            )?,
            tokens_issued: counters(
                "atrium_tokens_issued_total",
                "Access tokens issued, by grant type",
                &["grant"],
            )?,
            oauth_refusals: counters(
                "atrium_oauth_errors_total",
                "OAuth error responses, by endpoint and error code",
                &["endpoint", "error"],
            )?,
            logins: Logins {
                succeeded: logins.with_label_values(&["succeeded"]),
                failed: logins.with_label_values(&["failed"]),
                throttled: logins.with_label_values(&["throttled"]),
            },
            password_checks_queued: gauge(
                "atrium_password_checks_queued",
                "Sign-ins waiting for a free password check",
            )?,
            webhook_deliveries: counters(
                "atrium_webhook_deliveries_total",
                "Webhook delivery attempts, by outcome (delivered, failed, abandoned)",
                &["outcome"],
            )?,
            pruned: counters(
                "atrium_pruned_rows_total",
                "Rows removed by pruning, by kind",
                &["kind"],
            )?,
            webhook_queue: gauge(
                "atrium_webhook_queue_depth",
                "Webhook events not delivered yet and not given up",
            )?,
            webhook_oldest: gauge(
                "atrium_webhook_oldest_pending_age_seconds",
                "Age of the oldest webhook event not delivered yet (0 when none)",
            )?,
            cache_lookups: counters(
                "atrium_cache_lookups_total",
                "Read-cache lookups, by cache (tokens, clients) and result (hit, miss)",
                &["cache", "result"],
            )?,
            http,
            registry,
            scrape: tokio::sync::Mutex::new(()),
        };
        Ok(Arc::new(metrics))
    }

    /// Counts an approved authorization: the TOKEN method issues its access token right
    /// there (the CODE method's is counted when the code is exchanged).
    pub fn approved(&self, method: crate::oauth::request::ResponseType) {
        if matches!(method, crate::oauth::request::ResponseType::Token) {
            self.tokens_issued.with_label_values(&["implicit"]).inc();
        }
    }

    /// The text exposition of every metric, after reading the store's current values.
    pub async fn render(&self, store: &dyn Store, now: i64) -> String {
        let _one_at_a_time = self.scrape.lock().await;
        match store.outbox_backlog().await {
            Ok(backlog) => {
                self.webhook_queue
                    .set(i64::try_from(backlog.pending).unwrap_or(i64::MAX));
                self.webhook_oldest.set(
                    backlog
                        .oldest_created_at
                        .map_or(0, |at| now.saturating_sub(at).max(0)),
                );
            }
            Err(e) => tracing::warn!(error = %e, "metrics: cannot read the webhook backlog"),
        }
        for stats in store.cache_stats() {
            for (result, value) in [("hit", stats.hits), ("miss", stats.misses)] {
                let counter = self.cache_lookups.with_label_values(&[stats.cache, result]);
                // Counters only go up: bring the exported one to the cache's own count.
                counter.inc_by(value.saturating_sub(counter.get()));
            }
        }
        let mut text = String::new();
        if let Err(e) =
            prometheus::TextEncoder::new().encode_utf8(&self.registry.gather(), &mut text)
        {
            tracing::warn!(error = %e, "metrics: cannot encode");
        }
        text
    }
}
