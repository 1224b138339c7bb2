//! Trace equality, the host side: the scenarios of `tests/data/traces.json` run through core's
//! token session by a reference executor that only maps actions to I/O (and I/O completions to
//! inputs), recording what it does. The recorded trace must be the file's; both drivers'
//! executors, run in Chromium over the same scripted world (`tests/support/trace-world.js`),
//! must record it too (consult-client's `tests/trace_equality.rs`, the npm package's
//! `tests/package/trace-equality.test.js`): a driver that decided anything itself would differ.
//!
//! `TRACE_PRINT=1` prints the traces core records, as the file's `trace` arrays.

use std::collections::{HashMap, VecDeque};

use consult_core::ErrorCode;
use consult_core::authorised;
use consult_core::base64url;
use consult_core::connection::{
    Action as SocketAction, ConnectionConfig, Input as SocketInput, Notice, RoomJoin,
    SocketConnection, TokenResult,
};
use consult_core::engineio;
use consult_core::json::Json;
use consult_core::poll;
use consult_core::poll_machine::{PollInput, PollMachine, PollOutput};
use consult_core::session::{
    Action, CallId, Grant, Input, Now, OpId, SessionConfig, SessionError, SessionEvent,
    TokenSession, TransportFailure,
};
use consult_core::wire::{self, TabMessage};

const WALL0: i64 = 1_750_000_000_000;
const MONO0: i64 = 1_000;
/// The client's base URL (nothing is sent: the world answers).
const BASE_URL: &str = "http://127.0.0.1:9";
/// The longest wait `setTimeout` keeps (ms).
const SET_TIMEOUT_MAX: i64 = 2_147_483_647;
/// The drivers' seed when `Math.random()` answers 0.5 (the world fixes it): `(r * 2^52)` as bits.
fn seed() -> u64 {
    (0.5 * 2f64.powi(52)).to_bits()
}

/// A token of the file: `e30.` + base64url of `{"exp":E,"iat":I,"jti":"NAME"}` + `.s`.
fn token_text(name: &str, spec: &Json) -> String {
    let number = |key: &str| spec.get(key).and_then(Json::as_f64).unwrap_or(0.0) as i64;
    let iat = WALL0 / 1000 + number("iat_s");
    let exp = iat + number("ttl_s");
    let payload = format!(r#"{{"exp":{exp},"iat":{iat},"jti":"{name}"}}"#);
    format!("e30.{}.s", base64url::encode(payload.as_bytes()))
}

/// What an app call answers with.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Done,
    Token,
}

/// An authorised request: for app call `n` (`None`: the poller's), its path, `If-None-Match`.
struct Request {
    app: Option<u32>,
    path: String,
    if_none_match: Option<String>,
}

/// Who is waiting for a machine call.
enum Waiter {
    App(u32, Kind),
    /// An authorised request waiting for its token (`bool`: for the replay).
    Authorised(Request, bool),
    /// The video session's token request.
    Socket(u64),
}

/// Who is waiting for a fetch.
enum Pending {
    Refresh(OpId),
    Logout,
    /// The request, the token it carries, whether it is the replay.
    Authorised(Request, String, bool),
}

struct Executor {
    session: TokenSession,
    poller: Option<PollMachine>,
    /// The body of the poll answer last fed (for an update).
    poll_body: String,
    socket: Option<SocketConnection>,
    /// Lock requests not yet granted, oldest first, and the ones held.
    lock_requests: VecDeque<OpId>,
    locks_held: Vec<OpId>,
    /// Token answers for the video session, fed after the current actions.
    socket_tokens: VecDeque<(u64, TokenResult)>,
    /// Whether the video session's WebSocket is open (not closed by either side).
    socket_open: bool,
    now: Now,
    names: HashMap<String, String>,
    storage_fails: bool,
    stored: (Option<String>, Option<String>),
    next_call: CallId,
    next_app: u32,
    waiters: Vec<(CallId, Waiter)>,
    fetches: VecDeque<Pending>,
    completions: VecDeque<Input>,
    step: Vec<String>,
    timer: Option<i64>,
}

fn code(error: &SessionError) -> &'static str {
    error.code.as_str()
}

impl Executor {
    fn name(&self, token: &str) -> String {
        self.names
            .iter()
            .find(|(_, text)| *text == token)
            .map_or_else(|| "?".to_owned(), |(name, _)| name.clone())
    }

