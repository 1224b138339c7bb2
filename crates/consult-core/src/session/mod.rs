//! The token session machine (quinn-proto style): every decision about the access token of one
//! client — when to load it, when to refresh it, whether an answer is trusted, how to back off,
//! what the other tabs' messages mean, when a sign-in is over, and what each caller gets.
//!
//! A driver feeds [`TokenSession::handle`] what happened (a call of the application, a storage,
//! lock or HTTP result, a message of another tab) and [`TokenSession::handle_timeout`] when
//! [`TokenSession::poll_timeout`] is reached, then performs every [`Action`] from
//! [`TokenSession::poll_action`]. Each input comes with [`Now`], the driver's two clocks: wall
//! time (device Unix ms) for token expiry and skew only, monotonic time for every deadline
//! ([`TokenSession::poll_timeout`] is on the monotonic clock). Between two measurements of the
//! skew, a wall clock stepping back is seen against the monotonic clock and corrected: the token
//! never looks fresher than the monotonic time since the measurement says. Jitter comes from a
//! PRNG seeded in [`TokenSession::new`].
//!
//! The rules:
//! - storage is read once, on first need; concurrent first calls wait for that one read;
//! - a token is refreshed when due (a margin before `exp`, at most half its lifetime, clock skew
//!   corrected), one refresh at a time per client, and across tabs under a lock: after taking
//!   the lock the shared store is read again, and a newer token found there is adopted instead
//!   of refreshing (the store must be one where a read after the lock sees the last write);
//!   the newest known token is the one refreshed, never an older one (that would be reuse);
//! - the new token is stored before the lock is released, then announced to the other tabs;
//! - an answer is trusted only if [`accept_refresh`] accepts it; successful refreshes are at
//!   least [`MIN_REFRESH_INTERVAL_MS`] apart, whatever the server says;
//! - failures (network, timeout, 5xx, 429, 403, a bad answer, a lock not granted in time) keep
//!   the sign-in and back off (full jitter, `Retry-After` honoured); only a 401 from the refresh
//!   endpoint ends it;
//! - a caller wanting a valid token gets the current one while it is not due, and after a
//!   failed attempt while it has not expired; otherwise it waits for the refresh, at most
//!   `refresh_retries + 1` attempts;
//! - with auto-refresh on, the machine refreshes on its own when the token is due, re-checking
//!   at least every [`RECHECK_MS`] (hidden tabs throttle timers).
//!
//! ```
//! use consult_core::session::{Action, Input, SessionConfig, TokenSession};
//! let mut session = TokenSession::new(SessionConfig::default(), 1);
//! session.handle(0, Input::GetToken { call: 1 });
//! // First use: the machine reads the storage.
//! let Some(Action::ReadStorage { op }) = session.poll_action() else { panic!() };
//! session.handle(5, Input::StorageRead { op, token: None, expires_at: None });
//! // Nothing stored: the caller is told so.
//! assert!(matches!(session.poll_action(), Some(Action::Resolve { call: 1, result: Err(_) })));
//! ```

use alloc::{string::String, vec, vec::Vec};
mod answer;
mod flight;
mod io;
mod request;
mod storage;
mod token;

pub use answer::{Accepted, MAX_BODY_BYTES, MAX_LIFETIME_MS, MAX_SKEW_MS, accept_refresh};
pub use io::{Action, CallId, Grant, Input, OpId, SessionError, SessionEvent, TransportFailure};
pub use request::{credential_refused, origin_of, token_may_go_to};
pub use storage::STORAGE_TIMEOUT_MS;
pub use token::{MAX_TOKEN_BYTES, Token};

use crate::rng::Rng;
use crate::{Backoff, ClockSkew, ErrorCode, RefreshPolicy};
use flight::{Flight, REREAD_ATTEMPTS};
use storage::{Pending, StorageOp, StorageOutcome, StorageQueue};

/// Reads of the first load before the tab goes on without the stored token.
const LOAD_ATTEMPTS: u32 = 3;
/// Longest sleep before re-checking the token (hidden tabs throttle and stretch timers).
pub const RECHECK_MS: i64 = 30_000;
/// How many replaced tokens a client remembers (messages arrive seconds late at most).
const RETIRED_KEPT: usize = 8;
/// Successful refreshes of one client are at least this far apart, whatever the server answers.
pub const MIN_REFRESH_INTERVAL_MS: i64 = 5_000;

/// The driver's two clocks at one moment. Wall time (device Unix ms, corrected by the measured
/// skew) decides only when a token expires; every deadline, wait, backoff and spacing runs on
/// the monotonic clock (`performance.now()`, `Instant`), because wall clocks step by hours (NTP,
/// users, a VM resuming). A bare `i64` is both clocks at once (tests, hosts with one clock).
///
/// ```
/// use consult_core::session::Now;
/// let now = Now { wall_ms: 1_700_000_000_000, mono_ms: 1_234 };
/// assert_eq!(Now::from(5), Now { wall_ms: 5, mono_ms: 5 });
/// # let _ = now;
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Now {
    /// Device wall clock, Unix ms (for token expiry and clock skew only).
    pub wall_ms: i64,
    /// Monotonic clock, ms from any origin (for every deadline and wait).
    pub mono_ms: i64,
}

