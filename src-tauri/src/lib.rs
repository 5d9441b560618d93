//! # atrium-desktop
//!
//! The Tauri 2 shell of the Atrium dashboard. It owns everything that must not live in a webview:
//!
//! - [`shell`]: the server connection, sign-in (RFC 8252: system browser, PKCE, deep-link
//!   callback) and the user's tokens, refreshed silently;
//! - [`api`]: the typed client of the server's HTTP API (every URL path comes from
//!   `atrium_proto::paths`);
//! - [`commands`]: the Tauri commands the UI invokes, one per type of `atrium_proto::ipc`,
//!   registered by [`with_commands`], which checks at compile time that each is named as the UI
//!   calls it;
//! - [`deep_link`]: where the desktop handles `atrium://` links (sign-in callback, signed out,
//!   install complete), which emit the events of `atrium_proto::ipc` to the UI;
//! - [`sign_out`]: ending the browser session the sign-in left (OpenID Connect RP-initiated
//!   logout, with the ID token of the sign-in as the hint);
//! - [`appviews`]: each open app in a webview of its own (a partition per install, no IPC,
//!   held to the app's origin), put to sleep when hidden for long;
//! - [`inbox`]: what apps post to the user, as it happens: one event stream per session
//!   (polling when it cannot be held), badges and notifications to the UI, and the system's
//!   notifications, whose click opens the app at its deep path;
//! - [`windows`]: the window where an app's install redirect runs;
//! - [`store`]: the files it keeps (session, settings, offline cache); [`config`],
//!   [`browser`], [`error`] (the commands' error, sent as `ipc::ShellError`).

pub mod api;
pub mod appviews;
pub mod browser;
pub mod commands;
pub mod config;
pub mod deep_link;
pub mod error;
pub mod inbox;
pub mod shell;
pub mod sign_out;
pub mod store;
pub mod windows;

use atrium_proto::ipc::{self, Command, Event};
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
            app.manage(appviews::AppViews::new(dir.clone()));
            app.manage(inbox::Inbox::new(dir.clone()));
            app.manage(shell::Shell::new(config, store::Disk::new(dir)));
            appviews::spawn_hibernation(app.handle().clone());
            inbox::stream::spawn(app.handle().clone());
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
        .invoke_handler(handlers!(
            DashboardShown => dashboard_shown,
            ServerStatus => server_status,
            SessionState => session_state,
            SetServerUrl => set_server_url,
            SignIn => sign_in,
            SignOut => sign_out,
            Me => me,
            Catalog => catalog,
            Companies => companies,
            CreateCompany => create_company,
            CompanyMembers => company_members,
            InviteMember => invite_member,
            CompanyInvitations => company_invitations,
            RevokeInvitation => revoke_invitation,
            MyInvitations => my_invitations,
            AcceptInvitation => accept_invitation,
            DeclineInvitation => decline_invitation,
            LeaveCompany => leave_company,
            CompanyInstalls => company_installs,
            InstallApp => install_app,
            InstallViaUrl => install_via_url,
            GetInstall => get_install,
            Uninstall => uninstall,
            Launch => launch,
            ShowApp => show_app,
            PlaceApps => place_apps,
            HideApps => hide_apps,
            CloseApp => close_app,
            CloseApps => close_apps,
            SleepApps => sleep_apps,
            PinApp => pin_app,
            SleepSettingsGet => sleep_settings,
            SetSleepSettings => set_sleep_settings,
            Notifications => notifications,
            MarkNotificationsRead => mark_notifications_read,
            Badges => badges,
            InboxSettingsGet => inbox_settings,
            SetInboxSettings => set_inbox_settings,
            InboxLinkGet => inbox_link,
            WindowBadge => window_badge,
            DevApps => dev_apps,
            DevRegister => dev_register,
            DevUpdate => dev_update,
            DevRotateSecret => dev_rotate_secret,
            DevDelete => dev_delete,
            DevDeliveries => dev_deliveries,
            DevRetryDelivery => dev_retry_delivery,
        ))
}

/// `tauri::generate_handler!` over `commands::<fn>` for each `ipc::<Type> => <fn>`, failing to
/// compile unless each function is named as its type's [`Command::NAME`] (the name the UI
/// invokes) and every command of [`ipc::COMMANDS`] is registered.
macro_rules! handlers {
    ($($ty:ident => $f:ident),* $(,)?) => {{
        $(const _: () = assert!(
            same(<ipc::$ty as Command>::NAME, stringify!($f)),
            concat!("commands::", stringify!($f), " is not named as ipc::", stringify!($ty), "::NAME")
        );)*
        const _: () = assert!(
            [$(stringify!($f)),*].len() == ipc::COMMANDS.len(),
            "a command of atrium_proto::ipc is not registered"
        );
        tauri::generate_handler![$(commands::$f),*]
    }};
}
use handlers;

/// String equality at compile time.
const fn same(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// Sends an event of [`ipc`] to the UI (best effort: the window may be closing).
pub(crate) fn emit<R: Runtime, E: Event>(app: &tauri::AppHandle<R>, event: E) {
    use tauri::Emitter;
    if let Err(e) = app.emit(E::NAME, event) {
        tracing::debug!(event = E::NAME, error = %e, "cannot emit");
    }
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
