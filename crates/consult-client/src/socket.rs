//! The video session over Socket.IO: a WebSocket driver for [`consult_core::connection`].
//! The token is read with `get_valid_token()` for every CONNECT and every `join_room`, an auth
//! refusal forces one refresh (shared with polling and fetch through the client's single
//! flight), and the room is joined again after every reconnect.

use std::cell::{Cell, RefCell};
use std::rc::{Rc, Weak};

use consult_core::ErrorCode;
use consult_core::connection::{
    Action, ConnState, ConnectionConfig, Notice, SocketConnection, TokenResult,
};
use consult_core::engineio::websocket_url;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;

use crate::env::{now_ms, random};
use crate::flight::Flight;
use crate::{ClientError, ConsultClient};

/// What to connect to and which room to join.
#[derive(Debug, Clone)]
pub struct VideoSessionOptions {
    /// Socket.IO server (default: the client's base URL).
    pub url: Option<String>,
    /// The consultation session.
    pub session_id: String,
    /// Its room.
    pub room_id: String,
    /// The signed-in user (must be the token's `sub`).
    pub user_id: String,
    /// `PATIENT` or `DOCTOR`.
    pub role: String,
    /// Reconnection settings (attempts 5, 1 s doubling, at most 5 s).
    pub reconnection: ConnectionConfig,
}

/// A listener of session events: the event's payload (parsed JSON).
pub type SessionListener = Rc<dyn Fn(&JsValue)>;

type AckResult = Result<JsValue, ClientError>;

struct Transport {
    socket: web_sys::WebSocket,
    _on_open: Closure<dyn FnMut()>,
    _on_message: Closure<dyn FnMut(web_sys::MessageEvent)>,
    _on_close: Closure<dyn FnMut()>,
}

impl Drop for Transport {
    fn drop(&mut self) {
        self.socket.set_onopen(None);
        self.socket.set_onmessage(None);
        self.socket.set_onclose(None);
        self.socket.set_onerror(None);
        let _ = self.socket.close();
    }
}

struct Shared {
    client: ConsultClient,
    options: VideoSessionOptions,
    machine: RefCell<SocketConnection>,
    transport: RefCell<Option<Transport>>,
    timer: RefCell<Option<gloo_timers::callback::Timeout>>,
    listeners: RefCell<Vec<(String, SessionListener)>>,
    acks: RefCell<Vec<(u64, Flight<AckResult>)>>,
    next_ack: Cell<u64>,
    joined: Cell<bool>,
}

/// A live video session. Cheap to clone.
#[derive(Clone)]
pub struct VideoSession {
    shared: Rc<Shared>,
}

impl ConsultClient {
    /// Connects to the consultation room and stays there across token changes and network
    /// trouble, until [`VideoSession::disconnect`] or the session ends.
    pub fn connect_video_session(&self, options: VideoSessionOptions) -> VideoSession {
        let machine = SocketConnection::new(options.reconnection.clone());
        let shared = Rc::new(Shared {
            client: self.clone(),
            options,
            machine: RefCell::new(machine),
            transport: RefCell::new(None),
            timer: RefCell::new(None),
            listeners: RefCell::new(Vec::new()),
            acks: RefCell::new(Vec::new()),
            next_ack: Cell::new(0),
            joined: Cell::new(false),
        });
        let now = now_ms(&shared.client.inner.now);
        shared.machine.borrow_mut().start(now);
        let session = VideoSession { shared };
        // Let the caller attach listeners before anything is reported.
        let weak = Rc::downgrade(&session.shared);
        crate::env::spawn(async move {
            if let Some(shared) = weak.upgrade() {
                pump(&shared);
            }
        });
        session
    }
}

impl VideoSession {
    /// Listens to `joined_room`, `participant_joined`, `participant_left`, `session_status`,
    /// `error` (the server's `{code, message}`), `state` (`{state, reason}`), or any other event.
    pub fn on(&self, event: &str, listener: SessionListener) {
        self.shared
            .listeners
            .borrow_mut()
            .push((event.to_owned(), listener));
    }