impl From<i64> for Now {
    fn from(ms: i64) -> Self {
        Now {
            wall_ms: ms,
            mono_ms: ms,
        }
    }
}

/// How a session behaves.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionConfig {
    /// When a token is due.
    pub policy: RefreshPolicy,
    /// Longest wait for a refresh answer (ms).
    pub request_timeout_ms: u64,
    /// Failed attempts a waiting caller sits through before it gets the error.
    pub refresh_retries: u32,
    /// Coordinate with other tabs: take the lock, re-read the shared store, announce tokens.
    pub cross_tab: bool,
    /// Refresh in the background when the token is due, without waiting for a call.
    pub auto_refresh: bool,
    /// Whether there is a storage at all (`false`: the token lives in memory only).
    pub storage: bool,
}

impl Default for SessionConfig {
    fn default() -> Self {
        Self {
            policy: RefreshPolicy::default(),
            request_timeout_ms: 10_000,
            refresh_retries: 3,
            cross_tab: true,
            auto_refresh: true,
            storage: true,
        }
    }
}

impl SessionConfig {
    /// A configuration from an application's raw options (numbers as JavaScript gives them):
    /// the defaults for what is missing, and sane bounds for the rest — a margin of 300 s, a
    /// request timeout of 10 s (`0`: none), 3 retries (at most 20).
    ///
    /// ```
    /// use consult_core::session::SessionConfig;
    /// let config = SessionConfig::from_options(None, Some(0.0), Some(99.0));
    /// assert_eq!(config.policy.margin_ms, 300_000);
    /// assert_eq!(config.request_timeout_ms, u64::MAX); // 0: no timeout
    /// assert_eq!(config.refresh_retries, 20);
    /// ```
    pub fn from_options(
        margin_seconds: Option<f64>,
        request_timeout_ms: Option<f64>,
        refresh_retries: Option<f64>,
    ) -> Self {
        let defaults = SessionConfig::default();
        let finite = |value: Option<f64>| value.filter(|v| v.is_finite());
        let request_timeout_ms = match finite(request_timeout_ms) {
            Some(ms) if ms <= 0.0 => u64::MAX,
            Some(ms) => crate::to_u64(ms.min(u64::MAX as f64)),
            None => defaults.request_timeout_ms,
        };
        let refresh_retries =
            finite(refresh_retries).map_or(defaults.refresh_retries, |n| n.clamp(0.0, 20.0) as u32);
        SessionConfig {
            policy: finite(margin_seconds)
                .map_or(defaults.policy, RefreshPolicy::with_margin_seconds),
            request_timeout_ms,
            refresh_retries,
            ..defaults
        }
    }
}

/// What the application may know about the current token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenView<'a> {
    /// The access token.
    pub token: &'a str,
    /// `exp`, server time, Unix ms.
    pub expires_at_ms: i64,
    /// `iat`, server time, Unix ms.
    pub issued_at_ms: Option<i64>,
    /// Milliseconds left before `exp` (skew corrected; negative once expired).
    pub expires_in_ms: i64,
    /// Server − device clock offset, ms.
    pub skew_ms: i64,
    /// Refreshes done by this client.
    pub refresh_count: u32,
    /// Device time of this client's last refresh.
    pub last_refresh_at_ms: Option<i64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Load {
    NotStarted,
    Reading(OpId),
    Done,
}

/// What a caller waits for.
#[derive(Debug, Clone)]
enum Want {
    /// A token that is not due.
    Valid,
    /// A token other than this one (which the server refused, or which must be replaced).
    Replace(String),
    /// A token other than the one the first storage read finds (a forced refresh before load).
    ReplaceLoaded,
}

#[derive(Debug, Clone)]
struct Waiter {
    call: CallId,
    want: Want,
    /// Failed refresh attempts this caller has sat through.
    failures_seen: u32,
}

