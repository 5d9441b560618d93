//! [`InboxStore`] in SQLite. Posting is one `IMMEDIATE` transaction (SQLite's single writer
//! serializes racers), so the rate count and the insert cannot interleave.

use async_trait::async_trait;
use rusqlite::{params, OptionalExtension, Row};

use super::*;
use crate::store::inbox::{BadgeSet, SET_BADGE};

/// The columns of a notification as member `?1` sees it (`read` is theirs).
const NOTIFICATION_SELECT: &str = "SELECT n.id, n.install_id, i.app_id, a.name, i.company_id,
        n.user_id, n.title, n.body, n.path, n.created_at,
        EXISTS (SELECT 1 FROM app_notification_reads r
                WHERE r.notification_id = n.id AND r.user_id = ?1)
    FROM app_notifications n
    JOIN installs i ON i.id = n.install_id AND i.state = 'active'
    JOIN apps a ON a.id = i.app_id
    JOIN memberships m ON m.company_id = i.company_id AND m.user_id = ?1
    WHERE (n.user_id IS NULL OR n.user_id = ?1)";

fn notification_from(r: &Row) -> rusqlite::Result<Notification> {
    Ok(Notification {
        id: r.get(0)?,
        install_id: r.get(1)?,
        app_id: r.get(2)?,
        app_name: r.get(3)?,
        company_id: r.get(4)?,
        user_id: r.get(5)?,
        title: r.get(6)?,
        body: r.get(7)?,
        path: r.get(8)?,
        created_at: r.get(9)?,
        read: r.get(10)?,
    })
}

/// The company of an active install, and whether `user` (if any) is a member of it.
fn active_install(
    c: &rusqlite::Connection,
    install_id: i64,
    user: Option<i64>,
) -> rusqlite::Result<Option<(i64, bool)>> {
    c.prepare_cached(
        "SELECT i.company_id, ?2 IS NULL OR EXISTS (SELECT 1 FROM memberships m
                                                  WHERE m.company_id = i.company_id
                                                    AND m.user_id = ?2)
         FROM installs i WHERE i.id = ?1 AND i.state = 'active'",
    )?
    .query_row(params![install_id, user], |r| Ok((r.get(0)?, r.get(1)?)))
    .optional()
}

fn limit_param(limit: usize) -> i64 {
    i64::try_from(limit).unwrap_or(i64::MAX)
}

