//! The two clocks of one connection, kept apart: how long a request head may take to arrive,
//! and how long a kept-alive connection may sit idle between requests.
//!
//! hyper has one timer for both: it starts when the server begins waiting for a head, so the
//! idle time after a response counts against the head's time. An operator then could not keep
//! connections from a proxy alive for a minute (so that the proxy, not the server, closes them
//! and never sends on a socket the server just closed) without also giving every slowloris a
//! minute per request head. This watchdog runs beside each connection instead, and hyper's
//! own head timer is off:
//!
//! - a new connection has `header_read` from its accept to a complete first head;
//! - after a response, the connection may sit silent for `idle`; it is then closed gracefully
//!   (hyper closes an idle connection at once, and finishes a response it is writing);
//! - a connection closing gracefully (idle, or the server stopping) has `closing` to finish,
//!   then it is dropped: an answer counts as done when it is ready, not when it is written,
//!   so a client that never reads would otherwise keep its connection and hold up a stop;
//! - once the first byte of the next head arrives, that head has `header_read` to complete;
//!   a head that misses its time is cut off.
//!
//! Per request it costs three uncontended locks and two clock reads: at the first bytes of a
//! kept-alive head, when the request is handed to the routes, and when its answer is ready.

use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::Instant;

/// The clocks' settings.
#[derive(Debug, Clone, Copy)]
pub struct Clocks {
    /// From a new connection's accept, or a kept-alive head's first byte, to a complete head.
    pub header_read: Duration,
    /// From a response to the first byte of the next request head.
    pub idle: Duration,
    /// From the start of a graceful close (idle, or the server stopping) to the end of the
    /// connection: the answers in flight finish within it, or the connection is dropped. An
    /// answer is ready before it is written, so without this a client that never reads
    /// would keep its connection.
    pub closing: Duration,
}

/// Where one connection stands.
#[derive(Debug, Clone, Copy)]
enum Phase {
    /// Waiting for a head's first byte: since the accept (`kept_alive: false`) or since the
    /// last answer.
    Waiting { since: Instant, kept_alive: bool },
    /// Some of a head has arrived.
    Head { since: Instant },
    /// Requests handed to the routes and not yet answered.
    Busy { requests: usize },
}

/// Why the watchdog ends a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expired {
    /// Idle past `idle` between requests: close gracefully.
    Idle,
    /// A request head took longer than `header_read`: cut the connection off.
    Head,
}

/// The shared record of one connection's phase, written by its socket and its service and
/// read by its watchdog (all in the connection's one task).
#[derive(Debug)]
pub struct Activity {
    phase: Mutex<Phase>,
    clocks: Clocks,
}

impl Activity {
    pub fn new(clocks: Clocks) -> Arc<Activity> {
        Arc::new(Activity {
            phase: Mutex::new(Phase::Waiting {
                since: Instant::now(),
                kept_alive: false,
            }),
            clocks,
        })
    }

