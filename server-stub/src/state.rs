//! The application state shared by every handler (HTTP and Socket.IO).

use std::ops::Deref;
use std::sync::{Arc, OnceLock};

use crate::clock::Clock;
use crate::config::Settings;
use crate::faults::Faults;
use crate::rooms::Rooms;
use crate::stats::{Stats, StatsSnapshot};
use crate::storage::{Storage, Unavailable};
use crate::tokens::TokenService;

/// Cheap-to-clone handle on everything the server knows.
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

/// The state behind [`AppState`].
pub struct Inner {
    /// Token signing and verification.
    pub tokens: TokenService,
    /// Sign-ins, sessions, the join log: in memory, or shared on Redis.
    storage: Arc<dyn Storage>,
    /// Counters (this instance's).
    pub stats: Stats,
    /// Injected faults (this instance's).
    pub faults: Faults,
    /// The socket event rate limit of this instance's sign-ins.
    pub event_limit: crate::event_limit::EventLimit,
    /// Where "now" comes from.
    pub clock: Arc<dyn Clock>,
    /// Configuration.
    pub settings: Settings,
    /// The Socket.IO rooms, set once the server is built (it needs this state first).
    rooms: OnceLock<Arc<dyn Rooms>>,
    /// This instance's counters as last added to the shared ones (one flush at a time).
    stats_flushed: tokio::sync::Mutex<StatsSnapshot>,
}

impl Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl AppState {
    /// Builds the state over `storage`; fails only if the JWT backend refuses the secret.
    pub fn new(
        settings: Settings,
        clock: Arc<dyn Clock>,
        storage: Arc<dyn Storage>,
    ) -> Result<Self, jsonwebtoken::errors::Error> {
        let tokens = TokenService::new(
            &settings.jwt_secret,
            settings.token_ttl,
            settings.refresh_grace,
            settings.session_max_age,
        )?;
        Ok(Self(Arc::new(Inner {
            tokens,
            storage,
            stats: Stats::default(),
            faults: Faults::default(),
            event_limit: crate::event_limit::EventLimit::default(),
            clock,
            settings,
            rooms: OnceLock::new(),
            stats_flushed: tokio::sync::Mutex::new(StatsSnapshot::default()),
        })))
    }

    /// Attaches the Socket.IO rooms (once; later calls are ignored).
    pub fn attach_rooms(&self, rooms: Arc<dyn Rooms>) {
        let _ = self.rooms.set(rooms);
    }

    /// The Socket.IO rooms, when attached.
    pub fn rooms(&self) -> Option<&dyn Rooms> {
        self.rooms.get().map(|rooms| rooms.as_ref())
    }

    /// The storage backend.
    pub fn storage(&self) -> &dyn Storage {
        self.storage.as_ref()
    }

    /// Adds this instance's counters since the last flush to the shared ones (with `--redis`;
    /// in memory nothing happens). A flush that timed out but reached Redis late is counted
    /// again by the next one: the shared counters are statistics, not a ledger.
    pub async fn flush_stats(&self) -> Result<(), Unavailable> {
        let mut flushed = self.stats_flushed.lock().await;
        let now = self.stats.snapshot();
        self.storage().add_stats(now.since(&flushed)).await?;
        *flushed = now;
        Ok(())
    }

    /// The counters of every instance together (this instance's flushed first), or this
    /// instance's alone in memory.
    pub async fn cluster_stats(&self) -> Result<StatsSnapshot, Unavailable> {
        self.flush_stats().await?;
        Ok(self
            .storage()
            .shared_stats()
            .await?
            .unwrap_or_else(|| self.stats.snapshot()))
    }
}
