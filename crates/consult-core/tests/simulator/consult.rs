//! The whole consultation in the simulated world (issue 18, item 4): every tab also runs a
//! `PollMachine` (the session poller) and a `SocketConnection` (the room's socket), whose token
//! requests go through the tab's `TokenSession`, against a server model with the session's
//! status (`waiting` → `active` → maybe `ended`/`cancelled`), ETags, a Socket.IO server that
//! checks every CONNECT and `join_room` token against the rotation chain (CONNECT_ERROR
//! "Token expired" / "Session revoked"), pings, drops transports, refuses CONNECTs as busy,
//! loses acknowledgements, and disconnects (`41`) sockets of a sign-in that is over.
//!
//! Its invariants (each a violation with the seed):
//! - polls never overlap (no `Fetch` while one is out);
//! - a terminal status ends polling (the answer carrying it ends the machine, and nothing is
//!   fetched after the end), and so do a `404` (the session deleted) and a `403` (the patient
//!   removed from it);
//! - at most one forced refresh per socket attempt (per transport);
//! - the room is rejoined after every CONNECT (a connection the server accepted and kept does
//!   not stay out of the room past a caller's wait bound);
//! - every emit gets exactly one outcome (never two, none left at the end);
//! - a socket the server's expiry sweep disconnected (its sign-in's newest token expired, as
//!   consult-stub's sweep does) connects again and rejoins within a caller's wait;
//! - liveness after the quiet period: polls deliver (an answer in the last two intervals and
//!   a backoff), or ended on the terminal status, the `404` or the `403`; sockets are in the
//!   room (connected, `join_room` refused `session_not_found`, when the session is gone) —
//!   unless the sign-in legitimately ended or the user disposed the tab.

use consult_core::connection::{
    Action as SockAction, ConnState, ConnectionConfig, Input as SockInput, Notice, RoomJoin,
    SocketConnection, TokenResult,
};
use consult_core::poll_machine::{PollEnd, PollInput, PollMachine, PollOutput};
use consult_core::session::{CallId, Input, SessionError};
use consult_core::{ErrorCode, authorised};

use super::{Ev, PendingCall, S, World, quiet};

const HANDSHAKE: &str =
    r#"0{"sid":"e","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}"#;
const PING_MS: i64 = 25 * S;
const ACK_TIMEOUT_MS: u64 = 5_000;
const ROOM: &str = "room-s1";

/// What a token call of the tab is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// The application's own call (the API request that follows may be refused: 401).
    App,
    /// The poll request `request` (`replay`: after a 401).
    Poll { request: u64, replay: bool },
    /// The socket's token request.
    Socket { request: u64 },
}

/// The consultation's events.
#[derive(Debug)]
pub enum Cev {
    PollTimer {
        tab: usize,
        generation: u64,
    },
    SocketTimer {
        tab: usize,
        generation: u64,
    },
    /// The poll request reaches the server with `token`.
    PollAtServer {
        tab: usize,
        request: u64,
        token: String,
        replay: bool,
    },
    PollAnswer {
        tab: usize,
        request: u64,
        input: PollInput,
    },
    Opened {
        tab: usize,
        transport: u64,
    },
    ToClient {
        tab: usize,
        transport: u64,
        frame: String,
    },
    ToServer {
        tab: usize,
        transport: u64,
        frame: String,
    },
    Closed {
        tab: usize,
        transport: u64,
    },
    Ping {
        tab: usize,
        transport: u64,
    },
    Emit {
        tab: usize,
    },
    Status {
        status: &'static str,
    },
    /// consult-stub's socket sweep looks at the tab's socket on `transport`: it disconnects it
    /// when the newest token of its sign-in has expired.
    ExpirySweep {
        tab: usize,
        transport: u64,
    },
    /// The session is deleted (`404`) or the patient removed from it (`403`).
    Gone {
        status: u16,
    },
    /// The application connects again after the server disconnected the socket.
    Reconnect {
        tab: usize,
    },
}

impl Cev {
    pub fn tab(&self) -> Option<usize> {
        match self {
            Cev::PollTimer { tab, .. }
            | Cev::SocketTimer { tab, .. }
            | Cev::PollAnswer { tab, .. }
            | Cev::Opened { tab, .. }
            | Cev::ToClient { tab, .. }
            | Cev::Closed { tab, .. }
            | Cev::Emit { tab }
            | Cev::Reconnect { tab } => Some(*tab),
            _ => None,
        }
    }
}