    fn record(&mut self, entry: String) {
        self.step.push(entry);
    }

    fn feed(&mut self, input: Input) {
        self.session.handle(self.now, input);
        self.drain();
    }

    fn feed_poll(&mut self, input: PollInput) {
        if let Some(poller) = &mut self.poller {
            poller.handle(self.now.mono_ms, input);
        }
        self.drain();
    }

    /// Performs every action, then the completions they caused (the drivers' microtasks).
    fn drain(&mut self) {
        // Bounded: machines that never go quiet fail the scenario instead of hanging it.
        for _ in 0..100_000 {
            while let Some(action) = self.session.poll_action() {
                self.perform(action);
            }
            if let Some(output) = self.poller.as_mut().and_then(PollMachine::poll_action) {
                self.perform_poll(output);
                continue;
            }
            if let Some(action) = self.socket.as_mut().and_then(SocketConnection::poll_action) {
                self.perform_socket(action);
                continue;
            }
            if let Some((request, result)) = self.socket_tokens.pop_front() {
                if let Some(socket) = &mut self.socket {
                    socket.handle(self.now.mono_ms, SocketInput::Token { request, result });
                }
                continue;
            }
            match self.completions.pop_front() {
                Some(input) => self.session.handle(self.now, input),
                None => return,
            }
        }
        panic!("the machines never went quiet (100,000 steps)");
    }

    fn call(&mut self, make: impl FnOnce(CallId) -> Input, waiter: Waiter) {
        self.next_call += 1;
        let call = self.next_call;
        self.waiters.push((call, waiter));
        self.feed(make(call));
    }

    fn feed_socket(&mut self, input: SocketInput) {
        if let Some(socket) = &mut self.socket {
            socket.handle(self.now.mono_ms, input);
        }
        self.drain();
    }

    /// A text with every token of the file replaced by its name.
    fn named(&self, text: &str) -> String {
        self.names
            .iter()
            .fold(text.to_owned(), |text, (name, token)| {
                text.replace(token, name)
            })
    }

    fn perform_socket(&mut self, action: SocketAction) {
        match action {
            SocketAction::OpenTransport => {
                self.record(format!("ws open {}", engineio::websocket_url(BASE_URL)));
                self.socket_open = true;
            }
            SocketAction::CloseTransport => {
                if std::mem::take(&mut self.socket_open) {
                    self.record("ws close".to_owned());
                }
            }
            SocketAction::Send(frame) => {
                let entry = format!("ws send {}", self.named(&frame));
                self.record(entry);
            }
            SocketAction::FetchToken {
                request,
                force_refresh: true,
            } => self.call(|call| Input::ForceRefresh { call }, Waiter::Socket(request)),
            SocketAction::FetchToken { request, .. } => match self.leased() {
                Some(token) => self.completions_socket(request, TokenResult::Token(token)),
                None => self.call(|call| Input::GetToken { call }, Waiter::Socket(request)),
            },
            SocketAction::Notify(Notice::State(state, reason)) => {
                self.record(format!("room state {} {reason}", state.as_str()));
            }
            SocketAction::Notify(Notice::Event { name, .. }) => {
                self.record(format!("room {name}"));
            }
            SocketAction::Notify(_) => {}
        }
    }

    /// A token for the video session, fed once the current actions are done (the drivers
    /// answer it in a promise).
    fn completions_socket(&mut self, request: u64, result: TokenResult) {
        self.socket_tokens.push_back((request, result));
    }

    /// A cross-tab message as the world records a post: its fields sorted, tokens by name.
    fn post(&mut self, message: TabMessage) {
        let mut fields: Vec<(&str, String)> = message
            .fields()
            .into_iter()
            .map(|(name, value)| (name, self.named(value)))
            .collect();
        fields.sort();
        let fields: Vec<String> = fields
            .iter()
            .map(|(name, value)| format!("{name:?}:{value:?}"))
            .collect();
        self.record(format!("tab post {{{}}}", fields.join(",")));
    }

    /// Another tab's message (its tokens by name), as the channel delivers it.
    fn tab_message(&mut self, message: &Json) {
        let field = |name: &str| {
            let value = text(message, name)?;
            Some(
                self.names
                    .get(value)
                    .cloned()
                    .unwrap_or_else(|| value.to_owned()),
            )
        };
        match TabMessage::read(field) {
            Some(message) => self.feed(message.into_input()),
            None => self.record("! not a tab message".to_owned()),
        }
    }

