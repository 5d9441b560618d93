//! The banner of invitations waiting for the user's answer, each with Accept and Decline.

use atrium_proto::dashboard::InvitationView;
use yew::prelude::*;

use crate::model::role_phrase;

#[derive(Properties, PartialEq)]
pub struct InvitationsProps {
    pub invitations: Vec<InvitationView>,
    pub on_accept: Callback<InvitationView>,
    pub on_decline: Callback<InvitationView>,
}

/// Invitations waiting for an answer, each with Accept and Decline. Nothing is joined until
/// the user accepts.
#[function_component(InvitationsBanner)]
pub fn invitations_banner(p: &InvitationsProps) -> Html {
    if p.invitations.is_empty() {
        return html! {};
    }
    html! {
        <div class="invitations" id="invitations" role="region" aria-label="Invitations">
            <strong>{ "You are invited to join" }</strong>
            <ul class="plain">
                { for p.invitations.iter().map(|i| {
                    let accept = { let i = i.clone(); p.on_accept.reform(move |_: MouseEvent| i.clone()) };
                    let decline = { let i = i.clone(); p.on_decline.reform(move |_: MouseEvent| i.clone()) };
                    let by = i.invited_by.clone().map(|b| format!(", invited by {b}")).unwrap_or_default();
                    html! {
                        <li class="invitation" data-invitation-id={i.id.to_string()} data-company={i.company_name.clone()}>
                            <span class="grow"><strong>{ &i.company_name }</strong>
                                { format!(" as {}{by}", role_phrase(i.role)) }</span>
                            <button class="button secondary decline-invitation" onclick={decline}>{ "Decline" }</button>
                            <button class="button accept-invitation" onclick={accept}>{ "Accept" }</button>
                        </li>
                    }
                }) }
            </ul>
        </div>
    }
}
