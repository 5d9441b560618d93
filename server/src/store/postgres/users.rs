//! [`UserStore`] in PostgreSQL. Every method is one statement (autocommit, READ COMMITTED);
//! a login form is consumed once by its primary key (`ON CONFLICT DO NOTHING`).

use async_trait::async_trait;
use tokio_postgres::Row;

use super::*;
use crate::domain::now;

#[async_trait]
impl UserStore for PostgresStore {
    async fn create_user(&self, user: NewUser) -> StoreResult<i64> {
        let conn = self.conn().await?;
        let st = conn
            .prepare_cached(
                "INSERT INTO users (username, email, display_name, password_hash, joined_at)
                 VALUES ($1, $2, $3, $4, $5) RETURNING id",
            )
            .await?;
        let row = conn
            .query_one(
                &st,
                &[
                    &user.username,
                    &user.email,
                    &user.display_name,
                    &user.password_hash,
                    &now(),
                ],
            )
            .await
            .map_err(|e| conflict(e, "user"))?;
        Ok(row.get(0))
    }

    async fn user_by_username(&self, username: &str) -> StoreResult<Option<(User, String)>> {
        let row = self
            .query_opt(
                &format!("SELECT {USER_COLS}, u.password_hash FROM users u WHERE u.username = $1"),
                &[&username],
            )
            .await?;
        Ok(row.map(|r| (user_from(&r), r.get(5))))
    }

    async fn user(&self, id: i64) -> StoreResult<Option<User>> {
        let row = self
            .query_opt(
                &format!("SELECT {USER_COLS} FROM users u WHERE u.id = $1"),
                &[&id],
            )
            .await?;
        Ok(row.map(|r| user_from(&r)))
    }

    async fn create_session(&self, digest: TokenDigest, s: Session) -> StoreResult<()> {
        // Expired sessions are swept whenever a new one starts.
        self.execute("DELETE FROM sessions WHERE expires_at <= $1", &[&now()])
            .await?;
        self.execute(
            "INSERT INTO sessions (digest, user_id, csrf, expires_at) VALUES ($1, $2, $3, $4)",
            &[&digest.0.as_slice(), &s.user_id, &s.csrf, &s.expires_at],
        )
        .await?;
        Ok(())
    }

    async fn session(&self, digest: TokenDigest, at: i64) -> StoreResult<Option<Session>> {
        let row = self
            .query_opt(
                "SELECT user_id, csrf, expires_at FROM sessions WHERE digest = $1",
                &[&digest.0.as_slice()],
            )
            .await?;
        Ok(row
            .map(|r| Session {
                user_id: r.get(0),
                csrf: r.get(1),
                expires_at: r.get(2),
            })
            .filter(|s| s.expires_at > at))
    }

    async fn delete_session(&self, digest: TokenDigest) -> StoreResult<()> {
        self.execute(
            "DELETE FROM sessions WHERE digest = $1",
            &[&digest.0.as_slice()],
        )
        .await?;
        Ok(())
    }

    async fn consume_login_form(
        &self,
        digest: TokenDigest,
        expires_at: i64,
        at: i64,
    ) -> StoreResult<bool> {
        self.execute("DELETE FROM login_forms_used WHERE expires_at < $1", &[&at])
            .await?;
        let inserted = self
            .execute(
                "INSERT INTO login_forms_used (digest, expires_at) VALUES ($1, $2)
                 ON CONFLICT (digest) DO NOTHING",
                &[&digest.0.as_slice(), &expires_at],
            )
            .await?;
        Ok(inserted == 1)
    }
}

pub(super) fn user_from(row: &Row) -> User {
    User {
        id: row.get(0),
        username: row.get(1),
        email: row.get(2),
        display_name: row.get(3),
        joined_at: row.get(4),
    }
}

pub(super) const USER_COLS: &str = "u.id, u.username, u.email, u.display_name, u.joined_at";
