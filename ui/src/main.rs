//! # atrium-ui
//!
//! The Atrium dashboard, a Yew app compiled to `wasm32-unknown-unknown` and shown by the desktop
//! shell. It never talks to the server itself: every request goes through a Tauri command
//! ([`tauri`]), so tokens stay in the shell and never reach this webview.

mod actions;
mod app;
mod companies;
mod deliveries;
mod developer;
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
