//! [`InstallStore`] in SQLite.

use async_trait::async_trait;
use rusqlite::{params, OptionalExtension, Row};

use super::*;
use crate::domain::now;
use crate::domain::scope::ScopeSet;
use crate::events;

#[async_trait]
impl InstallStore for SqliteStore {
    async fn record_install(
        &self,
        app_id: i64,
        company_id: i64,
        user_id: i64,
        scopes: ScopeSet,
    ) -> StoreResult<Recorded> {
        self.write(move |c| {
            let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            let at = now();
            let existing: Option<(i64, String)> = tx
                .prepare_cached("SELECT id, scopes FROM installs WHERE app_id = ?1 AND company_id = ?2 AND state = 'active'")?
                .query_row(
                    [app_id, company_id],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()?;
            let (id, queued) = match existing {
                Some((id, old)) => {
                    // A new consent that asks for more widens the install.
                    let widened = ScopeSet::from_stored(&format!("{old} {scopes}"));
                    tx.prepare_cached("UPDATE installs SET scopes = ?2, updated_at = ?3 WHERE id = ?1")?
                .execute(
                        params![id, widened.to_string(), at],
                    )?;
                    (id, false)
                }
                None => {
                    tx.prepare_cached("INSERT INTO installs (app_id, company_id, installed_by, scopes, state, created_at, updated_at)
                         VALUES (?1, ?2, ?3, ?4, 'active', ?5, ?5)")?
                .execute(
                        params![app_id, company_id, user_id, scopes.to_string(), at],
                    )?;
                    let id = tx.last_insert_rowid();
                    let queued = enqueue(&tx, id, user_id, events::INSTALLED, at)?;
                    (id, queued)
                }
            };
            let install =
                load_install(&tx, id)?.ok_or_else(|| StoreError::NotFound("install"))?;
            tx.commit()?;
            Ok(Recorded { install, queued })
        })
        .await
    }

    async fn install(&self, id: i64) -> StoreResult<Option<Install>> {
        self.run(move |c| Ok(load_install(c, id)?)).await
    }

    async fn installs_of_company(&self, company: i64) -> StoreResult<Vec<Install>> {
        self.run(move |c| {
            let mut st = c.prepare_cached(&format!(
                "{INSTALL_SELECT} WHERE i.company_id = ?1 AND i.state = 'active' ORDER BY a.name, i.id"
            ))?;
            let rows = st.query_map([company], install_from)?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
        .await
    }

    async fn installs_page(&self, company: i64, page: PageReq) -> StoreResult<Page<Install>> {
        self.run(move |c| {
            let (key, id) = after_params(&page);
            let mut st = c.prepare_cached(&format!(
                "{INSTALL_SELECT} WHERE i.company_id = ?1 AND i.state = 'active'
                   AND (?2 IS NULL OR (a.name, i.id) > (?2, ?3))
                 ORDER BY a.name, i.id LIMIT ?4"
            ))?;
            let rows = st.query_map(params![company, key, id, fetch_limit(&page)], install_from)?;
            Ok(paged(rows.collect::<Result<_, _>>()?, &page, |i| After {
                key: i.app_name.clone(),
                id: i.id,
            }))
        })
        .await
    }

    async fn uninstall(&self, id: i64, by_user: i64) -> StoreResult<bool> {
        self.write_revoking(move |c| {
            let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            let done = uninstall_in(&tx, id, by_user, now())?;
            tx.commit()?;
            Ok(done)
        })
        .await
    }
}

pub(super) const INSTALL_SELECT: &str =
    "SELECT i.id, i.app_id, a.client_id, a.name, a.iframe_url, i.company_id,
        u.username, i.scopes, i.state = 'active', i.created_at, i.updated_at
    FROM installs i JOIN apps a ON a.id = i.app_id LEFT JOIN users u ON u.id = i.installed_by";

pub(super) fn install_from(r: &Row) -> rusqlite::Result<Install> {
    Ok(Install {
        id: r.get(0)?,
        app_id: r.get(1)?,
        client_id: r.get(2)?,
        app_name: r.get(3)?,
        iframe_url: r.get(4)?,
        company_id: r.get(5)?,
        installed_by: r.get(6)?,
        scopes: ScopeSet::from_stored(&r.get::<_, String>(7)?),
        active: r.get(8)?,
        created_at: r.get(9)?,
        updated_at: r.get(10)?,
    })
}

pub(super) fn load_install(c: &rusqlite::Connection, id: i64) -> rusqlite::Result<Option<Install>> {
    c.query_row(
        &format!("{INSTALL_SELECT} WHERE i.id = ?1"),
        [id],
        install_from,
    )
    .optional()
}

/// Queues an install notification for the install's app, if it has a webhook URL.
pub(super) fn enqueue(
    tx: &rusqlite::Transaction,
    install_id: i64,
    user_id: i64,
    kind: &str,
    at: i64,
) -> rusqlite::Result<bool> {
    type Row6 = (i64, String, Option<String>, i64, String, String);
    let row: Option<Row6> = tx
        .prepare_cached(
            "SELECT a.id, a.client_id, a.webhook_url, c.id, c.name, i.scopes
             FROM installs i JOIN apps a ON a.id = i.app_id JOIN companies c ON c.id = i.company_id
             WHERE i.id = ?1",
        )?
        .query_row([install_id], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
            ))
        })
        .optional()?;
    let Some((app_id, client_id, Some(url), company_id, company_name, scopes)) = row else {
        return Ok(false);
    };
    let username: String = tx
        .prepare_cached("SELECT username FROM users WHERE id = ?1")?
        .query_row([user_id], |r| r.get(0))
        .optional()?
        .unwrap_or_default();
    let event = events::Event {
        id: events::new_id(),
        kind,
        created_at: at,
        app: events::AppRef {
            client_id: &client_id,
        },
        company: events::CompanyRef {
            id: company_id,
            name: &company_name,
        },
        user: events::UserRef {
            username: &username,
        },
        install_id,
        scopes: &scopes,
    };
    let body = serde_json::to_string(&event).expect("events serialize");
    tx.prepare_cached(
        "INSERT INTO outbox (event_id, app_id, event_type, url, body, next_attempt_at, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)",
    )?
    .execute(params![event.id, app_id, kind, url, body, at])?;
    Ok(true)
}

/// Uninstalls inside a transaction: revokes the install's tokens and pending codes, marks it,
/// queues `app.uninstalled`. False when the install was not active.
pub(super) fn uninstall_in(
    tx: &rusqlite::Transaction,
    id: i64,
    by_user: i64,
    at: i64,
) -> rusqlite::Result<bool> {
    let n = tx.prepare_cached("UPDATE installs SET state = 'uninstalled', updated_at = ?2 WHERE id = ?1 AND state = 'active'")?
                .execute(
        params![id, at],
    )?;
    if n == 0 {
        return Ok(false);
    }
    tx.prepare_cached(
        "UPDATE token_families SET revoked_at = ?2 WHERE install_id = ?1 AND revoked_at IS NULL",
    )?
    .execute(params![id, at])?;
    tx.prepare_cached("DELETE FROM authorization_codes WHERE install_id = ?1")?
        .execute([id])?;
    enqueue(tx, id, by_user, events::UNINSTALLED, at)?;
    Ok(true)
}
