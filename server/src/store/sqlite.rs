//! The SQLite implementation of [`Store`].

use async_trait::async_trait;
use rusqlite::{params, OptionalExtension, Row};

use std::sync::Arc;

use super::cache::ReadCache;
use super::outbox;
use super::*;
use crate::db::Db;
use crate::domain::now;
use crate::events;

/// [`Store`] over the embedded SQLite database, with live access tokens and clients cached in
/// memory (see [`super::cache`]).
#[derive(Clone)]
pub struct SqliteStore {
    db: Db,
    access: Arc<ReadCache<TokenDigest, AccessInfo>>,
    clients: Arc<ReadCache<String, Client>>,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore").field("db", &self.db).finish()
    }
}

impl SqliteStore {
    pub fn new(db: Db) -> SqliteStore {
        SqliteStore {
            db,
            access: Arc::default(),
            clients: Arc::default(),
        }
    }

    pub fn db(&self) -> &Db {
        &self.db
    }

    async fn run<T, F>(&self, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut rusqlite::Connection) -> StoreResult<T> + Send + 'static,
    {
        self.db.call(f).await
    }

    async fn write<T, F>(&self, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut rusqlite::Connection) -> StoreResult<T> + Send + 'static,
    {
        self.db.write(f).await
    }

    /// Runs a write that may revoke tokens, then empties the access-token cache (whatever the
    /// outcome: when in doubt, ask the database again).
    async fn write_revoking<T, F>(&self, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut rusqlite::Connection) -> StoreResult<T> + Send + 'static,
    {
        let out = self.db.write(f).await;
        self.access.invalidate();
        out
    }

    /// Runs a write that changes a client (secret, settings, deletion), then empties the
    /// client cache.
    async fn write_client<T, F>(&self, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut rusqlite::Connection) -> StoreResult<T> + Send + 'static,
    {
        let out = self.db.write(f).await;
        self.clients.invalidate();
        out
    }
}

fn is_unique_violation(e: &rusqlite::Error) -> bool {
    matches!(e, rusqlite::Error::SqliteFailure(f, _)
        if f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
            || f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY)
}

fn digest_col(row: &Row, idx: usize) -> rusqlite::Result<Option<TokenDigest>> {
    let bytes: Option<Vec<u8>> = row.get(idx)?;
    Ok(bytes.and_then(|b| TokenDigest::from_slice(&b)))
}

fn user_from(row: &Row) -> rusqlite::Result<User> {
    Ok(User {
        id: row.get(0)?,
        username: row.get(1)?,
        email: row.get(2)?,
        display_name: row.get(3)?,
        joined_at: row.get(4)?,
    })
}

const CLIENT_SELECT: &str = "SELECT a.id, a.client_id, a.secret_digest, a.name, a.description,
        u.username, a.redirect_uris, a.iframe_url, a.webhook_url, a.scopes, a.allow_code,
        a.allow_token, a.first_party, a.application_type, a.developer_id, a.webhook_version,
        a.created_at, a.install_url
    FROM apps a LEFT JOIN users u ON u.id = a.developer_id";

fn client_from(r: &Row) -> rusqlite::Result<Client> {
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
        application_type: if r.get::<_, String>(13)? == "native" {
            ApplicationType::Native
        } else {
            ApplicationType::Web
        },
        developer_id: r.get(14)?,
        webhook_version: r.get(15)?,
        created_at: r.get(16)?,
        install_url: r.get(17)?,
    })
}

const USER_COLS: &str = "u.id, u.username, u.email, u.display_name, u.joined_at";

