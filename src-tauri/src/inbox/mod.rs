//! The user's inbox on the desktop: what apps post to them reaches the UI (badges, the
//! notification centre) and, when allowed, the system's notifications.
//!
//! - [`stream`]: one Server-Sent Events stream (`GET /api/dashboard/events`) per signed-in
//!   session, parsed by [`sse`]. It reconnects with `Last-Event-ID` (kept on disk, so a restart
//!   of the desktop misses nothing either), and falls back to polling the list and the badges
//!   when the stream cannot be held. It stops at sign-out and at a server switch.
//! - [`native`]: the system's notifications (the freedesktop notification service on D-Bus);
//!   clicking one opens its app at its deep path and marks it read.
//! - here: [`Inbox`], what the shell remembers: the ids already delivered (the stream's ids are a
//!   set: nothing is delivered twice), the last id, and the settings (do-not-disturb, muted
//!   apps) saved in `inbox.json` beside `sleep.json`.

pub mod native;
pub mod sse;
pub mod stream;

use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::Mutex;

use atrium_proto::inbox::{BadgeView, NotificationView};
use atrium_proto::ipc::{BadgesChanged, InboxLink, InboxMode, InboxSettings, NotificationArrived};
use tauri::{AppHandle, Manager, Runtime};

use crate::error::Error;

/// The settings, in the app data directory.
const SETTINGS_FILE: &str = "inbox.json";
/// The last event id of the session, in the app data directory (deleted at sign-out).
const CURSOR_FILE: &str = "inbox-cursor.json";
/// Ids remembered as delivered (the server replays at most a few seconds' worth twice).
const MAX_SEEN: usize = 2000;
/// A notification older than this (seconds) is listed but does not pop up: coming back after
/// a day away must not bring a flood of them.
const FRESH_SECS: i64 = 15 * 60;

pub struct Inbox {
    dir: PathBuf,
    settings: Mutex<InboxSettings>,
    seen: Mutex<Seen>,
    mode: Mutex<InboxMode>,
    pub native: native::Native,
}

#[derive(Default)]
struct Seen {
    /// The largest id delivered (or read back from disk).
    cursor: Option<i64>,
    ids: VecDeque<i64>,
    badges: Option<Vec<BadgeView>>,
}

#[derive(serde::Serialize, serde::Deserialize)]
struct CursorFile {
    last_event_id: i64,
}

impl Inbox {
    /// The inbox of a shell keeping its files in `app_data_dir`.
    pub fn new(app_data_dir: PathBuf) -> Inbox {
        let settings = std::fs::read(app_data_dir.join(SETTINGS_FILE))
            .ok()
            .and_then(|json| serde_json::from_slice(&json).ok())
            .unwrap_or_default();
        let cursor = std::fs::read(app_data_dir.join(CURSOR_FILE))
            .ok()
            .and_then(|json| serde_json::from_slice::<CursorFile>(&json).ok())
            .map(|c| c.last_event_id);
        Inbox {
            dir: app_data_dir,
            settings: Mutex::new(settings),
            seen: Mutex::new(Seen {
                cursor,
                ..Seen::default()
            }),
            mode: Mutex::new(InboxMode::Down),
            native: native::Native::default(),
        }
    }

