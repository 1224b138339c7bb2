//! The one error type of the HTTP API, and how it becomes a response:
//! a status and a body `{"error": "<code>", "message": "<text>"}`.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// Why a credential was refused. Each maps to one stable error code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
pub enum AuthError {
    /// No `Authorization: Bearer …` header (or an empty token).
    #[error("missing bearer token")]
    MissingToken,
    /// Not a JWT, bad signature, wrong algorithm, issuer or audience, missing claims.
    #[error("invalid token")]
    InvalidToken,
    /// `exp` has passed (strict checks only).
    #[error("token expired")]
    TokenExpired,
    /// `exp` passed longer ago than the refresh grace.
    #[error("token expired beyond the refresh grace period")]
    RefreshWindowExpired,
    /// The sign-in is older than the session max age.
    #[error("sign-in is older than the session max age; sign in again")]
    SessionExpired,
    /// The token was already refreshed, longer ago than the reuse window.
    #[error("token was already refreshed; the session has been revoked")]
    TokenReused,
    /// The sign-in (`sid`) was revoked by logout or by reuse detection.
    #[error("session revoked")]
    SessionRevoked,
}

impl AuthError {
    /// Every variant, for per-reason counters.
    pub const ALL: [AuthError; 7] = [
        AuthError::MissingToken,
        AuthError::InvalidToken,
        AuthError::TokenExpired,
        AuthError::RefreshWindowExpired,
        AuthError::SessionExpired,
        AuthError::TokenReused,
        AuthError::SessionRevoked,
    ];

    /// The stable machine-readable code.
    pub fn code(self) -> &'static str {
        match self {
            AuthError::MissingToken => "missing_token",
            AuthError::InvalidToken => "invalid_token",
            AuthError::TokenExpired => "token_expired",
            AuthError::RefreshWindowExpired => "refresh_window_expired",
            AuthError::SessionExpired => "session_expired",
            AuthError::TokenReused => "token_reused",
            AuthError::SessionRevoked => "session_revoked",
        }
    }

    /// The Socket.IO `connect_error` message, as clients of the seed expect it.
    pub fn socket_message(self) -> &'static str {
        match self {
            AuthError::MissingToken => "unauthorized: missing token",
            AuthError::TokenExpired
            | AuthError::RefreshWindowExpired
            | AuthError::SessionExpired => "Token expired",
            AuthError::SessionRevoked | AuthError::TokenReused => "Session revoked",
            AuthError::InvalidToken => "Invalid token",
        }
    }

    /// Position in [`AuthError::ALL`].
    pub fn index(self) -> usize {
        AuthError::ALL.iter().position(|e| *e == self).unwrap_or(0)
    }
}

/// Every failure the HTTP API can answer with.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// A refused credential: 401.
    #[error(transparent)]
    Auth(#[from] AuthError),
    /// 404 `session_not_found`.
    #[error("no session with id {0:?}")]
    SessionNotFound(String),
    /// 403 `not_a_participant`.
    #[error("user is not a participant of this session")]
    NotAParticipant,
    /// 400 `bad_request`.
    #[error("{0}")]
    BadRequest(String),
    /// 409 `session_exists` (dev endpoint).
    #[error("a session with id {0:?} already exists")]
    SessionExists(String),
    /// 404 `not_found`: no such route.
    #[error("no such endpoint")]
    NotFound,
    /// An injected fault (dev endpoint `/api/dev/faults`).
    #[error("injected fault")]
    Fault {
        /// Status to answer with.
        status: StatusCode,
        /// `Retry-After` seconds, when set.
        retry_after_secs: Option<u32>,
    },
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    error: &'a str,
    message: String,
}

impl ApiError {
    /// The status and stable code of this error.
    pub fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            ApiError::Auth(e) => (StatusCode::UNAUTHORIZED, e.code()),
            ApiError::SessionNotFound(_) => (StatusCode::NOT_FOUND, "session_not_found"),
            ApiError::NotAParticipant => (StatusCode::FORBIDDEN, "not_a_participant"),
            ApiError::BadRequest(_) => (StatusCode::BAD_REQUEST, "bad_request"),
            ApiError::SessionExists(_) => (StatusCode::CONFLICT, "session_exists"),
            ApiError::NotFound => (StatusCode::NOT_FOUND, "not_found"),
            ApiError::Fault { status, .. } => (*status, "injected_fault"),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        let body = ErrorBody {
            error: code,
            message: self.to_string(),
        };
        let mut response = (status, Json(body)).into_response();
        if let ApiError::Auth(_) = self {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        if let ApiError::Fault {
            retry_after_secs: Some(secs),
            ..
        } = self
        {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}
