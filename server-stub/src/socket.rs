//! Socket.IO on `/socket.io/`: strict token check at the handshake, consultation rooms
//! (`join_room`, `leave_room`), presence events, and session status pushes.

use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use socketioxide::SocketIo;
use socketioxide::adapter::Adapter;

use crate::pubsub::ClusterAdapter;
use socketioxide::extract::{SocketRef, State, TryData};
use socketioxide::handler::ConnectHandler;

use crate::error::{ApiError, AuthError};
use crate::ids::valid_id;
use crate::limits::Bucket;
use crate::preauth::HeldSlot;
use crate::rooms::sign_in_room;
use crate::state::AppState;
use crate::stats::bump;
use crate::storage::SweepState;
use crate::tokens::{Claims, Leniency, User};

/// Registers the default namespace with its auth middleware (in-memory adapter).
pub fn register(io: &SocketIo) {
    io.ns("/", on_connect.with(authenticate));
}

/// Registers the default namespace with its auth middleware on the Redis adapter; the answer
/// is the adapter's start-up (subscribing to its channels), which the caller awaits.
pub fn register_cluster(
    io: &SocketIo<ClusterAdapter>,
) -> socketioxide_redis::InitRes<crate::pubsub::PubSub> {
    io.ns("/", on_connect.with(authenticate))
}

/// Why a handshake was refused.
#[derive(Debug)]
pub enum HandshakeReason {
    /// The token.
    Auth(AuthError),
    /// The sign-in already holds `--max-sockets-per-sign-in` sockets.
    TooManySockets,
    /// The shared store did not answer in time: not an auth error, the client retries.
    Unavailable,
}

/// A handshake refusal; its `Display` is the `connect_error` message clients see.
#[derive(Debug)]
pub struct HandshakeRefused(HandshakeReason);

impl fmt::Display for HandshakeRefused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            HandshakeReason::Auth(reason) => f.write_str(reason.socket_message()),
            HandshakeReason::TooManySockets => f.write_str("Too many connections"),
            HandshakeReason::Unavailable => f.write_str("Service unavailable"),
        }
    }
}

/// The user a socket authenticated as, stored in the socket's extensions.
#[derive(Debug, Clone)]
struct SocketUser(User);

/// The sign-in a socket belongs to, stored in the socket's extensions.
#[derive(Debug, Clone)]
struct SocketSignIn {
    sid: String,
    /// The latest `exp` of a token this socket presented (handshake or `join_room`).
    exp: i64,
    /// `auth_time + max age`.
    end: i64,
    /// This socket's own event bucket (the sign-in's is in [`AppState::event_limit`]).
    events: Arc<Mutex<Bucket>>,
}

