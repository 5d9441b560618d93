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
//! each with its own `WebContext` over its own data directory. Their only script and IPC
//! handler are the app bridge's ([`super::bridge`]): the handler of each webview knows its
//! install and its [`Gate`], and replies are run in the page only while the webview is still
//! that one, at the app's origin ([`deliver`]).
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
    /// Which webview of the install this is (a woken app gets a new one): a reply to a call
    /// of an earlier one is dropped.
    generation: u64,
    gate: std::sync::Arc<Gate>,
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
    thread_local! {
        static GENERATION: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
    }
    let generation = GENERATION.with(|g| {
        g.set(g.get() + 1);
        g.get()
    });
    let origin = new.url.origin();
    let install_id = new.install_id;
    let session = app.state::<crate::shell::Shell>().session_epoch();
    let gate = std::sync::Arc::new(Gate::new(install_id, origin.clone(), session)?);
    let mut context = WebContext::new(Some(new.data_dir));
    let (x, y, width, height) = pixels(new.rect);
    let handler_gate = gate.clone();
    let webview = WebViewBuilder::new_with_web_context(&mut context)
        .with_url(new.url.as_str())
        .with_bounds(wry::Rect {
            position: LogicalPosition::new(x, y).into(),
            size: LogicalSize::new(width, height).into(),
        })
        .with_devtools(false)
        // Made while the user clicks in the dashboard: the keyboard stays there.
        .with_focused(false)
        .with_initialization_script_for_main_only(gate.script(), true)
        .with_ipc_handler(move |req| on_message(&app, &handler_gate, generation, req))
        .with_navigation_handler(move |to| stays_inside(&origin, &to))
        .with_new_window_req_handler(|to, _| {
            outside(&to);
            NewWindowResponse::Deny
        })
        .build_gtk(fixed)
        .map_err(|e| Error::Internal(format!("cannot open the app's webview: {e}")))?;
    tracing::info!(install = install_id, "app webview opened");
    Ok(AppWebview {
        webview,
        generation,
        gate,
        _context: context,
    })
}

/// A message from an app's page (main thread): admitted calls are answered through the
/// server, off the main thread; refusals at once; anything without the key is dropped.
fn on_message<R: Runtime>(
    app: &AppHandle<R>,
    gate: &std::sync::Arc<Gate>,
    generation: u64,
    req: wry::http::Request<String>,
) {
    let (install_id, session) = (gate.install_id, gate.session);
    let uri = req.uri().to_string();
    match gate.admit(&uri, req.body(), std::time::Instant::now()) {
        Ok((call, in_flight)) => {
            tracing::debug!(
                install = install_id,
                method = call.call.method(),
                "bridge call"
            );
            let app = app.clone();
            tauri::async_runtime::spawn(async move {
                let reply = bridge::answer(&app, install_id, session, call).await;
                drop(in_flight);
                let _ = on_main(&app, move || deliver(install_id, generation, &reply)).await;
            });
        }
        Err(Turned::Refused(id, refusal)) => {
            tracing::debug!(install = install_id, code = ?refusal.code, "bridge call refused");
            let reply = atrium_proto::bridge::Reply::answer(id, Err(refusal));
            let app = app.clone();
            // Later on the main loop: never from inside WebKit's message signal.
            let _ = app
                .clone()
                .run_on_main_thread(move || deliver(install_id, generation, &reply));
        }
        Err(Turned::Dropped) => {
            tracing::debug!(
                install = install_id,
                "a message without the bridge's key dropped"
            );
        }
    }
}

/// Runs `reply` in the page of the install's webview, if it is still the webview the call
/// came from and its page is at the app's origin. Main thread only.
fn deliver(install_id: i64, generation: u64, reply: &atrium_proto::bridge::Reply) {
    HOST.with_borrow(|h| {
        let Some(view) = h.as_ref().and_then(|h| h.views.get(&install_id)) else {
            return;
        };
        let here = view.webview.url().unwrap_or_default();
        if view.generation != generation || !view.gate.at_origin(&here) {
            tracing::debug!(
                install = install_id,
                "a bridge reply for a page gone is dropped"
            );
            return;
        }
        if let Err(e) = view.webview.evaluate_script(&bridge::reply_script(reply)) {
            tracing::debug!(install = install_id, error = %e, "cannot reply to the bridge");
        }
    });
}

/// A navigation within the app's origin goes ahead; any other goes to the system browser.
fn stays_inside(origin: &Origin, to: &str) -> bool {
    match Url::parse(to) {
        Ok(url) if url.origin() == *origin => true,
        Ok(url) if url.as_str() == "about:blank" => true,
        _ => {
            outside(to);
            false
        }
    }
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
/// dropped.
fn outside(to: &str) {
    to_browser(to);
}

/// [`outside`], answering whether the link went to the browser. Main thread only.
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
