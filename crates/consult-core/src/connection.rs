//! The Socket.IO connection state machine (quinn-proto style, the token session's shape): feed
//! it what happened with [`SocketConnection::handle`] (the transport opened or closed, a frame
//! arrived, a token is ready, an emit) and [`SocketConnection::handle_timeout`], with the time,
//! and drain [`SocketConnection::poll_action`] for what to do, [`SocketConnection::poll_timeout`]
//! for when to call back. No I/O, no clock; jitter from a PRNG seeded in `new()`.
//!
//! Rules (socket.io-client's, plus consult's token handling):
//! - the token is fetched afresh for every CONNECT (after each Engine.IO handshake);
//! - an auth CONNECT_ERROR ("Token expired", "Invalid token", "unauthorized…", "Session revoked")
//!   leads to at most one forced refresh per attempt, then a new CONNECT; a second refusal in the
//!   same attempt counts as a failed attempt (reconnect with backoff);
//! - a CONNECT_ERROR about the namespace ("Invalid namespace") closes without refreshing;
//! - any other CONNECT_ERROR ("Service unavailable", "Too many connections") is a failed
//!   attempt: reconnect with backoff (what each message means: [`classify::read_connect_error`]);
//! - a refused refresh closes with [`CloseReason::SessionExpired`];
//! - transport loss reconnects after `delay·2ⁿ ± 50 %`, capped, up to `attempts` times in a row,
//!   reset by a successful connect; a server DISCONNECT (`41`) does not reconnect;
//! - no ping for `pingInterval + pingTimeout` means the transport is dead;
//! - with a [`RoomJoin`], every CONNECT is followed by `join_room` with the token current at
//!   that moment; `joined_room` from the server makes the state [`ConnState::Joined`]; an
//!   `error` refusing that token joins again with a refreshed one (the attempt's one refresh),
//!   and a second refusal reconnects;
//! - every emit has an outcome ([`Notice::Emitted`]): sent, acknowledged, or failed (not
//!   connected, no acknowledgement before its deadline, connection lost).

use alloc::{borrow::ToOwned, string::String, vec::Vec};
mod acks;
mod room;

use crate::ErrorCode;
use crate::classify::{self, Refusal};
use crate::engineio::{self, EioPacket};
use crate::rng::Rng;
use crate::socketio::{self, SioKind};
use acks::Acks;
pub use room::RoomJoin;

/// Reconnection settings (socket.io-client's defaults but for `attempts`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectionConfig {
    /// Socket.IO namespace (`/`).
    pub namespace: String,
    /// Failed attempts in a row before giving up.
    pub reconnect_attempts: u32,
    /// First reconnect delay (ms).
    pub reconnect_delay_ms: u64,
    /// Longest reconnect delay (ms).
    pub reconnect_max_delay_ms: u64,
    /// Longest wait for the handshake and the CONNECT answer (ms).
    pub connect_timeout_ms: u64,
    /// The room to join after every CONNECT (`None`: connect only).
    pub room: Option<RoomJoin>,
}

impl Default for ConnectionConfig {
    fn default() -> Self {
        Self {
            namespace: String::from("/"),
            reconnect_attempts: 5,
            reconnect_delay_ms: 1_000,
            reconnect_max_delay_ms: 5_000,
            connect_timeout_ms: 20_000,
            room: None,
        }
    }
}

