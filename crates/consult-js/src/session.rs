//! consult-core's token session machine for the JavaScript driver: one object, inputs fed with a
//! numeric kind ([`SessionInput`]), actions drained as a numeric kind ([`SessionOp`]) whose
//! fields are read with typed getters. The numbers cross as plain numbers: the driver's
//! `js/session_in.js` and `js/session_op.js` name them, one `export const` each (a bundler
//! inlines them; a wasm-bindgen enum would ship as a two-way map), and a test here checks that
//! both files say exactly what these enums say. The driver throws on an unknown op.
//!
//! ```js
//! import * as In from "./session_in.js";
//! import * as Op from "./session_op.js";
//! const m = new TokenMachine(300, 10000, 3, true, true, true, seed);
//! m.feed(Date.now(), performance.now(), In.GetToken, 1);
//! for (let op; (op = m.pollAction()) !== Op.None; ) perform(op, m.id(), m.text());
//! ```

use alloc::{borrow::ToOwned, string::String, vec::Vec};
use consult_core::session::{
    Action, Grant, Input, Now, SessionConfig, SessionError, SessionEvent, TokenSession,
    TransportFailure,
};

use super::abi::{self, Slab};
use super::ms;

/// What happened (the `kind` of [`TokenMachine::feed`]). Fields: `id` is the call or operation
/// id; `text`, `extra` and `number` as each kind says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionInput {
    /// The application wants a valid token (`id`: call).
    GetToken = 1,
    /// A request sent with the token `text` was refused (`id`: call).
    TokenRefused = 2,
    /// The application wants a new token now (`id`: call).
    ForceRefresh = 3,
    /// Sign-in: `text` token, `extra` expires_at text, `number` expires_in (`id`: call).
    SetSession = 4,
    /// Sign-out (`id`: call).
    SignOut = 5,
    /// Storage read (`id`: op): `text` token, `extra` expiry text.
    StorageRead = 6,
    /// A storage write or clear worked (`id`: op).
    StorageDone = 7,
    /// A storage operation threw (`id`: op).
    StorageFailed = 8,
    /// The lock is held (`id`: op).
    LockGranted = 9,
    /// No lock in this environment (`id`: op).
    LockUnavailable = 10,
    /// Refresh answered (`id`: op): `number` status, `text` body, `extra` the `Date` header.
    /// The `Retry-After` header comes first through [`TokenMachine::set_retry_after`].
    RefreshAnswered = 11,
    /// The refresh request failed to send or broke (`id`: op).
    RefreshNetworkError = 12,
    /// The refresh answer's body could not be read (`id`: op).
    RefreshUnreadable = 13,
    /// Another tab announced the token `text` (expiry text `extra`).
    PeerToken = 14,
    /// Another tab signed out the token `text` (absent: it did not say which).
    PeerSignedOut = 15,
    /// The page may have slept (visible, online, focus).
    Wake = 16,
    /// Stop background work.
    Dispose = 17,
    /// The timer set to [`TokenMachine::poll_timeout`] fired.
    Timeout = 18,
}

/// What to do (returned by [`TokenMachine::poll_action`]); read its fields with the getters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionOp {
    /// Nothing more to do.
    None = 0,
    /// Read the stored token (`id`: op).
    ReadStorage = 1,
    /// Store token `text` with expiry text `extra` (`id`: op).
    WriteStorage = 2,
    /// Remove the stored token (`id`: op).
    ClearStorage = 3,
    /// Ask for the cross-tab lock (`id`: op).
    AcquireLock = 4,
    /// Release (or withdraw the request for) lock `id`.
    ReleaseLock = 5,
    /// POST the refresh endpoint with token `text` (`id`: op).
    SendRefresh = 6,
    /// Abort refresh request `id`.
    AbortRefresh = 7,
    /// POST the logout endpoint with token `text` (best effort).
    SendLogout = 8,
    /// Tell the other tabs about token `text` (expiry text `extra`).
    AnnounceToken = 9,
    /// Tell the other tabs that the sign-in of token `text` is over.
    AnnounceSignOut = 10,
    /// Resolve call `id` with token `text` (empty for a sign-out).
    Resolve = 11,
    /// Reject call `id` with the error code `text` (and `status`).
    Reject = 12,
    /// Emit `tokenChanged`.
    TokenChanged = 13,
    /// Emit `tokenRefreshed`.
    TokenRefreshed = 14,
    /// Emit `refreshFailed` with the error code `text` (and `status`).
    RefreshFailed = 15,
    /// Emit `sessionExpired` with the error code `text` (and `status`).
    SessionExpired = 16,
    /// Emit `warning` with the error code `text`.
    Warning = 17,
}

