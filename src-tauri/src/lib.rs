//! # atrium-desktop
//!
//! The Tauri 2 shell of the Atrium dashboard. It owns everything that must not live in a webview:
//! the server connection and the user's tokens ([`shell`]), the files it keeps ([`store`]), the
//! window where an app's install redirect runs ([`windows`]) and `atrium://` deep links
//! ([`deep_link`]). The Yew UI calls it through the commands in [`commands`] and listens to the
//! events `session-changed`, `sign-in-failed` and `install-complete`.

pub mod browser;
pub mod commands;
pub mod config;
pub mod deep_link;
pub mod error;
pub mod shell;
pub mod store;
pub mod windows;

use tauri::{Manager, Runtime};

pub use config::ShellConfig;

/// Starts the desktop app. Configuration comes from the environment ([`ShellConfig::from_env`]).
pub fn run() {
    without_gpu_no_compositing();
    init_logging();
    let config = ShellConfig::from_env();
    let context = tauri::generate_context!("../tauri.conf.json");
    let app = tauri::Builder::default()
        // Registered first, as the deep-link plugin requires: a second `atrium atrium://...`
        // process hands its URL to this one and exits.
        .plugin(tauri_plugin_single_instance::init(|app, argv, _cwd| {
            tracing::debug!(args = argv.len(), "second instance started");
            if let Some(window) = app.get_webview_window("main") {
                let _ = window.set_focus();
            }
        }))
        .plugin(tauri_plugin_deep_link::init())
        .setup(move |app| {
            let dir = app.path().app_data_dir()?;
            app.manage(shell::Shell::new(config, store::Disk::new(dir)));
            install_deep_link_handler(app.handle());
            Ok(())
        });
    let app = with_commands(app).build(context);
    match app {
        Ok(app) => app.run(|_, _| {}),
        Err(err) => {
            eprintln!("atrium: cannot start: {err}");
            std::process::exit(1);
        }
    }
}

/// Atrium's commands and per-app state, shared by the real app and tests built on
/// `tauri::test::mock_builder()` (which then manage a [`shell::Shell`] of their own).
pub fn with_commands<R: Runtime>(builder: tauri::Builder<R>) -> tauri::Builder<R> {
    builder
        .manage(commands::Startup::now())
        .manage(windows::PendingInstall::default())
        .invoke_handler(tauri::generate_handler![
            commands::server_status,
            commands::session_state,
            commands::set_server_url,
            commands::sign_in,
            commands::sign_out,
            commands::me,
            commands::catalog,
            commands::companies,
            commands::create_company,
            commands::company_members,
            commands::invite_member,
            commands::company_invitations,
            commands::revoke_invitation,
            commands::my_invitations,
            commands::accept_invitation,
            commands::decline_invitation,
            commands::leave_company,
            commands::company_installs,
            commands::consent,
            commands::install_app,
            commands::install_via_url,
            commands::get_install,
            commands::uninstall,
            commands::launch,
            commands::dev_apps,
            commands::dev_register,
            commands::dev_update,
            commands::dev_rotate_secret,
            commands::dev_delete,
            commands::dev_deliveries,
            commands::dev_retry_delivery,
            commands::dashboard_shown,
        ])
}

/// Deep links (cold start and while running) go to [`deep_link::handle`].
fn install_deep_link_handler<R: Runtime>(app: &tauri::AppHandle<R>) {
    use tauri_plugin_deep_link::DeepLinkExt;
    if let Ok(Some(urls)) = app.deep_link().get_current() {
        for url in urls {
            deep_link::handle(app, url);
        }
    }
    let handle = app.clone();
    app.deep_link().on_open_url(move |event| {
        for url in event.urls() {
            deep_link::handle(&handle, url);
        }
    });
}

/// Without a GPU (no DRM device: a VM, a container, a remote X session, Xvfb), WebKitGTK would
/// still composite with OpenGL, emulated on the CPU by Mesa, and its web process would hold
/// about 95 MB more for buffers that buy nothing there (measured by `cargo xtask bench`: 209
/// → 115 MB PSS for the dashboard's web process). Such machines get WebKit's plain software
/// path instead; with a GPU nothing changes, and an explicit setting always wins. Runs first,
/// before any thread exists, as changing the environment must.
fn without_gpu_no_compositing() {
    const VAR: &str = "WEBKIT_DISABLE_COMPOSITING_MODE";
    if cfg!(target_os = "linux")
        && std::env::var_os(VAR).is_none()
        && !std::path::Path::new("/dev/dri").exists()
    {
        std::env::set_var(VAR, "1");
    }
}

fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    // Logs go to standard error, as a program's diagnostics should.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}
