//! The system's notifications. On Linux: the freedesktop notification service
//! (`org.freedesktop.Notifications` on the session bus), spoken to directly with `zbus`.
//!
//! Why not Tauri's notification plugin: on Linux it hands the notification to `notify-rust`
//! from a task of its own and drops the handle, so a click never comes back to the app (its
//! `show()` answers nothing; actions are a mobile-only API). Atrium needs the click: it opens
//! the app at the notification's deep path. So the shell asks for a `default` action in
//! `Notify` and listens for the service's `ActionInvoked` and `NotificationClosed` signals
//! itself. `zbus` is already in the desktop (the single-instance plugin uses it), so this adds
//! no dependency.
//!
//! A click marks the notification read, brings the dashboard's window forward and emits
//! [`OpenNotification`]: the UI shows that company and that app, launched afresh at the path.
//! The body is sent with `<`, `>` and `&` escaped, as a service that understands markup would
//! otherwise render an app's text as links or images. Without a notification service (no
//! session bus, no daemon), notifications are listed in the dashboard only.

use std::collections::HashMap;
use std::sync::Mutex;

use atrium_proto::inbox::NotificationView;
use atrium_proto::ipc::OpenNotification;
use tauri::{AppHandle, Manager, Runtime};

/// A native notification on screen: what its click opens.
#[derive(Debug, Clone)]
struct Shown {
    id: i64,
    install_id: i64,
    company_id: i64,
    path: Option<String>,
}

#[derive(Default)]
pub struct Native {
    #[cfg(target_os = "linux")]
    bus: tokio::sync::Mutex<Option<zbus::Proxy<'static>>>,
    /// By the service's id.
    shown: Mutex<HashMap<u32, Shown>>,
}

/// `text` for a notification body: the markup of the freedesktop specification escaped.
pub fn escape_markup(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            _ => out.push(c),
        }
    }
    out
}

impl Native {
    fn shown(&self) -> std::sync::MutexGuard<'_, HashMap<u32, Shown>> {
        self.shown.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The service's ids of the native notifications of these notifications (all, with None);
    /// forgotten here.
    fn take(&self, ids: Option<&[i64]>) -> Vec<u32> {
        let mut shown = self.shown();
        let keys: Vec<u32> = shown
            .iter()
            .filter(|(_, s)| ids.is_none_or(|ids| ids.contains(&s.id)))
            .map(|(k, _)| *k)
            .collect();
        for k in &keys {
            shown.remove(k);
        }
        keys
    }

    /// Withdraws the native notifications of these notifications (read in the dashboard).
    pub async fn withdraw(&self, ids: &[i64]) {
        let keys = self.take(Some(ids));
        self.close(keys).await;
    }

    /// Withdraws every native notification (the session ended).
    pub async fn withdraw_all(&self) {
        let keys = self.take(None);
        self.close(keys).await;
    }
}

#[cfg(target_os = "linux")]
impl Native {
    const SERVICE: &'static str = "org.freedesktop.Notifications";
    const PATH: &'static str = "/org/freedesktop/Notifications";

