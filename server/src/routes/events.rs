//! `GET /api/dashboard/events`: the desktop's Server-Sent Events stream (`text/event-stream`,
//! scope `dashboard`) of its user's new notifications and badge changes.
//!
//! - `event: notification`, `id: <notification id>`, `data: <NotificationView JSON>`: each
//!   notification the user may see, oldest first. On connect, those after `Last-Event-ID` (a
//!   reconnecting client sends the last id it got), so nothing posted while it was away is
//!   lost, even across a server restart; without it, only what comes from now on.
//! - `event: badges`, `data: [BadgeView]`: every badge of the user, on connect and whenever
//!   it changes. No `id`, so it never moves the client's `Last-Event-ID`.
//! - a comment every 15 s keeps proxies from closing a quiet stream.
//!
//! A stream looks in the store when the process's bell rings for its user
//! ([`crate::services::inbox_hub`]): for notifications or for badges, whichever changed. It
//! also looks for both when the bell has been silent for the hub's poll interval (another
//! replica's posts; on SQLite, only the user's new companies), and then reads the user's
//! companies again.
//! On PostgreSQL, ids are taken when a row is inserted but become visible when its transaction
//! commits, so a smaller id can appear after a larger one was sent: each look also reads back
//! over the ids sent in the last [`LOOKBACK`] and sends what it had not. A client must still
//! treat ids as a set (the desktop does), as every SSE client should after a reconnect.
//!
//! Cost per open stream: one task, a broadcast receiver, and a few KB of state; one indexed
//! read per ring that concerns it, three per poll (`cargo xtask bench` measures 1,000 streams).
//! Each user may hold [`STREAMS_PER_USER`] at once; more are answered 429.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::time::Duration;

use atrium_proto::inbox::BadgeView;
use atrium_proto::paths;
use tokio::sync::broadcast::error::RecvError;
use tokio::time::Instant;
use warp::sse::Event;
use warp::Filter;

use super::api::dashboard_user;
use super::error::{reply, ApiError, ApiResult};
use super::respond::Resp;
use super::{with_auth, AppState, Auth};
use crate::services::inbox::{badge_view, view};
use crate::services::inbox_hub::{Change, Ring, StreamSlot, STREAMS_PER_USER};
use crate::store::StoreResult;

/// How far back (in time) a look reads again for ids that committed late.
const LOOKBACK: Duration = Duration::from_secs(10);
/// Notifications read per look; a longer backlog is sent over several looks.
const BATCH: usize = 100;
/// Most ids remembered for the look-back (the oldest are forgotten first).
const MAX_RECENT: usize = 1000;

pub fn filters(state: AppState) -> impl Filter<Extract = (Resp,), Error = warp::Rejection> + Clone {
    route!(paths::EVENTS; "api" / "dashboard" / "events")
        .and(warp::get())
        .and(with_auth(state))
        .and(warp::header::optional::<String>("last-event-id"))
        .then(events)
        .map(reply)
}

async fn events((state, h): Auth, last_event_id: Option<String>) -> ApiResult {
    let user = dashboard_user(&state, h.as_deref()).await?;
    let after = match last_event_id.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(raw) => Some(raw.parse::<i64>().map_err(|_| {
            ApiError::invalid("Last-Event-ID must be the id of an event this stream sent")
        })?),
    };
    let slot = state
        .platform
        .inbox
        .open(user.id)
        .ok_or_else(|| ApiError::Throttled {
            retry_after: 30,
            description: format!("at most {STREAMS_PER_USER} event streams per user at once"),
        })?;
    // Without Last-Event-ID, the stream starts after the newest notification there is.
    let cursor = match after {
        Some(id) => id,
        None => state
            .platform
            .store
            .notifications_for(user.id, None, 1)
            .await?
            .first()
            .map_or(0, |n| n.id),
    };
    // The feed runs in a task of its own and hands its events over a small channel: the body
    // must be `Sync`, which the store's futures are not. The task ends, and gives its place
    // back, when the client goes away (the channel closes).
    let (tx, rx) = tokio::sync::mpsc::channel::<Event>(16);
    let feed = Feed {
        state: state.clone(),
        user: user.id,
        cursor,
        sent: VecDeque::new(),
        resume: None,
        badges: None,
        companies: Vec::new(),
        bell: state.platform.inbox.listen(),
        _slot: slot,
    };
    tokio::spawn(feed.run(tx));
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        let e = rx.recv().await?;
        Some((Ok::<_, Infallible>(e), rx))
    });
    let keep = warp::sse::keep_alive().interval(Duration::from_secs(15));
    Ok(warp::reply::Reply::into_response(warp::sse::reply(
        keep.stream(stream),
    )))
}

