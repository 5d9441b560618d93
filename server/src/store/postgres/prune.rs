//! [`Store`] in PostgreSQL: pruning, one short statement per batch (READ COMMITTED; a row a
//! concurrent request still uses is either deleted before it looks or found by it, as with
//! SQLite).

use async_trait::async_trait;

use super::*;

#[async_trait]
impl Store for PostgresStore {
    fn cache_stats(&self) -> Vec<CacheStats> {
        super::cache::stats(&self.access, &self.clients)
    }

    async fn prune(
        &self,
        what: Prunable,
        cutoff: i64,
        batch: usize,
        after: i64,
    ) -> StoreResult<Pruned> {
        let n = big(batch.max(1));
        let Some(by_expiry) = what.by_expiry() else {
            // Families without tokens, in id order from `after`; checked again as deleted.
            let rows = self
                .query(
                    "DELETE FROM token_families WHERE id IN (
                         SELECT f.id FROM token_families f
                         WHERE f.id > $1 AND f.created_at < $2
                           AND NOT EXISTS (SELECT 1 FROM access_tokens t WHERE t.family_id = f.id)
                           AND NOT EXISTS (SELECT 1 FROM refresh_tokens t WHERE t.family_id = f.id)
                         ORDER BY f.id LIMIT $3)
                       AND NOT EXISTS (SELECT 1 FROM access_tokens t
                                       WHERE t.family_id = token_families.id)
                       AND NOT EXISTS (SELECT 1 FROM refresh_tokens t
                                       WHERE t.family_id = token_families.id)
                     RETURNING id",
                    &[&after, &cutoff, &n],
                )
                .await?;
            let last = rows.iter().map(|r| r.get::<_, i64>(0)).max();
            let deleted = rows.len();
            return Ok(Pruned {
                deleted,
                resume_after: if big(deleted) >= n { last } else { None },
            });
        };
        let deleted = self
            .execute(&by_expiry.delete("$1", "$2"), &[&cutoff, &n])
            .await?;
        Ok(ExpiryBatch::pruned(
            usize::try_from(deleted).unwrap_or(usize::MAX),
            batch,
        ))
    }
}