/// One tab's poller and socket, and what the judge remembers of them.
pub struct Consult {
    pub poll: PollMachine,
    pub socket: SocketConnection,
    poll_generation: u64,
    socket_generation: u64,
    socket_timer_at: Option<i64>,
    poll_timer_at: Option<i64>,
    /// The poll request out, if any.
    poll_out: Option<u64>,
    poll_requests: u64,
    /// The `If-None-Match` of the poll out.
    poll_etag: Option<String>,
    pub poll_end: Option<PollEnd>,
    last_poll_ok: Option<i64>,
    /// The transport in use (0: none) and the last number given.
    transport: u64,
    transports: u64,
    /// The server accepted CONNECT on the current transport at this time.
    connected_at: Option<i64>,
    joined: bool,
    forced_this_attempt: u32,
    /// The token the server accepted the CONNECT with (its sign-in is the socket's).
    conn_token: Option<String>,
    /// The server's expiry sweep disconnected this tab's socket at this time (the application
    /// connects again).
    swept_at: Option<i64>,
    pending_emits: std::collections::HashSet<u64>,
    next_emit: u64,
    pub disposed: bool,
}

impl Consult {
    pub fn new(interval_ms: u64, seed: u64) -> Self {
        let config = ConnectionConfig {
            reconnect_attempts: 1_000,
            room: Some(RoomJoin {
                room_id: ROOM.into(),
                session_id: "s1".into(),
                user_id: "u1".into(),
                role: "PATIENT".into(),
            }),
            ..ConnectionConfig::default()
        };
        Self {
            poll: PollMachine::new(interval_ms, seed ^ 0x9011),
            socket: SocketConnection::new(config, seed ^ 0x50C),
            poll_generation: 0,
            socket_generation: 0,
            socket_timer_at: None,
            poll_timer_at: None,
            poll_out: None,
            poll_requests: 0,
            poll_etag: None,
            poll_end: None,
            last_poll_ok: None,
            transport: 0,
            transports: 0,
            connected_at: None,
            joined: false,
            forced_this_attempt: 0,
            conn_token: None,
            swept_at: None,
            pending_emits: Default::default(),
            next_emit: 1,
            disposed: false,
        }
    }
}

fn token_in(frame: &str) -> Option<String> {
    let start = frame.find("\"token\":\"")? + 9;
    let len = frame[start..].find('"')?;
    Some(frame[start..start + len].to_owned())
}

impl World {
    fn on(&self) -> bool {
        self.schedule.consultation.on
    }

    /// A new tab starts polling and connecting.
    pub(super) fn consult_open(&mut self, tab: usize) {
        if !self.on() {
            return;
        }
        let hidden = self.tabs[tab].hidden;
        self.feed_poll(tab, PollInput::Start { hidden });
        self.feed_socket(tab, SockInput::Start);
        let next = self.between(5 * S, 30 * S);
        self.after(next, Ev::Consult(Cev::Emit { tab }));
    }

    /// The server's session status changes (scheduled at the start).
    pub(super) fn consult_set_up(&mut self) {
        if !self.on() {
            return;
        }
        let plan = self.schedule.consultation.clone();
        self.session_status = "waiting";
        self.at(
            plan.active_at,
            Ev::Consult(Cev::Status { status: "active" }),
        );
        if let Some((at, cancelled)) = plan.terminal {
            let status = if cancelled { "cancelled" } else { "ended" };
            self.at(at, Ev::Consult(Cev::Status { status }));
        }
        if let Some((at, status)) = plan.gone {
            self.at(at, Ev::Consult(Cev::Gone { status }));
        }
    }

    fn mono(&self, tab: usize) -> i64 {
        self.clocks(tab).mono_ms
    }

    pub(super) fn feed_poll(&mut self, tab: usize, input: PollInput) {
        if !self.tabs[tab].alive {
            return;
        }
        self.coverage.hit(match &input {
            PollInput::Start { .. } => "poll input: start",
            PollInput::Visibility { .. } => "poll input: visibility",
            PollInput::Answered { status: 200, .. } => "poll input: answered 200",
            PollInput::Answered { status: 304, .. } => "poll input: answered 304",
            PollInput::Answered { .. } => "poll input: answered error",
            PollInput::Failed(_) => "poll input: failed",
            PollInput::Stop => "poll input: stop",
            PollInput::Timer => "poll input: timer",
        });
        let terminal_answer = match &input {
            PollInput::Answered {
                status: 404 | 403, ..
            } => true,
            PollInput::Answered {
                status: 200,
                body: Some(b),
                ..
            } => b.contains("\"ended\"") || b.contains("\"cancelled\""),
            _ => false,
        };
        let now = self.mono(tab);
        self.tabs[tab].consult.poll.handle(now, input);
        if terminal_answer && !self.tabs[tab].consult.poll.is_ended() {
            self.violation(format!("tab {tab}: a terminal status did not end polling"));
        }
        self.perform_poll(tab);
    }

