//! The consultation session as the API shows it.

use axum::body::Bytes;
use axum::http::HeaderValue;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// Where a consultation stands. `Ended` and `Cancelled` are terminal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SessionStatus {
    /// Booked, not started.
    Scheduled,
    /// Someone is in the waiting room.
    Waiting,
    /// The consultation is running.
    Active,
    /// Finished (terminal).
    Ended,
    /// Called off (terminal).
    Cancelled,
}

impl SessionStatus {
    /// Whether no further change is allowed.
    ///
    /// ```
    /// use consult_stub::session::SessionStatus;
    /// assert!(SessionStatus::Ended.is_terminal());
    /// assert!(!SessionStatus::Active.is_terminal());
    /// ```
    pub fn is_terminal(self) -> bool {
        matches!(self, SessionStatus::Ended | SessionStatus::Cancelled)
    }
}

/// A video-consultation session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    /// Session id (path segment of `GET /api/video/sessions/{id}`).
    pub session_id: String,
    /// Socket.IO room of the session.
    pub room_id: String,
    /// Current status.
    pub status: SessionStatus,
    /// User ids allowed in; empty admits every signed-in user (a dev convenience).
    pub participants: Vec<String>,
    /// Bumped at every change; the `ETag` is derived from it.
    pub version: u64,
    /// Creation time.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// Last change.
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

impl Session {
    /// A new session (version 1) created at `now`; the room defaults to `room-<session_id>`,
    /// the status to `scheduled`, the participants to none (open to every signed-in user).
    ///
    /// ```
    /// use consult_stub::session::{Session, SessionStatus};
    /// let session = Session::new("s1".into(), None, None, None, time::OffsetDateTime::UNIX_EPOCH);
    /// assert_eq!((session.room_id.as_str(), session.status), ("room-s1", SessionStatus::Scheduled));
    /// ```
    pub fn new(
        session_id: String,
        room_id: Option<String>,
        status: Option<SessionStatus>,
        participants: Option<Vec<String>>,
        now: OffsetDateTime,
    ) -> Self {
        Session {
            room_id: room_id.unwrap_or_else(|| format!("room-{session_id}")),
            session_id,
            status: status.unwrap_or(SessionStatus::Scheduled),
            participants: participants.unwrap_or_default(),
            version: 1,
            created_at: now,
            updated_at: now,
        }
    }

    /// Whether `user_id` may see and join this session.
    pub fn admits(&self, user_id: &str) -> bool {
        self.participants.is_empty() || self.participants.iter().any(|p| p == user_id)
    }

    /// The entity tag of the current version, quoted as HTTP wants it.
    pub fn etag(&self) -> String {
        format!("\"{}-v{}\"", self.session_id, self.version)
    }
}

/// A session version as GET answers it, built once per version rather than per request.
#[derive(Debug, Clone)]
pub struct Rendered {
    /// The JSON body.
    pub json: Bytes,
    /// The quoted entity tag, as a header value.
    pub etag: HeaderValue,
}

impl Rendered {
    /// Renders `session`; `None` if its id cannot be a header value (ids are validated, so
    /// only a bug gets here).
    pub fn of(session: &Session) -> Option<Rendered> {
        Some(Rendered {
            json: Bytes::from(serde_json::to_vec(session).ok()?),
            etag: HeaderValue::from_str(&session.etag()).ok()?,
        })
    }
}
