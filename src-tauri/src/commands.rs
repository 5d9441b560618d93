//! Tauri commands: the UI's only way to reach the server. Each takes its arguments as the
//! command's type in [`atrium_proto::ipc`] and answers that type's `Output`; each is a few
//! lines over the typed API client ([`crate::api`]) or the [`Shell`]. No URL is written here.

use atrium_proto::dashboard::InstallRequest;
use atrium_proto::ipc::{self, Command, SessionChanged};
use atrium_proto::HealthState;
use tauri::{AppHandle, Runtime, State};

use crate::appviews::AppViews;
use crate::error::Error;
use crate::inbox::Inbox;
use crate::shell::Shell;

/// What command `C` answers.
type Out<C> = Result<<C as Command>::Output, Error>;

/// When the shell started, to tell how long the dashboard took to appear.
pub struct Startup {
    at: std::time::Instant,
    shown: std::sync::atomic::AtomicBool,
}

impl Startup {
    pub fn now() -> Startup {
        Startup {
            at: std::time::Instant::now(),
            shown: false.into(),
        }
    }
}

/// The UI has rendered the signed-in dashboard (user, catalog and installs) for the first
/// time. Logged once, with the time since start: the startup figure `cargo xtask bench`
/// reads, and a clue for anyone wondering why the app starts slowly.
#[tauri::command]
pub fn dashboard_shown(startup: State<'_, Startup>, args: ipc::DashboardShown) {
    use std::sync::atomic::Ordering;
    let ipc::DashboardShown {} = args;
    if !startup.shown.swap(true, Ordering::Relaxed) {
        let ms = startup.at.elapsed().as_millis() as u64;
        tracing::info!(since_start_ms = ms, "dashboard shown");
    }
}

#[tauri::command]
pub async fn server_status(
    shell: State<'_, Shell>,
    args: ipc::ServerStatus,
) -> Out<ipc::ServerStatus> {
    let ipc::ServerStatus {} = args;
    let health = match shell.api().health().await {
        Ok(h) if h.status == "ready" => HealthState::Healthy { version: h.version },
        Ok(h) => HealthState::Unreachable {
            reason: h
                .reason
                .unwrap_or_else(|| format!("the server reports status {:?}", h.status)),
        },
        Err(Error::Offline(reason)) => HealthState::Unreachable { reason },
        Err(e) => HealthState::Unreachable {
            reason: e.to_string(),
        },
    };
    Ok(atrium_proto::ServerStatus {
        url: shell.server_url_text(),
        health,
    })
}

#[tauri::command]
pub async fn session_state(
    shell: State<'_, Shell>,
    args: ipc::SessionState,
) -> Out<ipc::SessionState> {
    let ipc::SessionState {} = args;
    Ok(ipc::SessionInfo {
        signed_in: shell.signed_in().await,
        server_url: shell.server_url_text(),
    })
}

#[tauri::command]
pub async fn set_server_url<R: Runtime>(
    app: AppHandle<R>,
    shell: State<'_, Shell>,
    args: ipc::SetServerUrl,
) -> Out<ipc::SetServerUrl> {
    shell.set_server_url(&args.url).await?;
    crate::emit(&app, SessionChanged { signed_in: false });
    Ok(shell.server_url_text())
}

/// Opens the system browser at the server's sign-in page; the answer comes back as a deep
/// link. Returns the URL, for the UI to show; when no browser can be started the sign-in still
/// waits, and the user opens the URL themselves.
#[tauri::command]
pub async fn sign_in(shell: State<'_, Shell>, args: ipc::SignIn) -> Out<ipc::SignIn> {
    let ipc::SignIn {} = args;
    let url = shell.begin_sign_in()?;
    let browser_opened = match crate::browser::open(url.as_str()).await {
        Ok(()) => true,
        Err(e) => {
            tracing::warn!(error = %e, "no browser for sign-in");
            false
        }
    };
    Ok(ipc::SignInPage {
        url: url.to_string(),
        browser_opened,
    })
}