impl SessionInput {
    /// Every kind, in order of its number (1, 2, …).
    pub const ALL: [SessionInput; 18] = {
        use SessionInput::*;
        [
            GetToken,
            TokenRefused,
            ForceRefresh,
            SetSession,
            SignOut,
            StorageRead,
            StorageDone,
            StorageFailed,
            LockGranted,
            LockUnavailable,
            RefreshAnswered,
            RefreshNetworkError,
            RefreshUnreadable,
            PeerToken,
            PeerSignedOut,
            Wake,
            Dispose,
            Timeout,
        ]
    };

    /// The kind numbered `n`, if any.
    pub fn from_number(n: u8) -> Option<SessionInput> {
        Self::ALL.get(usize::from(n).wrapping_sub(1)).copied()
    }
}

// For the host test that checks the driver's code modules (src/tests.rs).
#[cfg(all(test, not(target_arch = "wasm32")))]
impl SessionOp {
    /// Every op, in order of its number (0, 1, …).
    pub const ALL: [SessionOp; 18] = {
        use SessionOp::*;
        [
            None,
            ReadStorage,
            WriteStorage,
            ClearStorage,
            AcquireLock,
            ReleaseLock,
            SendRefresh,
            AbortRefresh,
            SendLogout,
            AnnounceToken,
            AnnounceSignOut,
            Resolve,
            Reject,
            TokenChanged,
            TokenRefreshed,
            RefreshFailed,
            SessionExpired,
            Warning,
        ]
    };
}

/// The token session of one client.
pub struct TokenMachine {
    session: TokenSession,
    retry_after: Option<String>,
    /// The token the next [`SessionInput::PeerToken`] replaces (set first, like `Retry-After`).
    replaces_in: Option<String>,
    id: f64,
    text: Option<String>,
    extra: Option<String>,
    /// The token the last [`SessionOp::AnnounceToken`] replaces.
    replaces: Option<String>,
    error: Option<SessionError>,
    origins: Vec<String>,
}

fn call(id: f64) -> u64 {
    if id.is_finite() && id >= 0.0 {
        consult_core::to_u64(id)
    } else {
        0
    }
}

impl TokenMachine {
    /// A machine from the client's options as given (missing ones take consult-core's
    /// defaults): refresh margin (s), request timeout (ms, 0 for none), retries a caller sits
    /// through, cross-tab coordination, auto-refresh, whether there is a storage, a jitter seed.
    /// A number that is not finite (`undefined` is NaN) takes the default.
    pub fn new(
        margin_seconds: f64,
        request_timeout_ms: f64,
        refresh_retries: f64,
        cross_tab: bool,
        auto_refresh: bool,
        storage: bool,
        seed: f64,
    ) -> TokenMachine {
        let config = SessionConfig {
            cross_tab,
            auto_refresh,
            storage,
            ..SessionConfig::from_options(
                Some(margin_seconds),
                Some(request_timeout_ms),
                Some(refresh_retries),
            )
        };
        TokenMachine {
            session: TokenSession::new(config, seed.to_bits()),
            retry_after: None,
            replaces_in: None,
            id: 0.0,
            text: None,
            extra: None,
            replaces: None,
            error: None,
            origins: Vec::new(),
        }
    }

