//! The sign-in screen: the server's address and health, and the button that opens the system
//! browser at the server's sign-in page; after a sign-out, what became of the browser's session.

use atrium_proto::ipc::SignInPage;
use atrium_proto::{HealthState, ServerStatus};
use yew::prelude::*;

use super::input_value;
use crate::model::SignedOut;

#[derive(Properties, PartialEq)]
pub struct SignInProps {
    pub server: Option<ServerStatus>,
    /// The sign-in in progress: its page's URL, and whether a browser opened it.
    pub sign_in: Option<SignInPage>,
    pub notice: Option<String>,
    /// How the last sign-out went in the browser.
    pub signed_out: Option<SignedOut>,
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
                if let Some(how) = p.signed_out {
                    <SignedOutNote {how} />
                }
                <p>{ health }</p>
                <button id="sign-in" class="button wide" onclick={go} disabled={!healthy}>{ "Sign in with your browser" }</button>
                if let Some(page) = &p.sign_in {
                    <SignInLink page={page.clone()} />
                }
                if let Some(n) = &p.notice {
                    <p class="error" role="alert">{ n }</p>
                }
            </div>
        </div>
    }
}

#[derive(Properties, PartialEq)]
struct SignInLinkProps {
    page: SignInPage,
}

/// Where to finish signing in, with the URL to copy into a browser: needed when no browser
/// could be started, and when the user closed the one that opened.
#[function_component(SignInLink)]
fn sign_in_link(p: &SignInLinkProps) -> Html {
    let copied = use_state(|| false);
    let copy = {
        let url = p.page.url.clone();
        let copied = copied.clone();
        Callback::from(move |_: MouseEvent| {
            if let Some(w) = web_sys::window() {
                let _ = w.navigator().clipboard().write_text(&url);
                copied.set(true);
            }
        })
    };
    let (id, text) = if p.page.browser_opened {
        (
            "sign-in-waiting",
            "Finish signing in in your browser. If it did not open, copy this address into one:",
        )
    } else {
        (
            "sign-in-no-browser",
            "Your browser could not be opened. Copy this address into a browser to sign in:",
        )
    };
    html! {
        <div class="sign-in-link" id={id}>
            <p class="muted small">{ text }</p>
            <div class="copy-row">
                <input id="sign-in-url" class="mono-text" readonly=true value={p.page.url.clone()} />
                <button id="copy-sign-in-url" class="button secondary" type="button" onclick={copy}>
                    { if *copied { "Copied" } else { "Copy" } }
                </button>
            </div>
        </div>
    }
}

#[derive(Properties, PartialEq)]
struct SignedOutNoteProps {
    how: SignedOut,
}

/// What signing out did: here, and in the browser the sign-in used.
#[function_component(SignedOutNote)]
fn signed_out_note(p: &SignedOutNoteProps) -> Html {
    let (id, state, text) = match p.how {
        SignedOut::InBrowser => (
            "signed-out-in-browser",
            "pending",
            "You are signed out of this app. Your browser opened Atrium's sign-out page to end \
             its session there too.",
        ),
        SignedOut::Everywhere => (
            "signed-out-everywhere",
            "done",
            "You are signed out, in this app and in your browser.",
        ),
        SignedOut::BrowserMayRemain => (
            "signed-out-browser-may-remain",
            "warn",
            "You are signed out of this app, but your browser could not be opened: Atrium may \
             still be signed in there. Sign out on the server's page in your browser.",
        ),
    };
    html! { <p {id} class={format!("signed-out small {state}")} role="status">{ text }</p> }
}
