//! The session's event stream, held for as long as someone is signed in.
//!
//! - **One stream per session.** [`spawn`] starts a task for the app's life; it holds the
//!   stream while the shell has a session, and drops it (closing the connection) the moment the
//!   session changes: sign-out, server switch, or a refresh refused.
//! - **Reconnects without losing anything.** Each connection sends the last id delivered as
//!   `Last-Event-ID` (kept on disk by [`Inbox`]), so the server sends what was posted while the
//!   desktop was away, even across a server restart; ids already delivered are skipped.
//! - **Backoff.** Unreachable: 1, 2, 4, 8 s, then every 10 s. A stream that was held (it
//!   brought at least one event) and then ended is reconnected after a second.
//! - **Polling when the stream cannot be held.** The server answers, but the stream brings no
//!   event within [`FIRST_EVENT`] (the server always sends the badges at once, so a proxy is
//!   buffering it), ends before its first event, or is refused (429: too many streams): after
//!   two such failures in a row the shell asks for the newest notifications and the badges every
//!   [`POLL_SECS`] seconds, and tries the stream again every [`POLL_ROUNDS`] polls.
//! - A 401 refreshes the access token once, as every other call does. Tokens are never logged.

use std::time::Duration;

use atrium_proto::dashboard::Page;
use atrium_proto::inbox::{BadgeView, NotificationView};
use atrium_proto::ipc::{InboxMode, POLL_SECS};
use atrium_proto::paths;
use reqwest::StatusCode;
use tauri::{AppHandle, Manager, Runtime};

use super::sse::{SseEvent, SseParser};
use super::Inbox;
use crate::error::{from_http, Error};
use crate::shell::Shell;

/// How long a new stream may take to bring its first event before it counts as not held.
pub const FIRST_EVENT: Duration = Duration::from_secs(10);
/// A stream silent this long is dead (the server sends a comment every 15 s).
const SILENCE: Duration = Duration::from_secs(45);
/// Polls between two tries of the stream, when it could not be held.
pub const POLL_ROUNDS: u32 = 10;
/// Failures to hold the stream, in a row, before polling.
const UNHELD_BEFORE_POLLING: u32 = 2;

/// How a connection went.
#[derive(Debug)]
enum Outcome {
    /// It brought events, then ended: reconnect.
    Held,
    /// The server could not be reached.
    Down(String),
    /// The server answered, but the stream could not be held.
    Unheld(String),
    /// The session is gone.
    SignedOut,
}

/// Holds the session's stream for as long as the app runs.
pub fn spawn<R: Runtime>(app: AppHandle<R>) {
    tauri::async_runtime::spawn(async move {
        let http = match reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(3))
            .read_timeout(SILENCE)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("atrium-desktop/", env!("CARGO_PKG_VERSION")))
            .build()
        {
            Ok(http) => http,
            Err(e) => {
                tracing::warn!(error = %e, "no inbox: cannot make its HTTP client");
                return;
            }
        };
        let mut changes = app.state::<Shell>().session_changes();
        loop {
            let _ = changes.borrow_and_update();
            if app.state::<Shell>().signed_in().await {
                tokio::select! {
                    () = hold(&app, &http) => {}
                    r = changes.changed() => if r.is_err() { return },
                }
            } else {
                app.state::<Inbox>().forget();
                app.state::<Inbox>().native.withdraw_all().await;
                link(&app, InboxMode::Down);
                if changes.changed().await.is_err() {
                    return;
                }
            }
        }
    });
}

fn link<R: Runtime>(app: &AppHandle<R>, mode: InboxMode) {
    super::link(app, mode);
}

/// Delay before the `n`th attempt in a row (from 1): 1, 2, 4, 8, then 10 s.
pub fn backoff(n: u32) -> Duration {
    Duration::from_secs(1u64 << n.saturating_sub(1).min(4)).min(Duration::from_secs(10))
}

