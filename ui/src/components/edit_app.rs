//! Edits an app's name, description, URLs and OpenID Connect registration; the developer pane
//! saves them.

use atrium_proto::dashboard::AppPatch;
use yew::prelude::*;

use super::input_value;
use super::register_app::{id_token_alg_select, lines, select_value};

#[derive(Properties, PartialEq)]
pub struct EditAppProps {
    /// The app's current values.
    pub draft: AppPatch,
    /// Save these changes.
    pub on_save: Callback<AppPatch>,
    pub on_cancel: Callback<()>,
}

#[function_component(EditApp)]
pub fn edit_app(p: &EditAppProps) -> Html {
    let draft = use_state(|| p.draft.clone());
    let field = |f: fn(&mut AppPatch, String)| {
        let draft = draft.clone();
        Callback::from(move |e: InputEvent| {
            let mut next = (*draft).clone();
            f(&mut next, input_value(&e));
            draft.set(next);
        })
    };
    let uris = {
        let draft = draft.clone();
        Callback::from(move |e: InputEvent| {
            let mut next = (*draft).clone();
            next.redirect_uris = Some(lines(&e));
            draft.set(next);
        })
    };
    let post_logout = {
        let draft = draft.clone();
        Callback::from(move |e: InputEvent| {
            let mut next = (*draft).clone();
            next.post_logout_redirect_uris = Some(lines(&e));
            draft.set(next);
        })
    };
    let id_token_alg = {
        let draft = draft.clone();
        Callback::from(move |e: Event| {
            let mut next = (*draft).clone();
            next.id_token_signed_response_alg = Some(select_value(&e));
            draft.set(next);
        })
    };
    let save = {
        let draft = draft.clone();
        let on_save = p.on_save.clone();
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            on_save.emit((*draft).clone());
        })
    };
    let d = &*draft;
    html! {
        <form class="form edit" id="edit-app" onsubmit={save}>
            <h3>{ format!("Edit {}", d.name.clone().unwrap_or_default()) }</h3>
            <label for="edit-name">{ "Name" }</label>
            <input id="edit-name" value={d.name.clone().unwrap_or_default()} oninput={field(|a, v| a.name = Some(v))} />
            <label for="edit-description">{ "Description" }</label>
            <input id="edit-description" value={d.description.clone().unwrap_or_default()} oninput={field(|a, v| a.description = Some(v))} />
            <label for="edit-redirects">{ "Redirect URIs (one per line)" }</label>
            <textarea id="edit-redirects" rows="2" oninput={uris} value={d.redirect_uris.clone().unwrap_or_default().join("\n")} />
            <label for="edit-iframe">{ "App URL (empty for none)" }</label>
            <input id="edit-iframe" value={d.iframe_url.clone().unwrap_or_default()} oninput={field(|a, v| a.iframe_url = Some(v))} />
            <label for="edit-webhook">{ "Webhook URL (empty for none)" }</label>
            <input id="edit-webhook" value={d.webhook_url.clone().unwrap_or_default()} oninput={field(|a, v| a.webhook_url = Some(v))} />
            <label for="edit-install-url">{ "Install URL (empty for none)" }</label>
            <input id="edit-install-url" value={d.install_url.clone().unwrap_or_default()} oninput={field(|a, v| a.install_url = Some(v))} />
            <label for="edit-id-token-alg">{ "ID token signature (OpenID Connect)" }</label>
            { id_token_alg_select("edit-id-token-alg", d.id_token_signed_response_alg.as_deref(), id_token_alg) }
            <label for="edit-post-logout">{ "After sign-out, return to (one per line)" }</label>
            <textarea id="edit-post-logout" rows="2" oninput={post_logout} value={d.post_logout_redirect_uris.clone().unwrap_or_default().join("\n")} />
            <div class="actions">
                <button class="button secondary" type="button" onclick={ { let c = p.on_cancel.clone(); move |_| c.emit(()) } }>{ "Cancel" }</button>
                <button class="button" type="submit" id="edit-save">{ "Save" }</button>
            </div>
        </form>
    }
}