    fn perform_poll(&mut self, tab: usize) {
        while let Some(output) = self.tabs[tab].consult.poll.poll_action() {
            match output {
                PollOutput::Fetch { if_none_match } => {
                    self.coverage.hit("poll: fetch");
                    let c = &self.tabs[tab].consult;
                    let (overlap, after_end) = (c.poll_out.is_some(), c.poll_end.is_some());
                    if overlap {
                        self.violation(format!("tab {tab}: two polls overlap"));
                    }
                    if after_end {
                        self.violation(format!("tab {tab}: a poll after polling ended"));
                    }
                    let c = &mut self.tabs[tab].consult;
                    c.poll_requests += 1;
                    let request = c.poll_requests;
                    c.poll_out = Some(request);
                    c.poll_etag = if_none_match;
                    self.stats.polls += 1;
                    self.feed_call_for(
                        tab,
                        |call| Input::GetToken { call },
                        Purpose::Poll {
                            request,
                            replay: false,
                        },
                    );
                }
                PollOutput::Abort => {
                    self.coverage.hit("poll: abort");
                    self.tabs[tab].consult.poll_out = None;
                }
                PollOutput::Update => self.coverage.hit("poll: update"),
                PollOutput::Error(_) => self.coverage.hit("poll: error"),
                PollOutput::End(end) => {
                    self.coverage.hit(match end {
                        PollEnd::Ended => "poll: end (ended)",
                        PollEnd::Cancelled => "poll: end (cancelled)",
                        PollEnd::SessionExpired => "poll: end (sign-in over)",
                        PollEnd::Stopped => "poll: end (stopped)",
                        PollEnd::NotFound => "poll: end (not found)",
                        PollEnd::Forbidden => "poll: end (forbidden)",
                    });
                    self.tabs[tab].consult.poll_end = Some(end);
                    self.tabs[tab].consult.poll_out = None;
                }
            }
        }
        let c = &mut self.tabs[tab].consult;
        let at = c.poll.poll_timeout();
        if at != c.poll_timer_at {
            c.poll_timer_at = at;
            c.poll_generation += 1;
            if let Some(at) = at {
                let generation = c.poll_generation;
                let at = at.saturating_sub(self.tabs[tab].mono_base).max(self.now);
                self.at(at, Ev::Consult(Cev::PollTimer { tab, generation }));
            }
        }
    }

    pub(super) fn feed_socket(&mut self, tab: usize, input: SockInput) {
        if !self.tabs[tab].alive {
            return;
        }
        self.coverage.hit(match &input {
            SockInput::Start => "socket input: start",
            SockInput::TransportOpened => "socket input: transport opened",
            SockInput::Frame(_) => "socket input: frame",
            SockInput::Token { .. } => "socket input: token",
            SockInput::TransportClosed => "socket input: transport closed",
            SockInput::Emit { .. } => "socket input: emit",
            SockInput::Disconnect => "socket input: disconnect",
        });
        let now = self.mono(tab);
        self.tabs[tab].consult.socket.handle(now, input);
        self.perform_socket(tab);
    }

