//! The Socket.IO connection machine ([`consult_core::connection`]) for the JS video session.
//! Its ops cross as plain numbers, named for the driver by `js/socket_op.js` (checked against
//! [`SocketOp`] by a test, as the token and poll machines' are).

use alloc::{borrow::ToOwned, string::String};
use consult_core::ErrorCode;
use consult_core::connection::{
    Action, ConnectionConfig, Input, Notice, RoomJoin, SocketConnection, TokenResult,
};

use super::abi::{self, Slab};
use super::{ms, ms_u64};

/// What to do (returned by [`SocketMachine::next`]); read its fields with [`SocketMachine::text`]
/// and [`SocketMachine::extra`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SocketOp {
    /// Nothing more to do.
    None = 0,
    /// Open a WebSocket to `text()` (the server's `/socket.io/` WebSocket URL).
    Open = 1,
    /// Close the WebSocket.
    Close = 2,
    /// Send the text frame `text()`.
    Send = 3,
    /// Get a token, then call `onToken` with `id()`.
    FetchToken = 4,
    /// Get a token after a forced refresh, then call `onToken` with `id()`.
    FetchRefreshedToken = 5,
    /// The state changed to `text()`, because of `extra()`.
    State = 6,
    /// An event: `text()` is its JSON array `["name", ...args]`.
    Event = 7,
    /// Emit `id()` went out: `text()` is the JSON array of its acknowledgement's arguments
    /// (absent: no acknowledgement was wanted).
    EmitDone = 8,
    /// Emit `id()` failed: `text()` is the error code (`NETWORK`, `TIMEOUT`, `ABORTED`).
    EmitFailed = 9,
    /// A frame that could not be read (`text()`; ignored).
    ProtocolError = 10,
}

// For the host test that checks the driver's code module (src/tests.rs).
#[cfg(all(test, not(target_arch = "wasm32")))]
impl SocketOp {
    /// Every op, in order of its number (0, 1, …).
    pub const ALL: [SocketOp; 11] = [
        SocketOp::None,
        SocketOp::Open,
        SocketOp::Close,
        SocketOp::Send,
        SocketOp::FetchToken,
        SocketOp::FetchRefreshedToken,
        SocketOp::State,
        SocketOp::Event,
        SocketOp::EmitDone,
        SocketOp::EmitFailed,
        SocketOp::ProtocolError,
    ];
}

/// A JS number that may be NaN (or undefined, which arrives as NaN): `None` then.
fn given(value: f64) -> Option<f64> {
    (!value.is_nan()).then_some(value)
}

/// The connection state machine. Feed it what happened; drain [`SocketMachine::next`] for what
/// to do, one [`SocketOp`] at a time.
///
/// ```js
/// const machine = new SocketMachine("https://api.example", "/", 5, 1000, 5000, "room-1", "session-1", "user-1", "PATIENT");
/// machine.start(performance.now()); // the monotonic clock: the machine only keeps deadlines
/// for (let op; (op = machine.next()) !== SocketOp.None; ) perform(op, machine.text(), machine.extra());
/// ```
pub struct SocketMachine {
    machine: SocketConnection,
    url: String,
    id: f64,
    text: Option<String>,
    extra: Option<String>,
}

