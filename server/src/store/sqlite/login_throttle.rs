//! [`LoginThrottleStore`] in SQLite. One process serves a SQLite database, so the back-off
//! could have stayed in memory there; it is kept in the database instead, for one code path
//! in [`crate::throttle`] and one set of conformance checks, and so that restarting the
//! server does not hand an attacker a fresh budget. What it costs: a successful sign-in reads
//! two to four rows from the pool and makes two short writes on the writer thread (counting
//! the attempt before its check, settling it after); a failed one makes one.

use async_trait::async_trait;
use rusqlite::{params, OptionalExtension};

use super::*;
use crate::store::login_throttle::{
    forget_at, in_slot_order, remembered, CLAIM, FORGET, REFUND_DECREMENT, REFUND_LAST,
};

#[async_trait]
impl LoginThrottleStore for SqliteStore {
    async fn login_failures(
        &self,
        keys: Vec<ThrottleKey>,
        now_ms: i64,
    ) -> StoreResult<Vec<Option<Failures>>> {
        self.run(move |c| {
            let mut st = c.prepare_cached(
                "SELECT digest, failures, last_failure_ms FROM login_backoff
                 WHERE slot = ?1 AND forget_at * 1000 > ?2",
            )?;
            let mut found = Vec::with_capacity(keys.len());
            for key in &keys {
                let row = st
                    .query_row(params![key.slot, now_ms], |r| {
                        Ok((r.get::<_, Vec<u8>>(0)?, r.get(1)?, r.get(2)?))
                    })
                    .optional()?;
                found.push(
                    row.and_then(|(digest, failures, last)| {
                        remembered(key, &digest, failures, last)
                    }),
                );
            }
            Ok(found)
        })
        .await
    }

    async fn claim_login_attempt(
        &self,
        claims: Vec<Claim>,
        now_ms: i64,
        forget_after_ms: i64,
    ) -> StoreResult<bool> {
        let until = forget_at(now_ms, forget_after_ms);
        self.write(move |c| {
            let tx = c.transaction()?;
            {
                let mut st = tx.prepare_cached(&CLAIM.replace('$', "?"))?;
                for claim in in_slot_order(claims) {
                    let wrote = st
                        .query_row(
                            params![
                                claim.key.slot,
                                claim.key.digest.as_slice(),
                                claim.count,
                                now_ms,
                                until,
                                claim.seen
                            ],
                            |_| Ok(()),
                        )
                        .optional()?;
                    if wrote.is_none() {
                        // Dropping the transaction rolls the rows before this one back.
                        return Ok(false);
                    }
                }
            }
            tx.commit()?;
            Ok(true)
        })
        .await
    }

    async fn settle_login_success(
        &self,
        forget: Vec<ThrottleKey>,
        refund: Vec<ThrottleKey>,
    ) -> StoreResult<()> {
        self.write(move |c| {
            let tx = c.transaction()?;
            for (sql, keys) in [
                (FORGET, &forget),
                (REFUND_LAST, &refund),
                (REFUND_DECREMENT, &refund),
            ] {
                let mut st = tx.prepare_cached(&sql.replace('$', "?"))?;
                for key in keys {
                    st.execute(params![key.slot, key.digest.as_slice()])?;
                }
            }
            tx.commit()?;
            Ok(())
        })
        .await
    }
}