/// Signs out here (the tokens are revoked and forgotten), then opens the server's sign-out page
/// in the system browser, whose session the sign-in left behind. Without a browser the
/// sign-out here still completes, and the answer says the browser's session may remain.
#[tauri::command]
pub async fn sign_out<R: Runtime>(
    app: AppHandle<R>,
    shell: State<'_, Shell>,
    args: ipc::SignOut,
) -> Out<ipc::SignOut> {
    let ipc::SignOut {} = args;
    let end_session = shell.sign_out().await;
    crate::emit(&app, SessionChanged { signed_in: false });
    let Some(url) = end_session else {
        return Ok(ipc::BrowserSignOut::NotSignedIn);
    };
    Ok(match crate::browser::open(url.as_str()).await {
        Ok(()) => ipc::BrowserSignOut::Opened,
        Err(e) => {
            tracing::warn!(error = %e, "no browser to sign out of");
            ipc::BrowserSignOut::NoBrowser
        }
    })
}

#[tauri::command]
pub async fn me(shell: State<'_, Shell>, args: ipc::Me) -> Out<ipc::Me> {
    let ipc::Me {} = args;
    shell.api().me().await
}

#[tauri::command]
pub async fn catalog(shell: State<'_, Shell>, args: ipc::Catalog) -> Out<ipc::Catalog> {
    shell.api().catalog(args.cursor.as_deref()).await
}

#[tauri::command]
pub async fn companies(shell: State<'_, Shell>, args: ipc::Companies) -> Out<ipc::Companies> {
    shell.api().companies(args.cursor.as_deref()).await
}

#[tauri::command]
pub async fn create_company(
    shell: State<'_, Shell>,
    args: ipc::CreateCompany,
) -> Out<ipc::CreateCompany> {
    shell.api().create_company(args.name).await
}

#[tauri::command]
pub async fn company_members(
    shell: State<'_, Shell>,
    args: ipc::CompanyMembers,
) -> Out<ipc::CompanyMembers> {
    let cursor = args.cursor.as_deref();
    shell.api().company_members(args.company_id, cursor).await
}

#[tauri::command]
pub async fn invite_member(
    shell: State<'_, Shell>,
    args: ipc::InviteMember,
) -> Out<ipc::InviteMember> {
    let ipc::InviteMember {
        company_id,
        username,
        role,
    } = args;
    shell.api().invite(company_id, username, role).await
}

#[tauri::command]
pub async fn company_invitations(
    shell: State<'_, Shell>,
    args: ipc::CompanyInvitations,
) -> Out<ipc::CompanyInvitations> {
    shell.api().company_invitations(args.company_id).await
}

#[tauri::command]
pub async fn revoke_invitation(
    shell: State<'_, Shell>,
    args: ipc::RevokeInvitation,
) -> Out<ipc::RevokeInvitation> {
    let api = shell.api();
    api.revoke_invitation(args.company_id, args.invitation_id)
        .await
}

#[tauri::command]
pub async fn my_invitations(
    shell: State<'_, Shell>,
    args: ipc::MyInvitations,
) -> Out<ipc::MyInvitations> {
    let ipc::MyInvitations {} = args;
    shell.api().my_invitations().await
}

#[tauri::command]
pub async fn accept_invitation(
    shell: State<'_, Shell>,
    args: ipc::AcceptInvitation,
) -> Out<ipc::AcceptInvitation> {
    shell.api().accept_invitation(args.invitation_id).await
}

#[tauri::command]
pub async fn decline_invitation(
    shell: State<'_, Shell>,
    args: ipc::DeclineInvitation,
) -> Out<ipc::DeclineInvitation> {
    shell.api().decline_invitation(args.invitation_id).await
}

#[tauri::command]
pub async fn leave_company(
    shell: State<'_, Shell>,
    args: ipc::LeaveCompany,
) -> Out<ipc::LeaveCompany> {
    shell.api().leave_company(args.company_id).await
}

#[tauri::command]
pub async fn company_installs(
    shell: State<'_, Shell>,
    args: ipc::CompanyInstalls,
) -> Out<ipc::CompanyInstalls> {
    let cursor = args.cursor.as_deref();
    shell.api().company_installs(args.company_id, cursor).await
}

/// An app with an install URL asks for consent itself: open that URL (as the server lists it,
/// never one from the webview) in the system browser, with `iss` naming this server (OpenID
/// Connect's third-party-initiated login), where the user is signed in. The app then starts its
/// own authorization request, with its own PKCE and `state`.
#[tauri::command]
pub async fn install_via_url(
    shell: State<'_, Shell>,
    args: ipc::InstallViaUrl,
) -> Out<ipc::InstallViaUrl> {
    let view = shell
        .api()
        .consent(&args.client_id, args.company_id)
        .await?;
    let Some(raw) = view.app.install_url else {
        return Err(Error::Invalid(format!(
            "{} has no install URL; install it from the catalog",
            view.app.name
        )));
    };
    let mut url = url::Url::parse(&raw)
        .map_err(|e| Error::Server(format!("the app's install URL is not a URL: {e}")))?;
    url.query_pairs_mut()
        .append_pair("iss", &shell.server_url_text());
    crate::browser::open(url.as_str()).await
}

