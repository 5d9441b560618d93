//! The form that registers an app: a pure view over the developer pane's draft.

use atrium_proto::{ApplicationType, OAuthMethod};
use web_sys::{HtmlSelectElement, HtmlTextAreaElement};
use yew::prelude::*;

use super::input_value;
use crate::dev_model::Draft;

#[derive(Properties, PartialEq)]
pub struct RegisterAppProps {
    pub draft: Draft,
    /// The draft as changed by the user's typing.
    pub on_change: Callback<Draft>,
    pub on_submit: Callback<()>,
}

/// The lines of a textarea, trimmed, without the empty ones.
pub fn lines(e: &InputEvent) -> Vec<String> {
    e.target_unchecked_into::<HtmlTextAreaElement>()
        .value()
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

/// The value of a `<select>`'s change event.
pub fn select_value(e: &Event) -> String {
    e.target_unchecked_into::<HtmlSelectElement>().value()
}

#[function_component(RegisterApp)]
pub fn register_app(p: &RegisterAppProps) -> Html {
    let app = &p.draft.app;
    // A change to the draft, from an event.
    let change = |f: fn(&mut Draft, &Event)| {
        let draft = p.draft.clone();
        p.on_change.reform(move |e: Event| {
            let mut next = draft.clone();
            f(&mut next, &e);
            next
        })
    };
    let field = |f: fn(&mut Draft, String)| {
        let draft = p.draft.clone();
        p.on_change.reform(move |e: InputEvent| {
            let mut next = draft.clone();
            f(&mut next, input_value(&e));
            next
        })
    };
    let uris = {
        let draft = p.draft.clone();
        p.on_change.reform(move |e: InputEvent| {
            let mut next = draft.clone();
            next.app.redirect_uris = lines(&e);
            next
        })
    };
    let method = change(|d, e| {
        if let Ok(m) = select_value(e).parse() {
            d.method = m;
        }
    });
    let app_type = change(|d, e| {
        if let Ok(t) = select_value(e).parse() {
            d.application_type = t;
        }
    });
    let post_logout = {
        let draft = p.draft.clone();
        p.on_change.reform(move |e: InputEvent| {
            let mut next = draft.clone();
            next.app.post_logout_redirect_uris = lines(&e);
            next
        })
    };
    let id_token_alg = change(|d, e| d.app.id_token_signed_response_alg = Some(select_value(e)));
    let public = change(|d, _| d.app.public = !d.app.public);
    let submit = {
        let on_submit = p.on_submit.clone();
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            on_submit.emit(());
        })
    };
    let scope_box = |name: &'static str, label: &'static str| {
        let checked = p.draft.scopes.iter().any(|s| s == name);
        let draft = p.draft.clone();
        let onchange = p.on_change.reform(move |_: Event| {
            let mut next = draft.clone();
            match next.scopes.iter().position(|s| s == name) {
                Some(i) => {
                    next.scopes.remove(i);
                }
                None => next.scopes.push(name.to_string()),
            }
            next
        });
        html! {
            <label class="check"><input type="checkbox" name="scope" value={name} {checked} {onchange} />{ label }</label>
        }
    };
    html! {
        <form class="card form" id="register-app" onsubmit={submit}>
            <h2>{ "Register an app" }</h2>
            <label for="app-name">{ "Name" }</label>
            <input id="app-name" required=true maxlength="100" value={app.name.clone()} oninput={field(|d, v| d.app.name = v)} />
            <label for="app-description">{ "Description" }</label>
            <input id="app-description" maxlength="2000" value={app.description.clone()} oninput={field(|d, v| d.app.description = v)} />
            <label for="app-type">{ "Kind of app" }</label>
            <select id="app-type" onchange={app_type}>
                { for [
                    (ApplicationType::Web, "Web — runs on your server or in the browser"),
                    (ApplicationType::Native, "Native — runs on the user's device"),
                ].into_iter().map(|(t, label)| html! {
                    <option value={t.as_str()} selected={p.draft.application_type == t}>{ label }</option>
                }) }
            </select>
            <label for="app-redirects">{ "Redirect URIs (one per line; https, http on 127.0.0.1, or for native apps com.example.app:/callback)" }</label>
            <textarea id="app-redirects" rows="2" required=true oninput={uris} value={app.redirect_uris.join("\n")} />
            <label for="app-iframe">{ "App URL (shown inside Atrium)" }</label>
            <input id="app-iframe" type="url" value={app.iframe_url.clone().unwrap_or_default()} oninput={field(|d, v| d.app.iframe_url = Some(v))} />
            <label for="app-webhook">{ "Webhook URL (install notifications)" }</label>
            <input id="app-webhook" type="url" value={app.webhook_url.clone().unwrap_or_default()} oninput={field(|d, v| d.app.webhook_url = Some(v))} />
            <label for="app-install-url">{ "Install URL (the dashboard sends users here; your app then asks for consent itself — required for public apps using CODE)" }</label>
            <input id="app-install-url" type="url" value={app.install_url.clone().unwrap_or_default()} oninput={field(|d, v| d.app.install_url = Some(v))} />
            <label class="check"><input type="checkbox" id="app-public" checked={app.public} onchange={public} />
                { "Public client: no client secret, PKCE only (an app that can't keep a secret)" }</label>
            <fieldset><legend>{ "Permissions it may ask for" }</legend>
                { scope_box("profile", "Profile") }{ scope_box("email", "Email") }
                { scope_box("company", "Company") }{ scope_box("company.members", "Company members") }
                { scope_box("openid", "Sign-in (OpenID Connect ID tokens)") }
            </fieldset>
            <fieldset><legend>{ "Sign-in with Atrium (OpenID Connect)" }</legend>
                <label for="app-id-token-alg">{ "ID token signature" }</label>
                { id_token_alg_select("app-id-token-alg", app.id_token_signed_response_alg.as_deref(), id_token_alg) }
                <label for="app-post-logout">{ "After sign-out, return to (one URI per line, by the redirect URI rules; optional)" }</label>
                <textarea id="app-post-logout" rows="2" oninput={post_logout} value={app.post_logout_redirect_uris.join("\n")} />
            </fieldset>
            <label for="app-method">{ "Method" }</label>
            <select id="app-method" onchange={method}>
                { for [
                    (OAuthMethod::Code, "CODE — your server exchanges a code"),
                    (OAuthMethod::Token, "TOKEN — your page reads a token"),
                    (OAuthMethod::Both, "Both"),
                ].into_iter().map(|(m, label)| html! {
                    <option value={m.as_str()} selected={p.draft.method == m}>{ label }</option>
                }) }
            </select>
            <div class="actions"><button class="button" type="submit" id="register-submit">{ "Register" }</button></div>
        </form>
    }
}

/// The ID-token algorithm's choice, for the registration and the edit forms.
pub fn id_token_alg_select(
    id: &'static str,
    current: Option<&str>,
    onchange: Callback<Event>,
) -> Html {
    let current = current.filter(|c| !c.is_empty()).unwrap_or("RS256");
    html! {
        <select {id} {onchange}>
            { for [
                ("RS256", "RS256 — RSA, what every OpenID library verifies"),
                ("EdDSA", "EdDSA — Ed25519, smaller and faster"),
            ].into_iter().map(|(alg, label)| html! {
                <option value={alg} selected={current == alg}>{ label }</option>
            }) }
        </select>
    }
}