    fn perform_poll(&mut self, output: PollOutput) {
        match output {
            PollOutput::Fetch { if_none_match } => {
                let path = format!("{}s1", wire::SESSIONS_PATH);
                self.authorised(Request {
                    app: None,
                    path,
                    if_none_match,
                });
            }
            PollOutput::Abort => {}
            PollOutput::Update => {
                let status = authorised::session_status(&self.poll_body).unwrap_or_default();
                self.record(format!("poll update {status}"));
            }
            PollOutput::Error(error) => self.record(format!("poll error {}", code(&error))),
            PollOutput::End(end) => self.record(format!("poll end {}", end.as_str())),
        }
    }

    /// The machine's lease: its token while `fresh_until` and `fresh_until_mono` are ahead on
    /// their clocks (no call needed).
    fn leased(&self) -> Option<String> {
        let until = self.session.fresh_until()?;
        let until_mono = self.session.fresh_until_mono()?;
        (self.now.wall_ms < until && self.now.mono_ms < until_mono)
            .then(|| {
                self.session
                    .view(self.now.wall_ms)
                    .map(|v| v.token.to_owned())
            })
            .flatten()
    }

    /// A token for an authorised request: the lease, or a `GetToken` call.
    fn authorised(&mut self, request: Request) {
        match self.leased() {
            Some(token) => self.send_authorised(request, token, false),
            None => self.call(
                |call| Input::GetToken { call },
                Waiter::Authorised(request, false),
            ),
        }
    }

    fn send_authorised(&mut self, request: Request, token: String, replayed: bool) {
        let mut entry = format!("fetch {} {} {}", wire::GET, request.path, self.name(&token));
        if let Some(tag) = &request.if_none_match {
            entry.push_str(" inm ");
            entry.push_str(tag);
        }
        self.record(entry);
        self.fetches
            .push_back(Pending::Authorised(request, token, replayed));
    }

    /// How an authorised request ended: its answer, or the error that ended it.
    fn authorised_done(&mut self, request: Request, outcome: Result<(u16, &Json), SessionError>) {
        match (request.app, outcome) {
            (Some(n), Ok((status, _))) => self.record(format!("call {n} status {status}")),
            (Some(n), Err(error)) => self.record(format!("call {n} !{}", code(&error))),
            (None, Ok((status, answer))) => {
                self.poll_body = text(answer, "body").unwrap_or_default().to_owned();
                self.feed_poll(PollInput::Answered {
                    status,
                    etag: text(answer, "etag").map(str::to_owned),
                    body: Some(self.poll_body.clone()),
                    retry_after: text(answer, "retry_after").map(str::to_owned),
                });
            }
            (None, Err(error)) => self.feed_poll(PollInput::Failed(error)),
        }
    }

