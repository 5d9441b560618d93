//! The connection layer: accepts TCP connections and serves the warp filter tree over HTTP/1.1
//! with hyper, under limits that warp's own server does not set.
//!
//! - **Request-head and idle timeouts.** A connection must send a complete request head within
//!   `header_read_timeout` (from its accept, or from the first byte of a later head), and a
//!   kept-alive connection may sit silent between requests for `idle_timeout`. The two are
//!   separate clocks, kept by a watchdog beside each connection ([`watchdog`]), because hyper's
//!   own head timer also counts the idle time. (warp 0.4 gives hyper no timer, so it had none.)
//! - **Body-read timeout.** A request body that stalls is abandoned after this long
//!   ([`TimedBody`]). The timer is armed only when a body read would wait, so a request whose
//!   body came with its head (every GET, most POSTs) never touches the timer.
//! - **A cap on connections.** At most `max_connections` are served at once; the cap is
//!   lowered to fit the process's descriptor limit ([`fd_budget`]), so `accept` never fails
//!   for want of a descriptor.
//! - **A reserve for health checks.** Past the cap, a connection is still accepted and served,
//!   but only `GET /healthz` (anything else gets 503 with `Retry-After`). The reserve holds
//!   [`HEALTH_RESERVE`] connections; when it is full the oldest is closed to make room, so a
//!   flood of idle sockets cannot keep a health check out.
//!
//! Per request this layer does what warp's server did (one clone of the boxed filter, an
//! `Arc`) plus one `get_all` lookup of `Authorization` and the watchdog's bookkeeping, and it
//! does not insert warp's remote-address extension (an allocation) except on the one route
//! that reads it.

mod observe;
mod watchdog;

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use hyper_util::server::graceful::GracefulConnection;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, watch, Semaphore};
use tokio::time::Sleep;
use warp::filters::BoxedFilter;
use warp::http::{self, StatusCode};

use crate::metrics::Metrics;
use crate::routes::respond::{self, Resp};
use observe::{Observer, Seen};

/// Connections kept for `/healthz` beyond the cap.
pub const HEALTH_RESERVE: usize = 16;
/// Descriptors kept free for the database, the key file, logs and the runtime.
const FD_HEADROOM: u64 = 64;
/// How long a connection in the health reserve may take to send its request.
const RESERVE_HEAD_TIMEOUT: Duration = Duration::from_secs(2);
/// The reserve's clocks: a short head time, and no keep-alive worth the name.
const RESERVE_CLOCKS: Clocks = Clocks {
    header_read: RESERVE_HEAD_TIMEOUT,
    idle: RESERVE_HEAD_TIMEOUT,
    closing: RESERVE_HEAD_TIMEOUT,
};

pub use watchdog::Clocks;
use watchdog::{Activity, Expired, InFlight, Watched};

/// Limits of the connection layer.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Time allowed for a complete request head: from a new connection's accept, or from the
    /// first byte of a later head on a kept-alive connection.
    pub header_read_timeout: Duration,
    /// Time a kept-alive connection may stay silent between a response and the next request.
    pub idle_timeout: Duration,
    /// Time allowed for a request body that has stalled to arrive in full.
    pub body_read_timeout: Duration,
    /// Connections served at once (beyond them, only the health reserve).
    pub max_connections: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            header_read_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(75),
            body_read_timeout: Duration::from_secs(30),
            max_connections: 1024,
        }
    }
}

/// The client's socket address, put in the request's extensions for the few routes that
/// need it ([`wants_client_addr`]) — not for every request, since the first extension of a
/// request costs an allocation.
#[derive(Debug, Clone, Copy)]
pub struct ClientAddr(pub SocketAddr);

/// Routes that read [`ClientAddr`]: the sign-in form, which is throttled per client.
fn wants_client_addr(req: &http::Request<Incoming>) -> bool {
    req.method() == http::Method::POST && req.uri().path() == "/login"
}

