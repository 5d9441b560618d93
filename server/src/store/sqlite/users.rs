//! [`UserStore`] in SQLite.

use async_trait::async_trait;
use rusqlite::{params, OptionalExtension, Row};

use super::*;
use crate::domain::now;

#[async_trait]
impl UserStore for SqliteStore {
    async fn create_user(&self, user: NewUser) -> StoreResult<i64> {
        self.write(move |c| {
            match c
                .prepare_cached(
                    "INSERT INTO users (username, email, display_name, password_hash, joined_at)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                )?
                .execute(params![
                    user.username,
                    user.email,
                    user.display_name,
                    user.password_hash,
                    now()
                ]) {
                Ok(_) => Ok(c.last_insert_rowid()),
                Err(e) if is_unique_violation(&e) => Err(StoreError::Conflict("user")),
                Err(e) => Err(e.into()),
            }
        })
        .await
    }

    async fn user_by_username(&self, username: &str) -> StoreResult<Option<(User, String)>> {
        let username = username.to_string();
        self.run(move |c| {
            Ok(c.query_row(
                &format!("SELECT {USER_COLS}, u.password_hash FROM users u WHERE u.username = ?1"),
                [username],
                |r| Ok((user_from(r)?, r.get(5)?)),
            )
            .optional()?)
        })
        .await
    }

    async fn user(&self, id: i64) -> StoreResult<Option<User>> {
        self.run(move |c| {
            Ok(c.query_row(
                &format!("SELECT {USER_COLS} FROM users u WHERE u.id = ?1"),
                [id],
                user_from,
            )
            .optional()?)
        })
        .await
    }

    async fn create_session(&self, digest: TokenDigest, s: Session) -> StoreResult<()> {
        self.write(move |c| {
            // Expired sessions are swept whenever a new one starts.
            c.prepare_cached("DELETE FROM sessions WHERE expires_at <= ?1")?
                .execute([now()])?;
            c.prepare_cached(
                "INSERT INTO sessions (digest, user_id, csrf, expires_at) VALUES (?1, ?2, ?3, ?4)",
            )?
            .execute(params![digest.0.to_vec(), s.user_id, s.csrf, s.expires_at])?;
            Ok(())
        })
        .await
    }

    async fn session(&self, digest: TokenDigest, at: i64) -> StoreResult<Option<Session>> {
        self.run(move |c| {
            // A plain lookup by key; the expiry is checked below.
            Ok(c.prepare_cached(
                "SELECT user_id, csrf, expires_at FROM sessions WHERE digest = ?1",
            )?
            .query_row([digest.0.to_vec()], |r| {
                Ok(Session {
                    user_id: r.get(0)?,
                    csrf: r.get(1)?,
                    expires_at: r.get(2)?,
                })
            })
            .optional()?)
        })
        .await
        .map(|s| s.filter(|s: &Session| s.expires_at > at))
    }

    async fn delete_session(&self, digest: TokenDigest) -> StoreResult<()> {
        self.write(move |c| {
            c.prepare_cached("DELETE FROM sessions WHERE digest = ?1")?
                .execute([digest.0.to_vec()])?;
            Ok(())
        })
        .await
    }

    async fn consume_login_form(
        &self,
        digest: TokenDigest,
        expires_at: i64,
        at: i64,
    ) -> StoreResult<bool> {
        self.write(move |c| {
            c.prepare_cached("DELETE FROM login_forms_used WHERE expires_at < ?1")?
                .execute([at])?;
            let inserted = c
                .prepare_cached(
                    "INSERT INTO login_forms_used (digest, expires_at) VALUES (?1, ?2)
                     ON CONFLICT (digest) DO NOTHING",
                )?
                .execute(params![digest.0.to_vec(), expires_at])?;
            Ok(inserted == 1)
        })
        .await
    }
}

pub(super) fn user_from(row: &Row) -> rusqlite::Result<User> {
    Ok(User {
        id: row.get(0)?,
        username: row.get(1)?,
        email: row.get(2)?,
        display_name: row.get(3)?,
        joined_at: row.get(4)?,
    })
}

pub(super) const USER_COLS: &str = "u.id, u.username, u.email, u.display_name, u.joined_at";
