//! The apps' webviews themselves, on Linux (WebKitGTK). Everything here runs on the GTK main
//! thread: the webviews live in a thread-local, reached through [`on_main`].
//!
//! Why not Tauri's own multiwebview (`Window::add_child`, `unstable` feature)? Two reasons,
//! both in Tauri 2.12's source: on Linux it packs each child webview into the window's
//! vertical `gtk::Box`, so the position given is ignored and the dashboard and the app split
//! the window between them (tauri-apps/tauri#10420, fixes still open); and every webview Tauri
//! creates gets its initialization scripts, `window.__TAURI_INTERNALS__` (and `__TAURI__`) and
//! the `ipc://` scheme among them, which an app's page must never see. So the apps' webviews
//! are made with wry directly (the same wry Tauri uses): no custom scheme, no Tauri command,
//! no wry IPC, each with its own `WebContext` over its own data directory. Their only script
//! and message handler are the app bridge's ([`super::bridge`], [`super::channel`]): the
//! handler of each webview knows its install and its [`Gate`], and answers each message
//! through the promise the page's `postMessage` returned.
//!
//! Placement: once, the dashboard's webview is moved into a `gtk::Overlay` whose overlay layer
//! is a pass-through `gtk::Fixed`; the apps' webviews are put in that `Fixed` at the
//! rectangle the dashboard reports, so they float over its content area and follow it.

use std::cell::RefCell;
use std::collections::HashMap;
use std::path::PathBuf;

use atrium_proto::ipc::ViewRect;
use gtk::prelude::*;
use tauri::{AppHandle, Manager, Runtime, WebviewWindow};
use url::{Origin, Url};
use wry::dpi::{LogicalPosition, LogicalSize};
use wry::{
    NewWindowResponse, WebContext, WebView, WebViewBuilder, WebViewBuilderExtUnix, WebViewExtUnix,
};

use super::bridge::{self, Gate, Turned};
use super::channel;
use crate::error::Error;

thread_local! {
    static HOST: RefCell<Option<Host>> = const { RefCell::new(None) };
}

/// The layer the apps' webviews float in, and them.
struct Host {
    /// The dashboard's own webview, which gets the keyboard back when the apps hide.
    dashboard: Option<gtk::Widget>,
    fixed: gtk::Fixed,
    views: HashMap<i64, AppWebview>,
}

struct AppWebview {
    webview: WebView,
    /// Kept with its webview: the app's partition (cookies, storage, cache).
    _context: WebContext,
}

/// What a new app webview is made of.
pub struct NewView {
    pub install_id: i64,
    /// The launch URL (the launch token is in its fragment).
    pub url: Url,
    pub data_dir: PathBuf,
    pub rect: ViewRect,
}

/// Runs `f` on the GTK main thread and answers its result.
pub async fn on_main<R: Runtime, T: Send + 'static>(
    app: &AppHandle<R>,
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, Error> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    app.run_on_main_thread(move || {
        let _ = tx.send(f());
    })
    .map_err(|e| Error::Internal(format!("the window is not available: {e}")))?;
    rx.await
        .map_err(|_| Error::Internal("the window is not available".into()))
}

/// Shows the install's webview (making it from `new` when it has none) at `rect`; hides the
/// others. Main thread only.
pub fn show<R: Runtime>(
    window: &WebviewWindow<R>,
    install_id: i64,
    new: Option<NewView>,
    rect: ViewRect,
) -> Result<(), Error> {
    with_host(window, |host| {
        for (id, view) in &host.views {
            if *id != install_id {
                let _ = view.webview.set_visible(false);
            }
        }
        if !host.views.contains_key(&install_id) {
            let Some(new) = new else {
                return Err(Error::Internal("the app is not open".into()));
            };
            let view = create(&host.fixed, new, window.app_handle().clone())?;
            host.views.insert(install_id, view);
        }
        if let Some(view) = host.views.get(&install_id) {
            place(&host.fixed, view, rect);
            let _ = view.webview.set_visible(true);
        }
        Ok(())
    })?
}

/// Does the install have a webview? Main thread only.
pub fn is_open(install_id: i64) -> bool {
    HOST.with_borrow(|h| {
        h.as_ref()
            .is_some_and(|h| h.views.contains_key(&install_id))
    })
}

