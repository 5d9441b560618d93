//! The consent screen: what the app will be able to do in the company, Allow or Cancel. An app
//! with an install URL asks for consent itself, in the browser; the screen says so.

use atrium_proto::dashboard::CatalogApp;
use yew::prelude::*;

use super::mono;

#[derive(Properties, PartialEq)]
pub struct ConsentProps {
    pub app: CatalogApp,
    /// The name of the company it goes into.
    pub company: String,
    pub on_allow: Callback<()>,
    pub on_cancel: Callback<()>,
}

#[function_component(Consent)]
pub fn consent(p: &ConsentProps) -> Html {
    let app = &p.app;
    let company = &p.company;
    let via_browser = app.install_url.is_some();
    let made_by = app
        .developer
        .clone()
        .map(|d| format!("Made by {d}"))
        .unwrap_or_else(|| "Developer unknown".into());
    html! {
        <section class="consent" id="consent">
            <header class="detail-head">{ mono(&app.name, "large") }<div>
                <h1>{ format!("Install {} in {company}?", app.name) }</h1>
                <p class="muted">{ made_by }</p></div></header>
            <p>{ &app.description }</p>
            <h3>{ format!("{} will be able to:", app.name) }</h3>
            <ul class="scopes">{ for app.scopes.iter().map(|s| html! { <li>{ &s.description }</li> }) }</ul>
            <p class="muted small">{ "It will be told that you installed it, and can then read this data until it is uninstalled." }</p>
            if via_browser {
                <p class="muted small" id="consent-in-browser">{ format!("{} asks for your consent on its own: its install page opens in your browser, where you choose {company} and allow it. Atrium opens the app once that is done.", app.name) }</p>
            }
            <div class="actions">
                <button class="button secondary" id="consent-cancel" onclick={p.on_cancel.reform(|_: MouseEvent| ())}>{ "Cancel" }</button>
                <button class="button" id="consent-allow" onclick={p.on_allow.reform(|_: MouseEvent| ())}>{ if via_browser { "Continue in your browser" } else { "Allow" } }</button>
            </div>
        </section>
    }
}
