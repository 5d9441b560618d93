//! The bell of the dashboard's event streams: a post or a badge change rings it with the
//! company concerned, and every stream of this process whose user belongs there reads what is
//! new from the store. The bell carries no data, so a stream never trusts it for content:
//! what a user sees is always the store's answer (the same visibility rule as the listing).
//!
//! Per process. Several replicas on one PostgreSQL database do not hear each other's bell;
//! their streams also look every [`POLL`], which bounds the delay of a notification posted
//! through another replica.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::broadcast;

/// How often a stream looks in the store even when its bell is silent.
pub const POLL: Duration = Duration::from_secs(5);

/// Streams one user may hold open at once (a desktop holds one; a few for several devices).
pub const STREAMS_PER_USER: usize = 4;

#[derive(Debug)]
pub struct InboxHub {
    bell: broadcast::Sender<i64>,
    open: Mutex<HashMap<i64, usize>>,
    /// True once the server stops: every stream ends, so none holds up the stop.
    closed: tokio::sync::watch::Sender<bool>,
}

impl Default for InboxHub {
    fn default() -> Self {
        InboxHub {
            // A stream that falls more than this many rings behind just looks again.
            bell: broadcast::channel(256).0,
            open: Mutex::new(HashMap::new()),
            closed: tokio::sync::watch::channel(false).0,
        }
    }
}

impl InboxHub {
    /// Something changed for the members of `company`.
    pub fn ring(&self, company: i64) {
        // No stream listening is not an error.
        let _ = self.bell.send(company);
    }

    pub fn listen(&self) -> broadcast::Receiver<i64> {
        self.bell.subscribe()
    }

    /// A place for one more stream of `user`, or `None` at [`STREAMS_PER_USER`]. The place is
    /// given back when the guard drops (the stream ends or its client goes away).
    pub fn open(self: &Arc<Self>, user: i64) -> Option<StreamSlot> {
        let mut open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        let n = open.entry(user).or_insert(0);
        if *n >= STREAMS_PER_USER {
            return None;
        }
        *n += 1;
        Some(StreamSlot {
            hub: self.clone(),
            user,
        })
    }

    /// Ends every stream (the server is stopping); new ones end at once.
    pub fn close(&self) {
        self.closed.send_replace(true);
    }

    /// Resolves once [`InboxHub::close`] was called.
    pub async fn closing(&self) {
        let mut rx = self.closed.subscribe();
        let _ = rx.wait_for(|c| *c).await;
    }

    /// Streams open now, across users.
    pub fn streams(&self) -> usize {
        self.open
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .values()
            .sum()
    }
}

/// One open stream's place; see [`InboxHub::open`].
#[derive(Debug)]
pub struct StreamSlot {
    hub: Arc<InboxHub>,
    user: i64,
}

impl Drop for StreamSlot {
    fn drop(&mut self) {
        let mut open = self.hub.open.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(n) = open.get_mut(&self.user) {
            *n -= 1;
            if *n == 0 {
                open.remove(&self.user);
            }
        }
    }
}
