//! The storage seam: everything the rules must agree on across instances — each sign-in's
//! rotation chain and reuse window, revocations, sessions and their versions, the join log —
//! behind one trait. [`memory::MemoryStorage`] (one process, the default) and
//! [`redis::RedisStorage`] (`--redis URL`, several instances) give the same answers.
//!
//! Every call may fail with [`Unavailable`] (Redis down or slower than its timeout): the caller
//! then refuses with 503 and `Retry-After`, and never accepts what the rules might refuse.

pub mod durability;
pub mod memory;
pub mod redis;
pub mod redis_conn;
pub mod redis_tls;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use time::OffsetDateTime;

use crate::error::{ApiError, AuthError};
use crate::session::{Rendered, Session, SessionStatus};
use crate::stats::StatsSnapshot;

/// The storage could not answer in time (Redis down, slow, or refusing writes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the shared store did not answer in time")]
pub struct Unavailable;

impl From<Unavailable> for ApiError {
    fn from(_: Unavailable) -> Self {
        ApiError::Unavailable {
            retry_after_secs: UNAVAILABLE_RETRY_AFTER_SECS,
        }
    }
}

impl From<Unavailable> for RefreshRefused {
    fn from(_: Unavailable) -> Self {
        RefreshRefused::Unavailable
    }
}

/// `Retry-After` sent with a 503 when the store is unavailable.
pub const UNAVAILABLE_RETRY_AFTER_SECS: u32 = 2;

/// A boxed future of a storage call.
pub type StorageFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// What the token checks need to know about one sign-in.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SignInView {
    /// Revoked by logout or reuse detection.
    pub revoked: bool,
    /// `jti` of the current token as the store keeps it ([`Storage::stored_jti`]: Redis keeps
    /// digests); `None` when the sign-in was never refreshed nor revoked.
    pub current_jti: Option<String>,
    /// `exp` of the current token.
    pub current_exp: Option<i64>,
    /// `jti` of the token the last rotation replaced (as the store keeps it), and when (Unix
    /// milliseconds).
    pub last: Option<(String, i64)>,
    /// The store holds no record of this sign-in although it records every sign-in at its
    /// birth (Redis): the record was lost (a Redis that lost its data, or evicted it), so
    /// nothing about the sign-in can be trusted and its tokens are refused. The in-memory
    /// store never says so: one process, whose restart with the same secret keeps tokens valid.
    pub unknown: bool,
    /// The store's own clock when it answered (Unix milliseconds; Redis's `TIME`), which
    /// wrote the rotation times: the reuse window is judged on it, not on each instance's
    /// clock. `None` in memory (one process, one clock).
    pub store_now_ms: Option<i64>,
}

impl SignInView {
    /// Whether `jti` (as the store keeps it, [`Storage::stored_jti`]) is the sign-in's current
    /// token, or its predecessor inside the reuse window. A sign-in never refreshed has no
    /// chain: its token is current.
    pub fn is_current(&self, jti: &str, now: OffsetDateTime, window: Duration) -> bool {
        match &self.current_jti {
            None => true,
            Some(current) => {
                current == jti
                    || self.last.as_ref().is_some_and(|(last, at_ms)| {
                        let now = self.store_now_ms.unwrap_or_else(|| now_ms(now));
                        last == jti && now.saturating_sub(*at_ms) <= millis(window)
                    })
            }
        }
    }
}

/// What the socket expiry sweep needs to know about a sign-in.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SweepState {
    /// Revoked by logout or reuse detection.
    pub revoked: bool,
    /// `exp` of the current token, when the sign-in was ever refreshed.
    pub current_exp: Option<i64>,
    /// The store lost the sign-in's record (see [`SignInView::unknown`]): its sockets go.
    pub unknown: bool,
}

/// A successor token, minted before the store decides whether it is needed.
#[derive(Debug, Clone)]
pub struct Successor {
    /// Its `jti` (derived from the predecessor's under the server's secret: the same
    /// predecessor always has the same successor id).
    pub jti: String,
    /// The signed token.
    pub access_token: String,
    /// Its `iat` (Unix seconds).
    pub iat: i64,
    /// Its `exp` (Unix seconds).
    pub exp: i64,
}

/// When a successor is signed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MintAt {
    /// A new successor, issued now.
    Now,
    /// The successor recorded at an earlier refresh of the same token, signed again: the same
    /// claims (its id derives from the predecessor's, these are its times) make the same token.
    /// Redis keeps only these times, never a token.
    Again {
        /// Its `iat`.
        iat: i64,
        /// Its `exp`.
        exp: i64,
    },
}

/// Makes the successor when the store decides a new one is due (lazily in memory; in Redis it
/// is made before the atomic script runs), or makes the earlier one again ([`MintAt::Again`]).
pub type MintSuccessor<'a> = &'a (dyn Fn(MintAt) -> Result<Successor, AuthError> + Send + Sync);

/// What a refresh got.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rotated {
    /// The presented token was current: this successor is now current.
    Minted {
        /// The new token.
        access_token: String,
        /// Its `exp`.
        exp: i64,
    },
    /// The presented token was refreshed within the reuse window: the same successor again.
    Repeat {
        /// The successor it got then.
        access_token: String,
        /// Its `exp`.
        exp: i64,
    },
}

