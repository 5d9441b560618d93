//! [`AppStore`] in PostgreSQL.
//!
//! Isolation: READ COMMITTED. Registering under a quota locks the developer's `users` row
//! before counting; editing and deleting lock the app's row (`FOR UPDATE`), and setting a
//! secret is one `UPDATE ... WHERE deleted_at IS NULL`, which PostgreSQL re-checks after a
//! delete it waited for. Client changes send [`notify::CLIENTS`], and deleting also
//! [`notify::TOKENS`], in their transaction.

use async_trait::async_trait;
use tokio_postgres::Row;

use super::installs::uninstall_in;
use super::notify::{notify, CLIENTS, TOKENS};
use super::*;
use crate::domain::now;
use crate::domain::scope::ScopeSet;

#[async_trait]
impl AppStore for PostgresStore {
    async fn create_app(&self, app: NewApp, quota: Option<u32>) -> StoreResult<i64> {
        let uris = serde_json::to_string(&app.redirect_uris).expect("strings serialize");
        let secret = app.secret_digest.map(|d| d.0.to_vec());
        let scopes = app.scopes.to_string();
        transaction!(self, |tx| {
            if let (Some(limit), Some(developer)) = (quota, app.developer_id) {
                tx_query_opt(
                    tx,
                    "SELECT 1 FROM users WHERE id = $1 FOR UPDATE",
                    &[&developer],
                )
                .await?;
                let owned: i64 = tx_query_opt(
                    tx,
                    "SELECT count(*) FROM apps WHERE developer_id = $1 AND deleted_at IS NULL",
                    &[&developer],
                )
                .await?
                .map_or(0, |r| r.get(0));
                if owned >= i64::from(limit) {
                    return Err(StoreError::Quota {
                        what: "apps",
                        limit,
                    });
                }
            }
            let st = tx
                .prepare_cached(
                    "INSERT INTO apps (client_id, secret_digest, name, description, developer_id,
                        redirect_uris, iframe_url, webhook_url, scopes, allow_code, allow_token,
                        created_at, install_url, application_type)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
                     RETURNING id",
                )
                .await?;
            let row = tx
                .query_one(
                    &st,
                    &[
                        &app.client_id,
                        &secret,
                        &app.name,
                        &app.description,
                        &app.developer_id,
                        &uris,
                        &app.iframe_url,
                        &app.webhook_url,
                        &scopes,
                        &app.allow_code,
                        &app.allow_token,
                        &now(),
                        &app.install_url,
                        &app.application_type.as_str(),
                    ],
                )
                .await
                .map_err(|e| conflict(e, "client"))?;
            Ok(row.get::<_, i64>(0))
        })
    }

    async fn client(&self, client_id: &str) -> StoreResult<Option<Client>> {
        let key = client_id.to_string();
        let caching = self.caching();
        if caching {
            if let Some(hit) = self.clients.get(&key, now()) {
                return Ok(Some(hit));
            }
        }
        let since = self.clients.generation();
        let found = self
            .query_opt(
                &format!("{CLIENT_SELECT} WHERE a.client_id = $1 AND a.deleted_at IS NULL"),
                &[&client_id],
            )
            .await?
            .map(|r| client_from(&r))
            .transpose()?;
        if let (Some(client), true) = (&found, caching) {
            self.clients.insert(key, client.clone(), i64::MAX, since);
        }
        Ok(found)
    }

    async fn set_client_secret(
        &self,
        client_id: &str,
        digest: Option<TokenDigest>,
    ) -> StoreResult<()> {
        let digest = digest.map(|d| d.0.to_vec());
        let out = transaction!(self, |tx| {
            // A deleted app stays without a secret (its delete cleared it).
            let n = tx_execute(
                tx,
                "UPDATE apps SET secret_digest = $2 WHERE client_id = $1 AND deleted_at IS NULL",
                &[&client_id, &digest],
            )
            .await?;
            if n == 0 {
                return Err(StoreError::NotFound("app"));
            }
            notify(tx, CLIENTS).await
        });
        self.clients.invalidate();
        out
    }

    async fn catalog(&self, page: PageReq) -> StoreResult<Page<Client>> {
        let (key, id) = after_params(&page);
        let rows = self
            .query(
                &format!(
                    "{CLIENT_SELECT} WHERE a.deleted_at IS NULL AND NOT a.first_party
                       AND ($1::TEXT IS NULL OR (a.name, a.id) > ($1, $2))
                     ORDER BY a.name, a.id LIMIT $3"
                ),
                &[&key, &id, &fetch_limit(&page)],
            )
            .await?;
        let items = rows.iter().map(client_from).collect::<StoreResult<_>>()?;
        Ok(paged(items, &page, app_key))
    }

    async fn apps_of_developer(&self, developer: i64, page: PageReq) -> StoreResult<Page<Client>> {
        let (key, id) = after_params(&page);
        let rows = self
            .query(
                &format!(
                    "{CLIENT_SELECT} WHERE a.deleted_at IS NULL AND a.developer_id = $1
                       AND ($2::TEXT IS NULL OR (a.name, a.id) > ($2, $3))
                     ORDER BY a.name, a.id LIMIT $4"
                ),
                &[&developer, &key, &id, &fetch_limit(&page)],
            )
            .await?;
        let items = rows.iter().map(client_from).collect::<StoreResult<_>>()?;
        Ok(paged(items, &page, app_key))
    }

    async fn update_app(&self, client_id: &str, u: AppUpdate) -> StoreResult<()> {
        let uris = u
            .redirect_uris
            .as_ref()
            .map(|v| serde_json::to_string(v).expect("strings serialize"));
        let scopes = u.scopes.as_ref().map(|s| s.to_string());
        let out = transaction!(self, |tx| {
            let id = live_app_id(tx, client_id).await?;
            let mut sets: Vec<(&str, &(dyn ToSql + Sync))> = Vec::new();
            if let Some(v) = &u.name {
                sets.push(("name", v));
            }
            if let Some(v) = &u.description {
                sets.push(("description", v));
            }
            if let Some(v) = &uris {
                sets.push(("redirect_uris", v));
            }
            if let Some(v) = &u.iframe_url {
                sets.push(("iframe_url", v));
            }
            if let Some(v) = &u.webhook_url {
                sets.push(("webhook_url", v));
            }
            if let Some(v) = &u.install_url {
                sets.push(("install_url", v));
            }
            if let Some(v) = &scopes {
                sets.push(("scopes", v));
            }
            if let Some(v) = &u.allow_code {
                sets.push(("allow_code", v));
            }
            if let Some(v) = &u.allow_token {
                sets.push(("allow_token", v));
            }
            for (column, value) in sets {
                // One prepared statement per column (a handful), not one per combination.
                tx_execute(
                    tx,
                    &format!("UPDATE apps SET {column} = $2 WHERE id = $1"),
                    &[&id, value],
                )
                .await?;
            }
            notify(tx, CLIENTS).await
        });
        self.clients.invalidate();
        out
    }

    async fn delete_app(&self, client_id: &str, by_user: i64) -> StoreResult<()> {
        let out = transaction!(self, |tx| {
            let at = now();
            let app_id = live_app_id(tx, client_id).await?;
            let installs: Vec<i64> = tx_query(
                tx,
                "SELECT id FROM installs WHERE app_id = $1 AND state = 'active' ORDER BY id",
                &[&app_id],
            )
            .await?
            .iter()
            .map(|r| r.get(0))
            .collect();
            for id in installs {
                uninstall_in(tx, id, by_user, at).await?;
            }
            tx_execute(
                tx,
                "UPDATE token_families SET revoked_at = $2 WHERE app_id = $1 AND revoked_at IS NULL",
                &[&app_id, &at],
            )
            .await?;
            tx_execute(
                tx,
                "DELETE FROM authorization_codes WHERE app_id = $1",
                &[&app_id],
            )
            .await?;
            tx_execute(
                tx,
                "UPDATE apps SET deleted_at = $2, secret_digest = NULL WHERE id = $1",
                &[&app_id, &at],
            )
            .await?;
            notify(tx, TOKENS).await?;
            notify(tx, CLIENTS).await
        });
        self.access.invalidate();
        self.clients.invalidate();
        out
    }
}

