//! What goes into a [`TokenSession`](super::TokenSession) and what comes out: the inputs a driver
//! feeds it (calls of the application, results of I/O, messages of other tabs) and the actions
//! it asks the driver to perform. Every I/O request carries an id, and its answer must carry the
//! same id: an answer that matches nothing outstanding is ignored (or, for a lock, released).

use crate::ErrorCode;
use alloc::string::String;

/// Identifies one call of the application (a waiter): the driver picks it, the machine answers
/// it exactly once with [`Action::Resolve`].
pub type CallId = u64;

/// Identifies one I/O operation the machine asked for (storage, lock, refresh request).
pub type OpId = u64;

/// Why a call failed, as the application sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionError {
    /// The stable code.
    pub code: ErrorCode,
    /// The HTTP status behind it, when there was one.
    pub status: Option<u16>,
}

impl SessionError {
    /// An error without a status.
    pub const fn new(code: ErrorCode) -> Self {
        Self { code, status: None }
    }

    /// An error with the status that caused it.
    pub const fn with_status(code: ErrorCode, status: u16) -> Self {
        Self {
            code,
            status: Some(status),
        }
    }
}

/// What a sign-in (or a refresh done elsewhere) handed the application.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Grant {
    /// The access token (a JWT).
    pub access_token: String,
    /// The server's `expires_at` as text (RFC 3339, naive UTC or epoch seconds); used only when
    /// the token carries no `exp`.
    pub expires_at: Option<String>,
    /// The server's `expires_in` (seconds left when it answered): measures the clock skew.
    pub expires_in: Option<f64>,
}

/// Why a refresh request got no HTTP answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransportFailure {
    /// The request could not be sent, or the connection broke.
    Network,
    /// An answer came, but its body could not be read.
    UnreadableBody,
}

/// Something that happened, fed to [`TokenSession::handle`](super::TokenSession::handle).
#[derive(Debug, Clone, PartialEq)]
pub enum Input {
    /// The application wants a token valid for at least the refresh margin.
    GetToken {
        /// Answered by [`Action::Resolve`].
        call: CallId,
    },
    /// A request sent with `token` was answered 401: the application wants another token.
    TokenRefused {
        /// Answered by [`Action::Resolve`].
        call: CallId,
        /// The token the server refused.
        token: String,
    },
    /// The application wants a new token now, whatever the current one's expiry.
    ForceRefresh {
        /// Answered by [`Action::Resolve`].
        call: CallId,
    },
    /// The application signed in: store this grant. Resolved with the token once stored.
    SetSession {
        /// Answered by [`Action::Resolve`].
        call: CallId,
        /// What the sign-in returned.
        grant: Grant,
    },
    /// The application signs out. Resolved once storage is cleared.
    SignOut {
        /// Answered by [`Action::Resolve`].
        call: CallId,
    },
    /// The stored token, answering [`Action::ReadStorage`] (`None`: nothing stored).
    StorageRead {
        /// The operation answered.
        op: OpId,
        /// The stored token.
        token: Option<String>,
        /// The stored expiry text.
        expires_at: Option<String>,
    },
    /// A storage operation ([`Action::ReadStorage`], [`Action::WriteStorage`],
    /// [`Action::ClearStorage`]) finished: `ok == false` when the storage threw.
    StorageDone {
        /// The operation answered.
        op: OpId,
        /// Whether it worked.
        ok: bool,
    },
    /// The cross-tab lock asked for by [`Action::AcquireLock`] is held.
    LockGranted {
        /// The operation answered.
        op: OpId,
    },
    /// This environment has no cross-tab lock: go on without one.
    LockUnavailable {
        /// The operation answered.
        op: OpId,
    },
    /// The refresh endpoint answered.
    RefreshAnswered {
        /// The request answered.
        op: OpId,
        /// HTTP status.
        status: u16,
        /// The body as text (empty when there was none).
        body: String,
        /// The `Date` header.
        date: Option<String>,
        /// The `Retry-After` header.
        retry_after: Option<String>,
    },
    /// The refresh request got no usable answer.
    RefreshFailed {
        /// The request answered.
        op: OpId,
        /// What went wrong.
        failure: TransportFailure,
    },
    /// Another tab announced a token (broadcast, or a storage event of the mirror key).
    PeerToken {
        /// The token.
        token: String,
        /// Its expiry text, when the message had one.
        expires_at: Option<String>,
        /// The token it replaces, when the message says: a broadcast's `replaces`, a `storage`
        /// event's old value. That one is behind from now on (a late message with it is
        /// ignored), which no comparison of `exp`/`iat` could tell.
        replaces: Option<String>,
    },
    /// Another tab ended the sign-in whose token was `token` (`None`: it did not say which).
    PeerSignedOut {
        /// The token that tab was signed in with.
        token: Option<String>,
    },
    /// The page may have slept: it became visible, came online, or got focus.
    Wake,
    /// Stop background work (auto-refresh); calls still work, and pending ones go on.
    Dispose,
}