    /// The configuration in force (for the options table's test).
    #[cfg(all(test, not(target_arch = "wasm32")))]
    pub(crate) fn config(&self) -> &SessionConfig {
        self.session.config()
    }

    /// The request timeout in force (ms; 0 for none), for the driver's own requests.
    pub fn request_timeout_ms(&self) -> f64 {
        match self.session.config().request_timeout_ms {
            u64::MAX => 0.0,
            ms => ms as f64,
        }
    }

    /// The `Retry-After` header of the refresh answer fed next.
    pub fn set_retry_after(&mut self, value: Option<String>) {
        self.retry_after = value;
    }

    /// The token that the peer token fed next replaces (a broadcast's `replaces`, a `storage`
    /// event's old value).
    pub fn set_replaces(&mut self, value: Option<String>) {
        self.replaces_in = value;
    }

    /// Feeds what happened at device time `now` (Unix ms) and monotonic time `mono`
    /// (`performance.now()`: every deadline runs on it): `kind` is a [`SessionInput`] (an
    /// unknown number is ignored); `number` NaN (`undefined`) when the kind has none.
    #[allow(clippy::too_many_arguments)]
    pub fn feed(
        &mut self,
        now: f64,
        mono: f64,
        kind: u8,
        id: f64,
        text: Option<String>,
        extra: Option<String>,
        number: f64,
    ) {
        let Some(kind) = SessionInput::from_number(kind) else {
            return;
        };
        let now = Now {
            wall_ms: ms(now),
            mono_ms: ms(mono),
        };
        // NaN is no number: core ignores a non-finite `expires_in` and reads status 0.
        let number = Some(number);
        let (call, op) = (call(id), call(id));
        let input = match kind {
            SessionInput::GetToken => Input::GetToken { call },
            SessionInput::TokenRefused => Input::TokenRefused {
                call,
                token: text.unwrap_or_default(),
            },
            SessionInput::ForceRefresh => Input::ForceRefresh { call },
            SessionInput::SetSession => Input::SetSession {
                call,
                grant: Grant {
                    access_token: text.unwrap_or_default(),
                    expires_at: extra,
                    expires_in: number,
                },
            },
            SessionInput::SignOut => Input::SignOut { call },
            SessionInput::StorageRead => Input::StorageRead {
                op,
                token: text,
                expires_at: extra,
            },
            SessionInput::StorageDone => Input::StorageDone { op, ok: true },
            SessionInput::StorageFailed => Input::StorageDone { op, ok: false },
            SessionInput::LockGranted => Input::LockGranted { op },
            SessionInput::LockUnavailable => Input::LockUnavailable { op },
            SessionInput::RefreshAnswered => Input::RefreshAnswered {
                op,
                status: number
                    .filter(|n| (0.0..=999.0).contains(n))
                    .map_or(0, |n| n as u16),
                body: text.unwrap_or_default(),
                date: extra,
                retry_after: self.retry_after.take(),
            },
            SessionInput::RefreshNetworkError => Input::RefreshFailed {
                op,
                failure: TransportFailure::Network,
            },
            SessionInput::RefreshUnreadable => Input::RefreshFailed {
                op,
                failure: TransportFailure::UnreadableBody,
            },
            SessionInput::PeerToken => match text {
                Some(token) => Input::PeerToken {
                    token,
                    expires_at: extra,
                    replaces: self.replaces_in.take(),
                },
                None => return,
            },
            SessionInput::PeerSignedOut => Input::PeerSignedOut { token: text },
            SessionInput::Wake => Input::Wake,
            SessionInput::Dispose => Input::Dispose,
            SessionInput::Timeout => {
                self.session.handle_timeout(now);
                return;
            }
        };
        self.session.handle(now, input);
    }

