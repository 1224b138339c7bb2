//! Socket.IO on `/socket.io/`: strict token check at the handshake, consultation rooms
//! (`join_room`, `leave_room`), presence events, and session status pushes.

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use socketioxide::SocketIo;
use socketioxide::extract::{SocketRef, State, TryData};
use socketioxide::handler::ConnectHandler;

use crate::error::AuthError;
use crate::session::{Session, SessionStatus};
use crate::state::AppState;
use crate::stats::bump;
use crate::tokens::{Leniency, User};

/// Registers the default namespace with its auth middleware.
pub fn register(io: &SocketIo) {
    io.ns("/", on_connect.with(authenticate));
}

/// A handshake refusal; its `Display` is the `connect_error` message clients see.
#[derive(Debug)]
pub struct HandshakeRefused(AuthError);

impl fmt::Display for HandshakeRefused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.socket_message())
    }
}

/// The user a socket authenticated as, stored in the socket's extensions.
#[derive(Debug, Clone)]
struct SocketUser(User);

fn token_of(auth: &Value) -> Option<&str> {
    auth.get("token")
        .and_then(Value::as_str)
        .filter(|t| !t.is_empty())
}

async fn authenticate(
    socket: SocketRef,
    State(app): State<AppState>,
    TryData(auth): TryData<Value>,
) -> Result<(), HandshakeRefused> {
    let verified = match auth.as_ref().ok().and_then(token_of) {
        None => Err(AuthError::MissingToken),
        Some(token) => app.verify_token(token, Leniency::Strict),
    };
    match verified {
        Ok(claims) => {
            socket.extensions.insert(SocketUser(claims.user()));
            // Handlers are attached here, before the CONNECT answer leaves: socketioxide runs
            // the connect handler in a task spawned after answering, so an event the client
            // sends at once could otherwise find no handler and be dropped.
            attach_handlers(&socket);
            bump(&app.stats.socket_connect);
            Ok(())
        }
        Err(reason) => {
            bump(&app.stats.socket_reject);
            app.stats.credential_rejected(reason, "socket_handshake");
            Err(HandshakeRefused(reason))
        }
    }
}

/// Nothing left to do at connect time: see [`authenticate`].
async fn on_connect(_socket: SocketRef) {}

fn attach_handlers(socket: &SocketRef) {
    socket.on("join_room", join_room);
    socket.on("leave_room", leave_room);
    socket.on_disconnect(on_disconnect);
}

/// Payload of `join_room`.
#[derive(Debug, Deserialize)]
struct JoinRoom {
    room_id: String,
    user_id: String,
    #[serde(default)]
    token: Option<String>,
}

/// Payload of `leave_room`.
#[derive(Debug, Deserialize)]
struct LeaveRoom {
    room_id: String,
}

/// One present participant, in `joined_room`.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
struct Participant {
    user_id: String,
    role: String,
    name: String,
}

#[derive(Debug, Serialize)]
struct JoinedRoom<'a> {
    room_id: &'a str,
    session_id: &'a str,
    user_id: &'a str,
    role: &'a str,
    participants: Vec<Participant>,
}

#[derive(Debug, Serialize)]
struct Presence<'a> {
    room_id: &'a str,
    user_id: &'a str,
    role: &'a str,
    name: &'a str,
}

#[derive(Debug, Serialize)]
struct SocketErrorBody<'a> {
    code: &'a str,
    message: &'a str,
}

fn send_error(socket: &SocketRef, code: &str, message: &str) {
    if let Err(e) = socket.emit("error", &SocketErrorBody { code, message }) {
        tracing::debug!(error = %e, "could not send error event");
    }
}

