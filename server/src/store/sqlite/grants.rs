//! [`GrantStore`] in SQLite.

use async_trait::async_trait;
use rusqlite::{params, OptionalExtension};

use super::*;
use crate::domain::redirect::RedirectUri;
use crate::domain::scope::ScopeSet;

#[async_trait]
impl GrantStore for SqliteStore {
    async fn save_code(&self, digest: TokenDigest, code: CodeGrant) -> StoreResult<bool> {
        self.write(move |c| {
            // The install check is part of the insert: an uninstall that committed before this
            // write leaves no code behind, and one that commits after deletes it.
            let saved = c.prepare_cached("INSERT INTO authorization_codes (digest, app_id, user_id, company_id, redirect_uri,
                    scopes, code_challenge, expires_at, install_id)
                 SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9
                 WHERE ?9 IS NULL OR EXISTS (SELECT 1 FROM installs WHERE id = ?9 AND state = 'active')")?
                .execute(
                params![
                    digest.0.to_vec(),
                    code.app_id,
                    code.user_id,
                    code.company_id,
                    code.redirect_uri.as_str(),
                    code.scopes.to_string(),
                    code.code_challenge,
                    code.expires_at,
                    code.install_id
                ],
            )?;
            Ok(saved == 1)
        })
        .await
    }

