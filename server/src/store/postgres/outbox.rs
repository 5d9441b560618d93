//! [`OutboxStore`] in PostgreSQL: the same delivery rules as SQLite's, and claims under a
//! lease so that every replica's worker can drain the one outbox.
//!
//! Isolation: READ COMMITTED. A claim is one statement: it locks the due, unleased events it
//! looks at with `FOR UPDATE SKIP LOCKED` (so two replicas claiming at once never wait for,
//! nor take, each other's rows), keeps at most `per_app` of each app, and sets their
//! `leased_until`. Recording an attempt clears the lease. An event whose lease ran out (its
//! replica died mid-delivery) is due again to everyone.

use async_trait::async_trait;
use tokio_postgres::Row;

use super::*;
use crate::domain::now;
use crate::store::outbox::Backlog;

#[async_trait]
impl OutboxStore for PostgresStore {
    async fn outbox_backlog(&self) -> StoreResult<Backlog> {
        let row = self
            .query_opt(
                "SELECT COUNT(*), MIN(created_at) FROM outbox
                 WHERE delivered_at IS NULL AND failed_at IS NULL",
                &[],
            )
            .await?;
        let (pending, oldest): (i64, Option<i64>) = row.map_or((0, None), |r| (r.get(0), r.get(1)));
        Ok(Backlog {
            pending: u64::try_from(pending).unwrap_or(0),
            oldest_created_at: oldest,
        })
    }

