//! What the HTTP side asks of Socket.IO, whatever the adapter: with the in-memory adapter it
//! reaches this process's sockets, with the Redis adapter (`--redis`) the sockets of every
//! instance.

use serde::Serialize;
use socketioxide::SocketIo;
use socketioxide::adapter::Adapter;

use crate::error::AuthError;
use crate::session::{Session, SessionStatus};
use crate::storage::StorageFuture;

/// The Socket.IO room holding every socket of a sign-in (`#` cannot start a valid room id).
pub fn sign_in_room(sid: &str) -> String {
    format!("#sign-in:{sid}")
}

/// Broadcasts to rooms, on this instance and (with a remote adapter) on every other.
pub trait Rooms: Send + Sync + 'static {
    /// Sends every socket of sign-in `sid` an `error` event `{code, message}` naming `reason`,
    /// then disconnects them.
    fn end_sign_in<'a>(&'a self, sid: &'a str, reason: AuthError) -> StorageFuture<'a, ()>;

    /// Pushes a session's status to its room as `session_status`.
    fn session_status<'a>(&'a self, session: &'a Session) -> StorageFuture<'a, ()>;
}

#[derive(Debug, Serialize)]
struct ErrorEvent<'a> {
    code: &'a str,
    message: &'a str,
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

impl<A: Adapter> Rooms for SocketIo<A> {
    fn end_sign_in<'a>(&'a self, sid: &'a str, reason: AuthError) -> StorageFuture<'a, ()> {
        Box::pin(async move {
            let Some(namespace) = self.of("/") else {
                return;
            };
            let room = sign_in_room(sid);
            let message = reason.to_string();
            let event = ErrorEvent {
                code: reason.code(),
                message: &message,
            };
            if let Err(e) = namespace
                .clone()
                .to(room.clone())
                .emit("error", &event)
                .await
            {
                tracing::debug!(error = %e, "could not send the revocation error event");
            }
            if let Err(e) = namespace.within(room).disconnect().await {
                tracing::warn!(error = %e, "could not disconnect every socket of a revoked sign-in");
            }
        })
    }

    fn session_status<'a>(&'a self, session: &'a Session) -> StorageFuture<'a, ()> {
        Box::pin(async move {
            let Some(namespace) = self.of("/") else {
                return;
            };
            let event = StatusChanged {
                session_id: &session.session_id,
                room_id: &session.room_id,
                status: session.status,
                version: session.version,
                updated_at: session.updated_at,
            };
            if let Err(e) = namespace
                .to(session.room_id.clone())
                .emit("session_status", &event)
                .await
            {
                tracing::warn!(error = %e, "could not broadcast session_status");
            }
        })
    }
}
