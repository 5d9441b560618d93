//! The app bridge on the shell's side: the calls an open app's page makes through
//! `window.atrium` (typed in [`atrium_proto::bridge`]), checked here and answered through the
//! server.
//!
//! A message is accepted only when all of these hold, checked in this order ([`Gate::admit`]):
//! - it is at most [`bridge::MAX_MESSAGE`] bytes and parses as a [`Request`] of this version;
//! - it carries its webview's key: a random secret the shell puts in the script it injects
//!   into that webview's top document and nowhere else. Subframes (and any page script that
//!   finds the raw channel, `window.webkit.messageHandlers.atrium`, which WebKit shows to every
//!   script of the page's world) do not have it, so their messages are dropped unanswered;
//! - it is within the webview's rate ([`RATE_CALLS`] per [`RATE_WINDOW`], [`MAX_IN_FLIGHT`] at
//!   once);
//! - the page's URL (the webview's current URL) is at the app's origin, the origin of its
//!   launch URL, where navigation is held;
//! - it names no install, or the webview's own (each webview's handler knows its install; a
//!   page can never speak for another).
//!
//! `setBadge` and `notify` go to the server (`PUT`/`POST /api/dashboard/installs/{id}/...`)
//! as the signed-in user, for that user alone: stored, rate-limited per install, and in the
//! user's notification list and event stream like the app's own posts. `getSessionToken` is
//! the install's launch (`POST .../launch`): a fresh JWT (60 s, one `jti`) for the app's
//! backend. `openExternal` needs the script's word that a user gesture came just before (a
//! trusted click or key press under a second ago, and WebKit's transient activation where it
//! has it), takes http(s) only and shares the one-link-a-second bound of links leaving the
//! app. That word is only as good as the key: a page that could read the key could claim a
//! gesture. The answer resolves the promise the page's `postMessage` returned
//! ([`super::channel`]): it reaches only the document that asked, and, unlike a script run
//! in the page, gives it no user gesture.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use atrium_proto::bridge::{self, Answer, Call, Refusal, RefusalCode, Reply, Request};
use atrium_proto::inbox::{UserBadge, UserNotification, MAX_BADGE};
use tauri::{AppHandle, Manager, Runtime};
use url::{Origin, Url};

use crate::error::Error;
use crate::shell::Shell;

/// Calls one webview may make in a [`RATE_WINDOW`]; more are refused `rate_limited`.
pub const RATE_CALLS: u32 = 20;
pub const RATE_WINDOW: Duration = Duration::from_secs(10);
/// Calls of one webview waiting on the server at once.
pub const MAX_IN_FLIGHT: usize = 4;

/// What one app webview accepts: its install, key and origin, and its rate.
pub struct Gate {
    pub install_id: i64,
    /// The shell's session when the webview was opened ([`Shell::session_epoch`]): calls are
    /// answered in that session only. A webview left over from before a sign-out, another
    /// sign-in or a server switch speaks for nobody (install ids are another server's, or
    /// another user's launch tokens would be handed to the page).
    pub session: u64,
    key: String,
    origin: Origin,
    window: Mutex<(Instant, u32)>,
    in_flight: Arc<AtomicUsize>,
}

/// Why a message is not answered with a result.
#[derive(Debug, PartialEq)]
pub enum Turned {
    /// Not the script's (no key, or not a request): dropped without a reply.
    Dropped,
    /// Refused, with a reply to the request `id`.
    Refused(u32, Refusal),
}

/// Held while a call runs; lets the next one in.
pub struct InFlight(Arc<AtomicUsize>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

impl Gate {
    /// The gate of a new webview of `install_id` at `origin`, opened in `session`, with a fresh
    /// random key.
    pub fn new(install_id: i64, origin: Origin, session: u64) -> Result<Gate, Error> {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes)
            .map_err(|e| Error::Internal(format!("no random source for the bridge: {e}")))?;
        let key = bytes.iter().map(|b| format!("{b:02x}")).collect();
        Ok(Gate {
            install_id,
            session,
            key,
            origin,
            window: Mutex::new((Instant::now(), 0)),
            in_flight: Arc::new(AtomicUsize::new(0)),
        })
    }

    /// The script to inject into the webview's top document.
    pub fn script(&self) -> String {
        bridge::script(&self.key)
    }

    /// Whether `url` is at the app's origin.
    fn at_origin(&self, url: &str) -> bool {
        Url::parse(url).is_ok_and(|u| u.origin() == self.origin)
    }

    /// Checks a message from the page at `uri` (see the module's list).
    pub fn admit(
        &self,
        uri: &str,
        body: &str,
        now: Instant,
    ) -> Result<(Request, InFlight), Turned> {
        if body.len() > bridge::MAX_MESSAGE {
            return Err(Turned::Dropped);
        }
        let Ok(req) = serde_json::from_str::<Request>(body) else {
            return Err(Turned::Dropped);
        };
        if !same_secret(&req.key, &self.key) {
            return Err(Turned::Dropped);
        }
        let refuse = |code, why: &str| Err(Turned::Refused(req.id, Refusal::new(code, why)));
        if !self.within_rate(now) {
            return refuse(
                RefusalCode::RateLimited,
                "too many bridge calls; wait a few seconds",
            );
        }
        if req.v != bridge::VERSION {
            return refuse(RefusalCode::Unsupported, "another version of the bridge");
        }
        if !self.at_origin(uri) {
            return refuse(RefusalCode::Refused, "this page is not at the app's origin");
        }
        if req.install.is_some_and(|i| i != self.install_id) {
            return refuse(
                RefusalCode::WrongInstall,
                "this page runs as another install",
            );
        }
        if self.in_flight.fetch_add(1, Ordering::AcqRel) >= MAX_IN_FLIGHT {
            self.in_flight.fetch_sub(1, Ordering::AcqRel);
            return refuse(RefusalCode::RateLimited, "too many bridge calls at once");
        }
        Ok((req, InFlight(self.in_flight.clone())))
    }

    fn within_rate(&self, now: Instant) -> bool {
        let mut w = self.window.lock().unwrap_or_else(|e| e.into_inner());
        if now.duration_since(w.0) >= RATE_WINDOW {
            *w = (now, 0);
        }
        w.1 = w.1.saturating_add(1);
        w.1 <= RATE_CALLS
    }
}