pub(super) const CLIENT_SELECT: &str =
    "SELECT a.id, a.client_id, a.secret_digest, a.name, a.description,
        u.username, a.redirect_uris, a.iframe_url, a.webhook_url, a.scopes, a.allow_code,
        a.allow_token, a.first_party, a.application_type, a.developer_id, a.webhook_version,
        a.created_at, a.install_url
    FROM apps a LEFT JOIN users u ON u.id = a.developer_id";

pub(super) fn client_from(r: &Row) -> StoreResult<Client> {
    let uris: String = r.get(6);
    Ok(Client {
        app_id: r.get(0),
        client_id: r.get(1),
        secret_digest: digest(r.get(2)),
        name: r.get(3),
        description: r.get(4),
        developer: r.get(5),
        redirect_uris: serde_json::from_str(&uris).unwrap_or_default(),
        iframe_url: r.get(7),
        webhook_url: r.get(8),
        scopes: ScopeSet::from_stored(r.get(9)),
        allow_code: r.get(10),
        allow_token: r.get(11),
        first_party: r.get(12),
        application_type: word(r.get(13))?,
        developer_id: r.get(14),
        webhook_version: r.get(15),
        created_at: r.get(16),
        install_url: r.get(17),
    })
}

fn app_key(c: &Client) -> After {
    After {
        key: c.name.clone(),
        id: c.app_id,
    }
}

/// The id of a live app, its row locked until the transaction ends.
async fn live_app_id(tx: &deadpool_postgres::Transaction<'_>, client_id: &str) -> StoreResult<i64> {
    tx_query_opt(
        tx,
        "SELECT id FROM apps WHERE client_id = $1 AND deleted_at IS NULL FOR UPDATE",
        &[&client_id],
    )
    .await?
    .map(|r| r.get(0))
    .ok_or(StoreError::NotFound("app"))
}