    fn perform_socket(&mut self, tab: usize) {
        while let Some(action) = self.tabs[tab].consult.socket.poll_action() {
            match action {
                SockAction::OpenTransport => {
                    self.coverage.hit("socket: open transport");
                    let c = &mut self.tabs[tab].consult;
                    c.transports += 1;
                    c.transport = c.transports;
                    c.forced_this_attempt = 0;
                    c.connected_at = None;
                    c.joined = false;
                    let transport = c.transport;
                    let delay = self.between(5, 60);
                    if self.offline() {
                        self.fault_injected("fault: offline");
                        self.after(delay, Ev::Consult(Cev::Closed { tab, transport }));
                    } else {
                        self.after(delay, Ev::Consult(Cev::Opened { tab, transport }));
                    }
                }
                SockAction::CloseTransport => {
                    self.coverage.hit("socket: close transport");
                    self.end_transport(tab);
                }
                SockAction::Send(frame) => {
                    let transport = self.tabs[tab].consult.transport;
                    let delay = self.between(1, 40);
                    self.after(
                        delay,
                        Ev::Consult(Cev::ToServer {
                            tab,
                            transport,
                            frame,
                        }),
                    );
                }
                SockAction::FetchToken {
                    request,
                    force_refresh,
                } => {
                    let input: fn(CallId) -> Input = if force_refresh {
                        self.coverage.hit("socket: fetch token (forced)");
                        let c = &mut self.tabs[tab].consult;
                        c.forced_this_attempt += 1;
                        if c.forced_this_attempt > 1 {
                            self.violation(format!(
                                "tab {tab}: two forced refreshes in one socket attempt"
                            ));
                        }
                        |call| Input::ForceRefresh { call }
                    } else {
                        self.coverage.hit("socket: fetch token");
                        |call| Input::GetToken { call }
                    };
                    self.feed_call_for(tab, input, Purpose::Socket { request });
                }
                SockAction::Notify(notice) => self.socket_notice(tab, notice),
            }
        }
        let c = &mut self.tabs[tab].consult;
        let at = c.socket.poll_timeout();
        if at != c.socket_timer_at {
            c.socket_timer_at = at;
            c.socket_generation += 1;
            if let Some(at) = at {
                let generation = c.socket_generation;
                let at = at.saturating_sub(self.tabs[tab].mono_base).max(self.now);
                self.at(at, Ev::Consult(Cev::SocketTimer { tab, generation }));
            }
        }
    }

    fn socket_notice(&mut self, tab: usize, notice: Notice) {
        match notice {
            Notice::State(state, reason) => {
                if state == ConnState::Closed && reason == "server disconnect" {
                    // socket.io does not reconnect after a server DISCONNECT: the application
                    // does, while the tab holds a token (its sign-in may be another one).
                    self.after(S, Ev::Consult(Cev::Reconnect { tab }));
                }
                self.coverage.hit(match state {
                    ConnState::Connecting => "socket: connecting",
                    ConnState::Connected => "socket: connected",
                    ConnState::Joined => "socket: joined",
                    ConnState::Reconnecting => "socket: reconnecting",
                    ConnState::Refreshing => "socket: refreshing",
                    ConnState::Closed => "socket: closed",
                });
                if state == ConnState::Joined {
                    self.stats.joins += 1;
                }
            }
            Notice::Event { .. } => self.coverage.hit("socket: event"),
            Notice::Emitted { id, result } => {
                self.coverage.hit(match result {
                    Ok(None) => "emit: sent",
                    Ok(Some(_)) => "emit: acknowledged",
                    Err(ErrorCode::Timeout) => "emit: timed out",
                    Err(ErrorCode::Aborted) => "emit: aborted",
                    Err(_) => "emit: not connected",
                });
                if !self.tabs[tab].consult.pending_emits.remove(&id) {
                    self.violation(format!("tab {tab}: emit {id} got a second outcome"));
                }
            }
            Notice::ProtocolError(what) => {
                self.violation(format!("tab {tab}: socket protocol error: {what}"));
            }
        }
    }

    /// The tab's current transport ends (the server forgets it).
    fn end_transport(&mut self, tab: usize) {
        self.judge_join(tab);
        let c = &mut self.tabs[tab].consult;
        c.transport = 0;
        c.connected_at = None;
    }

    /// A connection the server accepted must have asked to join the room within a caller's
    /// wait bound.
    fn judge_join(&mut self, tab: usize) {
        let c = &self.tabs[tab].consult;
        if let Some(at) = c.connected_at
            && !c.joined
            && self.now - at - self.slept_during(at) > self.wait_bound(tab)
        {
            self.violation(format!(
                "tab {tab}: connected at {at} ms, never asked to join the room"
            ));
        }
    }

