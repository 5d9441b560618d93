//! [`LoginThrottleStore`] in PostgreSQL, shared by every replica on the database.
//!
//! Isolation: each statement on its own (autocommit, READ COMMITTED). Counting a failure is
//! one `INSERT ... ON CONFLICT (slot) DO UPDATE`, which PostgreSQL makes atomic on the row:
//! racing failures of one key (on any replica) take turns on its slot, each adding one to the
//! count the previous one left. A failure's keys (the username's and the network's) need not
//! change together, so their upserts are sent at once on one connection, not in a transaction.
//! Reading is one statement for all the keys of an attempt: the only round trip the back-off
//! adds to a successful sign-in.

use async_trait::async_trait;

use super::*;
use crate::store::login_throttle::{count, forget_at, remembered, COUNT_FAILURE, FORGET};

#[async_trait]
impl LoginThrottleStore for PostgresStore {
    async fn login_failures(
        &self,
        keys: Vec<ThrottleKey>,
        now_ms: i64,
    ) -> StoreResult<Vec<Option<Failures>>> {
        let slots: Vec<i64> = keys.iter().map(|k| k.slot).collect();
        let rows = self
            .query(
                "SELECT slot, digest, failures, last_failure_ms FROM login_backoff
                 WHERE slot = ANY($1) AND forget_at * 1000 > $2",
                &[&slots, &now_ms],
            )
            .await?;
        Ok(keys
            .iter()
            .map(|key| {
                rows.iter()
                    .filter(|r| r.get::<_, i64>(0) == key.slot)
                    .find_map(|r| remembered(key, r.get::<_, &[u8]>(1), r.get(2), r.get(3)))
            })
            .collect())
    }

    async fn count_login_failure(
        &self,
        keys: Vec<ThrottleKey>,
        now_ms: i64,
        forget_after_ms: i64,
    ) -> StoreResult<Vec<u32>> {
        let until = forget_at(now_ms, forget_after_ms);
        let conn = self.conn().await?;
        let st = conn.prepare_cached(COUNT_FAILURE).await?;
        let upserts = keys.iter().map(|key| {
            let (conn, st) = (&conn, &st);
            async move {
                let row = conn
                    .query_one(st, &[&key.slot, &key.digest.as_slice(), &now_ms, &until])
                    .await?;
                Ok::<_, StoreError>(count(row.get(0)))
            }
        });
        futures_util::future::try_join_all(upserts).await
    }

    async fn forget_login_failures(&self, key: ThrottleKey) -> StoreResult<()> {
        self.execute(FORGET, &[&key.slot, &key.digest.as_slice()])
            .await?;
        Ok(())
    }
}
