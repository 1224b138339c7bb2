//! What a video session reports, typed: the server's room events read with serde.

use consult_core::SessionStatus;
use consult_core::connection::ConnState;
use serde::Deserialize;
use serde::de::DeserializeOwned;

/// Where the room connection stands (`connecting`, `connected`, `joined`, `reconnecting`,
/// `refreshing`, `closed`): consult-core's connection state.
pub use consult_core::connection::ConnState as RoomState;

/// Someone in the room.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Participant {
    /// The user.
    pub user_id: String,
    /// `PATIENT` or `DOCTOR`.
    #[serde(default)]
    pub role: String,
    /// A display name (may be empty).
    #[serde(default)]
    pub name: String,
}

/// `joined_room`: this user is in the room, with these participants.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct JoinedRoom {
    /// The room.
    pub room_id: String,
    /// The consultation session.
    #[serde(default)]
    pub session_id: String,
    /// This user.
    #[serde(default)]
    pub user_id: String,
    /// This user's role.
    #[serde(default)]
    pub role: String,
    /// Everyone in the room now, this user included.
    #[serde(default)]
    pub participants: Vec<Participant>,
}

/// `session_status`: the consultation's status changed.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct StatusChange {
    /// As sent (see [`StatusChange::status`]).
    #[serde(rename = "status")]
    pub status_text: String,
    /// Increases with every change.
    #[serde(default)]
    pub version: Option<u64>,
}

impl StatusChange {
    /// The status.
    ///
    /// ```
    /// let change: consult_client::StatusChange = serde_json::from_str(r#"{"status":"ended"}"#).unwrap();
    /// assert_eq!(change.status(), consult_client::SessionStatus::Ended);
    /// ```
    pub fn status(&self) -> SessionStatus {
        SessionStatus::parse(&self.status_text)
    }
}

/// `error`: the server refused something (e.g. `join_room` for another user).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct RoomError {
    /// A stable code.
    pub code: String,
    /// For people.
    #[serde(default)]
    pub message: String,
}

/// What a video session reports.
#[derive(Debug, Clone, PartialEq)]
pub enum RoomEvent {
    /// The state changed, and why.
    State {
        /// The new state.
        state: RoomState,
        /// A short reason.
        reason: String,
    },
    /// `joined_room`.
    JoinedRoom(JoinedRoom),
    /// `participant_joined`.
    ParticipantJoined(Participant),
    /// `participant_left`.
    ParticipantLeft(Participant),
    /// `session_status`.
    SessionStatus(StatusChange),
    /// `error`.
    Error(RoomError),
    /// Any other server event, or a known one whose payload did not have the expected shape.
    Other {
        /// Its name.
        name: String,
        /// Its first argument (`null` when none).
        payload: serde_json::Value,
    },
}

impl RoomEvent {
    /// A state change.
    pub(crate) fn state(state: ConnState, reason: String) -> RoomEvent {
        RoomEvent::State { state, reason }
    }

    /// A server event from its name and JSON array `["name", payload, …]`.
    ///
    /// ```
    /// use consult_client::RoomEvent;
    /// let left = RoomEvent::from_server("participant_left", r#"["participant_left",{"user_id":"u2"}]"#);
    /// assert!(matches!(left, RoomEvent::ParticipantLeft(p) if p.user_id == "u2"));
    /// let odd = RoomEvent::from_server("participant_left", r#"["participant_left",7]"#);
    /// assert!(matches!(odd, RoomEvent::Other { .. }));
    /// ```
    pub fn from_server(name: &str, array: &str) -> RoomEvent {
        let payload = serde_json::from_str::<Vec<serde_json::Value>>(array)
            .ok()
            .and_then(|items| items.into_iter().nth(1))
            .unwrap_or(serde_json::Value::Null);
        fn typed<T: DeserializeOwned>(value: &serde_json::Value) -> Option<T> {
            T::deserialize(value).ok()
        }
        let event = match name {
            "joined_room" => typed(&payload).map(RoomEvent::JoinedRoom),
            "participant_joined" => typed(&payload).map(RoomEvent::ParticipantJoined),
            "participant_left" => typed(&payload).map(RoomEvent::ParticipantLeft),
            "session_status" => typed(&payload).map(RoomEvent::SessionStatus),
            "error" => typed(&payload).map(RoomEvent::Error),
            _ => None,
        };
        event.unwrap_or_else(|| RoomEvent::Other {
            name: name.to_owned(),
            payload,
        })
    }
}
