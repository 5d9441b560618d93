//! [`Platform`]: what the OAuth logic ([`crate::oauth`]) and the platform's services
//! ([`crate::services`]) share: the store, the authorization server's configuration, the server
//! keys, and the bell of the notification worker. Cheap to clone.

use std::sync::Arc;

use tokio::sync::Notify;

use crate::keys::ServerKeys;
use crate::oauth::OAuthConfig;
use crate::store::Store;

/// The platform's shared state, handed to every protocol and service call.
#[derive(Clone)]
pub struct Platform {
    pub store: Arc<dyn Store>,
    pub config: Arc<OAuthConfig>,
    pub keys: Arc<ServerKeys>,
    /// Wakes the notification worker when an install change queued an event.
    pub outbox: Arc<Notify>,
    /// Wakes the dashboard's event streams when an app posted or set a badge.
    pub inbox: Arc<crate::services::inbox_hub::InboxHub>,
}

impl Platform {
    pub fn new(store: Arc<dyn Store>, config: OAuthConfig, keys: Arc<ServerKeys>) -> Platform {
        Platform {
            store,
            config: Arc::new(config),
            keys,
            outbox: Arc::new(Notify::new()),
            inbox: Arc::default(),
        }
    }
}