/// Compares two keys without stopping at the first difference.
fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// Answers an admitted call of the webview of `install_id`, opened in `session`.
pub async fn answer<R: Runtime>(
    app: &AppHandle<R>,
    install_id: i64,
    session: u64,
    req: Request,
) -> Reply {
    let same_session = || app.state::<Shell>().session_epoch() == session;
    if !same_session() {
        return Reply::answer(req.id, Err(session_ended()));
    }
    let result = call(app, install_id, req.gesture, req.call).await;
    // The session ended while the call ran: its answer (a launch token made for whoever is
    // signed in now, say) is not this page's.
    let result = if same_session() {
        result
    } else {
        Err(session_ended())
    };
    Reply::answer(req.id, result)
}

fn session_ended() -> Refusal {
    Refusal::new(
        RefusalCode::Unavailable,
        "the session this app was opened in has ended; open the app again",
    )
}

async fn call<R: Runtime>(
    app: &AppHandle<R>,
    install_id: i64,
    gesture: bool,
    call: Call,
) -> Result<Answer, Refusal> {
    match call {
        Call::Ready {} => Ok(Answer::Ready {
            version: bridge::VERSION,
            install: install_id,
        }),
        Call::SetBadge { count } if count > MAX_BADGE => Err(Refusal::new(
            RefusalCode::Invalid,
            format!("the count must be at most {MAX_BADGE}"),
        )),
        Call::SetBadge { count } => {
            let shell = app.state::<Shell>();
            let badge = UserBadge { count };
            shell
                .api()
                .set_user_badge(install_id, &badge)
                .await
                .map(|b| Answer::Badge { count: b.count })
                .map_err(unavailable)
        }
        Call::Notify { title, body, path } => {
            let shell = app.state::<Shell>();
            let n = UserNotification { title, body, path };
            shell
                .api()
                .notify_user(install_id, &n)
                .await
                .map(|p| Answer::Notified { id: p.id })
                .map_err(unavailable)
        }
        Call::GetSessionToken {} => {
            let shell = app.state::<Shell>();
            match shell.api().launch(install_id).await {
                Ok(launch) => launch_token(&launch.url)
                    .map(|token| Answer::SessionToken {
                        token,
                        expires_at: launch.expires_at,
                    })
                    .ok_or_else(|| {
                        Refusal::new(RefusalCode::Unavailable, "the launch carried no token")
                    }),
                Err(e) => Err(unavailable(e)),
            }
        }
        Call::OpenExternal { url } => open_external(app, gesture, &url).await,
    }
}

/// The launch token in a launch URL's fragment (`#atrium_launch=<JWT>`).
fn launch_token(launch_url: &str) -> Option<String> {
    let url = Url::parse(launch_url).ok()?;
    let fragment = url.fragment()?;
    url::form_urlencoded::parse(fragment.as_bytes())
        .find(|(k, _)| k == "atrium_launch")
        .map(|(_, v)| v.into_owned())
        .filter(|t| !t.is_empty())
}

