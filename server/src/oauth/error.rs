//! OAuth error responses (RFC 6749 §4.1.2.1, §4.2.2.1, §5.2; RFC 7009; RFC 7662).
//!
//! A `server_error` carries its cause ([`OAuthError::cause`]) to the one place that logs it
//! with the correlation id the client is shown: `routes::error` (JSON) or the HTML page's
//! renderer. Nothing here logs.

use std::borrow::Cow;
use std::sync::Arc;

use serde::Serialize;

/// The error codes of RFC 6749, and OpenID Connect Core §3.1.2.6's for `prompt=none`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    InvalidRequest,
    InvalidClient,
    InvalidGrant,
    UnauthorizedClient,
    UnsupportedGrantType,
    InvalidScope,
    AccessDenied,
    UnsupportedResponseType,
    ServerError,
    TemporarilyUnavailable,
    LoginRequired,
    ConsentRequired,
    InteractionRequired,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidRequest => "invalid_request",
            ErrorCode::InvalidClient => "invalid_client",
            ErrorCode::InvalidGrant => "invalid_grant",
            ErrorCode::UnauthorizedClient => "unauthorized_client",
            ErrorCode::UnsupportedGrantType => "unsupported_grant_type",
            ErrorCode::InvalidScope => "invalid_scope",
            ErrorCode::AccessDenied => "access_denied",
            ErrorCode::UnsupportedResponseType => "unsupported_response_type",
            ErrorCode::ServerError => "server_error",
            ErrorCode::TemporarilyUnavailable => "temporarily_unavailable",
            ErrorCode::LoginRequired => "login_required",
            ErrorCode::ConsentRequired => "consent_required",
            ErrorCode::InteractionRequired => "interaction_required",
        }
    }
}

/// The failure behind a `server_error`, for the operator's log only.
pub type Cause = Arc<dyn std::error::Error + Send + Sync>;

/// An OAuth error: a code and a description for developers (never containing a secret).
#[derive(Debug, Clone, Serialize, thiserror::Error)]
#[error("{}: {description}", error.as_str())]
pub struct OAuthError {
    pub error: ErrorCode,
    #[serde(rename = "error_description")]
    pub description: Cow<'static, str>,
    /// Why a `server_error` happened (never sent to the client).
    #[serde(skip)]
    cause: Option<Cause>,
}

/// Two errors are equal when the client would see the same: the cause is the log's.
impl PartialEq for OAuthError {
    fn eq(&self, other: &OAuthError) -> bool {
        self.error == other.error && self.description == other.description
    }
}

impl Eq for OAuthError {}

impl OAuthError {
    pub fn new(error: ErrorCode, description: impl Into<Cow<'static, str>>) -> OAuthError {
        OAuthError {
            error,
            description: description.into(),
            cause: None,
        }
    }

    pub fn invalid_request(d: impl Into<Cow<'static, str>>) -> OAuthError {
        Self::new(ErrorCode::InvalidRequest, d)
    }
    pub fn invalid_client(d: impl Into<Cow<'static, str>>) -> OAuthError {
        Self::new(ErrorCode::InvalidClient, d)
    }
    pub fn invalid_grant(d: impl Into<Cow<'static, str>>) -> OAuthError {
        Self::new(ErrorCode::InvalidGrant, d)
    }
    pub fn invalid_scope(d: impl Into<Cow<'static, str>>) -> OAuthError {
        Self::new(ErrorCode::InvalidScope, d)
    }
    pub fn unauthorized_client(d: impl Into<Cow<'static, str>>) -> OAuthError {
        Self::new(ErrorCode::UnauthorizedClient, d)
    }
    /// A failure on the server's side: `server_error`, its cause kept for the log.
    pub fn internal(cause: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> OAuthError {
        OAuthError {
            cause: Some(Arc::from(cause.into())),
            ..Self::new(
                ErrorCode::ServerError,
                "the server could not complete the request",
            )
        }
    }

    /// The cause, to carry further up (the error itself when it has none).
    pub fn into_cause(self) -> Box<dyn std::error::Error + Send + Sync> {
        match self.cause {
            Some(c) => Box::new(c),
            None => Box::new(self),
        }
    }

    /// What the log says of a `server_error`: its cause, or its description when it has none.
    pub fn cause(&self) -> &(dyn std::error::Error + Send + Sync + 'static) {
        match &self.cause {
            Some(c) => c.as_ref(),
            None => self,
        }
    }

    /// The HTTP status of this error at the token endpoint (RFC 6749 §5.2).
    pub fn status(&self) -> u16 {
        match self.error {
            ErrorCode::InvalidClient => 401,
            ErrorCode::ServerError => 500,
            ErrorCode::TemporarilyUnavailable => 503,
            _ => 400,
        }
    }
}

impl From<crate::store::StoreError> for OAuthError {
    fn from(e: crate::store::StoreError) -> Self {
        OAuthError::internal(e)
    }
}
