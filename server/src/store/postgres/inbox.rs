//! [`InboxStore`] in PostgreSQL.
//!
//! Isolation: READ COMMITTED. Posting and setting a badge lock the install row first
//! (`FOR NO KEY UPDATE`, which still lets the new row's foreign key share it): racing posts of
//! one install take turns, so the rate count each sees includes the others' inserts, and an
//! uninstall (an `UPDATE` of that row) lands wholly before or after. Reads and read marks need
//! no lock: marking read is an idempotent `INSERT ... ON CONFLICT DO NOTHING`.

use async_trait::async_trait;
use tokio_postgres::Row;

use super::*;
use crate::store::inbox::{BadgeSet, SET_BADGE};

/// The columns of a notification as member `$1` sees it (`read` is theirs).
const NOTIFICATION_SELECT: &str = "SELECT n.id, n.install_id, i.app_id, a.name, i.company_id,
        n.user_id, n.title, n.body, n.path, n.created_at,
        EXISTS (SELECT 1 FROM app_notification_reads r
                WHERE r.notification_id = n.id AND r.user_id = $1)
    FROM app_notifications n
    JOIN installs i ON i.id = n.install_id AND i.state = 'active'
    JOIN apps a ON a.id = i.app_id
    JOIN memberships m ON m.company_id = i.company_id AND m.user_id = $1
    WHERE (n.user_id IS NULL OR n.user_id = $1)";

/// The notifications member `$1` may see, as ids (for marking read).
const VISIBLE_IDS: &str = "SELECT n.id FROM app_notifications n
    JOIN installs i ON i.id = n.install_id AND i.state = 'active'
    JOIN memberships m ON m.company_id = i.company_id AND m.user_id = $1
    WHERE (n.user_id IS NULL OR n.user_id = $1)";

fn notification_from(r: &Row) -> Notification {
    Notification {
        id: r.get(0),
        install_id: r.get(1),
        app_id: r.get(2),
        app_name: r.get(3),
        company_id: r.get(4),
        user_id: r.get(5),
        title: r.get(6),
        body: r.get(7),
        path: r.get(8),
        created_at: r.get(9),
        read: r.get(10),
    }
}

/// Locks an active install; `None` when it is not active, else whether `user` (if any) is a
/// member of its company.
async fn lock_install(
    tx: &deadpool_postgres::Transaction<'_>,
    install_id: i64,
    user: Option<i64>,
) -> StoreResult<Option<bool>> {
    let row = tx_query_opt(
        tx,
        "SELECT i.company_id FROM installs i
         WHERE i.id = $1 AND i.state = 'active' FOR NO KEY UPDATE",
        &[&install_id],
    )
    .await?;
    let Some(row) = row else { return Ok(None) };
    let company: i64 = row.get(0);
    let Some(user) = user else {
        return Ok(Some(true));
    };
    let member = tx_query_opt(
        tx,
        "SELECT 1 FROM memberships WHERE company_id = $1 AND user_id = $2",
        &[&company, &user],
    )
    .await?;
    Ok(Some(member.is_some()))
}

fn limit_param(limit: usize) -> i64 {
    i64::try_from(limit).unwrap_or(i64::MAX)
}