/// The largest number of connections that fits the soft descriptor limit `soft`, with room
/// for the health reserve and everything else the process keeps open.
pub fn fd_budget(soft: u64) -> usize {
    usize::try_from(soft.saturating_sub(FD_HEADROOM + HEALTH_RESERVE as u64 + 1))
        .unwrap_or(usize::MAX)
        .max(1)
}

/// Raises the soft limit on open descriptors to the hard limit; returns `(soft, hard)` as
/// they are afterwards, or `None` where there are no such limits.
pub fn raise_fd_limit() -> Option<(u64, u64)> {
    #[cfg(unix)]
    {
        let mut lim = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: getrlimit and setrlimit only read and write the struct passed by pointer.
        unsafe {
            if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) != 0 {
                return None;
            }
            let before = lim.rlim_cur;
            if lim.rlim_cur < lim.rlim_max {
                lim.rlim_cur = lim.rlim_max;
                if libc::setrlimit(libc::RLIMIT_NOFILE, &lim) != 0 {
                    lim.rlim_cur = before;
                }
            }
        }
        Some((lim.rlim_cur, lim.rlim_max))
    }
    #[cfg(not(unix))]
    None
}

/// The current soft descriptor limit, if the platform has one.
fn soft_fd_limit() -> Option<u64> {
    #[cfg(unix)]
    {
        let mut lim = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: getrlimit only writes the struct passed by pointer.
        let ok = unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } == 0;
        ok.then_some(lim.rlim_cur)
    }
    #[cfg(not(unix))]
    None
}

