//! An app of the catalog, and where to install it. The user installs into a company they own;
//! when they own several, they choose one here (none is chosen for them) and the consent
//! screen names it.

use atrium_proto::dashboard::{CatalogApp, CompanyView, InstallView};
use yew::prelude::*;

use super::{by_developer, mono};

#[derive(Properties, PartialEq)]
pub struct AppDetailProps {
    pub app: CatalogApp,
    /// The companies the user owns (and may install into).
    pub owned: Vec<CompanyView>,
    /// Its install in the current company, if any.
    pub installed: Option<InstallView>,
    pub on_back: Callback<()>,
    /// Go on to the consent screen for installing into this company.
    pub on_install: Callback<i64>,
    pub on_open: Callback<InstallView>,
}

#[function_component(AppDetail)]
pub fn app_detail(p: &AppDetailProps) -> Html {
    let app = &p.app;
    let chosen = use_state(|| None::<i64>);
    let owned = &p.owned;
    let target = match owned.as_slice() {
        [only] => Some(only.id),
        _ => (*chosen).filter(|id| owned.iter().any(|c| c.id == *id)),
    };
    let target_name = target
        .and_then(|id| owned.iter().find(|c| c.id == id))
        .map(|c| c.name.clone());
    let next = {
        let on_install = p.on_install.clone();
        move |_| {
            if let Some(company_id) = target {
                on_install.emit(company_id);
            }
        }
    };
    let methods: Vec<&str> = app.methods.iter().map(|m| m.as_str()).collect();
    html! {
        <section class="detail" id="app-detail">
            <button class="link" onclick={p.on_back.reform(|_: MouseEvent| ())}>{ "← Catalog" }</button>
            <header class="detail-head">{ mono(&app.name, "large") }<div><h1>{ &app.name }</h1>
                <p class="muted">{ by_developer(&app.developer) }</p></div></header>
            <p>{ &app.description }</p>
            <h3>{ "It will be able to" }</h3>
            <ul class="scopes">{ for app.scopes.iter().map(|s| html! { <li>{ &s.description }</li> }) }</ul>
            <p class="muted small">{ format!("Install method: {}", methods.join(" or ").to_uppercase()) }</p>
            if let Some(i) = p.installed.clone() {
                <button class="button" id="open-app" onclick={p.on_open.reform(move |_: MouseEvent| i.clone())}>{ "Open" }</button>
            } else if owned.is_empty() {
                <p class="muted">{ "Only a company owner can install apps. Create your own company in Settings to install it there." }</p>
            } else {
                if owned.len() > 1 {
                    <fieldset class="choices" id="install-company">
                        <legend>{ "Install in which company?" }</legend>
                        { for owned.iter().map(|c| {
                            let chosen = chosen.clone();
                            let id = c.id;
                            html! {
                                <label class="check">
                                    <input type="radio" name="install-company" value={c.id.to_string()}
                                        checked={target == Some(c.id)} onchange={move |_| chosen.set(Some(id))} />
                                    { &c.name }
                                </label>
                            }
                        }) }
                    </fieldset>
                }
                <div class="actions">
                    <button class="button" id="install" onclick={next} disabled={target.is_none()}>
                        { match &target_name { Some(n) => format!("Install in {n}"), None => "Choose a company first".into() } }
                    </button>
                </div>
            }
        </section>
    }
}
