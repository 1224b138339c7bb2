//! What every answer means, per endpoint: one table — status → outcome, retryable or not,
//! sign-in ends or not — that the machines read and one test (`tests/answer_table.rs`) holds.
//!
//! | endpoint | 2xx | 304 | 401 | 403 | 404 | 408, 425, 429, 5xx | any other |
//! |---|---|---|---|---|---|---|---|
//! | refresh | success (then trusted or not) | failed | **the sign-in ends** | transient | failed | transient | failed |
//! | authorised call | success | failed | one refresh, one replay | transient | failed | transient | failed |
//! | poll | success (an update) | nothing new | failed (after the replay) | polling ends: forbidden | polling ends: not found | transient | failed |
//!
//! "Transient" is retried with backoff and reported `retryable`; "failed" is reported, not
//! retryable, and keeps the sign-in. Only a refresh 401 ends a sign-in: a 403 comes from
//! proxies and WAFs as often as from the server.
//!
//! The socket handshake has no status a browser can see: a CONNECT_ERROR's message is read by
//! [`read_connect_error`], and a transport that closes before the handshake is transient.

/// Which endpoint answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    /// `POST /api/video/auth/refresh-token`.
    Refresh,
    /// An authorised request of the application (`fetch`, the session details).
    Authorised,
    /// The session poll (`GET /api/video/sessions/{id}` with `If-None-Match`).
    Poll,
}

/// What an answer means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// 2xx: the body is read (and, for a refresh, checked before it is trusted).
    Success,
    /// 304 to a conditional poll: nothing new.
    NotModified,
    /// 401 to an authorised request: join (or start) the one refresh, then replay once.
    RefreshAndReplay,
    /// 401 from the refresh endpoint: the sign-in is over.
    EndSignIn,
    /// 404 to a poll: the session is gone; polling ends.
    NotFound,
    /// 403 to a poll: not a participant; polling ends.
    Forbidden,
    /// Try again after a backoff (`Retry-After` honoured): reported `retryable`.
    Transient,
    /// Report it; not retryable; the sign-in is kept.
    Failed,
}

impl Outcome {
    /// Whether the error this outcome reports may succeed later (`ConsultError.retryable`).
    pub fn retryable(self) -> bool {
        self == Outcome::Transient
    }

    /// Whether this outcome ends the sign-in (`sessionExpired`, storage cleared).
    pub fn ends_sign_in(self) -> bool {
        self == Outcome::EndSignIn
    }
}

/// Whether a status may be gone on the next try: 403 (proxies, WAFs), 408, 425, 429, 5xx.
///
/// ```
/// assert!(consult_core::classify::transient_status(403));
/// assert!(!consult_core::classify::transient_status(404));
/// ```
pub fn transient_status(status: u16) -> bool {
    matches!(status, 403 | 408 | 425 | 429 | 500..=599)
}

/// Whether `status` says the credential was refused (401): from the refresh endpoint the
/// sign-in ends, from an authorised call it is refreshed and replayed once.
///
/// ```
/// assert!(consult_core::classify::refuses_credential(401));
/// assert!(!consult_core::classify::refuses_credential(403));
/// ```
pub fn refuses_credential(status: u16) -> bool {
    status == 401
}

/// What `status` from `endpoint` means.
///
/// ```
/// use consult_core::classify::{Endpoint, Outcome, read_status};
/// assert_eq!(read_status(Endpoint::Refresh, 401), Outcome::EndSignIn);
/// assert_eq!(read_status(Endpoint::Refresh, 403), Outcome::Transient);
/// assert_eq!(read_status(Endpoint::Authorised, 401), Outcome::RefreshAndReplay);
/// assert_eq!(read_status(Endpoint::Poll, 304), Outcome::NotModified);
/// ```
#[inline(always)]
pub fn read_status(endpoint: Endpoint, status: u16) -> Outcome {
    match (endpoint, status) {
        (_, 200..=299) => Outcome::Success,
        (Endpoint::Poll, 304) => Outcome::NotModified,
        (Endpoint::Poll, 404) => Outcome::NotFound,
        (Endpoint::Poll, 403) => Outcome::Forbidden,
        (Endpoint::Refresh, status) if refuses_credential(status) => Outcome::EndSignIn,
        (Endpoint::Authorised, status) if refuses_credential(status) => Outcome::RefreshAndReplay,
        (_, status) if transient_status(status) => Outcome::Transient,
        _ => Outcome::Failed,
    }
}

/// What a Socket.IO CONNECT_ERROR means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The credential was refused ("Token expired", "Invalid token", "unauthorized…",
    /// "Session revoked", anything about `expired`, `revoked` or `jwt`): one forced refresh,
    /// then a new CONNECT. The refresh, not this answer, decides whether the sign-in ends.
    Credential,
    /// Any other refusal ("Service unavailable", "Too many connections", one this client does
    /// not know): a failed attempt, reconnect with backoff (at most `attempts` in a row).
    Transient,
    /// The namespace is refused ("Invalid namespace"): nothing a token or a wait can fix;
    /// close, the sign-in is kept.
    Final,
}

/// Whether an `error` event (its JSON array) refuses the token `join_room` carried
/// (`token_expired`, `token_superseded`, `invalid_token`, `missing_token`, …): consult-stub's
/// codes. The socket joins again with a refreshed token.
///
/// ```
/// use consult_core::classify::join_refused_for_token;
/// assert!(join_refused_for_token(r#"["error",{"code":"token_superseded","message":"x"}]"#));
/// assert!(!join_refused_for_token(r#"["error",{"code":"rate_limited","message":"token"}]"#));
/// ```
pub fn join_refused_for_token(array: &str) -> bool {
    let contains = |word: &[u8]| crate::ascii::contains(array.as_bytes(), word);
    contains(b"\"token_") || contains(b"_token\"")
}

/// What a CONNECT_ERROR `message` means.
///
/// ```
/// use consult_core::classify::{Refusal, read_connect_error};
/// assert_eq!(read_connect_error("Token expired"), Refusal::Credential);
/// assert_eq!(read_connect_error("unauthorized: missing token"), Refusal::Credential);
/// assert_eq!(read_connect_error("Service unavailable"), Refusal::Transient);
/// assert_eq!(read_connect_error("Invalid namespace"), Refusal::Final);
/// ```
pub fn read_connect_error(message: &str) -> Refusal {
    let lower = message.to_ascii_lowercase();
    let contains = |word: &str| crate::ascii::contains(lower.as_bytes(), word.as_bytes());
    if lower == "invalid token"
        || contains("expired")
        || lower.starts_with("unauthorized")
        || contains("revoked")
        || contains("jwt")
    {
        Refusal::Credential
    } else if contains("namespace") {
        Refusal::Final
    } else {
        Refusal::Transient
    }
}