impl SocketMachine {
    /// A machine for the Socket.IO server at `url` (http(s)) and its `namespace` that
    /// reconnects up to `attempts` times in a row, after `delay_ms · 2ⁿ ± 50 %`, at most
    /// `max_delay_ms` (NaN or undefined: consult-core's defaults), and joins the room after
    /// every CONNECT; its jitter comes from a PRNG seeded with `seed`.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        url: &str,
        namespace: Option<String>,
        attempts: f64,
        delay_ms: f64,
        max_delay_ms: f64,
        room_id: String,
        session_id: String,
        user_id: String,
        role: String,
        seed: f64,
    ) -> SocketMachine {
        let room = RoomJoin {
            room_id,
            session_id,
            user_id,
            role,
        };
        let config = ConnectionConfig {
            room: Some(room),
            ..ConnectionConfig::from_options(
                namespace,
                given(attempts),
                given(delay_ms),
                given(max_delay_ms),
            )
        };
        SocketMachine {
            machine: SocketConnection::new(config, seed.to_bits()),
            url: consult_core::engineio::websocket_url(url),
            id: 0.0,
            text: None,
            extra: None,
        }
    }

    /// The configuration in force (for the options table's test).
    #[cfg(all(test, not(target_arch = "wasm32")))]
    pub(crate) fn config(&self) -> &ConnectionConfig {
        self.machine.config()
    }

    /// Starts connecting.
    pub fn start(&mut self, now: f64) {
        self.machine.handle(ms(now), Input::Start);
    }

    /// The WebSocket opened.
    pub fn on_transport_open(&mut self, now: f64) {
        self.machine.handle(ms(now), Input::TransportOpened);
    }

    /// A text frame arrived.
    pub fn on_frame(&mut self, frame: String, now: f64) {
        self.machine.handle(ms(now), Input::Frame(frame));
    }

    /// The answer to token request `request` (`id()` of a FetchToken op): the token, or the
    /// client's error code (the machine decides what it means).
    pub fn on_token(
        &mut self,
        request: f64,
        token: Option<String>,
        code: Option<String>,
        now: f64,
    ) {
        let result = match token {
            Some(token) => TokenResult::Token(token),
            None => {
                let code = code.as_deref().and_then(ErrorCode::parse);
                TokenResult::for_error(code.unwrap_or(ErrorCode::Network))
            }
        };
        let request = ms_u64(request);
        self.machine
            .handle(ms(now), Input::Token { request, result });
    }

    /// The WebSocket closed (or failed to open) without being asked to.
    pub fn on_transport_closed(&mut self, now: f64) {
        self.machine.handle(ms(now), Input::TransportClosed);
    }

    /// The deadline from `pollTimeout` passed.
    pub fn handle_timeout(&mut self, now: f64) {
        self.machine.handle_timeout(ms(now));
    }

    /// Leaves: DISCONNECT if connected, close, no reconnect.
    pub fn disconnect(&mut self, now: f64) {
        self.machine.handle(ms(now), Input::Disconnect);
    }

    /// Sends an event (`args_json`: the arguments without brackets, e.g. `{"a":1}`), waiting
    /// `ack_timeout_ms` for an acknowledgement if given; `id` is the driver's for this emit,
    /// whose outcome comes as an `EmitDone` or `EmitFailed` op with that id.
    pub fn emit(
        &mut self,
        id: f64,
        name: &str,
        args_json: &str,
        ack_timeout_ms: Option<f64>,
        now: f64,
    ) {
        let emit = Input::Emit {
            id: ms_u64(id),
            name: name.to_owned(),
            args_json: args_json.to_owned(),
            ack_timeout_ms: ack_timeout_ms.map(ms_u64),
        };
        self.machine.handle(ms(now), emit);
    }

    /// When `handleTimeout` is due next (on the clock `now` is given in); NaN: never.
    pub fn poll_timeout(&self) -> f64 {
        self.machine.poll_timeout().map_or(f64::NAN, |at| at as f64)
    }

    /// The next action (a [`SocketOp`] number; 0 when there is none).
    pub fn next(&mut self) -> u8 {
        self.next_op() as u8
    }

    fn next_op(&mut self) -> SocketOp {
        self.id = 0.0;
        self.text = None;
        self.extra = None;
        let Some(action) = self.machine.poll_action() else {
            return SocketOp::None;
        };
        match action {
            Action::OpenTransport => {
                self.text = Some(self.url.clone());
                SocketOp::Open
            }
            Action::CloseTransport => SocketOp::Close,
            Action::Send(frame) => {
                self.text = Some(frame);
                SocketOp::Send
            }
            Action::FetchToken {
                request,
                force_refresh,
            } => {
                self.id = request as f64;
                if force_refresh {
                    SocketOp::FetchRefreshedToken
                } else {
                    SocketOp::FetchToken
                }
            }
            Action::Notify(Notice::State(state, reason)) => {
                self.text = Some(state.as_str().to_owned());
                self.extra = Some(reason);
                SocketOp::State
            }
            Action::Notify(Notice::Event { array, .. }) => {
                self.text = Some(array);
                SocketOp::Event
            }
            Action::Notify(Notice::Emitted { id, result }) => {
                self.id = id as f64;
                match result {
                    Ok(array) => {
                        self.text = array;
                        SocketOp::EmitDone
                    }
                    Err(code) => {
                        self.text = Some(code.as_str().to_owned());
                        SocketOp::EmitFailed
                    }
                }
            }
            Action::Notify(Notice::ProtocolError(message)) => {
                self.text = Some(message);
                SocketOp::ProtocolError
            }
        }
    }

    /// The token request id of the last FetchToken / FetchRefreshedToken action, or the emit id
    /// of the last EmitDone / EmitFailed.
    pub fn id(&self) -> f64 {
        self.id
    }

    /// The text of the last action (see [`SocketOp`]).
    pub fn text(&self) -> Option<&str> {
        self.text.as_deref()
    }

    /// The second field of the last action (see [`SocketOp`]).
    pub fn extra(&self) -> Option<&str> {
        self.extra.as_deref()
    }

    /// `connecting`, `connected`, `joined`, `reconnecting`, `refreshing` or `closed`.
    pub fn state(&self) -> &'static str {
        self.machine.state().as_str()
    }
}

