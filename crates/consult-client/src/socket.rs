//! The video session over Socket.IO: a WebSocket executor of consult-core's
//! [`SocketConnection`]. The machine decides everything (the token for each CONNECT and each
//! `join_room`, the room state, acknowledgements and their deadlines); this file opens the
//! WebSocket, asks the client for tokens, runs the timer and calls the listeners.

use std::cell::{Cell, RefCell};
use std::rc::{Rc, Weak};

use consult_core::ErrorCode;
use consult_core::connection::{
    Action, ConnectionConfig, Input, Notice, RoomJoin, SocketConnection, TokenResult,
};
use consult_core::engineio::websocket_url;
use futures::channel::oneshot;
use serde::Serialize;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;

use crate::error::{InvalidOptions, check};
use crate::pump::Pump;
use crate::room_event::{RoomEvent, RoomState};
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
    /// Reconnection settings (its `room` is set from the fields above; the numbers are bounded
    /// as core bounds them: at most 1,000 attempts, delays up to an hour).
    pub reconnection: ConnectionConfig,
}

/// A listener of room events.
pub type SessionListener = Rc<dyn Fn(&RoomEvent)>;

type EmitResult = Result<Option<serde_json::Value>, ClientError>;

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
    url: String,
    machine: Pump<SocketConnection>,
    transport: RefCell<Option<Transport>>,
    timer: RefCell<Option<gloo_timers::callback::Timeout>>,
    listeners: RefCell<Vec<SessionListener>>,
    emits: RefCell<Vec<(u64, oneshot::Sender<EmitResult>)>>,
    next_emit: Cell<u64>,
}

/// Disconnects (DISCONNECT frame, `closed` state) when the last [`VideoSession`] clone goes.
struct Handle(Rc<Shared>);

impl Drop for Handle {
    fn drop(&mut self) {
        feed_shared(&self.0, |m, now| m.handle(now, Input::Disconnect));
    }
}

/// A live video session. Cheap to clone; dropping the last clone disconnects.
#[derive(Clone)]
pub struct VideoSession {
    handle: Rc<Handle>,
}

/// The connection's configuration: the numbers settled by core
/// ([`ConnectionConfig::from_options`]: defaults, bounds), as the JavaScript driver's are.
pub(crate) fn connection_config(given: ConnectionConfig, room: RoomJoin) -> ConnectionConfig {
    let number = |n: u64| Some(n as f64);
    ConnectionConfig {
        room: Some(room),
        connect_timeout_ms: given.connect_timeout_ms,
        ..ConnectionConfig::from_options(
            Some(given.namespace),
            Some(f64::from(given.reconnect_attempts)),
            number(given.reconnect_delay_ms),
            number(given.reconnect_max_delay_ms),
        )
    }
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
        let room = RoomJoin {
            room_id: options.room_id,
            session_id: options.session_id,
            user_id: options.user_id,
            role: options.role,
        };
        let config = connection_config(options.reconnection, room);
        let seed = crate::env::seed();
        let shared = Rc::new(Shared {
            client: self.clone(),
            url: options.url.unwrap_or_else(|| self.inner.base_url.clone()),
            machine: Pump::new(SocketConnection::new(config, seed)),
            next_emit: Cell::new(1),
            transport: RefCell::new(None),
            timer: RefCell::new(None),
            listeners: RefCell::new(Vec::new()),
            emits: RefCell::new(Vec::new()),
        });
        let now = crate::env::mono_ms();
        shared.machine.machine_mut().handle(now, Input::Start);
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

    /// Sends an event with `data` as its argument. With `ack_timeout_ms`, waits for the
    /// server's acknowledgement and returns its first argument; without, returns `None` once
    /// sent. Errors: `NETWORK` (not connected), `TIMEOUT`, `ABORTED` (connection lost or
    /// closed first), `BAD_RESPONSE` (`data` does not serialise).
    pub async fn emit(
        &self,
        event: &str,
        data: &impl Serialize,
        ack_timeout_ms: Option<u32>,
    ) -> EmitResult {
        let shared = &self.handle.0;
        let args = serde_json::to_string(data)
            .map_err(|_| ClientError::new(ErrorCode::BadResponse, "data is not JSON"))?;
        let (sender, receiver) = oneshot::channel();
        let id = shared
            .next_emit
            .replace(shared.next_emit.get().wrapping_add(1));
        shared.emits.borrow_mut().push((id, sender));
        let emit = Input::Emit {
            id,
            name: event.to_owned(),
            args_json: args,
            ack_timeout_ms: ack_timeout_ms.map(u64::from),
        };
        feed_shared(shared, move |m, now| m.handle(now, emit));
        receiver
            .await
            .unwrap_or_else(|_| Err(ClientError::new(ErrorCode::Aborted, "session dropped")))
    }

    /// Leaves the room and closes the connection (no reconnect).
    pub fn disconnect(&self) {
        feed(&Rc::downgrade(&self.handle.0), |m, now| {
            m.handle(now, Input::Disconnect)
        });
    }

    /// The connection state.
    pub fn state(&self) -> RoomState {
        self.handle.0.machine.machine().state()
    }
}

