//! Keeping the read caches of several replicas honest: `LISTEN/NOTIFY` on [`CHANNEL`].
//!
//! Every write that revokes tokens or changes a client sends `NOTIFY` in its own transaction
//! (PostgreSQL delivers it when, and only if, the transaction commits), naming which cache it
//! empties ([`TOKENS`] or [`CLIENTS`]). Each replica keeps one connection of its own, outside
//! the pool, that listens on the channel and empties its caches when told.
//!
//! A replica that does not listen cannot hear a revocation, so it must not answer from memory:
//! the caches answer only while [`Listener::listening`]. When the listening connection drops,
//! the replica stops caching and empties its caches at once, then connects again with a
//! back-off; once it listens again it empties them once more (a notification may have been
//! sent while it was deaf) and only then caches again. An entry is therefore never older than
//! the last notification this replica could have missed.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use tokio_postgres::{AsyncMessage, NoTls};

use super::{tx_execute, AccessInfo, Client, ReadCache, StoreResult, TokenDigest};

/// The channel every replica listens on.
pub const CHANNEL: &str = "atrium_invalidate";
/// Payload: tokens were revoked.
pub const TOKENS: &str = "tokens";
/// Payload: a client changed (secret, settings, deletion).
pub const CLIENTS: &str = "clients";

/// Longest wait between two attempts to listen again.
const MAX_BACKOFF: Duration = Duration::from_secs(2);

/// Sends the invalidation `what` when `tx` commits.
pub(super) async fn notify(tx: &deadpool_postgres::Transaction<'_>, what: &str) -> StoreResult<()> {
    tx_execute(
        tx,
        "SELECT pg_notify('atrium_invalidate', $1)::TEXT",
        &[&what],
    )
    .await?;
    Ok(())
}

/// The listening task of one replica; dropping it stops the task and closes its connection.
pub struct Listener {
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

struct Shared {
    listening: AtomicBool,
    /// Taken before each attempt to listen; held only by tests, to keep a replica deaf.
    gate: Arc<tokio::sync::Mutex<()>>,
    access: Arc<ReadCache<TokenDigest, AccessInfo>>,
    clients: Arc<ReadCache<String, Client>>,
}

impl Shared {
    fn apply(&self, payload: &str) {
        match payload {
            TOKENS => self.access.invalidate(),
            CLIENTS => self.clients.invalidate(),
            _ => self.forget_all(),
        }
    }

    fn forget_all(&self) {
        self.access.invalidate();
        self.clients.invalidate();
    }

    /// Deaf: stop answering from memory first, then empty the caches (an insert racing this
    /// finds the generation moved and is dropped).
    fn deaf(&self) {
        self.listening.store(false, Ordering::SeqCst);
        self.forget_all();
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Listener {
    /// Starts listening on a connection of its own, made from `config`.
    pub(super) fn start(
        config: tokio_postgres::Config,
        access: Arc<ReadCache<TokenDigest, AccessInfo>>,
        clients: Arc<ReadCache<String, Client>>,
    ) -> Listener {
        let shared = Arc::new(Shared {
            listening: AtomicBool::new(false),
            gate: Arc::default(),
            access,
            clients,
        });
        let task = tokio::spawn(run(config, shared.clone()));
        Listener { shared, task }
    }

    /// Whether the replica hears invalidations now (and so may cache).
    pub fn listening(&self) -> bool {
        self.shared.listening.load(Ordering::SeqCst)
    }

    /// Keeps the replica from listening again (once its connection drops) until the guard
    /// is dropped.
    #[cfg(test)]
    pub(super) async fn hold_reconnect(&self) -> tokio::sync::OwnedMutexGuard<()> {
        self.shared.gate.clone().lock_owned().await
    }
}

async fn run(config: tokio_postgres::Config, shared: Arc<Shared>) {
    let mut backoff = Duration::from_millis(50);
    loop {
        drop(shared.gate.lock().await);
        match listen(&config, &shared).await {
            Ok(()) => tracing::warn!("the invalidation listener lost its connection; not caching"),
            Err(e) => tracing::warn!(error = %e, "cannot listen for invalidations; not caching"),
        }
        let was = shared.listening.load(Ordering::SeqCst);
        shared.deaf();
        if was {
            backoff = Duration::from_millis(50);
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

/// Listens until the connection ends.
async fn listen(
    config: &tokio_postgres::Config,
    shared: &Shared,
) -> Result<(), tokio_postgres::Error> {
    let (client, mut connection) = config.connect(NoTls).await?;
    let (heard, mut hear) = tokio::sync::mpsc::unbounded_channel::<String>();
    // The connection is driven by its own task, which passes notifications on and ends (so
    // closing the channel) when the connection does.
    let driver = tokio::spawn(async move {
        let mut messages = futures_util::stream::poll_fn(move |cx| connection.poll_message(cx));
        while let Some(message) = messages.next().await {
            match message {
                Ok(AsyncMessage::Notification(n)) => {
                    if heard.send(n.payload().to_string()).is_err() {
                        break;
                    }
                }
                Ok(_) => {}
                Err(e) => {
                    tracing::debug!(error = %e, "the invalidation connection ended");
                    break;
                }
            }
        }
    });
    let listened = client.batch_execute(&format!("LISTEN {CHANNEL}")).await;
    if let Err(e) = listened {
        driver.abort();
        return Err(e);
    }
    // Whatever was cached before may have missed a notification.
    shared.forget_all();
    shared.listening.store(true, Ordering::SeqCst);
    tracing::debug!("listening for invalidations");
    while let Some(payload) = hear.recv().await {
        shared.apply(&payload);
    }
    drop(client);
    Ok(())
}
