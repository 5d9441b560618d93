//! The error type of shell commands. It reaches the UI as `{"kind": ..., "message": ...}`:
//! `kind` lets the UI choose a way out (sign in again, retry, fix the input), `message` is shown.

use serde::ser::SerializeStruct;
use serde::{Serialize, Serializer};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("you are not signed in")]
    NotSignedIn,
    #[error("your session has ended; sign in again")]
    SessionExpired,
    #[error("the server is unreachable: {0}")]
    Offline(String),
    #[error("{0}")]
    Server(String),
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    Internal(String),
}

impl Error {
    pub fn kind(&self) -> &'static str {
        match self {
            Error::NotSignedIn => "not_signed_in",
            Error::SessionExpired => "session_expired",
            Error::Offline(_) => "offline",
            Error::Server(_) => "server",
            Error::Invalid(_) => "invalid",
            Error::Internal(_) => "internal",
        }
    }
}

impl Serialize for Error {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut s = serializer.serialize_struct("Error", 2)?;
        s.serialize_field("kind", self.kind())?;
        s.serialize_field("message", &self.to_string())?;
        s.end()
    }
}

/// A reqwest failure in words a user can act on.
pub fn from_http(err: reqwest::Error) -> Error {
    if err.is_connect() {
        Error::Offline("connection refused or host not found".into())
    } else if err.is_timeout() {
        Error::Offline("the server did not answer in time".into())
    } else {
        Error::Offline(err.to_string())
    }
}