    /// The next action, a [`SessionOp`] (its fields through the getters), or
    /// [`SessionOp::None`].
    pub fn poll_action(&mut self) -> u8 {
        self.action() as u8
    }

    fn action(&mut self) -> SessionOp {
        self.id = 0.0;
        self.text = None;
        self.extra = None;
        self.replaces = None;
        self.error = None;
        let Some(action) = self.session.poll_action() else {
            return SessionOp::None;
        };
        let op = |op: u64| op as f64;
        let kind = match action {
            Action::ReadStorage { op: o } => {
                self.id = op(o);
                SessionOp::ReadStorage
            }
            Action::WriteStorage {
                op: o,
                token,
                expires_at,
            } => {
                self.id = op(o);
                self.text = Some(token);
                self.extra = Some(expires_at);
                SessionOp::WriteStorage
            }
            Action::ClearStorage { op: o } => {
                self.id = op(o);
                SessionOp::ClearStorage
            }
            Action::AcquireLock { op: o } => {
                self.id = op(o);
                SessionOp::AcquireLock
            }
            Action::ReleaseLock { op: o } => {
                self.id = op(o);
                SessionOp::ReleaseLock
            }
            Action::SendRefresh { op: o, token } => {
                self.id = op(o);
                self.text = Some(token);
                SessionOp::SendRefresh
            }
            Action::AbortRefresh { op: o } => {
                self.id = op(o);
                SessionOp::AbortRefresh
            }
            Action::SendLogout { token } => {
                self.text = Some(token);
                SessionOp::SendLogout
            }
            Action::AnnounceToken {
                token,
                expires_at,
                replaces,
            } => {
                self.text = Some(token);
                self.extra = Some(expires_at);
                self.replaces = replaces;
                SessionOp::AnnounceToken
            }
            Action::AnnounceSignOut { token } => {
                self.text = Some(token);
                SessionOp::AnnounceSignOut
            }
            Action::Resolve { call, result } => {
                self.id = op(call);
                match result {
                    Ok(token) => {
                        self.text = Some(token);
                        SessionOp::Resolve
                    }
                    Err(error) => {
                        self.error = Some(error);
                        SessionOp::Reject
                    }
                }
            }
            Action::Emit(event) => match event {
                SessionEvent::TokenChanged => SessionOp::TokenChanged,
                SessionEvent::TokenRefreshed => SessionOp::TokenRefreshed,
                SessionEvent::RefreshFailed(error) => {
                    self.error = Some(error);
                    SessionOp::RefreshFailed
                }
                SessionEvent::SessionExpired(error) => {
                    self.error = Some(error);
                    SessionOp::SessionExpired
                }
                SessionEvent::Warning(error) => {
                    self.error = Some(error);
                    SessionOp::Warning
                }
            },
        };
        if let Some(error) = self.error {
            self.text = Some(error.code.as_str().to_owned());
        }
        kind
    }

    /// The call or operation id of the last action.
    pub fn id(&self) -> f64 {
        self.id
    }

    /// The token (or other text) of the last action; the error code (`NO_TOKEN`,
    /// `REFRESH_REJECTED`, …) of an error.
    pub fn text(&self) -> Option<&str> {
        self.text.as_deref()
    }

    /// The expiry text of the last action.
    pub fn extra(&self) -> Option<&str> {
        self.extra.as_deref()
    }

    /// The token the last action (an announcement) replaces.
    pub fn replaces(&self) -> Option<&str> {
        self.replaces.as_deref()
    }

    /// The HTTP status behind the last action's error.
    pub fn status(&self) -> Option<u16> {
        self.error.and_then(|e| e.status)
    }

    /// When to feed [`SessionInput::Timeout`] (device Unix ms); NaN: never.
    pub fn poll_timeout(&self) -> f64 {
        self.session.poll_timeout().map_or(f64::NAN, |t| t as f64)
    }