/// Connects, reconnects and polls until the session is gone.
async fn hold<R: Runtime>(app: &AppHandle<R>, http: &reqwest::Client) {
    let (mut down, mut unheld) = (0u32, 0u32);
    loop {
        match listen(app, http).await {
            Outcome::Held => {
                (down, unheld) = (0, 0);
                tracing::info!("inbox: the event stream ended; reconnecting");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
            Outcome::Down(why) => {
                down += 1;
                tracing::debug!(%why, attempt = down, "inbox: the server is unreachable");
                link(app, InboxMode::Down);
                tokio::time::sleep(backoff(down)).await;
            }
            Outcome::Unheld(why) => {
                unheld += 1;
                tracing::warn!(%why, attempt = unheld, "inbox: the event stream cannot be held");
                if unheld >= UNHELD_BEFORE_POLLING {
                    if !poll_rounds(app).await {
                        return;
                    }
                } else {
                    tokio::time::sleep(backoff(unheld)).await;
                }
            }
            Outcome::SignedOut => return,
        }
    }
}

/// One connection: answers how it went.
async fn listen<R: Runtime>(app: &AppHandle<R>, http: &reqwest::Client) -> Outcome {
    let shell = app.state::<Shell>();
    let url = match shell.endpoint(paths::EVENTS) {
        Ok(url) => url,
        Err(e) => return Outcome::Down(e.to_string()),
    };
    for attempt in 0..2 {
        let token = match shell.bearer(attempt > 0).await {
            Ok(t) => t,
            Err(Error::NotSignedIn | Error::SessionExpired) => return Outcome::SignedOut,
            Err(e) => return Outcome::Down(e.to_string()),
        };
        let mut req = http
            .get(url.clone())
            .bearer_auth(token)
            .header(reqwest::header::ACCEPT, "text/event-stream");
        if let Some(id) = app.state::<Inbox>().cursor() {
            req = req.header("last-event-id", id.to_string());
        }
        let res = match req.send().await {
            Ok(res) => res,
            Err(e) => return Outcome::Down(from_http(e).to_string()),
        };
        let status = res.status();
        if status == StatusCode::UNAUTHORIZED && attempt == 0 {
            continue;
        }
        if status.is_server_error() {
            return Outcome::Down(format!("the server answered {status}"));
        }
        if !status.is_success() {
            return Outcome::Unheld(format!("the server answered {status}"));
        }
        let sse = res
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("text/event-stream"));
        if !sse {
            return Outcome::Unheld("the answer is not an event stream".into());
        }
        return read(app, res).await;
    }
    Outcome::Unheld("the server refused the access token twice".into())
}

/// Reads the stream's events until it ends.
async fn read<R: Runtime>(app: &AppHandle<R>, mut res: reqwest::Response) -> Outcome {
    let mut parser = SseParser::default();
    let mut held = false;
    loop {
        let chunk = if held {
            res.chunk().await
        } else {
            match tokio::time::timeout(FIRST_EVENT, res.chunk()).await {
                Ok(chunk) => chunk,
                Err(_) => {
                    return Outcome::Unheld(format!(
                        "no event within {FIRST_EVENT:?} (a proxy buffering the stream?)"
                    ))
                }
            }
        };
        match chunk {
            Ok(Some(bytes)) => {
                for event in parser.feed(&bytes) {
                    if !held {
                        held = true;
                        link(app, InboxMode::Live);
                        tracing::info!("inbox: event stream held");
                    }
                    handle(app, event).await;
                }
            }
            Ok(None) if held => return Outcome::Held,
            Ok(None) => return Outcome::Unheld("the stream ended before its first event".into()),
            Err(_) if held => return Outcome::Held,
            Err(e) => return Outcome::Down(from_http(e).to_string()),
        }
    }
}

async fn handle<R: Runtime>(app: &AppHandle<R>, event: SseEvent) {
    match event.event.as_str() {
        "notification" => match serde_json::from_str::<NotificationView>(&event.data) {
            Ok(n) => super::deliver(app, n).await,
            Err(e) => tracing::warn!(error = %e, "inbox: a notification event that is not one"),
        },
        "badges" => match serde_json::from_str::<Vec<BadgeView>>(&event.data) {
            Ok(b) => super::badges(app, b),
            Err(e) => tracing::warn!(error = %e, "inbox: a badges event that is not one"),
        },
        _ => {}
    }
}

/// Polls [`POLL_ROUNDS`] times, [`POLL_SECS`] apart; false when the session is gone.
async fn poll_rounds<R: Runtime>(app: &AppHandle<R>) -> bool {
    link(app, InboxMode::Polling);
    for _ in 0..POLL_ROUNDS {
        match poll(app).await {
            Ok(()) => link(app, InboxMode::Polling),
            Err(Error::NotSignedIn | Error::SessionExpired) => return false,
            Err(e) => {
                tracing::debug!(error = %e, "inbox: a poll failed");
                link(app, InboxMode::Down);
            }
        }
        tokio::time::sleep(Duration::from_secs(POLL_SECS)).await;
    }
    true
}

/// One poll: the newest notifications (those above the cursor are delivered, oldest first)
/// and the badges.
async fn poll<R: Runtime>(app: &AppHandle<R>) -> Result<(), Error> {
    let shell = app.state::<Shell>();
    let page: Page<NotificationView> = shell.api().notifications(None).await?;
    let inbox = app.state::<Inbox>();
    match inbox.cursor() {
        None => inbox.start_at(page.items.first().map_or(0, |n| n.id)),
        Some(cursor) => {
            for n in page.items.into_iter().rev().filter(|n| n.id > cursor) {
                super::deliver(app, n).await;
            }
        }
    }
    let badges = shell.api().badges().await?;
    super::badges(app, badges);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_ten_seconds() {
        let secs: Vec<u64> = (1..=7).map(|n| backoff(n).as_secs()).collect();
        assert_eq!(secs, [1, 2, 4, 8, 10, 10, 10]);
        assert_eq!(backoff(0).as_secs(), 1);
        assert_eq!(backoff(u32::MAX).as_secs(), 10);
    }
}
