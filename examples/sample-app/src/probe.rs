//! Test only, with `--probe`: the apps' launched pages run `static/probe.js`, which posts what
//! the page can reach of its host (the desktop's IPC must be out of reach) to
//! `POST /app1/probe` or `/app2/probe`. The report is kept with the session the page's cookie
//! names (so a test also sees which install's session each webview holds) and listed by
//! `GET /probe/reports`. Without `--probe` these routes answer 404.

use std::sync::Mutex;

use serde::Serialize;
use warp::http::StatusCode;

use crate::config::AppId;
use crate::web::{self, Resp};
use crate::{session, State};

/// A report's largest body.
pub const BODY_LIMIT: u64 = 4 * 1024;
/// At most this many reports are kept (the oldest go first).
const MAX_REPORTS: usize = 1000;
/// The probe script.
pub const PROBE_JS: &str = include_str!("../static/probe.js");
/// What a launched page adds to its `<head>` in probe mode; with `bridge` (`--probe-bridge`)
/// the probe also exercises the app bridge, which changes the user's badges and notifications.
pub fn script(bridge: bool) -> &'static str {
    if bridge {
        "<script src=\"/static/probe.js\" data-bridge defer></script>"
    } else {
        "<script src=\"/static/probe.js\" defer></script>"
    }
}
/// The page's CSP in probe mode: as usual ([`crate::web::CSP`], framing refused), but `ipc:`
/// may be fetched, so that a refusal comes from the host and not from the page's own policy.
pub const PROBE_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
                             connect-src 'self' ipc: http://ipc.localhost; img-src 'self' data:; \
                             base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// One page's report.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub app: &'static str,
    /// The session the page's cookie names, if any.
    pub install: Option<i64>,
    pub company: Option<i64>,
    pub username: Option<String>,
    /// The `jti` of the launch that started that session (spent already): tells two launches
    /// of one install apart.
    pub launch: Option<String>,
    /// What the page found (`tauri`, `internals`, `ipc`, `handler`, `top`, `ipc_fetch`), the
    /// framing headers its own address is served with (`x_frame_options`, `frame_ancestors`),
    /// and when it was first on screen (`painted_at_ms`, Unix milliseconds); `replaced_by_launch`
    /// when the page was about to be replaced by a new launch (see `static/launch.js`). A page
    /// shown again after being hidden sends `shown_at_ms` alone: not a load.
    pub findings: serde_json::Value,
}

impl Report {
    /// What the sample app itself notes of App2's page at another origin (no session).
    fn elsewhere(findings: serde_json::Value) -> Report {
        Report {
            app: AppId::App2.label(),
            install: None,
            company: None,
            username: None,
            launch: None,
            findings,
        }
    }
}

#[derive(Default)]
pub struct Reports(Mutex<Vec<Report>>);

impl Reports {
    fn push(&self, report: Report) {
        let mut all = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if all.len() >= MAX_REPORTS {
            all.remove(0);
        }
        all.push(report);
    }

    fn all(&self) -> Vec<Report> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

/// `POST /app1/probe`, `POST /app2/probe`.
pub async fn post(
    app: AppId,
    state: State,
    cookie: Option<String>,
    body: warp::hyper::body::Bytes,
) -> Resp {
    if !state.config.probe {
        return web::json(StatusCode::NOT_FOUND, &serde_json::json!({}));
    }
    let Ok(findings) = serde_json::from_slice::<serde_json::Value>(&body) else {
        return web::json(StatusCode::BAD_REQUEST, &serde_json::json!({}));
    };
    let now = crate::unix_now();
    let session = session::from_cookie_header(app, cookie.as_deref())
        .and_then(|id| state.sessions.get(app, &id, now));
    state.probes.push(Report {
        app: app.label(),
        install: session.as_ref().map(|s| s.claims.install),
        company: session.as_ref().map(|s| s.claims.company),
        launch: session.as_ref().map(|s| s.claims.jti.clone()),
        username: session.map(|s| s.claims.username),
        findings,
    });
    web::json(StatusCode::OK, &serde_json::json!({}))
}

/// `GET /probe/reports`.
pub async fn list(state: State) -> Resp {
    if !state.config.probe {
        return web::json(StatusCode::NOT_FOUND, &serde_json::json!({}));
    }
    web::json(StatusCode::OK, &state.probes.all())
}

/// The other loopback name of `host` (`127.0.0.1:P` ↔ `localhost:P`): the same server at
/// another origin. `None` for any other host.
fn other_loopback(host: &str) -> Option<String> {
    let (name, port) = host.rsplit_once(':')?;
    let port: u16 = port.parse().ok()?;
    match name {
        "127.0.0.1" => Some(format!("localhost:{port}")),
        "localhost" => Some(format!("127.0.0.1:{port}")),
        _ => None,
    }
}

/// `GET /probe/elsewhere`: redirects to `GET /app2/elsewhere` at this server's other loopback
/// name, another origin, and reports that it did (`redirected_elsewhere`). An app's page that
/// follows it asks its host to show a page of another origin in the app's webview (by a server
/// redirect, not a link).
pub async fn elsewhere_redirect(state: State, host: Option<String>) -> Resp {
    let Some(other) = host.as_deref().and_then(other_loopback) else {
        return web::json(StatusCode::NOT_FOUND, &serde_json::json!({}));
    };
    if !state.config.probe {
        return web::json(StatusCode::NOT_FOUND, &serde_json::json!({}));
    }
    state.probes.push(Report::elsewhere(
        serde_json::json!({ "redirected_elsewhere": other }),
    ));
    let mut r = web::html(StatusCode::SEE_OTHER, String::new());
    if let Ok(to) = warp::http::HeaderValue::from_str(&format!("http://{other}/app2/elsewhere")) {
        r.headers_mut().insert(warp::http::header::LOCATION, to);
    }
    r
}

/// `GET /app2/elsewhere`: a page of App2's at another origin than App2's registered one. Who
/// fetched it is reported (`served_elsewhere`: the host it was asked of, and the user agent),
/// and the page runs the probe, which tries the bridge from there.
pub async fn elsewhere(state: State, host: Option<String>, agent: Option<String>) -> Resp {
    if !state.config.probe {
        return web::json(StatusCode::NOT_FOUND, &serde_json::json!({}));
    }
    state.probes.push(Report::elsewhere(
        serde_json::json!({ "served_elsewhere": host, "user_agent": agent }),
    ));
    let page = format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>Elsewhere</title>{}</head>\
         <body><p>A page of another origin.</p></body></html>",
        script(state.config.probe_bridge)
    );
    let mut r = web::html(StatusCode::OK, page);
    r.headers_mut().insert(
        "content-security-policy",
        warp::http::HeaderValue::from_static(PROBE_CSP),
    );
    r
}

#[cfg(test)]
mod tests {
    use super::other_loopback;

    #[test]
    fn the_other_loopback_name_is_another_origin_of_the_same_server() {
        assert_eq!(
            other_loopback("127.0.0.1:8080").as_deref(),
            Some("localhost:8080")
        );
        assert_eq!(
            other_loopback("localhost:8080").as_deref(),
            Some("127.0.0.1:8080")
        );
        assert_eq!(other_loopback("example.com:8080"), None);
        assert_eq!(other_loopback("127.0.0.1"), None);
    }
}