    async fn consume_code(&self, digest: TokenDigest, at: i64) -> StoreResult<Consumed> {
        self.write(move |c| {
            let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            let row = tx
                .prepare_cached("SELECT app_id, user_id, company_id, redirect_uri, scopes, code_challenge,
                            expires_at, used_at, family_id, install_id
                     FROM authorization_codes WHERE digest = ?1")?
                .query_row(
                    [digest.0.to_vec()],
                    |r| {
                        let redirect_uri: String = r.get(3)?;
                        Ok((
                            CodeGrant {
                                app_id: r.get(0)?,
                                user_id: r.get(1)?,
                                company_id: r.get(2)?,
                                redirect_uri: RedirectUri::absolute(&redirect_uri).ok_or_else(|| {
                                    rusqlite::Error::FromSqlConversionFailure(
                                        3,
                                        rusqlite::types::Type::Text,
                                        "a stored redirect_uri is not a URL".into(),
                                    )
                                })?,
                                scopes: ScopeSet::from_stored(&r.get::<_, String>(4)?),
                                code_challenge: r.get(5)?,
                                expires_at: r.get(6)?,
                                install_id: r.get(9)?,
                            },
                            r.get::<_, Option<i64>>(7)?,
                            r.get::<_, Option<i64>>(8)?,
                        ))
                    },
                )
                .optional()?;
            let outcome = match row {
                None => Consumed::Unknown,
                Some((_, Some(_used), family)) => {
                    // Remembered, so that an exchange of this code that has not written its
                    // tokens yet writes none (see `issue`).
                    tx.prepare_cached(
                        "UPDATE authorization_codes SET replayed_at = ?2 WHERE digest = ?1 AND replayed_at IS NULL",
                    )?
                    .execute(params![digest.0.to_vec(), at])?;
                    Consumed::Already { family }
                }
                Some((grant, None, _)) => {
                    tx.prepare_cached(
                        "UPDATE authorization_codes SET used_at = ?2 WHERE digest = ?1",
                    )?
                    .execute(
                        params![digest.0.to_vec(), at],
                    )?;
                    Consumed::Fresh(grant)
                }
            };
            tx.commit()?;
            Ok(outcome)
        })
        .await
    }

    async fn issue(
        &self,
        grant: Grant,
        code: Option<TokenDigest>,
        access: NewToken,
        refresh: Option<NewToken>,
    ) -> StoreResult<Issue> {
        self.write(move |c| {
            // Dropping `tx` without commit (the early returns) rolls everything back.
            let tx = c.transaction()?;
            if let Some(install) = grant.install_id {
                let active = tx
                    .prepare_cached("SELECT 1 FROM installs WHERE id = ?1 AND state = 'active'")?
                    .exists([install])?;
                if !active {
                    return Ok(Issue::InstallGone);
                }
            }
            tx.prepare_cached(
                "INSERT INTO token_families (app_id, user_id, company_id, scopes, created_at, install_id)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?
            .execute(
                params![
                    grant.app_id,
                    grant.user_id,
                    grant.company_id,
                    grant.scopes.to_string(),
                    access.issued_at,
                    grant.install_id
                ],
            )?;
            let family = tx.last_insert_rowid();
            insert_access(&tx, family, access)?;
            if let Some(r) = refresh {
                insert_refresh(&tx, family, r)?;
            }
            if let Some(code) = code {
                // The writer runs one transaction at a time, so either a replay committed
                // before this (and marked the code) and nothing is issued, or it commits after
                // and finds the family here to revoke.
                let linked = tx
                    .prepare_cached(
                        "UPDATE authorization_codes SET family_id = ?2 WHERE digest = ?1 AND replayed_at IS NULL",
                    )?
                    .execute(params![code.0.to_vec(), family])?;
                if linked == 0 {
                    return Ok(Issue::CodeSpent);
                }
            }
            tx.commit()?;
            Ok(Issue::Issued { family })
        })
        .await
    }

    async fn access_token(&self, digest: TokenDigest, at: i64) -> StoreResult<Option<AccessInfo>> {
        if let Some(hit) = self.access.get(&digest, at) {
            return Ok(Some(hit));
        }
        let since = self.access.generation();
        // The expiry is checked here, as the cache checks it, so that the query is a plain
        // lookup by key.
        let found = self
            .run(move |c| {
                let mut st = c.prepare_cached(
                "SELECT f.id, f.app_id, a.client_id, f.user_id, u.username, f.company_id, f.scopes,
                        t.issued_at, t.expires_at
                 FROM access_tokens t
                 JOIN token_families f ON f.id = t.family_id
                 JOIN apps a ON a.id = f.app_id
                 LEFT JOIN users u ON u.id = f.user_id
                 LEFT JOIN installs i ON i.id = f.install_id
                 WHERE t.digest = ?1 AND f.revoked_at IS NULL
                   AND (f.install_id IS NULL OR i.state = 'active')",
            )?;
                Ok(st
                    .query_row([digest.0.as_slice()], |r| {
                        Ok(AccessInfo {
                            family_id: r.get(0)?,
                            app_id: r.get(1)?,
                            client_id: r.get(2)?,
                            user_id: r.get(3)?,
                            username: r.get(4)?,
                            company_id: r.get(5)?,
                            scopes: ScopeSet::from_stored(&r.get::<_, String>(6)?),
                            issued_at: r.get(7)?,
                            expires_at: r.get(8)?,
                        })
                    })
                    .optional()?)
            })
            .await?
            .filter(|info| info.expires_at > at);
        if let Some(info) = &found {
            self.access
                .insert(digest, info.clone(), info.expires_at, since);
        }
        Ok(found)
    }

    async fn refresh_token(&self, digest: TokenDigest) -> StoreResult<Option<RefreshInfo>> {
        self.run(move |c| {
            Ok(c.prepare_cached(
                "SELECT f.id, f.app_id, f.scopes, t.expires_at, t.rotated_at IS NOT NULL,
                        f.revoked_at IS NOT NULL OR IFNULL(i.state, 'active') <> 'active'
                 FROM refresh_tokens t JOIN token_families f ON f.id = t.family_id
                 LEFT JOIN installs i ON i.id = f.install_id
                 WHERE t.digest = ?1",
            )?
            .query_row([digest.0.to_vec()], |r| {
                Ok(RefreshInfo {
                    family_id: r.get(0)?,
                    app_id: r.get(1)?,
                    scopes: ScopeSet::from_stored(&r.get::<_, String>(2)?),
                    expires_at: r.get(3)?,
                    rotated: r.get(4)?,
                    revoked: r.get(5)?,
                })
            })
            .optional()?)
        })
        .await
    }

    async fn rotate_refresh(
        &self,
        old: TokenDigest,
        access: NewToken,
        refresh: NewToken,
        retry: Option<RetryWindow>,
    ) -> StoreResult<Rotation> {
        let out = self
            .write(move |c| {
                let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
                let at = access.issued_at;
                // A family whose install is gone counts as revoked (uninstalling revokes it too).
                let row: Option<(i64, bool, bool, i64)> = tx
                    .prepare_cached(
                        "SELECT t.family_id, t.rotated_at IS NOT NULL,
                            f.revoked_at IS NOT NULL OR IFNULL(i.state, 'active') <> 'active',
                            t.expires_at
                     FROM refresh_tokens t JOIN token_families f ON f.id = t.family_id
                     LEFT JOIN installs i ON i.id = f.install_id
                     WHERE t.digest = ?1",
                    )?
                    .query_row([old.0.as_slice()], |r| {
                        Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
                    })
                    .optional()?;
                let outcome = match row {
                    None => Rotation::Invalid,
                    Some((family, true, revoked, _)) => {
                        // The family's retry row names its newest rotation only: once the
                        // successor was rotated in turn, the row names the successor, not `old`.
                        let pending: Option<(Vec<u8>, i64)> = if revoked {
                            None
                        } else {
                            tx.prepare_cached(
                                "SELECT salt, access_expires_at FROM refresh_retries
                             WHERE family_id = ?1 AND old_digest = ?2 AND until > ?3",
                            )?
                            .query_row(params![family, old.0.as_slice(), at], |r| {
                                Ok((r.get(0)?, r.get(1)?))
                            })
                            .optional()?
                        };
                        let retry = pending.and_then(|(salt, access_expires_at)| {
                            Some(PendingRetry {
                                salt: <[u8; 32]>::try_from(salt).ok()?,
                                access_expires_at,
                            })
                        });
                        Rotation::AlreadyRotated { family, retry }
                    }
                    Some((_, _, true, _)) => Rotation::Invalid,
                    Some((_, _, _, exp)) if exp <= at => Rotation::Invalid,
                    Some((family, false, false, _)) => {
                        tx.prepare_cached(
                            "UPDATE refresh_tokens SET rotated_at = ?2 WHERE digest = ?1",
                        )?
                        .execute(params![old.0.as_slice(), at])?;
                        insert_access(&tx, family, access)?;
                        insert_refresh(&tx, family, refresh)?;
                        match retry {
                            // Replaces the row of the previous rotation: its successor (`old`) is
                            // used now, so a retry of that one is reuse.
                            Some(w) => tx
                                .prepare_cached(
                                    "INSERT OR REPLACE INTO refresh_retries
                                 (family_id, old_digest, salt, access_expires_at, until)
                             VALUES (?1, ?2, ?3, ?4, ?5)",
                                )?
                                .execute(params![
                                    family,
                                    old.0.as_slice(),
                                    w.salt.as_slice(),
                                    access.expires_at,
                                    w.until
                                ])?,
                            None => tx
                                .prepare_cached("DELETE FROM refresh_retries WHERE family_id = ?1")?
                                .execute([family])?,
                        };
                        // Salts whose interval is over are of no use to anyone: drop them.
                        tx.prepare_cached("DELETE FROM refresh_retries WHERE until <= ?1")?
                            .execute([at])?;
                        Rotation::Rotated
                    }
                };
                tx.commit()?;
                Ok(outcome)
            })
            .await;
        if out.is_err() {
            self.access.invalidate();
        }
        out
    }

    async fn revoke_family(&self, family: i64, at: i64) -> StoreResult<()> {
        self.write_revoking(move |c| {
            let tx = c.transaction()?;
            tx.prepare_cached(
                "UPDATE token_families SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL",
            )?
            .execute(params![family, at])?;
            // A revoked family has no retry to answer (see `rotate_refresh`).
            tx.prepare_cached("DELETE FROM refresh_retries WHERE family_id = ?1")?
                .execute([family])?;
            tx.commit()?;
            Ok(())
        })
        .await
    }

    async fn revoke_access(&self, digest: TokenDigest) -> StoreResult<()> {
        let out = self
            .write(move |c| {
                c.prepare_cached("DELETE FROM access_tokens WHERE digest = ?1")?
                    .execute([digest.0.to_vec()])?;
                Ok(())
            })
            .await;
        self.access.forget(&digest);
        out
    }
}

pub(super) fn insert_access(
    tx: &rusqlite::Transaction,
    family: i64,
    t: NewToken,
) -> rusqlite::Result<()> {
    tx.prepare_cached(
        "INSERT INTO access_tokens (digest, family_id, issued_at, expires_at) VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(params![t.digest.0.to_vec(), family, t.issued_at, t.expires_at],
    )?;
    Ok(())
}

pub(super) fn insert_refresh(
    tx: &rusqlite::Transaction,
    family: i64,
    t: NewToken,
) -> rusqlite::Result<()> {
    tx.prepare_cached(
        "INSERT INTO refresh_tokens (digest, family_id, issued_at, expires_at) VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(params![t.digest.0.to_vec(), family, t.issued_at, t.expires_at],
    )?;
    Ok(())
}