    async fn due_deliveries(
        &self,
        at: i64,
        limit: usize,
        per_app: usize,
    ) -> StoreResult<Vec<Delivery>> {
        let rows = self
            .query(
                &format!(
                    "{SELECT} JOIN (
                        SELECT id, ROW_NUMBER() OVER (PARTITION BY app_id
                                                      ORDER BY next_attempt_at, id) AS rn
                        FROM outbox
                        WHERE delivered_at IS NULL AND failed_at IS NULL AND next_attempt_at <= $1
                     ) d ON d.id = o.id
                     WHERE d.rn <= $3 ORDER BY o.next_attempt_at, o.id LIMIT $2"
                ),
                &[&at, &big(limit), &big(per_app)],
            )
            .await?;
        Ok(rows.iter().map(from_row).collect())
    }

    async fn claim_deliveries(
        &self,
        at: i64,
        limit: usize,
        per_app: usize,
        lease_until: i64,
    ) -> StoreResult<Vec<Delivery>> {
        // How many due events one claim looks at: enough to find `limit` of them under the
        // per-app cap unless a few apps hold the whole backlog (then those wait their turn).
        let window = limit.saturating_mul(per_app.max(1)).clamp(limit, 4096);
        let rows = self
            .query(
                "WITH candidates AS (
                     SELECT id, app_id, next_attempt_at FROM outbox
                     WHERE delivered_at IS NULL AND failed_at IS NULL AND next_attempt_at <= $1
                       AND (leased_until IS NULL OR leased_until <= $1)
                     ORDER BY next_attempt_at, id
                     LIMIT $4
                     FOR UPDATE SKIP LOCKED
                 ), picked AS (
                     SELECT id FROM (
                         SELECT id, next_attempt_at, ROW_NUMBER() OVER (PARTITION BY app_id
                                ORDER BY next_attempt_at, id) AS rn
                         FROM candidates
                     ) c WHERE rn <= $3 ORDER BY next_attempt_at, id LIMIT $2
                 )
                 UPDATE outbox o SET leased_until = $5
                 FROM picked p, apps a WHERE o.id = p.id AND a.id = o.app_id
                 RETURNING o.id, o.app_id, o.event_id, o.event_type, a.client_id,
                     a.webhook_version, o.url, o.body, o.attempts, o.created_at,
                     o.failed_at IS NOT NULL, o.last_error, o.next_attempt_at",
                &[&at, &big(limit), &big(per_app), &big(window), &lease_until],
            )
            .await?;
        let mut claimed: Vec<Delivery> = rows.iter().map(from_row).collect();
        claimed.sort_by_key(|d| (d.next_attempt_at, d.id));
        Ok(claimed)
    }

    async fn release_delivery(&self, id: i64) -> StoreResult<()> {
        self.execute(
            "UPDATE outbox SET leased_until = NULL WHERE id = $1",
            &[&id],
        )
        .await?;
        Ok(())
    }

    async fn delivery_done(&self, id: i64, at: i64) -> StoreResult<()> {
        transaction!(self, |tx| {
            tx_execute(
                tx,
                "UPDATE outbox SET delivered_at = $2, attempts = attempts + 1, last_error = NULL,
                     leased_until = NULL
                 WHERE id = $1",
                &[&id, &at],
            )
            .await?;
            // The endpoint answers again: nothing should wait out a backoff an outage built up.
            tx_execute(
                tx,
                "UPDATE outbox SET next_attempt_at = $2
                 WHERE app_id = (SELECT app_id FROM outbox WHERE id = $1)
                   AND delivered_at IS NULL AND failed_at IS NULL AND next_attempt_at > $2",
                &[&id, &at],
            )
            .await?;
            Ok(())
        })
    }

    async fn delivery_attempt_failed(
        &self,
        id: i64,
        error: &str,
        retry_at: Option<i64>,
    ) -> StoreResult<()> {
        let at = now();
        transaction!(self, |tx| {
            match retry_at {
                Some(next) => {
                    tx_execute(
                        tx,
                        "UPDATE outbox SET attempts = attempts + 1, last_error = $2,
                             next_attempt_at = $3, leased_until = NULL
                         WHERE id = $1",
                        &[&id, &error, &next],
                    )
                    .await?;
                    // One probe per retry while an endpoint is down, not one per event.
                    tx_execute(
                        tx,
                        "UPDATE outbox SET next_attempt_at = $2
                         WHERE app_id = (SELECT app_id FROM outbox WHERE id = $1) AND id <> $1
                           AND delivered_at IS NULL AND failed_at IS NULL AND next_attempt_at < $2",
                        &[&id, &next],
                    )
                    .await?;
                }
                None => {
                    tx_execute(
                        tx,
                        "UPDATE outbox SET attempts = attempts + 1, last_error = $2,
                             failed_at = $3, leased_until = NULL
                         WHERE id = $1",
                        &[&id, &error, &at],
                    )
                    .await?;
                }
            }
            Ok(())
        })
    }

    async fn undelivered(&self, app_id: i64, limit: usize) -> StoreResult<Vec<Delivery>> {
        let rows = self
            .query(
                &format!(
                    "{SELECT} WHERE o.app_id = $1 AND o.delivered_at IS NULL
                     ORDER BY o.id DESC LIMIT $2"
                ),
                &[&app_id, &big(limit)],
            )
            .await?;
        Ok(rows.iter().map(from_row).collect())
    }

    async fn retry_delivery(
        &self,
        app_id: i64,
        event_id: &str,
        at: i64,
    ) -> StoreResult<Option<Delivery>> {
        let changed = self
            .execute(
                "UPDATE outbox SET next_attempt_at = $3, failed_at = NULL
                 WHERE app_id = $1 AND event_id = $2 AND delivered_at IS NULL",
                &[&app_id, &event_id, &at],
            )
            .await?;
        if changed != 1 {
            return Ok(None);
        }
        let row = self
            .query_opt(&format!("{SELECT} WHERE o.event_id = $1"), &[&event_id])
            .await?;
        Ok(row.map(|r| from_row(&r)))
    }
}

const SELECT: &str = "SELECT o.id, o.app_id, o.event_id, o.event_type, a.client_id,
        a.webhook_version, o.url, o.body, o.attempts, o.created_at, o.failed_at IS NOT NULL,
        o.last_error, o.next_attempt_at
    FROM outbox o JOIN apps a ON a.id = o.app_id";

fn from_row(r: &Row) -> Delivery {
    let failed: bool = r.get(10);
    Delivery {
        id: r.get(0),
        app_id: r.get(1),
        event_id: r.get(2),
        event_type: r.get(3),
        client_id: r.get(4),
        webhook_version: r.get(5),
        url: r.get(6),
        body: r.get(7),
        attempts: r.get(8),
        created_at: r.get(9),
        failed,
        last_error: r.get(11),
        next_attempt_at: if failed { None } else { Some(r.get(12)) },
    }
}
