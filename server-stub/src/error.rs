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
    /// The token was replaced by a refresh (longer ago than the reuse window): use its successor.
    #[error("token was replaced by a newer one of its sign-in")]
    TokenSuperseded,
}

impl AuthError {
    /// Every variant, for per-reason counters.
    pub const ALL: [AuthError; 8] = [
        AuthError::MissingToken,
        AuthError::InvalidToken,
        AuthError::TokenExpired,
        AuthError::RefreshWindowExpired,
        AuthError::SessionExpired,
        AuthError::TokenReused,
        AuthError::SessionRevoked,
        AuthError::TokenSuperseded,
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
            AuthError::TokenSuperseded => "token_superseded",
        }
    }

    /// The Socket.IO `connect_error` message, as clients of the seed expect it.
    pub fn socket_message(self) -> &'static str {
        match self {
            AuthError::MissingToken => "unauthorized: missing token",
            AuthError::TokenExpired
            | AuthError::RefreshWindowExpired
            | AuthError::SessionExpired
            | AuthError::TokenSuperseded => "Token expired",
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
    /// 503 `server_full`: a capacity limit is reached (fail closed; nothing live is forgotten).
    #[error("the server holds the most {0} it is allowed to; try again later")]
    Full(&'static str),
    /// 503 `store_unavailable`, with `Retry-After`: the shared store (Redis) did not answer in
    /// time; nothing was decided, the client retries later.
    #[error("the server's shared store is not answering; retry after {retry_after_secs} s")]
    Unavailable {
        /// Seconds to wait.
        retry_after_secs: u32,
    },
    /// 429 `rate_limited`, with `Retry-After`.
    #[error("too many requests; retry after {retry_after_secs} s")]
    RateLimited {
        /// Seconds to wait.
        retry_after_secs: u32,
    },
    /// 413 `payload_too_large`.
    #[error("request body larger than {0} bytes")]
    PayloadTooLarge(usize),
    /// 403 `forbidden`: a dev endpoint asked from a non-loopback `Host` or a foreign `Origin`.
    #[error("{0}")]
    Forbidden(&'static str),
    /// Any other refusal by the HTTP stack (405, 408, …), as `http_<status>`.
    #[error("{message}")]
    Http {
        /// The status.
        status: StatusCode,
        /// Why.
        message: String,
    },
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
            ApiError::Full(_) => (StatusCode::SERVICE_UNAVAILABLE, "server_full"),
            ApiError::RateLimited { .. } => (StatusCode::TOO_MANY_REQUESTS, "rate_limited"),
            ApiError::Unavailable { .. } => (StatusCode::SERVICE_UNAVAILABLE, "store_unavailable"),
            ApiError::PayloadTooLarge(_) => (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large"),
            ApiError::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden"),
            ApiError::Http { status, .. } => (*status, http_code(*status)),
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
        }
        | ApiError::RateLimited {
            retry_after_secs: secs,
        }
        | ApiError::Unavailable {
            retry_after_secs: secs,
        } = self
        {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}

/// The stable code of a refusal made by the HTTP stack rather than a handler.
pub fn http_code(status: StatusCode) -> &'static str {
    match status {
        StatusCode::BAD_REQUEST => "bad_request",
        StatusCode::NOT_FOUND => "not_found",
        StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
        StatusCode::REQUEST_TIMEOUT => "request_timeout",
        StatusCode::PAYLOAD_TOO_LARGE => "payload_too_large",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
        StatusCode::FORBIDDEN => "forbidden",
        StatusCode::TOO_MANY_REQUESTS => "rate_limited",
        StatusCode::SERVICE_UNAVAILABLE => "unavailable",
        s if s.is_server_error() => "internal_error",
        _ => "http_error",
    }
}

/// Response middleware: any refusal the HTTP stack made without the API's JSON body (a 405, a
/// 413 from the body limit, an extractor's 400) gets `{"error", "message"}` like every other.
pub async fn json_refusal(response: Response) -> Response {
    let status = response.status();
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return response;
    }
    let message = status
        .canonical_reason()
        .unwrap_or("request refused")
        .to_owned();
    let mut refusal = ApiError::Http { status, message }.into_response();
    for name in [header::ALLOW, header::RETRY_AFTER, header::WWW_AUTHENTICATE] {
        if let Some(value) = response.headers().get(&name) {
            refusal.headers_mut().insert(name, value.clone());
        }
    }
    refusal
}