#[async_trait]
impl InboxStore for SqliteStore {
    async fn post_notification(
        &self,
        n: NewNotification,
        rate: Rate,
        now: i64,
    ) -> StoreResult<Posted> {
        self.write(move |c| {
            let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            match active_install(&tx, n.install_id, n.user_id)? {
                None => return Ok(Posted::NoInstall),
                Some((_, false)) => return Ok(Posted::NoMember),
                Some((_, true)) => {}
            }
            let since = now.saturating_sub(rate.window);
            let (recent, oldest): (i64, Option<i64>) = tx
                .prepare_cached(
                    "SELECT COUNT(*), MIN(created_at) FROM app_notifications
                     WHERE install_id = ?1 AND created_at > ?2",
                )?
                .query_row(params![n.install_id, since], |r| Ok((r.get(0)?, r.get(1)?)))?;
            if recent >= i64::from(rate.limit) {
                let retry_at = oldest.unwrap_or(now).saturating_add(rate.window);
                return Ok(Posted::Throttled { retry_at });
            }
            tx.prepare_cached(
                "INSERT INTO app_notifications (install_id, user_id, title, body, path, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?
            .execute(params![
                n.install_id,
                n.user_id,
                n.title,
                n.body,
                n.path,
                now
            ])?;
            let id = tx.last_insert_rowid();
            // Read back as its addressee sees it (any member, for a company-wide one).
            let posted = tx
                .prepare_cached(
                    "SELECT n.id, n.install_id, i.app_id, a.name, i.company_id, n.user_id,
                            n.title, n.body, n.path, n.created_at, 0
                     FROM app_notifications n JOIN installs i ON i.id = n.install_id
                     JOIN apps a ON a.id = i.app_id WHERE n.id = ?1",
                )?
                .query_row([id], notification_from)?;
            tx.commit()?;
            Ok(Posted::Posted(posted))
        })
        .await
    }

    async fn set_badge(
        &self,
        install_id: i64,
        user_id: Option<i64>,
        count: u32,
        now: i64,
    ) -> StoreResult<BadgeSet> {
        self.write(move |c| {
            let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            if !matches!(active_install(&tx, install_id, user_id)?, Some((_, true))) {
                return Ok(BadgeSet::NoSuchMember);
            }
            let written = tx
                .prepare_cached(&SET_BADGE.replace('$', "?"))?
                .execute(params![install_id, user_id.unwrap_or(0), count, now])?;
            tx.commit()?;
            Ok(if written == 0 {
                BadgeSet::Unchanged
            } else {
                BadgeSet::Changed
            })
        })
        .await
    }

    async fn notifications_for(
        &self,
        user_id: i64,
        before: Option<i64>,
        limit: usize,
    ) -> StoreResult<Vec<Notification>> {
        self.run(move |c| {
            let mut st = c.prepare_cached(&format!(
                "{NOTIFICATION_SELECT} AND (?2 IS NULL OR n.id < ?2) ORDER BY n.id DESC LIMIT ?3"
            ))?;
            let rows = st.query_map(
                params![user_id, before, limit_param(limit)],
                notification_from,
            )?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
        .await
    }

    async fn notifications_since(
        &self,
        user_id: i64,
        after: i64,
        limit: usize,
    ) -> StoreResult<Vec<Notification>> {
        self.run(move |c| {
            let mut st = c.prepare_cached(&format!(
                "{NOTIFICATION_SELECT} AND n.id > ?2 ORDER BY n.id LIMIT ?3"
            ))?;
            let rows = st.query_map(
                params![user_id, after, limit_param(limit)],
                notification_from,
            )?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
        .await
    }

    async fn mark_read(&self, user_id: i64, ids: Vec<i64>, up_to: Option<i64>) -> StoreResult<u64> {
        self.write(move |c| {
            let tx = c.transaction()?;
            // Only what the member may see: the same rule as the listing, as a subquery.
            let visible = "SELECT n.id FROM app_notifications n
                JOIN installs i ON i.id = n.install_id AND i.state = 'active'
                JOIN memberships m ON m.company_id = i.company_id AND m.user_id = ?1
                WHERE (n.user_id IS NULL OR n.user_id = ?1)";
            let mut marked = 0;
            {
                let mut one = tx.prepare_cached(&format!(
                    "INSERT OR IGNORE INTO app_notification_reads (notification_id, user_id)
                     SELECT id, ?1 FROM ({visible} AND n.id = ?2)"
                ))?;
                for id in ids {
                    marked += one.execute(params![user_id, id])?;
                }
            }
            if let Some(up_to) = up_to {
                marked += tx
                    .prepare_cached(&format!(
                        "INSERT OR IGNORE INTO app_notification_reads (notification_id, user_id)
                         SELECT id, ?1 FROM ({visible} AND n.id <= ?2)"
                    ))?
                    .execute(params![user_id, up_to])?;
            }
            tx.commit()?;
            Ok(u64::try_from(marked).unwrap_or(u64::MAX))
        })
        .await
    }

    async fn badges_for(&self, user_id: i64) -> StoreResult<Vec<Badge>> {
        self.run(move |c| {
            // The member's own badge when set, else the company-wide one.
            let mut st = c.prepare_cached(
                "SELECT id, n FROM (
                     SELECT i.id, COALESCE(
                         (SELECT b.count FROM app_badges b
                          WHERE b.install_id = i.id AND b.user_id = ?1),
                         (SELECT b.count FROM app_badges b
                          WHERE b.install_id = i.id AND b.user_id = 0), 0) AS n
                     FROM installs i
                     JOIN memberships m ON m.company_id = i.company_id AND m.user_id = ?1
                     WHERE i.state = 'active')
                 WHERE n > 0 ORDER BY id",
            )?;
            let rows = st.query_map([user_id], |r| {
                Ok(Badge {
                    install_id: r.get(0)?,
                    count: r.get(1)?,
                })
            })?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
        .await
    }
}
