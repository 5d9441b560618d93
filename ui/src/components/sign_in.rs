//! The sign-in screen: the server's address and health, and the button that opens the system
//! browser at the server's sign-in page.

use atrium_proto::{HealthState, ServerStatus};
use yew::prelude::*;

use super::input_value;

#[derive(Properties, PartialEq)]
pub struct SignInProps {
    pub server: Option<ServerStatus>,
    /// The sign-in page's URL once the browser was asked to open it.
    pub sign_in_url: Option<String>,
    pub notice: Option<String>,
    /// Use another server (its URL as typed).
    pub on_set_server: Callback<String>,
    pub on_sign_in: Callback<()>,
}

#[function_component(SignIn)]
pub fn sign_in(p: &SignInProps) -> Html {
    let url = use_state(String::new);
    {
        let url = url.clone();
        let current = p.server.as_ref().map(|s| s.url.clone()).unwrap_or_default();
        use_effect_with(current, move |c| {
            url.set(c.clone());
        });
    }
    let health = p.server.as_ref().map(|s| &s.health);
    let healthy = matches!(health, Some(HealthState::Healthy { .. }));
    let health = match health {
        Some(HealthState::Healthy { version }) => {
            html! { <span class="health healthy" id="server-health" data-state="healthy">{ format!("Server is healthy (version {version})") }</span> }
        }
        Some(HealthState::Unreachable { reason }) => {
            html! { <span class="health unreachable" id="server-health" data-state="unreachable">{ format!("Server unreachable: {reason}") }</span> }
        }
        None => {
            html! { <span class="health checking" id="server-health" data-state="checking">{ "Checking the server…" }</span> }
        }
    };
    let save = {
        let on_set_server = p.on_set_server.clone();
        let url = url.clone();
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            on_set_server.emit((*url).clone());
        })
    };
    let go = p.on_sign_in.reform(|_: MouseEvent| ());
    html! {
        <div class="signin">
            <div class="signin-card">
                <div class="brand big"><img class="brand-mark" src="icon.svg" alt="" /><span class="brand-name">{ "Atrium" }</span></div>
                <p class="lead">{ "Your company's apps, installed with your consent and opened in one place." }</p>
                <form class="field-row" onsubmit={save}>
                    <label for="server-url-input">{ "Server" }</label>
                    <input id="server-url-input" type="url" value={(*url).clone()}
                        onchange={ { let url = url.clone(); move |e: Event| url.set(input_value(&e)) } } />
                    <button class="button secondary" type="submit">{ "Use" }</button>
                </form>
                <p id="server-url" class="muted mono-text">{ p.server.as_ref().map(|s| s.url.clone()).unwrap_or_default() }</p>
                <p>{ health }</p>
                <button id="sign-in" class="button wide" onclick={go} disabled={!healthy}>{ "Sign in with your browser" }</button>
                if let Some(u) = &p.sign_in_url {
                    <p class="muted small" id="sign-in-waiting">{ "Finish signing in in your browser. If it did not open, visit: " }<span class="mono-text">{ u }</span></p>
                }
                if let Some(n) = &p.notice {
                    <p class="error" role="alert">{ n }</p>
                }
            </div>
        </div>
    }
}
