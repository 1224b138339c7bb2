//! The video session over Socket.IO: a WebSocket driver for [`consult_core::connection`].
//! The token comes from the client for every CONNECT and every `join_room`; an auth refusal
//! forces one refresh (the client's single flight); the room is joined again after a reconnect.

use std::cell::{Cell, RefCell};
use std::rc::{Rc, Weak};

use consult_core::ErrorCode;
use consult_core::connection::{
    Action, ConnState, ConnectionConfig, Notice, SocketConnection, TokenResult,
};
use consult_core::engineio::websocket_url;
use futures::channel::oneshot;
use futures::future::{Either, select};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;

use crate::error::{InvalidOptions, check};
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
    /// Reconnection settings.
    pub reconnection: ConnectionConfig,
}

/// Where the room connection stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RoomState {
    /// Opening the transport or waiting for the CONNECT answer.
    Connecting,
    /// Connected; `joined_room` not seen yet.
    Connected,
    /// In the room (`joined_room` arrived since the last connect).
    Joined,
    /// Waiting to try again after losing the transport.
    Reconnecting,
    /// The server refused the token; a refresh is under way.
    Refreshing,
    /// Over (the state event says why).
    Closed,
}

impl RoomState {
    /// The name (`connecting`, `connected`, `joined`, `reconnecting`, `refreshing`, `closed`).
    ///
    /// ```
    /// assert_eq!(consult_client::RoomState::Joined.as_str(), "joined");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            RoomState::Connecting => "connecting",
            RoomState::Connected => "connected",
            RoomState::Joined => "joined",
            RoomState::Reconnecting => "reconnecting",
            RoomState::Refreshing => "refreshing",
            RoomState::Closed => "closed",
        }
    }

    fn of(state: ConnState, joined: bool) -> RoomState {
        match state {
            ConnState::Connected if joined => RoomState::Joined,
            ConnState::Connected => RoomState::Connected,
            ConnState::Connecting => RoomState::Connecting,
            ConnState::Reconnecting => RoomState::Reconnecting,
            ConnState::Refreshing => RoomState::Refreshing,
            ConnState::Closed => RoomState::Closed,
        }
    }
}

/// What a video session reports; payloads are the server's (parsed JSON).
#[derive(Debug, Clone)]
pub enum RoomEvent {
    /// The state changed, and why.
    State {
        /// The new state.
        state: RoomState,
        /// A short reason.
        reason: String,
    },
    /// `joined_room {room_id, session_id, user_id, role, participants}`.
    JoinedRoom(JsValue),
    /// `participant_joined {user_id, role}`.
    ParticipantJoined(JsValue),
    /// `participant_left {user_id}`.
    ParticipantLeft(JsValue),
    /// `session_status {status}`.
    SessionStatus(JsValue),
    /// `error {code, message}`.
    Error(JsValue),
    /// Any other server event.
    Other {
        /// Its name.
        name: String,
        /// Its first argument.
        payload: JsValue,
    },
}

impl RoomEvent {
    fn from_server(name: String, payload: JsValue) -> RoomEvent {
        match name.as_str() {
            "joined_room" => RoomEvent::JoinedRoom(payload),
            "participant_joined" => RoomEvent::ParticipantJoined(payload),
            "participant_left" => RoomEvent::ParticipantLeft(payload),
            "session_status" => RoomEvent::SessionStatus(payload),
            "error" => RoomEvent::Error(payload),
            _ => RoomEvent::Other { name, payload },
        }
    }
}

/// A listener of room events.
pub type SessionListener = Rc<dyn Fn(&RoomEvent)>;

type AckResult = Result<JsValue, ClientError>;

struct Transport {
    socket: web_sys::WebSocket,
    _handlers: [Closure<dyn FnMut(web_sys::MessageEvent)>; 3],
}

impl Drop for Transport {
    fn drop(&mut self) {
        self.socket.set_onopen(None);
        self.socket.set_onmessage(None);
        self.socket.set_onclose(None);
        let _ = self.socket.close();
    }
}

struct Shared {
    client: ConsultClient,
    options: VideoSessionOptions,
    machine: RefCell<SocketConnection>,
    transport: RefCell<Option<Transport>>,
    timer: RefCell<Option<gloo_timers::callback::Timeout>>,
    listeners: RefCell<Vec<SessionListener>>,
    acks: RefCell<Vec<(u64, oneshot::Sender<AckResult>)>>,
    next_ack: Cell<u64>,
    joined: Cell<bool>,
}

/// Disconnects (DISCONNECT frame, `closed` state) when the last [`VideoSession`] clone goes.
struct Handle(Rc<Shared>);

impl Drop for Handle {
    fn drop(&mut self) {
        self.0.machine.borrow_mut().disconnect();
        pump(&self.0);
    }
}