/// Moves every app webview to `rect`. Main thread only.
pub fn place_all(rect: ViewRect) {
    HOST.with_borrow(|h| {
        if let Some(h) = h {
            for view in h.views.values() {
                place(&h.fixed, view, rect);
            }
        }
    });
}

/// Hides every app webview; the dashboard has the keyboard again. Main thread only.
pub fn hide_all() {
    HOST.with_borrow(|h| {
        if let Some(h) = h {
            for view in h.views.values() {
                let _ = view.webview.set_visible(false);
            }
            if let Some(dashboard) = &h.dashboard {
                dashboard.grab_focus();
            }
        }
    });
}

/// Destroys the install's webview (its web process ends with it). Main thread only.
pub fn close(install_id: i64) {
    let view = HOST.with_borrow_mut(|h| h.as_mut().and_then(|h| h.views.remove(&install_id)));
    drop(view);
}

/// Destroys every app webview. Main thread only.
pub fn close_all() {
    let views = HOST.with_borrow_mut(|h| h.as_mut().map(|h| std::mem::take(&mut h.views)));
    drop(views);
}

fn with_host<R: Runtime, T>(
    window: &WebviewWindow<R>,
    f: impl FnOnce(&mut Host) -> T,
) -> Result<T, Error> {
    HOST.with_borrow_mut(|slot| {
        if slot.is_none() {
            let (dashboard, fixed) = overlay_layer(window)?;
            *slot = Some(Host {
                dashboard,
                fixed,
                views: HashMap::new(),
            });
        }
        match slot.as_mut() {
            Some(host) => Ok(f(host)),
            None => Err(Error::Internal("no layer for the apps".into())),
        }
    })
}

/// Wraps the dashboard's webview in a `gtk::Overlay` and answers the overlay's pass-through
/// `gtk::Fixed`: input outside the apps' webviews still reaches the dashboard. Answers the
/// dashboard's webview too.
fn overlay_layer<R: Runtime>(
    window: &WebviewWindow<R>,
) -> Result<(Option<gtk::Widget>, gtk::Fixed), Error> {
    let vbox = window
        .default_vbox()
        .map_err(|e| Error::Internal(format!("the window has no content box: {e}")))?;
    let overlay = gtk::Overlay::new();
    let mut dashboard = None;
    for child in vbox.children() {
        // The dashboard's webview (a menu bar, if there were one, would stay above it).
        if child.type_().name().contains("WebView") {
            vbox.remove(&child);
            overlay.add(&child);
            dashboard = Some(child);
        }
    }
    let fixed = gtk::Fixed::new();
    overlay.add_overlay(&fixed);
    overlay.set_overlay_pass_through(&fixed, true);
    vbox.pack_start(&overlay, true, true, 0);
    overlay.show_all();
    Ok((dashboard, fixed))
}

fn create<R: Runtime>(
    fixed: &gtk::Fixed,
    new: NewView,
    app: AppHandle<R>,
) -> Result<AppWebview, Error> {
    let origin = new.url.origin();
    let install_id = new.install_id;
    let session = app.state::<crate::shell::Shell>().session_epoch();
    let gate = std::sync::Arc::new(Gate::new(install_id, origin.clone(), session)?);
    let mut context = WebContext::new(Some(new.data_dir));
    let (x, y, width, height) = pixels(new.rect);
    let webview = WebViewBuilder::new_with_web_context(&mut context)
        .with_bounds(wry::Rect {
            position: LogicalPosition::new(x, y).into(),
            size: LogicalSize::new(width, height).into(),
        })
        .with_devtools(false)
        // Made while the user clicks in the dashboard: the keyboard stays there.
        .with_focused(false)
        .with_initialization_script_for_main_only(gate.script(), true)
        .with_new_window_req_handler(|to, _| {
            to_browser(&to);
            NewWindowResponse::Deny
        })
        .build_gtk(fixed)
        .map_err(|e| Error::Internal(format!("cannot open the app's webview: {e}")))?;
    hold_navigation(&webview, origin);
    // The bridge's channel, then the page: the page finds the channel only if it is there
    // when the page starts.
    let page = webkit2gtk::glib::object::ObjectExt::downgrade(&webview.webview());
    channel::listen(&webview.webview(), move |text, reply| {
        let at = page
            .upgrade()
            .and_then(|w| webkit2gtk::WebViewExt::uri(&w))
            .map(|u| u.to_string())
            .unwrap_or_default();
        on_message(&app, &gate, &at, text, reply);
    })
    .map_err(|e| Error::Internal(format!("cannot open the app's bridge: {e}")))?;
    webview
        .load_url(new.url.as_str())
        .map_err(|e| Error::Internal(format!("cannot open the app's page: {e}")))?;
    tracing::info!(install = install_id, "app webview opened");
    Ok(AppWebview {
        webview,
        _context: context,
    })
}

