//! `atrium://` deep links, from a second `atrium` process (forwarded by the single-instance
//! plugin), a cold start, or a navigation intercepted in the redirect window.
//!
//! - `atrium://oauth/callback?code=...&state=...&iss=...` finishes sign-in; one whose `state`
//!   is not the pending request's is ignored, and the sign-in in progress goes on;
//! - `atrium://signed-out?state=...` says the browser finished signing out (see
//!   [`crate::sign_out`]); the UI is told only when its `state` is the pending sign-out's, and
//!   it changes no session either way, so a forged one can do no harm;
//! - `atrium://install-complete?...&state=...` tells the UI that the pending install's app has
//!   finished its side. It is a hint only — any local program can open such a link — so the UI
//!   re-reads the install from the server before it shows or opens anything.

use atrium_proto::ipc::{InstallComplete, SessionChanged, SignInFailed, SignedOutInBrowser};
use tauri::{AppHandle, Manager, Runtime};
use url::Url;

use crate::emit;
use crate::shell::{Shell, SignInAnswer};
use crate::windows::PendingInstall;

pub fn handle<R: Runtime>(app: &AppHandle<R>, url: Url) {
    if url.scheme() != "atrium" {
        return;
    }
    let kind = format!("{}{}", url.host_str().unwrap_or(""), url.path());
    tracing::info!(%kind, "deep link received");
    match kind.as_str() {
        "oauth/callback" => {
            let app = app.clone();
            tauri::async_runtime::spawn(async move {
                let shell = app.state::<Shell>();
                match shell.complete_sign_in(&url).await {
                    Ok(SignInAnswer::SignedIn) => {
                        emit(&app, SessionChanged { signed_in: true });
                    }
                    // A link anyone could have opened: the sign-in in progress goes on.
                    Ok(SignInAnswer::Ignored) => {
                        tracing::warn!(
                            "ignoring a sign-in callback that matches no pending sign-in"
                        );
                        return;
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "sign-in failed");
                        let message = e.to_string();
                        emit(&app, SignInFailed { message });
                    }
                }
                if let Some(w) = app.get_webview_window("main") {
                    let _ = w.set_focus();
                }
            });
        }
        "signed-out" | "signed-out/" => {
            let answered = app
                .try_state::<Shell>()
                .is_some_and(|shell| shell.complete_sign_out(&url));
            if answered {
                emit(app, SignedOutInBrowser {});
                if let Some(w) = app.get_webview_window("main") {
                    let _ = w.set_focus();
                }
            } else {
                tracing::warn!("ignoring a signed-out link that matches no pending sign-out");
            }
        }
        "install-complete" | "install-complete/" => {
            let state = url
                .query_pairs()
                .find(|(k, _)| k == "state")
                .map(|(_, v)| v.into_owned());
            let pending = app
                .try_state::<PendingInstall>()
                .and_then(|p| p.0.lock().unwrap_or_else(|e| e.into_inner()).clone());
            match pending {
                Some((install_id, expected)) if state.as_deref() == Some(expected.as_str()) => {
                    emit(app, InstallComplete { install_id });
                }
                _ => tracing::warn!(
                    "ignoring an install-complete link that matches no pending install"
                ),
            }
            if let Some(w) = app.get_webview_window("main") {
                let _ = w.set_focus();
            }
        }
        _ => tracing::warn!(%kind, "unknown deep link"),
    }
}