/// A live video session. Cheap to clone; dropping the last clone disconnects.
#[derive(Clone)]
pub struct VideoSession {
    handle: Rc<Handle>,
}

impl ConsultClient {
    /// Connects to the consultation room and stays there across token changes and network
    /// trouble, until [`VideoSession::disconnect`], the last handle's drop, or the end. The ids
    /// must not be empty, and `url`, if given, must be an http(s) URL.
    pub fn connect_video_session(
        &self,
        options: VideoSessionOptions,
    ) -> Result<VideoSession, InvalidOptions> {
        let ids = [&options.session_id, &options.room_id, &options.user_id];
        check(
            ids.iter().all(|id| !id.is_empty()),
            "the ids must not be empty",
        )?;
        let url = options.url.as_deref().map(consult_core::session::origin_of);
        check(
            url.is_none_or(|origin| origin.is_some()),
            "url must be an http(s) URL",
        )?;
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
        shared.machine.borrow_mut().start(self.inner.now_ms());
        // Let the caller attach listeners before anything is reported.
        let weak = Rc::downgrade(&shared);
        crate::env::spawn(async move { feed(&weak, |_, _| {}) });
        Ok(VideoSession {
            handle: Rc::new(Handle(shared)),
        })
    }
}

impl VideoSession {
    /// Listens to every event of the session.
    ///
    /// ```no_run
    /// # fn demo(room: &consult_client::VideoSession) {
    /// use consult_client::RoomEvent;
    /// room.on(std::rc::Rc::new(|event: &RoomEvent| match event {
    ///     RoomEvent::State { state, reason } => println!("{} ({reason})", state.as_str()),
    ///     other => println!("{other:?}"),
    /// }));
    /// # }
    /// ```
    pub fn on(&self, listener: SessionListener) {
        self.handle.0.listeners.borrow_mut().push(listener);
    }

    /// Sends an event. With `ack_timeout_ms`, waits for the server's acknowledgement and returns
    /// its first argument; without, returns `undefined` once sent.
    pub async fn emit(
        &self,
        event: &str,
        data: &JsValue,
        ack_timeout_ms: Option<u32>,
    ) -> Result<JsValue, ClientError> {
        let shared = &self.handle.0;
        let args = match data.is_undefined() {
            true => String::new(),
            false => js_sys::JSON::stringify(data)
                .ok()
                .and_then(|s| s.as_string())
                .ok_or_else(|| ClientError::new(ErrorCode::BadResponse, "data is not JSON"))?,
        };
        let ack = ack_timeout_ms.map(|timeout| {
            let id = shared.next_ack.get().wrapping_add(1);
            shared.next_ack.set(id);
            let (sender, receiver) = oneshot::channel();
            shared.acks.borrow_mut().push((id, sender));
            (id, receiver, timeout)
        });
        let ack_id = ack.as_ref().map(|a| a.0);
        let sent = shared.machine.borrow_mut().emit(event, &args, ack_id);
        pump(shared);
        let not_connected = || ClientError::new(ErrorCode::Network, "not connected");
        let Some((id, receiver, timeout)) = ack else {
            return sent.map(|_| JsValue::UNDEFINED).ok_or_else(not_connected);
        };
        if sent.is_none() {
            shared.acks.borrow_mut().retain(|(i, _)| *i != id);
            return Err(not_connected());
        }
        let timer = gloo_timers::future::TimeoutFuture::new(timeout);
        let answer = select(receiver, timer).await;
        shared.acks.borrow_mut().retain(|(i, _)| *i != id);
        match answer {
            Either::Left((Ok(result), _)) => result,
            Either::Left((Err(_), _)) => Err(ClientError::new(ErrorCode::Aborted, "closed")),
            Either::Right(_) => Err(ClientError::new(ErrorCode::Timeout, "no acknowledgement")),
        }
    }

    /// Leaves the room and closes the connection (no reconnect).
    pub fn disconnect(&self) {
        self.handle.0.machine.borrow_mut().disconnect();
        pump(&self.handle.0);
    }

    /// The connection state.
    pub fn state(&self) -> RoomState {
        let shared = &self.handle.0;
        RoomState::of(shared.machine.borrow().state(), shared.joined.get())
    }
}

/// Calls every listener, with no borrow held (a listener may add one).
fn emit(shared: &Shared, event: RoomEvent) {
    let listeners = shared.listeners.borrow().clone();
    for listener in listeners {
        listener(&event);
    }
}

