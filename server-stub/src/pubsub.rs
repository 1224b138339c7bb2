//! The Socket.IO Redis adapter's pub/sub, on a connection that heals itself: socketioxide-redis's
//! own driver holds one plain connection, which stays dead after Redis restarts. This one uses
//! redis' `ConnectionManager` (reconnects with backoff, resubscribes every channel), and bounds
//! every publish and subscribe by the store's timeout.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use redis::aio::ConnectionManager;
use redis::{FromRedisValue, PushInfo, PushKind};
use socketioxide_redis::drivers::{ChanItem, Driver, MessageStream};
use tokio::sync::mpsc;

use crate::storage::redis::{ConnectError, connect_manager, manager_config};

/// The Socket.IO adapter over [`PubSub`].
pub type ClusterAdapter =
    socketioxide_redis::CustomRedisAdapter<socketioxide::adapter::Emitter, PubSub>;

type Handlers = Arc<RwLock<HashMap<String, mpsc::Sender<ChanItem>>>>;

/// A pub/sub failure (Redis error or timeout).
#[derive(Debug)]
pub struct PubSubError(String);

impl fmt::Display for PubSubError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "redis pub/sub: {}", self.0)
    }
}

impl std::error::Error for PubSubError {}

impl From<redis::RedisError> for PubSubError {
    fn from(e: redis::RedisError) -> Self {
        PubSubError(format!("{:?}", e.kind()))
    }
}

/// A pub/sub driver for socketioxide-redis over a self-healing connection.
#[derive(Clone)]
pub struct PubSub {
    conn: ConnectionManager,
    handlers: Handlers,
    timeout: Duration,
}

/// Routes a pushed message to its channel's stream (dropped, with a debug line, when that
/// stream is full or gone: the adapter treats pub/sub as best effort).
fn route(push: PushInfo, handlers: &Handlers) {
    if !matches!(push.kind, PushKind::Message | PushKind::SMessage) {
        return;
    }
    let mut data = push.data.into_iter();
    let (Some(channel), Some(payload)) = (data.next(), data.next()) else {
        return;
    };
    let (Ok(channel), Ok(payload)) = (
        String::from_redis_value(channel),
        Vec::<u8>::from_redis_value(payload),
    ) else {
        return;
    };
    let handlers = handlers.read().unwrap_or_else(|p| p.into_inner());
    if let Some(tx) = handlers.get(&channel)
        && let Err(e) = tx.try_send((channel, payload))
    {
        tracing::debug!(error = %e, "pub/sub message dropped");
    }
}

impl PubSub {
    /// Connects (bounded by `timeout`).
    pub async fn connect(client: &redis::Client, timeout: Duration) -> Result<Self, ConnectError> {
        let handlers: Handlers = Arc::default();
        let routed = handlers.clone();
        let config = manager_config(timeout)
            .set_push_sender(move |push: PushInfo| {
                route(push, &routed);
                Ok::<(), std::convert::Infallible>(())
            })
            .set_automatic_resubscription();
        let conn = connect_manager(client, config, timeout).await?;
        Ok(PubSub {
            conn,
            handlers,
            timeout,
        })
    }

    async fn bounded<T>(
        &self,
        call: impl Future<Output = redis::RedisResult<T>>,
    ) -> Result<T, PubSubError> {
        match tokio::time::timeout(self.timeout, call).await {
            Ok(answer) => Ok(answer?),
            Err(_) => Err(PubSubError("timeout".to_owned())),
        }
    }
}

impl Driver for PubSub {
    type Error = PubSubError;

    async fn publish(&self, chan: String, val: Vec<u8>) -> Result<(), Self::Error> {
        let mut conn = self.conn.clone();
        let _: redis::Value = self
            .bounded(
                redis::cmd("PUBLISH")
                    .arg(chan)
                    .arg(val)
                    .query_async(&mut conn),
            )
            .await?;
        Ok(())
    }

    async fn subscribe(
        &self,
        chan: String,
        size: usize,
    ) -> Result<MessageStream<ChanItem>, Self::Error> {
        let (tx, rx) = mpsc::channel(size.max(1));
        self.handlers
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(chan.clone(), tx);
        let mut conn = self.conn.clone();
        self.bounded(conn.subscribe(chan.as_str())).await?;
        Ok(MessageStream::new(rx))
    }

    async fn unsubscribe(&self, chan: String) -> Result<(), Self::Error> {
        self.handlers
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&chan);
        let mut conn = self.conn.clone();
        self.bounded(conn.unsubscribe(chan.as_str())).await
    }

    async fn num_serv(&self, chan: &str) -> Result<u16, Self::Error> {
        let mut conn = self.conn.clone();
        let (_, count): (String, u16) = self
            .bounded(
                redis::cmd("PUBSUB")
                    .arg("NUMSUB")
                    .arg(chan)
                    .query_async(&mut conn),
            )
            .await?;
        Ok(count)
    }
}