/// A message posted to the bridge's channel by the page at `at` (main thread): admitted calls
/// are answered once the server has (off the main thread), refusals at once; anything else
/// (not a string, no key) is left unanswered, which WebKit resolves as `undefined`.
fn on_message<R: Runtime>(
    app: &AppHandle<R>,
    gate: &std::sync::Arc<Gate>,
    at: &str,
    text: Option<String>,
    reply: channel::Reply,
) {
    let (install_id, session) = (gate.install_id, gate.session);
    let Some(text) = text else { return };
    let answer = |r: &atrium_proto::bridge::Reply| serde_json::to_string(r).unwrap_or_default();
    match gate.admit(at, &text, std::time::Instant::now()) {
        Ok((call, in_flight)) => {
            tracing::debug!(
                install = install_id,
                method = call.call.method(),
                "bridge call"
            );
            let waiting = channel::Pending::keep(reply);
            let app = app.clone();
            tauri::async_runtime::spawn(async move {
                let r = bridge::answer(&app, install_id, session, call).await;
                drop(in_flight);
                let text = answer(&r);
                let _ = on_main(&app, move || channel::Pending::send(waiting, &text)).await;
            });
        }
        Err(Turned::Refused(id, refusal)) => {
            tracing::debug!(install = install_id, code = ?refusal.code, "bridge call refused");
            reply.send(&answer(&atrium_proto::bridge::Reply::answer(
                id,
                Err(refusal),
            )));
        }
        Err(Turned::Dropped) => {
            tracing::debug!(
                install = install_id,
                "a message without the bridge's key dropped"
            );
        }
    }
}

/// Where a navigation of an app's webview goes.
#[derive(Debug, PartialEq)]
enum Navigation {
    /// Within the app's origin (or `about:blank`): it goes ahead.
    Stays,
    /// Elsewhere, because the user asked (a click, a key): to the system browser instead.
    ToBrowser,
    /// Elsewhere, and no user asked (a script, a timer, a frame loading, a redirect of one of
    /// those): dropped. An app opens the browser only when its user acts, as with
    /// `openExternal`; and a frame of another origin in its page neither loads nor opens a tab.
    Dropped,
}

fn navigation(origin: &Origin, to: &str, by_user: bool) -> Navigation {
    match Url::parse(to) {
        Ok(url) if url.origin() == *origin || url.as_str() == "about:blank" => Navigation::Stays,
        _ if by_user => Navigation::ToBrowser,
        _ => Navigation::Dropped,
    }
}

/// Holds the webview's navigations (every frame's, redirects included) to the app's origin
/// ([`navigation`]). WebKit's own policy signal rather than wry's navigation handler, which is
/// given the URL alone and not whether the user asked.
fn hold_navigation(webview: &WebView, origin: Origin) {
    use webkit2gtk::glib::Cast;
    use webkit2gtk::{
        NavigationPolicyDecision, NavigationPolicyDecisionExt, PolicyDecisionExt,
        PolicyDecisionType, URIRequestExt, WebViewExt,
    };
    webview
        .webview()
        .connect_decide_policy(move |_, decision, kind| {
            if kind != PolicyDecisionType::NavigationAction {
                return false;
            }
            let Some(action) = decision
                .dynamic_cast_ref::<NavigationPolicyDecision>()
                .and_then(|d| d.navigation_action())
            else {
                decision.ignore();
                return true;
            };
            let to = action
                .request()
                .and_then(|r| r.uri())
                .map(|u| u.to_string())
                .unwrap_or_default();
            match navigation(&origin, &to, action.is_user_gesture()) {
                Navigation::Stays => decision.use_(),
                Navigation::ToBrowser => {
                    decision.ignore();
                    to_browser(&to);
                }
                Navigation::Dropped => {
                    decision.ignore();
                    tracing::debug!(
                        "an app's navigation elsewhere, not asked by its user, dropped"
                    );
                }
            }
            true
        });
}