    fn perform(&mut self, action: Action) {
        match action {
            Action::ReadStorage { op } => {
                self.record("storage read".to_owned());
                let (token, expires_at) = self.stored.clone();
                self.completions.push_back(if self.storage_fails {
                    Input::StorageDone { op, ok: false }
                } else {
                    Input::StorageRead {
                        op,
                        token,
                        expires_at,
                    }
                });
            }
            Action::WriteStorage {
                op,
                token,
                expires_at,
            } => {
                let entry = format!("storage write {}", self.name(&token));
                self.record(entry);
                if !self.storage_fails {
                    self.stored = (Some(token), Some(expires_at));
                }
                let ok = !self.storage_fails;
                self.completions.push_back(Input::StorageDone { op, ok });
            }
            Action::ClearStorage { op } => {
                self.record("storage clear".to_owned());
                if !self.storage_fails {
                    self.stored = (None, None);
                }
                let ok = !self.storage_fails;
                self.completions.push_back(Input::StorageDone { op, ok });
            }
            Action::AcquireLock { op } => {
                self.record(format!("lock request {}", wire::lock_name(wire::TOKEN_KEY)));
                self.lock_requests.push_back(op);
            }
            Action::ReleaseLock { op } => {
                self.lock_requests.retain(|o| *o != op);
                if let Some(index) = self.locks_held.iter().position(|o| *o == op) {
                    self.locks_held.remove(index);
                    self.record("lock release".to_owned());
                }
            }
            Action::AbortRefresh { .. } => {}
            Action::AnnounceToken {
                token,
                expires_at,
                replaces,
            } => self.post(TabMessage::Token {
                token,
                expires_at: Some(expires_at),
                replaces,
            }),
            Action::AnnounceSignOut { token } => {
                self.post(TabMessage::SignOut { token: Some(token) })
            }
            Action::SendRefresh { op, token } => {
                let entry = format!(
                    "fetch {} {} {}",
                    wire::POST,
                    wire::REFRESH_PATH,
                    self.name(&token)
                );
                self.record(entry);
                self.fetches.push_back(Pending::Refresh(op));
            }
            Action::SendLogout { token } => {
                let entry = format!(
                    "fetch {} {} {}",
                    wire::POST,
                    wire::LOGOUT_PATH,
                    self.name(&token)
                );
                self.record(entry);
                self.fetches.push_back(Pending::Logout);
            }
            Action::Resolve { call, result } => {
                let Some(index) = self.waiters.iter().position(|(c, _)| *c == call) else {
                    return;
                };
                let (_, waiter) = self.waiters.remove(index);
                match (waiter, result) {
                    (Waiter::App(n, Kind::Done), Ok(_)) => self.record(format!("call {n} ok")),
                    (Waiter::App(n, Kind::Token), Ok(token)) => {
                        let entry = format!("call {n} {}", self.name(&token));
                        self.record(entry);
                    }
                    (Waiter::App(n, _), Err(error)) => {
                        self.record(format!("call {n} !{}", code(&error)));
                    }
                    (Waiter::Authorised(request, _), Err(error)) => {
                        self.authorised_done(request, Err(error));
                    }
                    (Waiter::Authorised(request, replayed), Ok(token)) => {
                        self.send_authorised(request, token, replayed);
                    }
                    (Waiter::Socket(request), Ok(token)) => {
                        self.completions_socket(request, TokenResult::Token(token));
                    }
                    (Waiter::Socket(request), Err(error)) => {
                        let result = TokenResult::for_error(error.code);
                        self.completions_socket(request, result);
                    }
                }
            }
            Action::Emit(event) => {
                let entry = match event {
                    SessionEvent::TokenChanged => "event tokenChanged".to_owned(),
                    SessionEvent::TokenRefreshed => "event tokenRefreshed".to_owned(),
                    SessionEvent::RefreshFailed(e) => format!("event refreshFailed {}", code(&e)),
                    SessionEvent::SessionExpired(e) => format!("event sessionExpired {}", code(&e)),
                    SessionEvent::Warning(e) => format!("event warning {}", code(&e)),
                };
                self.record(entry);
            }
        }
    }

    fn answer(&mut self, answer: &Json) {
        let Some(pending) = self.fetches.pop_front() else {
            return self.record("! an answer with no fetch pending".to_owned());
        };
        let network = answer.as_str() == Some("network");
        let status = answer.get("status").and_then(Json::as_f64).unwrap_or(0.0) as u16;
        let body = match text(answer, "grant") {
            Some(grant) => format!(
                r#"{{"access_token":"{}","expires_in":{}}}"#,
                self.names.get(grant).cloned().unwrap_or_default(),
                answer
                    .get("expires_in")
                    .and_then(Json::as_f64)
                    .unwrap_or(0.0)
            ),
            None => text(answer, "body").unwrap_or_default().to_owned(),
        };
        match pending {
            Pending::Logout => {}
            Pending::Refresh(op) if network => self.feed(Input::RefreshFailed {
                op,
                failure: TransportFailure::Network,
            }),
            Pending::Refresh(op) => self.feed(Input::RefreshAnswered {
                op,
                status,
                body,
                date: None,
                retry_after: text(answer, "retry_after").map(str::to_owned),
            }),
            Pending::Authorised(request, _, _) if network => {
                let error = SessionError {
                    code: ErrorCode::Network,
                    status: None,
                };
                self.authorised_done(request, Err(error));
            }
            Pending::Authorised(request, token, replayed)
                if authorised::replays(status, replayed) =>
            {
                self.call(
                    |call| Input::TokenRefused { call, token },
                    Waiter::Authorised(request, true),
                );
            }
            Pending::Authorised(request, _, _) => {
                self.authorised_done(request, Ok((status, answer)))
            }
        }
    }