/// The user allowed the install: the server records it and answers the app's redirect, which
/// runs in a window of its own (no IPC there); the app finishes at `atrium://install-complete`.
#[tauri::command]
pub async fn install_app<R: Runtime>(
    app: AppHandle<R>,
    shell: State<'_, Shell>,
    args: ipc::InstallApp,
) -> Out<ipc::InstallApp> {
    let state = crate::browser::random_state();
    let request = InstallRequest {
        client_id: args.client_id,
        company_id: args.company_id,
        state: Some(state.clone()),
        ..InstallRequest::default()
    };
    let answer = shell.api().install(&request).await?;
    crate::windows::open_redirect(&app, &answer.redirect_to, answer.install.id, state)?;
    Ok(answer.install)
}

#[tauri::command]
pub async fn get_install(shell: State<'_, Shell>, args: ipc::GetInstall) -> Out<ipc::GetInstall> {
    shell.api().get_install(args.install_id).await
}

#[tauri::command]
pub async fn uninstall<R: Runtime>(
    app: AppHandle<R>,
    shell: State<'_, Shell>,
    views: State<'_, AppViews>,
    args: ipc::Uninstall,
) -> Out<ipc::Uninstall> {
    let gone = shell.api().uninstall(args.install_id).await?;
    // Its webview closes and its partition (cookies, storage) is deleted.
    views.forget(&app, &shell, args.install_id).await?;
    Ok(gone)
}

#[tauri::command]
pub async fn launch(shell: State<'_, Shell>, args: ipc::Launch) -> Out<ipc::Launch> {
    shell.api().launch(args.install_id).await
}

#[tauri::command]
pub async fn show_app<R: Runtime>(
    app: AppHandle<R>,
    shell: State<'_, Shell>,
    views: State<'_, AppViews>,
    args: ipc::ShowApp,
) -> Out<ipc::ShowApp> {
    let path = args.path.as_deref();
    views
        .show(&app, &shell, args.install_id, args.rect, path)
        .await
}

#[tauri::command]
pub async fn place_apps<R: Runtime>(
    app: AppHandle<R>,
    views: State<'_, AppViews>,
    args: ipc::PlaceApps,
) -> Out<ipc::PlaceApps> {
    views.place(&app, args.rect).await
}

#[tauri::command]
pub async fn hide_apps<R: Runtime>(
    app: AppHandle<R>,
    views: State<'_, AppViews>,
    args: ipc::HideApps,
) -> Out<ipc::HideApps> {
    let ipc::HideApps {} = args;
    views.hide(&app).await
}

#[tauri::command]
pub async fn close_app<R: Runtime>(
    app: AppHandle<R>,
    views: State<'_, AppViews>,
    args: ipc::CloseApp,
) -> Out<ipc::CloseApp> {
    views.close(&app, args.install_id).await
}

#[tauri::command]
pub async fn close_apps<R: Runtime>(
    app: AppHandle<R>,
    views: State<'_, AppViews>,
    args: ipc::CloseApps,
) -> Out<ipc::CloseApps> {
    let ipc::CloseApps {} = args;
    views.close_all(&app).await
}

#[tauri::command]
pub async fn sleep_apps<R: Runtime>(
    app: AppHandle<R>,
    views: State<'_, AppViews>,
    args: ipc::SleepApps,
) -> Out<ipc::SleepApps> {
    let ipc::SleepApps {} = args;
    views.sleep_due(&app, true).await;
    Ok(())
}

#[tauri::command]
pub fn pin_app(views: State<'_, AppViews>, args: ipc::PinApp) -> Out<ipc::PinApp> {
    views.pin(args.install_id, args.pinned);
    Ok(())
}

#[tauri::command]
pub fn sleep_settings(
    views: State<'_, AppViews>,
    args: ipc::SleepSettingsGet,
) -> Out<ipc::SleepSettingsGet> {
    let ipc::SleepSettingsGet {} = args;
    Ok(views.settings())
}

