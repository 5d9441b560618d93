//! Tauri commands: the UI's only way to reach the server. Each is a few lines over [`Shell`].

use atrium_proto::dashboard::{
    AppCreated, AppPatch, AppView, CatalogApp, CompanyView, ConsentView, DeliveryView,
    InstallRequest, InstallView, InvitationSent, InvitationView, LaunchView, Me, MemberView,
    NewApp, NewCompany, NewInvitation, Page, SecretRotated,
};
use atrium_proto::{Health, HealthState, ServerStatus};
use reqwest::Method;
use serde::Serialize;
use tauri::{AppHandle, Emitter, Runtime, State};

use crate::error::{from_http, Error};
use crate::shell::{Fetched, Shell};

type Res<T> = Result<T, Error>;

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
pub fn dashboard_shown(startup: State<'_, Startup>) {
    use std::sync::atomic::Ordering;
    if !startup.shown.swap(true, Ordering::Relaxed) {
        let ms = startup.at.elapsed().as_millis() as u64;
        tracing::info!(since_start_ms = ms, "dashboard shown");
    }
}

/// The configured server and whether it answers its health check.
#[tauri::command]
pub async fn server_status(shell: State<'_, Shell>) -> Res<ServerStatus> {
    let url = shell.server_url();
    let probe = async {
        let res = shell
            .http()
            .get(
                url.join("healthz")
                    .map_err(|e| Error::Internal(e.to_string()))?,
            )
            .send()
            .await
            .map_err(from_http)?;
        if !res.status().is_success() {
            return Err(Error::Offline(format!(
                "the server answered {}",
                res.status()
            )));
        }
        res.json::<Health>()
            .await
            .map_err(|_| Error::Offline("the answer is not an Atrium health report".into()))
    };
    let health = match probe.await {
        Ok(h) if h.status == "ok" => HealthState::Healthy { version: h.version },
        Ok(h) => HealthState::Unreachable {
            reason: format!("the server reports status {:?}", h.status),
        },
        Err(Error::Offline(reason)) => HealthState::Unreachable { reason },
        Err(e) => HealthState::Unreachable {
            reason: e.to_string(),
        },
    };
    Ok(ServerStatus {
        url: url.as_str().trim_end_matches('/').to_string(),
        health,
    })
}

/// Whether a user is signed in, and to which server.
#[derive(Debug, Clone, Serialize)]
pub struct SessionState {
    pub signed_in: bool,
    pub server_url: String,
}

#[tauri::command]
pub async fn session_state(shell: State<'_, Shell>) -> Res<SessionState> {
    Ok(SessionState {
        signed_in: shell.signed_in().await,
        server_url: shell
            .server_url()
            .as_str()
            .trim_end_matches('/')
            .to_string(),
    })
}

#[tauri::command]
pub async fn set_server_url<R: Runtime>(
    app: AppHandle<R>,
    shell: State<'_, Shell>,
    url: String,
) -> Res<String> {
    let url = shell.set_server_url(&url).await?;
    let _ = app.emit("session-changed", false);
    Ok(url.as_str().trim_end_matches('/').to_string())
}

/// Opens the system browser at the server's sign-in page; the answer comes back as a deep
/// link. Returns the URL, for the UI to show if no browser opens.
#[tauri::command]
pub async fn sign_in(shell: State<'_, Shell>) -> Res<String> {
    let url = shell.begin_sign_in()?;
    crate::browser::open(url.as_str())?;
    Ok(url.to_string())
}

#[tauri::command]
pub async fn sign_out<R: Runtime>(app: AppHandle<R>, shell: State<'_, Shell>) -> Res<()> {
    shell.sign_out().await;
    let _ = app.emit("session-changed", false);
    Ok(())
}

#[tauri::command]
pub async fn me(shell: State<'_, Shell>) -> Res<Fetched<Me>> {
    shell.fetch("api/dashboard/me").await
}

/// `path` asking for the page after `cursor` (the first page without one). Each page is
/// cached on its own, so the offline view shows the pages the user had loaded.
fn paged(path: &str, cursor: Option<&str>) -> String {
    match cursor.filter(|c| !c.is_empty()) {
        Some(c) => format!("{path}?cursor={}", urlencode(c)),
        None => path.to_string(),
    }
}

/// A page of the catalog; `cursor` is the previous page's `next_cursor`.
#[tauri::command]
pub async fn catalog(
    shell: State<'_, Shell>,
    cursor: Option<String>,
) -> Res<Fetched<Page<CatalogApp>>> {
    shell
        .fetch(&paged("api/dashboard/catalog", cursor.as_deref()))
        .await
}

