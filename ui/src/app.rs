//! The dashboard: the sign-in screen, or a sidebar (companies and installed apps) beside a main
//! area (catalog, app page, consent, install progress, open apps, developer and settings panes).

use std::rc::Rc;

use atrium_proto::dashboard::CatalogApp;
use atrium_proto::HealthState;
use wasm_bindgen::JsCast;
use web_sys::{HtmlInputElement, HtmlSelectElement};
use yew::prelude::*;

use crate::actions::{self, spawn, Dispatch};
use crate::companies::{CompanyPane, InvitationsBanner};
use crate::developer::DeveloperPane;
use crate::model::{Action, InstallStep, Installing, Model, SessionState, View};
use crate::tauri::listen;

#[function_component(App)]
pub fn app() -> Html {
    let model = use_reducer(Model::default);
    let d = model.dispatcher();

    // Start: server health, session; then listen to the shell's events for the app's lifetime.
    {
        let d = d.clone();
        use_effect_with((), move |_| {
            let keep = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
            let held = keep.clone();
            spawn(async move {
                actions::check_server(d.clone()).await;
                actions::check_session(d.clone()).await;
                let d1 = d.clone();
                if let Some(l) = listen("session-changed", move |p| {
                    let d = d1.clone();
                    if p.as_bool() == Some(true) {
                        spawn(actions::load(d));
                    } else {
                        d.dispatch(Action::Session(SessionState::SignedOut));
                    }
                })
                .await
                {
                    held.borrow_mut().push(l);
                }
                let d2 = d.clone();
                if let Some(l) = listen("sign-in-failed", move |p| {
                    d2.dispatch(Action::Notice(p.as_string()));
                })
                .await
                {
                    held.borrow_mut().push(l);
                }
                let d3 = d.clone();
                if let Some(l) = listen("install-complete", move |p| {
                    let id = js_sys::Reflect::get(&p, &"install_id".into())
                        .ok()
                        .and_then(|v| v.as_f64());
                    if let Some(id) = id {
                        spawn(actions::finish_install(d3.clone(), id as i64));
                    }
                })
                .await
                {
                    held.borrow_mut().push(l);
                }
            });
            move || drop(keep)
        });
    }

    // Ctrl+1…9 switch between the installed apps of the company.
    {
        let model = model.clone();
        let d = d.clone();
        use_effect_with(model.installs.clone(), move |installs| {
            let installs = installs.clone();
            let d = d.clone();
            let open = model.open.clone();
            let handler = wasm_bindgen::closure::Closure::<dyn FnMut(KeyboardEvent)>::new(
                move |e: KeyboardEvent| {
                    if !e.ctrl_key() {
                        return;
                    }
                    let Some(n) = e
                        .key()
                        .parse::<usize>()
                        .ok()
                        .filter(|n| (1..=9).contains(n))
                    else {
                        return;
                    };
                    if let Some(install) = installs.get(n - 1).cloned() {
                        e.prevent_default();
                        if open.iter().any(|o| o.install_id == install.id) {
                            d.dispatch(Action::Show(View::Open(install.id)));
                        } else {
                            spawn(actions::open(d.clone(), install));
                        }
                    }
                },
            );
            let doc = web_sys::window().and_then(|w| w.document());
            if let Some(doc) = &doc {
                let _ = doc
                    .add_event_listener_with_callback("keydown", handler.as_ref().unchecked_ref());
            }
            move || {
                if let Some(doc) = doc {
                    let _ = doc.remove_event_listener_with_callback(
                        "keydown",
                        handler.as_ref().unchecked_ref(),
                    );
                }
            }
        });
    }

    let snapshot = Rc::new((*model).clone());
    let model = snapshot;
    match model.session {
        SessionState::Checking => {
            html! { <div class="splash"><img class="splash-mark" src="icon.svg" alt="" /><p>{ "Opening Atrium…" }</p></div> }
        }
        SessionState::SignedOut => html! { <SignIn model={model.clone()} dispatch={d} /> },
        SessionState::SignedIn => html! {
            <div class="layout">
                <Sidebar model={model.clone()} dispatch={d.clone()} />
                <main class="main">
                    if let Some(n) = &model.notice {
                        <div class="notice" role="status">
                            <span>{ n }</span>
                            <button class="link" onclick={ { let d = d.clone(); move |_| d.dispatch(Action::Notice(None)) } }>{ "Dismiss" }</button>
                        </div>
                    }
                    <InvitationsBanner invitations={model.invitations.clone()} dispatch={d.clone()} />
                    <MainArea model={model.clone()} dispatch={d} />
                </main>
            </div>
        },
    }
}

