//! Why a delivery attempt failed, in words a developer can act on.
//!
//! A raw transport error names addresses, ports and resolver details; stored and shown to the
//! developer, it would turn the worker into a scanner of the server's network ("connection
//! refused" on one port, "no route to host" on another, a resolver message for an internal
//! name). Only these classes are recorded; the raw error is logged at debug level for the
//! operator.

use std::error::Error as _;
use std::io::ErrorKind;

use super::egress::{NotAllowed, Unresolved};

/// A failed attempt, classified.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// The egress rule refused the destination (see [`super::egress`]).
    NotAllowed,
    /// The host name did not resolve.
    Unresolved,
    ConnectionRefused,
    ConnectionReset,
    Unreachable,
    Timeout,
    Tls,
    /// The app answered with a status other than 2xx.
    Status(u16),
    /// A connection failure of another kind.
    Connect,
    Other,
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::NotAllowed => f.write_str("destination not allowed"),
            Failure::Unresolved => f.write_str("name not resolved"),
            Failure::ConnectionRefused => f.write_str("connection refused"),
            Failure::ConnectionReset => f.write_str("connection reset"),
            Failure::Unreachable => f.write_str("host unreachable"),
            Failure::Timeout => f.write_str("timeout"),
            Failure::Tls => f.write_str("TLS error"),
            Failure::Status(s) if (300..400).contains(s) => {
                write!(f, "HTTP {s} (redirects are not followed)")
            }
            Failure::Status(s) => write!(f, "HTTP {s}"),
            Failure::Connect => f.write_str("connection failed"),
            Failure::Other => f.write_str("request failed"),
        }
    }
}

impl Failure {
    /// Classifies a transport error from reqwest.
    pub fn of(err: &reqwest::Error) -> Failure {
        let mut source = err.source();
        while let Some(e) = source {
            if e.is::<NotAllowed>() {
                return Failure::NotAllowed;
            }
            if e.is::<Unresolved>() {
                return Failure::Unresolved;
            }
            if let Some(io) = e.downcast_ref::<std::io::Error>() {
                match io.kind() {
                    ErrorKind::ConnectionRefused => return Failure::ConnectionRefused,
                    ErrorKind::ConnectionReset
                    | ErrorKind::ConnectionAborted
                    | ErrorKind::BrokenPipe
                    | ErrorKind::UnexpectedEof => return Failure::ConnectionReset,
                    ErrorKind::HostUnreachable
                    | ErrorKind::NetworkUnreachable
                    | ErrorKind::AddrNotAvailable => return Failure::Unreachable,
                    ErrorKind::TimedOut => return Failure::Timeout,
                    // rustls reports a failed handshake (bad certificate, wrong protocol)
                    // as invalid data on the stream.
                    ErrorKind::InvalidData => return Failure::Tls,
                    _ => {}
                }
            }
            source = next(e);
        }
        if err.is_timeout() {
            Failure::Timeout
        } else if err.is_connect() {
            Failure::Connect
        } else {
            Failure::Other
        }
    }
}

/// The next error in a chain. An `io::Error` wrapping another error reports that error's own
/// source, skipping the wrapped error itself (where rustls puts its `InvalidData`), so look
/// inside it first.
fn next<'a>(
    e: &'a (dyn std::error::Error + 'static),
) -> Option<&'a (dyn std::error::Error + 'static)> {
    if let Some(inner) = e
        .downcast_ref::<std::io::Error>()
        .and_then(std::io::Error::get_ref)
    {
        return Some(inner);
    }
    e.source()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_read_as_short_phrases_without_addresses() {
        assert_eq!(Failure::Status(404).to_string(), "HTTP 404");
        assert_eq!(
            Failure::Status(302).to_string(),
            "HTTP 302 (redirects are not followed)"
        );
        assert_eq!(Failure::NotAllowed.to_string(), "destination not allowed");
        assert_eq!(Failure::ConnectionRefused.to_string(), "connection refused");
    }
}
