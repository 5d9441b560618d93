//! [`Store`] in SQLite.

use async_trait::async_trait;
use rusqlite::params;

use super::*;

#[async_trait]
impl Store for SqliteStore {
    fn cache_stats(&self) -> Vec<crate::store::CacheStats> {
        crate::store::cache::stats(&self.access, &self.clients)
    }

    async fn prune(
        &self,
        what: Prunable,
        cutoff: i64,
        batch: usize,
        after: i64,
    ) -> StoreResult<Pruned> {
        let n = i64::try_from(batch.max(1)).unwrap_or(i64::MAX);
        let Some(by_expiry) = what.by_expiry() else {
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
        };
        self.write(move |c| {
            let deleted = c
                .prepare_cached(&by_expiry.delete("?1", "?2"))?
                .execute(params![cutoff, n])?;
            Ok(ExpiryBatch::pruned(deleted, batch))
        })
        .await
    }
}