/// What the application hears about ([`Action::Emit`]). Details of the token come from
/// [`TokenSession::view`](super::TokenSession::view).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionEvent {
    /// The current token changed (a new one, or none).
    TokenChanged,
    /// This client refreshed the token.
    TokenRefreshed,
    /// A refresh attempt failed; the sign-in is kept and the machine will try again.
    RefreshFailed(SessionError),
    /// The refresh endpoint refused the token: the sign-in is over.
    SessionExpired(SessionError),
    /// Something degraded but works (the storage failed: the token lives in memory).
    Warning(SessionError),
}

/// What the driver must do, drained with [`TokenSession::poll_action`](super::TokenSession::poll_action).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Read the stored token (the shared store: one where a read after the cross-tab lock sees
    /// the last write) and answer [`Input::StorageRead`] or [`Input::StorageDone`] (`ok: false`).
    ReadStorage {
        /// Echo it in the answer.
        op: OpId,
    },
    /// Store the token (and its expiry, for the seed's keys), then answer [`Input::StorageDone`].
    WriteStorage {
        /// Echo it in the answer.
        op: OpId,
        /// The access token.
        token: String,
        /// `exp` as RFC 3339 UTC text.
        expires_at: String,
    },
    /// Remove the stored token, then answer [`Input::StorageDone`].
    ClearStorage {
        /// Echo it in the answer.
        op: OpId,
    },
    /// Ask for the cross-tab refresh lock; answer [`Input::LockGranted`] or
    /// [`Input::LockUnavailable`].
    AcquireLock {
        /// Echo it in the answer.
        op: OpId,
    },
    /// Give the lock up, or withdraw the request if it was not granted yet.
    ReleaseLock {
        /// The lock operation.
        op: OpId,
    },
    /// `POST` the refresh endpoint with `Authorization: Bearer <token>`; answer
    /// [`Input::RefreshAnswered`] or [`Input::RefreshFailed`].
    SendRefresh {
        /// Echo it in the answer.
        op: OpId,
        /// The token to refresh.
        token: String,
    },
    /// Abort that refresh request (timed out, or no longer wanted); no answer is expected.
    AbortRefresh {
        /// The request.
        op: OpId,
    },
    /// `POST` the logout endpoint with this token (best effort, no answer expected).
    SendLogout {
        /// The token to revoke.
        token: String,
    },
    /// Tell the other tabs about a new token.
    AnnounceToken {
        /// The token.
        token: String,
        /// `exp` as RFC 3339 UTC text.
        expires_at: String,
        /// The token it replaces (the one refreshed, or the previous sign-in's), if any.
        replaces: Option<String>,
    },
    /// Tell the other tabs that the sign-in of `token` is over.
    AnnounceSignOut {
        /// The token signed out.
        token: String,
    },
    /// Answer the application's call.
    Resolve {
        /// The call.
        call: CallId,
        /// A token, or why there is none.
        result: Result<String, SessionError>,
    },
    /// Tell the application.
    Emit(SessionEvent),
}
