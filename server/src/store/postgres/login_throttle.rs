//! [`LoginThrottleStore`] in PostgreSQL, shared by every replica on the database.
//!
//! Isolation: READ COMMITTED. Counting an attempt is a compare-and-set per row, all of an
//! attempt's rows in one transaction: `INSERT ... ON CONFLICT (slot) DO UPDATE ... WHERE` the
//! count is still the one read. PostgreSQL evaluates that `WHERE` on the row's latest version,
//! after waiting for any transaction that holds it, so of attempts racing on one key (on any
//! replica) exactly one moves each count on; the others write nothing and read again. Rows are
//! claimed in slot order, so two attempts sharing rows cannot deadlock. Reading is one
//! statement for all the keys of an attempt.

use async_trait::async_trait;

use super::*;
use crate::store::login_throttle::{
    forget_at, in_slot_order, remembered, CLAIM, FORGET, REFUND_DECREMENT, REFUND_LAST,
};

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

    async fn claim_login_attempt(
        &self,
        claims: Vec<Claim>,
        now_ms: i64,
        forget_after_ms: i64,
    ) -> StoreResult<bool> {
        let until = forget_at(now_ms, forget_after_ms);
        let claims = in_slot_order(claims);
        let wrote = transaction!(self, |tx| {
            for claim in &claims {
                let (count, seen) = (i64::from(claim.count), i64::from(claim.seen));
                let row = tx_query_opt(
                    tx,
                    CLAIM,
                    &[
                        &claim.key.slot,
                        &claim.key.digest.as_slice(),
                        &count,
                        &now_ms,
                        &until,
                        &seen,
                    ],
                )
                .await?;
                if row.is_none() {
                    // Nothing of this claim may stay: rolled back.
                    return Err(StoreError::Conflict("login_backoff"));
                }
            }
            Ok(())
        });
        match wrote {
            Ok(()) => Ok(true),
            Err(StoreError::Conflict("login_backoff")) => Ok(false),
            Err(e) => Err(e),
        }
    }

    async fn settle_login_success(
        &self,
        forget: Vec<ThrottleKey>,
        refund: Vec<ThrottleKey>,
    ) -> StoreResult<()> {
        transaction!(self, |tx| {
            for (sql, keys) in [
                (FORGET, &forget),
                (REFUND_LAST, &refund),
                (REFUND_DECREMENT, &refund),
            ] {
                for key in keys {
                    tx_execute(tx, sql, &[&key.slot, &key.digest.as_slice()]).await?;
                }
            }
            Ok(())
        })
    }
}