#[async_trait]
impl Store for SqliteStore {
    async fn create_user(&self, user: NewUser) -> StoreResult<i64> {
        self.write(move |c| {
            match c
                .prepare_cached(
                    "INSERT INTO users (username, email, display_name, password_hash, joined_at)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                )?
                .execute(params![
                    user.username,
                    user.email,
                    user.display_name,
                    user.password_hash,
                    now()
                ]) {
                Ok(_) => Ok(c.last_insert_rowid()),
                Err(e) if is_unique_violation(&e) => {
                    Err(StoreError::Conflict(format!("user {:?}", user.username)))
                }
                Err(e) => Err(e.into()),
            }
        })
        .await
    }

    async fn user_by_username(&self, username: &str) -> StoreResult<Option<(User, String)>> {
        let username = username.to_string();
        self.run(move |c| {
            Ok(c.query_row(
                &format!("SELECT {USER_COLS}, u.password_hash FROM users u WHERE u.username = ?1"),
                [username],
                |r| Ok((user_from(r)?, r.get(5)?)),
            )
            .optional()?)
        })
        .await
    }

    async fn user(&self, id: i64) -> StoreResult<Option<User>> {
        self.run(move |c| {
            Ok(c.query_row(
                &format!("SELECT {USER_COLS} FROM users u WHERE u.id = ?1"),
                [id],
                user_from,
            )
            .optional()?)
        })
        .await
    }

    async fn create_company(&self, name: &str, owner: i64, quota: Option<u32>) -> StoreResult<i64> {
        let name = name.to_string();
        self.write(move |c| {
            let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            if let Some(limit) = quota {
                let owned: i64 = tx
                    .prepare_cached(
                        "SELECT count(*) FROM memberships WHERE user_id = ?1 AND role = 'owner'",
                    )?
                    .query_row([owner], |r| r.get(0))?;
                if owned >= i64::from(limit) {
                    return Err(StoreError::Quota {
                        what: "companies",
                        limit,
                    });
                }
            }
            tx.prepare_cached("INSERT INTO companies (name, created_at) VALUES (?1, ?2)")?
                .execute(params![name, now()])?;
            let id = tx.last_insert_rowid();
            tx.prepare_cached(
                "INSERT INTO memberships (company_id, user_id, role) VALUES (?1, ?2, 'owner')",
            )?
            .execute(params![id, owner])?;
            tx.commit()?;
            Ok(id)
        })
        .await
    }

    async fn add_member(&self, company: i64, user: i64, role: Role) -> StoreResult<()> {
        self.write(move |c| {
            match c
                .prepare_cached(
                    "INSERT INTO memberships (company_id, user_id, role) VALUES (?1, ?2, ?3)",
                )?
                .execute(params![company, user, role.as_str()])
            {
                Ok(_) => Ok(()),
                Err(e) if is_unique_violation(&e) => Err(StoreError::Conflict("membership".into())),
                Err(e) => Err(e.into()),
            }
        })
        .await
    }

    async fn invite(&self, invite: NewInvitation, at: i64, cap: usize) -> StoreResult<Invited> {
        let NewInvitation {
            company,
            username,
            role,
            invited_by,
            expires_at,
        } = invite;
        self.write(move |c| {
            let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            tx.prepare_cached("DELETE FROM invitations WHERE expires_at <= ?1")?
                .execute([at])?;
            // Members are visible to the owner anyway: saying so reveals nothing new.
            let member = tx
                .prepare_cached(
                    "SELECT 1 FROM memberships m JOIN users u ON u.id = m.user_id
                     WHERE m.company_id = ?1 AND u.username = ?2",
                )?
                .exists(params![company, username])?;
            if member {
                return Ok(Invited::AlreadyMember);
            }
            let renewed = tx
                .prepare_cached(
                    "UPDATE invitations SET role = ?3, invited_by = ?4, created_at = ?5,
                        expires_at = ?6
                     WHERE company_id = ?1 AND username = ?2",
                )?
                .execute(params![
                    company,
                    username,
                    role.as_str(),
                    invited_by,
                    at,
                    expires_at
                ])?;
            if renewed == 0 {
                let pending: i64 = tx
                    .prepare_cached("SELECT count(*) FROM invitations WHERE company_id = ?1")?
                    .query_row([company], |r| r.get(0))?;
                if pending >= cap as i64 {
                    return Ok(Invited::TooMany);
                }
                tx.prepare_cached(
                    "INSERT INTO invitations (company_id, username, role, invited_by, created_at,
                        expires_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                )?
                .execute(params![
                    company,
                    username,
                    role.as_str(),
                    invited_by,
                    at,
                    expires_at
                ])?;
            }
            tx.commit()?;
            Ok(Invited::Sent)
        })
        .await
    }

    async fn company_invitations(&self, company: i64, at: i64) -> StoreResult<Vec<Invitation>> {
        self.run(move |c| {
            let mut st = c.prepare_cached(&format!(
                "{INVITATION_SELECT} WHERE i.company_id = ?1 AND i.expires_at > ?2
                 ORDER BY i.created_at, i.id"
            ))?;
            let rows = st.query_map([company, at], invitation_from)?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
        .await
    }

    async fn invitations_for(
        &self,
        user: i64,
        at: i64,
        limit: usize,
    ) -> StoreResult<Vec<Invitation>> {
        self.run(move |c| {
            let mut st = c.prepare_cached(&format!(
                "{INVITATION_SELECT} JOIN users me ON me.username = i.username
                 WHERE me.id = ?1 AND i.expires_at > ?2
                 ORDER BY i.created_at DESC, i.id DESC LIMIT ?3"
            ))?;
            let rows = st.query_map(params![user, at, limit as i64], invitation_from)?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
        .await
    }

    async fn revoke_invitation(&self, company: i64, id: i64) -> StoreResult<bool> {
        self.write(move |c| {
            let n = c
                .prepare_cached("DELETE FROM invitations WHERE id = ?1 AND company_id = ?2")?
                .execute([id, company])?;
            Ok(n > 0)
        })
        .await
    }

    async fn accept_invitation(&self, id: i64, user: i64, at: i64) -> StoreResult<Accepted> {
        self.write(move |c| {
            let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            let found: Option<(i64, String, String, i64)> = tx
                .prepare_cached(
                    "SELECT i.company_id, c.name, i.role, i.expires_at
                     FROM invitations i JOIN users u ON u.username = i.username
                     JOIN companies c ON c.id = i.company_id
                     WHERE i.id = ?1 AND u.id = ?2",
                )?
                .query_row([id, user], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
                })
                .optional()?;
            let Some((company, name, role, expires_at)) = found else {
                return Ok(Accepted::NotFound);
            };
            if expires_at <= at {
                return Ok(Accepted::Expired);
            }
            let role = Role::parse(&role);
            let joined = match tx
                .prepare_cached(
                    "INSERT INTO memberships (company_id, user_id, role) VALUES (?1, ?2, ?3)",
                )?
                .execute(params![company, user, role.as_str()])
            {
                Ok(_) => Accepted::Joined(Membership {
                    company: Company { id: company, name },
                    role,
                }),
                Err(e) if is_unique_violation(&e) => Accepted::AlreadyMember,
                Err(e) => return Err(e.into()),
            };
            tx.prepare_cached("DELETE FROM invitations WHERE id = ?1")?
                .execute([id])?;
            tx.commit()?;
            Ok(joined)
        })
        .await
    }

    async fn decline_invitation(&self, id: i64, user: i64) -> StoreResult<bool> {
        self.write(move |c| {
            let n = c
                .prepare_cached(
                    "DELETE FROM invitations
                     WHERE id = ?1 AND username = (SELECT username FROM users WHERE id = ?2)",
                )?
                .execute([id, user])?;
            Ok(n > 0)
        })
        .await
    }

    async fn leave_company(&self, company: i64, user: i64) -> StoreResult<Left> {
        self.write(move |c| {
            let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            let role: Option<String> = tx
                .prepare_cached(
                    "SELECT role FROM memberships WHERE company_id = ?1 AND user_id = ?2",
                )?
                .query_row([company, user], |r| r.get(0))
                .optional()?;
            let Some(role) = role else {
                return Ok(Left::NotMember);
            };
            if Role::parse(&role) == Role::Owner {
                let owners: i64 = tx
                    .prepare_cached(
                        "SELECT count(*) FROM memberships WHERE company_id = ?1 AND role = 'owner'",
                    )?
                    .query_row([company], |r| r.get(0))?;
                if owners <= 1 {
                    return Ok(Left::LastOwner);
                }
            }
            tx.prepare_cached("DELETE FROM memberships WHERE company_id = ?1 AND user_id = ?2")?
                .execute([company, user])?;
            tx.commit()?;
            Ok(Left::Left)
        })
        .await
    }

    async fn memberships(&self, user: i64) -> StoreResult<Vec<Membership>> {
        self.run(move |c| {
            let mut st = c.prepare_cached(
                "SELECT c.id, c.name, m.role FROM memberships m JOIN companies c ON c.id = m.company_id
                 WHERE m.user_id = ?1 ORDER BY c.name, c.id",
            )?;
            let rows = st.query_map([user], |r| {
                Ok(Membership {
                    company: Company {
                        id: r.get(0)?,
                        name: r.get(1)?,
                    },
                    role: Role::parse(&r.get::<_, String>(2)?),
                })
            })?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
        .await
    }

    async fn memberships_page(&self, user: i64, page: PageReq) -> StoreResult<Page<Membership>> {
        self.run(move |c| {
            let (key, id) = after_params(&page);
            let mut st = c.prepare_cached(
                "SELECT c.id, c.name, m.role FROM memberships m JOIN companies c ON c.id = m.company_id
                 WHERE m.user_id = ?1 AND (?2 IS NULL OR (c.name, c.id) > (?2, ?3))
                 ORDER BY c.name, c.id LIMIT ?4",
            )?;
            let rows = st.query_map(params![user, key, id, fetch_limit(&page)], |r| {
                Ok(Membership {
                    company: Company {
                        id: r.get(0)?,
                        name: r.get(1)?,
                    },
                    role: Role::parse(&r.get::<_, String>(2)?),
                })
            })?;
            Ok(paged(rows.collect::<Result<_, _>>()?, &page, |m| After {
                key: m.company.name.clone(),
                id: m.company.id,
            }))
        })
        .await
    }

    async fn company(&self, id: i64) -> StoreResult<Option<Company>> {
        self.run(move |c| {
            Ok(
                c.prepare_cached("SELECT id, name FROM companies WHERE id = ?1")?
                    .query_row([id], |r| {
                        Ok(Company {
                            id: r.get(0)?,
                            name: r.get(1)?,
                        })
                    })
                    .optional()?,
            )
        })
        .await
    }

    async fn company_members(&self, id: i64) -> StoreResult<Vec<(User, Role)>> {
        self.run(move |c| {
            let mut st = c.prepare_cached(&format!(
                "SELECT {USER_COLS}, m.role FROM memberships m JOIN users u ON u.id = m.user_id
                 WHERE m.company_id = ?1 ORDER BY u.username"
            ))?;
            let rows = st.query_map([id], |r| {
                Ok((user_from(r)?, Role::parse(&r.get::<_, String>(5)?)))
            })?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
        .await
    }

    async fn company_members_page(
        &self,
        id: i64,
        page: PageReq,
    ) -> StoreResult<Page<(User, Role)>> {
        self.run(move |c| {
            let (key, after) = after_params(&page);
            let mut st = c.prepare_cached(&format!(
                "SELECT {USER_COLS}, m.role FROM memberships m JOIN users u ON u.id = m.user_id
                 WHERE m.company_id = ?1 AND (?2 IS NULL OR (u.username, u.id) > (?2, ?3))
                 ORDER BY u.username, u.id LIMIT ?4"
            ))?;
            let rows = st.query_map(params![id, key, after, fetch_limit(&page)], |r| {
                Ok((user_from(r)?, Role::parse(&r.get::<_, String>(5)?)))
            })?;
            Ok(paged(rows.collect::<Result<_, _>>()?, &page, |(u, _)| {
                After {
                    key: u.username.clone(),
                    id: u.id,
                }
            }))
        })
        .await
    }

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
                    return Err(StoreError::Conflict(format!("client {:?}", app.client_id)))
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
                .prepare_cached("UPDATE apps SET secret_digest = ?2 WHERE client_id = ?1")?
                .execute(params![client_id, digest.map(|d| d.0.to_vec())])?;
            if n == 0 {
                return Err(StoreError::NotFound(format!("client {client_id:?}")));
            }
            Ok(())
        })
        .await
    }

    async fn create_session(&self, digest: TokenDigest, s: Session) -> StoreResult<()> {
        self.write(move |c| {
            // Expired sessions are swept whenever a new one starts.
            c.prepare_cached("DELETE FROM sessions WHERE expires_at <= ?1")?
                .execute([now()])?;
            c.prepare_cached(
                "INSERT INTO sessions (digest, user_id, csrf, expires_at) VALUES (?1, ?2, ?3, ?4)",
            )?
            .execute(params![digest.0.to_vec(), s.user_id, s.csrf, s.expires_at])?;
            Ok(())
        })
        .await
    }

    async fn session(&self, digest: TokenDigest, at: i64) -> StoreResult<Option<Session>> {
        self.run(move |c| {
            // A plain lookup by key; the expiry is checked below.
            Ok(c.prepare_cached(
                "SELECT user_id, csrf, expires_at FROM sessions WHERE digest = ?1",
            )?
            .query_row([digest.0.to_vec()], |r| {
                Ok(Session {
                    user_id: r.get(0)?,
                    csrf: r.get(1)?,
                    expires_at: r.get(2)?,
                })
            })
            .optional()?)
        })
        .await
        .map(|s| s.filter(|s: &Session| s.expires_at > at))
    }

    async fn delete_session(&self, digest: TokenDigest) -> StoreResult<()> {
        self.write(move |c| {
            c.prepare_cached("DELETE FROM sessions WHERE digest = ?1")?
                .execute([digest.0.to_vec()])?;
            Ok(())
        })
        .await
    }

    async fn consume_login_form(
        &self,
        digest: TokenDigest,
        expires_at: i64,
        at: i64,
    ) -> StoreResult<bool> {
        self.write(move |c| {
            c.prepare_cached("DELETE FROM login_forms_used WHERE expires_at < ?1")?
                .execute([at])?;
            let inserted = c
                .prepare_cached(
                    "INSERT INTO login_forms_used (digest, expires_at) VALUES (?1, ?2)
                     ON CONFLICT (digest) DO NOTHING",
                )?
                .execute(params![digest.0.to_vec(), expires_at])?;
            Ok(inserted == 1)
        })
        .await
    }

    async fn save_code(&self, digest: TokenDigest, code: CodeGrant) -> StoreResult<bool> {
        self.write(move |c| {
            // The install check is part of the insert: an uninstall that committed before this
            // write leaves no code behind, and one that commits after deletes it.
            let saved = c.prepare_cached("INSERT INTO authorization_codes (digest, app_id, user_id, company_id, redirect_uri,
                    scopes, code_challenge, expires_at, install_id)
                 SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9
                 WHERE ?9 IS NULL OR EXISTS (SELECT 1 FROM installs WHERE id = ?9 AND state = 'active')")?
                .execute(
                params![
                    digest.0.to_vec(),
                    code.app_id,
                    code.user_id,
                    code.company_id,
                    code.redirect_uri.as_str(),
                    code.scopes.to_string(),
                    code.code_challenge,
                    code.expires_at,
                    code.install_id
                ],
            )?;
            Ok(saved == 1)
        })
        .await
    }

    async fn consume_code(&self, digest: TokenDigest, at: i64) -> StoreResult<Consumed> {
        self.write(move |c| {
            let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            let row = tx
                .prepare_cached("SELECT app_id, user_id, company_id, redirect_uri, scopes, code_challenge,
                            expires_at, used_at, family_id, install_id
                     FROM authorization_codes WHERE digest = ?1")?
                .query_row(
                    [digest.0.to_vec()],
                    |r| {
                        let redirect_uri: String = r.get(3)?;
                        Ok((
                            CodeGrant {
                                app_id: r.get(0)?,
                                user_id: r.get(1)?,
                                company_id: r.get(2)?,
                                redirect_uri: RedirectUri::absolute(&redirect_uri).ok_or_else(|| {
                                    rusqlite::Error::FromSqlConversionFailure(
                                        3,
                                        rusqlite::types::Type::Text,
                                        "a stored redirect_uri is not a URL".into(),
                                    )
                                })?,
                                scopes: ScopeSet::from_stored(&r.get::<_, String>(4)?),
                                code_challenge: r.get(5)?,
                                expires_at: r.get(6)?,
                                install_id: r.get(9)?,
                            },
                            r.get::<_, Option<i64>>(7)?,
                            r.get::<_, Option<i64>>(8)?,
                        ))
                    },
                )
                .optional()?;
            let outcome = match row {
                None => Consumed::Unknown,
                Some((_, Some(_used), family)) => {
                    // Remembered, so that an exchange of this code that has not written its
                    // tokens yet writes none (see `issue`).
                    tx.prepare_cached(
                        "UPDATE authorization_codes SET replayed_at = ?2 WHERE digest = ?1 AND replayed_at IS NULL",
                    )?
                    .execute(params![digest.0.to_vec(), at])?;
                    Consumed::Already { family }
                }
                Some((grant, None, _)) => {
                    tx.prepare_cached(
                        "UPDATE authorization_codes SET used_at = ?2 WHERE digest = ?1",
                    )?
                    .execute(
                        params![digest.0.to_vec(), at],
                    )?;
                    Consumed::Fresh(grant)
                }
            };
            tx.commit()?;
            Ok(outcome)
        })
        .await
    }

    async fn issue(
        &self,
        grant: Grant,
        code: Option<TokenDigest>,
        access: NewToken,
        refresh: Option<NewToken>,
    ) -> StoreResult<Issue> {
        self.write(move |c| {
            // Dropping `tx` without commit (the early returns) rolls everything back.
            let tx = c.transaction()?;
            if let Some(install) = grant.install_id {
                let active = tx
                    .prepare_cached("SELECT 1 FROM installs WHERE id = ?1 AND state = 'active'")?
                    .exists([install])?;
                if !active {
                    return Ok(Issue::InstallGone);
                }
            }
            tx.prepare_cached(
                "INSERT INTO token_families (app_id, user_id, company_id, scopes, created_at, install_id)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?
            .execute(
                params![
                    grant.app_id,
                    grant.user_id,
                    grant.company_id,
                    grant.scopes.to_string(),
                    access.issued_at,
                    grant.install_id
                ],
            )?;
            let family = tx.last_insert_rowid();
            insert_access(&tx, family, access)?;
            if let Some(r) = refresh {
                insert_refresh(&tx, family, r)?;
            }
            if let Some(code) = code {
                // The writer runs one transaction at a time, so either a replay committed
                // before this (and marked the code) and nothing is issued, or it commits after
                // and finds the family here to revoke.
                let linked = tx
                    .prepare_cached(
                        "UPDATE authorization_codes SET family_id = ?2 WHERE digest = ?1 AND replayed_at IS NULL",
                    )?
                    .execute(params![code.0.to_vec(), family])?;
                if linked == 0 {
                    return Ok(Issue::CodeSpent);
                }
            }
            tx.commit()?;
            Ok(Issue::Issued { family })
        })
        .await
    }

    async fn access_token(&self, digest: TokenDigest, at: i64) -> StoreResult<Option<AccessInfo>> {
        if let Some(hit) = self.access.get(&digest, at) {
            return Ok(Some(hit));
        }
        let since = self.access.generation();
        // The expiry is checked here, as the cache checks it, so that the query is a plain
        // lookup by key.
        let found = self
            .run(move |c| {
                let mut st = c.prepare_cached(
                "SELECT f.id, f.app_id, a.client_id, f.user_id, u.username, f.company_id, f.scopes,
                        t.issued_at, t.expires_at
                 FROM access_tokens t
                 JOIN token_families f ON f.id = t.family_id
                 JOIN apps a ON a.id = f.app_id
                 LEFT JOIN users u ON u.id = f.user_id
                 LEFT JOIN installs i ON i.id = f.install_id
                 WHERE t.digest = ?1 AND f.revoked_at IS NULL
                   AND (f.install_id IS NULL OR i.state = 'active')",
            )?;
                Ok(st
                    .query_row([digest.0.as_slice()], |r| {
                        Ok(AccessInfo {
                            family_id: r.get(0)?,
                            app_id: r.get(1)?,
                            client_id: r.get(2)?,
                            user_id: r.get(3)?,
                            username: r.get(4)?,
                            company_id: r.get(5)?,
                            scopes: ScopeSet::from_stored(&r.get::<_, String>(6)?),
                            issued_at: r.get(7)?,
                            expires_at: r.get(8)?,
                        })
                    })
                    .optional()?)
            })
            .await?
            .filter(|info| info.expires_at > at);
        if let Some(info) = &found {
            self.access
                .insert(digest, info.clone(), info.expires_at, since);
        }
        Ok(found)
    }

    async fn refresh_token(&self, digest: TokenDigest) -> StoreResult<Option<RefreshInfo>> {
        self.run(move |c| {
            Ok(c.prepare_cached(
                "SELECT f.id, f.app_id, f.scopes, t.expires_at, t.rotated_at IS NOT NULL,
                        f.revoked_at IS NOT NULL OR IFNULL(i.state, 'active') <> 'active'
                 FROM refresh_tokens t JOIN token_families f ON f.id = t.family_id
                 LEFT JOIN installs i ON i.id = f.install_id
                 WHERE t.digest = ?1",
            )?
            .query_row([digest.0.to_vec()], |r| {
                Ok(RefreshInfo {
                    family_id: r.get(0)?,
                    app_id: r.get(1)?,
                    scopes: ScopeSet::from_stored(&r.get::<_, String>(2)?),
                    expires_at: r.get(3)?,
                    rotated: r.get(4)?,
                    revoked: r.get(5)?,
                })
            })
            .optional()?)
        })
        .await
    }

    async fn rotate_refresh(
        &self,
        old: TokenDigest,
        access: NewToken,
        refresh: NewToken,
        retry: Option<RetryWindow>,
    ) -> StoreResult<Rotation> {
        let out = self
            .write(move |c| {
                let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
                let at = access.issued_at;
                // A family whose install is gone counts as revoked (uninstalling revokes it too).
                let row: Option<(i64, bool, bool, i64)> = tx
                    .prepare_cached(
                        "SELECT t.family_id, t.rotated_at IS NOT NULL,
                            f.revoked_at IS NOT NULL OR IFNULL(i.state, 'active') <> 'active',
                            t.expires_at
                     FROM refresh_tokens t JOIN token_families f ON f.id = t.family_id
                     LEFT JOIN installs i ON i.id = f.install_id
                     WHERE t.digest = ?1",
                    )?
                    .query_row([old.0.as_slice()], |r| {
                        Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
                    })
                    .optional()?;
                let outcome = match row {
                    None => Rotation::Invalid,
                    Some((family, true, revoked, _)) => {
                        // The family's retry row names its newest rotation only: once the
                        // successor was rotated in turn, the row names the successor, not `old`.
                        let pending: Option<(Vec<u8>, i64)> = if revoked {
                            None
                        } else {
                            tx.prepare_cached(
                                "SELECT salt, access_expires_at FROM refresh_retries
                             WHERE family_id = ?1 AND old_digest = ?2 AND until > ?3",
                            )?
                            .query_row(params![family, old.0.as_slice(), at], |r| {
                                Ok((r.get(0)?, r.get(1)?))
                            })
                            .optional()?
                        };
                        let retry = pending.and_then(|(salt, access_expires_at)| {
                            Some(PendingRetry {
                                salt: <[u8; 32]>::try_from(salt).ok()?,
                                access_expires_at,
                            })
                        });
                        Rotation::AlreadyRotated { family, retry }
                    }
                    Some((_, _, true, _)) => Rotation::Invalid,
                    Some((_, _, _, exp)) if exp <= at => Rotation::Invalid,
                    Some((family, false, false, _)) => {
                        tx.prepare_cached(
                            "UPDATE refresh_tokens SET rotated_at = ?2 WHERE digest = ?1",
                        )?
                        .execute(params![old.0.as_slice(), at])?;
                        insert_access(&tx, family, access)?;
                        insert_refresh(&tx, family, refresh)?;
                        match retry {
                            // Replaces the row of the previous rotation: its successor (`old`) is
                            // used now, so a retry of that one is reuse.
                            Some(w) => tx
                                .prepare_cached(
                                    "INSERT OR REPLACE INTO refresh_retries
                                 (family_id, old_digest, salt, access_expires_at, until)
                             VALUES (?1, ?2, ?3, ?4, ?5)",
                                )?
                                .execute(params![
                                    family,
                                    old.0.as_slice(),
                                    w.salt.as_slice(),
                                    access.expires_at,
                                    w.until
                                ])?,
                            None => tx
                                .prepare_cached("DELETE FROM refresh_retries WHERE family_id = ?1")?
                                .execute([family])?,
                        };
                        // Salts whose interval is over are of no use to anyone: drop them.
                        tx.prepare_cached("DELETE FROM refresh_retries WHERE until <= ?1")?
                            .execute([at])?;
                        Rotation::Rotated
                    }
                };
                tx.commit()?;
                Ok(outcome)
            })
            .await;
        if out.is_err() {
            self.access.invalidate();
        }
        out
    }

    async fn revoke_family(&self, family: i64, at: i64) -> StoreResult<()> {
        self.write_revoking(move |c| {
            let tx = c.transaction()?;
            tx.prepare_cached(
                "UPDATE token_families SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL",
            )?
            .execute(params![family, at])?;
            // A revoked family has no retry to answer (see `rotate_refresh`).
            tx.prepare_cached("DELETE FROM refresh_retries WHERE family_id = ?1")?
                .execute([family])?;
            tx.commit()?;
            Ok(())
        })
        .await
    }

    async fn revoke_access(&self, digest: TokenDigest) -> StoreResult<()> {
        let out = self
            .write(move |c| {
                c.prepare_cached("DELETE FROM access_tokens WHERE digest = ?1")?
                    .execute([digest.0.to_vec()])?;
                Ok(())
            })
            .await;
        self.access.forget(&digest);
        out
    }

    async fn role(&self, company: i64, user: i64) -> StoreResult<Option<Role>> {
        self.run(move |c| {
            Ok(c.prepare_cached(
                "SELECT role FROM memberships WHERE company_id = ?1 AND user_id = ?2",
            )?
            .query_row([company, user], |r| {
                Ok(Role::parse(&r.get::<_, String>(0)?))
            })
            .optional()?)
        })
        .await
    }

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
                load_install(&tx, id)?.ok_or_else(|| StoreError::NotFound("install".into()))?;
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

    async fn due_deliveries(
        &self,
        at: i64,
        limit: usize,
        per_app: usize,
    ) -> StoreResult<Vec<Delivery>> {
        self.run(move |c| outbox::due(c, at, limit, per_app)).await
    }

    async fn delivery_done(&self, id: i64, at: i64) -> StoreResult<()> {
        self.write(move |c| outbox::done(c, id, at)).await
    }

    async fn delivery_attempt_failed(
        &self,
        id: i64,
        error: &str,
        retry_at: Option<i64>,
    ) -> StoreResult<()> {
        let error = error.to_string();
        self.write(move |c| outbox::failed(c, id, &error, retry_at, now()))
            .await
    }

    async fn undelivered(&self, app_id: i64, limit: usize) -> StoreResult<Vec<Delivery>> {
        self.run(move |c| outbox::undelivered(c, app_id, limit))
            .await
    }

    async fn retry_delivery(
        &self,
        app_id: i64,
        event_id: &str,
        at: i64,
    ) -> StoreResult<Option<Delivery>> {
        let event_id = event_id.to_string();
        self.write(move |c| outbox::retry_now(c, app_id, &event_id, at))
            .await
    }

    async fn prune(
        &self,
        what: Prunable,
        cutoff: i64,
        batch: usize,
        after: i64,
    ) -> StoreResult<Pruned> {
        let n = i64::try_from(batch.max(1)).unwrap_or(i64::MAX);
        if what == Prunable::Families {
            // No index finds a family without tokens, so the search is a read (on the pool,
            // beside the writer); the write deletes only what it found, checking again.
            let candidates: Vec<i64> = self
                .run(move |c| {
                    let mut st = c.prepare_cached(
                        "SELECT f.id FROM token_families f
                         WHERE f.id > ?1 AND f.created_at < ?2
                           AND NOT EXISTS (SELECT 1 FROM access_tokens t WHERE t.family_id = f.id)
                           AND NOT EXISTS (SELECT 1 FROM refresh_tokens t WHERE t.family_id = f.id)
                         ORDER BY f.id LIMIT ?3",
                    )?;
                    let rows = st.query_map(params![after, cutoff, n], |r| r.get(0))?;
                    Ok(rows.collect::<Result<_, _>>()?)
                })
                .await?;
            let Some(&last) = candidates.last() else {
                return Ok(Pruned {
                    deleted: 0,
                    resume_after: None,
                });
            };
            let more = candidates.len() >= batch.max(1);
            let deleted = self
                .write(move |c| {
                    let tx = c.transaction()?;
                    let mut deleted = 0;
                    {
                        let mut st = tx.prepare_cached(
                            "DELETE FROM token_families WHERE id = ?1
                               AND NOT EXISTS (SELECT 1 FROM access_tokens t
                                               WHERE t.family_id = token_families.id)
                               AND NOT EXISTS (SELECT 1 FROM refresh_tokens t
                                               WHERE t.family_id = token_families.id)",
                        )?;
                        for id in candidates {
                            deleted += st.execute([id])?;
                        }
                    }
                    tx.commit()?;
                    Ok(deleted)
                })
                .await?;
            return Ok(Pruned {
                deleted,
                resume_after: more.then_some(last),
            });
        }
        self.write(move |c| {
            // Tables found by an index on their expiry: each batch deletes the oldest rows
            // past the cutoff, and the kind is done when a batch comes back short.
            let by_expiry = |table: &str, key: &str, column: &str, extra: &str| {
                let select = format!(
                    "SELECT {key} FROM {table} WHERE {column} < ?1 {extra} ORDER BY {column} LIMIT ?2"
                );
                delete_batch(c, table, key, &select, cutoff, n)
            };
            let deleted = match what {
                Prunable::Sessions => by_expiry("sessions", "digest", "expires_at", "")?,
                Prunable::AccessTokens => by_expiry("access_tokens", "digest", "expires_at", "")?,
                Prunable::RefreshTokens => {
                    by_expiry("refresh_tokens", "digest", "expires_at", "")?
                }
                Prunable::Codes => by_expiry(
                    "authorization_codes",
                    "digest",
                    "expires_at",
                    "AND family_id IS NULL",
                )?,
                Prunable::DeliveredEvents => by_expiry(
                    "outbox",
                    "id",
                    "delivered_at",
                    "AND delivered_at IS NOT NULL",
                )?,
                // Done above; never reached.
                Prunable::Families => 0,
            };
            Ok(Pruned {
                deleted,
                resume_after: (i64::try_from(deleted).unwrap_or(i64::MAX) >= n).then_some(0),
            })
        })
        .await
    }
}

/// The cursor as two query parameters (both NULL for the first page).
fn after_params(page: &PageReq) -> (Option<String>, Option<i64>) {
    match &page.after {
        Some(a) => (Some(a.key.clone()), Some(a.id)),
        None => (None, None),
    }
}

/// One row more than the page holds, to learn whether another page follows.
fn fetch_limit(page: &PageReq) -> i64 {
    i64::try_from(page.limit.saturating_add(1)).unwrap_or(i64::MAX)
}

/// Cuts the rows read with [`fetch_limit`] to a page, with the cursor of the next one.
fn paged<T>(mut rows: Vec<T>, page: &PageReq, key: impl Fn(&T) -> After) -> Page<T> {
    let more = rows.len() > page.limit;
    rows.truncate(page.limit);
    let next = if more { rows.last().map(key) } else { None };
    Page { items: rows, next }
}

fn app_key(c: &Client) -> After {
    After {
        key: c.name.clone(),
        id: c.app_id,
    }
}

/// Deletes up to `batch` rows chosen by `select` (which takes the cutoff and the batch size and
/// returns keys) from `table` by `key`.
fn delete_batch(
    c: &rusqlite::Connection,
    table: &str,
    key: &str,
    select: &str,
    cutoff: i64,
    batch: i64,
) -> rusqlite::Result<usize> {
    c.prepare_cached(&format!("DELETE FROM {table} WHERE {key} IN ({select})"))?
        .execute(params![cutoff, batch])
}

fn live_app_id(tx: &rusqlite::Transaction, client_id: &str) -> StoreResult<i64> {
    tx.prepare_cached("SELECT id FROM apps WHERE client_id = ?1 AND deleted_at IS NULL")?
        .query_row([client_id], |r| r.get(0))
        .optional()?
        .ok_or_else(|| StoreError::NotFound(format!("app {client_id:?}")))
}

const INVITATION_SELECT: &str =
    "SELECT i.id, i.company_id, c.name, i.username, i.role, inviter.username, i.created_at, i.expires_at
    FROM invitations i JOIN companies c ON c.id = i.company_id
    LEFT JOIN users inviter ON inviter.id = i.invited_by";

fn invitation_from(r: &Row) -> rusqlite::Result<Invitation> {
    Ok(Invitation {
        id: r.get(0)?,
        company: Company {
            id: r.get(1)?,
            name: r.get(2)?,
        },
        username: r.get(3)?,
        role: Role::parse(&r.get::<_, String>(4)?),
        invited_by: r.get(5)?,
        created_at: r.get(6)?,
        expires_at: r.get(7)?,
    })
}

const INSTALL_SELECT: &str =
    "SELECT i.id, i.app_id, a.client_id, a.name, a.iframe_url, i.company_id,
        u.username, i.scopes, i.state = 'active', i.created_at, i.updated_at
    FROM installs i JOIN apps a ON a.id = i.app_id LEFT JOIN users u ON u.id = i.installed_by";

fn install_from(r: &Row) -> rusqlite::Result<Install> {
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

fn load_install(c: &rusqlite::Connection, id: i64) -> rusqlite::Result<Option<Install>> {
    c.query_row(
        &format!("{INSTALL_SELECT} WHERE i.id = ?1"),
        [id],
        install_from,
    )
    .optional()
}

/// Queues an install notification for the install's app, if it has a webhook URL.
fn enqueue(
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
fn uninstall_in(
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

fn insert_access(tx: &rusqlite::Transaction, family: i64, t: NewToken) -> rusqlite::Result<()> {
    tx.prepare_cached(
        "INSERT INTO access_tokens (digest, family_id, issued_at, expires_at) VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(params![t.digest.0.to_vec(), family, t.issued_at, t.expires_at],
    )?;
    Ok(())
}

fn insert_refresh(tx: &rusqlite::Transaction, family: i64, t: NewToken) -> rusqlite::Result<()> {
    tx.prepare_cached(
        "INSERT INTO refresh_tokens (digest, family_id, issued_at, expires_at) VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(params![t.digest.0.to_vec(), family, t.issued_at, t.expires_at],
    )?;
    Ok(())
}