    /// The service's proxy, connecting (and starting to listen for clicks) the first time.
    async fn proxy<R: Runtime>(&self, app: &AppHandle<R>) -> Option<zbus::Proxy<'static>> {
        let mut bus = self.bus.lock().await;
        if let Some(p) = bus.as_ref() {
            return Some(p.clone());
        }
        let connected = async {
            let conn = zbus::Connection::session().await?;
            let proxy = zbus::Proxy::new(&conn, Self::SERVICE, Self::PATH, Self::SERVICE).await?;
            // One stream for both signals, in the order the service sent them: a click is
            // `ActionInvoked` then `NotificationClosed`, and read from two streams the second
            // could be taken first and forget the notification before its click was seen.
            let signals = proxy.receive_all_signals().await?;
            Ok::<_, zbus::Error>((proxy, signals))
        };
        match connected.await {
            Ok((proxy, signals)) => {
                tauri::async_runtime::spawn(listen(app.clone(), signals));
                *bus = Some(proxy.clone());
                Some(proxy)
            }
            Err(e) => {
                tracing::info!(error = %e, "no session bus: notifications show in the dashboard only");
                None
            }
        }
    }

    /// Shows `n` as a native notification whose default action opens it.
    pub async fn show<R: Runtime>(&self, app: &AppHandle<R>, n: &NotificationView) {
        let Some(proxy) = self.proxy(app).await else {
            return;
        };
        let summary = format!("{}: {}", n.app_name, n.title);
        let body = escape_markup(&n.body);
        let actions = vec!["default", "Open"];
        let hints: HashMap<&str, zbus::zvariant::Value<'_>> = HashMap::new();
        let args = (
            "Atrium",
            0u32,
            "",
            summary.as_str(),
            body.as_str(),
            actions,
            hints,
            -1i32,
        );
        match proxy.call::<_, _, u32>("Notify", &args).await {
            Ok(key) => {
                self.shown().insert(
                    key,
                    Shown {
                        id: n.id,
                        install_id: n.install_id,
                        company_id: n.company_id,
                        path: n.path.clone(),
                    },
                );
            }
            Err(e) => tracing::info!(error = %e, "the notification service refused a notification"),
        }
    }

    async fn close(&self, keys: Vec<u32>) {
        let Some(proxy) = self.bus.lock().await.clone() else {
            return;
        };
        for key in keys {
            let _ = proxy.call::<_, _, ()>("CloseNotification", &(key,)).await;
        }
    }
}

#[cfg(not(target_os = "linux"))]
impl Native {
    /// Elsewhere, notifications are listed in the dashboard only, for now.
    pub async fn show<R: Runtime>(&self, _app: &AppHandle<R>, _n: &NotificationView) {}

    async fn close(&self, _keys: Vec<u32>) {}
}

/// Follows the service's signals, in order, for as long as the connection lasts.
#[cfg(target_os = "linux")]
async fn listen<R: Runtime>(app: AppHandle<R>, mut signals: zbus::proxy::SignalStream<'static>) {
    use futures_lite::StreamExt;
    while let Some(msg) = signals.next().await {
        let header = msg.header();
        match header.member().map(|m| m.as_str()) {
            Some("ActionInvoked") => {
                let Ok((key, action)) = msg.body().deserialize::<(u32, String)>() else {
                    continue;
                };
                let shown = app.state::<super::Inbox>().native.shown().remove(&key);
                if let (Some(shown), "default") = (shown, action.as_str()) {
                    clicked(&app, shown).await;
                }
            }
            Some("NotificationClosed") => {
                if let Ok((key, _reason)) = msg.body().deserialize::<(u32, u32)>() {
                    app.state::<super::Inbox>().native.shown().remove(&key);
                }
            }
            _ => {}
        }
    }
}

/// The user clicked a notification: it is read, and its app opens at its path.
#[cfg(target_os = "linux")]
async fn clicked<R: Runtime>(app: &AppHandle<R>, shown: Shown) {
    tracing::info!(
        notification = shown.id,
        install = shown.install_id,
        "notification clicked"
    );
    let shell = app.state::<crate::shell::Shell>();
    if let Err(e) = shell.api().mark_read(vec![shown.id]).await {
        tracing::info!(error = %e, "cannot mark a clicked notification read");
    }
    if let Some(window) = app.get_webview_window("main") {
        let _ = window.unminimize();
        let _ = window.show();
        let _ = window.set_focus();
    }
    crate::emit(
        app,
        OpenNotification {
            id: shown.id,
            install_id: shown.install_id,
            company_id: shown.company_id,
            path: shown.path,
        },
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_apps_text_cannot_bring_markup() {
        assert_eq!(
            escape_markup("<a href=\"x\">A & B</a>"),
            "&lt;a href=\"x\"&gt;A &amp; B&lt;/a&gt;"
        );
    }
}
