//! Users, their sign-in sessions, and the login forms already submitted.

use async_trait::async_trait;

use super::StoreResult;
use crate::domain::secret::TokenDigest;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: i64,
    pub username: String,
    pub email: Option<String>,
    pub display_name: String,
    pub joined_at: i64,
}

#[derive(Debug, Clone)]
pub struct NewUser {
    pub username: String,
    pub email: Option<String>,
    pub display_name: String,
    pub password_hash: String,
}

#[derive(Debug, Clone)]
pub struct Session {
    pub user_id: i64,
    pub csrf: String,
    pub expires_at: i64,
}

#[async_trait]
pub trait UserStore: Send + Sync {
    async fn create_user(&self, user: NewUser) -> StoreResult<i64>;

    /// The user and their password hash.
    async fn user_by_username(&self, username: &str) -> StoreResult<Option<(User, String)>>;

    async fn user(&self, id: i64) -> StoreResult<Option<User>>;

    async fn create_session(&self, digest: TokenDigest, session: Session) -> StoreResult<()>;

    async fn session(&self, digest: TokenDigest, now: i64) -> StoreResult<Option<Session>>;

    async fn delete_session(&self, digest: TokenDigest) -> StoreResult<()>;

    /// Marks a login form (digest of its pre-session id) as submitted; false when it had been
    /// already. Forms past `expires_at` are forgotten, since they are refused anyway.
    async fn consume_login_form(
        &self,
        digest: TokenDigest,
        expires_at: i64,
        now: i64,
    ) -> StoreResult<bool>;
}