/// The token session machine. See the [module documentation](self).
#[derive(Debug, Clone)]
pub struct TokenSession {
    config: SessionConfig,
    rng: Rng,
    load: Load,
    current: Option<Token>,
    skew_ms: i64,
    /// Server minus monotonic time when `skew_ms` was measured (or after the first input): server
    /// time is at least the monotonic clock plus it, whatever the wall clock did since.
    /// `i64::MIN` until the first input (it then bounds nothing: the sums saturate).
    mono_skew_ms: i64,
    /// Set when the refresh endpoint refused: calls fail with it until a new sign-in.
    ended: Option<SessionError>,
    refresh_count: u32,
    last_refresh_at_ms: Option<i64>,
    waiters: Vec<Waiter>,
    flight: Flight,
    backoff: Backoff,
    /// No refresh attempt starts before this device time (backoff, minimum interval).
    not_before: i64,
    /// A wake-up asked for a check: refresh if due even without auto-refresh.
    wake_check: bool,
    /// Sign-outs asked for before the storage was read: done once it is (so the stored token
    /// is revoked too).
    sign_outs_after_load: Vec<CallId>,
    lock_available: bool,
    storage: StorageQueue,
    storage_warned: bool,
    /// Failed reads of the first load (retried a few times: one failure must not leave the
    /// tab without the shared token).
    load_failures: u32,
    /// The first load failed for good: the next call reads the store again.
    load_failed: bool,
    /// The last token the server refused on a request (401): never handed out again.
    refused: Option<String>,
    /// Reads of the store that failed in a row (re-reads under the lock, a message's check):
    /// the tab does not refresh a token it did not see current, nor order a message by a read
    /// that failed, unless its storage keeps failing.
    reread_failures: u32,
    /// A token this client got from the server (a refresh, a sign-in) that the store may not
    /// have: its write has not succeeded yet.
    unstored: Option<String>,
    /// Tokens this client held and replaced (the last few): a message or a store holding one of
    /// them is behind, never newer.
    retired: Vec<String>,
    /// The tokens this client's own refreshes sent since its token last changed otherwise (the
    /// last few): each one's successor is the answer this client got (a token has one), so a
    /// token written over one of them that is none of ours comes later (or is another sign-in).
    refreshed_from: Vec<String>,
    /// The token this client last saw in the store (read there, or written by itself; none:
    /// empty, or an order since taken without the store): a store still holding it when this
    /// client has moved on in order is behind, however many rotations ago that was. Kept across
    /// this client's own clear: that token's sign-in is over, so the store holding it again is
    /// behind too (a tab that missed the end wrote it back).
    store_seen: Option<String>,
    /// A sign-in's write: the sign-in is announced once stored (under the lock), so that a tab
    /// that adopts it finds it in the store. A sign-in replaces no token: each tab orders it by
    /// the store.
    announce_stored: Option<OpId>,
    /// A read of the store asked for by a message the tab cannot order against its own token,
    /// and the message's token with the tokens it follows (`None`: a sign-out of another
    /// token): the store decides.
    check: Option<(OpId, Option<Candidate>)>,
    next_op: OpId,
    recheck_at: Option<i64>,
    /// In order; drained from the front. A `Vec` (a few at a time) is smaller code than a
    /// `VecDeque`.
    actions: Vec<Action>,
}

impl TokenSession {
    /// A session that has read nothing yet; `seed` seeds the jitter.
    pub fn new(config: SessionConfig, seed: u64) -> Self {
        let storage = StorageQueue::new(config.storage);
        Self {
            config,
            rng: Rng::new(seed),
            load: Load::NotStarted,
            current: None,
            skew_ms: 0,
            mono_skew_ms: i64::MIN,
            ended: None,
            refresh_count: 0,
            last_refresh_at_ms: None,
            waiters: Vec::new(),
            flight: Flight::default(),
            backoff: Backoff::new(1_000, 30_000),
            not_before: i64::MIN,
            wake_check: false,
            sign_outs_after_load: Vec::new(),
            lock_available: true,
            storage,
            storage_warned: false,
            load_failures: 0,
            load_failed: false,
            refused: None,
            reread_failures: 0,
            unstored: None,
            retired: Vec::new(),
            refreshed_from: Vec::new(),
            store_seen: None,
            announce_stored: None,
            check: None,
            next_op: 1,
            recheck_at: None,
            actions: Vec::new(),
        }
    }

    /// The configuration in force.
    pub fn config(&self) -> &SessionConfig {
        &self.config
    }

    /// The next action for the driver.
    pub fn poll_action(&mut self) -> Option<Action> {
        crate::pop_front(&mut self.actions)
    }

    /// When [`TokenSession::handle_timeout`] must be called next, on the monotonic clock
    /// ([`Now::mono_ms`]), if ever.
    pub fn poll_timeout(&self) -> Option<i64> {
        [
            self.flight.deadline(),
            self.storage.deadline(),
            self.recheck_at,
        ]
        .into_iter()
        .fold(None, |next, at| match (next, at) {
            (Some(next), Some(at)) => Some(next.min(at)),
            (next, at) => next.or(at),
        })
    }

