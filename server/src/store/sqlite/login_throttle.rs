//! [`LoginThrottleStore`] in SQLite. One process serves a SQLite database, so the back-off
//! could have stayed in memory there; it is kept in the database instead, for one code path
//! in [`crate::throttle`] and one set of conformance checks, and so that restarting the
//! server does not hand an attacker a fresh budget. What it costs: a successful sign-in reads
//! one or two rows from the pool; a failed one (which has already cost a password check) is
//! one short write on the writer thread.

use async_trait::async_trait;
use rusqlite::{params, OptionalExtension};

use super::*;
use crate::store::login_throttle::{count, forget_at, remembered, COUNT_FAILURE, FORGET};

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

    async fn count_login_failure(
        &self,
        keys: Vec<ThrottleKey>,
        now_ms: i64,
        forget_after_ms: i64,
    ) -> StoreResult<Vec<u32>> {
        let until = forget_at(now_ms, forget_after_ms);
        self.write(move |c| {
            let tx = c.transaction()?;
            let mut counts = Vec::with_capacity(keys.len());
            {
                let mut st = tx.prepare_cached(&COUNT_FAILURE.replace('$', "?"))?;
                for key in &keys {
                    let n: i64 = st.query_row(
                        params![key.slot, key.digest.as_slice(), now_ms, until],
                        |r| r.get(0),
                    )?;
                    counts.push(count(n));
                }
            }
            tx.commit()?;
            Ok(counts)
        })
        .await
    }

    async fn forget_login_failures(&self, key: ThrottleKey) -> StoreResult<()> {
        self.write(move |c| {
            c.prepare_cached(&FORGET.replace('$', "?"))?
                .execute(params![key.slot, key.digest.as_slice()])?;
            Ok(())
        })
        .await
    }
}
