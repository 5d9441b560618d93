//! Ctrl+1…9 open the company's first nine installed apps.

use atrium_proto::dashboard::InstallView;
use wasm_bindgen::JsCast;
use yew::prelude::*;

/// While mounted, Ctrl+N calls `on_open` with the N-th of `installs` (re-subscribed when they
/// change).
#[hook]
pub fn use_app_shortcuts(installs: Vec<InstallView>, on_open: Callback<InstallView>) {
    use_effect_with(installs, move |installs| {
        let installs = installs.clone();
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
                    on_open.emit(install);
                }
            },
        );
        let doc = web_sys::window().and_then(|w| w.document());
        if let Some(doc) = &doc {
            let _ =
                doc.add_event_listener_with_callback("keydown", handler.as_ref().unchecked_ref());
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
