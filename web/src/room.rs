//! The video room over Socket.IO: joins it, and shows its connection state, who is present, the
//! status pushes and the server's errors.

use consult_client::{
    ConnectionConfig, ConsultClient, RoomEvent, RoomState, VideoSession, VideoSessionOptions,
};
use leptos::prelude::*;
use std::rc::Rc;

use crate::log::Kind;
use crate::state::Screen;

/// How often the room tries to reconnect before it gives up.
const RECONNECT_ATTEMPTS: u32 = 10;

/// Who joins which room.
pub struct RoomMember<'a> {
    /// The consultation session.
    pub session_id: &'a str,
    /// Its room.
    pub room_id: &'a str,
    /// The signed-in user.
    pub user_id: &'a str,
    /// `PATIENT` or `DOCTOR`.
    pub role: &'a str,
}

/// Connects to the room and keeps the screen's room state and participants up to date.
pub fn join_room(
    client: &ConsultClient,
    member: RoomMember<'_>,
    screen: Screen,
) -> Result<VideoSession, String> {
    let log = screen.log;
    let room = client
        .connect_video_session(VideoSessionOptions {
            url: None,
            session_id: member.session_id.to_owned(),
            room_id: member.room_id.to_owned(),
            user_id: member.user_id.to_owned(),
            role: member.role.to_owned(),
            reconnection: ConnectionConfig {
                reconnect_attempts: RECONNECT_ATTEMPTS,
                ..ConnectionConfig::default()
            },
        })
        .map_err(|e| e.to_string())?;
    room.on(Rc::new(move |event: &RoomEvent| match event {
        RoomEvent::State { state, reason } => {
            let kind = match state {
                RoomState::Reconnecting | RoomState::Refreshing => Kind::Reconnect,
                RoomState::Closed if reason != "client disconnect" => Kind::Error,
                _ => Kind::Info,
            };
            log.add(kind, format!("room: {} ({reason})", state.as_str()));
            screen.room_state.set(state.as_str().to_owned());
        }
        RoomEvent::JoinedRoom(joined) => screen.participants.set(joined.participants.clone()),
        RoomEvent::ParticipantJoined(person) => {
            let person = person.clone();
            log.add(Kind::Info, format!("{} joined", person.user_id));
            screen.participants.update(|people| {
                if !people.iter().any(|p| p.user_id == person.user_id) {
                    people.push(person);
                }
            });
        }
        RoomEvent::ParticipantLeft(left) => {
            let gone = left.user_id.clone();
            log.add(Kind::Info, format!("{gone} left"));
            screen
                .participants
                .update(|people| people.retain(|p| p.user_id != gone));
        }
        RoomEvent::SessionStatus(change) => {
            let status = change.status_text.clone();
            log.add(Kind::Status, format!("session status (push): {status}"));
            screen.session_status.set(status);
        }
        RoomEvent::Error(error) => {
            let (code, message) = (&error.code, &error.message);
            log.add(Kind::Error, format!("room error {code}: {message}"));
        }
        RoomEvent::Other { .. } => {}
    }));
    Ok(room)
}
