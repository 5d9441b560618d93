//! The current company: its members, and for owners its pending invitations and an invite
//! form; anyone can leave it (the server refuses the last owner, and the pane says why).

use atrium_proto::dashboard::{CompanyView, InvitationView, MemberView};
use atrium_proto::{ipc, Role};
use web_sys::HtmlSelectElement;
use yew::prelude::*;

use super::input_value;
use crate::actions::spawn;
use crate::tauri::invoke;

#[derive(Properties, PartialEq)]
pub struct CompanyProps {
    /// The current company, with the user's role in it.
    pub company: Option<CompanyView>,
    pub on_leave: Callback<CompanyView>,
}

/// The current company: its members, and for owners its pending invitations and an invite
/// form; anyone can leave it (the server refuses the last owner, and the pane says why).
#[function_component(CompanyPane)]
pub fn company_pane(p: &CompanyProps) -> Html {
    let members = use_state(Vec::<MemberView>::new);
    let pending = use_state(Vec::<InvitationView>::new);
    let message = use_state(|| None::<(bool, String)>);
    let username = use_state(String::new);
    let role = use_state(|| Role::Member);
    let confirming = use_state(|| false);
    let company = p.company.clone();
    let owner = company.as_ref().is_some_and(|c| c.role.is_owner());

    let reload = {
        let members = members.clone();
        let pending = pending.clone();
        let message = message.clone();
        Callback::from(move |(company_id, owner): (i64, bool)| {
            let members = members.clone();
            let pending = pending.clone();
            let message = message.clone();
            spawn(async move {
                // The first page of members (the server pages by 50).
                let first = ipc::CompanyMembers {
                    company_id,
                    cursor: None,
                };
                match invoke(&first).await {
                    Ok(f) => members.set(f.data.items),
                    Err(e) => message.set(Some((false, e.message))),
                }
                if owner {
                    match invoke(&ipc::CompanyInvitations { company_id }).await {
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
        let key = company.as_ref().map(|c| (c.id, c.role.is_owner()));
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
            let args = ipc::InviteMember {
                company_id,
                username: name.clone(),
                role: *role,
            };
            let message = message.clone();
            let reload = reload.clone();
            let username = username.clone();
            spawn(async move {
                match invoke(&args).await {
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
        let company = company.clone();
        p.on_leave.reform(move |_: MouseEvent| company.clone())
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
                            <span class="badge">{ mv.role.as_str() }</span>
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
                            oninput={ { let username = username.clone(); move |e: InputEvent| username.set(input_value(&e)) } } />
                        <select id="invite-role" title="Role" onchange={ { let role = role.clone(); move |e: Event| {
                            if let Ok(r) = e.target_unchecked_into::<HtmlSelectElement>().value().parse() { role.set(r) }
                        } } }>
                            <option value={Role::Member.as_str()} selected={*role == Role::Member}>{ "Member" }</option>
                            <option value={Role::Owner.as_str()} selected={*role == Role::Owner}>{ "Owner" }</option>
                        </select>
                        <button class="button" id="invite-submit" type="submit">{ "Invite" }</button>
                    </form>
                    if !pending.is_empty() {
                        <h3 class="small muted">{ "Pending invitations" }</h3>
                        <ul class="plain" id="pending-invitations">
                            { for pending.iter().map(|i| {
                                let args = ipc::RevokeInvitation { company_id: company.id, invitation_id: i.id };
                                let message = message.clone();
                                let reload = reload.clone();
                                let company_id = company.id;
                                let revoke = move |_| {
                                    let message = message.clone();
                                    let reload = reload.clone();
                                    let args = args.clone();
                                    spawn(async move {
                                        match invoke(&args).await {
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