/// The http(s) URL `raw`, if it is one of at most [`bridge::MAX_URL`] bytes.
pub fn external_url(raw: &str) -> Result<Url, Refusal> {
    let invalid = |why: &str| Refusal::new(RefusalCode::Invalid, why);
    if raw.len() > bridge::MAX_URL {
        return Err(invalid("the URL is too long"));
    }
    let url = Url::parse(raw).map_err(|_| invalid("not a URL"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(invalid("only http and https URLs open in the browser"));
    }
    Ok(url)
}

async fn open_external<R: Runtime>(
    app: &AppHandle<R>,
    gesture: bool,
    raw: &str,
) -> Result<Answer, Refusal> {
    if !gesture {
        return Err(Refusal::new(
            RefusalCode::NoGesture,
            "openExternal must be called from a click or key press",
        ));
    }
    let url = external_url(raw)?;
    let opened = super::host::on_main(app, move || super::host::to_browser(url.as_str()))
        .await
        .unwrap_or(false);
    if opened {
        Ok(Answer::Opened {})
    } else {
        Err(Refusal::new(
            RefusalCode::RateLimited,
            "at most one link a second goes to the browser",
        ))
    }
}

fn unavailable(e: Error) -> Refusal {
    Refusal::new(RefusalCode::Unavailable, e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gate() -> Gate {
        Gate::new(
            7,
            Url::parse("http://127.0.0.1:8010/app2/").unwrap().origin(),
            0,
        )
        .unwrap()
    }

    fn message(gate: &Gate, install: Option<i64>, call: &str) -> String {
        format!(
            r#"{{"key":"{}","v":1,"id":5,"install":{},"call":{call}}}"#,
            gate.key,
            install.map_or("null".into(), |i| i.to_string())
        )
    }

    const PAGE: &str = "http://127.0.0.1:8010/app2/";
    const READY: &str = r#"{"method":"ready"}"#;

    fn code(r: Result<(Request, InFlight), Turned>) -> Option<RefusalCode> {
        match r {
            Ok(_) => None,
            Err(Turned::Refused(5, refusal)) => Some(refusal.code),
            Err(other) => panic!("{other:?}"),
        }
    }

    #[test]
    fn only_the_keyed_script_of_the_apps_origin_speaking_for_its_install_is_admitted() {
        let g = gate();
        let now = Instant::now();
        assert_eq!(code(g.admit(PAGE, &message(&g, None, READY), now)), None);
        assert_eq!(code(g.admit(PAGE, &message(&g, Some(7), READY), now)), None);
        assert_eq!(
            code(g.admit(PAGE, &message(&g, Some(8), READY), now)),
            Some(RefusalCode::WrongInstall)
        );
        for other in [
            "http://localhost:8010/app2/",
            "http://127.0.0.1:8011/app2/",
            "https://127.0.0.1:8010/app2/",
            "about:blank",
            "",
        ] {
            assert_eq!(
                code(g.admit(other, &message(&g, None, READY), now)),
                Some(RefusalCode::Refused),
                "{other}"
            );
        }
        // Without the key, or not a request at all: dropped, not even answered.
        let stranger = Gate::new(7, g.origin.clone(), 0).unwrap();
        for body in [
            message(&stranger, None, READY),
            message(&g, None, READY).replace(&g.key, ""),
            r#"{"cmd":"sign_out"}"#.to_string(),
            format!(
                r#"{{"key":"{}","v":1,"id":5,"call":{{"method":"invoke"}}}}"#,
                g.key
            ),
        ] {
            assert!(
                matches!(g.admit(PAGE, &body, now), Err(Turned::Dropped)),
                "{body}"
            );
        }
        let huge = message(&g, None, READY) + &" ".repeat(bridge::MAX_MESSAGE);
        assert!(matches!(g.admit(PAGE, &huge, now), Err(Turned::Dropped)));
    }

    #[test]
    fn a_webview_gets_a_bounded_rate_and_a_few_calls_at_once() {
        let g = gate();
        let t0 = Instant::now();
        let mut held = Vec::new();
        for _ in 0..MAX_IN_FLIGHT {
            held.push(g.admit(PAGE, &message(&g, None, READY), t0).unwrap());
        }
        assert_eq!(
            code(g.admit(PAGE, &message(&g, None, READY), t0)),
            Some(RefusalCode::RateLimited)
        );
        held.clear();
        // The first 20 calls of a window (5 so far), then none until the next.
        for _ in 5..RATE_CALLS {
            assert_eq!(code(g.admit(PAGE, &message(&g, None, READY), t0)), None);
        }
        assert_eq!(
            code(g.admit(PAGE, &message(&g, None, READY), t0)),
            Some(RefusalCode::RateLimited)
        );
        let later = t0 + RATE_WINDOW;
        assert_eq!(code(g.admit(PAGE, &message(&g, None, READY), later)), None);
    }

    #[test]
    fn only_http_urls_go_out_and_the_launch_token_comes_from_the_fragment() {
        assert!(external_url("https://example.com/x").is_ok());
        for bad in [
            "javascript:alert(1)",
            "file:///etc/passwd",
            "atrium://oauth/callback",
            "http://",
            "not a url",
        ] {
            assert!(external_url(bad).is_err(), "{bad}");
        }
        assert!(external_url(&format!("https://e.com/{}", "a".repeat(bridge::MAX_URL))).is_err());
        assert_eq!(
            launch_token("http://127.0.0.1:8010/app2/#atrium_launch=a.b.c").as_deref(),
            Some("a.b.c")
        );
        assert_eq!(launch_token("http://127.0.0.1:8010/app2/"), None);
    }
}
