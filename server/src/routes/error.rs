//! [`ApiError`]: the one error type of the JSON routes, and the one place it becomes a response.
//!
//! Handlers return `Result<Resp, ApiError>` and use `?`: store errors, OAuth errors, the
//! service layer's refusals and validation errors all convert with `From`. The shapes are:
//! - `{"error": code, "error_description": text}` with the status of the refusal (the body the
//!   desktop and the tests read);
//! - on the token, revocation and introspection endpoints, RFC 6749 §5.2: the same body, never
//!   cached, and `WWW-Authenticate: Basic` on 401;
//! - on bearer-protected routes, RFC 6750 §3: `WWW-Authenticate: Bearer` with the error.
//!
//! An internal error (the database failed, an invariant broke) is logged once, at `error`,
//! with a fresh correlation id; the client gets 500 `server_error` and the same id in the
//! [`ERROR_ID_HEADER`] header, so an operator can find the log line a user reports. The HTML
//! pages (sign-in, consent) answer theirs with [`internal_page`], which also shows the id on
//! the page. Nothing else logs an internal error: the layers below carry the cause up
//! ([`OAuthError::cause`], [`ServiceError::Internal`]).

use std::borrow::Cow;

use warp::http::header::{HeaderValue, RETRY_AFTER, WWW_AUTHENTICATE};
use warp::http::StatusCode;

use super::html;
use super::respond::{self, Resp};
use crate::oauth::{ErrorCode, OAuthError};
use crate::services::ServiceError;
use crate::store::StoreError;

/// The response header carrying the correlation id of an internal error (also in the log line).
pub const ERROR_ID_HEADER: &str = "x-error-id";

/// What the client is told of an internal error when nothing more specific fits.
const TRY_AGAIN: &str = "please try again";

/// A failed request, as the JSON routes answer it.
#[derive(Debug)]
pub enum ApiError {
    /// A refusal the client can act on: its status, code and description.
    Refused {
        status: StatusCode,
        code: Cow<'static, str>,
        description: Cow<'static, str>,
    },
    /// 429 `rate_limited`, with `Retry-After` in seconds.
    Throttled {
        retry_after: i64,
        description: String,
    },
    /// A bearer-token failure (RFC 6750 §3); `error` is `None` when no token was sent.
    Bearer {
        status: StatusCode,
        error: Option<&'static str>,
        description: &'static str,
        scope: Option<&'static str>,
    },
    /// An error of the token, revocation or introspection endpoint (RFC 6749 §5.2);
    /// `used_basic` says whether the client authenticated with HTTP Basic.
    OAuth { error: OAuthError, used_basic: bool },
    /// A failure on the server's side: logged once with a correlation id.
    Internal {
        source: Box<dyn std::error::Error + Send + Sync>,
        /// What the client reads (never the cause).
        description: &'static str,
    },
}

pub type ApiResult = Result<Resp, ApiError>;

impl ApiError {
    pub fn refused(
        status: StatusCode,
        code: impl Into<Cow<'static, str>>,
        description: impl Into<Cow<'static, str>>,
    ) -> ApiError {
        ApiError::Refused {
            status,
            code: code.into(),
            description: description.into(),
        }
    }

    /// 400 `invalid_request`.
    pub fn invalid(description: impl Into<Cow<'static, str>>) -> ApiError {
        Self::refused(StatusCode::BAD_REQUEST, "invalid_request", description)
    }

    /// 404 `not_found`: "no such {what}".
    pub fn not_found(what: &str) -> ApiError {
        Self::refused(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("no such {what}"),
        )
    }

    /// 403 `forbidden`.
    pub fn forbidden(why: impl Into<Cow<'static, str>>) -> ApiError {
        Self::refused(StatusCode::FORBIDDEN, "forbidden", why)
    }

    /// 409 with `code`.
    pub fn conflict(
        code: impl Into<Cow<'static, str>>,
        why: impl Into<Cow<'static, str>>,
    ) -> ApiError {
        Self::refused(StatusCode::CONFLICT, code, why)
    }

