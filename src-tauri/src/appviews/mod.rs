//! Each open app in a webview of its own, over the dashboard's content area.
//!
//! - **Top-level, first-party.** The app's launch URL (token in the fragment) is the webview's
//!   own document, so its cookies are first-party and `X-Frame-Options` does not apply.
//! - **One partition per install.** Each install's webview has its own data directory
//!   (`<app data>/partitions/<server>/<install id>`): cookies, localStorage and IndexedDB are
//!   never shared, not even by one app installed in two companies. Uninstalling deletes it.
//! - **No Tauri IPC.** The webviews are not Tauri's: no `__TAURI__`, no `__TAURI_INTERNALS__`,
//!   no `ipc://` scheme, no capability can name them ([`host`] says why). Their one channel to
//!   the shell is the app bridge ([`bridge`]): `window.atrium` with five typed calls
//!   (`ready`, `setBadge`, `notify`, `getSessionToken`, `openExternal`), accepted only from
//!   the script the shell injects (a key per webview), from a page at the app's origin, for
//!   the webview's own install, within a rate.
//! - **Held to the app's origin.** Navigation elsewhere, and `window.open`, go to the system
//!   browser, at most one link a second (a page looping over links opens no flood of tabs).
//! - **Hibernation.** An app hidden longer than the sleep time (default 10 minutes, see
//!   [`SleepSettings`]) and not pinned has its webview destroyed; [`AppAsleep`] tells the UI,
//!   and showing it again launches it afresh.
//!
//! This type keeps the bookkeeping (which apps are open, since when hidden, pinned); the
//! webviews themselves live on the GTK main thread in [`host`].

#[cfg(target_os = "linux")]
pub mod bridge;
mod channel;
#[cfg(target_os = "linux")]
mod host;

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use atrium_proto::ipc::{AppAsleep, SleepSettings, ViewRect};
use tauri::{AppHandle, Manager, Runtime};

use crate::error::Error;
use crate::shell::Shell;

/// Deleting an uninstalled app's partition: tries, each followed by a pause after which the
/// directory must still be gone.
const FORGET_ROUNDS: usize = 10;
const FORGET_SETTLE: Duration = Duration::from_millis(300);

/// Where the sleep time is kept, in the app data directory.
const SETTINGS_FILE: &str = "sleep.json";

/// The open apps, as the shell keeps track of them.
pub struct AppViews {
    /// Where the partitions live.
    root: PathBuf,
    settings_file: PathBuf,
    state: Mutex<State>,
    /// Wakes the hibernation loop when the sleep time changes.
    changed: tokio::sync::Notify,
}

#[derive(Default)]
struct State {
    /// Open installs: `None` while shown, else since when hidden.
    open: HashMap<i64, Option<Instant>>,
    pinned: HashSet<i64>,
    sleep_after: Duration,
}

