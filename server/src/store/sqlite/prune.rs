//! [`Store`] in SQLite.

use async_trait::async_trait;
use rusqlite::params;

use super::*;

#[async_trait]
impl Store for SqliteStore {
    fn cache_stats(&self) -> Vec<crate::store::CacheStats> {
        let stats = |cache, (hits, misses)| crate::store::CacheStats {
            cache,
            hits,
            misses,
        };
        vec![
            stats("tokens", self.access.lookups()),
            stats("clients", self.clients.lookups()),
        ]
    }

    async fn prune(
        &self,
        what: Prunable,
        cutoff: i64,
        batch: usize,
        after: i64,
    ) -> StoreResult<Pruned> {
        let n = i64::try_from(batch.max(1)).unwrap_or(i64::MAX);
        if what == Prunable::Families {
            // No index finds a family without tokens, so the search is a read (on the pool,
            // beside the writer); the write deletes only what it found, checking again.
            let candidates: Vec<i64> = self
                .run(move |c| {
                    let mut st = c.prepare_cached(
                        "SELECT f.id FROM token_families f
                         WHERE f.id > ?1 AND f.created_at < ?2
                           AND NOT EXISTS (SELECT 1 FROM access_tokens t WHERE t.family_id = f.id)
                           AND NOT EXISTS (SELECT 1 FROM refresh_tokens t WHERE t.family_id = f.id)
                         ORDER BY f.id LIMIT ?3",
                    )?;
                    let rows = st.query_map(params![after, cutoff, n], |r| r.get(0))?;
                    Ok(rows.collect::<Result<_, _>>()?)
                })
                .await?;
            let Some(&last) = candidates.last() else {
                return Ok(Pruned {
                    deleted: 0,
                    resume_after: None,
                });
            };
            let more = candidates.len() >= batch.max(1);
            let deleted = self
                .write(move |c| {
                    let tx = c.transaction()?;
                    let mut deleted = 0;
                    {
                        let mut st = tx.prepare_cached(
                            "DELETE FROM token_families WHERE id = ?1
                               AND NOT EXISTS (SELECT 1 FROM access_tokens t
                                               WHERE t.family_id = token_families.id)
                               AND NOT EXISTS (SELECT 1 FROM refresh_tokens t
                                               WHERE t.family_id = token_families.id)",
                        )?;
                        for id in candidates {
                            deleted += st.execute([id])?;
                        }
                    }
                    tx.commit()?;
                    Ok(deleted)
                })
                .await?;
            return Ok(Pruned {
                deleted,
                resume_after: more.then_some(last),
            });
        }
        self.write(move |c| {
            // Tables found by an index on their expiry: each batch deletes the oldest rows
            // past the cutoff, and the kind is done when a batch comes back short.
            let by_expiry = |table: &str, key: &str, column: &str, extra: &str| {
                let select = format!(
                    "SELECT {key} FROM {table} WHERE {column} < ?1 {extra} ORDER BY {column} LIMIT ?2"
                );
                delete_batch(c, table, key, &select, cutoff, n)
            };
            let deleted = match what {
                Prunable::Sessions => by_expiry("sessions", "digest", "expires_at", "")?,
                Prunable::AccessTokens => by_expiry("access_tokens", "digest", "expires_at", "")?,
                Prunable::RefreshTokens => {
                    by_expiry("refresh_tokens", "digest", "expires_at", "")?
                }
                Prunable::Codes => by_expiry(
                    "authorization_codes",
                    "digest",
                    "expires_at",
                    "AND family_id IS NULL",
                )?,
                Prunable::DeliveredEvents => by_expiry(
                    "outbox",
                    "id",
                    "delivered_at",
                    "AND delivered_at IS NOT NULL",
                )?,
                Prunable::Notifications => {
                    by_expiry("app_notifications", "id", "created_at", "")?
                }
                // Done above; never reached.
                Prunable::Families => 0,
            };
            Ok(Pruned {
                deleted,
                resume_after: (i64::try_from(deleted).unwrap_or(i64::MAX) >= n).then_some(0),
            })
        })
        .await
    }
}

/// Deletes up to `batch` rows chosen by `select` (which takes the cutoff and the batch size and
/// returns keys) from `table` by `key`.
pub(super) fn delete_batch(
    c: &rusqlite::Connection,
    table: &str,
    key: &str,
    select: &str,
    cutoff: i64,
    batch: i64,
) -> rusqlite::Result<usize> {
    c.prepare_cached(&format!("DELETE FROM {table} WHERE {key} IN ({select})"))?
        .execute(params![cutoff, batch])
}