    /// A token call for the poller or the socket was answered.
    pub(super) fn consult_token(
        &mut self,
        tab: usize,
        purpose: Purpose,
        result: Result<String, SessionError>,
    ) {
        match purpose {
            Purpose::App => {}
            Purpose::Poll { request, replay } => {
                if self.tabs[tab].consult.poll_out != Some(request) {
                    return;
                }
                match result {
                    Ok(token) => {
                        let input = if self.offline() {
                            self.fault_injected("fault: offline");
                            Some(PollInput::Failed(SessionError::new(ErrorCode::Network)))
                        } else {
                            None
                        };
                        let delay = self.between(5, 200);
                        match input {
                            Some(input) => self.after(
                                delay,
                                Ev::Consult(Cev::PollAnswer {
                                    tab,
                                    request,
                                    input,
                                }),
                            ),
                            None => self.after(
                                delay,
                                Ev::Consult(Cev::PollAtServer {
                                    tab,
                                    request,
                                    token,
                                    replay,
                                }),
                            ),
                        }
                    }
                    Err(error) => {
                        self.tabs[tab].consult.poll_out = None;
                        self.feed_poll(tab, PollInput::Failed(error));
                    }
                }
            }
            Purpose::Socket { request } => {
                let result = match result {
                    Ok(token) => TokenResult::Token(token),
                    Err(error) => TokenResult::for_error(error.code),
                };
                self.feed_socket(tab, SockInput::Token { request, result });
            }
        }
    }

    pub(super) fn consult_step(&mut self, ev: Cev) {
        match ev {
            Cev::PollTimer { tab, generation } => {
                let c = &self.tabs[tab].consult;
                if self.tabs[tab].alive && c.poll_generation == generation {
                    self.tabs[tab].consult.poll_timer_at = None;
                    let now = self.mono(tab);
                    self.coverage.hit("poll input: timer");
                    self.tabs[tab].consult.poll.handle_timeout(now);
                    self.perform_poll(tab);
                }
            }
            Cev::SocketTimer { tab, generation } => {
                let c = &self.tabs[tab].consult;
                if self.tabs[tab].alive && c.socket_generation == generation {
                    self.tabs[tab].consult.socket_timer_at = None;
                    let now = self.mono(tab);
                    self.coverage.hit("socket input: timeout");
                    self.tabs[tab].consult.socket.handle_timeout(now);
                    self.perform_socket(tab);
                }
            }
            Cev::PollAtServer {
                tab,
                request,
                token,
                replay,
            } => self.poll_at_server(tab, request, &token, replay),
            Cev::PollAnswer {
                tab,
                request,
                input,
            } => {
                let c = &mut self.tabs[tab].consult;
                if c.poll_out != Some(request) {
                    return;
                }
                c.poll_out = None;
                if matches!(
                    input,
                    PollInput::Answered {
                        status: 200 | 304,
                        ..
                    }
                ) {
                    c.last_poll_ok = Some(self.now);
                }
                self.feed_poll(tab, input);
            }
            Cev::Opened { tab, transport } => {
                if self.tabs[tab].consult.transport == transport {
                    self.feed_socket(tab, SockInput::TransportOpened);
                    self.send_to_client(tab, transport, HANDSHAKE.into());
                    self.after(PING_MS, Ev::Consult(Cev::Ping { tab, transport }));
                }
            }
            Cev::ToClient {
                tab,
                transport,
                frame,
            } => {
                if self.tabs[tab].consult.transport == transport {
                    self.feed_socket(tab, SockInput::Frame(frame));
                }
            }
            Cev::Closed { tab, transport } => {
                if self.tabs[tab].consult.transport == transport {
                    self.end_transport(tab);
                    self.feed_socket(tab, SockInput::TransportClosed);
                }
            }
            Cev::ToServer {
                tab,
                transport,
                frame,
            } => self.socket_server(tab, transport, &frame),
            Cev::Ping { tab, transport } => {
                if !self.tabs[tab].alive || self.tabs[tab].consult.transport != transport {
                    return;
                }
                let drop = self.schedule.consultation.socket_drop;
                if self.fault(drop, "fault: socket dropped") {
                    let delay = self.between(1, 100);
                    self.after(delay, Ev::Consult(Cev::Closed { tab, transport }));
                    return;
                }
                self.send_to_client(tab, transport, "2".into());
                self.after(PING_MS, Ev::Consult(Cev::Ping { tab, transport }));
            }
            Cev::Emit { tab } => {
                let t = &self.tabs[tab];
                if !t.alive || t.consult.disposed || quiet(&self.schedule, self.now) {
                    return;
                }
                let c = &mut self.tabs[tab].consult;
                let id = c.next_emit;
                c.next_emit += 1;
                c.pending_emits.insert(id);
                self.stats.emits += 1;
                let ack_timeout_ms = self.chance(0.7).then_some(ACK_TIMEOUT_MS);
                self.feed_socket(
                    tab,
                    SockInput::Emit {
                        id,
                        name: "chat".into(),
                        args_json: r#"{"text":"hello"}"#.into(),
                        ack_timeout_ms,
                    },
                );
                let next = self.between(5 * S, 60 * S);
                self.after(next, Ev::Consult(Cev::Emit { tab }));
            }
            Cev::Reconnect { tab } => {
                let t = &self.tabs[tab];
                let closed = t.consult.socket.state() == ConnState::Closed;
                if t.alive && !t.consult.disposed && closed && t.last_token.is_some() {
                    self.coverage.hit("socket: restarted");
                    self.feed_socket(tab, SockInput::Start);
                }
            }
            Cev::Status { status } => {
                if !self.session_status_terminal() {
                    self.coverage.hit(match status {
                        "active" => "world: session active",
                        "ended" => "world: session ended",
                        _ => "world: session cancelled",
                    });
                    self.session_status = status;
                    self.session_version += 1;
                }
            }
            Cev::ExpirySweep { tab, transport } => self.expiry_sweep(tab, transport),
            Cev::Gone { status } => {
                self.coverage.hit(match status {
                    404 => "world: session deleted",
                    _ => "world: patient removed",
                });
                self.session_gone = Some(status);
            }
        }
    }