impl ConnectionConfig {
    /// A configuration from an application's raw options (numbers as JavaScript gives them):
    /// socket.io-client's defaults for what is missing (5 attempts, 1 s, at most 5 s), and
    /// bounds for the rest (at most 1,000 attempts, delays up to an hour).
    ///
    /// ```
    /// use consult_core::connection::ConnectionConfig;
    /// let config = ConnectionConfig::from_options(None, None, Some(-3.0), Some(1e12));
    /// assert_eq!(config.namespace, "/");
    /// assert_eq!(config.reconnect_attempts, 5);
    /// assert_eq!((config.reconnect_delay_ms, config.reconnect_max_delay_ms), (0, 3_600_000));
    /// ```
    pub fn from_options(
        namespace: Option<String>,
        attempts: Option<f64>,
        delay_ms: Option<f64>,
        max_delay_ms: Option<f64>,
    ) -> Self {
        let defaults = ConnectionConfig::default();
        // `max`/`min`, not `clamp`: clamp's check of its bounds formats floats when it fails,
        // which links float formatting into the npm package's wasm (~10 KB gz).
        let bounded = |value: Option<f64>, default: u64, max: f64| {
            value
                .filter(|v| v.is_finite())
                .map_or(default, |v| crate::to_u64(v.max(0.0).min(max)))
        };
        ConnectionConfig {
            namespace: namespace.unwrap_or(defaults.namespace),
            reconnect_attempts: bounded(attempts, u64::from(defaults.reconnect_attempts), 1_000.0)
                as u32,
            reconnect_delay_ms: bounded(delay_ms, defaults.reconnect_delay_ms, 3_600_000.0),
            reconnect_max_delay_ms: bounded(
                max_delay_ms,
                defaults.reconnect_max_delay_ms,
                3_600_000.0,
            ),
            ..defaults
        }
    }
}

/// What the connection is doing, as reported to the application.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnState {
    /// Opening the transport or waiting for the CONNECT answer.
    Connecting,
    /// Connected to the namespace; the room (if any) not joined yet.
    Connected,
    /// In the room: `joined_room` arrived since the last CONNECT.
    Joined,
    /// Waiting to try again after losing the transport.
    Reconnecting,
    /// The server refused the token; a refresh is under way.
    Refreshing,
    /// Over; see the reason.
    Closed,
}

impl ConnState {
    /// The name the JS API uses.
    pub fn as_str(self) -> &'static str {
        match self {
            ConnState::Connecting => "connecting",
            ConnState::Connected => "connected",
            ConnState::Joined => "joined",
            ConnState::Reconnecting => "reconnecting",
            ConnState::Refreshing => "refreshing",
            ConnState::Closed => "closed",
        }
    }
}

/// Why the connection closed for good.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CloseReason {
    /// [`SocketConnection::disconnect`] was called.
    ClientDisconnect,
    /// The server disconnected the socket (`41`): no reconnect.
    ServerDisconnect,
    /// The token refresh was refused: sign in again.
    SessionExpired,
    /// Too many failed attempts in a row.
    AttemptsExhausted,
    /// A CONNECT_ERROR that no token can fix (e.g. "Invalid namespace").
    ConnectError(String),
}

impl CloseReason {
    /// A short machine-readable name.
    pub fn as_str(&self) -> &str {
        match self {
            CloseReason::ClientDisconnect => "client disconnect",
            CloseReason::ServerDisconnect => "server disconnect",
            CloseReason::SessionExpired => "session expired",
            CloseReason::AttemptsExhausted => "reconnect attempts exhausted",
            CloseReason::ConnectError(message) => message,
        }
    }
}

/// Something the application should hear about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notice {
    /// The state changed (with a short reason).
    State(ConnState, String),
    /// A server EVENT.
    Event {
        /// Its name.
        name: String,
        /// Its JSON array `["name", …args]`.
        array: String,
    },
    /// The outcome of [`SocketConnection::emit`] `id`: `Ok(None)` sent (no acknowledgement
    /// wanted), `Ok(Some(array))` acknowledged with this JSON array of arguments, or failed:
    /// `NETWORK` (not connected), `TIMEOUT` (no acknowledgement in time), `ABORTED` (the
    /// connection ended or was lost before the acknowledgement).
    Emitted {
        /// The emit.
        id: u64,
        /// What became of it.
        result: Result<Option<String>, ErrorCode>,
    },
    /// A frame that could not be read (ignored).
    ProtocolError(String),
}

