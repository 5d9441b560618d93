//! The apps open in the dashboard. Each runs in a webview of its own that the shell places over
//! this component's content area (`.app-view`): the component tells the shell where that area
//! is (and again whenever it moves), which app to show, and which apps were closed. Under its
//! header (pin, uninstall, close) the area is empty here: the app is drawn by the shell.

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::rc::Rc;

use atrium_proto::dashboard::InstallView;
use atrium_proto::ipc::{self, ViewRect};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;
use yew::prelude::*;

use super::mono;
use crate::actions::spawn;
use crate::model::OpenApp;
use crate::tauri::{invoke, ShellError};

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
    pub on_pin: Callback<(i64, bool)>,
    /// The shell could not show the app.
    pub on_failed: Callback<(i64, ShellError)>,
}

/// What the shell was last told.
#[derive(Default)]
struct Told {
    /// The app shown, and where.
    shown: Option<(i64, ViewRect)>,
    open: HashSet<i64>,
    /// Each app's `launch` whose deep path was sent (see [`OpenApp::launch`]).
    launched: HashMap<i64, u32>,
}

/// The app to show, and the deep path to launch it at if that was not asked yet.
struct Showing {
    id: i64,
    launch: u32,
    path: Option<String>,
}

#[function_component(OpenApps)]
pub fn open_apps(p: &OpenAppsProps) -> Html {
    let area = use_node_ref();
    let told = use_mut_ref(Told::default);
    // A resized window renders again, to measure the area again.
    let rerender = use_force_update();
    {
        use_effect_with((), move |_| {
            let listener = Closure::<dyn Fn()>::new(move || rerender.force_update());
            let window = web_sys::window();
            if let Some(w) = &window {
                let _ =
                    w.add_event_listener_with_callback("resize", listener.as_ref().unchecked_ref());
            }
            move || {
                if let Some(w) = window {
                    let _ = w.remove_event_listener_with_callback(
                        "resize",
                        listener.as_ref().unchecked_ref(),
                    );
                }
                // Signed out (or gone): no app stays open.
                spawn(async move {
                    let _ = invoke(&ipc::CloseApps {}).await;
                });
            }
        });
    }
    // After every render: close what was closed, show or hide, follow the area.
    {
        let open: HashSet<i64> = p.open.iter().map(|o| o.install_id).collect();
        let shown = p
            .shown
            .and_then(|id| p.open.iter().find(|o| o.install_id == id))
            .map(|o| Showing {
                id: o.install_id,
                launch: o.launch,
                path: o.path.clone(),
            });
        let area = area.clone();
        let told = told.clone();
        let on_failed = p.on_failed.clone();
        use_effect(move || {
            sync(&told, open, shown, measure(&area), on_failed);
        });
    }
    html! {
        { for p.open.iter().map(|o| {
            let shown = p.shown == Some(o.install_id);
            let install = p.installs.iter().find(|i| i.id == o.install_id).cloned();
            html! {
                <div key={o.install_id} class={classes!("app-frame", (!shown).then_some("hidden"))}
                    data-install={o.install_id.to_string()} data-name={o.name.clone()}>
                    if let Some(install) = install {
                        <AppHeader {install} owner={p.owner} pinned={o.pinned} on_uninstall={p.on_uninstall.clone()}
                            on_close={p.on_close.clone()} on_pin={p.on_pin.clone()} />
                    }
                    if shown {
                        <div class="app-view" ref={area.clone()}></div>
                    }
                </div>
            }
        }) }
    }
}

/// The content area, in the dashboard's CSS pixels.
fn measure(area: &NodeRef) -> Option<ViewRect> {
    let r = area.cast::<web_sys::Element>()?.get_bounding_client_rect();
    Some(ViewRect {
        x: r.x(),
        y: r.y(),
        width: r.width(),
        height: r.height(),
    })
}

/// Tells the shell what changed since it was last told.
fn sync(
    told: &Rc<RefCell<Told>>,
    open: HashSet<i64>,
    shown: Option<Showing>,
    rect: Option<ViewRect>,
    on_failed: Callback<(i64, ShellError)>,
) {
    let mut t = told.borrow_mut();
    t.launched.retain(|id, _| open.contains(id));
    for gone in t.open.difference(&open).copied().collect::<Vec<_>>() {
        spawn(async move {
            let _ = invoke(&ipc::CloseApp { install_id: gone }).await;
        });
    }
    t.open = open;
    match (shown, rect) {
        (Some(showing), Some(rect)) => {
            let id = showing.id;
            let before = t.shown;
            // A deep path not sent yet for this launch: the shell launches the app there.
            let path = showing
                .path
                .filter(|_| t.launched.get(&id) != Some(&showing.launch));
            if before.map(|(i, _)| i) != Some(id) || path.is_some() {
                t.shown = Some((id, rect));
                if path.is_some() {
                    t.launched.insert(id, showing.launch);
                }
                spawn(async move {
                    let show = ipc::ShowApp {
                        install_id: id,
                        rect,
                        path,
                    };
                    if let Err(e) = invoke(&show).await {
                        on_failed.emit((id, e));
                    }
                });
            } else if before.map(|(_, r)| r) != Some(rect) {
                t.shown = Some((id, rect));
                spawn(async move {
                    let _ = invoke(&ipc::PlaceApps { rect }).await;
                });
            }
        }
        _ => {
            if t.shown.take().is_some() {
                spawn(async move {
                    let _ = invoke(&ipc::HideApps {}).await;
                });
            }
        }
    }
}

#[derive(Properties, PartialEq)]
struct AppHeaderProps {
    install: InstallView,
    owner: bool,
    pinned: bool,
    on_uninstall: Callback<InstallView>,
    on_close: Callback<i64>,
    on_pin: Callback<(i64, bool)>,
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
    let pinned = p.pinned;
    html! {
        <header class="app-head">
            { mono(name, "small") }
            <h2>{ name }</h2>
            <span class="muted small">{ format!("Can: {}", install.scopes.join(", ")) }</span>
            <span class="spacer"></span>
            <button class={classes!("button", "secondary", pinned.then_some("pressed"))} id="pin-app" aria-pressed={pinned.to_string()}
                title="A pinned app never goes to sleep"
                onclick={p.on_pin.reform(move |_: MouseEvent| (id, !pinned))}>{ if pinned { "Pinned" } else { "Pin" } }</button>
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
