//! [`GrantStore`] in PostgreSQL.
//!
//! Isolation: READ COMMITTED with row locks, one primitive at a time:
//!
//! - **consume-once** (`consume_code`): `UPDATE ... SET used_at WHERE used_at IS NULL
//!   RETURNING`. Racers wait for the winner's row lock, then PostgreSQL re-checks the `WHERE`
//!   on the row's new version and they update nothing; they then mark the code replayed.
//! - **issue**: locks the grant's install (`FOR SHARE`, so an uninstall waits for it and then
//!   revokes what it wrote) and the code (`FOR UPDATE`, so a replay waits and then finds the
//!   family to revoke), checks both, and only then writes. Locks are taken in the order an
//!   uninstall takes them (install, then codes).
//! - **rotate-if-current** (`rotate_refresh`): locks the old refresh token's row
//!   (`FOR UPDATE`), so of 20 racers one rotates and the others then see it rotated.
//! - **revoke-family**: one `UPDATE` of the family, which every lookup joins; it sends
//!   [`notify::TOKENS`] in its transaction.

use async_trait::async_trait;
use tokio_postgres::Row;

use super::notify::{notify, TOKENS};
use super::*;
use crate::domain::redirect::RedirectUri;
use crate::domain::scope::ScopeSet;

#[async_trait]
impl GrantStore for PostgresStore {
    async fn save_code(&self, digest: TokenDigest, code: CodeGrant) -> StoreResult<bool> {
        let scopes = code.scopes.to_string();
        // The install check is part of the insert, under a share lock: an uninstall that
        // committed before leaves no code behind, and one that commits after deletes it.
        let saved = self
            .execute(
                "WITH live AS (
                     SELECT 1 FROM installs WHERE id = $9 AND state = 'active' FOR SHARE
                 )
                 INSERT INTO authorization_codes (digest, app_id, user_id, company_id,
                     redirect_uri, scopes, code_challenge, expires_at, install_id)
                 SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9
                 WHERE $9::BIGINT IS NULL OR EXISTS (SELECT 1 FROM live)",
                &[
                    &digest.0.as_slice(),
                    &code.app_id,
                    &code.user_id,
                    &code.company_id,
                    &code.redirect_uri.as_str(),
                    &scopes,
                    &code.code_challenge,
                    &code.expires_at,
                    &code.install_id,
                ],
            )
            .await?;
        Ok(saved == 1)
    }

    async fn consume_code(&self, digest: TokenDigest, at: i64) -> StoreResult<Consumed> {
        let key = digest.0.as_slice();
        let fresh = self
            .query_opt(
                "UPDATE authorization_codes SET used_at = $2
                 WHERE digest = $1 AND used_at IS NULL
                 RETURNING app_id, user_id, company_id, redirect_uri, scopes, code_challenge,
                           expires_at, install_id",
                &[&key, &at],
            )
            .await?;
        if let Some(r) = fresh {
            return Ok(Consumed::Fresh(code_from(&r)?));
        }
        // Remembered, so that an exchange of this code that has not written its tokens yet
        // writes none (see `issue`).
        let used = self
            .query_opt(
                "UPDATE authorization_codes SET replayed_at = COALESCE(replayed_at, $2)
                 WHERE digest = $1 RETURNING family_id",
                &[&key, &at],
            )
            .await?;
        Ok(match used {
            Some(r) => Consumed::Already { family: r.get(0) },
            None => Consumed::Unknown,
        })
    }

    async fn issue(
        &self,
        grant: Grant,
        code: Option<TokenDigest>,
        access: NewToken,
        refresh: Option<NewToken>,
    ) -> StoreResult<Issue> {
        let scopes = grant.scopes.to_string();
        transaction!(self, |tx| {
            if let Some(install) = grant.install_id {
                let active = tx_query_opt(
                    tx,
                    "SELECT 1 FROM installs WHERE id = $1 AND state = 'active' FOR SHARE",
                    &[&install],
                )
                .await?;
                if active.is_none() {
                    return Ok(Issue::InstallGone);
                }
            }
            if let Some(code) = &code {
                let live = tx_query_opt(
                    tx,
                    "SELECT 1 FROM authorization_codes
                     WHERE digest = $1 AND replayed_at IS NULL FOR UPDATE",
                    &[&code.0.as_slice()],
                )
                .await?;
                if live.is_none() {
                    return Ok(Issue::CodeSpent);
                }
            }
            let family: i64 = tx_query(
                tx,
                "INSERT INTO token_families (app_id, user_id, company_id, scopes, created_at,
                     install_id)
                 VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
                &[
                    &grant.app_id,
                    &grant.user_id,
                    &grant.company_id,
                    &scopes,
                    &access.issued_at,
                    &grant.install_id,
                ],
            )
            .await?
            .first()
            .map(|r| r.get(0))
            .ok_or(StoreError::NotFound("token family"))?;
            insert_token(tx, ACCESS, family, &access).await?;
            if let Some(r) = &refresh {
                insert_token(tx, REFRESH, family, r).await?;
            }
            if let Some(code) = &code {
                tx_execute(
                    tx,
                    "UPDATE authorization_codes SET family_id = $2 WHERE digest = $1",
                    &[&code.0.as_slice(), &family],
                )
                .await?;
            }
            Ok(Issue::Issued { family })
        })
    }

    async fn access_token(&self, digest: TokenDigest, at: i64) -> StoreResult<Option<AccessInfo>> {
        let caching = self.caching();
        if caching {
            if let Some(hit) = self.access.get(&digest, at) {
                return Ok(Some(hit));
            }
        }
        let since = self.access.generation();
        let found = self
            .query_opt(
                "SELECT f.id, f.app_id, a.client_id, f.user_id, u.username, f.company_id,
                        f.scopes, t.issued_at, t.expires_at
                 FROM access_tokens t
                 JOIN token_families f ON f.id = t.family_id
                 JOIN apps a ON a.id = f.app_id
                 LEFT JOIN users u ON u.id = f.user_id
                 LEFT JOIN installs i ON i.id = f.install_id
                 WHERE t.digest = $1 AND f.revoked_at IS NULL
                   AND (f.install_id IS NULL OR i.state = 'active')",
                &[&digest.0.as_slice()],
            )
            .await?
            .map(|r| AccessInfo {
                family_id: r.get(0),
                app_id: r.get(1),
                client_id: r.get(2),
                user_id: r.get(3),
                username: r.get(4),
                company_id: r.get(5),
                scopes: ScopeSet::from_stored(r.get(6)),
                issued_at: r.get(7),
                expires_at: r.get(8),
            })
            .filter(|info| info.expires_at > at);
        if let (Some(info), true) = (&found, caching) {
            self.access
                .insert(digest, info.clone(), info.expires_at, since);
        }
        Ok(found)
    }

    async fn refresh_token(&self, digest: TokenDigest) -> StoreResult<Option<RefreshInfo>> {
        let row = self
            .query_opt(
                "SELECT f.id, f.app_id, f.scopes, t.expires_at, t.rotated_at IS NOT NULL,
                        f.revoked_at IS NOT NULL OR COALESCE(i.state, 'active') <> 'active'
                 FROM refresh_tokens t JOIN token_families f ON f.id = t.family_id
                 LEFT JOIN installs i ON i.id = f.install_id
                 WHERE t.digest = $1",
                &[&digest.0.as_slice()],
            )
            .await?;
        Ok(row.map(|r| RefreshInfo {
            family_id: r.get(0),
            app_id: r.get(1),
            scopes: ScopeSet::from_stored(r.get(2)),
            expires_at: r.get(3),
            rotated: r.get(4),
            revoked: r.get(5),
        }))
    }

    async fn rotate_refresh(
        &self,
        old: TokenDigest,
        access: NewToken,
        refresh: NewToken,
        retry: Option<RetryWindow>,
    ) -> StoreResult<Rotation> {
        let at = access.issued_at;
        let key = old.0.as_slice();
        let out = transaction!(self, |tx| {
            // The old token's row is locked first; the family and install are read after the
            // lock is ours, so a revocation that committed meanwhile is seen.
            let row = tx_query_opt(
                tx,
                "SELECT family_id, rotated_at IS NOT NULL, expires_at FROM refresh_tokens
                 WHERE digest = $1 FOR UPDATE",
                &[&key],
            )
            .await?;
            let Some(row) = row else {
                return Ok(Rotation::Invalid);
            };
            let (family, rotated, expires_at): (i64, bool, i64) =
                (row.get(0), row.get(1), row.get(2));
            // A family whose install is gone counts as revoked (uninstalling revokes it too).
            let revoked: bool = tx_query_opt(
                tx,
                "SELECT f.revoked_at IS NOT NULL OR COALESCE(i.state, 'active') <> 'active'
                 FROM token_families f LEFT JOIN installs i ON i.id = f.install_id
                 WHERE f.id = $1",
                &[&family],
            )
            .await?
            .is_none_or(|r| r.get(0));
            if rotated {
                // The family's retry row names its newest rotation only.
                let pending = if revoked {
                    None
                } else {
                    tx_query_opt(
                        tx,
                        "SELECT salt, access_expires_at FROM refresh_retries
                         WHERE family_id = $1 AND old_digest = $2 AND until > $3",
                        &[&family, &key, &at],
                    )
                    .await?
                };
                let retry = pending.and_then(|r| {
                    Some(PendingRetry {
                        salt: <[u8; 32]>::try_from(r.get::<_, &[u8]>(0)).ok()?,
                        access_expires_at: r.get(1),
                    })
                });
                return Ok(Rotation::AlreadyRotated { family, retry });
            }
            if revoked || expires_at <= at {
                return Ok(Rotation::Invalid);
            }
            tx_execute(
                tx,
                "UPDATE refresh_tokens SET rotated_at = $2 WHERE digest = $1",
                &[&key, &at],
            )
            .await?;
            insert_token(tx, ACCESS, family, &access).await?;
            insert_token(tx, REFRESH, family, &refresh).await?;
            match &retry {
                // Replaces the row of the previous rotation: its successor (`old`) is used
                // now, so a retry of that one is reuse.
                Some(w) => {
                    tx_execute(
                        tx,
                        "INSERT INTO refresh_retries
                             (family_id, old_digest, salt, access_expires_at, until)
                         VALUES ($1, $2, $3, $4, $5)
                         ON CONFLICT (family_id) DO UPDATE SET old_digest = excluded.old_digest,
                             salt = excluded.salt, access_expires_at = excluded.access_expires_at,
                             until = excluded.until",
                        &[
                            &family,
                            &key,
                            &w.salt.as_slice(),
                            &access.expires_at,
                            &w.until,
                        ],
                    )
                    .await?
                }
                None => {
                    tx_execute(
                        tx,
                        "DELETE FROM refresh_retries WHERE family_id = $1",
                        &[&family],
                    )
                    .await?
                }
            };
            // Salts whose interval is over are of no use to anyone: drop them.
            tx_execute(tx, "DELETE FROM refresh_retries WHERE until <= $1", &[&at]).await?;
            Ok(Rotation::Rotated)
        });
        if out.is_err() {
            self.access.invalidate();
        }
        out
    }

    async fn revoke_family(&self, family: i64, at: i64) -> StoreResult<()> {
        let out = transaction!(self, |tx| {
            tx_execute(
                tx,
                "UPDATE token_families SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL",
                &[&family, &at],
            )
            .await?;
            // A revoked family has no retry to answer (see `rotate_refresh`).
            tx_execute(
                tx,
                "DELETE FROM refresh_retries WHERE family_id = $1",
                &[&family],
            )
            .await?;
            notify(tx, TOKENS).await
        });
        self.access.invalidate();
        out
    }

    async fn revoke_access(&self, digest: TokenDigest) -> StoreResult<()> {
        let out = transaction!(self, |tx| {
            tx_execute(
                tx,
                "DELETE FROM access_tokens WHERE digest = $1",
                &[&digest.0.as_slice()],
            )
            .await?;
            notify(tx, TOKENS).await
        });
        self.access.forget(&digest);
        out
    }
}

