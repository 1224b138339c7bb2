//! The application state shared by every handler (HTTP and Socket.IO).

use std::ops::Deref;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

use socketioxide::SocketIo;

use crate::clock::Clock;
use crate::config::Settings;
use crate::faults::Faults;
use crate::stats::Stats;
use crate::store::Store;
use crate::tokens::TokenService;

/// Cheap-to-clone handle on everything the server knows.
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

/// The state behind [`AppState`].
pub struct Inner {
    /// Token signing and verification.
    pub tokens: TokenService,
    /// Sessions, rotations, revocations.
    store: Mutex<Store>,
    /// Counters.
    pub stats: Stats,
    /// Injected faults.
    pub faults: Faults,
    /// Where "now" comes from.
    pub clock: Arc<dyn Clock>,
    /// Configuration.
    pub settings: Settings,
    /// The latest successful joins, newest last (for `/api/dev/joins`).
    pub joins: Mutex<std::collections::VecDeque<JoinRecord>>,
    /// The Socket.IO server, set once it is built (it needs this state first).
    io: OnceLock<SocketIo>,
}

impl Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

/// A successful `join_room`: who, where, with which token.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq, Eq)]
pub struct JoinRecord {
    /// The user.
    pub user_id: String,
    /// The room.
    pub room_id: String,
    /// The `jti` of the token sent with `join_room`.
    pub jti: String,
}

/// How many joins `/api/dev/joins` remembers.
pub const JOINS_KEPT: usize = 200;

impl AppState {
    /// Remembers a successful join.
    pub fn record_join(&self, record: JoinRecord) {
        let mut joins = self.joins.lock().unwrap_or_else(|p| p.into_inner());
        if joins.len() >= JOINS_KEPT {
            joins.pop_front();
        }
        joins.push_back(record);
    }

    /// Builds the state; fails only if the JWT backend refuses the secret.
    pub fn new(
        settings: Settings,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, jsonwebtoken::errors::Error> {
        let tokens = TokenService::new(
            &settings.jwt_secret,
            settings.token_ttl,
            settings.refresh_grace,
            settings.session_max_age,
        )?;
        Ok(Self(Arc::new(Inner {
            tokens,
            store: Mutex::new(Store::new(settings.limits)),
            stats: Stats::default(),
            faults: Faults::default(),
            clock,
            settings,
            joins: Mutex::new(std::collections::VecDeque::new()),
            io: OnceLock::new(),
        })))
    }

    /// Attaches the Socket.IO server (once; later calls are ignored).
    pub fn attach_io(&self, io: SocketIo) {
        let _ = self.io.set(io);
    }

    /// The Socket.IO server, when attached.
    pub fn io(&self) -> Option<&SocketIo> {
        self.io.get()
    }

    /// Locks the store. Never held across an `.await`. A poisoned lock is recovered: every
    /// store operation leaves it consistent before anything can panic.
    pub fn store(&self) -> MutexGuard<'_, Store> {
        self.store
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}