async fn join_room(
    socket: SocketRef,
    State(app): State<AppState>,
    TryData(request): TryData<JoinRoom>,
) {
    let Ok(request) = request else {
        send_error(
            &socket,
            "bad_request",
            "join_room needs {room_id, user_id, role, token}",
        );
        return;
    };
    let claims = match request.token.as_deref() {
        None | Some("") => Err(AuthError::MissingToken),
        Some(token) => app.verify_token(token, Leniency::Strict),
    };
    let claims = match claims {
        Ok(claims) => claims,
        Err(reason) => {
            app.stats.credential_rejected(reason, "join_room");
            send_error(&socket, reason.code(), &reason.to_string());
            return;
        }
    };
    if claims.sub != request.user_id {
        send_error(
            &socket,
            "not_a_participant",
            "user_id does not match the token's subject",
        );
        return;
    }
    let Some(session) = app.store().session_by_room(&request.room_id).cloned() else {
        send_error(&socket, "session_not_found", "no session has this room");
        return;
    };
    if !session.admits(&claims.sub) {
        send_error(
            &socket,
            "not_a_participant",
            "user is not a participant of this session",
        );
        return;
    }
    let already_in = socket.rooms().iter().any(|room| room == &request.room_id);
    socket.join(request.room_id.clone());
    bump(&app.stats.join);
    app.record_join(crate::state::JoinRecord {
        user_id: claims.sub.clone(),
        room_id: request.room_id.clone(),
        jti: claims.jti.clone(),
    });
    let user = claims.user();
    let joined = JoinedRoom {
        room_id: &request.room_id,
        session_id: &session.session_id,
        user_id: &user.user_id,
        role: &user.role,
        participants: participants(&socket, &request.room_id),
    };
    if let Err(e) = socket.emit("joined_room", &joined) {
        tracing::debug!(error = %e, "could not send joined_room");
    }
    if !already_in {
        let presence = Presence {
            room_id: &request.room_id,
            user_id: &user.user_id,
            role: &user.role,
            name: &user.name,
        };
        if let Err(e) = socket
            .to(request.room_id.clone())
            .emit("participant_joined", &presence)
            .await
        {
            tracing::debug!(error = %e, "could not broadcast participant_joined");
        }
    }
}

/// The distinct users connected to `room`.
fn participants(socket: &SocketRef, room: &str) -> Vec<Participant> {
    let mut present: Vec<Participant> = Vec::new();
    for member in socket.within(room.to_owned()).sockets() {
        if !member.connected() {
            continue;
        }
        if let Some(SocketUser(user)) = member.extensions.get::<SocketUser>()
            && !present.iter().any(|p| p.user_id == user.user_id)
        {
            present.push(Participant {
                user_id: user.user_id,
                role: user.role,
                name: user.name,
            });
        }
    }
    present
}

async fn announce_departure(socket: &SocketRef, room_id: &str) {
    let Some(SocketUser(user)) = socket.extensions.get::<SocketUser>() else {
        return;
    };
    let presence = Presence {
        room_id,
        user_id: &user.user_id,
        role: &user.role,
        name: &user.name,
    };
    if let Err(e) = socket
        .to(room_id.to_owned())
        .emit("participant_left", &presence)
        .await
    {
        tracing::debug!(error = %e, "could not broadcast participant_left");
    }
}

async fn leave_room(socket: SocketRef, TryData(request): TryData<LeaveRoom>) {
    let Ok(request) = request else {
        send_error(&socket, "bad_request", "leave_room needs {room_id}");
        return;
    };
    if socket.rooms().iter().any(|room| room == &request.room_id) {
        socket.leave(request.room_id.clone());
        announce_departure(&socket, &request.room_id).await;
    }
}

async fn on_disconnect(socket: SocketRef) {
    for room in socket.rooms() {
        announce_departure(&socket, &room).await;
    }
}

#[derive(Debug, Serialize)]
struct StatusChanged<'a> {
    session_id: &'a str,
    room_id: &'a str,
    status: SessionStatus,
    version: u64,
    #[serde(with = "time::serde::rfc3339")]
    updated_at: time::OffsetDateTime,
}

/// Pushes a session's status to its room as `session_status`.
pub async fn broadcast_status(app: &AppState, session: &Session) {
    let Some(io) = app.io() else { return };
    let event = StatusChanged {
        session_id: &session.session_id,
        room_id: &session.room_id,
        status: session.status,
        version: session.version,
        updated_at: session.updated_at,
    };
    if let Err(e) = io
        .to(session.room_id.clone())
        .emit("session_status", &event)
        .await
    {
        tracing::debug!(error = %e, "could not broadcast session_status");
    }
}