/// Carries out every pending action of the machine, then re-arms its timer.
fn pump(shared: &Rc<Shared>) {
    loop {
        let action = shared.machine.borrow_mut().poll_action();
        match action {
            None => break,
            Some(Action::OpenTransport) => open_transport(shared),
            Some(Action::CloseTransport) => drop(shared.transport.borrow_mut().take()),
            Some(Action::Send(frame)) => {
                if let Some(transport) = &*shared.transport.borrow() {
                    let _ = transport.socket.send_with_str(&frame);
                }
            }
            Some(Action::FetchToken {
                request,
                force_refresh,
            }) => fetch_token(shared, request, force_refresh),
            Some(Action::Notify(notice)) => on_notice(shared, notice),
        }
    }
    let deadline = shared.machine.borrow().next_timeout();
    let weak = Rc::downgrade(shared);
    let timer = deadline.map(|at| {
        crate::env::timer_at(&shared.client.inner.now, at, move || {
            feed(&weak, |m, now| m.on_timeout(now, js_sys::Math::random()))
        })
    });
    *shared.timer.borrow_mut() = timer;
}

fn on_notice(shared: &Rc<Shared>, notice: Notice) {
    match notice {
        Notice::State(state, reason) => {
            if state != ConnState::Connected {
                shared.joined.set(false);
            }
            if state == ConnState::Closed {
                // The waiting emits get ABORTED.
                drop(std::mem::take(&mut *shared.acks.borrow_mut()));
            }
            let state = RoomState::of(state, false);
            emit(shared, RoomEvent::State { state, reason });
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
            if name == "joined_room" && !shared.joined.replace(true) {
                let reason = name.clone();
                let state = RoomState::Joined;
                emit(shared, RoomEvent::State { state, reason });
            }
            emit(shared, RoomEvent::from_server(name, array.get(1)));
        }
        Notice::Ack(id, data) => {
            let value = data
                .and_then(|d| js_sys::JSON::parse(&d).ok())
                .map(|a| js_sys::Array::from(&a).get(0))
                .unwrap_or(JsValue::UNDEFINED);
            let position = shared.acks.borrow().iter().position(|(i, _)| *i == id);
            if let Some(position) = position {
                let (_, sender) = shared.acks.borrow_mut().remove(position);
                let _ = sender.send(Ok(value));
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
        let Ok(token) = client.get_valid_token().await else {
            return;
        };
        let Some(shared) = weak.upgrade() else { return };
        let options = &shared.options;
        let payload = js_sys::Object::new();
        for (key, value) in [
            ("room_id", &options.room_id),
            ("session_id", &options.session_id),
            ("user_id", &options.user_id),
            ("role", &options.role),
            ("token", &token),
        ] {
            let _ = js_sys::Reflect::set(&payload, &key.into(), &value.into());
        }
        let args = js_sys::JSON::stringify(&payload)
            .ok()
            .and_then(|s| s.as_string());
        let args = args.unwrap_or_default();
        shared.machine.borrow_mut().emit("join_room", &args, None);
        pump(&shared);
    });
}

fn fetch_token(shared: &Rc<Shared>, request: u64, force_refresh: bool) {
    let weak = Rc::downgrade(shared);
    let client = shared.client.clone();
    crate::env::spawn(async move {
        let token = match force_refresh {
            true => client.refresh_auth_token().await,
            false => client.get_valid_token().await,
        };
        let result = match token {
            Ok(token) => TokenResult::Token(token),
            Err(error) => TokenResult::for_error(error.code),
        };
        feed(&weak, |m, now| {
            m.on_token(request, result, now, js_sys::Math::random())
        });
    });
}

fn feed(weak: &Weak<Shared>, input: impl FnOnce(&mut SocketConnection, i64)) {
    if let Some(shared) = weak.upgrade() {
        let now = shared.client.inner.now_ms();
        input(&mut shared.machine.borrow_mut(), now);
        pump(&shared);
    }
}

fn open_transport(shared: &Rc<Shared>) {
    let base = shared.options.url.as_deref();
    let base = base.unwrap_or(&shared.client.inner.base_url);
    let weak = Rc::downgrade(shared);
    let Ok(socket) = web_sys::WebSocket::new(&websocket_url(base)) else {
        let closed = move || {
            feed(&weak, |m, now| {
                m.on_transport_closed(now, js_sys::Math::random())
            })
        };
        crate::env::spawn(async move { closed() });
        return;
    };
    let handler = |f: fn(&mut SocketConnection, i64, &web_sys::MessageEvent)| {
        let weak = weak.clone();
        Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |event: web_sys::MessageEvent| {
            feed(&weak, |m, now| f(m, now, &event))
        })
    };
    let handlers = [
        handler(|m, now, _| m.on_transport_open(now)),
        handler(|m, now, event| m.on_frame(&event.data().as_string().unwrap_or_default(), now)),
        handler(|m, now, _| m.on_transport_closed(now, js_sys::Math::random())),
    ];
    socket.set_onopen(Some(handlers[0].as_ref().unchecked_ref()));
    socket.set_onmessage(Some(handlers[1].as_ref().unchecked_ref()));
    socket.set_onclose(Some(handlers[2].as_ref().unchecked_ref()));
    *shared.transport.borrow_mut() = Some(Transport {
        socket,
        _handlers: handlers,
    });
}