    /// Sends an event. With `ack_timeout_ms`, waits for the server's acknowledgement and returns
    /// its first argument; without, returns `undefined` once sent.
    pub async fn emit(
        &self,
        event: &str,
        data: &JsValue,
        ack_timeout_ms: Option<u32>,
    ) -> Result<JsValue, ClientError> {
        let args = if data.is_undefined() {
            String::new()
        } else {
            js_sys::JSON::stringify(data)
                .ok()
                .and_then(|s| s.as_string())
                .ok_or_else(|| {
                    ClientError::new(
                        ErrorCode::BadResponse,
                        "event data is not JSON-serialisable",
                    )
                })?
        };
        let ack = ack_timeout_ms.map(|_| {
            let id = self.shared.next_ack.get().wrapping_add(1);
            self.shared.next_ack.set(id);
            let flight = Flight::new();
            self.shared.acks.borrow_mut().push((id, flight.clone()));
            (id, flight)
        });
        let sent =
            self.shared
                .machine
                .borrow_mut()
                .emit(event, &args, ack.as_ref().map(|(id, _)| *id));
        pump(&self.shared);
        if sent.is_none() {
            if let Some((id, _)) = ack {
                self.shared.acks.borrow_mut().retain(|(i, _)| *i != id);
            }
            return Err(ClientError::new(ErrorCode::Network, "not connected"));
        }
        let (Some((id, flight)), Some(timeout)) = (ack, ack_timeout_ms) else {
            return Ok(JsValue::UNDEFINED);
        };
        let timed_out = flight.clone();
        let _timer = gloo_timers::callback::Timeout::new(timeout, move || {
            timed_out.complete(Err(ClientError::new(
                ErrorCode::Timeout,
                "no acknowledgement in time",
            )));
        });
        let result = flight.wait().await;
        self.shared.acks.borrow_mut().retain(|(i, _)| *i != id);
        result
    }

    /// Leaves the room and closes the connection (no reconnect).
    pub fn disconnect(&self) {
        self.shared.machine.borrow_mut().disconnect();
        pump(&self.shared);
    }

    /// The connection state (`joined` once `joined_room` arrived since the last connect).
    pub fn state(&self) -> &'static str {
        let state = self.shared.machine.borrow().state();
        if state == ConnState::Connected && self.shared.joined.get() {
            "joined"
        } else {
            state.as_str()
        }
    }
}

fn emit_event(shared: &Shared, name: &str, payload: &JsValue) {
    let matching: Vec<SessionListener> = shared
        .listeners
        .borrow()
        .iter()
        .filter(|(n, _)| n == name)
        .map(|(_, l)| l.clone())
        .collect();
    for listener in matching {
        listener(payload);
    }
}

fn emit_state(shared: &Shared, state: &str, reason: &str) {
    let payload = js_sys::Object::new();
    let _ = js_sys::Reflect::set(&payload, &"state".into(), &JsValue::from_str(state));
    let _ = js_sys::Reflect::set(&payload, &"reason".into(), &JsValue::from_str(reason));
    emit_event(shared, "state", &payload);
}

/// Carries out every pending action of the machine, then re-arms its timer.
fn pump(shared: &Rc<Shared>) {
    loop {
        let action = shared.machine.borrow_mut().poll_action();
        let Some(action) = action else { break };
        match action {
            Action::OpenTransport => open_transport(shared),
            Action::CloseTransport => {
                shared.transport.borrow_mut().take();
            }
            Action::Send(frame) => {
                if let Some(transport) = &*shared.transport.borrow() {
                    let _ = transport.socket.send_with_str(&frame);
                }
            }
            Action::FetchToken { force_refresh } => fetch_token(shared, force_refresh),
            Action::Notify(notice) => on_notice(shared, notice),
        }
    }
    arm_timer(shared);
}

fn on_notice(shared: &Rc<Shared>, notice: Notice) {
    match notice {
        Notice::State(state, reason) => {
            if state != ConnState::Connected {
                shared.joined.set(false);
            }
            if state == ConnState::Closed {
                for (_, flight) in shared.acks.borrow_mut().drain(..) {
                    flight.complete(Err(ClientError::new(
                        ErrorCode::Aborted,
                        "connection closed",
                    )));
                }
            }
            emit_state(shared, state.as_str(), &reason);
        }
        Notice::Connected => join_room(shared),
        Notice::Event(data) => {
            let Ok(array) = js_sys::JSON::parse(&data) else {
                return;
            };
            let array: js_sys::Array = array.unchecked_into();
            let Some(name) = array.get(0).as_string() else {
                return;
            };
            let payload = array.get(1);
            if name == "joined_room" && !shared.joined.replace(true) {
                emit_state(shared, "joined", "joined_room");
            }
            emit_event(shared, &name, &payload);
        }
        Notice::Ack(id, data) => {
            let value = data
                .and_then(|d| js_sys::JSON::parse(&d).ok())
                .map(|a| js_sys::Array::from(&a).get(0))
                .unwrap_or(JsValue::UNDEFINED);
            let flight = shared
                .acks
                .borrow()
                .iter()
                .find(|(i, _)| *i == id)
                .map(|(_, f)| f.clone());
            if let Some(flight) = flight {
                flight.complete(Ok(value));
            }
        }
        Notice::ProtocolError(_) => {}
    }
}