/// One stream's state.
struct Feed {
    state: AppState,
    user: i64,
    /// The largest id sent (or the client's `Last-Event-ID`).
    cursor: i64,
    /// Ids sent in the last [`LOOKBACK`], oldest first.
    sent: VecDeque<(Instant, i64)>,
    /// After a full batch, where the next read goes on: past that batch, so that a backlog
    /// longer than a batch is read through rather than from the look-back's start again
    /// (which would read the same batch, all sent, until it aged out of the look-back).
    resume: Option<i64>,
    /// The badges last sent.
    badges: Option<Vec<BadgeView>>,
    /// The user's companies, read at each poll.
    companies: Vec<i64>,
    bell: tokio::sync::broadcast::Receiver<Ring>,
    _slot: StreamSlot,
}

impl Feed {
    /// Sends events until the client goes away or the store fails (the client then
    /// reconnects with its `Last-Event-ID`).
    async fn run(mut self, tx: tokio::sync::mpsc::Sender<Event>) {
        let mut out = VecDeque::new();
        let mut what = Look::All;
        loop {
            let full = match self.look(what, &mut out).await {
                Ok(full) => full,
                Err(e) => {
                    tracing::warn!(error = %e, "event stream: the store failed; closing it");
                    return;
                }
            };
            while let Some(e) = out.pop_front() {
                if tx.send(e).await.is_err() {
                    return;
                }
            }
            if full {
                what = Look::Notifications;
                continue;
            }
            let hub = self.state.platform.inbox.clone();
            tokio::select! {
                () = tx.closed() => return,
                () = hub.closing() => return,
                next = self.wait() => what = next,
            }
        }
    }

    /// Reads what is new of `what` into `out`; true when a full batch of notifications came
    /// back.
    async fn look(&mut self, what: Look, out: &mut VecDeque<Event>) -> StoreResult<bool> {
        let store = self.state.platform.store.clone();
        if what == Look::All {
            self.companies = store
                .memberships(self.user)
                .await?
                .iter()
                .map(|m| m.company.id)
                .collect();
        }
        let mut full = false;
        if what != Look::Badges {
            full = self.look_notifications(out).await?;
        }
        if what != Look::Notifications {
            let badges: Vec<BadgeView> = store
                .badges_for(self.user)
                .await?
                .iter()
                .map(badge_view)
                .collect();
            if self.badges.as_ref() != Some(&badges) {
                let data = serde_json::to_string(&badges).unwrap_or_default();
                out.push_back(Event::default().event("badges").data(data));
                self.badges = Some(badges);
            }
        }
        Ok(full)
    }

    /// The notifications new to the client, into `out`; true when a full batch came back.
    async fn look_notifications(&mut self, out: &mut VecDeque<Event>) -> StoreResult<bool> {
        let store = &self.state.platform.store;
        let now = Instant::now();
        while self
            .sent
            .front()
            .is_some_and(|(at, _)| now.duration_since(*at) > LOOKBACK)
        {
            self.sent.pop_front();
        }
        // Past the last full batch; else from just below the oldest id sent lately, or from
        // the cursor.
        let from = self.resume.take().unwrap_or_else(|| {
            self.sent
                .iter()
                .map(|(_, id)| id - 1)
                .min()
                .unwrap_or(self.cursor)
                .min(self.cursor)
        });
        let list = store.notifications_since(self.user, from, BATCH).await?;
        let full = list.len() == BATCH;
        if full {
            self.resume = list.last().map(|n| n.id);
        }
        for n in &list {
            // Within the range read, an id sent already is skipped; any other is new to the
            // client: above the cursor, or below it and committed late.
            if self.sent.iter().any(|(_, id)| *id == n.id) {
                continue;
            }
            let data = serde_json::to_string(&view(n)).unwrap_or_default();
            out.push_back(
                Event::default()
                    .event("notification")
                    .id(n.id.to_string())
                    .data(data),
            );
            if self.sent.len() >= MAX_RECENT {
                self.sent.pop_front();
            }
            self.sent.push_back((now, n.id));
            self.cursor = self.cursor.max(n.id);
        }
        Ok(full)
    }

    /// Until the bell rings for this user (what to look at then), or the hub's poll interval
    /// passes (look at everything).
    async fn wait(&mut self) -> Look {
        let deadline = tokio::time::sleep(self.state.platform.inbox.poll());
        tokio::pin!(deadline);
        loop {
            tokio::select! {
                () = &mut deadline => return Look::All,
                rung = self.bell.recv() => match rung {
                    Ok(ring) if ring.concerns(self.user, &self.companies) => {
                        return match ring.change {
                            Change::Notification => Look::Notifications,
                            Change::Badge => Look::Badges,
                        }
                    }
                    Ok(_) => {}
                    // Missed rings: one of them may have been ours.
                    Err(RecvError::Lagged(_)) => return Look::All,
                    Err(RecvError::Closed) => {
                        deadline.await;
                        return Look::All;
                    }
                },
            }
        }
    }
}

/// What a look reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Look {
    Notifications,
    Badges,
    /// Both, after the user's companies.
    All,
}
