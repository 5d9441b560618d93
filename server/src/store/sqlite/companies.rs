//! [`CompanyStore`] in SQLite.

use async_trait::async_trait;
use rusqlite::{params, OptionalExtension, Row};

use super::users::{user_from, USER_COLS};
use super::*;
use crate::domain::now;

#[async_trait]
impl CompanyStore for SqliteStore {
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
                Err(e) if is_unique_violation(&e) => Err(StoreError::Conflict("membership")),
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
            let role: Role = word(2, &role)?;
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
            if word::<Role>(0, &role)?.is_owner() {
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
                    role: word_col(r, 2)?,
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
                    role: word_col(r, 2)?,
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
            let rows = st.query_map([id], |r| Ok((user_from(r)?, word_col(r, 5)?)))?;
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
                Ok((user_from(r)?, word_col(r, 5)?))
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

    async fn role(&self, company: i64, user: i64) -> StoreResult<Option<Role>> {
        self.run(move |c| {
            Ok(c.prepare_cached(
                "SELECT role FROM memberships WHERE company_id = ?1 AND user_id = ?2",
            )?
            .query_row([company, user], |r| word_col(r, 0))
            .optional()?)
        })
        .await
    }
}

pub(super) const INVITATION_SELECT: &str =
    "SELECT i.id, i.company_id, c.name, i.username, i.role, inviter.username, i.created_at, i.expires_at
    FROM invitations i JOIN companies c ON c.id = i.company_id
    LEFT JOIN users inviter ON inviter.id = i.invited_by";

pub(super) fn invitation_from(r: &Row) -> rusqlite::Result<Invitation> {
    Ok(Invitation {
        id: r.get(0)?,
        company: Company {
            id: r.get(1)?,
            name: r.get(2)?,
        },
        username: r.get(3)?,
        role: word_col(r, 4)?,
        invited_by: r.get(5)?,
        created_at: r.get(6)?,
        expires_at: r.get(7)?,
    })
}