#[tauri::command]
pub async fn companies(
    shell: State<'_, Shell>,
    cursor: Option<String>,
) -> Res<Fetched<Page<CompanyView>>> {
    shell
        .fetch(&paged("api/dashboard/companies", cursor.as_deref()))
        .await
}

#[tauri::command]
pub async fn create_company(shell: State<'_, Shell>, name: String) -> Res<CompanyView> {
    shell
        .call(
            Method::POST,
            "api/dashboard/companies",
            Some(&NewCompany { name }),
        )
        .await
}

#[tauri::command]
pub async fn company_members(
    shell: State<'_, Shell>,
    company_id: i64,
    cursor: Option<String>,
) -> Res<Fetched<Page<MemberView>>> {
    shell
        .fetch(&paged(
            &format!("api/dashboard/companies/{company_id}/members"),
            cursor.as_deref(),
        ))
        .await
}

/// Invites a user by username into a company (owners). The answer is the same whether or not
/// the user exists; they join only when they accept.
#[tauri::command]
pub async fn invite_member(
    shell: State<'_, Shell>,
    company_id: i64,
    username: String,
    role: String,
) -> Res<InvitationSent> {
    shell
        .call(
            Method::POST,
            &format!("api/dashboard/companies/{company_id}/invitations"),
            Some(&NewInvitation {
                username,
                role: Some(role),
            }),
        )
        .await
}

/// A company's pending invitations (owners).
#[tauri::command]
pub async fn company_invitations(
    shell: State<'_, Shell>,
    company_id: i64,
) -> Res<Vec<InvitationView>> {
    shell
        .call::<(), _>(
            Method::GET,
            &format!("api/dashboard/companies/{company_id}/invitations"),
            None,
        )
        .await
}

#[tauri::command]
pub async fn revoke_invitation(
    shell: State<'_, Shell>,
    company_id: i64,
    invitation_id: i64,
) -> Res<()> {
    shell
        .call::<(), serde_json::Value>(
            Method::DELETE,
            &format!("api/dashboard/companies/{company_id}/invitations/{invitation_id}"),
            None,
        )
        .await
        .map(|_| ())
}

/// The signed-in user's pending invitations.
#[tauri::command]
pub async fn my_invitations(shell: State<'_, Shell>) -> Res<Vec<InvitationView>> {
    shell
        .call::<(), _>(Method::GET, "api/dashboard/invitations", None)
        .await
}

/// Accepts an invitation: answers the company joined, with the role now held.
#[tauri::command]
pub async fn accept_invitation(shell: State<'_, Shell>, invitation_id: i64) -> Res<CompanyView> {
    shell
        .call::<(), _>(
            Method::POST,
            &format!("api/dashboard/invitations/{invitation_id}/accept"),
            None,
        )
        .await
}

#[tauri::command]
pub async fn decline_invitation(shell: State<'_, Shell>, invitation_id: i64) -> Res<()> {
    shell
        .call::<(), serde_json::Value>(
            Method::POST,
            &format!("api/dashboard/invitations/{invitation_id}/decline"),
            None,
        )
        .await
        .map(|_| ())
}

/// Leaves a company (refused for its last owner).
#[tauri::command]
pub async fn leave_company(shell: State<'_, Shell>, company_id: i64) -> Res<()> {
    shell
        .call::<(), serde_json::Value>(
            Method::DELETE,
            &format!("api/dashboard/companies/{company_id}/membership"),
            None,
        )
        .await
        .map(|_| ())
}

#[tauri::command]
pub async fn company_installs(
    shell: State<'_, Shell>,
    company_id: i64,
    cursor: Option<String>,
) -> Res<Fetched<Page<InstallView>>> {
    shell
        .fetch(&paged(
            &format!("api/dashboard/companies/{company_id}/installs"),
            cursor.as_deref(),
        ))
        .await
}

#[tauri::command]
pub async fn consent(
    shell: State<'_, Shell>,
    client_id: String,
    company_id: i64,
) -> Res<ConsentView> {
    shell
        .call::<(), _>(
            Method::GET,
            &format!(
                "api/dashboard/apps/{}/consent?company_id={company_id}",
                urlencode(&client_id)
            ),
            None,
        )
        .await
}