    /// The current token, if any, at device wall time `wall_now`.
    pub fn view(&self, wall_now: i64) -> Option<TokenView<'_>> {
        let current = self.current.as_ref()?;
        let server_now = ClockSkew {
            offset_ms: self.skew_ms,
        }
        .server_now(wall_now);
        Some(TokenView {
            token: &current.text,
            expires_at_ms: current.info.expires_at_ms,
            issued_at_ms: current.info.issued_at_ms,
            expires_in_ms: current.info.expires_at_ms.saturating_sub(server_now),
            skew_ms: self.skew_ms,
            refresh_count: self.refresh_count,
            last_refresh_at_ms: self.last_refresh_at_ms,
        })
    }

    /// The lease on the current token: until this device wall time, and until
    /// [`TokenSession::fresh_until_mono`] on the monotonic clock, [`Input::GetToken`] would be
    /// answered at once with the current token, so a driver may hand it out without feeding
    /// the call (the hot path). `None`: feed every call (also while the token is being
    /// stored). Re-read it after every input. The driver checks both clocks: the wall clock may
    /// step back (the lease would last hours), the monotonic one stops while a device sleeps.
    ///
    /// ```
    /// use consult_core::session::{Action, Grant, Input, SessionConfig, TokenSession};
    /// // One tab (a sign-in of several is stored under the lock first).
    /// let config = SessionConfig { cross_tab: false, ..SessionConfig::default() };
    /// let mut session = TokenSession::new(config, 1);
    /// assert_eq!(session.fresh_until(), None);
    /// // payload {"exp":14400,"iat":0}: due 5 minutes before exp.
    /// let grant = Grant { access_token: "e30.eyJleHAiOjE0NDAwLCJpYXQiOjB9.s".into(), ..Grant::default() };
    /// session.handle(0, Input::SetSession { call: 1, grant });
    /// assert_eq!(session.fresh_until(), None, "not stored yet");
    /// let write = core::iter::from_fn(|| session.poll_action())
    ///     .find_map(|a| match a { Action::WriteStorage { op, .. } => Some(op), _ => None });
    /// session.handle(1, Input::StorageDone { op: write.unwrap(), ok: true });
    /// assert_eq!(session.fresh_until(), Some(14_400_000 - 300_000));
    /// ```
    pub fn fresh_until(&self) -> Option<i64> {
        Some(self.lease_end()?.saturating_sub(self.skew_ms))
    }

    /// The lease's end in server time.
    fn lease_end(&self) -> Option<i64> {
        if self.load != Load::Done || self.ended.is_some() || self.storage.writing() {
            return None;
        }
        let current = self.current.as_ref()?;
        if self.refused.as_ref() == Some(&current.text) {
            return None;
        }
        Some(self.config.policy.refresh_at_ms(&current.info))
    }

    /// The lease's end on the monotonic clock ([`Now::mono_ms`]); `None` when there is no lease
    /// ([`TokenSession::fresh_until`]).
    ///
    /// ```
    /// use consult_core::session::{Action, Grant, Input, Now, SessionConfig, TokenSession};
    /// let config = SessionConfig { cross_tab: false, ..SessionConfig::default() };
    /// let mut session = TokenSession::new(config, 1);
    /// // payload {"exp":14400,"iat":0}; the monotonic clock reads 1,000 less than the wall clock.
    /// let grant = Grant { access_token: "e30.eyJleHAiOjE0NDAwLCJpYXQiOjB9.s".into(), ..Grant::default() };
    /// session.handle(Now { wall_ms: 1_000, mono_ms: 0 }, Input::SetSession { call: 1, grant });
    /// let write = core::iter::from_fn(|| session.poll_action())
    ///     .find_map(|a| match a { Action::WriteStorage { op, .. } => Some(op), _ => None });
    /// session.handle(Now { wall_ms: 1_001, mono_ms: 1 }, Input::StorageDone { op: write.unwrap(), ok: true });
    /// assert_eq!(session.fresh_until(), Some(14_100_000));
    /// assert_eq!(session.fresh_until_mono(), Some(14_100_000 - 1_000));
    /// ```
    pub fn fresh_until_mono(&self) -> Option<i64> {
        Some(self.lease_end()?.saturating_sub(self.mono_skew_ms))
    }

    /// Whether the refresh endpoint ended the sign-in (until a new one is set).
    pub fn has_ended(&self) -> bool {
        self.ended.is_some()
    }

    /// Feeds one input at `now` (both clocks; a bare `i64` is both).
    pub fn handle(&mut self, now: impl Into<Now>, input: Input) {
        let now = now.into();
        match input {
            Input::GetToken { call } => self.wait(call, Want::Valid),
            Input::TokenRefused { call, token } => {
                self.refused = Some(token.clone());
                self.wait(call, Want::Replace(token));
            }
            Input::ForceRefresh { call } => match (&self.load, &self.current) {
                (Load::Done, Some(current)) => {
                    let want = Want::Replace(current.text.clone());
                    self.wait(call, want);
                }
                (Load::Done, None) => self.wait(call, Want::Valid),
                _ => self.wait(call, Want::ReplaceLoaded),
            },
            Input::SetSession { call, grant } => self.set_session(now, call, grant),
            Input::SignOut { call } if self.load != Load::Done => {
                self.ensure_loaded();
                self.sign_outs_after_load.push(call);
            }
            Input::SignOut { call } => self.sign_out(call),
            Input::StorageRead {
                op,
                token,
                expires_at,
            } => {
                let token = token.and_then(|t| Token::parse(&t, expires_at.as_deref()));
                self.storage_finished(now, op, StorageOutcome::Read(token));
            }
            Input::StorageDone { op, ok } => {
                let outcome = if ok {
                    StorageOutcome::Done
                } else {
                    StorageOutcome::Failed
                };
                self.storage_finished(now, op, outcome);
            }
            Input::LockGranted { op } => self.lock_granted(now, op),
            Input::LockUnavailable { op } => self.lock_unavailable(now, op),
            Input::RefreshAnswered {
                op,
                status,
                body,
                date,
                retry_after,
            } => self.refresh_answered(now, op, status, &body, date, retry_after),
            Input::RefreshFailed { op, failure } => {
                if self.flight.is_request(op) {
                    let code = match failure {
                        io::TransportFailure::Network => ErrorCode::Network,
                        io::TransportFailure::UnreadableBody => ErrorCode::BadResponse,
                    };
                    let retryable = code == ErrorCode::Network;
                    self.attempt_failed(now, SessionError::new(code), None, retryable);
                }
            }
            Input::PeerToken {
                token,
                expires_at,
                replaces,
            } => {
                // A late message of the chain a store check waits for (its token is one the
                // waiting message follows) tells one more token that chain follows.
                if let (Some(replaced), Some((_, Some((_, follows))))) =
                    (&replaces, &mut self.check)
                    && follows.contains(&token)
                {
                    remember_once(follows, replaced.clone());
                }
                if let Some(replaced) = &replaces
                    && *replaced != token
                    && !self.retired.contains(&token)
                {
                    // Written over a token our own refreshes sent: ours is behind (seeds 149256,
                    // 638776: a tab whose store never opens, its own writes never in the mirror).
                    if self.refreshed_from.contains(replaced)
                        && !self.refreshed_from.contains(&token)
                        && let Some(ours) = self.current.as_ref().filter(|c| c.text != token)
                    {
                        self.retire(ours.text.clone());
                    }
                    self.retire(replaced.clone());
                }
                if let Some(token) = Token::parse(&token, expires_at.as_deref()) {
                    self.peer_token(token, replaces);
                }
            }
            Input::PeerSignedOut { token } => self.peer_signed_out(token),
            Input::Wake => {
                self.ensure_loaded();
                self.wake_check = true;
            }
            Input::Dispose => {
                self.config.auto_refresh = false;
            }
        }
        self.drive(now);
    }

    /// Call when [`TokenSession::poll_timeout`] is reached (late is fine: hidden tabs).
    pub fn handle_timeout(&mut self, now: impl Into<Now>) {
        let now = now.into();
        if let Some(pending) = self.storage.timed_out(now.mono_ms) {
            self.complete_storage(now, pending, StorageOutcome::Failed);
        }
        self.flight_timeout(now);
        self.drive(now);
    }

    // --- callers ------------------------------------------------------------------------------

    fn wait(&mut self, call: CallId, want: Want) {
        if self.load_failed && self.current.is_none() {
            // The store could not be read: try again for this caller.
            self.load_failed = false;
            self.load_failures = 0;
            self.load = Load::NotStarted;
        }
        self.ensure_loaded();
        self.waiters.push(Waiter {
            call,
            want,
            failures_seen: 0,
        });
    }

    fn ensure_loaded(&mut self) {
        if self.load == Load::NotStarted {
            let op = self.op();
            self.load = Load::Reading(op);
            self.storage.push(Pending {
                op,
                kind: StorageOp::Read,
                then: Vec::new(),
            });
        }
    }

    fn resolve(&mut self, call: CallId, result: Result<String, SessionError>) {
        self.actions.push(Action::Resolve { call, result });
    }

    fn emit(&mut self, event: SessionEvent) {
        self.actions.push(Action::Emit(event));
    }

    fn op(&mut self) -> OpId {
        let op = self.next_op;
        self.next_op = self.next_op.wrapping_add(1);
        op
    }

    fn is_due(&self, token: &Token, now: Now) -> bool {
        self.config
            .policy
            .is_due(&token.info, now.wall_ms, self.skew_at(now))
    }

    fn is_expired(&self, token: &Token, now: Now) -> bool {
        token.info.is_expired(
            ClockSkew {
                offset_ms: self.skew_at(now),
            }
            .server_now(now.wall_ms),
        )
    }

    /// The skew in force at `now`: the measured one, corrected by how far the wall clock has
    /// stepped back since (against the monotonic clock). A wall clock running ahead of the
    /// monotonic one is a step forward or a sleep (the monotonic clock stops, the wall clock does
    /// not): left as it is, the token then looks due sooner, never later.
    ///
    /// ```
    /// use consult_core::session::{Input, Now, SessionConfig, TokenSession};
    /// let mut session = TokenSession::new(SessionConfig::default(), 1);
    /// session.handle(Now { wall_ms: 5_000, mono_ms: 0 }, Input::GetToken { call: 1 });
    /// // The wall clock stepped back an hour: server time is read an hour later than it shows.
    /// assert_eq!(session.skew_at(Now { wall_ms: 10_000 - 3_600_000, mono_ms: 5_000 }), 3_600_000);
    /// // A step forward (or a sleep) is left as it is.
    /// assert_eq!(session.skew_at(Now { wall_ms: 10_000 + 3_600_000, mono_ms: 5_000 }), 0);
    /// ```
    #[inline(never)]
    pub fn skew_at(&self, now: Now) -> i64 {
        let server_mono_ms = now.mono_ms.saturating_add(self.mono_skew_ms);
        self.skew_ms.max(server_mono_ms.saturating_sub(now.wall_ms))
    }

    /// A new skew measurement at `now`.
    #[inline(never)]
    fn measured_skew(&mut self, now: Now, skew_ms: i64) {
        self.skew_ms = skew_ms;
        let server_ms = now.wall_ms.saturating_add(skew_ms);
        self.mono_skew_ms = server_ms.saturating_sub(now.mono_ms);
    }

    /// What a waiter gets now, if it can be answered.
    fn answer_for(&self, waiter: &Waiter, now: Now) -> Option<Result<String, SessionError>> {
        if let Some(error) = self.ended {
            return Some(Err(error));
        }
        let Some(current) = &self.current else {
            return Some(Err(SessionError::new(ErrorCode::NoToken)));
        };
        let refused = self.refused.as_ref() == Some(&current.text);
        let fresh = !self.is_due(current, now) && !refused;
        let satisfied = match &waiter.want {
            Want::Valid => {
                fresh || (self.flight.has_failed() && !refused && !self.is_expired(current, now))
            }
            Want::Replace(refused) => fresh && current.text != *refused,
            Want::ReplaceLoaded => false,
        };
        if satisfied {
            return Some(Ok(current.text.clone()));
        }
        let (error, retryable) = self.flight.last_error()?;
        let gave_up = waiter.failures_seen > self.config.refresh_retries
            || (waiter.failures_seen > 0 && !retryable);
        gave_up.then_some(Err(error))
    }

    /// Answers every waiter that can be answered: once the storage is loaded, and not while a
    /// new token is being stored (a caller never holds a token the storage does not have yet;
    /// the storage's own deadline bounds the wait).
    fn settle(&mut self, now: Now) {
        if self.load != Load::Done || self.storage.writing() {
            return;
        }
        let mut waiting = core::mem::take(&mut self.waiters);
        for waiter in &mut waiting {
            if matches!(waiter.want, Want::ReplaceLoaded) {
                let loaded = self.current.as_ref().map(|c| c.text.clone());
                waiter.want = Want::Replace(loaded.unwrap_or_default());
            }
        }
        waiting.retain(|waiter| match self.answer_for(waiter, now) {
            Some(result) => {
                self.actions.push(Action::Resolve {
                    call: waiter.call,
                    result,
                });
                false
            }
            None => true,
        });
        self.waiters = waiting;
    }

    /// Whether a refresh is wanted now.
    fn refresh_wanted(&self, now: Now) -> bool {
        let Some(current) = &self.current else {
            return false;
        };
        if self.load != Load::Done || self.ended.is_some() {
            return false;
        }
        !self.waiters.is_empty()
            || ((self.config.auto_refresh || self.wake_check) && self.is_due(current, now))
    }

    /// Settles callers, starts or ends the refresh flight, starts storage work, sets the timer.
    fn drive(&mut self, now: Now) {
        // The first input anchors the skew (zero until measured) to the clocks.
        if self.mono_skew_ms == i64::MIN {
            self.measured_skew(now, self.skew_ms);
        }
        loop {
            self.settle(now);
            if !self.refresh_wanted(now) {
                // A wake-up before the first load waits for it.
                if self.load == Load::Done {
                    self.wake_check = false;
                }
                self.flight_not_wanted();
            } else if self.flight.is_idle() {
                // The wake-up's reason stays until the refresh is no longer wanted (or fails):
                // the attempt asks again after the lock's re-read.
                self.begin_attempt(now);
            }
            match self.storage.start_next(now.mono_ms, &mut self.actions) {
                // Without storage every operation is done at once; a read finds nothing (`Done`
                // carries no token, and only a write's `Done` means anything more).
                Some(skipped) => self.complete_storage(now, skipped, StorageOutcome::Done),
                None => break,
            }
        }
        self.recheck_at = match &self.current {
            Some(current)
                if self.config.auto_refresh
                    && self.ended.is_none()
                    && self.load == Load::Done
                    && self.flight.is_idle() =>
            {
                let delay = self.config.policy.delay_until_due_ms(
                    &current.info,
                    now.wall_ms,
                    self.skew_at(now),
                );
                Some(now.mono_ms.saturating_add(delay.clamp(0, RECHECK_MS)))
            }
            _ => None,
        };
    }

    // --- the application's own calls ------------------------------------------------------------

    fn set_session(&mut self, now: Now, call: CallId, grant: Grant) {
        let Some(token) = Token::parse(&grant.access_token, grant.expires_at.as_deref()) else {
            self.resolve(call, Err(SessionError::new(ErrorCode::BadResponse)));
            return;
        };
        // Only `expires_in` tells the server's "now" here: a sign-in token's `iat` may be old.
        let server_now =
            ClockSkew::server_time_from_expires_in(token.info.expires_at_ms, grant.expires_in);
        let skew_ms = ClockSkew::estimate(now.wall_ms, server_now, None)
            .offset_ms
            .clamp(-MAX_SKEW_MS, MAX_SKEW_MS);
        self.measured_skew(now, skew_ms);
        // A sign-out asked for before this sign-in comes first (its call is answered too).
        for call in core::mem::take(&mut self.sign_outs_after_load) {
            self.sign_out(call);
        }
        self.abandon_flight();
        self.load = Load::Done;
        self.ended = None;
        self.backoff.reset();
        self.not_before = i64::MIN;
        self.unstored = Some(token.text.clone());
        let then = vec![(call, Ok(token.text.clone()))];
        self.replace_current(Some(token));
        let write = self.store(then);
        self.announce_stored = Some(write);
        self.lock_for_sign_in(write);
        self.emit(SessionEvent::TokenChanged);
    }

    fn sign_out(&mut self, call: CallId) {
        self.abandon_flight();
        self.load = Load::Done;
        self.ended = None;
        let op = self.op();
        self.storage.push(Pending {
            op,
            kind: StorageOp::Clear,
            then: vec![(call, Ok(String::new()))],
        });
        if let Some(old) = self.current.clone() {
            self.replace_current(None);
            if self.config.cross_tab {
                self.actions.push(Action::AnnounceSignOut {
                    token: old.text.clone(),
                });
            }
            self.actions.push(Action::SendLogout { token: old.text });
            self.emit(SessionEvent::TokenChanged);
        }
    }

    // --- tokens from elsewhere ------------------------------------------------------------------

    /// Adopts `token` (another tab's, or the store's) unless this client already replaced it.
    /// Which token is newer is never decided by comparing `exp`/`iat`: servers behind one
    /// balancer have their own clocks, and tokens of one second tie. A peer announces only the
    /// token it just got; a token this client held and replaced is behind. Adopting an older
    /// one by mistake costs nothing: every refresh re-reads the store under the lock first.
    fn adopt_unless_retired(&mut self, token: Token, ordered: bool) {
        let adopt = !self.retired.contains(&token.text)
            && self.current.as_ref().is_none_or(|c| c.text != token.text);
        if adopt {
            if ordered {
                self.replace_current(Some(token));
            } else {
                // Unordered (the store could not be read): ours is not retired, so the store's
                // word under the lock still counts.
                self.current = Some(token);
                self.refreshed_from.clear();
                self.store_seen = None;
            }
            self.ended = None;
            self.emit(SessionEvent::TokenChanged);
        }
    }

    /// Makes `token` the current one; the one it replaces is retired.
    fn replace_current(&mut self, token: Option<Token>) {
        self.refreshed_from.clear();
        if let Some(old) = core::mem::replace(&mut self.current, token) {
            self.retire(old.text);
        }
    }

    /// Remembers that `text` was replaced (the last few).
    fn retire(&mut self, text: String) {
        remember_once(&mut self.retired, text);
    }

    /// A peer's token: adopted when the message orders it after ours (it names ours, or one
    /// that replaced ours, as replaced; or we hold none and it is a sign-in, replacing nothing).
    /// Otherwise it may be a late message (a `storage` event lags the store by seconds; a
    /// sign-in's may come after that sign-in's successor), or, holding none, the refresh of a
    /// sign-in this tab saw end (a tab that missed the end, or a new sign-in, keeps refreshing
    /// it): the store decides, since a read after the message sees at least that message's write.
    fn peer_token(&mut self, token: Token, replaces: Option<String>) {
        let unordered = match &self.current {
            Some(current) => current.text != token.text && !self.retired.contains(&current.text),
            None => replaces.is_some(),
        };
        if unordered && !self.retired.contains(&token.text) {
            // A sign-in replaces no token: the store holding any is not one step behind it.
            self.check_store(Some((
                token,
                replaces.map_or_else(Vec::new, |r| alloc::vec![r]),
            )));
        } else {
            self.adopt_unless_retired(token, true);
        }
    }

    /// A sign-out elsewhere: of our token, ours goes; of another one (an older token of ours,
    /// or a sign-in this tab never saw), the store decides (never `exp`/`iat`).
    fn peer_signed_out(&mut self, token: Option<String>) {
        let Some(current) = &self.current else {
            return;
        };
        match token {
            Some(text) if text != current.text => self.check_store(None),
            _ => self.drop_signed_out(),
        }
    }

    fn drop_signed_out(&mut self) {
        self.abandon_flight();
        self.replace_current(None);
        self.emit(SessionEvent::TokenChanged);
    }

    /// Reads the store to order `candidate` (a message's token, or a sign-out) against ours.
    /// One read at a time: a later message replaces the candidate, and one that follows it (it
    /// replaces the waiting message's token) takes over the tokens that one follows: messages
    /// that follow each other while the read is out are one chain (seed 73104).
    fn check_store(&mut self, mut candidate: Option<Candidate>) {
        if let Some((_, pending)) = &mut self.check {
            if let (Some((_, follows)), Some((before, chain))) = (&mut candidate, pending.as_mut())
                && follows.contains(&before.text)
            {
                // `follows` is the one token it replaces: `before`'s.
                core::mem::swap(follows, chain);
                remember_once(follows, core::mem::take(&mut before.text));
            }
            *pending = candidate;
            return;
        }
        let op = self.op();
        self.storage.push(Pending {
            op,
            kind: StorageOp::Read,
            then: Vec::new(),
        });
        self.check = Some((op, candidate));
    }

    /// The store's answer to [`Self::check_store`]: holding ours, the message is behind; holding
    /// a token we never replaced, that one is current; behind the message (a token we replaced)
    /// or empty, a token message decides, unless ours is not stored yet (its write failed). A
    /// sign-out of another token never drops ours: an older token's refusal (past its grace)
    /// does not end our sign-in, an empty store may be a write that failed, and a sign-in that
    /// is over, the refresh endpoint says so (one request).
    fn store_checked(&mut self, failed: bool, found: Option<Token>, candidate: Option<Candidate>) {
        let broken = self.load_failed || self.reread_failures >= REREAD_ATTEMPTS;
        if !failed {
            self.reread_failures = 0;
        } else if !broken {
            // One failure fails that read, not the storage: the message (or sign-out) is checked
            // again (three failed reads in a row: the store is taken as broken).
            self.reread_failures += 1;
            self.check_store(candidate);
            return;
        }
        let in_chain = |text: &String| candidate.as_ref().is_some_and(|(_, f)| f.contains(text));
        match found {
            // Ours (a no-op: the message is behind), or one we never replaced (nor one the
            // message follows): current.
            Some(found) if !self.retired.contains(&found.text) && !in_chain(&found.text) => {
                self.adopt_unless_retired(found, true)
            }
            found => {
                // The store behind the message (it holds a token the message follows), or empty
                // for a sign-in (its write failed): the message is the newest, unless ours is not
                // stored yet. A store that keeps failing (IndexedDB that does not open) cannot
                // order anything: the message's token, unordered, unless ours is our own refresh;
                // a sign-in (following nothing) all the same: a tab that missed it would keep the
                // old sign-in going. A store behind by more: ours stays. Holding none is not
                // holding our own refresh.
                let ours_unstored = (self.current.as_ref())
                    .is_some_and(|c| Some(&c.text) == self.unstored.as_ref());
                if let Some((token, follows)) = candidate
                    && (if failed {
                        follows.is_empty() || !ours_unstored
                    } else {
                        // An empty store confirms no refresh: it was cleared (a sign-in ended
                        // or signed out after the message's write; the read may also predate a
                        // sign-in adopted since). Holding none, it confirms nothing.
                        !ours_unstored
                            && found.map_or(follows.is_empty() && self.current.is_some(), |f| {
                                follows.contains(&f.text)
                            })
                    })
                {
                    self.adopt_unless_retired(token, !failed);
                }
            }
        }
    }

    // --- storage ----------------------------------------------------------------------------------

    /// Queues a write of the current token; `then` is answered once it is done.
    fn store(&mut self, then: Vec<(CallId, Result<String, SessionError>)>) -> OpId {
        let op = self.op();
        if let Some(token) = &self.current {
            self.storage.push(Pending {
                op,
                kind: StorageOp::Write {
                    token: token.text.clone(),
                    expires_at: token.expires_at_text(),
                },
                then,
            });
        }
        op
    }

    /// Tells the other tabs about the current token, which replaces `replaces`.
    fn announce(&mut self, replaces: Option<String>) {
        if self.config.cross_tab
            && let Some(token) = &self.current
        {
            self.actions.push(Action::AnnounceToken {
                token: token.text.clone(),
                expires_at: token.expires_at_text(),
                replaces,
            });
        }
    }

    fn storage_finished(&mut self, now: Now, op: OpId, outcome: StorageOutcome) {
        if let Some(pending) = self.storage.finish(op) {
            self.complete_storage(now, pending, outcome);
        }
    }

    fn complete_storage(&mut self, now: Now, pending: Pending, outcome: StorageOutcome) {
        // A failure degrades this operation, not the storage: the next one tries again (a tab
        // that stopped using the store would stop taking part in the cross-tab protocol).
        if matches!(outcome, StorageOutcome::Failed) && !self.storage_warned {
            self.storage_warned = true;
            self.emit(SessionEvent::Warning(SessionError::new(ErrorCode::Storage)));
        }
        // What the store holds now, as this client saw it: its write done, or a read. A read
        // still finding the token this client saw there before, when it has moved on since (in
        // order), finds a token behind, even one forgotten as replaced (a store every other
        // tab's IndexedDB fails to write keeps an old token while they rotate it).
        match (&outcome, &pending.kind) {
            (StorageOutcome::Done, StorageOp::Write { token, .. }) => {
                if self.unstored.as_ref() == Some(token) {
                    self.unstored = None;
                }
                self.store_seen = Some(token.clone());
            }
            (StorageOutcome::Read(found), _) => {
                let seen = found.as_ref().map(|t| t.text.clone());
                if let Some(found) = &seen
                    && seen == self.store_seen
                    && self.current.as_ref().is_some_and(|c| c.text != *found)
                {
                    self.retire(found.clone());
                }
                self.store_seen = seen;
            }
            _ => {}
        }
        for (call, result) in pending.then {
            self.resolve(call, result);
        }
        if self.announce_stored == Some(pending.op) {
            self.announce(None);
        }
        let failed = matches!(outcome, StorageOutcome::Failed);
        let found = match outcome {
            StorageOutcome::Read(token) => token,
            _ => None,
        };
        if let Some((_, candidate)) = self.check.take_if(|(op, _)| *op == pending.op) {
            self.store_checked(failed, found, candidate);
        } else if self.load == Load::Reading(pending.op) {
            if failed && self.load_failures < LOAD_ATTEMPTS - 1 {
                self.load_failures += 1;
                self.load = Load::NotStarted;
                self.ensure_loaded();
                return;
            }
            self.load = Load::Done;
            self.load_failed = failed;
            if let Some(token) = found
                && self.current.is_none()
            {
                self.adopt_unless_retired(token, true);
            }
            for call in core::mem::take(&mut self.sign_outs_after_load) {
                self.sign_out(call);
            }
        } else if self.flight.is_reread(pending.op) {
            if failed {
                self.reread_failed(now);
            } else {
                self.reread_done(now, found);
            }
        } else if self.flight.is_store(pending.op) {
            self.stored_under_lock();
        }
    }
}

/// A message's token and the tokens it follows: the one it replaces (none for a sign-in), and
/// those of the messages before it in one chain.
type Candidate = (Token, Vec<String>);

/// Appends `text` to `list` unless it is there, keeping the last [`RETIRED_KEPT`].
fn remember_once(list: &mut Vec<String>, text: String) {
    if !list.contains(&text) {
        remember(list, text);
    }
}

/// Appends `text` to `list`, keeping the last [`RETIRED_KEPT`].
fn remember(list: &mut Vec<String>, text: String) {
    if list.len() >= RETIRED_KEPT {
        crate::pop_front(list);
    }
    list.push(text);
}

#[cfg(test)]
mod tests;