/// Serves `routes` on `listener` until `shutdown` resolves, then lets the requests in flight
/// finish. Connections past the cap get `health` (the `/healthz` route and a 503 for the rest).
/// With `tls`, every connection first completes a TLS handshake (within the request-head
/// timeout, on its own task so a slow one holds up no other) and every response carries HSTS.
pub async fn serve(
    listener: TcpListener,
    routes: BoxedFilter<(Resp,)>,
    health: BoxedFilter<(Resp,)>,
    limits: Limits,
    tls: Option<tokio_rustls::TlsAcceptor>,
    metrics: Arc<Metrics>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) {
    let mut max = limits.max_connections.max(1);
    if let Some(soft) = soft_fd_limit() {
        let budget = fd_budget(soft);
        if budget < max {
            tracing::warn!(
                configured = max,
                allowed = budget,
                fd_limit = soft,
                "the descriptor limit is too low for the configured connection cap; lowering the cap"
            );
            max = budget;
        }
    }
    tracing::info!(
        max_connections = max,
        health_reserve = HEALTH_RESERVE,
        header_read_timeout_ms = limits.header_read_timeout.as_millis() as u64,
        idle_timeout_ms = limits.idle_timeout.as_millis() as u64,
        body_read_timeout_ms = limits.body_read_timeout.as_millis() as u64,
        "serving connections"
    );

    // hyper's head timer is off: the watchdog keeps the head and idle clocks apart.
    let mut http = hyper::server::conn::http1::Builder::new();
    http.header_read_timeout(None);
    let mut reserve_http = http.clone();
    reserve_http.keep_alive(false);
    let clocks = Clocks {
        header_read: limits.header_read_timeout,
        idle: limits.idle_timeout,
        // Room for a request in flight to finish, body included.
        closing: limits.body_read_timeout,
    };

    let hsts = tls.is_some();
    let app = Routes {
        service: warp::service(routes),
        body_timeout: limits.body_read_timeout,
        peer: None,
        activity: None,
        observer: None,
        hsts,
    };
    let health = Routes {
        service: warp::service(health),
        body_timeout: RESERVE_HEAD_TIMEOUT,
        peer: None,
        activity: None,
        observer: None,
        hsts,
    };
    let slots = Arc::new(Semaphore::new(max));
    let mut reserve: std::collections::VecDeque<tokio::task::AbortHandle> =
        std::collections::VecDeque::with_capacity(HEALTH_RESERVE);
    // Stopping: `stop` tells every connection to finish gracefully; each holds a clone of
    // `live`, so `until_closed` ends once the last one has.
    let (stop, stopping) = watch::channel(false);
    let (live, mut until_closed) = mpsc::channel::<()>(1);
    let mut shutdown = std::pin::pin!(shutdown);

    loop {
        let (stream, peer) = tokio::select! {
            biased;
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(err) => {
                    accept_failed(err).await;
                    continue;
                }
            },
        };
        let _ = stream.set_nodelay(true);
        match slots.clone().try_acquire_owned() {
            Ok(permit) if tls.is_some() => {
                let activity = Activity::new(clocks);
                let watched = Watched::new(stream, Arc::clone(&activity));
                let mut svc = app.clone();
                svc.peer = Some(peer);
                svc.activity = Some(Arc::clone(&activity));
                svc.observer = Some(Observer::open(&metrics));
                let (tls, http) = (tls.clone(), http.clone());
                let (stopping, live) = (stopping.clone(), live.clone());
                let within = limits.header_read_timeout;
                tokio::spawn(async move {
                    if let Some(io) = handshake(tls, watched, within).await {
                        let conn = http.serve_connection(TokioIo::new(io), svc);
                        drive(conn, &activity, stopping).await;
                    }
                    drop((permit, live));
                });
            }
            Ok(permit) => {
                let activity = Activity::new(clocks);
                let io = TokioIo::new(Watched::new(stream, Arc::clone(&activity)));
                let mut svc = app.clone();
                svc.peer = Some(peer);
                svc.activity = Some(Arc::clone(&activity));
                svc.observer = Some(Observer::open(&metrics));
                let conn = http.serve_connection(io, svc);
                let (stopping, live) = (stopping.clone(), live.clone());
                tokio::spawn(async move {
                    drive(conn, &activity, stopping).await;
                    drop((permit, live));
                });
            }
            Err(_) => {
                reserve.retain(|task| !task.is_finished());
                if reserve.len() >= HEALTH_RESERVE {
                    if let Some(oldest) = reserve.pop_front() {
                        oldest.abort();
                    }
                }
                let activity = Activity::new(RESERVE_CLOCKS);
                let watched = Watched::new(stream, Arc::clone(&activity));
                let mut svc = health.clone();
                svc.activity = Some(Arc::clone(&activity));
                svc.observer = Some(Observer::open(&metrics));
                let (stopping, live) = (stopping.clone(), live.clone());
                let task = if tls.is_some() {
                    let (tls, http) = (tls.clone(), reserve_http.clone());
                    tokio::spawn(async move {
                        if let Some(io) = handshake(tls, watched, RESERVE_HEAD_TIMEOUT).await {
                            let conn = http.serve_connection(TokioIo::new(io), svc);
                            drive(conn, &activity, stopping).await;
                        }
                        drop(live);
                    })
                } else {
                    let conn = reserve_http.serve_connection(TokioIo::new(watched), svc);
                    tokio::spawn(async move {
                        drive(conn, &activity, stopping).await;
                        drop(live);
                    })
                };
                reserve.push_back(task.abort_handle());
            }
        }
    }
    drop(listener);
    let _ = stop.send(true);
    drop(live);
    let _ = until_closed.recv().await;
}

