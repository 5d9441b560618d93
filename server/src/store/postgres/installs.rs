//! [`InstallStore`] in PostgreSQL.
//!
//! Isolation: READ COMMITTED. Recording locks the app and company's active install
//! (`FOR UPDATE`) and widens it, or inserts one with `ON CONFLICT DO NOTHING` on the
//! one-active-install index, looking again when a racer inserted first; the notification is
//! queued in the same transaction. Uninstalling is an `UPDATE ... WHERE state = 'active'`
//! (the row lock decides between racing uninstalls), then revokes the install's families and
//! deletes its codes, and sends [`notify::TOKENS`], all in one transaction.

use async_trait::async_trait;
use tokio_postgres::Row;

use super::notify::{notify, TOKENS};
use super::*;
use crate::domain::now;
use crate::domain::scope::ScopeSet;
use crate::events;

#[async_trait]
impl InstallStore for PostgresStore {
    async fn record_install(
        &self,
        app_id: i64,
        company_id: i64,
        user_id: i64,
        scopes: ScopeSet,
    ) -> StoreResult<Recorded> {
        transaction!(self, |tx| {
            let at = now();
            let (id, queued) = loop {
                let existing = tx_query_opt(
                    tx,
                    "SELECT id, scopes FROM installs
                     WHERE app_id = $1 AND company_id = $2 AND state = 'active' FOR UPDATE",
                    &[&app_id, &company_id],
                )
                .await?;
                if let Some(row) = existing {
                    let (id, old): (i64, &str) = (row.get(0), row.get(1));
                    // A new consent that asks for more widens the install.
                    let widened = ScopeSet::from_stored(&format!("{old} {scopes}")).to_string();
                    tx_execute(
                        tx,
                        "UPDATE installs SET scopes = $2, updated_at = $3 WHERE id = $1",
                        &[&id, &widened, &at],
                    )
                    .await?;
                    break (id, false);
                }
                let inserted = tx_query_opt(
                    tx,
                    "INSERT INTO installs (app_id, company_id, installed_by, scopes, state,
                         created_at, updated_at)
                     VALUES ($1, $2, $3, $4, 'active', $5, $5)
                     ON CONFLICT (app_id, company_id) WHERE state = 'active' DO NOTHING
                     RETURNING id",
                    &[&app_id, &company_id, &user_id, &scopes.to_string(), &at],
                )
                .await?;
                // None: another request installed it first and has committed; widen that one.
                if let Some(row) = inserted {
                    let id: i64 = row.get(0);
                    let queued = enqueue(tx, id, user_id, events::INSTALLED, at).await?;
                    break (id, queued);
                }
            };
            let install = load_install(tx, id)
                .await?
                .ok_or(StoreError::NotFound("install"))?;
            Ok(Recorded { install, queued })
        })
    }

    async fn install(&self, id: i64) -> StoreResult<Option<Install>> {
        let row = self
            .query_opt(&format!("{INSTALL_SELECT} WHERE i.id = $1"), &[&id])
            .await?;
        Ok(row.map(|r| install_from(&r)))
    }

    async fn installs_of_company(&self, company: i64) -> StoreResult<Vec<Install>> {
        let rows = self
            .query(
                &format!(
                    "{INSTALL_SELECT} WHERE i.company_id = $1 AND i.state = 'active'
                     ORDER BY a.name, i.id"
                ),
                &[&company],
            )
            .await?;
        Ok(rows.iter().map(install_from).collect())
    }

    async fn installs_page(&self, company: i64, page: PageReq) -> StoreResult<Page<Install>> {
        let (key, id) = after_params(&page);
        let rows = self
            .query(
                &format!(
                    "{INSTALL_SELECT} WHERE i.company_id = $1 AND i.state = 'active'
                       AND ($2::TEXT IS NULL OR (a.name, i.id) > ($2, $3))
                     ORDER BY a.name, i.id LIMIT $4"
                ),
                &[&company, &key, &id, &fetch_limit(&page)],
            )
            .await?;
        let items = rows.iter().map(install_from).collect();
        Ok(paged(items, &page, |i| After {
            key: i.app_name.clone(),
            id: i.id,
        }))
    }

    async fn uninstall(&self, id: i64, by_user: i64) -> StoreResult<bool> {
        let out = transaction!(self, |tx| {
            let done = uninstall_in(tx, id, by_user, now()).await?;
            if done {
                notify(tx, TOKENS).await?;
            }
            Ok(done)
        });
        self.access.invalidate();
        out
    }
}

