//! The error type of shell commands. It reaches the UI as [`ShellError`] (`{"kind": ...,
//! "message": ...}`): `kind` lets the UI choose a way out (sign in again, retry, fix the input),
//! `message` is shown.

use atrium_proto::ipc::{ErrorKind, ShellError};
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
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::NotSignedIn => ErrorKind::NotSignedIn,
            Error::SessionExpired => ErrorKind::SessionExpired,
            Error::Offline(_) => ErrorKind::Offline,
            Error::Server(_) => ErrorKind::Server,
            Error::Invalid(_) => ErrorKind::Invalid,
            Error::Internal(_) => ErrorKind::Internal,
        }
    }
}

impl From<&Error> for ShellError {
    fn from(e: &Error) -> ShellError {
        ShellError {
            kind: e.kind(),
            message: e.to_string(),
        }
    }
}

impl Serialize for Error {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        ShellError::from(self).serialize(serializer)
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
