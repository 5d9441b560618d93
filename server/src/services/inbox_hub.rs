//! The bell of the dashboard's event streams: a post or a badge change rings it with what
//! changed ([`Ring`]: the company, the one member concerned if only one is, and whether it was
//! a notification or a badge), and every stream of this process whose user it concerns reads
//! that, and only that, from the store. The bell carries no content, so a stream never trusts
//! it for what a user sees: that is always the store's answer (the same visibility rule as the
//! listing).
//!
//! Per process. On SQLite there is one process, every post rings this bell, and a stream also
//! looks every [`POLL_ALONE`] only to learn its user's new companies. Several replicas on one
//! PostgreSQL database do not hear each other's bell, so there streams look every
//! [`POLL_SHARED`], which bounds the delay of a notification posted through another replica.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::broadcast;

/// How often a stream looks in the store even when its bell is silent, when other processes
/// may post (PostgreSQL replicas).
pub const POLL_SHARED: Duration = Duration::from_secs(5);

/// The same, when this process is the only one (SQLite): what a look then finds is only a
/// company the user joined since the last (its notifications ring under its id).
pub const POLL_ALONE: Duration = Duration::from_secs(60);

/// Streams one user may hold open at once (a desktop holds one; a few for several devices).
pub const STREAMS_PER_USER: usize = 4;

/// What changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    Notification,
    Badge,
}

/// One ring of the bell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ring {
    pub company: i64,
    /// The one member it concerns, or `None` for every member of the company.
    pub member: Option<i64>,
    pub change: Change,
}

impl Ring {
    /// Whether a stream of `user`, a member of `companies`, must look.
    pub fn concerns(&self, user: i64, companies: &[i64]) -> bool {
        self.member.is_none_or(|m| m == user) && companies.contains(&self.company)
    }
}

#[derive(Debug)]
pub struct InboxHub {
    bell: broadcast::Sender<Ring>,
    poll: Duration,
    open: Mutex<HashMap<i64, usize>>,
    /// True once the server stops: every stream ends, so none holds up the stop.
    closed: tokio::sync::watch::Sender<bool>,
}

impl Default for InboxHub {
    fn default() -> Self {
        InboxHub::new(POLL_SHARED)
    }
}

impl InboxHub {
    /// A hub whose streams look every `poll` when their bell is silent.
    pub fn new(poll: Duration) -> Self {
        InboxHub {
            // A stream that falls more than this many rings behind just looks again.
            bell: broadcast::channel(256).0,
            poll,
            open: Mutex::new(HashMap::new()),
            closed: tokio::sync::watch::channel(false).0,
        }
    }

    /// Something changed for members of a company.
    pub fn ring(&self, ring: Ring) {
        // No stream listening is not an error.
        let _ = self.bell.send(ring);
    }

    pub fn listen(&self) -> broadcast::Receiver<Ring> {
        self.bell.subscribe()
    }

    /// How often a stream looks when its bell is silent.
    pub fn poll(&self) -> Duration {
        self.poll
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ring_concerns_the_members_it_names_in_their_companies() {
        let ring = |member| Ring {
            company: 7,
            member,
            change: Change::Notification,
        };
        assert!(ring(None).concerns(1, &[3, 7]));
        assert!(!ring(None).concerns(1, &[3]), "another company's");
        assert!(ring(Some(1)).concerns(1, &[7]));
        assert!(!ring(Some(2)).concerns(1, &[7]), "another member's");
    }
}