/// Least time between two links an app sends to the system browser. A page can navigate or
/// call `window.open` in a loop; without a bound it would open browser tabs without end.
const BROWSER_OPEN_GAP: std::time::Duration = std::time::Duration::from_secs(1);

/// Whether a link may go to the browser now: at most one per [`BROWSER_OPEN_GAP`], across
/// every app (all of this runs on the GTK main thread).
fn browser_open_allowed(now: std::time::Instant) -> bool {
    thread_local! {
        static LAST: std::cell::Cell<Option<std::time::Instant>> = const { std::cell::Cell::new(None) };
    }
    LAST.with(|last| match last.get() {
        Some(t) if now.duration_since(t) < BROWSER_OPEN_GAP => false,
        _ => {
            last.set(Some(now));
            true
        }
    })
}

/// Opens an http(s) link in the system browser (at most one a second); anything else is
/// dropped. Answers whether the link went to the browser. Main thread only.
pub fn to_browser(to: &str) -> bool {
    let Ok(url) = Url::parse(to) else {
        return false;
    };
    if !matches!(url.scheme(), "http" | "https") {
        tracing::debug!(
            scheme = url.scheme(),
            "an app's link to another scheme is ignored"
        );
        return false;
    }
    if !browser_open_allowed(std::time::Instant::now()) {
        tracing::debug!("an app's link to the browser came too soon after another; dropped");
        return false;
    }
    tauri::async_runtime::spawn(async move {
        if let Err(e) = crate::browser::open(url.as_str()).await {
            tracing::warn!(error = %e, "cannot open an app's link in the browser");
        }
    });
    true
}

fn place(fixed: &gtk::Fixed, view: &AppWebview, rect: ViewRect) {
    let (x, y, width, height) = pixels(rect);
    let widget = view.webview.webview();
    fixed.move_(&widget, x, y);
    widget.set_size_request(width, height);
}

/// The rectangle in whole logical pixels (at least 1×1).
fn pixels(r: ViewRect) -> (i32, i32, i32, i32) {
    let px = |v: f64| {
        if v.is_finite() {
            v.round().clamp(0.0, 100_000.0) as i32
        } else {
            0
        }
    };
    (px(r.x), px(r.y), px(r.width).max(1), px(r.height).max(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_app_leaves_its_origin_only_for_the_browser_and_only_when_its_user_asks() {
        let origin = Url::parse("http://127.0.0.1:8010/app2/").unwrap().origin();
        for by_user in [false, true] {
            for inside in ["http://127.0.0.1:8010/app2/?order=42", "about:blank"] {
                assert_eq!(navigation(&origin, inside, by_user), Navigation::Stays);
            }
        }
        for elsewhere in [
            "http://localhost:8010/app2/",
            "https://127.0.0.1:8010/app2/",
            "http://127.0.0.1:8011/",
            "data:text/html,hi",
            "about:srcdoc",
            "not a url",
        ] {
            assert_eq!(
                navigation(&origin, elsewhere, false),
                Navigation::Dropped,
                "{elsewhere}"
            );
            assert_eq!(
                navigation(&origin, elsewhere, true),
                Navigation::ToBrowser,
                "{elsewhere}"
            );
        }
    }

    #[test]
    fn links_to_the_browser_are_at_most_one_a_second() {
        let t0 = std::time::Instant::now();
        assert!(browser_open_allowed(t0));
        assert!(!browser_open_allowed(
            t0 + std::time::Duration::from_millis(10)
        ));
        assert!(!browser_open_allowed(
            t0 + std::time::Duration::from_millis(999)
        ));
        assert!(browser_open_allowed(t0 + BROWSER_OPEN_GAP));
    }
}
