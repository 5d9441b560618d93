//! Company invitations and membership (`/api/dashboard/...`).
//!
//! Each function is the description of one operation, named by its path constant; the
//! operation itself is routed in `routes/`.

#![allow(dead_code)]

use super::prelude::*;

#[utoipa::path(
    get,
    path = paths::COMPANY_INVITATIONS,
    operation_id = "companyInvitations",
    tag = "invitations",
    summary = "Pending, unexpired invitations of a company, oldest first (owners only; at most 50)",
    security(("bearer" = ["dashboard"])),
    params(("company_id" = i64, Path)),
    responses(
        (status = 200, description = "OK", body = [InvitationView]),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 400, response = Malformed),
        (status = 405, response = MethodNotAllowed),
        (status = 503, response = Unavailable),
    ),
)]
pub fn company_invitations() {}

#[utoipa::path(
    post,
    path = paths::COMPANY_INVITATIONS,
    operation_id = "invite",
    tag = "invitations",
    summary = "Invite a user by username, as member or owner (owners only). Nobody joins before accepting; the answer does not tell whether the username exists. Invitations expire after 14 days; inviting the same username again renews its invitation.",
    security(("bearer" = ["dashboard"])),
    params(("company_id" = i64, Path)),
    request_body = NewInvitation,
    responses(
        (status = 202, description = "Invitation pending (the same answer whether or not the username exists)", body = InvitationSent),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 400, description = "Invalid username or role", body = ErrorBody),
        (status = 409, description = "Already a member (conflict), or the company holds its cap of pending invitations (limit_reached)", body = ErrorBody),
        (status = 405, response = MethodNotAllowed),
        (status = 411, response = LengthRequired),
        (status = 413, response = PayloadTooLarge),
        (status = 415, response = UnsupportedMediaType),
        (status = 503, response = Unavailable),
    ),
)]
pub fn invite() {}

#[utoipa::path(
    delete,
    path = paths::COMPANY_INVITATION,
    operation_id = "revokeInvitation",
    tag = "invitations",
    summary = "Revoke a pending invitation (owners only)",
    security(("bearer" = ["dashboard"])),
    params(("company_id" = i64, Path), ("invitation_id" = i64, Path)),
    responses(
        (status = 200, description = "OK", body = inline(Revoked)),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, description = "Not installed", body = ErrorBody),
        (status = 400, response = Malformed),
        (status = 405, response = MethodNotAllowed),
        (status = 503, response = Unavailable),
    ),
)]
pub fn revoke_invitation() {}

#[utoipa::path(
    delete,
    path = paths::COMPANY_MEMBERSHIP,
    operation_id = "leaveCompany",
    tag = "invitations",
    summary = "Leave a company (members; the last owner cannot leave)",
    security(("bearer" = ["dashboard"])),
    params(("company_id" = i64, Path)),
    responses(
        (status = 200, description = "OK", body = inline(Left)),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, description = "The user is the company's last owner (last_owner)", body = ErrorBody),
        (status = 400, response = Malformed),
        (status = 405, response = MethodNotAllowed),
        (status = 503, response = Unavailable),
    ),
)]
pub fn leave_company() {}

#[utoipa::path(
    get,
    path = paths::MY_INVITATIONS,
    operation_id = "myInvitations",
    tag = "invitations",
    summary = "The signed-in user's pending, unexpired invitations, newest first (at most 100)",
    security(("bearer" = ["dashboard"])),
    responses(
        (status = 200, description = "OK", body = [InvitationView]),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 400, response = Malformed),
        (status = 405, response = MethodNotAllowed),
        (status = 503, response = Unavailable),
    ),
)]
pub fn my_invitations() {}

#[utoipa::path(
    post,
    path = paths::INVITATION_ACCEPT,
    operation_id = "acceptInvitation",
    tag = "invitations",
    summary = "Accept an invitation: become a member (or owner) of its company",
    security(("bearer" = ["dashboard"])),
    params(("invitation_id" = i64, Path)),
    responses(
        (status = 200, description = "Joined: the company and the role now held", body = CompanyView),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, description = "No pending invitation with this id for this user (declined, revoked, used, or someone else's)", body = ErrorBody),
        (status = 409, description = "Already a member (the invitation is used up, the role unchanged)", body = ErrorBody),
        (status = 410, description = "The invitation has expired", body = ErrorBody),
        (status = 400, response = Malformed),
        (status = 405, response = MethodNotAllowed),
        (status = 503, response = Unavailable),
    ),
)]
pub fn accept_invitation() {}

#[utoipa::path(
    post,
    path = paths::INVITATION_DECLINE,
    operation_id = "declineInvitation",
    tag = "invitations",
    summary = "Decline an invitation",
    security(("bearer" = ["dashboard"])),
    params(("invitation_id" = i64, Path)),
    responses(
        (status = 200, description = "OK", body = inline(Declined)),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, description = "No pending invitation with this id for this user (declined, revoked, used, or someone else's)", body = ErrorBody),
        (status = 409, description = "Not installed, or no UI", body = ErrorBody),
        (status = 400, response = Malformed),
        (status = 405, response = MethodNotAllowed),
        (status = 503, response = Unavailable),
    ),
)]
pub fn decline_invitation() {}