/// Components get a snapshot of the model (a reducer handle would compare equal to itself
/// across renders, and children would never update).
#[derive(Properties, Clone)]
pub struct Props {
    pub model: Rc<Model>,
    pub dispatch: Dispatch,
}

impl PartialEq for Props {
    fn eq(&self, other: &Self) -> bool {
        *self.model == *other.model
    }
}

/// Initials of an app or company name, for its monogram.
pub fn monogram(name: &str) -> String {
    let words: Vec<&str> = name.split_whitespace().collect();
    let m: String = match words.as_slice() {
        [] => "?".into(),
        [one] => {
            // "App2" → "A2", "Notes" → "NO": the first letter and the next digit or letter.
            let mut chars = one.chars();
            let first = chars.next().into_iter();
            let second = one
                .chars()
                .skip(1)
                .find(|c| c.is_ascii_digit())
                .or_else(|| chars.next());
            first.chain(second).collect()
        }
        many => many
            .iter()
            .filter_map(|w| w.chars().next())
            .take(2)
            .collect(),
    };
    m.to_uppercase()
}

/// A stable hue for a name (FNV-1a into twelve well-spaced hues), so each app keeps its colour.
pub fn hue(name: &str) -> u32 {
    let h = name.bytes().fold(0x811c_9dc5u32, |h, b| {
        (h ^ b as u32).wrapping_mul(0x0100_0193)
    });
    (h % 12) * 30 + 10
}

pub fn mono(name: &str, class: &'static str) -> Html {
    let style = format!("background: hsl({}, 55%, 46%)", hue(name));
    html! { <span class={classes!("mono", class)} {style} aria-hidden="true">{ monogram(name) }</span> }
}

fn input_value(e: &Event) -> String {
    e.target_unchecked_into::<HtmlInputElement>().value()
}

#[function_component(SignIn)]
fn sign_in(p: &Props) -> Html {
    let m = &p.model;
    let url = use_state(String::new);
    {
        let url = url.clone();
        let current = m.server.as_ref().map(|s| s.url.clone()).unwrap_or_default();
        use_effect_with(current, move |c| {
            url.set(c.clone());
        });
    }
    let healthy = matches!(
        m.server.as_ref().map(|s| &s.health),
        Some(HealthState::Healthy { .. })
    );
    let health = match m.server.as_ref().map(|s| &s.health) {
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
        let d = p.dispatch.clone();
        let url = url.clone();
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            spawn(actions::set_server((d).clone(), (*url).clone()));
        })
    };
    let go = {
        let d = p.dispatch.clone();
        Callback::from(move |_| spawn(actions::sign_in(d.clone())))
    };
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
                <p id="server-url" class="muted mono-text">{ m.server.as_ref().map(|s| s.url.clone()).unwrap_or_default() }</p>
                <p>{ health }</p>
                <button id="sign-in" class="button wide" onclick={go} disabled={!healthy}>{ "Sign in with your browser" }</button>
                if let Some(u) = &m.sign_in_url {
                    <p class="muted small" id="sign-in-waiting">{ "Finish signing in in your browser. If it did not open, visit: " }<span class="mono-text">{ u }</span></p>
                }
                if let Some(n) = &m.notice {
                    <p class="error" role="alert">{ n }</p>
                }
            </div>
        </div>
    }
}