    /// Until this device time (Unix ms), and until this time on the monotonic clock
    /// (`performance.now()`, when `mono`), `GetToken` would be answered at once with the current
    /// token: the driver may hand it out without feeding the call. NaN: no lease.
    pub fn fresh_until(&self, mono: bool) -> f64 {
        let until = if mono {
            self.session.fresh_until_mono()
        } else {
            self.session.fresh_until()
        };
        until.map_or(f64::NAN, |t| t as f64)
    }

    /// The current token.
    pub fn token(&self) -> Option<&str> {
        self.session.view(0).map(|v| v.token)
    }

    /// One of the current token's times at device time `now`: 0 `exp`, 1 `iat`, 2 ms until
    /// `exp`, 3 clock skew, 4 refresh count, 5 last refresh (Unix ms). NaN when unknown.
    pub fn token_time(&self, now: f64, which: u8) -> f64 {
        let Some(view) = self.session.view(ms(now)) else {
            return f64::NAN;
        };
        let value = match which {
            0 => Some(view.expires_at_ms),
            1 => view.issued_at_ms,
            2 => Some(view.expires_in_ms),
            3 => Some(view.skew_ms),
            4 => Some(i64::from(view.refresh_count)),
            5 => view.last_refresh_at_ms,
            _ => None,
        };
        value.map_or(f64::NAN, |v| v as f64)
    }

    /// Lets the token go to `url`'s origin too (the base URL's, and each allowed origin).
    pub fn allow_origin(&mut self, url: &str) {
        if let Some(origin) = consult_core::session::origin_of(url) {
            self.origins.push(origin);
        }
    }

    /// Whether the bearer token may go to `url` (already resolved against the page).
    pub fn may_carry_token(&self, url: &str) -> bool {
        let target = consult_core::session::origin_of(url);
        target.is_some_and(|target| self.origins.contains(&target))
    }
}

// ---- the wasm exports (`js/consult_core.js` calls them; conventions in `abi.rs`) ----------------

abi::local! {
    static MACHINES: Slab<TokenMachine> = const { Slab::new() };
}

fn with<R: Default>(handle: f64, f: impl FnOnce(&mut TokenMachine) -> R) -> R {
    abi::with(&MACHINES, handle, f).unwrap_or_default()
}

/// [`TokenMachine::new`]; its handle.
#[unsafe(no_mangle)]
pub extern "C" fn tm_new(
    margin_seconds: f64,
    request_timeout_ms: f64,
    refresh_retries: f64,
    cross_tab: u32,
    auto_refresh: u32,
    storage: u32,
    seed: f64,
) -> f64 {
    let machine = TokenMachine::new(
        margin_seconds,
        request_timeout_ms,
        refresh_retries,
        cross_tab != 0,
        auto_refresh != 0,
        storage != 0,
        seed,
    );
    MACHINES.with(|slab| slab.insert(machine))
}

/// Drops the machine behind `handle`.
#[unsafe(no_mangle)]
pub extern "C" fn tm_free(handle: f64) {
    abi::free(&MACHINES, handle);
}

/// [`TokenMachine::request_timeout_ms`].
#[unsafe(no_mangle)]
pub extern "C" fn tm_request_timeout(handle: f64) -> f64 {
    with(handle, |m| m.request_timeout_ms())
}

/// [`TokenMachine::set_retry_after`] with the string in the in buffer.
#[unsafe(no_mangle)]
pub extern "C" fn tm_set_retry_after(handle: f64, value: f64) {
    with(handle, |m| m.set_retry_after(abi::string(value)));
}

/// [`TokenMachine::feed`]; `text` and `extra` are in the in buffer.
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub extern "C" fn tm_feed(
    handle: f64,
    now: f64,
    mono: f64,
    kind: u32,
    id: f64,
    text: f64,
    extra: f64,
    number: f64,
) {
    let mut strings = abi::Strings::default();
    let (text, extra) = (strings.next(text), strings.next(extra));
    let kind = u8::try_from(kind).unwrap_or(0);
    with(handle, |m| m.feed(now, mono, kind, id, text, extra, number));
}