impl AppViews {
    /// The open apps of a shell keeping its files in `app_data_dir`, with the sleep time
    /// saved there (or the default).
    pub fn new(app_data_dir: PathBuf) -> AppViews {
        let settings: SleepSettings = std::fs::read(app_data_dir.join(SETTINGS_FILE))
            .ok()
            .and_then(|json| serde_json::from_slice(&json).ok())
            .unwrap_or_default();
        AppViews {
            root: app_data_dir.join("partitions"),
            settings_file: app_data_dir.join(SETTINGS_FILE),
            state: Mutex::new(State {
                sleep_after: Duration::from_secs(settings.sleep_after_secs.max(1)),
                ..State::default()
            }),
            changed: tokio::sync::Notify::new(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The install's partition (its data directory) on the current server.
    pub fn partition(&self, shell: &Shell, install_id: i64) -> PathBuf {
        let server: String = shell
            .server_url_text()
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '.' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        self.root.join(server).join(install_id.to_string())
    }

    /// Shows the install's app at `rect`, launching it when it is not open; hides the others.
    /// With `path` (a notification's deep path), the app is launched afresh at that path, open
    /// or not (see [`with_deep_path`]).
    pub async fn show<R: Runtime>(
        &self,
        app: &AppHandle<R>,
        shell: &Shell,
        install_id: i64,
        rect: ViewRect,
        path: Option<&str>,
    ) -> Result<(), Error> {
        let window = main_window(app)?;
        if path.is_some() {
            self.close(app, install_id).await?;
        }
        let open = on_main(app, move || is_open(install_id)).await?;
        let new = if open {
            None
        } else {
            let launch = shell.api().launch(install_id).await?;
            let url = url::Url::parse(&launch.url)
                .map_err(|e| Error::Server(format!("the app's launch URL is not a URL: {e}")))?;
            if !matches!(url.scheme(), "http" | "https") {
                return Err(Error::Server("the app's launch URL is not http(s)".into()));
            }
            let url = match path {
                Some(path) => with_deep_path(url, path)?,
                None => url,
            };
            Some((url, self.partition(shell, install_id)))
        };
        show_on_main(app, window, install_id, new, rect).await?;
        let mut state = self.lock();
        let now = Instant::now();
        for (id, hidden) in state.open.iter_mut() {
            if *id != install_id && hidden.is_none() {
                *hidden = Some(now);
            }
        }
        state.open.insert(install_id, None);
        Ok(())
    }

    /// Moves the apps' webviews to `rect`.
    pub async fn place<R: Runtime>(&self, app: &AppHandle<R>, rect: ViewRect) -> Result<(), Error> {
        on_main(app, move || place_all(rect)).await
    }

    /// Hides every app.
    pub async fn hide<R: Runtime>(&self, app: &AppHandle<R>) -> Result<(), Error> {
        on_main(app, hide_all).await?;
        let now = Instant::now();
        for hidden in self.lock().open.values_mut() {
            hidden.get_or_insert(now);
        }
        Ok(())
    }

    /// Destroys the install's webview.
    pub async fn close<R: Runtime>(
        &self,
        app: &AppHandle<R>,
        install_id: i64,
    ) -> Result<(), Error> {
        self.lock().open.remove(&install_id);
        on_main(app, move || close(install_id)).await
    }

    /// Destroys every app's webview.
    pub async fn close_all<R: Runtime>(&self, app: &AppHandle<R>) -> Result<(), Error> {
        self.lock().open.clear();
        on_main(app, close_all).await
    }

    /// Closes the install's webview and deletes its partition (it was uninstalled).
    pub async fn forget<R: Runtime>(
        &self,
        app: &AppHandle<R>,
        shell: &Shell,
        install_id: i64,
    ) -> Result<(), Error> {
        self.close(app, install_id).await?;
        let dir = self.partition(shell, install_id);
        // The webview's WebKit processes end after it is dropped, not with it: the network
        // process may still write the partition (cookies flushed as the session ends) while
        // or after it is deleted, failing the deletion or making the directory again. So
        // delete until it stays gone for a moment, within a few seconds.
        let mut last = None;
        for _ in 0..FORGET_ROUNDS {
            match std::fs::remove_dir_all(&dir) {
                Ok(()) => last = None,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => last = None,
                Err(e) => last = Some(e),
            }
            tokio::time::sleep(FORGET_SETTLE).await;
            if last.is_none() && !dir.exists() {
                return Ok(());
            }
        }
        Err(Error::Internal(format!(
            "cannot delete the app's data ({}): {}",
            dir.display(),
            last.map_or_else(|| "its processes keep writing it".into(), |e| e.to_string())
        )))
    }

    pub fn pin(&self, install_id: i64, pinned: bool) {
        let mut state = self.lock();
        if pinned {
            state.pinned.insert(install_id);
        } else {
            state.pinned.remove(&install_id);
        }
    }

    pub fn settings(&self) -> SleepSettings {
        SleepSettings {
            sleep_after_secs: self.lock().sleep_after.as_secs(),
        }
    }

    pub fn set_settings(&self, settings: SleepSettings) -> Result<SleepSettings, Error> {
        if settings.sleep_after_secs == 0 {
            return Err(Error::Invalid(
                "apps must stay awake for at least a second".into(),
            ));
        }
        let json =
            serde_json::to_vec_pretty(&settings).map_err(|e| Error::Internal(e.to_string()))?;
        std::fs::write(&self.settings_file, json)
            .map_err(|e| Error::Internal(format!("cannot save the settings: {e}")))?;
        self.lock().sleep_after = Duration::from_secs(settings.sleep_after_secs);
        self.changed.notify_one();
        Ok(settings)
    }

    /// The hidden, unpinned apps hidden for longer than the sleep time (all of them, with
    /// `now_all`).
    fn due(&self, now: Instant, now_all: bool) -> Vec<i64> {
        let state = self.lock();
        state
            .open
            .iter()
            .filter(|(id, hidden)| {
                !state.pinned.contains(*id)
                    && hidden.is_some_and(|since| now_all || now - since >= state.sleep_after)
            })
            .map(|(id, _)| *id)
            .collect()
    }

    /// Puts the apps due to sleep to sleep (every hidden unpinned app, with `now_all`).
    pub async fn sleep_due<R: Runtime>(&self, app: &AppHandle<R>, now_all: bool) {
        for install_id in self.due(Instant::now(), now_all) {
            if self.close(app, install_id).await.is_ok() {
                tracing::info!(install = install_id, "app asleep");
                crate::emit(app, AppAsleep { install_id });
            }
        }
    }

    /// How often to look for apps due to sleep.
    fn tick(&self) -> Duration {
        (self.lock().sleep_after / 10).clamp(Duration::from_secs(1), Duration::from_secs(30))
    }
}

/// The launch URL `url` (`...#atrium_launch=<JWT>`) asking the app to show `path` once
/// launched: `&atrium_path=<path, percent-encoded>` joins the fragment, so the path travels
/// with the token and, like it, never reaches a server's logs. An app that knows the
/// parameter goes there after its launch (the sample app answers its launch with a redirect to
/// it); one that does not just opens as usual. `path` must be a path of the app's own origin
/// (`/...`, not `//host`), as the server checks when the notification is posted.
pub fn with_deep_path(mut url: url::Url, path: &str) -> Result<url::Url, Error> {
    if !path.starts_with('/') || path.starts_with("//") || path.contains('\\') {
        return Err(Error::Invalid(format!("{path:?} is not a path of the app")));
    }
    let encoded: String = url::form_urlencoded::byte_serialize(path.as_bytes()).collect();
    let fragment = match url.fragment() {
        Some(f) if !f.is_empty() => format!("{f}&atrium_path={encoded}"),
        _ => format!("atrium_path={encoded}"),
    };
    url.set_fragment(Some(&fragment));
    Ok(url)
}

/// Puts apps to sleep when they are due, for as long as the app runs.
pub fn spawn_hibernation<R: Runtime>(app: AppHandle<R>) {
    tauri::async_runtime::spawn(async move {
        loop {
            let Some(views) = app.try_state::<AppViews>() else {
                return;
            };
            let tick = views.tick();
            views.sleep_due(&app, false).await;
            tokio::select! {
                _ = tokio::time::sleep(tick) => {}
                _ = views.changed.notified() => {}
            }
        }
    });
}

fn main_window<R: Runtime>(app: &AppHandle<R>) -> Result<tauri::WebviewWindow<R>, Error> {
    app.get_webview_window("main")
        .ok_or_else(|| Error::Internal("the dashboard's window is gone".into()))
}

#[cfg(target_os = "linux")]
use host::{close, close_all, hide_all, is_open, on_main, place_all};

#[cfg(target_os = "linux")]
async fn show_on_main<R: Runtime>(
    app: &AppHandle<R>,
    window: tauri::WebviewWindow<R>,
    install_id: i64,
    new: Option<(url::Url, PathBuf)>,
    rect: ViewRect,
) -> Result<(), Error> {
    on_main(app, move || {
        let new = new.map(|(url, data_dir)| host::NewView {
            install_id,
            url,
            data_dir,
            rect,
        });
        host::show(&window, install_id, new, rect)
    })
    .await?
}

// Elsewhere the apps cannot be opened yet: Tauri's own child webviews would give them IPC.
#[cfg(not(target_os = "linux"))]
async fn on_main<R: Runtime, T: Send + 'static>(
    _app: &AppHandle<R>,
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, Error> {
    Ok(f())
}
#[cfg(not(target_os = "linux"))]
fn is_open(_: i64) -> bool {
    false
}
#[cfg(not(target_os = "linux"))]
fn place_all(_: ViewRect) {}
#[cfg(not(target_os = "linux"))]
fn hide_all() {}
#[cfg(not(target_os = "linux"))]
fn close(_: i64) {}
#[cfg(not(target_os = "linux"))]
fn close_all() {}
#[cfg(not(target_os = "linux"))]
async fn show_on_main<R: Runtime>(
    _: &AppHandle<R>,
    _: tauri::WebviewWindow<R>,
    _: i64,
    _: Option<(url::Url, PathBuf)>,
    _: ViewRect,
) -> Result<(), Error> {
    Err(Error::Internal(
        "apps open in their own webview on Linux only, for now".into(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_deep_path_joins_the_launch_fragment_encoded_and_must_be_the_apps_own() {
        let launch = url::Url::parse("https://app.example/ui/#atrium_launch=abc").unwrap();
        let url = with_deep_path(launch.clone(), "/orders/42?tab=a&b=#x").unwrap();
        assert_eq!(
            url.as_str(),
            "https://app.example/ui/#atrium_launch=abc&atrium_path=%2Forders%2F42%3Ftab%3Da%26b%3D%23x"
        );
        for bad in ["orders", "//evil.example/x", "/\\evil"] {
            assert!(with_deep_path(launch.clone(), bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn only_hidden_unpinned_apps_past_the_sleep_time_are_due() {
        let dir = tempfile::tempdir().unwrap();
        let views = AppViews::new(dir.path().to_path_buf());
        views
            .set_settings(SleepSettings {
                sleep_after_secs: 60,
            })
            .unwrap();
        assert_eq!(
            AppViews::new(dir.path().to_path_buf())
                .settings()
                .sleep_after_secs,
            60
        );
        let now = Instant::now();
        {
            let mut s = views.lock();
            s.open.insert(1, None);
            s.open.insert(2, Some(now - Duration::from_secs(61)));
            s.open.insert(3, Some(now - Duration::from_secs(10)));
            s.open.insert(4, Some(now - Duration::from_secs(600)));
        }
        views.pin(4, true);
        assert_eq!(views.due(now, false), vec![2]);
        let mut all = views.due(now, true);
        all.sort();
        assert_eq!(all, vec![2, 3]);
        assert!(views
            .set_settings(SleepSettings {
                sleep_after_secs: 0
            })
            .is_err());
    }
}
