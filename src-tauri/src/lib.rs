//! # atrium-desktop
//!
//! The Tauri 2 shell of the Atrium dashboard. It owns everything that must not live in a webview:
//! the server connection, and (later) the user's tokens. The Yew UI calls it through the commands
//! in [`commands`]; `atrium://` deep links reach it through the single-instance and deep-link
//! plugins and are passed to the UI as the `deep-link` event.

pub mod commands;
pub mod config;
pub mod error;

use tauri::{Emitter, Manager, Runtime};

pub use config::ShellConfig;

/// Starts the desktop app. Configuration comes from the environment ([`ShellConfig::from_env`]).
pub fn run() {
    init_logging();
    let config = ShellConfig::from_env();
    let context = tauri::generate_context!("../tauri.conf.json");
    let app = build(tauri::Builder::default(), config)
        // Registered first, as the deep-link plugin requires: a second `atrium atrium://...`
        // process hands its URL to this one and exits.
        .plugin(tauri_plugin_single_instance::init(|app, argv, _cwd| {
            tracing::debug!(?argv, "second instance started");
            if let Some(window) = app.get_webview_window("main") {
                let _ = window.set_focus();
            }
        }))
        .plugin(tauri_plugin_deep_link::init())
        .setup(|app| {
            install_deep_link_handler(app.handle());
            Ok(())
        })
        .build(context);
    match app {
        Ok(app) => app.run(|_, _| {}),
        Err(err) => {
            eprintln!("atrium: cannot start: {err}");
            std::process::exit(1);
        }
    }
}

/// The parts of the app that tests can build on `tauri::test::mock_builder()`: state and
/// commands, without plugins that need a desktop session.
pub fn build<R: Runtime>(builder: tauri::Builder<R>, config: ShellConfig) -> tauri::Builder<R> {
    builder
        .manage(commands::Shell::new(config))
        .invoke_handler(tauri::generate_handler![commands::server_status])
}

/// Deep links (cold start and while running) are forwarded to the UI as the `deep-link` event.
/// They are hints only: the UI re-reads whatever they name from the server.
fn install_deep_link_handler<R: Runtime>(app: &tauri::AppHandle<R>) {
    use tauri_plugin_deep_link::DeepLinkExt;
    let emit = {
        let app = app.clone();
        move |urls: Vec<url::Url>| {
            for url in urls {
                if url.scheme() != "atrium" {
                    continue;
                }
                tracing::info!(kind = url.host_str().unwrap_or(""), "deep link received");
                let _ = app.emit("deep-link", url.as_str());
            }
        }
    };
    if let Ok(Some(urls)) = app.deep_link().get_current() {
        emit(urls);
    }
    app.deep_link().on_open_url(move |event| emit(event.urls()));
}

fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt().with_env_filter(filter).try_init();
}