/// [`TokenMachine::poll_action`] (0 once there is none, or no machine).
#[unsafe(no_mangle)]
pub extern "C" fn tm_poll(handle: f64) -> u32 {
    with(handle, |m| u32::from(m.poll_action()))
}

/// [`TokenMachine::id`].
#[unsafe(no_mangle)]
pub extern "C" fn tm_id(handle: f64) -> f64 {
    with(handle, |m| m.id())
}

/// [`TokenMachine::text`] into the out buffer.
#[unsafe(no_mangle)]
pub extern "C" fn tm_text(handle: f64) -> f64 {
    abi::with(&MACHINES, handle, |m| abi::out(m.text())).unwrap_or(-1.0)
}

/// [`TokenMachine::replaces`] into the out buffer.
#[unsafe(no_mangle)]
pub extern "C" fn tm_replaces(handle: f64) -> f64 {
    abi::with(&MACHINES, handle, |m| abi::out(m.replaces())).unwrap_or(-1.0)
}

/// [`TokenMachine::set_replaces`] with the string in the in buffer.
#[unsafe(no_mangle)]
pub extern "C" fn tm_set_replaces(handle: f64, value: f64) {
    with(handle, |m| m.set_replaces(abi::string(value)));
}

/// [`TokenMachine::extra`] into the out buffer.
#[unsafe(no_mangle)]
pub extern "C" fn tm_extra(handle: f64) -> f64 {
    abi::with(&MACHINES, handle, |m| abi::out(m.extra())).unwrap_or(-1.0)
}

/// [`TokenMachine::token`] into the out buffer.
#[unsafe(no_mangle)]
pub extern "C" fn tm_token(handle: f64) -> f64 {
    abi::with(&MACHINES, handle, |m| abi::out(m.token())).unwrap_or(-1.0)
}

/// [`TokenMachine::status`]; NaN: none.
#[unsafe(no_mangle)]
pub extern "C" fn tm_status(handle: f64) -> f64 {
    abi::number(with(handle, |m| m.status()))
}

/// [`TokenMachine::poll_timeout`]; NaN: never.
#[unsafe(no_mangle)]
pub extern "C" fn tm_timeout(handle: f64) -> f64 {
    abi::with(&MACHINES, handle, |m| m.poll_timeout()).unwrap_or(f64::NAN)
}

/// [`TokenMachine::fresh_until`] (`mono` ≠ 0: on the monotonic clock); NaN: no lease.
#[unsafe(no_mangle)]
pub extern "C" fn tm_fresh_until(handle: f64, mono: u32) -> f64 {
    abi::with(&MACHINES, handle, |m| m.fresh_until(mono != 0)).unwrap_or(f64::NAN)
}

/// [`TokenMachine::token_time`]; NaN: unknown.
#[unsafe(no_mangle)]
pub extern "C" fn tm_time(handle: f64, now: f64, which: u32) -> f64 {
    let which = u8::try_from(which).unwrap_or(u8::MAX);
    abi::with(&MACHINES, handle, |m| m.token_time(now, which)).unwrap_or(f64::NAN)
}

/// [`TokenMachine::allow_origin`] with the URL in the in buffer.
#[unsafe(no_mangle)]
pub extern "C" fn tm_allow_origin(handle: f64, url: f64) {
    let url = abi::string(url).unwrap_or_default();
    with(handle, |m| m.allow_origin(&url));
}

/// [`TokenMachine::may_carry_token`] with the URL in the in buffer (1: yes).
#[unsafe(no_mangle)]
pub extern "C" fn tm_may_carry(handle: f64, url: f64) -> u32 {
    let url = abi::string(url).unwrap_or_default();
    u32::from(with(handle, |m| m.may_carry_token(&url)))
}