/// Serves one connection to its end: until the client closes it, the server stops (the
/// requests in flight finish first), or it misses a deadline of its [`watchdog`].
async fn drive<C>(conn: C, activity: &Activity, mut stopping: watch::Receiver<bool>)
where
    C: GracefulConnection<Error = hyper::Error>,
{
    let mut conn = std::pin::pin!(conn);
    // Once closing, the time left to finish: hyper closes an idle connection at once, and
    // finishes the answers in flight, but a client that never reads its answer must not
    // hold the connection (and the server's stop) forever.
    let mut closing: Option<tokio::time::Instant> = None;
    loop {
        tokio::select! {
            ended = conn.as_mut() => {
                if let Err(err) = ended {
                    connection_ended(&err);
                }
                return;
            }
            () = tokio::time::sleep_until(closing.unwrap_or_else(tokio::time::Instant::now)),
                if closing.is_some() => {
                tracing::debug!("connection did not finish closing in time; dropped");
                return;
            }
            _ = stopping.changed(), if closing.is_none() => {
                conn.as_mut().graceful_shutdown();
                closing = Some(activity.closing_deadline());
            }
            why = activity.expired(), if closing.is_none() => match why {
                Expired::Idle => {
                    conn.as_mut().graceful_shutdown();
                    closing = Some(activity.closing_deadline());
                }
                Expired::Head => {
                    tracing::debug!("request head timed out; connection closed");
                    return;
                }
            },
        }
    }
}

/// Completes the TLS handshake of one connection within `within`; `None` if it failed.
async fn handshake<S>(
    tls: Option<tokio_rustls::TlsAcceptor>,
    stream: S,
    within: Duration,
) -> Option<tokio_rustls::server::TlsStream<S>>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    match tokio::time::timeout(within, tls?.accept(stream)).await {
        Ok(Ok(stream)) => Some(stream),
        Ok(Err(err)) => {
            tracing::debug!(%err, "TLS handshake failed");
            None
        }
        Err(_) => {
            tracing::debug!("TLS handshake timed out");
            None
        }
    }
}

/// Every way a connection ends in error is the client's doing (a reset, a timeout, a
/// malformed request, a disconnect in the middle of a response): worth a debug line, not an
/// error in the operator's log.
fn connection_ended(err: &hyper::Error) {
    tracing::debug!(%err, "connection closed");
}

/// `accept` failed. Errors of the one connection are skipped; running out of descriptors
/// (which the cap should prevent) waits a little for some to close instead of spinning.
async fn accept_failed(err: std::io::Error) {
    use std::io::ErrorKind::*;
    if matches!(
        err.kind(),
        ConnectionRefused | ConnectionAborted | ConnectionReset
    ) {
        return;
    }
    tracing::warn!(%err, "cannot accept a connection");
    tokio::time::sleep(Duration::from_millis(100)).await;
}

/// The warp filter tree (`S`, from `warp::service`) as a hyper service for one connection.
#[derive(Clone)]
struct Routes<S> {
    service: S,
    body_timeout: Duration,
    peer: Option<SocketAddr>,
    /// The connection's watchdog record (set per connection).
    activity: Option<Arc<Activity>>,
    /// Counts the connection's requests (set per connection).
    observer: Option<Arc<Observer>>,
    /// Served over TLS: every response gets `Strict-Transport-Security`.
    hsts: bool,
}

impl<S> hyper::service::Service<http::Request<Incoming>> for Routes<S>
where
    S: tower_service::Service<http::Request<TimedBody>, Response = Resp, Error = Infallible>
        + Clone,
{
    type Response = Resp;
    type Error = Infallible;
    type Future = Answer<S::Future>;

    fn call(&self, mut req: http::Request<Incoming>) -> Self::Future {
        let in_flight = self.activity.as_ref().map(Activity::begin);
        let seen = self
            .observer
            .as_ref()
            .map(|o| o.begin(req.method(), req.uri().path()));
        // Two Authorization headers: which one would a proxy, a cache or the handler believe?
        // Refuse rather than pick.
        let mut auth = req.headers().get_all(http::header::AUTHORIZATION).iter();
        if auth.next().is_some() && auth.next().is_some() {
            let mut response = respond::api_error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "more than one Authorization header",
            );
            if self.hsts {
                add_hsts(&mut response);
            }
            if let Some(seen) = seen {
                seen.end(&mut response);
            }
            return Answer::Ready {
                in_flight,
                response: Some(response),
            };
        }
        if let Some(peer) = self.peer.filter(|_| wants_client_addr(&req)) {
            req.extensions_mut().insert(ClientAddr(peer));
        }
        let timeout = self.body_timeout;
        let mut service = self.service.clone();
        let req = req.map(|body| TimedBody::new(body, timeout));
        // warp starts routing (and writes its trace line) in `call`: the id is current already.
        let future = match &seen {
            Some(s) => s.id.scope(|| service.call(req)),
            None => service.call(req),
        };
        Answer::Routed {
            in_flight,
            future,
            hsts: self.hsts,
            seen,
        }
    }
}

