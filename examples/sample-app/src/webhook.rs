//! The webhook receiver: `POST /webhook` takes Atrium's install notifications, and
//! `GET /webhook/events` (HTML) and `/webhook/events.json` list what arrived, newest first.
//!
//! A notification is answered as soon as it is checked and recorded, all in memory:
//! - 400 for a body that is not an event;
//! - 401 for an app this program does not serve or has no webhook secret for, a missing or
//!   wrong signature, or a timestamp more than five minutes away (see [`crate::signature`]);
//! - 200 otherwise, including for an event id already received (delivery is at least once:
//!   the same event may come twice, and is recorded once).
//!
//! Event types other than `app.installed` and `app.uninstalled` are recorded and otherwise
//! ignored, so that new kinds of notification do not make the server retry for nothing.

use std::collections::{HashSet, VecDeque};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};
use warp::http::StatusCode;

use crate::config::AppId;
use crate::signature::{self, SignatureError};
use crate::web::{self, Resp};
use crate::State;

/// Largest body accepted.
pub const BODY_LIMIT: u64 = 64 * 1024;
/// How many events are kept (oldest dropped first).
const KEEP: usize = 1000;

/// A notification, as Atrium sends it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub created_at: i64,
    pub app: EventApp,
    pub company: EventCompany,
    #[serde(default)]
    pub user: Option<EventUser>,
    pub install_id: i64,
    #[serde(default)]
    pub scopes: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventApp {
    pub client_id: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventCompany {
    pub id: i64,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventUser {
    pub username: String,
}

/// An event as received.
#[derive(Debug, Clone, Serialize)]
pub struct Received {
    pub event: Event,
    /// Unix seconds.
    pub received_at: i64,
    /// The `t` of its signature.
    pub signed_at: i64,
}

#[derive(Default)]
struct Log {
    events: VecDeque<Received>,
    ids: HashSet<String>,
}

/// The events received, newest last; deduplicated by id.
#[derive(Default)]
pub struct EventLog {
    log: Mutex<Log>,
}

impl EventLog {
    fn lock(&self) -> std::sync::MutexGuard<'_, Log> {
        self.log.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Records `received` unless its id was seen; returns whether it was new.
    pub fn record(&self, received: Received) -> bool {
        let mut log = self.lock();
        if !log.ids.insert(received.event.id.clone()) {
            return false;
        }
        log.events.push_back(received);
        while log.events.len() > KEEP {
            if let Some(old) = log.events.pop_front() {
                log.ids.remove(&old.event.id);
            }
        }
        true
    }

    /// The events, newest first.
    pub fn newest_first(&self) -> Vec<Received> {
        self.lock().events.iter().rev().cloned().collect()
    }
}

/// Why a notification was refused.
#[derive(Debug, thiserror::Error)]
pub enum Refusal {
    #[error("the body is not an Atrium event: {0}")]
    Malformed(String),
    #[error("this receiver does not serve the app {0:?}")]
    UnknownApp(String),
    #[error("no webhook secret is configured for {0}; start the sample app with --config")]
    NoSecret(&'static str),
    #[error(transparent)]
    Signature(#[from] SignatureError),
}

impl Refusal {
    fn status(&self) -> StatusCode {
        match self {
            Refusal::Malformed(_) => StatusCode::BAD_REQUEST,
            _ => StatusCode::UNAUTHORIZED,
        }
    }

    fn code(&self) -> &'static str {
        match self {
            Refusal::Malformed(_) => "malformed_event",
            Refusal::UnknownApp(_) | Refusal::NoSecret(_) => "unknown_app",
            Refusal::Signature(_) => "invalid_signature",
        }
    }
}

/// Parses and checks a notification; returns the event, its app and the signed timestamp.
pub fn check(
    state: &State,
    signature_header: Option<&str>,
    body: &[u8],
    now: i64,
) -> Result<(Event, AppId, i64), Refusal> {
    let event: Event =
        serde_json::from_slice(body).map_err(|e| Refusal::Malformed(e.to_string()))?;
    if event.id.trim().is_empty() || event.id.len() > 200 || event.kind.trim().is_empty() {
        return Err(Refusal::Malformed(
            "the id or type is empty or too long".into(),
        ));
    }
    let app = state
        .config
        .app_by_client_id(&event.app.client_id)
        .ok_or_else(|| Refusal::UnknownApp(event.app.client_id.clone()))?;
    let secret = state
        .config
        .app(app)
        .webhook_secret
        .as_ref()
        .ok_or(Refusal::NoSecret(app.label()))?;
    let signed_at = signature::verify(secret.expose().as_bytes(), signature_header, body, now)?;
    Ok((event, app, signed_at))
}

/// `POST /webhook`.
pub async fn receive(
    state: State,
    signature_header: Option<String>,
    body: warp::hyper::body::Bytes,
) -> Resp {
    let now = crate::unix_now();
    let (event, app, signed_at) = match check(&state, signature_header.as_deref(), &body, now) {
        Ok(checked) => checked,
        Err(refusal) => {
            tracing::warn!(reason = %refusal, "webhook refused");
            return web::json_error(refusal.status(), refusal.code(), &refusal.to_string());
        }
    };
    let received = Received {
        event: event.clone(),
        received_at: now,
        signed_at,
    };
    if !state.events.record(received) {
        tracing::info!(event = %event.id, "duplicate webhook ignored");
        return web::json(
            StatusCode::OK,
            &serde_json::json!({ "received": true, "duplicate": true }),
        );
    }
    tracing::info!(
        event = %event.id,
        kind = %event.kind,
        app = app.label(),
        company = event.company.id,
        install = event.install_id,
        "webhook received"
    );
    if event.kind == "app.uninstalled" {
        // The server has revoked the install's tokens: stop using them.
        let dropped = state.tokens.forget_company(app, event.company.id);
        tracing::info!(
            app = app.label(),
            dropped,
            "forgot the uninstalled company's tokens"
        );
    }
    web::json(
        StatusCode::OK,
        &serde_json::json!({ "received": true, "duplicate": false }),
    )
}

/// `GET /webhook/events`.
pub async fn events_page(state: State) -> Resp {
    web::html(
        StatusCode::OK,
        crate::pages::events(&state.events.newest_first()),
    )
}

/// `GET /webhook/events.json`.
pub async fn events_json(state: State) -> Resp {
    web::json(StatusCode::OK, &state.events.newest_first())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(id: &str) -> Received {
        Received {
            event: Event {
                id: id.into(),
                kind: "app.installed".into(),
                created_at: 1,
                app: EventApp {
                    client_id: "demo-app1".into(),
                },
                company: EventCompany {
                    id: 1,
                    name: "Demo Company".into(),
                },
                user: Some(EventUser {
                    username: "demo".into(),
                }),
                install_id: 1,
                scopes: "profile".into(),
            },
            received_at: 1,
            signed_at: 1,
        }
    }

    #[test]
    fn an_event_id_is_recorded_once() {
        let log = EventLog::default();
        assert!(log.record(event("evt_a")));
        assert!(!log.record(event("evt_a")));
        assert!(log.record(event("evt_b")));
        let ids: Vec<String> = log.newest_first().into_iter().map(|r| r.event.id).collect();
        assert_eq!(ids, ["evt_b", "evt_a"]);
    }

    #[test]
    fn the_log_keeps_the_newest_events_only() {
        let log = EventLog::default();
        for i in 0..KEEP + 5 {
            log.record(event(&format!("evt_{i}")));
        }
        let all = log.newest_first();
        assert_eq!(all.len(), KEEP);
        assert_eq!(all[0].event.id, format!("evt_{}", KEEP + 4));
        assert_eq!(all[KEEP - 1].event.id, "evt_5");
    }

    #[test]
    fn events_without_optional_fields_still_parse() {
        let e: Event = serde_json::from_str(
            r#"{"id":"evt_1","type":"app.uninstalled","created_at":5,"app":{"client_id":"x"},
                "company":{"id":2,"name":"C"},"install_id":9,"extra":true}"#,
        )
        .unwrap();
        assert_eq!(e.user, None);
        assert_eq!(e.scopes, "");
    }
}