fn join_room(shared: &Rc<Shared>) {
    let weak = Rc::downgrade(shared);
    let client = shared.client.clone();
    crate::env::spawn(async move {
        // The current token: after a refresh, never the one the socket first connected with.
        let token = client.get_valid_token().await;
        let Some(shared) = weak.upgrade() else { return };
        let Ok(token) = token else { return };
        let payload = js_sys::Object::new();
        let options = &shared.options;
        for (key, value) in [
            ("room_id", &options.room_id),
            ("session_id", &options.session_id),
            ("user_id", &options.user_id),
            ("role", &options.role),
            ("token", &token),
        ] {
            let _ =
                js_sys::Reflect::set(&payload, &JsValue::from_str(key), &JsValue::from_str(value));
        }
        let args = js_sys::JSON::stringify(&payload)
            .ok()
            .and_then(|s| s.as_string())
            .unwrap_or_default();
        shared.machine.borrow_mut().emit("join_room", &args, None);
        pump(&shared);
    });
}

fn fetch_token(shared: &Rc<Shared>, force_refresh: bool) {
    let weak = Rc::downgrade(shared);
    let client = shared.client.clone();
    crate::env::spawn(async move {
        let token = if force_refresh {
            client.refresh_auth_token().await
        } else {
            client.get_valid_token().await
        };
        let Some(shared) = weak.upgrade() else { return };
        let result = match token {
            Ok(token) => TokenResult::Token(token),
            Err(error) if matches!(error.code, ErrorCode::RefreshRejected | ErrorCode::NoToken) => {
                TokenResult::Rejected
            }
            Err(_) => TokenResult::Unavailable,
        };
        let now = now_ms(&shared.client.inner.now);
        shared.machine.borrow_mut().on_token(result, now, random());
        pump(&shared);
    });
}

fn feed(weak: &Weak<Shared>, input: impl FnOnce(&mut SocketConnection, i64)) {
    if let Some(shared) = weak.upgrade() {
        let now = now_ms(&shared.client.inner.now);
        input(&mut shared.machine.borrow_mut(), now);
        pump(&shared);
    }
}

fn open_transport(shared: &Rc<Shared>) {
    let base = shared
        .options
        .url
        .clone()
        .unwrap_or_else(|| shared.client.inner.base_url.clone());
    let socket = match web_sys::WebSocket::new(&websocket_url(&base)) {
        Ok(socket) => socket,
        Err(_) => {
            let weak = Rc::downgrade(shared);
            crate::env::spawn(
                async move { feed(&weak, |m, now| m.on_transport_closed(now, random())) },
            );
            return;
        }
    };
    let weak = Rc::downgrade(shared);
    let on_open = Closure::<dyn FnMut()>::new({
        let weak = weak.clone();
        move || feed(&weak, |m, now| m.on_transport_open(now))
    });
    let on_message = Closure::<dyn FnMut(web_sys::MessageEvent)>::new({
        let weak = weak.clone();
        move |event: web_sys::MessageEvent| {
            let frame = event.data().as_string().unwrap_or_default();
            feed(&weak, |m, now| m.on_frame(&frame, now));
        }
    });
    let on_close = Closure::<dyn FnMut()>::new(move || {
        if let Some(shared) = weak.upgrade() {
            shared.transport.borrow_mut().take();
        }
        feed(&weak, |m, now| m.on_transport_closed(now, random()));
    });
    socket.set_onopen(Some(on_open.as_ref().unchecked_ref()));
    socket.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    socket.set_onclose(Some(on_close.as_ref().unchecked_ref()));
    *shared.transport.borrow_mut() = Some(Transport {
        socket,
        _on_open: on_open,
        _on_message: on_message,
        _on_close: on_close,
    });
}

fn arm_timer(shared: &Rc<Shared>) {
    let deadline = shared.machine.borrow().next_timeout();
    let timer = deadline.map(|at| {
        let delay = (at - now_ms(&shared.client.inner.now)).clamp(0, 2_147_483_647) as u32;
        let weak = Rc::downgrade(shared);
        gloo_timers::callback::Timeout::new(delay, move || {
            feed(&weak, |m, now| m.on_timeout(now, random()))
        })
    });
    *shared.timer.borrow_mut() = timer;
}