/// An app with an install URL asks for consent itself: open that URL (as the server lists it,
/// never one from the webview) in the system browser, with `iss` naming this server (OpenID
/// Connect's third-party-initiated login), where the user is signed in. The app then starts its
/// own authorization request, with its own PKCE and `state`.
#[tauri::command]
pub async fn install_via_url(
    shell: State<'_, Shell>,
    client_id: String,
    company_id: i64,
) -> Res<()> {
    let view = consent(shell.clone(), client_id, company_id).await?;
    let Some(raw) = view.app.install_url else {
        return Err(Error::Invalid(format!(
            "{} has no install URL; install it from the catalog",
            view.app.name
        )));
    };
    let mut url = url::Url::parse(&raw)
        .map_err(|e| Error::Server(format!("the app's install URL is not a URL: {e}")))?;
    url.query_pairs_mut()
        .append_pair("iss", shell.server_url().as_str().trim_end_matches('/'));
    crate::browser::open(url.as_str())
}

/// The user allowed the install: the server records it and answers the app's redirect, which
/// runs in a window of its own (no IPC there); the app finishes at `atrium://install-complete`.
#[tauri::command]
pub async fn install_app<R: Runtime>(
    app: AppHandle<R>,
    shell: State<'_, Shell>,
    client_id: String,
    company_id: i64,
) -> Res<InstallView> {
    let state = crate::browser::random_state();
    let answer: atrium_proto::dashboard::InstallAnswer = shell
        .call(
            Method::POST,
            "api/dashboard/installs",
            Some(&InstallRequest {
                client_id,
                company_id,
                state: Some(state.clone()),
                ..InstallRequest::default()
            }),
        )
        .await?;
    crate::windows::open_redirect(&app, &answer.redirect_to, answer.install.id, state)?;
    Ok(answer.install)
}

#[tauri::command]
pub async fn get_install(shell: State<'_, Shell>, install_id: i64) -> Res<InstallView> {
    shell
        .call::<(), _>(
            Method::GET,
            &format!("api/dashboard/installs/{install_id}"),
            None,
        )
        .await
}

#[tauri::command]
pub async fn uninstall(shell: State<'_, Shell>, install_id: i64) -> Res<InstallView> {
    shell
        .call::<(), _>(
            Method::DELETE,
            &format!("api/dashboard/installs/{install_id}"),
            None,
        )
        .await
}

#[tauri::command]
pub async fn launch(shell: State<'_, Shell>, install_id: i64) -> Res<LaunchView> {
    shell
        .call::<(), _>(
            Method::POST,
            &format!("api/dashboard/installs/{install_id}/launch"),
            None,
        )
        .await
}

#[tauri::command]
pub async fn dev_apps(
    shell: State<'_, Shell>,
    cursor: Option<String>,
) -> Res<Fetched<Page<AppView>>> {
    shell
        .fetch(&paged("api/developer/apps", cursor.as_deref()))
        .await
}

#[tauri::command]
pub async fn dev_register(shell: State<'_, Shell>, app: NewApp) -> Res<AppCreated> {
    shell
        .call(Method::POST, "api/developer/apps", Some(&app))
        .await
}

#[tauri::command]
pub async fn dev_update(
    shell: State<'_, Shell>,
    client_id: String,
    patch: AppPatch,
) -> Res<AppView> {
    shell
        .call(
            Method::PATCH,
            &format!("api/developer/apps/{}", urlencode(&client_id)),
            Some(&patch),
        )
        .await
}

#[tauri::command]
pub async fn dev_rotate_secret(shell: State<'_, Shell>, client_id: String) -> Res<SecretRotated> {
    shell
        .call::<(), _>(
            Method::POST,
            &format!("api/developer/apps/{}/secret", urlencode(&client_id)),
            None,
        )
        .await
}

#[tauri::command]
pub async fn dev_delete(shell: State<'_, Shell>, client_id: String) -> Res<()> {
    shell
        .call::<(), serde_json::Value>(
            Method::DELETE,
            &format!("api/developer/apps/{}", urlencode(&client_id)),
            None,
        )
        .await
        .map(|_| ())
}

#[tauri::command]
pub async fn dev_deliveries(shell: State<'_, Shell>, client_id: String) -> Res<Vec<DeliveryView>> {
    shell
        .call::<(), _>(
            Method::GET,
            &format!("api/developer/apps/{}/deliveries", urlencode(&client_id)),
            None,
        )
        .await
}

/// Makes an undelivered notification due now; the server answers it as it now stands.
#[tauri::command]
pub async fn dev_retry_delivery(
    shell: State<'_, Shell>,
    client_id: String,
    event_id: String,
) -> Res<DeliveryView> {
    shell
        .call::<(), _>(
            Method::POST,
            &format!(
                "api/developer/apps/{}/deliveries/{}/retry",
                urlencode(&client_id),
                urlencode(&event_id)
            ),
            None,
        )
        .await
}

fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}
