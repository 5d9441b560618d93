//! Invitations: owners invite by username, the invitee accepts or declines.
//!
//! Nobody becomes a member, let alone an owner, without accepting. Invitations are stored by
//! username and never checked against the users when made, so the answer to "invite X" (and
//! the owner's list of pending invitations) is the same whether or not X exists; they are
//! matched to a user when that user lists or accepts them. They expire, and a company holds a
//! bounded number of them ([`crate::domain::invitation`]).

use super::companies::require_owner;
use super::{ServiceError, ServiceResult};
use crate::domain::ids::{CompanyId, InvitationId};
use crate::domain::invitation::{
    parse_role, Invitee, INVITATION_TTL, MAX_LISTED_FOR_USER, MAX_PENDING_PER_COMPANY,
};
use crate::domain::now;
use crate::platform::Platform;
use crate::store::{Accepted, Invitation, Invited, Membership, NewInvitation, User};

/// An owner invites `username` (with `role`, member by default). Succeeds the same way whether
/// or not that user exists.
pub async fn invite(
    p: &Platform,
    owner: &User,
    company: CompanyId,
    username: &str,
    role: Option<&str>,
) -> ServiceResult<()> {
    require_owner(p, company, owner).await?;
    let invitee = Invitee::parse(username)?;
    let role = parse_role(role)?;
    let at = now();
    let outcome = p
        .store
        .invite(
            NewInvitation {
                company: company.get(),
                username: invitee.as_str().to_string(),
                role,
                invited_by: Some(owner.id),
                expires_at: at + INVITATION_TTL,
            },
            at,
            MAX_PENDING_PER_COMPANY,
        )
        .await?;
    match outcome {
        Invited::Sent => Ok(()),
        Invited::AlreadyMember => Err(ServiceError::Conflict {
            code: "conflict",
            why: "that user is already a member".into(),
        }),
        Invited::TooMany => Err(ServiceError::Conflict {
            code: "limit_reached",
            why: format!(
                "this company already has {MAX_PENDING_PER_COMPANY} pending invitations; \
                 revoke some or wait for them to expire"
            )
            .into(),
        }),
    }
}

/// The company's pending invitations, for an owner.
pub async fn pending(
    p: &Platform,
    owner: &User,
    company: CompanyId,
) -> ServiceResult<Vec<Invitation>> {
    require_owner(p, company, owner).await?;
    Ok(p.store.company_invitations(company.get(), now()).await?)
}

/// An owner withdraws a pending invitation.
pub async fn revoke(
    p: &Platform,
    owner: &User,
    company: CompanyId,
    id: InvitationId,
) -> ServiceResult<()> {
    require_owner(p, company, owner).await?;
    if !p.store.revoke_invitation(company.get(), id.get()).await? {
        return Err(ServiceError::NotFound("invitation"));
    }
    Ok(())
}

/// The invitations waiting for the user.
pub async fn for_user(p: &Platform, user: &User) -> ServiceResult<Vec<Invitation>> {
    Ok(p.store
        .invitations_for(user.id, now(), MAX_LISTED_FOR_USER)
        .await?)
}

/// The user accepts an invitation of theirs and joins the company.
pub async fn accept(p: &Platform, user: &User, id: InvitationId) -> ServiceResult<Membership> {
    match p.store.accept_invitation(id.get(), user.id, now()).await? {
        Accepted::Joined(m) => {
            tracing::info!(
                company = m.company.id,
                role = m.role.as_str(),
                "invitation accepted"
            );
            Ok(m)
        }
        Accepted::NotFound => Err(ServiceError::NotFound("invitation")),
        Accepted::Expired => Err(ServiceError::Gone {
            code: "expired",
            why: "this invitation has expired; ask the owner to invite you again",
        }),
        Accepted::AlreadyMember => Err(ServiceError::Conflict {
            code: "conflict",
            why: "you are already a member of this company; your role is unchanged".into(),
        }),
    }
}

/// The user declines an invitation of theirs.
pub async fn decline(p: &Platform, user: &User, id: InvitationId) -> ServiceResult<()> {
    if !p.store.decline_invitation(id.get(), user.id).await? {
        return Err(ServiceError::NotFound("invitation"));
    }
    Ok(())
}