/// The rate limit of a sign-in's refreshes, as the store applies it.
#[derive(Debug, Clone, Copy)]
pub struct RotationRules {
    /// Repeats inside it get the same successor; later, the sign-in is revoked.
    pub reuse_window: Duration,
    /// Refreshes in a burst.
    pub burst: u32,
    /// Time to earn back one refresh.
    pub interval: Duration,
}

/// Everything the rules keep, shared by every instance that uses the same backend.
pub trait Storage: Send + Sync + 'static {
    /// Token id `jti` as this store keeps it, to compare with a [`SignInView`]: itself in
    /// memory, its keyed digest in Redis (which never holds a token id in clear).
    fn stored_jti<'a>(&self, jti: &'a str) -> std::borrow::Cow<'a, str> {
        std::borrow::Cow::Borrowed(jti)
    }

    /// The sign-in's chain as the token checks see it.
    fn sign_in(&self, sid: &str) -> StorageFuture<'_, Result<SignInView, Unavailable>>;

    /// Revocation and current `exp` of several sign-ins at once (the socket expiry sweep), in
    /// the order asked.
    fn sign_ins(
        &self,
        sids: Vec<String>,
    ) -> StorageFuture<'_, Result<Vec<SweepState>, Unavailable>>;

    /// Atomically decides and records a refresh: a successor for the current token, the same
    /// successor for the predecessor inside the reuse window, and for any other token reuse —
    /// which revokes the sign-in.
    fn rotate<'a>(
        &'a self,
        presented: Presented<'a>,
        now: OffsetDateTime,
        rules: RotationRules,
        mint: MintSuccessor<'a>,
    ) -> StorageFuture<'a, Result<Rotated, RefreshRefused>>;

    /// Records a new sign-in at its birth (its first token, `presented`), so that a store that
    /// later loses the record refuses the sign-in's tokens instead of trusting them (see
    /// [`SignInView::unknown`]). In memory the record counts against `--max-sign-ins`
    /// (`server_full` when no room is left).
    fn begin_sign_in<'a>(
        &'a self,
        presented: Presented<'a>,
        now: OffsetDateTime,
        burst: u32,
    ) -> StorageFuture<'a, Result<(), ApiError>>;

    /// Revokes sign-in `sid`, remembered until its end. Never refused for capacity.
    fn revoke<'a>(
        &'a self,
        presented: Presented<'a>,
        now: OffsetDateTime,
    ) -> StorageFuture<'a, Result<(), Unavailable>>;

    /// Adds a session; refuses a duplicate id or room, or one beyond the session cap.
    fn insert_session(&self, session: Session) -> StorageFuture<'_, Result<Session, ApiError>>;

    /// The rendered current version of a session `user_id` may see; `None` for a session that
    /// does not exist and for one the user is not in alike.
    fn rendered_for<'a>(
        &'a self,
        session_id: &'a str,
        user_id: &'a str,
    ) -> StorageFuture<'a, Result<Option<Arc<Rendered>>, Unavailable>>;

    /// The session owning this Socket.IO room.
    fn session_by_room<'a>(
        &'a self,
        room_id: &'a str,
    ) -> StorageFuture<'a, Result<Option<Session>, Unavailable>>;

    /// Changes a session's status (a terminal one cannot change any more); bumps its version.
    fn set_status<'a>(
        &'a self,
        session_id: &'a str,
        status: SessionStatus,
        now: OffsetDateTime,
    ) -> StorageFuture<'a, Result<Session, ApiError>>;

    /// Remembers a successful join (the latest [`JOINS_KEPT`]). Redis keeps the token id's
    /// keyed digest, not the id ([`JoinRecord::jti`] then reads back as that digest).
    fn record_join(&self, record: JoinRecord) -> StorageFuture<'_, Result<(), Unavailable>>;

    /// The latest joins, oldest first.
    fn joins(&self) -> StorageFuture<'_, Result<Vec<JoinRecord>, Unavailable>>;

    /// Adds one instance's counters (since its last call) to the shared ones; its in-flight
    /// maximum raises the shared maximum. In memory: nothing to share.
    fn add_stats(&self, added: StatsSnapshot) -> StorageFuture<'_, Result<(), Unavailable>>;

    /// The counters of every instance together; `None` in memory (one instance: its own).
    fn shared_stats(&self) -> StorageFuture<'_, Result<Option<StatsSnapshot>, Unavailable>>;
}

/// Unix milliseconds of `now`.
pub fn now_ms(now: OffsetDateTime) -> i64 {
    i64::try_from(now.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

/// A duration in milliseconds, saturating.
pub fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
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

/// Why a refresh cannot go ahead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefreshRefused {
    /// A credential problem (reuse detected: the sign-in is now revoked; or already revoked).
    Auth(AuthError),
    /// The sign-in refreshes faster than its rate limit allows.
    RateLimited,
    /// No room for another sign-in (fail closed: nothing live is forgotten).
    Full,
    /// The shared store did not answer in time (nothing was decided).
    Unavailable,
}

/// The token presented at a refresh, as far as the store cares.
#[derive(Debug, Clone, Copy)]
pub struct Presented<'a> {
    /// Sign-in id.
    pub sid: &'a str,
    /// Token id.
    pub jti: &'a str,
    /// Token expiry.
    pub exp: i64,
    /// `auth_time + max age` of the sign-in.
    pub end: i64,
}
