//! # atrium-ui
//!
//! The Atrium dashboard, a Yew app compiled to `wasm32-unknown-unknown` and shown by the desktop
//! shell. It never talks to the server itself: every request goes through a Tauri command
//! ([`tauri`], over the types of `atrium_proto::ipc`), so tokens stay in the shell and never
//! reach this webview.
//!
//! - [`app`]: the root component; it owns the state and wires components to actions;
//! - [`model`] and [`actions`]: the dashboard's state (a reducer) and what it does;
//!   [`inbox_actions`]: what it does with the user's notifications;
//! - [`dev_model`] and [`dev_actions`]: the same for the developer pane;
//! - [`components`]: the views, one per file, each given only its data and callbacks;
//! - [`hooks`]: the shell's events (`use_shell_events`) and the Ctrl+1…9 shortcuts.
//!
//! The reducers and helpers are plain Rust: `cargo test -p atrium-ui` runs their tests on the
//! host.

mod actions;
mod app;
mod components;
mod dev_actions;
mod dev_model;
mod hooks;
mod inbox_actions;
mod model;
mod tauri;

fn main() {
    std::panic::set_hook(Box::new(|info| show_crash(&info.to_string())));
    yew::Renderer::<app::App>::new().render();
}

/// A bug must not leave a frozen window: say what happened, in the page and on the console.
fn show_crash(message: &str) {
    web_sys::console::error_1(&message.into());
    let Some(doc) = web_sys::window().and_then(|w| w.document()) else {
        return;
    };
    if let (Ok(el), Some(body)) = (doc.create_element("pre"), doc.body()) {
        el.set_class_name("crash");
        el.set_id("crash");
        el.set_text_content(Some(&format!(
            "Atrium hit a bug and stopped. Restart it; if this happens again, report this text:\n{message}"
        )));
        let _ = body.append_child(&el);
    }
}
