//! [`CompanyStore`] in PostgreSQL.
//!
//! Isolation: READ COMMITTED throughout. What counts before it writes locks the row the count
//! is about, so that writers of the same company or user take turns: creating a company
//! locks its owner's `users` row (the quota), inviting and leaving lock the `companies` row
//! (the cap of invitations, the last owner), accepting locks the invitation.

use async_trait::async_trait;
use tokio_postgres::Row;

use super::users::{user_from, USER_COLS};
use super::*;
use crate::domain::now;

#[async_trait]
impl CompanyStore for PostgresStore {
    async fn create_company(&self, name: &str, owner: i64, quota: Option<u32>) -> StoreResult<i64> {
        transaction!(self, |tx| {
            if let Some(limit) = quota {
                tx_query_opt(
                    tx,
                    "SELECT 1 FROM users WHERE id = $1 FOR UPDATE",
                    &[&owner],
                )
                .await?;
                let owned: i64 = tx_query_opt(
                    tx,
                    "SELECT count(*) FROM memberships WHERE user_id = $1 AND role = 'owner'",
                    &[&owner],
                )
                .await?
                .map_or(0, |r| r.get(0));
                if owned >= i64::from(limit) {
                    return Err(StoreError::Quota {
                        what: "companies",
                        limit,
                    });
                }
            }
            let id: i64 = tx_query(
                tx,
                "INSERT INTO companies (name, created_at) VALUES ($1, $2) RETURNING id",
                &[&name, &now()],
            )
            .await?
            .first()
            .map(|r| r.get(0))
            .ok_or(StoreError::NotFound("company"))?;
            tx_execute(
                tx,
                "INSERT INTO memberships (company_id, user_id, role) VALUES ($1, $2, 'owner')",
                &[&id, &owner],
            )
            .await?;
            Ok(id)
        })
    }

    async fn add_member(&self, company: i64, user: i64, role: Role) -> StoreResult<()> {
        let conn = self.conn().await?;
        let st = conn
            .prepare_cached(
                "INSERT INTO memberships (company_id, user_id, role) VALUES ($1, $2, $3)",
            )
            .await?;
        conn.execute(&st, &[&company, &user, &role.as_str()])
            .await
            .map_err(|e| conflict(e, "membership"))?;
        Ok(())
    }

