//! Companies and their members: who belongs, who owns, creating one, leaving one.
//!
//! A company's data is visible to its members only: to anyone else it does not exist
//! ([`ServiceError::NotFound`], so ids don't leak); changing it is for owners
//! ([`ServiceError::Forbidden`] for members). Joining is by invitation only
//! ([`super::invitations`]).

use super::{ServiceError, ServiceResult};
use crate::domain::ids::CompanyId;
use crate::domain::text;
use crate::platform::Platform;
use crate::store::{Company, Left, Membership, Page, PageReq, Role, User};

/// The user's role in a company; not found for non-members.
pub async fn role_in(p: &Platform, company: CompanyId, user: &User) -> ServiceResult<Role> {
    p.store
        .role(company.get(), user.id)
        .await?
        .ok_or(ServiceError::NotFound("company"))
}

/// Succeeds for an owner of the company; forbidden for a member, not found for anyone else.
pub async fn require_owner(p: &Platform, company: CompanyId, user: &User) -> ServiceResult<()> {
    match role_in(p, company, user).await? {
        Role::Owner => Ok(()),
        Role::Member => Err(ServiceError::Forbidden(
            "only an owner of the company can do this".into(),
        )),
    }
}

/// A company by id (the caller has checked membership).
pub async fn get(p: &Platform, company: CompanyId) -> ServiceResult<Company> {
    p.store
        .company(company.get())
        .await?
        .ok_or(ServiceError::NotFound("company"))
}

/// A page of the user's companies, with their role in each.
pub async fn of_user(p: &Platform, user: &User, page: PageReq) -> ServiceResult<Page<Membership>> {
    Ok(p.store.memberships_page(user.id, page).await?)
}

/// Creates a company owned by `user`, within their quota of companies.
pub async fn create(p: &Platform, user: &User, name: &str, quota: u32) -> ServiceResult<Company> {
    let name = text::company_name(name)?;
    let id = p.store.create_company(&name, user.id, Some(quota)).await?;
    Ok(Company { id, name })
}

/// A page of a company's members, for a member.
pub async fn members(
    p: &Platform,
    user: &User,
    company: CompanyId,
    page: PageReq,
) -> ServiceResult<Page<(User, Role)>> {
    role_in(p, company, user).await?;
    Ok(p.store.company_members_page(company.get(), page).await?)
}

/// The user leaves the company, unless they are its last owner.
pub async fn leave(p: &Platform, user: &User, company: CompanyId) -> ServiceResult<()> {
    role_in(p, company, user).await?;
    match p.store.leave_company(company.get(), user.id).await? {
        Left::Left => {
            tracing::info!(company = company.get(), "a member left a company");
            Ok(())
        }
        Left::NotMember => Err(ServiceError::NotFound("company")),
        Left::LastOwner => Err(ServiceError::Conflict {
            code: "last_owner",
            why: "you are the last owner of this company: invite another owner, and once they \
                  accept, you can leave"
                .into(),
        }),
    }
}