    /// An internal error, answered "please try again".
    pub fn internal(source: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> ApiError {
        ApiError::Internal {
            source: source.into(),
            description: TRY_AGAIN,
        }
    }

    /// An OAuth endpoint's error, rendered by RFC 6749 §5.2.
    pub fn oauth(error: OAuthError, used_basic: bool) -> ApiError {
        ApiError::OAuth { error, used_basic }
    }

    /// The response: the one place an error becomes HTTP.
    pub fn into_response(self) -> Resp {
        match self {
            ApiError::Refused {
                status,
                code,
                description,
            } => body(status, &code, &description),
            ApiError::Throttled {
                retry_after,
                description,
            } => {
                let mut r = body(StatusCode::TOO_MANY_REQUESTS, "rate_limited", &description);
                r.headers_mut()
                    .insert(RETRY_AFTER, HeaderValue::from(retry_after.max(1)));
                r
            }
            ApiError::Bearer {
                status,
                error,
                description,
                scope,
            } => {
                let mut challenge = String::from("Bearer realm=\"atrium\"");
                if let Some(e) = error {
                    challenge.push_str(&format!(
                        ", error=\"{e}\", error_description=\"{description}\""
                    ));
                }
                if let Some(s) = scope {
                    challenge.push_str(&format!(", scope=\"{s}\""));
                }
                let mut r = body(status, error.unwrap_or("invalid_token"), description);
                if let Ok(v) = HeaderValue::from_str(&challenge) {
                    r.headers_mut().insert(WWW_AUTHENTICATE, v);
                }
                r
            }
            ApiError::OAuth { error, used_basic } => {
                let status =
                    StatusCode::from_u16(error.status()).unwrap_or(StatusCode::BAD_REQUEST);
                let mut r = respond::no_store(respond::json(status, &error));
                if error.error == ErrorCode::ServerError {
                    let id = log_internal(error.cause());
                    set_error_id(&mut r, &id);
                }
                if status == StatusCode::UNAUTHORIZED {
                    let challenge = if used_basic {
                        "Basic realm=\"atrium\""
                    } else {
                        "Basic realm=\"atrium\", error=\"invalid_client\""
                    };
                    r.headers_mut()
                        .insert(WWW_AUTHENTICATE, HeaderValue::from_static(challenge));
                }
                r
            }
            ApiError::Internal {
                source,
                description,
            } => {
                let id = log_internal(source.as_ref());
                let mut r = body(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "server_error",
                    description,
                );
                set_error_id(&mut r, &id);
                r
            }
        }
    }
}

impl warp::Reply for ApiError {
    fn into_response(self) -> Resp {
        ApiError::into_response(self)
    }
}

/// A handler's answer either way.
pub fn reply(result: ApiResult) -> Resp {
    result.unwrap_or_else(ApiError::into_response)
}

fn body(status: StatusCode, code: &str, description: &str) -> Resp {
    respond::json(
        status,
        &serde_json::json!({ "error": code, "error_description": description }),
    )
}

/// An HTML page's internal error: the cause logged once under its correlation id, and a
/// 500 page telling the user `message` and the id to report (also in [`ERROR_ID_HEADER`]).
pub fn internal_page(cause: &(dyn std::error::Error + 'static), message: &str) -> Resp {
    let id = log_internal(cause);
    let mut r = respond::html(
        StatusCode::INTERNAL_SERVER_ERROR,
        html::server_error(message, &id),
    );
    set_error_id(&mut r, &id);
    r
}

/// The one log line of an internal error; answers its correlation id.
fn log_internal(cause: &(dyn std::error::Error + 'static)) -> String {
    let id = error_id();
    tracing::error!(error_id = %id, error = %cause, "internal error");
    id
}

/// The correlation id of an internal error: the id of the request being answered (also in
/// its `X-Request-Id`), or else a fresh one; 16 hex digits, random, nothing about the request
/// or the user.
fn error_id() -> String {
    crate::telemetry::RequestId::current()
        .unwrap_or_default()
        .to_string()
}

fn set_error_id(r: &mut Resp, id: &str) {
    if let Ok(v) = HeaderValue::from_str(id) {
        r.headers_mut().insert(ERROR_ID_HEADER, v);
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> ApiError {
        ApiError::from(ServiceError::from(e))
    }
}

impl From<OAuthError> for ApiError {
    /// An OAuth error outside the OAuth endpoints (the dashboard's install): its code and
    /// description as a 400, or an internal error.
    fn from(e: OAuthError) -> ApiError {
        if e.error == ErrorCode::ServerError {
            ApiError::internal(e.into_cause())
        } else {
            ApiError::invalid(e.description).with_code(e.error.as_str())
        }
    }
}

impl ApiError {
    /// The same refusal under another code.
    fn with_code(self, new: &'static str) -> ApiError {
        match self {
            ApiError::Refused {
                status,
                description,
                ..
            } => Self::refused(status, new, description),
            other => other,
        }
    }
}

impl From<ServiceError> for ApiError {
    fn from(e: ServiceError) -> ApiError {
        match e {
            ServiceError::Invalid(why) => ApiError::invalid(why),
            ServiceError::NotFound(what) => ApiError::not_found(what),
            ServiceError::NotFoundWhy(why) => {
                ApiError::refused(StatusCode::NOT_FOUND, "not_found", why)
            }
            ServiceError::Forbidden(why) => ApiError::forbidden(why),
            ServiceError::Conflict { code, why } => ApiError::conflict(code, why),
            ServiceError::Gone { code, why } => ApiError::refused(StatusCode::GONE, code, why),
            ServiceError::Quota(why) => {
                ApiError::refused(StatusCode::FORBIDDEN, "quota_exceeded", why)
            }
            ServiceError::Throttled { retry_after, why } => ApiError::Throttled {
                retry_after,
                description: why,
            },
            ServiceError::Internal(source) => ApiError::internal(source),
        }
    }
}
