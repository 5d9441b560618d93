//! [`OidcStore`] in PostgreSQL. Adding a signing-key version locks the `signing_keys` table
//! (rare: one rotation at a time across replicas) at READ COMMITTED; the rest are single
//! statements.

use async_trait::async_trait;

use super::*;
use crate::jose::StoredVersion;

#[async_trait]
impl OidcStore for PostgresStore {
    async fn signing_keys(&self) -> StoreResult<Vec<StoredVersion>> {
        let rows = self
            .query(
                "SELECT version, rsa_wrapped, created_at, retired_at FROM signing_keys
                 ORDER BY version",
                &[],
            )
            .await?;
        Ok(rows
            .iter()
            .map(|r| StoredVersion {
                version: r.get(0),
                rsa_wrapped: r.get(1),
                created_at: r.get(2),
                retired_at: r.get(3),
            })
            .collect())
    }

    async fn add_signing_key(
        &self,
        version: i64,
        rsa_wrapped: Vec<u8>,
        now: i64,
    ) -> StoreResult<bool> {
        transaction!(self, |tx| {
            tx.batch_execute("LOCK TABLE signing_keys IN EXCLUSIVE MODE")
                .await?;
            let newest: i64 = tx_query_opt(
                tx,
                "SELECT COALESCE(MAX(version), 0) FROM signing_keys",
                &[],
            )
            .await?
            .map_or(0, |r| r.get(0));
            if newest + 1 != version {
                return Ok(false);
            }
            tx_execute(
                tx,
                "UPDATE signing_keys SET retired_at = $1 WHERE retired_at IS NULL",
                &[&now],
            )
            .await?;
            tx_execute(
                tx,
                "INSERT INTO signing_keys (version, rsa_wrapped, created_at) VALUES ($1, $2, $3)",
                &[&version, &rsa_wrapped, &now],
            )
            .await?;
            Ok(true)
        })
    }

    async fn set_code_claims(&self, code: TokenDigest, claims: CodeClaims) -> StoreResult<()> {
        self.execute(
            "UPDATE authorization_codes SET nonce = $2, auth_time = $3 WHERE digest = $1",
            &[&code.0.as_slice(), &claims.nonce, &claims.auth_time],
        )
        .await?;
        Ok(())
    }

    async fn code_claims(&self, code: TokenDigest) -> StoreResult<Option<CodeClaims>> {
        let row = self
            .query_opt(
                "SELECT nonce, auth_time FROM authorization_codes WHERE digest = $1",
                &[&code.0.as_slice()],
            )
            .await?;
        Ok(row.map(|r| CodeClaims {
            nonce: r.get(0),
            auth_time: r.get(1),
        }))
    }

    async fn id_token_alg(&self, app_id: i64) -> StoreResult<Option<String>> {
        let row = self
            .query_opt(
                "SELECT id_token_signed_response_alg FROM apps WHERE id = $1",
                &[&app_id],
            )
            .await?;
        Ok(row.map(|r| r.get(0)))
    }

    async fn set_id_token_alg(&self, client_id: &str, alg: &str) -> StoreResult<()> {
        let n = self
            .execute(
                "UPDATE apps SET id_token_signed_response_alg = $2
                 WHERE client_id = $1 AND deleted_at IS NULL",
                &[&client_id, &alg],
            )
            .await?;
        if n == 0 {
            return Err(StoreError::NotFound("app"));
        }
        Ok(())
    }

    async fn post_logout_redirect_uris(&self, app_id: i64) -> StoreResult<Vec<String>> {
        let row = self
            .query_opt(
                "SELECT post_logout_redirect_uris FROM apps WHERE id = $1",
                &[&app_id],
            )
            .await?;
        // Written only by `set_post_logout_redirect_uris`, from a `Vec<String>`.
        Ok(row
            .and_then(|r| serde_json::from_str(r.get::<_, &str>(0)).ok())
            .unwrap_or_default())
    }

    async fn set_post_logout_redirect_uris(
        &self,
        client_id: &str,
        uris: Vec<String>,
    ) -> StoreResult<()> {
        let json = serde_json::Value::from(uris).to_string();
        let n = self
            .execute(
                "UPDATE apps SET post_logout_redirect_uris = $2
                 WHERE client_id = $1 AND deleted_at IS NULL",
                &[&client_id, &json],
            )
            .await?;
        if n == 0 {
            return Err(StoreError::NotFound("app"));
        }
        Ok(())
    }
}