fn now_ms(app: &AppState) -> i64 {
    i64::try_from(app.clock.now().unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

/// Marks a socket cut off for flooding: its later events are ignored until it is gone.
#[derive(Debug, Clone, Copy)]
struct CutOff;

/// Whether the socket may handle one more event: its own bucket and its sign-in's (shared by
/// the sign-in's sockets on this instance, not refilled by reconnecting). A socket over either
/// rate is cut off: its events are ignored from
/// then on, it is told `error {code: "rate_limited"}` once what it was sent before has left
/// (an `error` queued behind a burst of answers was lost when the socket closed at once), and
/// then disconnected.
fn within_rate<A: Adapter>(socket: &SocketRef<A>, app: &AppState) -> bool {
    if socket.extensions.get::<CutOff>().is_some() {
        return false;
    }
    let Some(sign_in) = socket.extensions.get::<SocketSignIn>() else {
        return false;
    };
    let limits = app.settings.limits;
    let now = now_ms(app);
    let allowed = sign_in
        .events
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .take(limits.socket_event_burst, limits.socket_event_interval, now)
        && app.event_limit.take(
            &sign_in.sid,
            limits.sign_in_event_burst,
            limits.sign_in_event_interval,
            now,
        );
    if !allowed {
        socket.extensions.insert(CutOff);
        let socket = socket.clone();
        tokio::spawn(async move {
            tokio::time::sleep(RATE_LIMIT_DRAIN).await;
            send_error(&socket, "rate_limited", "too many events; disconnected");
            tokio::time::sleep(RATE_LIMIT_DRAIN).await;
            let _ = socket.disconnect();
        });
    }
    allowed
}

/// How long a cut-off socket's queued answers get to leave before its `rate_limited` error,
/// and that error before the disconnect.
const RATE_LIMIT_DRAIN: Duration = Duration::from_millis(100);

/// Longest wait, in steps of 1 ms, for a socket's first event to find it marked connected.
const CONNECTED_MARK_WAIT_STEPS: u32 = 100;

/// Waits (100 ms at most) until socketioxide has marked `socket` connected. It does so just
/// after queueing the CONNECT answer, so a client that sends an event as soon as it reads that
/// answer can have it handled first, and every emit of the handler then fails as if the socket
/// were closed: the `joined_room` of a join was lost (a busy machine, `tests/presence.rs`).
/// A socket that is really closed just waits the 100 ms and fails as before.
async fn until_marked_connected<A: Adapter>(socket: &SocketRef<A>) {
    for _ in 0..CONNECTED_MARK_WAIT_STEPS {
        if socket.connected() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

/// Every second: disconnects this instance's sockets whose sign-in ended, was revoked (on any
/// instance: a backstop for a revocation broadcast lost while Redis was away) or lost by the
/// store, or whose latest token expired without the sign-in being refreshed. One store call per
/// sweep. While the store does not answer, the sweep goes on with what each socket knows (its
/// latest token's `exp` and its sign-in's end), and once the outage has lasted
/// `--outage-disconnect-after` every socket is disconnected: revocations made meanwhile cannot
/// be known.
pub async fn expire_sockets<A: Adapter>(app: AppState, io: SocketIo<A>) {
    let mut ticker = tokio::time::interval(Duration::from_secs(1));
    let mut outage_since: Option<tokio::time::Instant> = None;
    loop {
        ticker.tick().await;
        let limits = app.settings.limits;
        app.event_limit.forget_refilled(
            limits.sign_in_event_burst,
            limits.sign_in_event_interval,
            now_ms(&app),
        );
        let Some(namespace) = io.of("/") else {
            continue;
        };
        let sockets: Vec<(SocketRef<A>, SocketSignIn)> = namespace
            .sockets()
            .into_iter()
            .filter_map(|socket| {
                let sign_in = socket.extensions.get::<SocketSignIn>()?;
                Some((socket, sign_in))
            })
            .collect();
        if sockets.is_empty() {
            continue;
        }
        let mut sids: Vec<String> = sockets.iter().map(|(_, s)| s.sid.clone()).collect();
        sids.sort_unstable();
        sids.dedup();
        let states = match app.storage().sign_ins(sids.clone()).await {
            Ok(states) => {
                outage_since = None;
                Some(states)
            }
            Err(_) => {
                let since = *outage_since.get_or_insert_with(tokio::time::Instant::now);
                if since.elapsed() >= app.settings.outage_disconnect_after {
                    for (socket, _) in sockets {
                        let unavailable = ApiError::from(crate::storage::Unavailable);
                        send_unavailable(&socket, &unavailable);
                        let _ = socket.disconnect();
                    }
                    continue;
                }
                None
            }
        };
        let now = app.clock.now().unix_timestamp();
        for (socket, sign_in) in sockets {
            let state = states.as_ref().map(|states| {
                sids.binary_search(&sign_in.sid)
                    .ok()
                    .and_then(|i| states.get(i).copied())
                    .unwrap_or_default()
            });
            if let Some(reason) = socket_end(&sign_in, state, now) {
                send_error(&socket, reason.code(), &reason.to_string());
                let _ = socket.disconnect();
            }
        }
    }
}

/// Why a socket must go now, if it must: its sign-in revoked or lost by the store, over, or its
/// latest token expired (the store's current `exp` counts when the store answered; `state` is
/// `None` during an outage, when only what the socket knows is judged).
fn socket_end(sign_in: &SocketSignIn, state: Option<SweepState>, now: i64) -> Option<AuthError> {
    let state = state.unwrap_or_default();
    let exp = state
        .current_exp
        .map_or(sign_in.exp, |e| e.max(sign_in.exp));
    if state.revoked || state.unknown {
        Some(AuthError::SessionRevoked)
    } else if now > sign_in.end {
        Some(AuthError::SessionExpired)
    } else if now >= exp {
        Some(AuthError::TokenExpired)
    } else {
        None
    }
}

fn token_of(auth: &Value) -> Option<&str> {
    auth.get("token")
        .and_then(Value::as_str)
        .filter(|t| !t.is_empty())
}

async fn authenticate<A: Adapter>(
    socket: SocketRef<A>,
    State(app): State<AppState>,
    TryData(auth): TryData<Value>,
) -> Result<(), HandshakeRefused> {
    let verified = match auth.as_ref().ok().and_then(token_of) {
        None => Err(ApiError::Auth(AuthError::MissingToken)),
        Some(token) => app.verify_token(token, Leniency::Strict).await,
    };
    match verified {
        Ok(claims) => {
            let room = sign_in_room(&claims.sid);
            if socket.within(room.clone()).sockets().len()
                >= app.settings.limits.max_sockets_per_sign_in
            {
                bump(&app.stats.socket_reject);
                return Err(HandshakeRefused(HandshakeReason::TooManySockets));
            }
            socket.extensions.insert(SocketSignIn {
                sid: claims.sid.clone(),
                exp: claims.exp,
                end: app.tokens.sign_in_end(&claims).unwrap_or(claims.exp),
                events: Arc::new(Mutex::new(Bucket::full(
                    app.settings.limits.socket_event_burst,
                    now_ms(&app),
                ))),
            });
            socket.join(room);
            socket.extensions.insert(SocketUser(claims.user()));
            // Authenticated: its Engine.IO session no longer counts as unauthenticated.
            if let Some(HeldSlot(slot)) = socket.req_parts().extensions.get::<HeldSlot>() {
                slot.release();
            }
            // Handlers are attached here, before the CONNECT answer leaves: socketioxide runs
            // the connect handler in a task spawned after answering, so an event the client
            // sends at once could otherwise find no handler and be dropped.
            attach_handlers(&socket);
            bump(&app.stats.socket_connect);
            Ok(())
        }
        Err(ApiError::Auth(reason)) => {
            bump(&app.stats.socket_reject);
            app.stats.credential_rejected(reason, "socket_handshake");
            Err(HandshakeRefused(HandshakeReason::Auth(reason)))
        }
        Err(_) => {
            bump(&app.stats.socket_reject);
            Err(HandshakeRefused(HandshakeReason::Unavailable))
        }
    }
}

/// Nothing left to do at connect time: see [`authenticate`].
async fn on_connect<A: Adapter>(_socket: SocketRef<A>) {}

fn attach_handlers<A: Adapter>(socket: &SocketRef<A>) {
    socket.on("join_room", join_room::<A>);
    socket.on("leave_room", leave_room::<A>);
    socket.on_fallback(unknown_event::<A>);
    socket.on_disconnect(on_disconnect::<A>);
}

/// Any other event: counted against the rate limit, otherwise ignored.
async fn unknown_event<A: Adapter>(socket: SocketRef<A>, State(app): State<AppState>) {
    within_rate(&socket, &app);
}

/// Checks a `join_room` token against the socket: same user and same sign-in as the handshake.
fn same_sign_in<A: Adapter>(socket: &SocketRef<A>, claims: &Claims) -> bool {
    let user = socket.extensions.get::<SocketUser>();
    let sign_in = socket.extensions.get::<SocketSignIn>();
    matches!((user, sign_in), (Some(SocketUser(u)), Some(s)) if u.user_id == claims.sub && s.sid == claims.sid)
}

/// Lets a fresher token of the same sign-in (sent with `join_room`) keep the socket alive.
fn extend_socket<A: Adapter>(socket: &SocketRef<A>, claims: &Claims) {
    if let Some(mut sign_in) = socket.extensions.get::<SocketSignIn>()
        && claims.exp > sign_in.exp
    {
        sign_in.exp = claims.exp;
        socket.extensions.insert(sign_in);
    }
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

fn send_error<A: Adapter>(socket: &SocketRef<A>, code: &str, message: &str) {
    if let Err(e) = socket.emit("error", &SocketErrorBody { code, message }) {
        tracing::debug!(error = %e, "could not send error event");
    }
}

/// Tells the socket its request could not be decided now (`store_unavailable`); it stays.
fn send_unavailable<A: Adapter>(socket: &SocketRef<A>, error: &ApiError) {
    let (_, code) = error.status_and_code();
    send_error(socket, code, &error.to_string());
}

async fn join_room<A: Adapter>(
    socket: SocketRef<A>,
    State(app): State<AppState>,
    TryData(request): TryData<JoinRoom>,
) {
    until_marked_connected(&socket).await;
    if !within_rate(&socket, &app) {
        return;
    }
    let Ok(request) = request else {
        send_error(
            &socket,
            "bad_request",
            "join_room needs {room_id, user_id, role, token}",
        );
        return;
    };
    let claims = match request.token.as_deref() {
        None | Some("") => Err(ApiError::Auth(AuthError::MissingToken)),
        Some(token) => app.verify_token(token, Leniency::Strict).await,
    };
    let claims = match claims {
        Ok(claims) => claims,
        Err(ApiError::Auth(reason)) => {
            app.stats.credential_rejected(reason, "join_room");
            send_error(&socket, reason.code(), &reason.to_string());
            return;
        }
        Err(other) => {
            send_unavailable(&socket, &other);
            return;
        }
    };
    if claims.sub != request.user_id || !same_sign_in(&socket, &claims) {
        send_error(
            &socket,
            "not_a_participant",
            "user_id, the token and the connection's sign-in must all be the same user",
        );
        return;
    }
    if !valid_id(&request.room_id, app.settings.limits.max_id_bytes) {
        send_error(&socket, "bad_request", "room_id is not a valid id");
        return;
    }
    extend_socket(&socket, &claims);
    let session = match app.storage().session_by_room(&request.room_id).await {
        Ok(Some(session)) => session,
        Ok(None) => {
            send_error(&socket, "session_not_found", "no session has this room");
            return;
        }
        Err(unavailable) => {
            send_unavailable(&socket, &ApiError::from(unavailable));
            return;
        }
    };
    if !session.admits(&claims.sub) {
        // The same answer as for a room no session has: an outsider cannot tell whether a
        // private session exists (as GET session answers 404 to both).
        send_error(&socket, "session_not_found", "no session has this room");
        return;
    }
    let already_in = socket.rooms().iter().any(|room| room == &request.room_id);
    socket.join(request.room_id.clone());
    bump(&app.stats.join);
    let record = crate::storage::JoinRecord {
        user_id: claims.sub.clone(),
        room_id: request.room_id.clone(),
        jti: claims.jti.clone(),
    };
    if app.storage().record_join(record).await.is_err() {
        tracing::debug!("join not recorded: the store did not answer");
    }
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
/// Linear in the room's size (a crowded room made the old quadratic dedup hold a runtime
/// thread for seconds per join).
fn participants<A: Adapter>(socket: &SocketRef<A>, room: &str) -> Vec<Participant> {
    let mut present: Vec<Participant> = Vec::new();
    let mut seen: std::collections::HashSet<String> = std::collections::HashSet::new();
    for member in socket.within(room.to_owned()).sockets() {
        if !member.connected() {
            continue;
        }
        if let Some(SocketUser(user)) = member.extensions.get::<SocketUser>()
            && seen.insert(user.user_id.clone())
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

async fn announce_departure<A: Adapter>(socket: &SocketRef<A>, room_id: &str) {
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

async fn leave_room<A: Adapter>(
    socket: SocketRef<A>,
    State(app): State<AppState>,
    TryData(request): TryData<LeaveRoom>,
) {
    until_marked_connected(&socket).await;
    if !within_rate(&socket, &app) {
        return;
    }
    let Ok(request) = request else {
        send_error(&socket, "bad_request", "leave_room needs {room_id}");
        return;
    };
    if !request.room_id.starts_with('#')
        && socket.rooms().iter().any(|room| room == &request.room_id)
    {
        socket.leave(request.room_id.clone());
        announce_departure(&socket, &request.room_id).await;
    }
}

/// Tells each room the socket was in that its user left. The rooms are read now, as the
/// socket closes: socketioxide runs the returned future in a task of its own, and a transport
/// close right behind a client's `41` can take the socket out of its rooms before that task
/// runs (nobody then heard the user leave).
fn on_disconnect<A: Adapter>(socket: SocketRef<A>) -> impl Future<Output = ()> + Send + 'static {
    let rooms: Vec<_> = socket
        .rooms()
        .into_iter()
        .filter(|room| !room.starts_with('#'))
        .collect();
    async move {
        for room in rooms {
            announce_departure(&socket, &room).await;
        }
    }
}