    fn with<T>(&self, f: impl FnOnce(&mut Phase) -> T) -> T {
        // A poisoned lock only means a panic elsewhere in this connection's task; the phase
        // itself is always a valid value.
        let mut phase = self.phase.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut phase)
    }

    /// Bytes arrived: the first of a kept-alive head start that head's clock.
    fn received(&self) {
        self.with(|p| {
            if let Phase::Waiting {
                kept_alive: true, ..
            } = *p
            {
                *p = Phase::Head {
                    since: Instant::now(),
                };
            }
        });
    }

    /// A request was handed to the routes; the guard marks its answer.
    pub fn begin(self: &Arc<Activity>) -> InFlight {
        self.with(|p| {
            *p = match *p {
                Phase::Busy { requests } => Phase::Busy {
                    requests: requests + 1,
                },
                _ => Phase::Busy { requests: 1 },
            }
        });
        InFlight(Arc::clone(self))
    }

    fn end(&self) {
        self.with(|p| {
            *p = match *p {
                Phase::Busy { requests } if requests > 1 => Phase::Busy {
                    requests: requests - 1,
                },
                _ => Phase::Waiting {
                    since: Instant::now(),
                    kept_alive: true,
                },
            }
        });
    }

    /// When a connection that starts closing now must be gone.
    pub fn closing_deadline(&self) -> Instant {
        Instant::now() + self.clocks.closing
    }

    /// The next deadline and what missing it means; `None` while requests are in flight.
    fn deadline(&self) -> Option<(Instant, Expired)> {
        let c = self.clocks;
        self.with(|p| match *p {
            Phase::Waiting {
                since,
                kept_alive: true,
            } => Some((since + c.idle, Expired::Idle)),
            Phase::Waiting { since, .. } | Phase::Head { since } => {
                Some((since + c.header_read, Expired::Head))
            }
            Phase::Busy { .. } => None,
        })
    }

    /// Resolves when the connection has missed a deadline.
    pub async fn expired(&self) -> Expired {
        // While requests are in flight there is no deadline here (a stalled body has its own
        // timer); look again after a while.
        let recheck =
            (self.clocks.header_read.min(self.clocks.idle) / 4).max(Duration::from_millis(10));
        loop {
            match self.deadline() {
                Some((at, why)) if Instant::now() >= at => return why,
                Some((at, _)) => tokio::time::sleep_until(at).await,
                None => tokio::time::sleep(recheck).await,
            }
        }
    }
}

/// Marks a request as answered when dropped (answered, or abandoned by a vanished client).
pub struct InFlight(Arc<Activity>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.end();
    }
}

pin_project_lite::pin_project! {
    /// A socket that tells its connection's [`Activity`] when bytes arrive.
    pub struct Watched<S> {
        #[pin]
        inner: S,
        activity: Arc<Activity>,
    }
}

impl<S> Watched<S> {
    pub fn new(inner: S, activity: Arc<Activity>) -> Watched<S> {
        Watched { inner, activity }
    }
}

impl<S: AsyncRead> AsyncRead for Watched<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let this = self.project();
        let before = buf.filled().len();
        let polled = this.inner.poll_read(cx, buf);
        if buf.filled().len() > before {
            this.activity.received();
        }
        polled
    }
}

impl<S: AsyncWrite> AsyncWrite for Watched<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        self.project().inner.poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        self.project().inner.poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        self.project().inner.poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        self.project().inner.poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Real time, short clocks: the test sees the order of the deadlines, with room to spare.
    const CLOCKS: Clocks = Clocks {
        header_read: Duration::from_millis(100),
        idle: Duration::from_millis(400),
        closing: Duration::from_millis(100),
    };

    fn near(elapsed: Duration, expected: Duration) -> bool {
        elapsed >= expected && elapsed < expected + Duration::from_millis(90)
    }

    #[tokio::test]
    async fn a_new_connection_has_the_head_clock_and_a_kept_alive_one_the_idle_clock() {
        let a = Activity::new(CLOCKS);
        let t = Instant::now();
        assert_eq!(a.expired().await, Expired::Head);
        assert!(near(t.elapsed(), CLOCKS.header_read), "{:?}", t.elapsed());

        drop(a.begin());
        let t = Instant::now();
        assert_eq!(a.expired().await, Expired::Idle);
        assert!(near(t.elapsed(), CLOCKS.idle), "{:?}", t.elapsed());
    }

    #[tokio::test]
    async fn the_first_byte_of_a_kept_alive_head_starts_its_head_clock() {
        let a = Activity::new(CLOCKS);
        drop(a.begin());
        tokio::time::sleep(Duration::from_millis(200)).await;
        a.received();
        let t = Instant::now();
        assert_eq!(a.expired().await, Expired::Head);
        assert!(near(t.elapsed(), CLOCKS.header_read), "{:?}", t.elapsed());
    }

    #[tokio::test]
    async fn no_clock_runs_while_a_request_is_answered() {
        let a = Activity::new(CLOCKS);
        let guard = a.begin();
        let waited = tokio::time::timeout(Duration::from_millis(600), a.expired()).await;
        assert!(waited.is_err(), "expired while a request was in flight");
        drop(guard);
        assert_eq!(a.expired().await, Expired::Idle);
    }
}