    /// How the shell hears of new notifications now.
    pub fn mode(&self) -> InboxMode {
        *self.mode.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn seen(&self) -> std::sync::MutexGuard<'_, Seen> {
        self.seen.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn settings(&self) -> InboxSettings {
        self.settings
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    pub fn set_settings(&self, mut settings: InboxSettings) -> Result<InboxSettings, Error> {
        settings.muted.sort_unstable();
        settings.muted.dedup();
        let json =
            serde_json::to_vec_pretty(&settings).map_err(|e| Error::Internal(e.to_string()))?;
        std::fs::create_dir_all(&self.dir)
            .and_then(|()| std::fs::write(self.dir.join(SETTINGS_FILE), json))
            .map_err(|e| Error::Internal(format!("cannot save the settings: {e}")))?;
        *self.settings.lock().unwrap_or_else(|e| e.into_inner()) = settings.clone();
        Ok(settings)
    }

    /// The last event id delivered (the stream's `Last-Event-ID`).
    pub fn cursor(&self) -> Option<i64> {
        self.seen().cursor
    }

    /// Where polling starts when it has no cursor yet: what is there now counts as seen.
    fn start_at(&self, id: i64) {
        let mut seen = self.seen();
        if seen.cursor.is_none() {
            seen.cursor = Some(id);
            drop(seen);
            self.save_cursor(id);
        }
    }

    /// The session ended: its cursor and what it delivered are forgotten.
    pub fn forget(&self) {
        *self.seen() = Seen::default();
        let _ = std::fs::remove_file(self.dir.join(CURSOR_FILE));
    }

    /// Records `n` as delivered; false when it had been already.
    fn take(&self, n: &NotificationView) -> bool {
        let mut seen = self.seen();
        if seen.ids.contains(&n.id) {
            return false;
        }
        if seen.ids.len() >= MAX_SEEN {
            seen.ids.pop_front();
        }
        seen.ids.push_back(n.id);
        let moved = seen.cursor.is_none_or(|c| n.id > c);
        if moved {
            seen.cursor = Some(n.id);
        }
        drop(seen);
        if moved {
            self.save_cursor(n.id);
        }
        true
    }

    fn save_cursor(&self, id: i64) {
        let json = serde_json::to_vec(&CursorFile { last_event_id: id }).unwrap_or_default();
        if let Err(e) = std::fs::write(self.dir.join(CURSOR_FILE), json) {
            tracing::debug!(error = %e, "cannot save the inbox's last event id");
        }
    }

    /// Records the badges; false when they are those already sent to the UI.
    fn take_badges(&self, badges: &[BadgeView]) -> bool {
        let mut seen = self.seen();
        if seen.badges.as_deref() == Some(badges) {
            return false;
        }
        seen.badges = Some(badges.to_vec());
        true
    }
}

/// A notification from the stream or a poll: to the UI, and (unless it was delivered already,
/// is read, old, muted or the user is not to be disturbed) to the system's notifications.
pub(crate) async fn deliver<R: Runtime>(app: &AppHandle<R>, n: NotificationView) {
    let inbox = app.state::<Inbox>();
    if !inbox.take(&n) {
        return;
    }
    let pop_up = !n.read
        && crate::inbox::now() - n.created_at <= FRESH_SECS
        && inbox.settings().may_pop_up(n.install_id);
    if pop_up {
        inbox.native.show(app, &n).await;
    }
    crate::emit(app, NotificationArrived { notification: n });
}

/// How the shell now hears of new notifications, to the UI when it changed.
pub(crate) fn link<R: Runtime>(app: &AppHandle<R>, mode: InboxMode) {
    let inbox = app.state::<Inbox>();
    let before = std::mem::replace(
        &mut *inbox.mode.lock().unwrap_or_else(|e| e.into_inner()),
        mode,
    );
    if before != mode {
        crate::emit(app, InboxLink { mode });
    }
}

/// The user's badges, to the UI when they changed.
pub(crate) fn badges<R: Runtime>(app: &AppHandle<R>, badges: Vec<BadgeView>) {
    if app.state::<Inbox>().take_badges(&badges) {
        crate::emit(app, BadgesChanged { badges });
    }
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn note(id: i64) -> NotificationView {
        NotificationView {
            id,
            install_id: 1,
            app_name: "App".into(),
            company_id: 1,
            title: "t".into(),
            body: String::new(),
            path: None,
            personal: false,
            created_at: 0,
            read: false,
        }
    }

    #[test]
    fn each_notification_is_taken_once_and_the_last_id_survives_a_restart() {
        let dir = tempfile::tempdir().unwrap();
        let inbox = Inbox::new(dir.path().to_path_buf());
        assert_eq!(inbox.cursor(), None);
        assert!(inbox.take(&note(5)));
        assert!(inbox.take(&note(3)), "a smaller id committed late is new");
        assert!(!inbox.take(&note(5)));
        assert_eq!(inbox.cursor(), Some(5));
        assert_eq!(Inbox::new(dir.path().to_path_buf()).cursor(), Some(5));
        inbox.forget();
        assert_eq!(Inbox::new(dir.path().to_path_buf()).cursor(), None);
        assert!(inbox.take(&note(5)), "a new session starts afresh");
    }

    #[test]
    fn settings_are_saved_and_say_what_may_pop_up() {
        let dir = tempfile::tempdir().unwrap();
        let inbox = Inbox::new(dir.path().to_path_buf());
        assert!(inbox.settings().may_pop_up(7));
        inbox
            .set_settings(InboxSettings {
                do_not_disturb: false,
                muted: vec![7, 7, 2],
            })
            .unwrap();
        let again = Inbox::new(dir.path().to_path_buf()).settings();
        assert_eq!(again.muted, vec![2, 7]);
        assert!(!again.may_pop_up(7) && again.may_pop_up(3));
        let dnd = InboxSettings {
            do_not_disturb: true,
            muted: Vec::new(),
        };
        assert!(!inbox.set_settings(dnd).unwrap().may_pop_up(3));
    }

    #[test]
    fn badges_go_to_the_ui_only_when_they_change() {
        let dir = tempfile::tempdir().unwrap();
        let inbox = Inbox::new(dir.path().to_path_buf());
        let b = vec![BadgeView {
            install_id: 1,
            count: 2,
        }];
        assert!(inbox.take_badges(&b));
        assert!(!inbox.take_badges(&b));
        assert!(inbox.take_badges(&[]));
    }
}