/// What happened, fed to [`SocketConnection::handle`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// Start connecting (again, after the connection closed).
    Start,
    /// The WebSocket is open.
    TransportOpened,
    /// A text frame arrived.
    Frame(String),
    /// The answer to [`Action::FetchToken`] `request`.
    Token {
        /// The request it answers.
        request: u64,
        /// The token, or why there is none.
        result: TokenResult,
    },
    /// The WebSocket closed (or failed to open) without being asked to.
    TransportClosed,
    /// Send the event `name` with `args_json` (its arguments' JSON without brackets, e.g.
    /// `{"a":1}`; empty for none), waiting for an acknowledgement until `now + ack_timeout_ms`
    /// when that is given. Its outcome always follows as [`Notice::Emitted`] with this `id`
    /// (the driver's; at once when not connected or no acknowledgement is wanted).
    ///
    /// ```
    /// use consult_core::ErrorCode;
    /// use consult_core::connection::*;
    /// let mut socket = SocketConnection::new(ConnectionConfig::default(), 1);
    /// let emit = Input::Emit { id: 9, name: "hello".into(), args_json: String::new(), ack_timeout_ms: None };
    /// socket.handle(0, emit);
    /// let failed = Notice::Emitted { id: 9, result: Err(ErrorCode::Network) };
    /// assert_eq!(socket.poll_action(), Some(Action::Notify(failed)));
    /// ```
    Emit {
        /// The driver's id of this emit.
        id: u64,
        /// The event name.
        name: String,
        /// Its arguments' JSON, without brackets.
        args_json: String,
        /// How long to wait for an acknowledgement (`None`: none wanted).
        ack_timeout_ms: Option<u64>,
    },
    /// Leave: DISCONNECT if connected, close the transport, no reconnect.
    Disconnect,
}

/// What the driver must do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Open a new WebSocket to [`engineio::websocket_url`].
    OpenTransport,
    /// Close the current WebSocket.
    CloseTransport,
    /// Send this text frame.
    Send(String),
    /// Get a token (refreshing first if `force_refresh`), then feed [`Input::Token`] with
    /// this `request`.
    FetchToken {
        /// Echo it in the answer: an answer to an earlier request is ignored.
        request: u64,
        /// Refresh even if the token looks valid (the server refused it).
        force_refresh: bool,
    },
    /// Tell the application.
    Notify(Notice),
}

/// The outcome of a token request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenResult {
    /// A token to send.
    Token(String),
    /// The refresh endpoint refused: the session is over.
    Rejected,
    /// No token right now (network, timeout): try again later.
    Unavailable,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Idle,
    AwaitTransport,
    AwaitHandshake,
    AwaitToken,
    AwaitConnect,
    Connected,
    WaitReconnect,
    Closed,
}

/// A duration in ms as a time offset, saturating (`u64` beyond `i64::MAX` is "never").
fn as_ms(duration_ms: u64) -> i64 {
    i64::try_from(duration_ms).unwrap_or(i64::MAX)
}

impl TokenResult {
    /// What a failed token request means for the connection: the sign-in is over (`NO_TOKEN`,
    /// `REFRESH_REJECTED`), or no token for now (anything else: retry later).
    ///
    /// ```
    /// use consult_core::ErrorCode;
    /// use consult_core::connection::TokenResult;
    /// assert_eq!(TokenResult::for_error(ErrorCode::RefreshRejected), TokenResult::Rejected);
    /// assert_eq!(TokenResult::for_error(ErrorCode::Network), TokenResult::Unavailable);
    /// ```
    pub fn for_error(code: crate::ErrorCode) -> TokenResult {
        match code {
            crate::ErrorCode::RefreshRejected | crate::ErrorCode::NoToken => TokenResult::Rejected,
            _ => TokenResult::Unavailable,
        }
    }
}