#[async_trait]
impl InboxStore for PostgresStore {
    async fn post_notification(
        &self,
        n: NewNotification,
        rate: Rate,
        now: i64,
    ) -> StoreResult<Posted> {
        transaction!(self, |tx| {
            match lock_install(tx, n.install_id, n.user_id).await? {
                None => return Ok(Posted::NoInstall),
                Some(false) => return Ok(Posted::NoMember),
                Some(true) => {}
            }
            let since = now.saturating_sub(rate.window);
            let row = tx_query_opt(
                tx,
                "SELECT COUNT(*), MIN(created_at) FROM app_notifications
                 WHERE install_id = $1 AND created_at > $2",
                &[&n.install_id, &since],
            )
            .await?
            .ok_or(StoreError::NotFound("install"))?;
            let (recent, oldest): (i64, Option<i64>) = (row.get(0), row.get(1));
            if recent >= i64::from(rate.limit) {
                let retry_at = oldest.unwrap_or(now).saturating_add(rate.window);
                return Ok(Posted::Throttled { retry_at });
            }
            let row = tx_query_opt(
                tx,
                "WITH n AS (
                     INSERT INTO app_notifications (install_id, user_id, title, body, path,
                                                    created_at)
                     VALUES ($1, $2, $3, $4, $5, $6) RETURNING *)
                 SELECT n.id, n.install_id, i.app_id, a.name, i.company_id, n.user_id,
                        n.title, n.body, n.path, n.created_at, FALSE
                 FROM n JOIN installs i ON i.id = n.install_id JOIN apps a ON a.id = i.app_id",
                &[&n.install_id, &n.user_id, &n.title, &n.body, &n.path, &now],
            )
            .await?
            .ok_or(StoreError::NotFound("install"))?;
            Ok(Posted::Posted(notification_from(&row)))
        })
    }

    async fn set_badge(
        &self,
        install_id: i64,
        user_id: Option<i64>,
        count: u32,
        now: i64,
    ) -> StoreResult<BadgeSet> {
        transaction!(self, |tx| {
            if lock_install(tx, install_id, user_id).await? != Some(true) {
                return Ok(BadgeSet::NoSuchMember);
            }
            let written = tx_execute(
                tx,
                SET_BADGE,
                &[&install_id, &user_id.unwrap_or(0), &i64::from(count), &now],
            )
            .await?;
            Ok(if written == 0 {
                BadgeSet::Unchanged
            } else {
                BadgeSet::Changed
            })
        })
    }

    async fn notifications_for(
        &self,
        user_id: i64,
        before: Option<i64>,
        limit: usize,
    ) -> StoreResult<Vec<Notification>> {
        let rows = self
            .query(
                &format!(
                    "{NOTIFICATION_SELECT} AND ($2::BIGINT IS NULL OR n.id < $2)
                     ORDER BY n.id DESC LIMIT $3"
                ),
                &[&user_id, &before, &limit_param(limit)],
            )
            .await?;
        Ok(rows.iter().map(notification_from).collect())
    }

    async fn notifications_since(
        &self,
        user_id: i64,
        after: i64,
        limit: usize,
    ) -> StoreResult<Vec<Notification>> {
        let rows = self
            .query(
                &format!("{NOTIFICATION_SELECT} AND n.id > $2 ORDER BY n.id LIMIT $3"),
                &[&user_id, &after, &limit_param(limit)],
            )
            .await?;
        Ok(rows.iter().map(notification_from).collect())
    }

    async fn mark_read(&self, user_id: i64, ids: Vec<i64>, up_to: Option<i64>) -> StoreResult<u64> {
        let mut marked = 0;
        if !ids.is_empty() {
            marked += self
                .execute(
                    &format!(
                        "INSERT INTO app_notification_reads (notification_id, user_id)
                         SELECT id, $1 FROM ({VISIBLE_IDS} AND n.id = ANY($2)) v
                         ON CONFLICT DO NOTHING"
                    ),
                    &[&user_id, &ids],
                )
                .await?;
        }
        if let Some(up_to) = up_to {
            marked += self
                .execute(
                    &format!(
                        "INSERT INTO app_notification_reads (notification_id, user_id)
                         SELECT id, $1 FROM ({VISIBLE_IDS} AND n.id <= $2) v
                         ON CONFLICT DO NOTHING"
                    ),
                    &[&user_id, &up_to],
                )
                .await?;
        }
        Ok(marked)
    }

    async fn badges_for(&self, user_id: i64) -> StoreResult<Vec<Badge>> {
        // The member's own badge when set, else the company-wide one.
        let rows = self
            .query(
                "SELECT id, n FROM (
                     SELECT i.id, COALESCE(
                         (SELECT b.count FROM app_badges b
                          WHERE b.install_id = i.id AND b.user_id = $1),
                         (SELECT b.count FROM app_badges b
                          WHERE b.install_id = i.id AND b.user_id = 0), 0) AS n
                     FROM installs i
                     JOIN memberships m ON m.company_id = i.company_id AND m.user_id = $1
                     WHERE i.state = 'active') b
                 WHERE n > 0 ORDER BY id",
                &[&user_id],
            )
            .await?;
        Ok(rows
            .iter()
            .map(|r| Badge {
                install_id: r.get(0),
                count: u32::try_from(r.get::<_, i64>(1)).unwrap_or(u32::MAX),
            })
            .collect())
    }
}
