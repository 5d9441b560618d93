//! Joining and leaving companies (`/api/dashboard/...`): owners invite by username, the invitee
//! accepts or declines, members leave. Every route needs a dashboard token.
//!
//! Nobody becomes a member, let alone an owner, without accepting. Invitations are stored by
//! username and never checked against the users when made, so the answer to "invite X" (and
//! the owner's list of pending invitations) is the same whether or not X exists; they are
//! matched to a user when that user lists or accepts them. They expire, and a company holds a
//! bounded number of them ([`crate::domain::invitation`]).

use atrium_proto::dashboard::{self as wire, CompanyView, InvitationSent, InvitationView};
use warp::http::StatusCode;
use warp::Filter;

use super::api::dashboard_user;
use super::dashboard::{bad_request, member_role, not_found, ok, owner_of, server_error};
use super::respond::{self, Resp};
use super::{json_body, with_auth, AppState, Auth};
use crate::domain::invitation::{
    parse_role, Invitee, INVITATION_TTL, MAX_LISTED_FOR_USER, MAX_PENDING_PER_COMPANY,
};
use crate::domain::now;
use crate::store::{Accepted, Invitation, Invited, Left, NewInvitation};

pub fn filters(state: AppState) -> impl Filter<Extract = (Resp,), Error = warp::Rejection> + Clone {
    let auth = move || with_auth(state.clone());
    // POST /api/dashboard/companies/{company_id}/invitations
    let invite = warp::path!("api" / "dashboard" / "companies" / i64 / "invitations")
        .and(warp::post())
        .and(auth())
        .and(json_body::<wire::NewInvitation>())
        .then(invite);
    // GET /api/dashboard/companies/{company_id}/invitations
    let pending = warp::path!("api" / "dashboard" / "companies" / i64 / "invitations")
        .and(warp::get())
        .and(auth())
        .then(company_invitations);
    // DELETE /api/dashboard/companies/{company_id}/invitations/{invitation_id}
    let revoke = warp::path!("api" / "dashboard" / "companies" / i64 / "invitations" / i64)
        .and(warp::delete())
        .and(auth())
        .then(revoke);
    // DELETE /api/dashboard/companies/{company_id}/membership
    let leave = warp::path!("api" / "dashboard" / "companies" / i64 / "membership")
        .and(warp::delete())
        .and(auth())
        .then(leave);
    // GET /api/dashboard/invitations
    let mine = warp::path!("api" / "dashboard" / "invitations")
        .and(warp::get())
        .and(auth())
        .then(my_invitations);
    // POST /api/dashboard/invitations/{invitation_id}/accept
    let accept = warp::path!("api" / "dashboard" / "invitations" / i64 / "accept")
        .and(warp::post())
        .and(auth())
        .then(accept);
    // POST /api/dashboard/invitations/{invitation_id}/decline
    let decline = warp::path!("api" / "dashboard" / "invitations" / i64 / "decline")
        .and(warp::post())
        .and(auth())
        .then(decline);
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

fn conflict(code: &str, why: &str) -> Resp {
    respond::api_error(StatusCode::CONFLICT, code, why)
}

fn view(i: Invitation) -> InvitationView {
    InvitationView {
        id: i.id,
        company_id: i.company.id,
        company_name: i.company.name,
        username: i.username,
        role: i.role.into(),
        invited_by: i.invited_by,
        created_at: i.created_at,
        expires_at: i.expires_at,
    }
}

async fn invite(company: i64, (state, h): Auth, body: Result<wire::NewInvitation, Resp>) -> Resp {
    let user = tri!(dashboard_user(&state, h.as_deref()).await);
    let body = tri!(body);
    tri!(owner_of(&state, company, &user).await);
    let invitee = match Invitee::parse(&body.username) {
        Ok(i) => i,
        Err(e) => return bad_request(&e.to_string()),
    };
    let role = match parse_role(body.role.as_deref()) {
        Ok(r) => r,
        Err(e) => return bad_request(&e.to_string()),
    };
    let at = now();
    let outcome = state
        .oauth
        .store
        .invite(
            NewInvitation {
                company,
                username: invitee.as_str().to_string(),
                role,
                invited_by: Some(user.id),
                expires_at: at + INVITATION_TTL,
            },
            at,
            MAX_PENDING_PER_COMPANY,
        )
        .await;
    match outcome {
        // Nothing in this answer may depend on whether the invitee exists.
        Ok(Invited::Sent) => respond::no_store(respond::json(
            StatusCode::ACCEPTED,
            &InvitationSent {
                status: "pending".into(),
                expires_in: INVITATION_TTL,
            },
        )),
        Ok(Invited::AlreadyMember) => conflict("conflict", "that user is already a member"),
        Ok(Invited::TooMany) => conflict(
            "limit_reached",
            &format!(
                "this company already has {MAX_PENDING_PER_COMPANY} pending invitations; \
                 revoke some or wait for them to expire"
            ),
        ),
        Err(e) => server_error(e),
    }
}

async fn company_invitations(company: i64, (state, h): Auth) -> Resp {
    let user = tri!(dashboard_user(&state, h.as_deref()).await);
    tri!(owner_of(&state, company, &user).await);
    match state.oauth.store.company_invitations(company, now()).await {
        Ok(list) => ok(&list.into_iter().map(view).collect::<Vec<_>>()),
        Err(e) => server_error(e),
    }
}

async fn revoke(company: i64, id: i64, (state, h): Auth) -> Resp {
    let user = tri!(dashboard_user(&state, h.as_deref()).await);
    tri!(owner_of(&state, company, &user).await);
    match state.oauth.store.revoke_invitation(company, id).await {
        Ok(true) => ok(&serde_json::json!({ "revoked": id })),
        Ok(false) => not_found("invitation"),
        Err(e) => server_error(e),
    }
}

async fn leave(company: i64, (state, h): Auth) -> Resp {
    let user = tri!(dashboard_user(&state, h.as_deref()).await);
    tri!(member_role(&state, company, &user).await);
    match state.oauth.store.leave_company(company, user.id).await {
        Ok(Left::Left) => {
            tracing::info!(company, "a member left a company");
            ok(&serde_json::json!({ "left": company }))
        }
        Ok(Left::NotMember) => not_found("company"),
        Ok(Left::LastOwner) => conflict(
            "last_owner",
            "you are the last owner of this company: invite another owner, and once they \
             accept, you can leave",
        ),
        Err(e) => server_error(e),
    }
}

async fn my_invitations((state, h): Auth) -> Resp {
    let user = tri!(dashboard_user(&state, h.as_deref()).await);
    match state
        .oauth
        .store
        .invitations_for(user.id, now(), MAX_LISTED_FOR_USER)
        .await
    {
        Ok(list) => ok(&list.into_iter().map(view).collect::<Vec<_>>()),
        Err(e) => server_error(e),
    }
}

async fn accept(id: i64, (state, h): Auth) -> Resp {
    let user = tri!(dashboard_user(&state, h.as_deref()).await);
    match state
        .oauth
        .store
        .accept_invitation(id, user.id, now())
        .await
    {
        Ok(Accepted::Joined(m)) => {
            tracing::info!(
                company = m.company.id,
                role = m.role.as_str(),
                "invitation accepted"
            );
            ok(&CompanyView {
                id: m.company.id,
                name: m.company.name,
                role: m.role.into(),
            })
        }
        Ok(Accepted::NotFound) => not_found("invitation"),
        Ok(Accepted::Expired) => respond::api_error(
            StatusCode::GONE,
            "expired",
            "this invitation has expired; ask the owner to invite you again",
        ),
        Ok(Accepted::AlreadyMember) => conflict(
            "conflict",
            "you are already a member of this company; your role is unchanged",
        ),
        Err(e) => server_error(e),
    }
}

async fn decline(id: i64, (state, h): Auth) -> Resp {
    let user = tri!(dashboard_user(&state, h.as_deref()).await);
    match state.oauth.store.decline_invitation(id, user.id).await {
        Ok(true) => ok(&serde_json::json!({ "declined": id })),
        Ok(false) => not_found("invitation"),
        Err(e) => server_error(e),
    }
}
