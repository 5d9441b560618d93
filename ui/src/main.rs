//! # atrium-ui
//!
//! The Atrium dashboard, a Yew app compiled to `wasm32-unknown-unknown` and shown by the desktop
//! shell. It never talks to the server itself: every request goes through a Tauri command
//! ([`tauri`]), so tokens stay in the shell and never reach this webview.

mod actions;
mod app;
mod developer;
mod model;
mod tauri;

fn main() {
    yew::Renderer::<app::App>::new().render();
}
