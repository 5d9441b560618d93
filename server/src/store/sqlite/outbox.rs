//! [`OutboxStore`] in SQLite: what is due, recording attempts, and the developer's view; the
//! delivery rules read in one place.

use rusqlite::{params, Connection, OptionalExtension, Row};

use async_trait::async_trait;

use super::SqliteStore;
use crate::domain::now;
use crate::store::outbox::Backlog;
use crate::store::{Delivery, OutboxStore, StoreResult};

#[async_trait]
impl OutboxStore for SqliteStore {
    async fn outbox_backlog(&self) -> StoreResult<Backlog> {
        self.run(|c| backlog(c)).await
    }

    async fn due_deliveries(
        &self,
        at: i64,
        limit: usize,
        per_app: usize,
    ) -> StoreResult<Vec<Delivery>> {
        self.run(move |c| due(c, at, limit, per_app)).await
    }

    async fn delivery_done(&self, id: i64, at: i64) -> StoreResult<()> {
        self.write(move |c| done(c, id, at)).await
    }

    async fn delivery_attempt_failed(
        &self,
        id: i64,
        error: &str,
        retry_at: Option<i64>,
    ) -> StoreResult<()> {
        let error = error.to_string();
        self.write(move |c| failed(c, id, &error, retry_at, now()))
            .await
    }

    async fn undelivered(&self, app_id: i64, limit: usize) -> StoreResult<Vec<Delivery>> {
        self.run(move |c| undelivered(c, app_id, limit)).await
    }

    async fn retry_delivery(
        &self,
        app_id: i64,
        event_id: &str,
        at: i64,
    ) -> StoreResult<Option<Delivery>> {
        let event_id = event_id.to_string();
        self.write(move |c| retry_now(c, app_id, &event_id, at))
            .await
    }
}

const SELECT: &str = "SELECT o.id, o.app_id, o.event_id, o.event_type, a.client_id,
        a.webhook_version, o.url, o.body, o.attempts, o.created_at, o.failed_at IS NOT NULL,
        o.last_error, o.next_attempt_at
    FROM outbox o JOIN apps a ON a.id = o.app_id";

fn from_row(r: &Row) -> rusqlite::Result<Delivery> {
    let failed: bool = r.get(10)?;
    Ok(Delivery {
        id: r.get(0)?,
        app_id: r.get(1)?,
        event_id: r.get(2)?,
        event_type: r.get(3)?,
        client_id: r.get(4)?,
        webhook_version: r.get(5)?,
        url: r.get(6)?,
        body: r.get(7)?,
        attempts: r.get(8)?,
        created_at: r.get(9)?,
        failed,
        last_error: r.get(11)?,
        next_attempt_at: if failed { None } else { r.get(12)? },
    })
}

/// Due events, earliest first, at most `per_app` of each app.
fn backlog(c: &Connection) -> StoreResult<Backlog> {
    // The pending rows are the `outbox_due` partial index: counted without reading the table.
    let (pending, oldest): (i64, Option<i64>) = c
        .prepare_cached(
            "SELECT COUNT(*), MIN(created_at) FROM outbox
             WHERE delivered_at IS NULL AND failed_at IS NULL",
        )?
        .query_row([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(Backlog {
        pending: u64::try_from(pending).unwrap_or(0),
        oldest_created_at: oldest,
    })
}

fn due(c: &Connection, at: i64, limit: usize, per_app: usize) -> StoreResult<Vec<Delivery>> {
    let mut st = c.prepare_cached(&format!(
        "{SELECT} JOIN (
            SELECT id, ROW_NUMBER() OVER (PARTITION BY app_id ORDER BY next_attempt_at, id) AS rn
            FROM outbox
            WHERE delivered_at IS NULL AND failed_at IS NULL AND next_attempt_at <= ?1
         ) d ON d.id = o.id
         WHERE d.rn <= ?3 ORDER BY o.next_attempt_at, o.id LIMIT ?2"
    ))?;
    let rows = st.query_map(params![at, limit as i64, per_app as i64], from_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Marks an event delivered and makes the app's other pending events due now: the endpoint
/// answers again, so nothing should wait out a backoff that an outage built up.
fn done(c: &mut Connection, id: i64, at: i64) -> StoreResult<()> {
    let tx = c.transaction()?;
    tx.prepare_cached(
        "UPDATE outbox SET delivered_at = ?2, attempts = attempts + 1, last_error = NULL
         WHERE id = ?1",
    )?
    .execute(params![id, at])?;
    tx.prepare_cached(
        "UPDATE outbox SET next_attempt_at = ?2
         WHERE app_id = (SELECT app_id FROM outbox WHERE id = ?1)
           AND delivered_at IS NULL AND failed_at IS NULL AND next_attempt_at > ?2",
    )?
    .execute(params![id, at])?;
    tx.commit()?;
    Ok(())
}

/// Records a failed attempt. With a retry time, the app's other pending events that were due
/// earlier are deferred to it (one probe per retry while an endpoint is down, not one per
/// event); without one, the event is given up.
fn failed(
    c: &mut Connection,
    id: i64,
    error: &str,
    retry_at: Option<i64>,
    at: i64,
) -> StoreResult<()> {
    let tx = c.transaction()?;
    match retry_at {
        Some(next) => {
            tx.prepare_cached(
                "UPDATE outbox SET attempts = attempts + 1, last_error = ?2, next_attempt_at = ?3
                 WHERE id = ?1",
            )?
            .execute(params![id, error, next])?;
            tx.prepare_cached(
                "UPDATE outbox SET next_attempt_at = ?2
                 WHERE app_id = (SELECT app_id FROM outbox WHERE id = ?1) AND id != ?1
                   AND delivered_at IS NULL AND failed_at IS NULL AND next_attempt_at < ?2",
            )?
            .execute(params![id, next])?;
        }
        None => {
            tx.prepare_cached(
                "UPDATE outbox SET attempts = attempts + 1, last_error = ?2, failed_at = ?3
                 WHERE id = ?1",
            )?
            .execute(params![id, error, at])?;
        }
    }
    tx.commit()?;
    Ok(())
}

/// An app's events that are not delivered (pending, retrying, or given up), newest first.
fn undelivered(c: &Connection, app_id: i64, limit: usize) -> StoreResult<Vec<Delivery>> {
    let mut st = c.prepare_cached(&format!(
        "{SELECT} WHERE o.app_id = ?1 AND o.delivered_at IS NULL ORDER BY o.id DESC LIMIT ?2"
    ))?;
    let rows = st.query_map(params![app_id, limit as i64], from_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Makes one undelivered event of an app due now, reviving it if it had been given up.
/// `None` when the app has no such undelivered event.
fn retry_now(
    c: &mut Connection,
    app_id: i64,
    event_id: &str,
    at: i64,
) -> StoreResult<Option<Delivery>> {
    let tx = c.transaction()?;
    let changed = tx
        .prepare_cached(
            "UPDATE outbox SET next_attempt_at = ?3, failed_at = NULL
             WHERE app_id = ?1 AND event_id = ?2 AND delivered_at IS NULL",
        )?
        .execute(params![app_id, event_id, at])?;
    let found = if changed == 1 {
        tx.prepare_cached(&format!("{SELECT} WHERE o.event_id = ?1"))?
            .query_row([event_id], from_row)
            .optional()?
    } else {
        None
    };
    tx.commit()?;
    Ok(found)
}