/// Calls every listener, with no borrow held (a listener may add one).
fn emit(shared: &Shared, event: RoomEvent) {
    let listeners = shared.listeners.borrow().clone();
    for listener in listeners {
        listener(&event);
    }
}

/// Carries out one action of the machine.
fn perform(shared: &Rc<Shared>, action: Action) {
    match action {
        Action::OpenTransport => open_transport(shared),
        Action::CloseTransport => drop(shared.transport.borrow_mut().take()),
        Action::Send(frame) => {
            if let Some(transport) = &*shared.transport.borrow() {
                let _ = transport.socket.send_with_str(&frame);
            }
        }
        Action::FetchToken {
            request,
            force_refresh,
        } => fetch_token(shared, request, force_refresh),
        Action::Notify(notice) => on_notice(shared, notice),
    }
}

fn on_notice(shared: &Rc<Shared>, notice: Notice) {
    match notice {
        Notice::State(state, reason) => emit(shared, RoomEvent::state(state, reason)),
        Notice::Event { name, array } => emit(shared, RoomEvent::from_server(&name, &array)),
        Notice::Emitted { id, result } => {
            let position = shared.emits.borrow().iter().position(|(i, _)| *i == id);
            let Some(position) = position else { return };
            let (_, sender) = shared.emits.borrow_mut().swap_remove(position);
            let result = match result {
                Ok(array) => Ok(array.and_then(first_argument)),
                Err(code) => Err(ClientError::new(code, "the emit failed")),
            };
            let _ = sender.send(result);
        }
        Notice::ProtocolError(_) => {}
    }
}

/// The first argument of an acknowledgement's JSON array.
fn first_argument(array: String) -> Option<serde_json::Value> {
    let items: Vec<serde_json::Value> = serde_json::from_str(&array).ok()?;
    items.into_iter().next()
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
        feed(&weak, move |m, now| {
            m.handle(now, Input::Token { request, result })
        });
    });
}

fn feed(weak: &Weak<Shared>, input: impl FnOnce(&mut SocketConnection, i64) + 'static) {
    if let Some(shared) = weak.upgrade() {
        feed_shared(&shared, input);
    }
}

/// Hands `input` to the machine through the pump (on the monotonic clock: the machine only keeps
/// deadlines); once every action is carried out, re-arms the timer.
fn feed_shared(shared: &Rc<Shared>, input: impl FnOnce(&mut SocketConnection, i64) + 'static) {
    let now = crate::env::mono_ms;
    if shared
        .machine
        .feed(input, now, |action| perform(shared, action))
    {
        arm_timer(shared);
    }
}

/// One timer, at the machine's next deadline (not generic: its closure is one type).
fn arm_timer(shared: &Rc<Shared>) {
    let deadline = shared.machine.machine().poll_timeout();
    let weak = Rc::downgrade(shared);
    let timer = deadline.map(|at| {
        crate::env::mono_timer_at(at, move || feed(&weak, |m, now| m.handle_timeout(now)))
    });
    *shared.timer.borrow_mut() = timer;
}

fn open_transport(shared: &Rc<Shared>) {
    let weak = Rc::downgrade(shared);
    let Ok(socket) = web_sys::WebSocket::new(&websocket_url(&shared.url)) else {
        let closed = move || feed(&weak, |m, now| m.handle(now, Input::TransportClosed));
        crate::env::spawn(async move { closed() });
        return;
    };
    let handler = |f: fn(&mut SocketConnection, i64, &web_sys::MessageEvent)| {
        let weak = weak.clone();
        Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |event: web_sys::MessageEvent| {
            let event = event.clone();
            feed(&weak, move |m, now| f(m, now, &event))
        })
    };
    let handlers = [
        handler(|m, now, _| m.handle(now, Input::TransportOpened)),
        handler(|m, now, event| {
            let frame = event.data().as_string().unwrap_or_default();
            m.handle(now, Input::Frame(frame))
        }),
        handler(|m, now, _| m.handle(now, Input::TransportClosed)),
    ];
    socket.set_onopen(Some(handlers[0].as_ref().unchecked_ref()));
    socket.set_onmessage(Some(handlers[1].as_ref().unchecked_ref()));
    socket.set_onclose(Some(handlers[2].as_ref().unchecked_ref()));
    *shared.transport.borrow_mut() = Some(Transport {
        socket,
        _handlers: handlers,
    });
}
