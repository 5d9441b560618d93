//! [`OidcStore`] in SQLite.

use async_trait::async_trait;
use rusqlite::{params, OptionalExtension};

use super::*;
use crate::jose::StoredVersion;

#[async_trait]
impl OidcStore for SqliteStore {
    async fn signing_keys(&self) -> StoreResult<Vec<StoredVersion>> {
        self.run(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT version, rsa_wrapped, created_at, retired_at FROM signing_keys ORDER BY version",
            )?;
            let rows = stmt
                .query_map([], |r| {
                    Ok(StoredVersion {
                        version: r.get(0)?,
                        rsa_wrapped: r.get(1)?,
                        created_at: r.get(2)?,
                        retired_at: r.get(3)?,
                    })
                })?
                .collect::<Result<Vec<_>, _>>()?;
            Ok(rows)
        })
        .await
    }

    async fn add_signing_key(
        &self,
        version: i64,
        rsa_wrapped: Vec<u8>,
        now: i64,
    ) -> StoreResult<bool> {
        self.write(move |c| {
            let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            let newest: i64 = tx.query_row(
                "SELECT COALESCE(MAX(version), 0) FROM signing_keys",
                [],
                |r| r.get(0),
            )?;
            if newest + 1 != version {
                return Ok(false);
            }
            tx.execute(
                "UPDATE signing_keys SET retired_at = ?1 WHERE retired_at IS NULL",
                [now],
            )?;
            tx.execute(
                "INSERT INTO signing_keys (version, rsa_wrapped, created_at) VALUES (?1, ?2, ?3)",
                params![version, rsa_wrapped, now],
            )?;
            tx.commit()?;
            Ok(true)
        })
        .await
    }

    async fn set_code_claims(&self, code: TokenDigest, claims: CodeClaims) -> StoreResult<()> {
        self.write(move |c| {
            c.prepare_cached(
                "UPDATE authorization_codes SET nonce = ?2, auth_time = ?3 WHERE digest = ?1",
            )?
            .execute(params![code.0.to_vec(), claims.nonce, claims.auth_time])?;
            Ok(())
        })
        .await
    }

    async fn code_claims(&self, code: TokenDigest) -> StoreResult<Option<CodeClaims>> {
        self.run(move |c| {
            let row = c
                .prepare_cached(
                    "SELECT nonce, auth_time FROM authorization_codes WHERE digest = ?1",
                )?
                .query_row([code.0.to_vec()], |r| {
                    Ok(CodeClaims {
                        nonce: r.get(0)?,
                        auth_time: r.get(1)?,
                    })
                })
                .optional()?;
            Ok(row)
        })
        .await
    }

    async fn id_token_alg(&self, app_id: i64) -> StoreResult<Option<String>> {
        self.run(move |c| {
            Ok(
                c.prepare_cached("SELECT id_token_signed_response_alg FROM apps WHERE id = ?1")?
                    .query_row([app_id], |r| r.get(0))
                    .optional()?,
            )
        })
        .await
    }

    async fn set_id_token_alg(&self, client_id: &str, alg: &str) -> StoreResult<()> {
        let (client_id, alg) = (client_id.to_string(), alg.to_string());
        self.write(move |c| {
            // A deleted app is edited no more (an edit after a delete finds no app).
            let n = c.execute(
                "UPDATE apps SET id_token_signed_response_alg = ?2
                 WHERE client_id = ?1 AND deleted_at IS NULL",
                params![client_id, alg],
            )?;
            if n == 0 {
                return Err(StoreError::NotFound("app"));
            }
            Ok(())
        })
        .await
    }

    async fn post_logout_redirect_uris(&self, app_id: i64) -> StoreResult<Vec<String>> {
        let json: Option<String> = self
            .run(move |c| {
                Ok(
                    c.prepare_cached("SELECT post_logout_redirect_uris FROM apps WHERE id = ?1")?
                        .query_row([app_id], |r| r.get(0))
                        .optional()?,
                )
            })
            .await?;
        // Written only by `set_post_logout_redirect_uris`, from a `Vec<String>`.
        Ok(json
            .and_then(|j| serde_json::from_str(&j).ok())
            .unwrap_or_default())
    }

    async fn set_post_logout_redirect_uris(
        &self,
        client_id: &str,
        uris: Vec<String>,
    ) -> StoreResult<()> {
        let client_id = client_id.to_string();
        let json = serde_json::Value::from(uris).to_string();
        self.write(move |c| {
            let n = c.execute(
                "UPDATE apps SET post_logout_redirect_uris = ?2 \
                 WHERE client_id = ?1 AND deleted_at IS NULL",
                params![client_id, json],
            )?;
            if n == 0 {
                return Err(StoreError::NotFound("app"));
            }
            Ok(())
        })
        .await
    }
}