// ---- the wasm exports (`js/consult_core.js` calls them; conventions in `abi.rs`) ----------------

abi::local! {
    static MACHINES: Slab<SocketMachine> = const { Slab::new() };
}

fn with<R: Default>(handle: f64, f: impl FnOnce(&mut SocketMachine) -> R) -> R {
    abi::with(&MACHINES, handle, f).unwrap_or_default()
}

fn text_out(handle: f64, f: impl FnOnce(&SocketMachine) -> Option<&str>) -> f64 {
    abi::with(&MACHINES, handle, |m| abi::out(f(m))).unwrap_or(-1.0)
}

/// [`SocketMachine::new`] with its six strings in the in buffer; its handle.
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub extern "C" fn sm_new(
    url: f64,
    namespace: f64,
    attempts: f64,
    delay_ms: f64,
    max_delay_ms: f64,
    room_id: f64,
    session_id: f64,
    user_id: f64,
    role: f64,
    seed: f64,
) -> f64 {
    let mut strings = abi::Strings::default();
    let (url, namespace) = (
        strings.next(url).unwrap_or_default(),
        strings.next(namespace),
    );
    let mut next = |length| strings.next(length).unwrap_or_default();
    let (room_id, session_id, user_id, role) =
        (next(room_id), next(session_id), next(user_id), next(role));
    let machine = SocketMachine::new(
        &url,
        namespace,
        attempts,
        delay_ms,
        max_delay_ms,
        room_id,
        session_id,
        user_id,
        role,
        seed,
    );
    MACHINES.with(|slab| slab.insert(machine))
}

/// Drops the machine behind `handle`.
#[unsafe(no_mangle)]
pub extern "C" fn sm_free(handle: f64) {
    abi::free(&MACHINES, handle);
}

/// [`SocketMachine::start`].
#[unsafe(no_mangle)]
pub extern "C" fn sm_start(handle: f64, now: f64) {
    with(handle, |m| m.start(now));
}

/// [`SocketMachine::on_transport_open`].
#[unsafe(no_mangle)]
pub extern "C" fn sm_open(handle: f64, now: f64) {
    with(handle, |m| m.on_transport_open(now));
}

/// [`SocketMachine::on_frame`] with the frame in the in buffer.
#[unsafe(no_mangle)]
pub extern "C" fn sm_frame(handle: f64, frame: f64, now: f64) {
    let frame = abi::string(frame).unwrap_or_default();
    with(handle, |m| m.on_frame(frame, now));
}

/// [`SocketMachine::on_token`] with the token and the code in the in buffer.
#[unsafe(no_mangle)]
pub extern "C" fn sm_token(handle: f64, request: f64, token: f64, code: f64, now: f64) {
    let mut strings = abi::Strings::default();
    let (token, code) = (strings.next(token), strings.next(code));
    with(handle, |m| m.on_token(request, token, code, now));
}

/// [`SocketMachine::on_transport_closed`].
#[unsafe(no_mangle)]
pub extern "C" fn sm_closed(handle: f64, now: f64) {
    with(handle, |m| m.on_transport_closed(now));
}

/// [`SocketMachine::handle_timeout`].
#[unsafe(no_mangle)]
pub extern "C" fn sm_timeout(handle: f64, now: f64) {
    with(handle, |m| m.handle_timeout(now));
}

