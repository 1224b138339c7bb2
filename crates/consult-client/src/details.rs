//! The consultation session as the server describes it (`GET /api/video/sessions/{id}`).

use consult_core::SessionStatus;
use serde::Deserialize;

/// A consultation session.
///
/// ```
/// let text = r#"{"session_id":"s1","room_id":"room-s1","status":"active","participants":["p1"]}"#;
/// let details: consult_client::SessionDetails = serde_json::from_str(text).unwrap();
/// assert_eq!(details.status(), consult_client::SessionStatus::Active);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct SessionDetails {
    /// The session id.
    pub session_id: String,
    /// Its Socket.IO room.
    pub room_id: String,
    /// `scheduled`, `waiting`, `active`, `ended` or `cancelled`, as sent (see [`Self::status`]).
    #[serde(rename = "status")]
    pub status_text: String,
    /// The users admitted (empty: every signed-in user).
    #[serde(default)]
    pub participants: Vec<String>,
    /// Increases with every change.
    #[serde(default)]
    pub version: Option<u64>,
    /// RFC 3339.
    #[serde(default)]
    pub created_at: Option<String>,
    /// RFC 3339.
    #[serde(default)]
    pub updated_at: Option<String>,
}

impl SessionDetails {
    /// The status.
    pub fn status(&self) -> SessionStatus {
        SessionStatus::parse(&self.status_text)
    }

    /// Reads a session from an answer's body.
    pub(crate) fn parse(body: &str) -> Option<SessionDetails> {
        serde_json::from_str(body).ok()
    }
}
