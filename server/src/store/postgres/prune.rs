//! [`Store`] in PostgreSQL: pruning, one short statement per batch (READ COMMITTED; a row a
//! concurrent request still uses is either deleted before it looks or found by it, as with
//! SQLite).

use async_trait::async_trait;

use super::*;

#[async_trait]
impl Store for PostgresStore {
    fn cache_stats(&self) -> Vec<CacheStats> {
        let stats = |cache, (hits, misses)| CacheStats {
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
        let n = big(batch.max(1));
        if what == Prunable::Families {
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
        }
        // Tables found by an index on their expiry: each batch deletes the oldest rows past
        // the cutoff, and the kind is done when a batch comes back short.
        let (table, key, column, extra) = match what {
            Prunable::Sessions => ("sessions", "digest", "expires_at", ""),
            Prunable::AccessTokens => ("access_tokens", "digest", "expires_at", ""),
            Prunable::RefreshTokens => ("refresh_tokens", "digest", "expires_at", ""),
            Prunable::Codes => (
                "authorization_codes",
                "digest",
                "expires_at",
                "AND family_id IS NULL",
            ),
            Prunable::DeliveredEvents => (
                "outbox",
                "id",
                "delivered_at",
                "AND delivered_at IS NOT NULL",
            ),
            Prunable::Notifications => ("app_notifications", "id", "created_at", ""),
            Prunable::Families => unreachable!("handled above"),
        };
        let deleted = self
            .execute(
                &format!(
                    "DELETE FROM {table} WHERE {key} IN (
                         SELECT {key} FROM {table} WHERE {column} < $1 {extra}
                         ORDER BY {column} LIMIT $2)"
                ),
                &[&cutoff, &n],
            )
            .await?;
        let deleted = usize::try_from(deleted).unwrap_or(usize::MAX);
        Ok(Pruned {
            deleted,
            resume_after: (big(deleted) >= n).then_some(0),
        })
    }
}