#[function_component(Sidebar)]
fn sidebar(p: &Props) -> Html {
    let m = &p.model;
    let d = &p.dispatch;
    let on_company = {
        let d = d.clone();
        Callback::from(move |e: Event| {
            let v = e.target_unchecked_into::<HtmlSelectElement>().value();
            if let Ok(id) = v.parse::<i64>() {
                spawn(actions::select_company(d.clone(), id));
            }
        })
    };
    let nav = |label: &'static str, view: View, id: &'static str| {
        let d = d.clone();
        let active = m.view == view;
        html! { <button {id} class={classes!("nav-item", active.then_some("active"))} onclick={move |_| d.dispatch(Action::Show(view.clone()))}>{ label }</button> }
    };
    html! {
        <aside class="sidebar">
            <div class="brand"><img class="brand-mark" src="icon.svg" alt="" /><span class="brand-name">{ "Atrium" }</span></div>
            if m.companies.is_empty() {
                <p class="muted small">{ "You are in no company yet. Create one in Settings, or accept an invitation." }</p>
            } else {
                <label class="small muted" for="company-switcher">{ "Company" }</label>
                <select id="company-switcher" onchange={on_company} title="Switch company">
                    { for m.companies.iter().map(|c| html! {
                        <option value={c.id.to_string()} selected={Some(c.id) == m.company}>{ &c.name }</option>
                    }) }
                </select>
                if let Some(cursor) = m.companies_next.clone() {
                    <button class="link small" id="companies-more"
                        onclick={ { let d = d.clone(); move |_| spawn(actions::more_companies(d.clone(), cursor.clone())) } }>{ "Load more companies" }</button>
                }
            }
            if let Some(c) = m.current_company() {
                <span class="muted small" id="company-role">{ if c.role == "owner" { "You own this company" } else { "You are a member" } }</span>
            }
            <nav class="nav">
                { nav("Catalog", View::Catalog, "nav-catalog") }
                if m.current_company().is_some() {
                    { nav("Members", View::Company, "nav-company") }
                }
            </nav>
            <div class="section-title">{ "Installed apps" }</div>
            <nav class="nav" id="installed-apps" data-loaded-for={m.installs_for.map(|c| c.to_string())}>
                if m.installs.is_empty() {
                    <p class="muted small">{ "No apps installed here yet. Pick one in the catalog." }</p>
                }
                { for m.installs.iter().enumerate().map(|(i, inst)| {
                    let d = d.clone();
                    let active = m.view == View::Open(inst.id);
                    let is_open = m.open.iter().any(|o| o.install_id == inst.id);
                    let target = inst.clone();
                    let onclick = move |_| {
                        if is_open {
                            d.dispatch(Action::Show(View::Open(target.id)));
                        } else {
                            spawn(actions::open(d.clone(), target.clone()));
                        }
                    };
                    html! {
                        <button class={classes!("nav-item", "app-item", active.then_some("active"))} data-client-id={inst.client_id.clone()} {onclick}
                            title={ if i < 9 { format!("Ctrl+{}", i + 1) } else { String::new() } }>
                            { mono(&inst.app_name, "small") }<span>{ &inst.app_name }</span>
                            if is_open { <span class="dot ok" title="open"></span> }
                        </button>
                    }
                }) }
                if let (Some(cursor), Some(company)) = (m.installs_next.clone(), m.company) {
                    <button class="link small" id="installs-more"
                        onclick={ { let d = d.clone(); move |_| spawn(actions::more_installs(d.clone(), company, cursor.clone())) } }>{ "Load more apps" }</button>
                }
            </nav>
            <nav class="nav">
                { nav("Developer", View::Developer, "nav-developer") }
                { nav("Settings", View::Settings, "nav-settings") }
            </nav>
            <div class="sidebar-foot">
                if m.offline { <span class="badge warn" id="offline-badge">{ "Offline — showing the last known state" }</span> }
                if let Some(me) = &m.me { <span id="signed-in-as">{ format!("Signed in as {}", me.username) }</span> }
                <button class="link" id="sign-out" onclick={ { let d = d.clone(); move |_| spawn(actions::sign_out(d.clone())) } }>{ "Sign out" }</button>
            </div>
        </aside>
    }
}