const ACCESS: &str =
    "INSERT INTO access_tokens (digest, family_id, issued_at, expires_at) VALUES ($1, $2, $3, $4)";
const REFRESH: &str =
    "INSERT INTO refresh_tokens (digest, family_id, issued_at, expires_at) VALUES ($1, $2, $3, $4)";

async fn insert_token(
    tx: &deadpool_postgres::Transaction<'_>,
    sql: &str,
    family: i64,
    t: &NewToken,
) -> StoreResult<()> {
    tx_execute(
        tx,
        sql,
        &[&t.digest.0.as_slice(), &family, &t.issued_at, &t.expires_at],
    )
    .await?;
    Ok(())
}

fn code_from(r: &Row) -> StoreResult<CodeGrant> {
    let redirect_uri: &str = r.get(3);
    Ok(CodeGrant {
        app_id: r.get(0),
        user_id: r.get(1),
        company_id: r.get(2),
        redirect_uri: RedirectUri::absolute(redirect_uri).ok_or_else(|| {
            StoreError::Postgres(PgError::Corrupt(
                "a stored redirect_uri is not a URL".into(),
            ))
        })?,
        scopes: ScopeSet::from_stored(r.get(4)),
        code_challenge: r.get(5),
        expires_at: r.get(6),
        install_id: r.get(7),
    })
}