    /// What the server's side of the WebSocket did: opened, sent a frame, closed.
    fn websocket(&mut self, ws: &Json) {
        match (ws.as_str(), text(ws, "frame")) {
            (Some("open"), _) => self.feed_socket(SocketInput::TransportOpened),
            (Some("close"), _) => {
                self.socket_open = false;
                self.feed_socket(SocketInput::TransportClosed);
            }
            (_, Some(frame)) => self.feed_socket(SocketInput::Frame(frame.to_owned())),
            _ => self.record("! an unknown WebSocket step".to_owned()),
        }
    }

    fn app_call(&mut self, step: &Json) {
        if text(step, "call") == Some("connect") {
            // Not a call: the video session reports through its listeners.
            let room = RoomJoin {
                room_id: "r1".to_owned(),
                session_id: "s1".to_owned(),
                user_id: "u1".to_owned(),
                role: "PATIENT".to_owned(),
            };
            let config = ConnectionConfig {
                room: Some(room),
                ..ConnectionConfig::from_options(None, None, None, None)
            };
            let mut socket = SocketConnection::new(config, seed());
            socket.handle(self.now.mono_ms, SocketInput::Start);
            self.socket = Some(socket);
            return self.drain();
        }
        if text(step, "call") == Some("poll") {
            // Not a call: the poller reports through its own callbacks.
            let interval = step.get("interval_ms").and_then(Json::as_f64);
            self.poller = Some(PollMachine::new(poll::interval_ms(interval), seed()));
            return self.feed_poll(PollInput::Start { hidden: false });
        }
        self.next_app += 1;
        let n = self.next_app;
        match text(step, "call").unwrap_or_default() {
            "setSession" => {
                let grant = Grant {
                    access_token: self
                        .names
                        .get(text(step, "token").unwrap_or_default())
                        .cloned()
                        .unwrap_or_default(),
                    expires_at: None,
                    expires_in: step.get("expires_in").and_then(Json::as_f64),
                };
                self.call(
                    |call| Input::SetSession { call, grant },
                    Waiter::App(n, Kind::Done),
                );
            }
            "getValidToken" => match self.leased() {
                Some(token) => {
                    let entry = format!("call {n} {}", self.name(&token));
                    self.record(entry);
                }
                None => self.call(|call| Input::GetToken { call }, Waiter::App(n, Kind::Token)),
            },
            "refresh" => self.call(
                |call| Input::ForceRefresh { call },
                Waiter::App(n, Kind::Token),
            ),
            "signOut" => self.call(|call| Input::SignOut { call }, Waiter::App(n, Kind::Done)),
            "fetch" => self.authorised(Request {
                app: Some(n),
                path: text(step, "path").unwrap_or_default().to_owned(),
                if_none_match: None,
            }),
            other => panic!("unknown call {other}"),
        }
    }

    /// The machines' timers as the drivers arm them with `setTimeout` (which waits at most
    /// 2^31 - 1 ms): all three run on the monotonic clock.
    fn timers(&self) -> [Option<i64>; 3] {
        let mono = self.now.mono_ms;
        let armed = |at: Option<i64>| at.map(|at| mono + (at - mono).clamp(0, SET_TIMEOUT_MAX));
        [
            armed(self.session.poll_timeout()),
            armed(self.poller.as_ref().and_then(PollMachine::poll_timeout)),
            armed(
                self.socket
                    .as_ref()
                    .and_then(SocketConnection::poll_timeout),
            ),
        ]
    }

    /// The step's trace, sorted, with the earliest timer as armed after it.
    fn finish_step(&mut self) -> Vec<String> {
        let timer = self.timers().into_iter().flatten().min();
        if timer != self.timer {
            self.timer = timer;
            self.record(match timer {
                Some(at) => format!("timer +{}", at - MONO0),
                None => "timer none".to_owned(),
            });
        }
        let mut step = std::mem::take(&mut self.step);
        step.sort();
        step
    }
}

fn text<'a>(json: &'a Json, key: &str) -> Option<&'a str> {
    json.get(key).and_then(Json::as_str)
}

fn config(cross_tab: bool) -> SessionConfig {
    SessionConfig {
        cross_tab,
        auto_refresh: true,
        storage: true,
        ..SessionConfig::from_options(None, Some(0.0), None)
    }
}

