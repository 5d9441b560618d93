//! The catalog: every app the user can install, searchable, a page at a time.

use std::collections::HashSet;

use atrium_proto::dashboard::CatalogApp;
use yew::prelude::*;

use super::{by_developer, input_value, mono};

#[derive(Properties, PartialEq)]
pub struct CatalogProps {
    pub apps: Vec<CatalogApp>,
    /// The client ids installed in the current company (badged "Installed").
    pub installed: HashSet<String>,
    /// Where the next page starts, if there is one.
    pub next: Option<String>,
    /// Show the app with this client id.
    pub on_show_app: Callback<String>,
    /// Load the page after this cursor.
    pub on_more: Callback<String>,
}

#[function_component(Catalog)]
pub fn catalog(p: &CatalogProps) -> Html {
    let query = use_state(String::new);
    let q = query.to_lowercase();
    let apps: Vec<&CatalogApp> = p
        .apps
        .iter()
        .filter(|a| {
            q.is_empty()
                || a.name.to_lowercase().contains(&q)
                || a.description.to_lowercase().contains(&q)
        })
        .collect();
    html! {
        <section>
            <header class="page-head">
                <h1>{ "Catalog" }</h1>
                <p class="lead">{ "Apps you can install into your company." }</p>
                <input class="search" id="catalog-search" type="search" placeholder="Search apps"
                    oninput={ { let query = query.clone(); move |e: InputEvent| query.set(input_value(&e)) } } />
            </header>
            if p.apps.is_empty() {
                <div class="empty"><h3>{ "No apps yet" }</h3><p>{ "Developers register apps in the Developer pane; they appear here." }</p></div>
            } else if apps.is_empty() {
                <div class="empty"><p>{ "No app matches your search." }</p></div>
            }
            <div class="grid" id="catalog">
                { for apps.into_iter().map(|a| {
                    let id = a.client_id.clone();
                    let onclick = p.on_show_app.reform(move |_: MouseEvent| id.clone());
                    let installed = p.installed.contains(&a.client_id);
                    html! {
                        <button class="app-card" data-client-id={a.client_id.clone()} {onclick}>
                            { mono(&a.name, "large") }
                            <span class="app-card-body">
                                <strong>{ &a.name }</strong>
                                <span class="muted small">{ by_developer(&a.developer) }</span>
                                <span class="desc">{ &a.description }</span>
                            </span>
                            if installed { <span class="badge ok">{ "Installed" }</span> }
                        </button>
                    }
                }) }
            </div>
            if let Some(cursor) = p.next.clone() {
                <div class="more">
                    <button class="button secondary" id="catalog-more"
                        onclick={p.on_more.reform(move |_: MouseEvent| cursor.clone())}>{ "Load more apps" }</button>
                </div>
            }
        </section>
    }
}