/// [`SocketMachine::disconnect`].
#[unsafe(no_mangle)]
pub extern "C" fn sm_disconnect(handle: f64, now: f64) {
    with(handle, |m| m.disconnect(now));
}

/// [`SocketMachine::emit`] with the name and the arguments in the in buffer; the ack timeout
/// NaN for none.
#[unsafe(no_mangle)]
pub extern "C" fn sm_emit(
    handle: f64,
    id: f64,
    name: f64,
    args_json: f64,
    ack_timeout_ms: f64,
    now: f64,
) {
    let mut strings = abi::Strings::default();
    let name = strings.next(name).unwrap_or_default();
    let args = strings.next(args_json).unwrap_or_default();
    let timeout = (!ack_timeout_ms.is_nan()).then_some(ack_timeout_ms);
    with(handle, |m| m.emit(id, &name, &args, timeout, now));
}

/// [`SocketMachine::poll_timeout`]; NaN: none.
#[unsafe(no_mangle)]
pub extern "C" fn sm_next_timeout(handle: f64) -> f64 {
    abi::with(&MACHINES, handle, |m| m.poll_timeout()).unwrap_or(f64::NAN)
}

/// [`SocketMachine::next`] (0 once there is none, or no machine).
#[unsafe(no_mangle)]
pub extern "C" fn sm_next(handle: f64) -> u32 {
    with(handle, |m| u32::from(m.next()))
}

/// [`SocketMachine::id`].
#[unsafe(no_mangle)]
pub extern "C" fn sm_id(handle: f64) -> f64 {
    with(handle, |m| m.id())
}

/// [`SocketMachine::text`] into the out buffer.
#[unsafe(no_mangle)]
pub extern "C" fn sm_text(handle: f64) -> f64 {
    text_out(handle, SocketMachine::text)
}

/// [`SocketMachine::extra`] into the out buffer.
#[unsafe(no_mangle)]
pub extern "C" fn sm_extra(handle: f64) -> f64 {
    text_out(handle, SocketMachine::extra)
}