#[function_component(MainArea)]
fn main_area(p: &Props) -> Html {
    let m = &p.model;
    // Open apps stay in the page (hidden when not shown) so they keep their state.
    let frames = html! {
        { for m.open.iter().map(|o| {
            let shown = m.view == View::Open(o.install_id);
            html! {
                <div key={o.install_id} class={classes!("app-frame", (!shown).then_some("hidden"))} data-install={o.install_id.to_string()}>
                    <AppHeader model={p.model.clone()} dispatch={p.dispatch.clone()} install_id={o.install_id} />
                    <iframe title={o.name.clone()} src={o.url.clone()}
                        sandbox="allow-scripts allow-forms allow-same-origin allow-popups"
                        referrerpolicy="no-referrer"></iframe>
                </div>
            }
        }) }
    };
    let page = match &m.view {
        View::Catalog => {
            html! { <Catalog model={p.model.clone()} dispatch={p.dispatch.clone()} /> }
        }
        View::AppDetail(id) => match m.catalog.iter().find(|a| &a.client_id == id) {
            Some(app) => {
                html! { <AppDetail model={p.model.clone()} dispatch={p.dispatch.clone()} app={app.clone()} /> }
            }
            None => html! { <p>{ "This app is not in the catalog any more." }</p> },
        },
        View::Consent {
            client_id,
            company_id,
        } => match m.catalog.iter().find(|a| &a.client_id == client_id) {
            Some(app) => consent(p, app, *company_id),
            None => html! {},
        },
        View::Installing(i) => installing(p, i),
        View::Open(_) => html! {},
        View::Company => {
            html! { <CompanyPane model={p.model.clone()} dispatch={p.dispatch.clone()} /> }
        }
        View::Developer => html! { <DeveloperPane /> },
        View::Settings => {
            html! { <Settings model={p.model.clone()} dispatch={p.dispatch.clone()} /> }
        }
    };
    html! { <>{ page }{ frames }</> }
}

#[derive(Properties, Clone)]
struct AppHeaderProps {
    model: Rc<Model>,
    dispatch: Dispatch,
    install_id: i64,
}

impl PartialEq for AppHeaderProps {
    fn eq(&self, other: &Self) -> bool {
        *self.model == *other.model && self.install_id == other.install_id
    }
}

#[function_component(AppHeader)]
fn app_header(p: &AppHeaderProps) -> Html {
    let confirming = use_state(|| false);
    let m = &p.model;
    let Some(install) = m.installs.iter().find(|i| i.id == p.install_id).cloned() else {
        return html! {};
    };
    let d = p.dispatch.clone();
    let name = install.app_name.clone();
    html! {
        <header class="app-head">
            { mono(&name, "small") }
            <h2>{ &name }</h2>
            <span class="muted small">{ format!("Can: {}", install.scopes.join(", ")) }</span>
            <span class="spacer"></span>
            if m.is_owner() {
                if *confirming {
                    <span class="confirm">{ format!("Uninstall {name}? Its access ends at once.") }
                        <button class="button danger" id="confirm-uninstall" onclick={ { let d = d.clone(); let i = install.clone(); move |_| spawn(actions::uninstall(d.clone(), i.clone())) } }>{ "Uninstall" }</button>
                        <button class="button secondary" onclick={ { let c = confirming.clone(); move |_| c.set(false) } }>{ "Keep" }</button>
                    </span>
                } else {
                    <button class="button secondary" id="uninstall" onclick={ { let c = confirming.clone(); move |_| c.set(true) } }>{ "Uninstall…" }</button>
                }
            }
            <button class="button secondary" onclick={ { let d = d.clone(); let id = install.id; move |_| d.dispatch(Action::Closed(id)) } }>{ "Close" }</button>
        </header>
    }
}

#[function_component(Catalog)]
fn catalog(p: &Props) -> Html {
    let query = use_state(String::new);
    let m = &p.model;
    let q = query.to_lowercase();
    let apps: Vec<&CatalogApp> = m
        .catalog
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
                    oninput={ { let query = query.clone(); move |e: InputEvent| query.set(e.target_unchecked_into::<HtmlInputElement>().value()) } } />
            </header>
            if m.catalog.is_empty() {
                <div class="empty"><h3>{ "No apps yet" }</h3><p>{ "Developers register apps in the Developer pane; they appear here." }</p></div>
            } else if apps.is_empty() {
                <div class="empty"><p>{ "No app matches your search." }</p></div>
            }
            <div class="grid" id="catalog">
                { for apps.into_iter().map(|a| {
                    let d = p.dispatch.clone();
                    let id = a.client_id.clone();
                    let installed = m.installed(&a.client_id).is_some();
                    html! {
                        <button class="app-card" data-client-id={a.client_id.clone()} onclick={move |_| d.dispatch(Action::Show(View::AppDetail(id.clone())))}>
                            { mono(&a.name, "large") }
                            <span class="app-card-body">
                                <strong>{ &a.name }</strong>
                                <span class="muted small">{ a.developer.clone().map(|d| format!("by {d}")).unwrap_or_default() }</span>
                                <span class="desc">{ &a.description }</span>
                            </span>
                            if installed { <span class="badge ok">{ "Installed" }</span> }
                        </button>
                    }
                }) }
            </div>
            if let Some(cursor) = m.catalog_next.clone() {
                <div class="more">
                    <button class="button secondary" id="catalog-more"
                        onclick={ { let d = p.dispatch.clone(); move |_| spawn(actions::more_catalog(d.clone(), cursor.clone())) } }>{ "Load more apps" }</button>
                </div>
            }
        </section>
    }
}