    async fn invite(&self, invite: NewInvitation, at: i64, cap: usize) -> StoreResult<Invited> {
        let NewInvitation {
            company,
            username,
            role,
            invited_by,
            expires_at,
        } = invite;
        let cap = big(cap);
        transaction!(self, |tx| {
            tx_query_opt(
                tx,
                "SELECT 1 FROM companies WHERE id = $1 FOR UPDATE",
                &[&company],
            )
            .await?;
            tx_execute(tx, "DELETE FROM invitations WHERE expires_at <= $1", &[&at]).await?;
            // Members are visible to the owner anyway: saying so reveals nothing new.
            let member = tx_query_opt(
                tx,
                "SELECT 1 FROM memberships m JOIN users u ON u.id = m.user_id
                 WHERE m.company_id = $1 AND u.username = $2",
                &[&company, &username],
            )
            .await?
            .is_some();
            if member {
                return Ok(Invited::AlreadyMember);
            }
            let renewed = tx_execute(
                tx,
                "UPDATE invitations SET role = $3, invited_by = $4, created_at = $5, expires_at = $6
                 WHERE company_id = $1 AND username = $2",
                &[&company, &username, &role.as_str(), &invited_by, &at, &expires_at],
            )
            .await?;
            if renewed == 0 {
                let pending: i64 = tx_query_opt(
                    tx,
                    "SELECT count(*) FROM invitations WHERE company_id = $1",
                    &[&company],
                )
                .await?
                .map_or(0, |r| r.get(0));
                if pending >= cap {
                    return Ok(Invited::TooMany);
                }
                tx_execute(
                    tx,
                    "INSERT INTO invitations (company_id, username, role, invited_by, created_at,
                        expires_at)
                     VALUES ($1, $2, $3, $4, $5, $6)",
                    &[
                        &company,
                        &username,
                        &role.as_str(),
                        &invited_by,
                        &at,
                        &expires_at,
                    ],
                )
                .await?;
            }
            Ok(Invited::Sent)
        })
    }

    async fn company_invitations(&self, company: i64, at: i64) -> StoreResult<Vec<Invitation>> {
        let rows = self
            .query(
                &format!(
                    "{INVITATION_SELECT} WHERE i.company_id = $1 AND i.expires_at > $2
                     ORDER BY i.created_at, i.id"
                ),
                &[&company, &at],
            )
            .await?;
        rows.iter().map(invitation_from).collect()
    }

    async fn invitations_for(
        &self,
        user: i64,
        at: i64,
        limit: usize,
    ) -> StoreResult<Vec<Invitation>> {
        let rows = self
            .query(
                &format!(
                    "{INVITATION_SELECT} JOIN users me ON me.username = i.username
                     WHERE me.id = $1 AND i.expires_at > $2
                     ORDER BY i.created_at DESC, i.id DESC LIMIT $3"
                ),
                &[&user, &at, &big(limit)],
            )
            .await?;
        rows.iter().map(invitation_from).collect()
    }

    async fn revoke_invitation(&self, company: i64, id: i64) -> StoreResult<bool> {
        let n = self
            .execute(
                "DELETE FROM invitations WHERE id = $1 AND company_id = $2",
                &[&id, &company],
            )
            .await?;
        Ok(n > 0)
    }

    async fn accept_invitation(&self, id: i64, user: i64, at: i64) -> StoreResult<Accepted> {
        transaction!(self, |tx| {
            let found = tx_query_opt(
                tx,
                "SELECT i.company_id, c.name, i.role, i.expires_at
                 FROM invitations i JOIN users u ON u.username = i.username
                 JOIN companies c ON c.id = i.company_id
                 WHERE i.id = $1 AND u.id = $2 FOR UPDATE OF i",
                &[&id, &user],
            )
            .await?;
            let Some(row) = found else {
                return Ok(Accepted::NotFound);
            };
            let (company, name, role, expires_at): (i64, String, String, i64) =
                (row.get(0), row.get(1), row.get(2), row.get(3));
            if expires_at <= at {
                return Ok(Accepted::Expired);
            }
            let role: Role = word(&role)?;
            let inserted = tx_execute(
                tx,
                "INSERT INTO memberships (company_id, user_id, role) VALUES ($1, $2, $3)
                 ON CONFLICT (company_id, user_id) DO NOTHING",
                &[&company, &user, &role.as_str()],
            )
            .await?;
            tx_execute(tx, "DELETE FROM invitations WHERE id = $1", &[&id]).await?;
            Ok(if inserted == 1 {
                Accepted::Joined(Membership {
                    company: Company { id: company, name },
                    role,
                })
            } else {
                Accepted::AlreadyMember
            })
        })
    }

    async fn decline_invitation(&self, id: i64, user: i64) -> StoreResult<bool> {
        let n = self
            .execute(
                "DELETE FROM invitations
                 WHERE id = $1 AND username = (SELECT username FROM users WHERE id = $2)",
                &[&id, &user],
            )
            .await?;
        Ok(n > 0)
    }

    async fn leave_company(&self, company: i64, user: i64) -> StoreResult<Left> {
        transaction!(self, |tx| {
            tx_query_opt(
                tx,
                "SELECT 1 FROM companies WHERE id = $1 FOR UPDATE",
                &[&company],
            )
            .await?;
            let role = tx_query_opt(
                tx,
                "SELECT role FROM memberships WHERE company_id = $1 AND user_id = $2",
                &[&company, &user],
            )
            .await?;
            let Some(role) = role else {
                return Ok(Left::NotMember);
            };
            if word::<Role>(role.get(0))?.is_owner() {
                let owners: i64 = tx_query_opt(
                    tx,
                    "SELECT count(*) FROM memberships WHERE company_id = $1 AND role = 'owner'",
                    &[&company],
                )
                .await?
                .map_or(0, |r| r.get(0));
                if owners <= 1 {
                    return Ok(Left::LastOwner);
                }
            }
            tx_execute(
                tx,
                "DELETE FROM memberships WHERE company_id = $1 AND user_id = $2",
                &[&company, &user],
            )
            .await?;
            Ok(Left::Left)
        })
    }

    async fn memberships(&self, user: i64) -> StoreResult<Vec<Membership>> {
        let rows = self
            .query(
                "SELECT c.id, c.name, m.role FROM memberships m
                 JOIN companies c ON c.id = m.company_id
                 WHERE m.user_id = $1 ORDER BY c.name, c.id",
                &[&user],
            )
            .await?;
        rows.iter().map(membership_from).collect()
    }

    async fn memberships_page(&self, user: i64, page: PageReq) -> StoreResult<Page<Membership>> {
        let (key, id) = after_params(&page);
        let rows = self
            .query(
                "SELECT c.id, c.name, m.role FROM memberships m
                 JOIN companies c ON c.id = m.company_id
                 WHERE m.user_id = $1 AND ($2::TEXT IS NULL OR (c.name, c.id) > ($2, $3))
                 ORDER BY c.name, c.id LIMIT $4",
                &[&user, &key, &id, &fetch_limit(&page)],
            )
            .await?;
        let items = rows
            .iter()
            .map(membership_from)
            .collect::<StoreResult<Vec<_>>>()?;
        Ok(paged(items, &page, |m| After {
            key: m.company.name.clone(),
            id: m.company.id,
        }))
    }

    async fn company(&self, id: i64) -> StoreResult<Option<Company>> {
        let row = self
            .query_opt("SELECT id, name FROM companies WHERE id = $1", &[&id])
            .await?;
        Ok(row.map(|r| Company {
            id: r.get(0),
            name: r.get(1),
        }))
    }

    async fn company_members(&self, id: i64) -> StoreResult<Vec<(User, Role)>> {
        let rows = self
            .query(
                &format!(
                    "SELECT {USER_COLS}, m.role FROM memberships m JOIN users u ON u.id = m.user_id
                     WHERE m.company_id = $1 ORDER BY u.username"
                ),
                &[&id],
            )
            .await?;
        rows.iter()
            .map(|r| Ok((user_from(r), word(r.get(5))?)))
            .collect()
    }

    async fn company_members_page(
        &self,
        id: i64,
        page: PageReq,
    ) -> StoreResult<Page<(User, Role)>> {
        let (key, after) = after_params(&page);
        let rows = self
            .query(
                &format!(
                    "SELECT {USER_COLS}, m.role FROM memberships m JOIN users u ON u.id = m.user_id
                     WHERE m.company_id = $1 AND ($2::TEXT IS NULL OR (u.username, u.id) > ($2, $3))
                     ORDER BY u.username, u.id LIMIT $4"
                ),
                &[&id, &key, &after, &fetch_limit(&page)],
            )
            .await?;
        let items = rows
            .iter()
            .map(|r| Ok((user_from(r), word(r.get(5))?)))
            .collect::<StoreResult<Vec<_>>>()?;
        Ok(paged(items, &page, |(u, _)| After {
            key: u.username.clone(),
            id: u.id,
        }))
    }

    async fn role(&self, company: i64, user: i64) -> StoreResult<Option<Role>> {
        let row = self
            .query_opt(
                "SELECT role FROM memberships WHERE company_id = $1 AND user_id = $2",
                &[&company, &user],
            )
            .await?;
        row.map(|r| word(r.get(0))).transpose()
    }
}

fn membership_from(r: &Row) -> StoreResult<Membership> {
    Ok(Membership {
        company: Company {
            id: r.get(0),
            name: r.get(1),
        },
        role: word(r.get(2))?,
    })
}

const INVITATION_SELECT: &str =
    "SELECT i.id, i.company_id, c.name, i.username, i.role, inviter.username, i.created_at, i.expires_at
    FROM invitations i JOIN companies c ON c.id = i.company_id
    LEFT JOIN users inviter ON inviter.id = i.invited_by";

fn invitation_from(r: &Row) -> StoreResult<Invitation> {
    Ok(Invitation {
        id: r.get(0),
        company: Company {
            id: r.get(1),
            name: r.get(2),
        },
        username: r.get(3),
        role: word(r.get(4))?,
        invited_by: r.get(5),
        created_at: r.get(6),
        expires_at: r.get(7),
    })
}
