//! The platform's features between the routes and the store, the way [`crate::oauth`] sits for
//! the protocol: no HTTP here, only the rules (who may see or change what) and the calls to the
//! store.

pub mod apps;
pub mod companies;
pub mod inbox;
pub mod inbox_hub;
pub mod installs;
pub mod invitations;
pub mod launch;

use std::borrow::Cow;

use crate::domain::invitation::InviteError;
use crate::domain::redirect::RedirectUriError;
use crate::domain::scope::ScopeError;
use crate::domain::text::TextError;
use crate::store::StoreError;

/// Why a platform operation did not happen. The routes turn it into a response
/// ([`crate::routes::error::ApiError`]); the words are for the person at the client.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// The request itself is not valid.
    #[error("{0}")]
    Invalid(Cow<'static, str>),
    /// No such thing, or not one the caller may see ("no such {0}").
    #[error("no such {0}")]
    NotFound(&'static str),
    /// Not found, in the words given.
    #[error("{0}")]
    NotFoundWhy(&'static str),
    /// The caller may see it but not do this.
    #[error("{0}")]
    Forbidden(Cow<'static, str>),
    /// The thing's state does not allow it; `code` names the case.
    #[error("{why}")]
    Conflict {
        code: &'static str,
        why: Cow<'static, str>,
    },
    /// It existed and no longer does (an expired invitation).
    #[error("{why}")]
    Gone {
        code: &'static str,
        why: &'static str,
    },
    /// A per-user quota is reached; the message says which.
    #[error("{0}")]
    Quota(String),
    /// A rate is reached: nothing done; the caller may try again in `retry_after` seconds.
    #[error("{why}")]
    Throttled { retry_after: i64, why: String },
    /// A failure on the server's side.
    #[error(transparent)]
    Internal(Box<dyn std::error::Error + Send + Sync>),
}

pub type ServiceResult<T> = Result<T, ServiceError>;

impl ServiceError {
    pub fn invalid(e: impl std::fmt::Display) -> ServiceError {
        ServiceError::Invalid(e.to_string().into())
    }

    pub fn internal(e: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> ServiceError {
        ServiceError::Internal(e.into())
    }
}

impl From<StoreError> for ServiceError {
    fn from(e: StoreError) -> ServiceError {
        match e {
            StoreError::Quota { .. } => ServiceError::Quota(e.to_string()),
            // A write that lost a race (an edit after the delete) or met a uniqueness rule:
            // the client's view was out of date, not the server broken.
            StoreError::NotFound(what) => ServiceError::NotFound(what),
            StoreError::Conflict(_) => ServiceError::Conflict {
                code: "conflict",
                why: e.to_string().into(),
            },
            StoreError::Db(_) | StoreError::Postgres(_) => ServiceError::Internal(Box::new(e)),
        }
    }
}

macro_rules! invalid_from {
    ($($t:ty),*) => {$(
        impl From<$t> for ServiceError {
            fn from(e: $t) -> ServiceError {
                ServiceError::invalid(e)
            }
        }
    )*};
}

invalid_from!(TextError, InviteError, ScopeError, RedirectUriError);