#[derive(Properties, Clone)]
struct DetailProps {
    model: Rc<Model>,
    dispatch: Dispatch,
    app: CatalogApp,
}

impl PartialEq for DetailProps {
    fn eq(&self, other: &Self) -> bool {
        *self.model == *other.model && self.app == other.app
    }
}

/// An app of the catalog, and where to install it. The user installs into a company they own;
/// when they own several, they choose one here (none is chosen for them) and the consent
/// screen names it.
#[function_component(AppDetail)]
fn app_detail(p: &DetailProps) -> Html {
    let m = &p.model;
    let app = &p.app;
    let d = p.dispatch.clone();
    let chosen = use_state(|| None::<i64>);
    let owned = m.owned();
    let installed = m.installed(&app.client_id).cloned();
    let target = match owned.as_slice() {
        [only] => Some(only.id),
        _ => (*chosen).filter(|id| owned.iter().any(|c| c.id == *id)),
    };
    let target_name = target
        .and_then(|id| owned.iter().find(|c| c.id == id))
        .map(|c| c.name.clone());
    let next = {
        let d = d.clone();
        let id = app.client_id.clone();
        move |_| {
            if let Some(company_id) = target {
                d.dispatch(Action::Show(View::Consent {
                    client_id: id.clone(),
                    company_id,
                }));
            }
        }
    };
    html! {
        <section class="detail" id="app-detail">
            <button class="link" onclick={ { let d = d.clone(); move |_| d.dispatch(Action::Show(View::Catalog)) } }>{ "← Catalog" }</button>
            <header class="detail-head">{ mono(&app.name, "large") }<div><h1>{ &app.name }</h1>
                <p class="muted">{ app.developer.clone().map(|d| format!("by {d}")).unwrap_or_default() }</p></div></header>
            <p>{ &app.description }</p>
            <h3>{ "It will be able to" }</h3>
            <ul class="scopes">{ for app.scopes.iter().map(|s| html! { <li>{ &s.description }</li> }) }</ul>
            <p class="muted small">{ format!("Install method: {}", app.methods.join(" or ").to_uppercase()) }</p>
            if let Some(i) = installed {
                <button class="button" id="open-app" onclick={ { let d = d.clone(); move |_| spawn(actions::open(d.clone(), i.clone())) } }>{ "Open" }</button>
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

fn consent(p: &Props, app: &CatalogApp, company_id: i64) -> Html {
    let m = &p.model;
    let d = p.dispatch.clone();
    let company = m
        .companies
        .iter()
        .find(|c| c.id == company_id)
        .map(|c| c.name.clone())
        .unwrap_or_default();
    let via_browser = app.install_url.is_some();
    let allow = {
        let d = d.clone();
        let app = app.clone();
        move |_| {
            if app.install_url.is_some() {
                spawn(actions::install_via_url(d.clone(), app.clone(), company_id))
            } else {
                spawn(actions::install(d.clone(), app.clone(), company_id))
            }
        }
    };
    let cancel = {
        let d = d.clone();
        move |_| d.dispatch(Action::Show(View::Catalog))
    };
    html! {
        <section class="consent" id="consent">
            <header class="detail-head">{ mono(&app.name, "large") }<div>
                <h1>{ format!("Install {} in {company}?", app.name) }</h1>
                <p class="muted">{ app.developer.clone().map(|d| format!("Made by {d}")).unwrap_or_else(|| "Developer unknown".into()) }</p></div></header>
            <p>{ &app.description }</p>
            <h3>{ format!("{} will be able to:", app.name) }</h3>
            <ul class="scopes">{ for app.scopes.iter().map(|s| html! { <li>{ &s.description }</li> }) }</ul>
            <p class="muted small">{ "It will be told that you installed it, and can then read this data until it is uninstalled." }</p>
            if via_browser {
                <p class="muted small" id="consent-in-browser">{ format!("{} asks for your consent on its own: its install page opens in your browser, where you choose {company} and allow it. Atrium opens the app once that is done.", app.name) }</p>
            }
            <div class="actions">
                <button class="button secondary" id="consent-cancel" onclick={cancel}>{ "Cancel" }</button>
                <button class="button" id="consent-allow" onclick={allow}>{ if via_browser { "Continue in your browser" } else { "Allow" } }</button>
            </div>
        </section>
    }
}

fn installing(p: &Props, i: &Installing) -> Html {
    let d = p.dispatch.clone();
    let in_browser = i.step == InstallStep::InBrowser;
    let steps = [
        (
            if in_browser {
                "Allowing it in your browser"
            } else {
                "Recording your consent"
            },
            InstallStep::Approving,
        ),
        (
            &*format!("Waiting for {} to finish setting up", i.app_name),
            InstallStep::WaitingForApp,
        ),
        ("Opening the app", InstallStep::Opening),
    ]
    .map(|(label, step)| (label.to_string(), step));
    let current = match &i.step {
        InstallStep::Approving | InstallStep::InBrowser => 0,
        InstallStep::WaitingForApp => 1,
        InstallStep::Opening => 2,
        InstallStep::Failed(_) => usize::MAX,
    };
    html! {
        <section class="installing" id="installing">
            <h1>{ format!("Installing {}", i.app_name) }</h1>
            <ol class="steps">
                { for steps.iter().enumerate().map(|(n, (label, _))| {
                    let class = if current == usize::MAX { "" } else if n < current { "done" } else if n == current { "current" } else { "" };
                    html! { <li class={class}>{ label }</li> }
                }) }
            </ol>
            if let InstallStep::Failed(why) = &i.step {
                <p class="error" role="alert" id="install-error">{ format!("The install did not complete: {why}") }</p>
                <button class="button secondary" onclick={ { let d = d.clone(); move |_| d.dispatch(Action::Show(View::Catalog)) } }>{ "Back to the catalog" }</button>
            } else if in_browser {
                <p class="muted" id="install-in-browser">{ format!("{}'s install page is open in your browser. Choose the company there and allow it; the app opens here when it is done.", i.app_name) }</p>
                <button class="button secondary" onclick={ { let d = d.clone(); move |_| d.dispatch(Action::Show(View::Catalog)) } }>{ "Continue in the background" }</button>
            } else if current == 1 {
                <p class="muted">{ "The app's page opened in its own window. When it is done, it sends you back here." }</p>
                <button class="button secondary" onclick={ { let d = d.clone(); move |_| d.dispatch(Action::Show(View::Catalog)) } }>{ "Continue in the background" }</button>
            }
        </section>
    }
}

#[function_component(Settings)]
fn settings(p: &Props) -> Html {
    let m = &p.model;
    let d = p.dispatch.clone();
    let name = use_state(String::new);
    let url = use_state(|| m.server.as_ref().map(|s| s.url.clone()).unwrap_or_default());
    let create = {
        let d = d.clone();
        let name = name.clone();
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            if !name.trim().is_empty() {
                spawn(actions::create_company(d.clone(), (*name).clone()));
                name.set(String::new());
            }
        })
    };
    let save_url = {
        let d = d.clone();
        let url = url.clone();
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            spawn(actions::set_server(d.clone(), (*url).clone()));
        })
    };
    html! {
        <section id="settings">
            <header class="page-head"><h1>{ "Settings" }</h1></header>
            <div class="card">
                <h2>{ "Companies" }</h2>
                <ul class="plain">{ for m.companies.iter().map(|c| html! { <li>{ format!("{} — {}", c.name, c.role) }</li> }) }</ul>
                <form class="field-row" onsubmit={create}>
                    <label for="new-company">{ "New company" }</label>
                    <input id="new-company" value={(*name).clone()} oninput={ { let name = name.clone(); move |e: InputEvent| name.set(e.target_unchecked_into::<HtmlInputElement>().value()) } } />
                    <button class="button" type="submit">{ "Create" }</button>
                </form>
            </div>
            <div class="card">
                <h2>{ "Server" }</h2>
                <form class="field-row" onsubmit={save_url}>
                    <label for="settings-server">{ "Address" }</label>
                    <input id="settings-server" type="url" value={(*url).clone()} oninput={ { let url = url.clone(); move |e: InputEvent| url.set(e.target_unchecked_into::<HtmlInputElement>().value()) } } />
                    <button class="button secondary" type="submit">{ "Switch (signs you out)" }</button>
                </form>
            </div>
        </section>
    }
}
