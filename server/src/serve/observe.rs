//! What the connection layer tells the operator about each request: its id (in the
//! `X-Request-Id` header and the handler's log lines), its route, status and latency in the
//! metrics, and an access-log line at debug level (`RUST_LOG=atrium::access=debug`).
//!
//! Each connection has its own [`Observer`], so a request clones a handle no other core
//! touches: the shared [`Metrics`] are reached through it, and only their counters are
//! contended.

use std::sync::Arc;
use std::time::Instant;

use warp::http::{self, HeaderValue, Method};

use crate::metrics::{Metrics, RouteIndex};
use crate::routes::respond::Resp;
use crate::telemetry::RequestId;

/// The response header that names a request.
pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// One connection's view of the metrics; open while the connection is.
pub struct Observer {
    metrics: Arc<Metrics>,
}

impl Observer {
    /// Counts a connection open until the observer (and every request it saw) is dropped.
    pub fn open(metrics: &Arc<Metrics>) -> Arc<Observer> {
        metrics.connections.inc();
        Arc::new(Observer {
            metrics: Arc::clone(metrics),
        })
    }

    /// A request has arrived.
    pub fn begin(self: &Arc<Observer>, method: &Method, path: &str) -> Seen {
        Seen {
            id: RequestId::new(),
            route: self.metrics.http.classify(method, path),
            started: Instant::now(),
            observer: Arc::clone(self),
        }
    }
}

impl Drop for Observer {
    fn drop(&mut self) {
        self.metrics.connections.dec();
    }
}

/// A request being answered.
pub struct Seen {
    pub id: RequestId,
    route: RouteIndex,
    started: Instant,
    observer: Arc<Observer>,
}

impl Seen {
    /// Its response is ready: count it, log it (at debug level), and name it in a header.
    pub fn end(self, response: &mut Resp) {
        let elapsed = self.started.elapsed();
        let http = &self.observer.metrics.http;
        http.record(self.route, response.status(), elapsed);
        if tracing::enabled!(target: "atrium::access", tracing::Level::DEBUG) {
            let (method, route) = http.describe(self.route);
            tracing::debug!(
                target: "atrium::access",
                request_id = %self.id,
                method,
                route,
                status = response.status().as_u16(),
                micros = elapsed.as_micros() as u64,
                "request answered"
            );
        }
        if let Ok(value) = HeaderValue::from_str(&self.id.to_string()) {
            response
                .headers_mut()
                .insert(http::HeaderName::from_static(REQUEST_ID_HEADER), value);
        }
    }
}
