//! The window in which an app's redirect step runs during an install (its CODE or TOKEN
//! callback page). It shows the app's own pages, so it has no capability and no IPC; it gets an
//! ephemeral cookie store; and when the app sends it to `atrium://...`, the shell takes the URL
//! as a deep link and closes the window.

use std::sync::Mutex;

use tauri::{AppHandle, Manager, Runtime, WebviewUrl, WebviewWindowBuilder};
use url::Url;

use crate::error::Error;

pub const REDIRECT_WINDOW: &str = "app-redirect";

/// The install waiting for its `atrium://install-complete`.
#[derive(Default)]
pub struct PendingInstall(pub Mutex<Option<(i64, String)>>);

pub fn open_redirect<R: Runtime>(
    app: &AppHandle<R>,
    url: &str,
    install_id: i64,
    state: String,
) -> Result<(), Error> {
    let target = Url::parse(url)
        .map_err(|e| Error::Server(format!("the app's redirect is not a URL: {e}")))?;
    if let Some(p) = app.try_state::<PendingInstall>() {
        *p.0.lock().unwrap_or_else(|e| e.into_inner()) = Some((install_id, state));
    }
    if let Some(old) = app.get_webview_window(REDIRECT_WINDOW) {
        let _ = old.destroy();
    }
    let handle = app.clone();
    WebviewWindowBuilder::new(app, REDIRECT_WINDOW, WebviewUrl::External(target))
        .title("Finishing the install…")
        .inner_size(720.0, 560.0)
        .incognito(true)
        .on_navigation(move |next| {
            if next.scheme() == "atrium" {
                crate::deep_link::handle(&handle, next.clone());
                let h = handle.clone();
                tauri::async_runtime::spawn(async move {
                    if let Some(w) = h.get_webview_window(REDIRECT_WINDOW) {
                        let _ = w.destroy();
                    }
                });
                return false;
            }
            matches!(next.scheme(), "http" | "https")
        })
        .build()
        .map_err(|e| Error::Internal(format!("cannot open the app's page: {e}")))?;
    Ok(())
}