const INSTALL_SELECT: &str =
    "SELECT i.id, i.app_id, a.client_id, a.name, a.iframe_url, i.company_id,
        u.username, i.scopes, i.state = 'active', i.created_at, i.updated_at
    FROM installs i JOIN apps a ON a.id = i.app_id LEFT JOIN users u ON u.id = i.installed_by";

fn install_from(r: &Row) -> Install {
    Install {
        id: r.get(0),
        app_id: r.get(1),
        client_id: r.get(2),
        app_name: r.get(3),
        iframe_url: r.get(4),
        company_id: r.get(5),
        installed_by: r.get(6),
        scopes: ScopeSet::from_stored(r.get(7)),
        active: r.get(8),
        created_at: r.get(9),
        updated_at: r.get(10),
    }
}

async fn load_install(
    tx: &deadpool_postgres::Transaction<'_>,
    id: i64,
) -> StoreResult<Option<Install>> {
    let row = tx_query_opt(tx, &format!("{INSTALL_SELECT} WHERE i.id = $1"), &[&id]).await?;
    Ok(row.map(|r| install_from(&r)))
}

/// Queues an install notification for the install's app, if it has a webhook URL.
async fn enqueue(
    tx: &deadpool_postgres::Transaction<'_>,
    install_id: i64,
    user_id: i64,
    kind: &str,
    at: i64,
) -> StoreResult<bool> {
    let row = tx_query_opt(
        tx,
        "SELECT a.id, a.client_id, a.webhook_url, c.id, c.name, i.scopes
         FROM installs i JOIN apps a ON a.id = i.app_id JOIN companies c ON c.id = i.company_id
         WHERE i.id = $1",
        &[&install_id],
    )
    .await?;
    let Some(row) = row else {
        return Ok(false);
    };
    let (app_id, client_id, url, company_id, company_name, scopes): (
        i64,
        &str,
        Option<&str>,
        i64,
        &str,
        &str,
    ) = (
        row.get(0),
        row.get(1),
        row.get(2),
        row.get(3),
        row.get(4),
        row.get(5),
    );
    let Some(url) = url else {
        return Ok(false);
    };
    let username: String =
        tx_query_opt(tx, "SELECT username FROM users WHERE id = $1", &[&user_id])
            .await?
            .map(|r| r.get(0))
            .unwrap_or_default();
    let event = events::Event {
        id: events::new_id(),
        kind,
        created_at: at,
        app: events::AppRef { client_id },
        company: events::CompanyRef {
            id: company_id,
            name: company_name,
        },
        user: events::UserRef {
            username: &username,
        },
        install_id,
        scopes,
    };
    let body = serde_json::to_string(&event).expect("events serialize");
    tx_execute(
        tx,
        "INSERT INTO outbox (event_id, app_id, event_type, url, body, next_attempt_at, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $6)",
        &[&event.id, &app_id, &kind, &url, &body, &at],
    )
    .await?;
    Ok(true)
}

/// Uninstalls inside a transaction: revokes the install's tokens and pending codes, marks it,
/// queues `app.uninstalled`. False when the install was not active.
pub(super) async fn uninstall_in(
    tx: &deadpool_postgres::Transaction<'_>,
    id: i64,
    by_user: i64,
    at: i64,
) -> StoreResult<bool> {
    let n = tx_execute(
        tx,
        "UPDATE installs SET state = 'uninstalled', updated_at = $2
         WHERE id = $1 AND state = 'active'",
        &[&id, &at],
    )
    .await?;
    if n == 0 {
        return Ok(false);
    }
    tx_execute(
        tx,
        "UPDATE token_families SET revoked_at = $2 WHERE install_id = $1 AND revoked_at IS NULL",
        &[&id, &at],
    )
    .await?;
    tx_execute(
        tx,
        "DELETE FROM authorization_codes WHERE install_id = $1",
        &[&id],
    )
    .await?;
    enqueue(tx, id, by_user, events::UNINSTALLED, at).await?;
    Ok(true)
}
