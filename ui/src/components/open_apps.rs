//! The apps open in the dashboard, each in a sandboxed iframe under its header (uninstall,
//! close). They stay in the page, hidden when not shown, so they keep their state.

use atrium_proto::dashboard::InstallView;
use yew::prelude::*;

use super::mono;
use crate::model::OpenApp;

#[derive(Properties, PartialEq)]
pub struct OpenAppsProps {
    pub open: Vec<OpenApp>,
    /// The install shown, if an app is.
    pub shown: Option<i64>,
    /// The company's installs (an open app's header shows its scopes).
    pub installs: Vec<InstallView>,
    /// Owners may uninstall.
    pub owner: bool,
    pub on_uninstall: Callback<InstallView>,
    pub on_close: Callback<i64>,
}

#[function_component(OpenApps)]
pub fn open_apps(p: &OpenAppsProps) -> Html {
    html! {
        { for p.open.iter().map(|o| {
            let shown = p.shown == Some(o.install_id);
            let install = p.installs.iter().find(|i| i.id == o.install_id).cloned();
            html! {
                <div key={o.install_id} class={classes!("app-frame", (!shown).then_some("hidden"))} data-install={o.install_id.to_string()}>
                    if let Some(install) = install {
                        <AppHeader {install} owner={p.owner} on_uninstall={p.on_uninstall.clone()} on_close={p.on_close.clone()} />
                    }
                    <iframe title={o.name.clone()} src={o.url.clone()}
                        sandbox="allow-scripts allow-forms allow-same-origin allow-popups"
                        referrerpolicy="no-referrer"></iframe>
                </div>
            }
        }) }
    }
}

#[derive(Properties, PartialEq)]
struct AppHeaderProps {
    install: InstallView,
    owner: bool,
    on_uninstall: Callback<InstallView>,
    on_close: Callback<i64>,
}

#[function_component(AppHeader)]
fn app_header(p: &AppHeaderProps) -> Html {
    let confirming = use_state(|| false);
    let install = &p.install;
    let name = &install.app_name;
    let uninstall = {
        let i = install.clone();
        p.on_uninstall.reform(move |_: MouseEvent| i.clone())
    };
    let id = install.id;
    html! {
        <header class="app-head">
            { mono(name, "small") }
            <h2>{ name }</h2>
            <span class="muted small">{ format!("Can: {}", install.scopes.join(", ")) }</span>
            <span class="spacer"></span>
            if p.owner {
                if *confirming {
                    <span class="confirm">{ format!("Uninstall {name}? Its access ends at once.") }
                        <button class="button danger" id="confirm-uninstall" onclick={uninstall}>{ "Uninstall" }</button>
                        <button class="button secondary" onclick={ { let c = confirming.clone(); move |_| c.set(false) } }>{ "Keep" }</button>
                    </span>
                } else {
                    <button class="button secondary" id="uninstall" onclick={ { let c = confirming.clone(); move |_| c.set(true) } }>{ "Uninstall…" }</button>
                }
            }
            <button class="button secondary" onclick={p.on_close.reform(move |_: MouseEvent| id)}>{ "Close" }</button>
        </header>
    }
}
