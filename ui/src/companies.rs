//! Joining and leaving companies: the banner of invitations waiting for the user's answer, and
//! the company pane (members; for owners, inviting by username and revoking; leaving).

use std::rc::Rc;

use atrium_proto::dashboard::{InvitationSent, InvitationView, MemberView, Page};
use serde::Serialize;
use web_sys::{HtmlInputElement, HtmlSelectElement};
use yew::prelude::*;

use crate::actions::{self, spawn, Dispatch};
use crate::model::Model;
use crate::tauri::{invoke, Fetched};

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CompanyArg {
    company_id: i64,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct InviteArgs {
    company_id: i64,
    username: String,
    role: String,
}

#[derive(Serialize, Clone, Copy)]
#[serde(rename_all = "camelCase")]
struct RevokeArgs {
    company_id: i64,
    invitation_id: i64,
}

#[derive(Properties, Clone)]
pub struct BannerProps {
    pub invitations: Vec<InvitationView>,
    pub dispatch: Dispatch,
}

impl PartialEq for BannerProps {
    fn eq(&self, other: &Self) -> bool {
        self.invitations == other.invitations
    }
}

/// Invitations waiting for an answer, each with Accept and Decline. Nothing is joined until
/// the user accepts.
#[function_component(InvitationsBanner)]
pub fn invitations_banner(p: &BannerProps) -> Html {
    if p.invitations.is_empty() {
        return html! {};
    }
    html! {
        <div class="invitations" id="invitations" role="region" aria-label="Invitations">
            <strong>{ "You are invited to join" }</strong>
            <ul class="plain">
                { for p.invitations.iter().map(|i| {
                    let accept = { let d = p.dispatch.clone(); let i = i.clone(); move |_| spawn(actions::accept_invitation(d.clone(), i.clone())) };
                    let decline = { let d = p.dispatch.clone(); let i = i.clone(); move |_| spawn(actions::decline_invitation(d.clone(), i.clone())) };
                    let by = i.invited_by.clone().map(|b| format!(", invited by {b}")).unwrap_or_default();
                    html! {
                        <li class="invitation" data-invitation-id={i.id.to_string()} data-company={i.company_name.clone()}>
                            <span class="grow"><strong>{ &i.company_name }</strong>
                                { format!(" as {}{by}", if i.role == "owner" { "an owner" } else { "a member" }) }</span>
                            <button class="button secondary decline-invitation" onclick={decline}>{ "Decline" }</button>
                            <button class="button accept-invitation" onclick={accept}>{ "Accept" }</button>
                        </li>
                    }
                }) }
            </ul>
        </div>
    }
}

#[derive(Properties, Clone)]
pub struct PaneProps {
    pub model: Rc<Model>,
    pub dispatch: Dispatch,
}

impl PartialEq for PaneProps {
    fn eq(&self, other: &Self) -> bool {
        *self.model == *other.model
    }
}

fn value_of(e: &InputEvent) -> String {
    e.target_unchecked_into::<HtmlInputElement>().value()
}

/// The current company: its members, and for owners its pending invitations and an invite
/// form; anyone can leave it (the server refuses the last owner, and the pane says why).
#[function_component(CompanyPane)]
pub fn company_pane(p: &PaneProps) -> Html {
    let m = &p.model;
    let members = use_state(Vec::<MemberView>::new);
    let pending = use_state(Vec::<InvitationView>::new);
    let message = use_state(|| None::<(bool, String)>);
    let username = use_state(String::new);
    let role = use_state(|| "member".to_string());
    let confirming = use_state(|| false);
    let company = m.current_company().cloned();
    let owner = m.is_owner();

    let reload = {
        let members = members.clone();
        let pending = pending.clone();
        let message = message.clone();
        Callback::from(move |(company_id, owner): (i64, bool)| {
            let members = members.clone();
            let pending = pending.clone();
            let message = message.clone();
            spawn(async move {
                let arg = CompanyArg { company_id };
                // The first page of members (the server pages by 50).
                match invoke::<_, Fetched<Page<MemberView>>>("company_members", &arg).await {
                    Ok(f) => members.set(f.data.items),
                    Err(e) => message.set(Some((false, e.message))),
                }
                if owner {
                    match invoke::<_, Vec<InvitationView>>("company_invitations", &arg).await {
                        Ok(list) => pending.set(list),
                        Err(e) => message.set(Some((false, e.message))),
                    }
                } else {
                    pending.set(Vec::new());
                }
            });
        })
    };
    {
        let reload = reload.clone();
        let key = company.as_ref().map(|c| (c.id, c.role == "owner"));
        let message = message.clone();
        use_effect_with(key, move |key| {
            message.set(None);
            if let Some(k) = key {
                reload.emit(*k);
            }
        });
    }
    let Some(company) = company else {
        return html! {
            <section id="company"><header class="page-head"><h1>{ "Company" }</h1>
            <p class="lead">{ "You are in no company yet. Create one in Settings, or accept an invitation." }</p></header></section>
        };
    };

    let invite = {
        let username = username.clone();
        let role = role.clone();
        let message = message.clone();
        let reload = reload.clone();
        let company_id = company.id;
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let name = username.trim().to_string();
            if name.is_empty() {
                return;
            }
            let args = InviteArgs {
                company_id,
                username: name.clone(),
                role: (*role).clone(),
            };
            let message = message.clone();
            let reload = reload.clone();
            let username = username.clone();
            spawn(async move {
                match invoke::<_, InvitationSent>("invite_member", &args).await {
                    Ok(sent) => {
                        let days = sent.expires_in / 86_400;
                        message.set(Some((true, format!(
                            "Invitation for {name} is pending: if that user exists, they join when they accept it (within {days} days)."
                        ))));
                        username.set(String::new());
                        reload.emit((company_id, true));
                    }
                    Err(e) => message.set(Some((false, e.message))),
                }
            });
        })
    };
    let leave = {
        let d = p.dispatch.clone();
        let company = company.clone();
        move |_| spawn(actions::leave_company(d.clone(), company.clone()))
    };

    html! {
        <section id="company">
            <header class="page-head">
                <h1>{ &company.name }</h1>
                <p class="lead">{ if owner { "You own this company." } else { "You are a member of this company." } }</p>
            </header>
            if let Some((ok, text)) = &*message {
                <p class={classes!(if *ok { "muted" } else { "error" })} id="company-message" role="status">{ text }</p>
            }
            <div class="card">
                <h2>{ "Members" }</h2>
                <ul class="plain" id="members">
                    { for members.iter().map(|mv| html! {
                        <li class="row" data-username={mv.username.clone()}>
                            <span class="grow">{ &mv.display_name }<span class="muted small">{ format!(" @{}", mv.username) }</span></span>
                            <span class="badge">{ &mv.role }</span>
                        </li>
                    }) }
                </ul>
            </div>
            if owner {
                <div class="card">
                    <h2>{ "Invite someone" }</h2>
                    <p class="muted small">{ "They join only when they accept. An owner invitation gives owner rights once accepted." }</p>
                    <form class="invite-row" onsubmit={invite}>
                        <input id="invite-username" placeholder="Username" maxlength="64" value={(*username).clone()}
                            oninput={ { let username = username.clone(); move |e: InputEvent| username.set(value_of(&e)) } } />
                        <select id="invite-role" title="Role" onchange={ { let role = role.clone(); move |e: Event| role.set(e.target_unchecked_into::<HtmlSelectElement>().value()) } }>
                            <option value="member" selected={*role == "member"}>{ "Member" }</option>
                            <option value="owner" selected={*role == "owner"}>{ "Owner" }</option>
                        </select>
                        <button class="button" id="invite-submit" type="submit">{ "Invite" }</button>
                    </form>
                    if !pending.is_empty() {
                        <h3 class="small muted">{ "Pending invitations" }</h3>
                        <ul class="plain" id="pending-invitations">
                            { for pending.iter().map(|i| {
                                let args = RevokeArgs { company_id: company.id, invitation_id: i.id };
                                let message = message.clone();
                                let reload = reload.clone();
                                let company_id = company.id;
                                let revoke = move |_| {
                                    let message = message.clone();
                                    let reload = reload.clone();
                                    spawn(async move {
                                        match invoke::<_, ()>("revoke_invitation", &args).await {
                                            Ok(()) => reload.emit((company_id, true)),
                                            Err(e) => message.set(Some((false, e.message))),
                                        }
                                    });
                                };
                                html! {
                                    <li class="row" data-username={i.username.clone()}>
                                        <span class="grow">{ format!("{} — {}", i.username, i.role) }</span>
                                        <button class="link danger" onclick={revoke}>{ "Revoke" }</button>
                                    </li>
                                }
                            }) }
                        </ul>
                    }
                </div>
            }
            <div class="card">
                <h2>{ "Leave" }</h2>
                if *confirming {
                    <span class="confirm">{ format!("Leave {}? You lose access to its apps.", company.name) }
                        <button class="button danger" id="confirm-leave" onclick={leave}>{ "Leave" }</button>
                        <button class="button secondary" onclick={ { let c = confirming.clone(); move |_| c.set(false) } }>{ "Stay" }</button>
                    </span>
                } else {
                    <button class="button secondary" id="leave-company" onclick={ { let c = confirming.clone(); move |_| c.set(true) } }>{ "Leave this company…" }</button>
                }
            </div>
        </section>
    }
}