#[tauri::command]
pub fn set_sleep_settings(
    views: State<'_, AppViews>,
    args: ipc::SetSleepSettings,
) -> Out<ipc::SetSleepSettings> {
    views.set_settings(args.settings)
}

#[tauri::command]
pub async fn notifications(
    shell: State<'_, Shell>,
    args: ipc::Notifications,
) -> Out<ipc::Notifications> {
    shell.api().notifications(args.cursor.as_deref()).await
}

/// Marks notifications read, and withdraws their native notifications.
#[tauri::command]
pub async fn mark_notifications_read(
    shell: State<'_, Shell>,
    inbox: State<'_, Inbox>,
    args: ipc::MarkNotificationsRead,
) -> Out<ipc::MarkNotificationsRead> {
    if args.ids.len() > atrium_proto::inbox::MAX_MARK_IDS {
        return Err(Error::Invalid("too many notifications at once".into()));
    }
    let marked = shell.api().mark_read(args.ids.clone()).await?;
    inbox.native.withdraw(&args.ids).await;
    Ok(marked)
}

#[tauri::command]
pub async fn badges(shell: State<'_, Shell>, args: ipc::Badges) -> Out<ipc::Badges> {
    let ipc::Badges {} = args;
    shell.api().badges().await
}

#[tauri::command]
pub fn inbox_settings(
    inbox: State<'_, Inbox>,
    args: ipc::InboxSettingsGet,
) -> Out<ipc::InboxSettingsGet> {
    let ipc::InboxSettingsGet {} = args;
    Ok(inbox.settings())
}

#[tauri::command]
pub fn set_inbox_settings(
    inbox: State<'_, Inbox>,
    args: ipc::SetInboxSettings,
) -> Out<ipc::SetInboxSettings> {
    inbox.set_settings(args.settings)
}

#[tauri::command]
pub fn inbox_link(inbox: State<'_, Inbox>, args: ipc::InboxLinkGet) -> Out<ipc::InboxLinkGet> {
    let ipc::InboxLinkGet {} = args;
    Ok(ipc::InboxLink { mode: inbox.mode() })
}

/// The window's title carries the count of what waits for the user: "Atrium (3)".
#[tauri::command]
pub fn window_badge<R: Runtime>(
    app: AppHandle<R>,
    args: ipc::WindowBadge,
) -> Out<ipc::WindowBadge> {
    use tauri::Manager;
    let title = match args.count {
        0 => "Atrium".to_string(),
        n => format!("Atrium ({n})"),
    };
    if let Some(window) = app.get_webview_window("main") {
        window
            .set_title(&title)
            .map_err(|e| Error::Internal(e.to_string()))?;
    }
    Ok(())
}

#[tauri::command]
pub async fn dev_apps(shell: State<'_, Shell>, args: ipc::DevApps) -> Out<ipc::DevApps> {
    shell.api().dev_apps(args.cursor.as_deref()).await
}

#[tauri::command]
pub async fn dev_register(
    shell: State<'_, Shell>,
    args: ipc::DevRegister,
) -> Out<ipc::DevRegister> {
    shell.api().dev_register(&args.app).await
}

#[tauri::command]
pub async fn dev_update(shell: State<'_, Shell>, args: ipc::DevUpdate) -> Out<ipc::DevUpdate> {
    shell.api().dev_update(&args.client_id, &args.patch).await
}

#[tauri::command]
pub async fn dev_rotate_secret(
    shell: State<'_, Shell>,
    args: ipc::DevRotateSecret,
) -> Out<ipc::DevRotateSecret> {
    shell.api().dev_rotate_secret(&args.client_id).await
}

#[tauri::command]
pub async fn dev_delete(shell: State<'_, Shell>, args: ipc::DevDelete) -> Out<ipc::DevDelete> {
    shell.api().dev_delete(&args.client_id).await
}

#[tauri::command]
pub async fn dev_deliveries(
    shell: State<'_, Shell>,
    args: ipc::DevDeliveries,
) -> Out<ipc::DevDeliveries> {
    shell.api().dev_deliveries(&args.client_id).await
}

/// Makes an undelivered notification due now; the server answers it as it now stands.
#[tauri::command]
pub async fn dev_retry_delivery(
    shell: State<'_, Shell>,
    args: ipc::DevRetryDelivery,
) -> Out<ipc::DevRetryDelivery> {
    let api = shell.api();
    api.dev_retry_delivery(&args.client_id, &args.event_id)
        .await
}
