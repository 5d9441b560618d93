//! Joining and leaving companies (`/api/dashboard/...`): owners invite by username, the invitee
//! accepts or declines, members leave. Every route needs a dashboard token. The rules are in
//! [`crate::services::invitations`] and [`crate::services::companies`].

use atrium_proto::dashboard::{self as wire, CompanyView, InvitationSent, InvitationView};
use atrium_proto::paths;
use warp::http::StatusCode;
use warp::Filter;

use super::api::dashboard_user;
use super::dashboard::ok;
use super::error::{reply, ApiError, ApiResult};
use super::respond::{self, Resp};
use super::{json_body, with_auth, AppState, Auth};
use crate::domain::ids::{CompanyId, InvitationId};
use crate::domain::invitation::INVITATION_TTL;
use crate::services::{companies, invitations};
use crate::store::Invitation;

pub fn filters(state: AppState) -> impl Filter<Extract = (Resp,), Error = warp::Rejection> + Clone {
    let auth = move || with_auth(state.clone());
    // POST /api/dashboard/companies/{company_id}/invitations
    let invite = route!(paths::COMPANY_INVITATIONS; "api" / "dashboard" / "companies" / CompanyId / "invitations")
        .and(warp::post())
        .and(auth())
        .and(json_body::<wire::NewInvitation>())
        .then(invite)
        .map(reply);
    // GET /api/dashboard/companies/{company_id}/invitations
    let pending = route!(paths::COMPANY_INVITATIONS; "api" / "dashboard" / "companies" / CompanyId / "invitations")
        .and(warp::get())
        .and(auth())
        .then(company_invitations)
        .map(reply);
    // DELETE /api/dashboard/companies/{company_id}/invitations/{invitation_id}
    let revoke =
        route!(paths::COMPANY_INVITATION; "api" / "dashboard" / "companies" / CompanyId / "invitations" / InvitationId)
            .and(warp::delete())
            .and(auth())
            .then(revoke)
            .map(reply);
    // DELETE /api/dashboard/companies/{company_id}/membership
    let leave = route!(paths::COMPANY_MEMBERSHIP; "api" / "dashboard" / "companies" / CompanyId / "membership")
        .and(warp::delete())
        .and(auth())
        .then(leave)
        .map(reply);
    // GET /api/dashboard/invitations
    let mine = route!(paths::MY_INVITATIONS; "api" / "dashboard" / "invitations")
        .and(warp::get())
        .and(auth())
        .then(my_invitations)
        .map(reply);
    // POST /api/dashboard/invitations/{invitation_id}/accept
    let accept = route!(paths::INVITATION_ACCEPT; "api" / "dashboard" / "invitations" / InvitationId / "accept")
        .and(warp::post())
        .and(auth())
        .then(accept)
        .map(reply);
    // POST /api/dashboard/invitations/{invitation_id}/decline
    let decline = route!(paths::INVITATION_DECLINE; "api" / "dashboard" / "invitations" / InvitationId / "decline")
        .and(warp::post())
        .and(auth())
        .then(decline)
        .map(reply);
    invite
        .or(pending)
        .unify()
        .or(revoke)
        .unify()
        .or(leave)
        .unify()
        .or(mine)
        .unify()
        .or(accept)
        .unify()
        .or(decline)
        .unify()
}

fn view(i: Invitation) -> InvitationView {
    InvitationView {
        id: i.id,
        company_id: i.company.id,
        company_name: i.company.name,
        username: i.username,
        role: i.role,
        invited_by: i.invited_by,
        created_at: i.created_at,
        expires_at: i.expires_at,
    }
}

async fn invite(
    company: CompanyId,
    (state, h): Auth,
    body: Result<wire::NewInvitation, ApiError>,
) -> ApiResult {
    let user = dashboard_user(&state, h.as_deref()).await?;
    let body = body?;
    invitations::invite(
        &state.platform,
        &user,
        company,
        &body.username,
        body.role.as_deref(),
    )
    .await?;
    // Nothing in this answer may depend on whether the invitee exists.
    Ok(respond::no_store(respond::json(
        StatusCode::ACCEPTED,
        &InvitationSent {
            status: "pending".into(),
            expires_in: INVITATION_TTL,
        },
    )))
}

async fn company_invitations(company: CompanyId, (state, h): Auth) -> ApiResult {
    let user = dashboard_user(&state, h.as_deref()).await?;
    let list = invitations::pending(&state.platform, &user, company).await?;
    ok(&list.into_iter().map(view).collect::<Vec<_>>())
}

async fn revoke(company: CompanyId, id: InvitationId, (state, h): Auth) -> ApiResult {
    let user = dashboard_user(&state, h.as_deref()).await?;
    invitations::revoke(&state.platform, &user, company, id).await?;
    ok(&serde_json::json!({ "revoked": id.get() }))
}

async fn leave(company: CompanyId, (state, h): Auth) -> ApiResult {
    let user = dashboard_user(&state, h.as_deref()).await?;
    companies::leave(&state.platform, &user, company).await?;
    ok(&serde_json::json!({ "left": company.get() }))
}

async fn my_invitations((state, h): Auth) -> ApiResult {
    let user = dashboard_user(&state, h.as_deref()).await?;
    let list = invitations::for_user(&state.platform, &user).await?;
    ok(&list.into_iter().map(view).collect::<Vec<_>>())
}

async fn accept(id: InvitationId, (state, h): Auth) -> ApiResult {
    let user = dashboard_user(&state, h.as_deref()).await?;
    let m = invitations::accept(&state.platform, &user, id).await?;
    ok(&CompanyView {
        id: m.company.id,
        name: m.company.name,
        role: m.role,
    })
}

async fn decline(id: InvitationId, (state, h): Auth) -> ApiResult {
    let user = dashboard_user(&state, h.as_deref()).await?;
    invitations::decline(&state.platform, &user, id).await?;
    ok(&serde_json::json!({ "declined": id.get() }))
}