    fn session_status_terminal(&self) -> bool {
        matches!(self.session_status, "ended" | "cancelled")
    }

    fn send_to_client(&mut self, tab: usize, transport: u64, frame: String) {
        let delay = self.between(1, 40);
        self.after(
            delay,
            Ev::Consult(Cev::ToClient {
                tab,
                transport,
                frame,
            }),
        );
    }

    fn poll_at_server(&mut self, tab: usize, request: u64, token: &str, replay: bool) {
        let busy = self.schedule.consultation.server_busy;
        let delay = self.between(5, 200);
        let status = if self.fault(busy, "fault: poll 503") {
            503
        } else if !self.server.authorises(self.now, token) {
            401
        } else {
            // consult-stub: the token first, then the session (404) and the participant (403).
            self.session_gone.unwrap_or(200)
        };
        if status == 401 && authorised::replays(401, replay) {
            // The driver's replay: the token refused, a replacement asked for, sent once more.
            self.coverage.hit("poll: 401 replayed");
            let token = token.to_owned();
            self.feed_call_for(
                tab,
                move |call| Input::TokenRefused { call, token },
                Purpose::Poll {
                    request,
                    replay: true,
                },
            );
            return;
        }
        let etag = format!("\"v{}\"", self.session_version);
        let status = if status == 200 && self.tabs[tab].consult.poll_etag.as_ref() == Some(&etag) {
            304
        } else {
            status
        };
        let body = format!(
            r#"{{"session_id":"s1","room_id":"{ROOM}","status":"{}","version":{}}}"#,
            self.session_status, self.session_version
        );
        let input = PollInput::Answered {
            status,
            etag: (status == 200).then_some(etag),
            body: (status == 200).then_some(body),
            retry_after: None,
        };
        self.after(
            delay,
            Ev::Consult(Cev::PollAnswer {
                tab,
                request,
                input,
            }),
        );
    }