/// [`SocketMachine::state`] into the out buffer.
#[unsafe(no_mangle)]
pub extern "C" fn sm_state(handle: f64) -> f64 {
    text_out(handle, |m| Some(m.state()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const HANDSHAKE: &str = r#"0{"sid":"e1","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}"#;

    /// Drains every pending action, each written as a short string for readable assertions:
    /// `o`, `x`, `w`+frame, `t`/`T`+id, `s`+state+`\n`+reason, `e`+JSON, `d`+id+`\n`+JSON,
    /// `f`+id+`\n`+code, `p`+message.
    fn drain(machine: &mut SocketMachine) -> Vec<String> {
        core::iter::from_fn(|| {
            let op = machine.next_op();
            let text = machine.text().unwrap_or_default();
            let extra = machine.extra().unwrap_or_default();
            let id = machine.id();
            Some(match op {
                SocketOp::None => return None,
                SocketOp::Open => format!("o{text}"),
                SocketOp::Close => String::from("x"),
                SocketOp::Send => format!("w{text}"),
                SocketOp::FetchToken => format!("t{id}"),
                SocketOp::FetchRefreshedToken => format!("T{id}"),
                SocketOp::State => format!("s{text}\n{extra}"),
                SocketOp::Event => format!("e{text}"),
                SocketOp::EmitDone => format!("d{id}\n{text}"),
                SocketOp::EmitFailed => format!("f{id}\n{text}"),
                SocketOp::ProtocolError => format!("p{text}"),
            })
        })
        .collect()
    }

    /// A machine that has opened its transport and sent CONNECT with `tok`.
    fn connecting() -> SocketMachine {
        let text = String::from;
        let mut machine = SocketMachine::new(
            "http://127.0.0.1:9",
            Some(text("/")),
            5.0,
            1000.0,
            5000.0,
            text("r"),
            text("s"),
            text("u"),
            text("PATIENT"),
            1.0,
        );
        machine.start(0.0);
        assert_eq!(
            drain(&mut machine),
            [
                "sconnecting\nstart",
                "ows://127.0.0.1:9/socket.io/?EIO=4&transport=websocket"
            ]
        );
        machine.on_transport_open(1.0);
        machine.on_frame(HANDSHAKE.into(), 2.0);
        assert_eq!(drain(&mut machine), ["t1"]);
        machine.on_token(1.0, Some(String::from("tok")), None, 3.0);
        assert_eq!(drain(&mut machine), [r#"w40{"token":"tok"}"#]);
        machine
    }

    #[test]
    fn the_join_events_acks_and_bad_frames_come_out_as_their_ops() {
        let mut machine = connecting();
        machine.on_frame(r#"40{"sid":"s1"}"#.into(), 4.0);
        assert_eq!(drain(&mut machine), ["sconnected\nconnected", "t2"]);
        machine.on_token(2.0, Some(String::from("tok2")), None, 4.0);
        assert_eq!(
            drain(&mut machine),
            [
                r#"w42["join_room",{"room_id":"r","session_id":"s","user_id":"u","role":"PATIENT","token":"tok2"}]"#
            ]
        );
        assert_eq!(machine.state(), "connected");
        machine.emit(1.0, "echo", r#"{"a":1}"#, Some(100.0), 5.0);
        machine.on_frame(r#"431["ok"]"#.into(), 5.0);
        machine.on_frame(r#"42["joined_room",{"room_id":"r"}]"#.into(), 6.0);
        machine.on_frame("4x".into(), 7.0);
        assert_eq!(
            drain(&mut machine),
            [
                r#"w421["echo",{"a":1}]"#,
                "d1\n[\"ok\"]",
                "sjoined\njoined_room",
                r#"e["joined_room",{"room_id":"r"}]"#,
                "pmalformed Socket.IO packet",
            ]
        );
        assert_eq!(machine.state(), "joined");
        machine.emit(2.0, "echo", "", Some(100.0), 10.0);
        drain(&mut machine);
        machine.handle_timeout(110.0);
        assert_eq!(drain(&mut machine), ["f2\nTIMEOUT"]);
        assert!(
            !machine.poll_timeout().is_nan(),
            "the ping watchdog is armed"
        );
        machine.disconnect(150.0);
        assert_eq!(
            drain(&mut machine),
            ["w41", "x", "sclosed\nclient disconnect"]
        );
        machine.emit(3.0, "echo", "", None, 200.0);
        assert_eq!(drain(&mut machine), ["f3\nNETWORK"], "no emit once closed");
    }

    #[test]
    fn an_auth_refusal_asks_for_a_forced_refresh_and_a_rejected_one_closes() {
        let mut machine = connecting();
        machine.on_frame(r#"44{"message":"Token expired"}"#.into(), 4.0);
        assert_eq!(drain(&mut machine), ["srefreshing\nToken expired", "T2"]);
        machine.on_token(2.0, None, Some(String::from("REFRESH_REJECTED")), 5.0);
        assert_eq!(drain(&mut machine), ["x", "sclosed\nsession expired"]);
        assert_eq!(machine.state(), "closed");
        assert!(machine.poll_timeout().is_nan());
    }

    #[test]
    fn no_token_for_now_is_a_failed_attempt_retried_later() {
        let mut machine = connecting();
        machine.on_frame(r#"44{"message":"Token expired"}"#.into(), 4.0);
        drain(&mut machine);
        machine.on_token(2.0, None, Some(String::from("NETWORK")), 5.0);
        let actions = drain(&mut machine);
        assert!(actions.contains(&String::from("x")), "{actions:?}");
        assert!(
            actions.contains(&String::from("sreconnecting\ntoken refresh failed for now")),
            "{actions:?}"
        );
        assert_eq!(machine.state(), "reconnecting");
        assert!(machine.poll_timeout() > 5.0);
    }

    #[test]
    fn the_websocket_url_comes_from_the_http_base() {
        let text = String::from;
        let mut machine = SocketMachine::new(
            "https://api.example/",
            None,
            f64::NAN,
            f64::NAN,
            f64::NAN,
            text("r"),
            text("s"),
            text("u"),
            text("DOCTOR"),
            1.0,
        );
        machine.start(0.0);
        let opened = drain(&mut machine);
        assert_eq!(
            opened.last().map(String::as_str),
            Some("owss://api.example/socket.io/?EIO=4&transport=websocket")
        );
    }
}