/// The connection state machine.
#[derive(Debug, Clone)]
pub struct SocketConnection {
    config: ConnectionConfig,
    phase: Phase,
    state: ConnState,
    failed_attempts: u32,
    refreshed_this_attempt: bool,
    force_refresh: bool,
    /// The token request an answer is awaited for (`None`: none).
    awaited_request: Option<u64>,
    /// The token request for `join_room` (connected, not joined yet).
    awaited_join: Option<u64>,
    next_request: u64,
    acks: Acks,
    /// Reconnect jitter, seeded in [`SocketConnection::new`].
    rng: Rng,
    ping_deadline: Option<i64>,
    connect_deadline: Option<i64>,
    reconnect_at: Option<i64>,
    ping_window_ms: i64,
    /// In order; drained from the front. A `Vec` (a few at a time) is smaller code than a
    /// `VecDeque`.
    actions: Vec<Action>,
}

impl SocketConnection {
    /// The configuration in force (as [`ConnectionConfig::from_options`] settled it).
    pub fn config(&self) -> &ConnectionConfig {
        &self.config
    }

    /// A machine that has not started; its reconnect jitter comes from a PRNG seeded with
    /// `seed`, so a run replays from it.
    pub fn new(config: ConnectionConfig, seed: u64) -> Self {
        Self {
            config,
            phase: Phase::Idle,
            state: ConnState::Closed,
            failed_attempts: 0,
            refreshed_this_attempt: false,
            force_refresh: false,
            awaited_request: None,
            awaited_join: None,
            next_request: 1,
            acks: Acks::default(),
            rng: Rng::new(seed),
            ping_deadline: None,
            connect_deadline: None,
            reconnect_at: None,
            ping_window_ms: 45_000,
            actions: Vec::new(),
        }
    }

    /// The current state.
    pub fn state(&self) -> ConnState {
        self.state
    }

    /// The next action for the driver, if any.
    pub fn poll_action(&mut self) -> Option<Action> {
        crate::pop_front(&mut self.actions)
    }

    /// Feeds what happened at time `now` (Unix ms).
    ///
    /// ```
    /// use consult_core::connection::*;
    /// let mut socket = SocketConnection::new(ConnectionConfig::default(), 7);
    /// socket.handle(0, Input::Start);
    /// assert_eq!(socket.state(), ConnState::Connecting);
    /// ```
    pub fn handle(&mut self, now: i64, input: Input) {
        match input {
            Input::Start => self.start(now),
            Input::TransportOpened => self.transport_opened(),
            Input::Frame(frame) => self.frame(&frame, now),
            Input::Token { request, result } => self.token(request, result, now),
            Input::TransportClosed => self.transport_closed(now),
            Input::Emit {
                id,
                name,
                args_json,
                ack_timeout_ms,
            } => self.emit(id, &name, &args_json, ack_timeout_ms, now),
            Input::Disconnect => self.disconnect(),
        }
    }

    /// When [`SocketConnection::handle_timeout`] must be called next (Unix ms), if ever.
    pub fn poll_timeout(&self) -> Option<i64> {
        [
            self.ping_deadline,
            self.connect_deadline,
            self.reconnect_at,
            self.acks.next_deadline(),
        ]
        .into_iter()
        .fold(None, |next, at| match (next, at) {
            (Some(next), Some(at)) => Some(next.min(at)),
            (next, at) => next.or(at),
        })
    }

    fn set_state(&mut self, state: ConnState, reason: &str) {
        if self.state != state {
            self.state = state;
            self.actions
                .push(Action::Notify(Notice::State(state, reason.to_owned())));
        }
    }

    fn open(&mut self, now: i64) {
        self.phase = Phase::AwaitTransport;
        self.refreshed_this_attempt = false;
        self.reconnect_at = None;
        self.ping_deadline = None;
        self.connect_deadline = Some(now.saturating_add(as_ms(self.config.connect_timeout_ms)));
        self.actions.push(Action::OpenTransport);
    }

    fn start(&mut self, now: i64) {
        if matches!(self.phase, Phase::Idle | Phase::Closed) {
            self.failed_attempts = 0;
            self.force_refresh = false;
            self.set_state(ConnState::Connecting, "start");
            self.open(now);
        }
    }