    fn socket_server(&mut self, tab: usize, transport: u64, frame: &str) {
        if frame == "41" {
            // Sent just before the client closed the transport: it still arrives.
            self.coverage.hit("socket: client disconnect");
            return;
        }
        if !self.tabs[tab].alive || self.tabs[tab].consult.transport != transport {
            return;
        }
        let Some(packet) = frame.strip_prefix('4') else {
            return; // pongs
        };
        if packet.starts_with('0') {
            let token = token_in(packet).unwrap_or_default();
            let busy = self.schedule.consultation.server_busy;
            let answer = if self.fault(busy, "fault: CONNECT refused (busy)") {
                String::from(r#"44{"message":"Service unavailable"}"#)
            } else if self.server.authorises(self.now, &token) {
                self.tabs[tab].consult.connected_at = Some(self.now);
                self.tabs[tab].consult.conn_token = Some(token.clone());
                self.stats.connects += 1;
                self.schedule_expiry_sweep(tab, transport, &token);
                String::from(r#"40{"sid":"s"}"#)
            } else if self.server.legitimately_over(self.now, &token) {
                self.coverage.hit("socket: CONNECT_ERROR revoked");
                String::from(r#"44{"message":"Session revoked"}"#)
            } else {
                self.coverage.hit("socket: CONNECT_ERROR expired");
                String::from(r#"44{"message":"Token expired"}"#)
            };
            self.send_to_client(tab, transport, answer);
        } else if packet.starts_with("2[\"join_room\"") {
            let token = token_in(packet).unwrap_or_default();
            self.tabs[tab].consult.joined = true;
            let authorised = self.server.authorises(self.now, &token);
            if authorised && self.session_gone.is_some() {
                // consult-stub: one answer for a deleted session and a removed participant.
                self.coverage.hit("socket: join refused (no session)");
                let frame = r#"42["error",{"code":"session_not_found","message":"no session"}]"#;
                self.send_to_client(tab, transport, frame.into());
            } else if authorised {
                let frame = format!(r#"42["joined_room",{{"room_id":"{ROOM}"}}]"#);
                self.send_to_client(tab, transport, frame);
            } else {
                // consult-stub's codes: a rotated token is superseded; the sign-in's end comes
                // as a disconnect.
                self.coverage.hit("socket: join refused");
                let code = match self.server.current(self.now, &token, 0, 0) {
                    Err(why) if why.contains("rotated") => "token_superseded",
                    _ => "token_expired",
                };
                let frame = format!(r#"42["error",{{"code":"{code}","message":"refused"}}]"#);
                self.send_to_client(tab, transport, frame);
            }
        } else if let Some(rest) = packet.strip_prefix('2') {
            // An emit; with an ack id (digits before `[`), acknowledged unless lost.
            let id: String = rest.chars().take_while(char::is_ascii_digit).collect();
            let lost = self.schedule.consultation.ack_lost;
            if !id.is_empty() && !self.fault(lost, "fault: acknowledgement lost") {
                self.send_to_client(tab, transport, format!("43{id}[\"ok\"]"));
            }
        } else if packet.starts_with('1') {
            self.coverage.hit("socket: client disconnect");
        }
    }

    /// Sockets whose sign-in is over on the server are disconnected (`41`, no reconnect).
    pub(super) fn consult_sweep(&mut self) {
        if !self.on() {
            return;
        }
        for tab in 0..self.tabs.len() {
            let c = &self.tabs[tab].consult;
            let transport = c.transport;
            let over = c.connected_at.is_some()
                && c.conn_token
                    .as_ref()
                    .is_some_and(|t| self.server.legitimately_over(self.now, t));
            if self.tabs[tab].alive && transport != 0 && over {
                self.coverage.hit("socket: server disconnect");
                self.tabs[tab].consult.connected_at = None;
                self.send_to_client(tab, transport, "41".into());
            }
        }
    }

    /// The stub's sweep runs every second: the first one after the newest token of the socket's
    /// sign-in expires (on the instance furthest ahead) looks at the socket.
    fn schedule_expiry_sweep(&mut self, tab: usize, transport: u64, token: &str) {
        if let Some(expiry) = self.server.head_expiry(token) {
            // Where in its second the sweep runs, without a draw from the world's generator:
            // a run in which no socket is swept replays as it did before the sweep was modelled.
            let phase = (tab as i64 * 7_919 + transport as i64 * 104_729) % S + 1;
            let at = expiry.max(self.now).saturating_add(phase);
            self.at(at, Ev::Consult(Cev::ExpirySweep { tab, transport }));
        }
    }

    /// A socket whose sign-in was not refreshed before its newest token expired is disconnected
    /// (`41`; consult-stub sends `error` `token_expired` first); one whose sign-in was refreshed
    /// meanwhile is looked at again when the newer token expires.
    fn expiry_sweep(&mut self, tab: usize, transport: u64) {
        let c = &self.tabs[tab].consult;
        if !self.tabs[tab].alive || c.transport != transport || c.connected_at.is_none() {
            return;
        }
        let Some(token) = c.conn_token.clone() else {
            return;
        };
        match self.server.head_expiry(&token) {
            Some(expiry) if expiry <= self.now => {
                self.coverage.hit("socket: expiry sweep");
                let c = &mut self.tabs[tab].consult;
                c.connected_at = None;
                c.swept_at = Some(self.now);
                self.send_to_client(tab, transport, "41".into());
            }
            _ => self.schedule_expiry_sweep(tab, transport, &token),
        }
    }

    /// The laptop sleeps: every connection dies.
    pub(super) fn consult_sleep(&mut self, until: i64) {
        for tab in 0..self.tabs.len() {
            let transport = self.tabs[tab].consult.transport;
            if transport != 0 {
                self.at(until, Ev::Consult(Cev::Closed { tab, transport }));
            }
        }
    }

    /// The user disposes the tab's client: polling stops, the socket leaves.
    pub(super) fn consult_dispose(&mut self, tab: usize) {
        if !self.on() {
            return;
        }
        self.tabs[tab].consult.disposed = true;
        self.feed_poll(tab, PollInput::Stop);
        self.feed_socket(tab, SockInput::Disconnect);
    }

    /// The page shows or hides.
    pub(super) fn consult_visibility(&mut self, tab: usize, hidden: bool) {
        if self.on() {
            self.feed_poll(tab, PollInput::Visibility { hidden });
        }
    }

    /// The tab holds a token again after its poller or socket gave up for want of one (the
    /// application starts them again, as the consultation screen does after a sign-in).
    pub(super) fn consult_token_back(&mut self, tab: usize) {
        if !self.on() || self.tabs[tab].consult.disposed {
            return;
        }
        if self.tabs[tab].consult.poll_end == Some(PollEnd::SessionExpired) {
            self.coverage.hit("poll: restarted");
            let interval = self.schedule.consultation.poll_interval_ms;
            let seed = self.rng.next_u64();
            let c = &mut self.tabs[tab].consult;
            c.poll = PollMachine::new(interval, seed);
            c.poll_end = None;
            c.poll_out = None;
            let hidden = self.tabs[tab].hidden;
            self.feed_poll(tab, PollInput::Start { hidden });
        }
        if self.tabs[tab].consult.socket.state() == ConnState::Closed {
            self.coverage.hit("socket: restarted");
            self.feed_socket(tab, SockInput::Start);
        }
    }

    /// At the end: no emit without an outcome, the room joined, polls delivering.
    pub(super) fn consult_final(&mut self, tab: usize) {
        if !self.on() {
            return;
        }
        self.judge_join(tab);
        let n = self.tabs[tab].consult.pending_emits.len();
        if n > 0 {
            self.violation(format!("tab {tab}: {n} emit(s) never got an outcome"));
        }
        let over = self.tabs[tab]
            .last_token
            .as_ref()
            .is_none_or(|t| self.server.legitimately_over(self.now, t));
        let c = &self.tabs[tab].consult;
        if c.disposed || over || self.signed_out {
            return;
        }
        let (state, poll_end, last_poll_ok) = (c.socket.state(), c.poll_end, c.last_poll_ok);
        let gone = self.session_gone;
        // A session that is gone has no room to be in; the socket stays connected until the
        // application leaves.
        let in_place = match gone {
            None => state == ConnState::Joined,
            Some(_) => matches!(state, ConnState::Connected | ConnState::Joined),
        };
        // Swept for an expired sign-in, the socket connects again within a caller's wait.
        let reconnecting = c
            .swept_at
            .is_some_and(|at| self.now - at - self.slept_during(at) <= self.wait_bound(tab));
        let in_place = in_place || reconnecting;
        if !in_place {
            self.violation(format!(
                "tab {tab}: after the quiet period the socket is {state:?}, not in the room"
            ));
        }
        let terminal = self.session_status_terminal();
        match poll_end {
            Some(PollEnd::Ended | PollEnd::Cancelled) if terminal => {}
            Some(PollEnd::NotFound) if gone == Some(404) => {}
            Some(PollEnd::Forbidden) if gone == Some(403) => {}
            Some(end) => self.violation(format!("tab {tab}: polling ended ({end:?}) too early")),
            None if terminal || gone.is_some() => self.violation(format!(
                "tab {tab}: the session ended or is gone ({gone:?}), polling did not end"
            )),
            None => {
                let interval = self.schedule.consultation.poll_interval_ms as i64;
                let recent = self.now - 2 * interval - 60 * S;
                if last_poll_ok.is_none_or(|at| at < recent) {
                    self.violation(format!(
                        "tab {tab}: after the quiet period polls do not deliver (last at {last_poll_ok:?})"
                    ));
                }
            }
        }
    }
}

/// `PendingCall` for a token call of `purpose`.
pub(super) fn pending(since: i64, purpose: Purpose) -> PendingCall {
    PendingCall {
        since,
        replay: purpose != Purpose::App,
        probe: false,
        replay_of_probe: false,
        wants_token: true,
        purpose,
    }
}
