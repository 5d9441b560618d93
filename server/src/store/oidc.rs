//! What OpenID Connect adds to storage: the signing-key versions, the `nonce` and `auth_time`
//! of a code issued for the `openid` scope, and a client's ID-token algorithm.
//!
//! Kept apart from [`super::GrantStore`] and [`super::AppStore`]: it is read only by requests
//! with the `openid` scope, so the hot paths (bearer tokens, `client_credentials`) never touch
//! it.

use async_trait::async_trait;

use super::StoreResult;
use crate::domain::secret::TokenDigest;
use crate::jose::StoredVersion;

/// What an ID token needs from the authorization request its code came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeClaims {
    /// Echoed in the ID token when the request sent one (Core §3.1.2.1).
    pub nonce: Option<String>,
    /// When the user signed in (Unix time), when the request came through a browser session;
    /// `None` through the dashboard's install API, which knows only the desktop's token.
    pub auth_time: Option<i64>,
}

#[async_trait]
pub trait OidcStore: Send + Sync {
    /// Every signing-key version.
    async fn signing_keys(&self) -> StoreResult<Vec<StoredVersion>>;

    /// Adds `version` (which must be one more than the newest) and retires every older one at
    /// `now`, in one transaction. False, and nothing written, when that version exists already
    /// (another process rotated first).
    async fn add_signing_key(
        &self,
        version: i64,
        rsa_wrapped: Vec<u8>,
        now: i64,
    ) -> StoreResult<bool>;

    /// Records the OpenID claims of a code, written before the code is handed out.
    async fn set_code_claims(&self, code: TokenDigest, claims: CodeClaims) -> StoreResult<()>;

    /// The OpenID claims of a code (both `None` when none were recorded); `None` for an
    /// unknown code.
    async fn code_claims(&self, code: TokenDigest) -> StoreResult<Option<CodeClaims>>;

    /// The ID-token algorithm the app registered (`RS256` unless it chose `EdDSA`).
    async fn id_token_alg(&self, app_id: i64) -> StoreResult<Option<String>>;

    /// Registers the app's ID-token algorithm (`RS256` or `EdDSA`).
    async fn set_id_token_alg(&self, client_id: &str, alg: &str) -> StoreResult<()>;

    /// Where RP-initiated logout may send a user back to, for the app (`post_logout_redirect_uris`,
    /// exact URIs); empty for an unknown app.
    async fn post_logout_redirect_uris(&self, app_id: i64) -> StoreResult<Vec<String>>;

    /// Replaces the app's `post_logout_redirect_uris`; `NotFound` for an unknown or deleted app.
    async fn set_post_logout_redirect_uris(
        &self,
        client_id: &str,
        uris: Vec<String>,
    ) -> StoreResult<()>;
}