/// Runs one scenario; the trace, one sorted list per step.
fn run(tokens: &Json, scenario: &Json) -> Vec<Vec<String>> {
    let Json::Object(specs) = tokens else {
        panic!("traces.json: tokens")
    };
    let names = specs
        .iter()
        .map(|(name, spec)| (name.clone(), token_text(name, spec)))
        .collect();
    let cross_tab = scenario.get("cross_tab") == Some(&Json::Bool(true));
    let mut executor = Executor {
        session: TokenSession::new(config(cross_tab), seed()),
        poller: None,
        poll_body: String::new(),
        socket: None,
        socket_open: false,
        socket_tokens: VecDeque::new(),
        lock_requests: VecDeque::new(),
        locks_held: Vec::new(),
        now: Now {
            wall_ms: WALL0,
            mono_ms: MONO0,
        },
        names,
        storage_fails: scenario.get("storage_fails") == Some(&Json::Bool(true)),
        stored: (None, None),
        next_call: 0,
        next_app: 0,
        waiters: Vec::new(),
        fetches: VecDeque::new(),
        completions: VecDeque::new(),
        step: Vec::new(),
        timer: None,
    };
    let Some(Json::Array(steps)) = scenario.get("steps") else {
        panic!("traces.json: steps")
    };
    let mut trace = Vec::new();
    for step in steps {
        let advance = step.get("advance_ms").and_then(Json::as_f64).unwrap_or(0.0) as i64;
        executor.now.wall_ms += advance;
        executor.now.mono_ms += advance;
        if step.get("call").is_some() {
            executor.app_call(step);
        } else if let Some(answer) = step.get("answer") {
            executor.answer(answer);
        } else if let Some(ws) = step.get("ws") {
            executor.websocket(ws);
        } else if let Some(message) = step.get("tab") {
            executor.tab_message(message);
        } else if step.get("lock").is_some() {
            match executor.lock_requests.pop_front() {
                Some(op) => {
                    executor.locks_held.push(op);
                    executor.feed(Input::LockGranted { op });
                }
                None => executor.record("! no lock request".to_owned()),
            }
        } else if step.get("fire").is_some() {
            let [session, poller, socket] = executor.timers();
            let Some(at) = [session, poller, socket].into_iter().flatten().min() else {
                trace.push(vec!["! no timer to fire".to_owned()]);
                continue;
            };
            let by = at - executor.now.mono_ms;
            executor.now.mono_ms = at;
            executor.now.wall_ms += by;
            executor.timer = None;
            if session == Some(at) {
                executor.session.handle_timeout(executor.now);
            } else if poller == Some(at) {
                if let Some(poller) = &mut executor.poller {
                    poller.handle_timeout(executor.now.mono_ms);
                }
            } else if let Some(socket) = &mut executor.socket {
                socket.handle_timeout(executor.now.mono_ms);
            }
            executor.drain();
        }
        trace.push(executor.finish_step());
    }
    trace
}

fn json_text(trace: &[Vec<String>]) -> String {
    let steps: Vec<String> = trace
        .iter()
        .map(|step| {
            let entries: Vec<String> = step.iter().map(|e| format!("{e:?}")).collect();
            format!("[{}]", entries.join(", "))
        })
        .collect();
    format!("[\n       {}]", steps.join(",\n       "))
}

#[test]
fn core_records_the_trace_of_every_scenario() {
    let file = Json::parse(include_str!("data/traces.json")).expect("traces.json is JSON");
    let tokens = file.get("tokens").expect("traces.json has tokens");
    let Some(Json::Array(scenarios)) = file.get("scenarios") else {
        panic!("traces.json has scenarios")
    };
    let print = std::env::var("TRACE_PRINT").is_ok_and(|v| v == "1");
    let mut failures = Vec::new();
    for scenario in scenarios {
        let name = text(scenario, "scenario").unwrap_or("?");
        let trace = run(tokens, scenario);
        if print {
            println!("{name}\n{}", json_text(&trace));
        }
        let expected: Vec<Vec<String>> = match scenario.get("trace") {
            Some(Json::Array(steps)) => steps
                .iter()
                .map(|step| match step {
                    Json::Array(entries) => entries
                        .iter()
                        .map(|e| e.as_str().unwrap_or_default().to_owned())
                        .collect(),
                    _ => Vec::new(),
                })
                .collect(),
            _ => Vec::new(),
        };
        for (index, got) in trace.iter().enumerate() {
            let wanted = expected.get(index);
            if wanted != Some(got) {
                failures.push(format!(
                    "{name}, step {}: expected {wanted:?}, core did {got:?}",
                    index + 1
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
