//! The sidebar: the company switcher, the navigation, the company's installed apps (Ctrl+1…9),
//! and who is signed in.

use atrium_proto::dashboard::{CompanyView, InstallView};
use web_sys::HtmlSelectElement;
use yew::prelude::*;

use super::mono;
use crate::model::View;

#[derive(Properties, PartialEq)]
pub struct SidebarProps {
    pub companies: Vec<CompanyView>,
    /// Where the next page of companies starts, if there is one.
    pub companies_next: Option<String>,
    /// The company shown.
    pub company: Option<i64>,
    /// Its installs, and where their next page starts.
    pub installs: Vec<InstallView>,
    pub installs_next: Option<String>,
    /// The company whose installs these are (None while they load).
    pub installs_for: Option<i64>,
    /// The installs open in the main area.
    pub open: Vec<i64>,
    /// Those of them asleep (their webview freed until selected again).
    pub asleep: Vec<i64>,
    /// Each install's badge (unread or set by the app), where it is not zero.
    pub badges: Vec<(i64, u32)>,
    /// The sum of every badge, in every company.
    pub total: u32,
    /// How the shell hears of new notifications ("live", "polling", "down").
    pub inbox_mode: Option<&'static str>,
    pub view: View,
    pub offline: bool,
    pub username: Option<String>,
    pub on_select_company: Callback<i64>,
    /// Load the page of companies after this cursor.
    pub on_more_companies: Callback<String>,
    /// Load the page of the company's installs after this cursor.
    pub on_more_installs: Callback<(i64, String)>,
    pub on_show: Callback<View>,
    pub on_open: Callback<InstallView>,
    pub on_sign_out: Callback<()>,
}

/// A badge's text: "99+" past 99, as the space is small.
fn count_text(n: u32) -> String {
    if n > 99 {
        "99+".into()
    } else {
        n.to_string()
    }
}

#[function_component(Sidebar)]
pub fn sidebar(p: &SidebarProps) -> Html {
    let on_company = {
        let select = p.on_select_company.clone();
        Callback::from(move |e: Event| {
            let v = e.target_unchecked_into::<HtmlSelectElement>().value();
            if let Ok(id) = v.parse::<i64>() {
                select.emit(id);
            }
        })
    };
    let current = p.companies.iter().find(|c| Some(c.id) == p.company);
    let nav = |label: &'static str, view: View, id: &'static str| {
        let active = p.view == view;
        let onclick = p.on_show.reform(move |_: MouseEvent| view.clone());
        html! { <button {id} class={classes!("nav-item", active.then_some("active"))} {onclick}>{ label }</button> }
    };
    html! {
        <aside class="sidebar">
            <div class="brand"><img class="brand-mark" src="icon.svg" alt="" /><span class="brand-name">{ "Atrium" }</span></div>
            if p.companies.is_empty() {
                <p class="muted small">{ "You are in no company yet. Create one in Settings, or accept an invitation." }</p>
            } else {
                <label class="small muted" for="company-switcher">{ "Company" }</label>
                <select id="company-switcher" onchange={on_company} title="Switch company">
                    { for p.companies.iter().map(|c| html! {
                        <option value={c.id.to_string()} selected={Some(c.id) == p.company}>{ &c.name }</option>
                    }) }
                </select>
                if let Some(cursor) = p.companies_next.clone() {
                    <button class="link small" id="companies-more"
                        onclick={p.on_more_companies.reform(move |_: MouseEvent| cursor.clone())}>{ "Load more companies" }</button>
                }
            }
            if let Some(c) = current {
                <span class="muted small" id="company-role">{ if c.role.is_owner() { "You own this company" } else { "You are a member" } }</span>
            }
            <nav class="nav">
                { nav("Catalog", View::Catalog, "nav-catalog") }
                <button id="nav-notifications" class={classes!("nav-item", (p.view == View::Notifications).then_some("active"))}
                    data-inbox-mode={p.inbox_mode}
                    onclick={p.on_show.reform(|_: MouseEvent| View::Notifications)}>
                    <span>{ "Notifications" }</span>
                    if p.total > 0 { <span class="count" id="total-badge">{ p.total }</span> }
                </button>
                if current.is_some() {
                    { nav("Members", View::Company, "nav-company") }
                }
            </nav>
            <div class="section-title">{ "Installed apps" }</div>
            <nav class="nav" id="installed-apps" data-loaded-for={p.installs_for.map(|c| c.to_string())}>
                if p.installs.is_empty() {
                    <p class="muted small">{ "No apps installed here yet. Pick one in the catalog." }</p>
                }
                { for p.installs.iter().enumerate().map(|(i, inst)| {
                    let active = p.view == View::Open(inst.id);
                    let is_open = p.open.contains(&inst.id);
                    let asleep = p.asleep.contains(&inst.id);
                    let badge = p.badges.iter().find(|(id, _)| *id == inst.id).map(|(_, n)| *n);
                    let target = inst.clone();
                    let onclick = p.on_open.reform(move |_: MouseEvent| target.clone());
                    html! {
                        <button class={classes!("nav-item", "app-item", active.then_some("active"), asleep.then_some("asleep"))} data-client-id={inst.client_id.clone()} {onclick}
                            title={ if i < 9 { format!("Ctrl+{}", i + 1) } else { String::new() } }>
                            { mono(&inst.app_name, "small") }<span>{ &inst.app_name }</span>
                            if let Some(n) = badge { <span class="count app-badge" data-count={n.to_string()} title="unread">{ count_text(n) }</span> }
                            if asleep { <span class="asleep-mark" title="asleep: opens again when selected">{ "zz" }</span> }
                            else if is_open { <span class="dot ok" title="open"></span> }
                        </button>
                    }
                }) }
                if let (Some(cursor), Some(company)) = (p.installs_next.clone(), p.company) {
                    <button class="link small" id="installs-more"
                        onclick={p.on_more_installs.reform(move |_: MouseEvent| (company, cursor.clone()))}>{ "Load more apps" }</button>
                }
            </nav>
            <nav class="nav">
                { nav("Developer", View::Developer, "nav-developer") }
                { nav("Settings", View::Settings, "nav-settings") }
            </nav>
            <div class="sidebar-foot">
                if p.offline { <span class="badge warn" id="offline-badge">{ "Offline — showing the last known state" }</span> }
                if let Some(name) = &p.username { <span id="signed-in-as">{ format!("Signed in as {name}") }</span> }
                <button class="link" id="sign-out" onclick={p.on_sign_out.reform(|_: MouseEvent| ())}>{ "Sign out" }</button>
            </div>
        </aside>
    }
}
