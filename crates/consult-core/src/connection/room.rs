//! The room a connection joins after every CONNECT, and what its `join_room` says.

use crate::json::quote;
use alloc::string::String;

/// The consultation room to join (`join_room`) after every CONNECT, with the token current at
/// that moment (after a forced refresh, never the one the socket connected with).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoomJoin {
    /// The room.
    pub room_id: String,
    /// The consultation session.
    pub session_id: String,
    /// The signed-in user (the token's `sub`).
    pub user_id: String,
    /// `PATIENT` or `DOCTOR`.
    pub role: String,
}

impl RoomJoin {
    /// `join_room`'s argument with `token`.
    ///
    /// ```
    /// use consult_core::connection::RoomJoin;
    /// let room = RoomJoin { room_id: "r".into(), session_id: "s".into(), user_id: "u".into(), role: "PATIENT".into() };
    /// assert_eq!(
    ///     room.payload("t\""),
    ///     r#"{"room_id":"r","session_id":"s","user_id":"u","role":"PATIENT","token":"t\""}"#
    /// );
    /// ```
    pub fn payload(&self, token: &str) -> String {
        let fields = [
            ("room_id", self.room_id.as_str()),
            ("session_id", &self.session_id),
            ("user_id", &self.user_id),
            ("role", &self.role),
            ("token", token),
        ];
        let mut out = String::from("{");
        for (i, (key, value)) in fields.into_iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push('"');
            out.push_str(key);
            out.push_str("\":");
            out.push_str(&quote(value));
        }
        out.push('}');
        out
    }
}