    fn transport_opened(&mut self) {
        if self.phase == Phase::AwaitTransport {
            self.phase = Phase::AwaitHandshake;
        }
    }

    fn frame(&mut self, frame: &str, now: i64) {
        if matches!(
            self.phase,
            Phase::Idle | Phase::Closed | Phase::WaitReconnect
        ) {
            return;
        }
        match engineio::decode(frame) {
            Ok(EioPacket::Open(handshake)) if self.phase == Phase::AwaitHandshake => {
                // Server-chosen values: saturate rather than overflow on absurd ones.
                self.ping_window_ms = as_ms(
                    handshake
                        .ping_interval_ms
                        .saturating_add(handshake.ping_timeout_ms),
                );
                self.ping_deadline = Some(now.saturating_add(self.ping_window_ms));
                self.request_token();
            }
            Ok(EioPacket::Open(_)) => self.protocol_error("unexpected handshake"),
            Ok(EioPacket::Ping) => {
                self.ping_deadline = Some(now.saturating_add(self.ping_window_ms));
                self.actions.push(Action::Send(engineio::PONG.to_owned()));
            }
            Ok(EioPacket::Close) => self.lose_transport(now, "server closed the transport"),
            Ok(EioPacket::Message(payload)) => self.on_socket_packet(&payload, now),
            Ok(EioPacket::Pong | EioPacket::Noop) => {}
            Err(error) => self.protocol_error(error.as_str()),
        }
    }

    /// Closes the transport (one call for the many places that do, which keeps the code small).
    fn close_transport(&mut self) {
        self.actions.push(Action::CloseTransport);
    }

    fn protocol_error(&mut self, what: &str) {
        self.actions
            .push(Action::Notify(Notice::ProtocolError(what.to_owned())));
    }

    fn request_token(&mut self) {
        self.phase = Phase::AwaitToken;
        let force_refresh = core::mem::take(&mut self.force_refresh);
        self.awaited_request = Some(self.fetch_token(force_refresh));
    }

    /// Asks the driver for a token; returns the request id.
    fn fetch_token(&mut self, force_refresh: bool) -> u64 {
        let request = self.next_request;
        self.next_request = self.next_request.wrapping_add(1);
        self.actions.push(Action::FetchToken {
            request,
            force_refresh,
        });
        request
    }

    fn notify(&mut self, notice: Notice) {
        self.actions.push(Action::Notify(notice));
    }

    fn send(&mut self, packet: &str) {
        self.actions.push(Action::Send(engineio::message(packet)));
    }

    fn on_socket_packet(&mut self, payload: &str, now: i64) {
        let packet = match socketio::decode(payload) {
            Ok(packet) => packet,
            Err(error) => return self.protocol_error(error.as_str()),
        };
        if packet.namespace != self.config.namespace {
            return;
        }
        match packet.kind {
            SioKind::Connect if self.phase == Phase::AwaitConnect => {
                self.phase = Phase::Connected;
                self.connect_deadline = None;
                self.failed_attempts = 0;
                self.set_state(ConnState::Connected, "connected");
                if self.config.room.is_some() {
                    self.awaited_join = Some(self.fetch_token(false));
                }
            }
            SioKind::ConnectError if self.phase == Phase::AwaitConnect => {
                let message =
                    socketio::connect_error_message(packet.data.as_deref()).unwrap_or_default();
                self.on_connect_error(message, now);
            }
            SioKind::Disconnect => {
                self.close_transport();
                self.close(CloseReason::ServerDisconnect);
            }
            SioKind::Event if self.phase == Phase::Connected => {
                let name = socketio::event_name(packet.data.as_deref());
                let (Some(name), Some(array)) = (name, packet.data) else {
                    return self.protocol_error("event without a name");
                };
                if name == "joined_room" && self.state == ConnState::Connected {
                    self.set_state(ConnState::Joined, "joined_room");
                } else if name == "error"
                    && self.state == ConnState::Connected
                    && self.config.room.is_some()
                    && self.awaited_join.is_none()
                    && classify::join_refused_for_token(&array)
                {
                    self.rejoin(now);
                }
                self.notify(Notice::Event { name, array });
            }
            SioKind::Ack if self.phase == Phase::Connected => {
                // An acknowledgement nobody waits for (late, or invented) is dropped.
                if let Some(id) = packet.ack_id.filter(|id| self.acks.settle(*id)) {
                    let array = packet.data.unwrap_or_else(|| String::from("[]"));
                    let result = Ok(Some(array));
                    self.notify(Notice::Emitted { id, result });
                }
            }
            _ => self.protocol_error("packet out of sequence"),
        }
    }

