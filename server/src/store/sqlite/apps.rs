//! [`AppStore`] in SQLite.

use async_trait::async_trait;
use rusqlite::{params, OptionalExtension, Row};

use super::installs::uninstall_in;
use super::*;
use crate::domain::now;
use crate::domain::scope::ScopeSet;

#[async_trait]
impl AppStore for SqliteStore {
    async fn create_app(&self, app: NewApp, quota: Option<u32>) -> StoreResult<i64> {
        self.write(move |c| {
            let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            if let (Some(limit), Some(developer)) = (quota, app.developer_id) {
                let owned: i64 = tx
                    .prepare_cached(
                        "SELECT count(*) FROM apps WHERE developer_id = ?1 AND deleted_at IS NULL",
                    )?
                    .query_row([developer], |r| r.get(0))?;
                if owned >= i64::from(limit) {
                    return Err(StoreError::Quota { what: "apps", limit });
                }
            }
            let uris = serde_json::to_string(&app.redirect_uris).expect("strings serialize");
            let inserted = match tx.prepare_cached("INSERT INTO apps (client_id, secret_digest, name, description, developer_id,
                    redirect_uris, iframe_url, webhook_url, scopes, allow_code, allow_token, created_at,
                    install_url, application_type)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)")?
                .execute(
                params![
                    app.client_id,
                    app.secret_digest.map(|d| d.0.to_vec()),
                    app.name,
                    app.description,
                    app.developer_id,
                    uris,
                    app.iframe_url,
                    app.webhook_url,
                    app.scopes.to_string(),
                    app.allow_code,
                    app.allow_token,
                    now(),
                    app.install_url,
                    app.application_type.as_str()
                ],
            ) {
                Ok(_) => tx.last_insert_rowid(),
                Err(e) if is_unique_violation(&e) => {
                    return Err(StoreError::Conflict("client"))
                }
                Err(e) => return Err(e.into()),
            };
            tx.commit()?;
            Ok(inserted)
        })
        .await
    }

    async fn client(&self, client_id: &str) -> StoreResult<Option<Client>> {
        let key = client_id.to_string();
        if let Some(hit) = self.clients.get(&key, now()) {
            return Ok(Some(hit));
        }
        let since = self.clients.generation();
        let client_id = key.clone();
        let found = self
            .run(move |c| {
                let mut st = c.prepare_cached(&format!(
                    "{CLIENT_SELECT} WHERE a.client_id = ?1 AND a.deleted_at IS NULL"
                ))?;
                Ok(st.query_row([client_id], client_from).optional()?)
            })
            .await?;
        if let Some(client) = &found {
            self.clients.insert(key, client.clone(), i64::MAX, since);
        }
        Ok(found)
    }

    async fn set_client_secret(
        &self,
        client_id: &str,
        digest: Option<TokenDigest>,
    ) -> StoreResult<()> {
        let client_id = client_id.to_string();
        self.write_client(move |c| {
            let n = c
                // A deleted app stays without a secret (its delete cleared it).
                .prepare_cached(
                    "UPDATE apps SET secret_digest = ?2 WHERE client_id = ?1 AND deleted_at IS NULL",
                )?
                .execute(params![client_id, digest.map(|d| d.0.to_vec())])?;
            if n == 0 {
                return Err(StoreError::NotFound("app"));
            }
            Ok(())
        })
        .await
    }

    async fn catalog(&self, page: PageReq) -> StoreResult<Page<Client>> {
        self.run(move |c| {
            let (key, id) = after_params(&page);
            let mut st = c.prepare_cached(&format!(
                "{CLIENT_SELECT} WHERE a.deleted_at IS NULL AND a.first_party = 0
                   AND (?1 IS NULL OR (a.name, a.id) > (?1, ?2))
                 ORDER BY a.name, a.id LIMIT ?3"
            ))?;
            let rows = st.query_map(params![key, id, fetch_limit(&page)], client_from)?;
            Ok(paged(rows.collect::<Result<_, _>>()?, &page, app_key))
        })
        .await
    }

    async fn apps_of_developer(&self, developer: i64, page: PageReq) -> StoreResult<Page<Client>> {
        self.run(move |c| {
            let (key, id) = after_params(&page);
            let mut st = c.prepare_cached(&format!(
                "{CLIENT_SELECT} WHERE a.deleted_at IS NULL AND a.developer_id = ?1
                   AND (?2 IS NULL OR (a.name, a.id) > (?2, ?3))
                 ORDER BY a.name, a.id LIMIT ?4"
            ))?;
            let rows =
                st.query_map(params![developer, key, id, fetch_limit(&page)], client_from)?;
            Ok(paged(rows.collect::<Result<_, _>>()?, &page, app_key))
        })
        .await
    }

    async fn update_app(&self, client_id: &str, u: AppUpdate) -> StoreResult<()> {
        let client_id = client_id.to_string();
        self.write_client(move |c| {
            let tx = c.transaction()?;
            let id = live_app_id(&tx, &client_id)?;
            let set = |column: &str, value: &dyn rusqlite::ToSql| {
                tx.execute(
                    &format!("UPDATE apps SET {column} = ?2 WHERE id = ?1"),
                    params![id, value],
                )
            };
            if let Some(v) = &u.name {
                set("name", v)?;
            }
            if let Some(v) = &u.description {
                set("description", v)?;
            }
            if let Some(v) = &u.redirect_uris {
                set(
                    "redirect_uris",
                    &serde_json::to_string(v).expect("strings serialize"),
                )?;
            }
            if let Some(v) = &u.iframe_url {
                set("iframe_url", v)?;
            }
            if let Some(v) = &u.webhook_url {
                set("webhook_url", v)?;
            }
            if let Some(v) = &u.install_url {
                set("install_url", v)?;
            }
            if let Some(v) = &u.scopes {
                set("scopes", &v.to_string())?;
            }
            if let Some(v) = &u.allow_code {
                set("allow_code", v)?;
            }
            if let Some(v) = &u.allow_token {
                set("allow_token", v)?;
            }
            tx.commit()?;
            Ok(())
        })
        .await
    }

    async fn delete_app(&self, client_id: &str, by_user: i64) -> StoreResult<()> {
        let client_id = client_id.to_string();
        let out = self.write_revoking(move |c| {
            let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            let at = now();
            let app_id = live_app_id(&tx, &client_id)?;
            let installs: Vec<i64> = tx
                .prepare("SELECT id FROM installs WHERE app_id = ?1 AND state = 'active'")?
                .query_map([app_id], |r| r.get(0))?
                .collect::<Result<_, _>>()?;
            for id in installs {
                uninstall_in(&tx, id, by_user, at)?;
            }
            tx.prepare_cached("UPDATE token_families SET revoked_at = ?2 WHERE app_id = ?1 AND revoked_at IS NULL")?
                .execute(
                params![app_id, at],
            )?;
            tx.prepare_cached("DELETE FROM authorization_codes WHERE app_id = ?1")?
                .execute( [app_id])?;
            tx.prepare_cached("UPDATE apps SET deleted_at = ?2, secret_digest = NULL WHERE id = ?1")?
                .execute(
                params![app_id, at],
            )?;
            tx.commit()?;
            Ok(())
        })
        .await;
        // The client is gone too.
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

pub(super) fn client_from(r: &Row) -> rusqlite::Result<Client> {
    let uris: String = r.get(6)?;
    Ok(Client {
        app_id: r.get(0)?,
        client_id: r.get(1)?,
        secret_digest: digest_col(r, 2)?,
        name: r.get(3)?,
        description: r.get(4)?,
        developer: r.get(5)?,
        redirect_uris: serde_json::from_str(&uris).unwrap_or_default(),
        iframe_url: r.get(7)?,
        webhook_url: r.get(8)?,
        scopes: ScopeSet::from_stored(&r.get::<_, String>(9)?),
        allow_code: r.get(10)?,
        allow_token: r.get(11)?,
        first_party: r.get(12)?,
        application_type: word_col(r, 13)?,
        developer_id: r.get(14)?,
        webhook_version: r.get(15)?,
        created_at: r.get(16)?,
        install_url: r.get(17)?,
    })
}

pub(super) fn app_key(c: &Client) -> After {
    After {
        key: c.name.clone(),
        id: c.app_id,
    }
}

pub(super) fn live_app_id(tx: &rusqlite::Transaction, client_id: &str) -> StoreResult<i64> {
    tx.prepare_cached("SELECT id FROM apps WHERE client_id = ?1 AND deleted_at IS NULL")?
        .query_row([client_id], |r| r.get(0))
        .optional()?
        .ok_or_else(|| StoreError::NotFound("app"))
}
