//! The consultation session as the server describes it (`GET /api/video/sessions/{id}`).

use consult_core::SessionStatus;
use consult_core::json::Json;
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

    /// The session in an answer's body that core read as a session
    /// ([`consult_core::authorised::session_answer`]): the same reading in both drivers, so
    /// nothing here can refuse what core accepted (an optional field of another type is absent).
    pub(crate) fn read(body: &str) -> SessionDetails {
        let json = Json::parse(body).unwrap_or(Json::Null);
        let text = |key: &str| json.get(key).and_then(Json::as_str).map(str::to_owned);
        let participants = match json.get("participants") {
            Some(Json::Array(items)) => items
                .iter()
                .filter_map(|item| item.as_str().map(str::to_owned))
                .collect(),
            _ => Vec::new(),
        };
        let version = json.get("version").and_then(Json::as_f64);
        SessionDetails {
            session_id: text("session_id").unwrap_or_default(),
            room_id: text("room_id").unwrap_or_default(),
            status_text: text("status").unwrap_or_default(),
            participants,
            version: version
                .filter(|v| *v >= 0.0 && v.fract() == 0.0)
                .map(|v| v as u64),
            created_at: text("created_at"),
            updated_at: text("updated_at"),
        }
    }
}