    fn on_connect_error(&mut self, message: String, now: i64) {
        let refusal = classify::read_connect_error(&message);
        if refusal == Refusal::Final {
            self.close_transport();
            self.close(CloseReason::ConnectError(message));
        } else if refusal == Refusal::Transient {
            self.close_transport();
            self.lose_transport(now, &message);
        } else if !self.refreshed_this_attempt {
            self.refreshed_this_attempt = true;
            self.force_refresh = true;
            self.set_state(ConnState::Refreshing, &message);
            self.request_token();
        } else {
            // Refused again with a freshly refreshed token: count a failed attempt.
            self.close_transport();
            self.lose_transport(now, &message);
        }
    }

    /// An answer to any other request than the one awaited (an earlier attempt's, after a
    /// reconnect) is ignored.
    fn token(&mut self, request: u64, result: TokenResult, now: i64) {
        if self.phase == Phase::Connected && self.awaited_join == Some(request) {
            self.awaited_join = None;
            return self.join_token(result, now);
        }
        if self.phase != Phase::AwaitToken || self.awaited_request != Some(request) {
            return;
        }
        self.awaited_request = None;
        match result {
            TokenResult::Token(token) => {
                self.phase = Phase::AwaitConnect;
                self.set_state(ConnState::Connecting, "connecting with a token");
                let packet = socketio::connect(&self.config.namespace, &token);
                self.actions.push(Action::Send(engineio::message(&packet)));
            }
            TokenResult::Rejected => {
                self.close_transport();
                self.close(CloseReason::SessionExpired);
            }
            TokenResult::Unavailable => {
                self.close_transport();
                self.lose_transport(now, "token refresh failed for now");
            }
        }
    }

    /// The token for `join_room` came: join; or the sign-in is over; or try again later.
    /// The server refused the token `join_room` carried (another tab rotated it meanwhile):
    /// join again with a refreshed one, once per attempt; refused again, reconnect.
    fn rejoin(&mut self, now: i64) {
        if core::mem::replace(&mut self.refreshed_this_attempt, true) {
            self.actions.push(Action::CloseTransport);
            self.lose_transport(now, "join_room refused");
        } else {
            self.awaited_join = Some(self.fetch_token(true));
        }
    }

    fn join_token(&mut self, result: TokenResult, now: i64) {
        match (result, &self.config.room) {
            (TokenResult::Token(token), Some(room)) => {
                let args = room.payload(&token);
                let packet = socketio::event(&self.config.namespace, "join_room", &args, None);
                self.send(&packet);
            }
            (TokenResult::Token(_), None) => {}
            (TokenResult::Rejected, _) => {
                self.send(&socketio::disconnect(&self.config.namespace));
                self.close_transport();
                self.close(CloseReason::SessionExpired);
            }
            (TokenResult::Unavailable, _) => {
                self.close_transport();
                self.lose_transport(now, "token refresh failed for now");
            }
        }
    }

    /// Fails every emit still waiting for an acknowledgement: the connection that could
    /// answer is gone.
    fn abandon_connection(&mut self) {
        self.awaited_join = None;
        for (id, _deadline) in self.acks.abandon() {
            let result = Err(ErrorCode::Aborted);
            self.notify(Notice::Emitted { id, result });
        }
    }

