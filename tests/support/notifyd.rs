//! A D-Bus session bus of the test's own with a stand-in notification service on it: it owns
//! `org.freedesktop.Notifications`, records every `Notify` call, and can send the signals a
//! real one sends when the user clicks a notification (`ActionInvoked`) or it goes
//! (`NotificationClosed`). The desktop is started on this bus ([`crate::Desktop::launch_on`]).

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{bail, Context, Result};
use zbus::object_server::SignalEmitter;
use zbus::zvariant::OwnedValue;

use crate::Process;

const NAME: &str = "org.freedesktop.Notifications";
const PATH: &str = "/org/freedesktop/Notifications";

/// One `Notify` call the service received.
#[derive(Debug, Clone)]
pub struct Notified {
    /// The id the service answered.
    pub id: u32,
    pub app_name: String,
    pub summary: String,
    pub body: String,
    pub actions: Vec<String>,
}

#[derive(Default)]
struct Calls {
    notified: Vec<Notified>,
    closed: Vec<u32>,
}

struct Service {
    calls: Arc<Mutex<Calls>>,
    next: u32,
}

#[zbus::interface(name = "org.freedesktop.Notifications")]
impl Service {
    #[allow(clippy::too_many_arguments)]
    fn notify(
        &mut self,
        app_name: String,
        _replaces_id: u32,
        _app_icon: String,
        summary: String,
        body: String,
        actions: Vec<String>,
        _hints: HashMap<String, OwnedValue>,
        _expire_timeout: i32,
    ) -> u32 {
        self.next += 1;
        let mut calls = self.calls.lock().unwrap_or_else(|e| e.into_inner());
        calls.notified.push(Notified {
            id: self.next,
            app_name,
            summary,
            body,
            actions,
        });
        self.next
    }

    fn close_notification(&mut self, id: u32) {
        let mut calls = self.calls.lock().unwrap_or_else(|e| e.into_inner());
        calls.closed.push(id);
    }

    fn get_capabilities(&self) -> Vec<String> {
        vec!["actions".into(), "body".into()]
    }

    fn get_server_information(&self) -> (String, String, String, String) {
        (
            "atrium-test-notifyd".into(),
            "atrium".into(),
            "0".into(),
            "1.2".into(),
        )
    }

    #[zbus(signal)]
    async fn action_invoked(
        emitter: &SignalEmitter<'_>,
        id: u32,
        action_key: &str,
    ) -> zbus::Result<()>;

    #[zbus(signal)]
    async fn notification_closed(
        emitter: &SignalEmitter<'_>,
        id: u32,
        reason: u32,
    ) -> zbus::Result<()>;
}

/// The bus and the service on it, stopped when dropped.
pub struct NotificationDaemon {
    /// The bus's address, for `DBUS_SESSION_BUS_ADDRESS`.
    pub address: String,
    conn: zbus::Connection,
    calls: Arc<Mutex<Calls>>,
    _bus: Process,
}

impl NotificationDaemon {
    /// Starts a session bus (`dbus-daemon --session`) and the service on it.
    pub async fn start() -> Result<NotificationDaemon> {
        let mut bus = Process::spawn(
            "dbus-daemon",
            Command::new("dbus-daemon")
                .args(["--session", "--nofork", "--nopidfile", "--print-address=1"])
                .stdout(Stdio::piped()),
        )?;
        let stdout = bus.take_stdout().context("dbus-daemon's output")?;
        let address = tokio::task::spawn_blocking(move || {
            let mut line = String::new();
            BufReader::new(stdout).read_line(&mut line).map(|_| line)
        })
        .await??
        .trim()
        .to_string();
        if address.is_empty() {
            bail!("dbus-daemon printed no address");
        }
        let calls = Arc::new(Mutex::new(Calls::default()));
        let service = Service {
            calls: calls.clone(),
            next: 0,
        };
        let conn = zbus::connection::Builder::address(address.as_str())?
            .name(NAME)?
            .serve_at(PATH, service)?
            .build()
            .await
            .context("cannot serve the notification service on the test's bus")?;
        Ok(NotificationDaemon {
            address,
            conn,
            calls,
            _bus: bus,
        })
    }

    /// Every `Notify` call so far, in order.
    pub fn notified(&self) -> Vec<Notified> {
        let calls = self.calls.lock().unwrap_or_else(|e| e.into_inner());
        calls.notified.clone()
    }

    /// The ids the desktop withdrew (`CloseNotification`).
    pub fn closed(&self) -> Vec<u32> {
        let calls = self.calls.lock().unwrap_or_else(|e| e.into_inner());
        calls.closed.clone()
    }

    /// Waits for the `n`th `Notify` call (from 1).
    pub async fn wait_for(&self, n: usize, timeout: Duration) -> Result<Notified> {
        let deadline = std::time::Instant::now() + timeout;
        loop {
            if let Some(found) = self.notified().get(n - 1) {
                return Ok(found.clone());
            }
            if std::time::Instant::now() > deadline {
                bail!(
                    "the notification service got {} notifications, not {n}, within {timeout:?}",
                    self.notified().len()
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The user clicks notification `id` (its default action).
    pub async fn click(&self, id: u32) -> Result<()> {
        let iface = self
            .conn
            .object_server()
            .interface::<_, Service>(PATH)
            .await?;
        Service::action_invoked(iface.signal_emitter(), id, "default").await?;
        Service::notification_closed(iface.signal_emitter(), id, 2).await?;
        Ok(())
    }
}