pin_project_lite::pin_project! {
    /// The answer to one request: the routes' future, or a response decided before routing.
    /// Its `in_flight` guard tells the connection's watchdog when it is done.
    #[project = AnswerProj]
    pub enum Answer<F> {
        Routed {
            #[pin] future: F,
            in_flight: Option<InFlight>,
            hsts: bool,
            seen: Option<Seen>,
        },
        Ready { response: Option<Resp>, in_flight: Option<InFlight> },
    }
}

impl<F: Future<Output = Result<Resp, Infallible>>> Future for Answer<F> {
    type Output = Result<Resp, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project() {
            AnswerProj::Routed {
                future,
                in_flight,
                hsts,
                seen,
            } => {
                // The handler runs with its request id current, for its log lines.
                let answer = std::task::ready!(match seen {
                    Some(s) => s.id.scope(|| future.poll(cx)),
                    None => future.poll(cx),
                });
                in_flight.take();
                Poll::Ready(answer.map(|mut response| {
                    if *hsts {
                        add_hsts(&mut response);
                    }
                    if let Some(seen) = seen.take() {
                        seen.end(&mut response);
                    }
                    response
                }))
            }
            AnswerProj::Ready {
                response,
                in_flight,
            } => {
                in_flight.take();
                match response.take() {
                    Some(r) => Poll::Ready(Ok(r)),
                    None => Poll::Pending,
                }
            }
        }
    }
}

fn add_hsts(response: &mut Resp) {
    response.headers_mut().insert(
        http::header::STRICT_TRANSPORT_SECURITY,
        http::HeaderValue::from_static(crate::tls::HSTS),
    );
}

/// Why a request body could not be read.
#[derive(Debug, thiserror::Error)]
pub enum BodyError {
    #[error(transparent)]
    Http(#[from] hyper::Error),
    #[error("the request body did not arrive in time")]
    TimedOut,
}

pin_project_lite::pin_project! {
    /// A request body that gives up when it stalls for longer than its timeout.
    pub struct TimedBody {
        #[pin]
        inner: Incoming,
        timeout: Duration,
        // Armed at the first read that would wait; boxed because it is rare.
        deadline: Option<Pin<Box<Sleep>>>,
    }
}

impl TimedBody {
    fn new(inner: Incoming, timeout: Duration) -> TimedBody {
        TimedBody {
            inner,
            timeout,
            deadline: None,
        }
    }
}

impl http_body::Body for TimedBody {
    type Data = warp::hyper::body::Bytes;
    type Error = BodyError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        let this = self.project();
        match this.inner.poll_frame(cx) {
            Poll::Ready(frame) => Poll::Ready(frame.map(|f| f.map_err(BodyError::from))),
            Poll::Pending => {
                let timeout = *this.timeout;
                let deadline = this
                    .deadline
                    .get_or_insert_with(|| Box::pin(tokio::time::sleep(timeout)));
                match deadline.as_mut().poll(cx) {
                    Poll::Ready(()) => Poll::Ready(Some(Err(BodyError::TimedOut))),
                    Poll::Pending => Poll::Pending,
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_connection_cap_leaves_room_for_the_reserve_and_the_rest() {
        assert_eq!(fd_budget(256), 256 - 64 - 16 - 1);
        assert_eq!(fd_budget(10), 1);
    }
}