    fn transport_closed(&mut self, now: i64) {
        if !matches!(
            self.phase,
            Phase::Idle | Phase::Closed | Phase::WaitReconnect
        ) {
            self.lose_transport(now, "transport closed");
        }
    }

    fn lose_transport(&mut self, now: i64, reason: &str) {
        self.abandon_connection();
        self.ping_deadline = None;
        self.connect_deadline = None;
        self.failed_attempts = self.failed_attempts.saturating_add(1);
        if self.failed_attempts > self.config.reconnect_attempts {
            self.close(CloseReason::AttemptsExhausted);
            return;
        }
        self.phase = Phase::WaitReconnect;
        let random = self.rng.next_f64();
        self.reconnect_at = Some(now.saturating_add(as_ms(self.reconnect_delay_ms(random))));
        self.set_state(ConnState::Reconnecting, reason);
    }

    /// socket.io-client's backoff: `delay · 2^(n−1)`, ± 50 % jitter, capped.
    fn reconnect_delay_ms(&self, random: f64) -> u64 {
        let exponent = self.failed_attempts.saturating_sub(1).min(30);
        let base = crate::saturating_shl(self.config.reconnect_delay_ms, exponent);
        let random = if random.is_finite() {
            random.clamp(0.0, 1.0)
        } else {
            0.5
        };
        let jittered = base as f64 * (1.0 + 0.5 * (2.0 * random - 1.0));
        crate::to_u64(jittered).min(self.config.reconnect_max_delay_ms)
    }

    /// A deadline from [`SocketConnection::poll_timeout`] passed (an early call changes
    /// nothing).
    pub fn handle_timeout(&mut self, now: i64) {
        for id in self.acks.expired(now) {
            let result = Err(ErrorCode::Timeout);
            self.notify(Notice::Emitted { id, result });
        }
        if self.reconnect_at.is_some_and(|at| now >= at) && self.phase == Phase::WaitReconnect {
            self.set_state(ConnState::Connecting, "reconnecting");
            self.open(now);
            return;
        }
        let ping_missed = self.ping_deadline.is_some_and(|at| now >= at);
        let connect_slow = self.connect_deadline.is_some_and(|at| now >= at);
        if ping_missed || connect_slow {
            self.close_transport();
            let reason = if ping_missed {
                "ping timeout"
            } else {
                "connect timeout"
            };
            self.lose_transport(now, reason);
        }
    }

    /// Leaves: sends DISCONNECT if connected, closes the transport, no reconnect.
    fn disconnect(&mut self) {
        if self.phase == Phase::Closed {
            return;
        }
        if self.phase == Phase::Connected {
            let packet = socketio::disconnect(&self.config.namespace);
            self.actions.push(Action::Send(engineio::message(&packet)));
        }
        if self.phase != Phase::WaitReconnect && self.phase != Phase::Idle {
            self.close_transport();
        }
        self.close(CloseReason::ClientDisconnect);
    }

    fn close(&mut self, reason: CloseReason) {
        self.abandon_connection();
        self.phase = Phase::Closed;
        self.ping_deadline = None;
        self.connect_deadline = None;
        self.reconnect_at = None;
        self.set_state(ConnState::Closed, reason.as_str());
    }

    fn emit(
        &mut self,
        id: u64,
        name: &str,
        args_json: &str,
        ack_timeout_ms: Option<u64>,
        now: i64,
    ) {
        if self.phase != Phase::Connected {
            let result = Err(ErrorCode::Network);
            self.notify(Notice::Emitted { id, result });
            return;
        }
        let ack_id = ack_timeout_ms.map(|_| id);
        let packet = socketio::event(&self.config.namespace, name, args_json, ack_id);
        self.send(&packet);
        match ack_timeout_ms {
            Some(timeout) => self.acks.wait(id, now.saturating_add(as_ms(timeout))),
            None => self.notify(Notice::Emitted {
                id,
                result: Ok(None),
            }),
        }
    }
}

#[cfg(test)]
mod tests;
