//! The JavaScript API (wasm-bindgen): `ConsultClient`, `SessionPoller`, and the seed's helpers
//! on a default client. Every failure reaches JS as a rejected promise or a thrown `Error` with a
//! stable `code`; nothing here can panic.

use std::cell::RefCell;
use std::rc::Rc;

use consult_core::ErrorCode;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::future_to_promise;

use crate::env::Now;
use crate::events::{ClientEvent, EventKind};
use crate::poller::{PollOptions, SessionPoller};
use crate::storage::{StorageKeys, StorageKind};
use crate::token::TokenSnapshot;
use crate::{
    ClientError, ClientOptions, ConnectionConfig, ConsultClient, VideoSession, VideoSessionOptions,
};

#[wasm_bindgen(typescript_custom_section)]
const TYPES: &'static str = r#"
/** Any object with the Web Storage methods; each may return a value or a promise. */
export interface StorageAdapter {
  getItem(key: string): string | null | undefined | Promise<string | null | undefined>;
  setItem(key: string, value: string): void | Promise<void>;
  removeItem(key: string): void | Promise<void>;
}
export type StorageOption = "local" | "session" | "memory" | StorageAdapter;
export interface StorageKeys { token?: string; expiresAt?: string }
export interface ConsultClientOptions {
  /** Server base URL, e.g. "http://127.0.0.1:8086". */
  baseUrl: string;
  /** Default "local" ("memory" where there is no window). */
  storage?: StorageOption;
  /** Default { token: "authToken", expiresAt: "tokenExpiresAt" } (the seed's keys). */
  storageKeys?: StorageKeys;
  /** Refresh this long before expiry, at most half the token lifetime. Default 300. */
  refreshMarginSeconds?: number;
  /** Default 10000. */
  requestTimeoutMs?: number;
  /** Coordinate refreshes across tabs (Web Lock + BroadcastChannel). Default true. */
  crossTab?: boolean;
  /** Refresh in the background before expiry. Default true. */
  autoRefresh?: boolean;
  /** Retries after transient refresh failures. Default 3. */
  refreshRetries?: number;
  /** Clock in Unix ms (default Date.now), for tests and simulations. */
  now?: () => number;
}
export interface ConsultUser { user_id: string; email: string; role: string; name: string }
/** The refresh endpoint's answer (also what sign-in returns). */
export interface RefreshResponse {
  access_token: string;
  token_type?: string;
  expires_at?: string | number;
  expires_in?: number;
  user?: ConsultUser;
}
export interface TokenInfo {
  token: string;
  /** exp, server time, Unix ms. */
  expiresAt: number;
  /** Milliseconds left, corrected for clock skew. */
  expiresInMs: number;
  issuedAt: number | null;
  /** Server clock minus device clock, ms. */
  skewMs: number;
  refreshCount: number;
  lastRefreshAt: number | null;
}
export type ConsultErrorCode = "NO_TOKEN" | "REFRESH_REJECTED" | "NETWORK" | "TIMEOUT" | "HTTP" | "BAD_RESPONSE" | "STORAGE" | "ABORTED";
export interface ConsultError extends Error { name: "ConsultError"; code: ConsultErrorCode; status?: number; retryable: boolean }
export interface ConsultEventMap {
  tokenRefreshed: TokenInfo;
  refreshFailed: ConsultError;
  sessionExpired: ConsultError;
  tokenChanged: TokenInfo | null;
  warning: ConsultError;
}
export type ConsultEventName = keyof ConsultEventMap;
export type SessionStatusName = "scheduled" | "waiting" | "active" | "ended" | "cancelled";
/** A consultation session as GET /api/video/sessions/{id} returns it. */
export interface SessionDetails {
  session_id: string;
  room_id: string;
  status: SessionStatusName;
  participants: string[];
  version: number;
  created_at: string;
  updated_at: string;
}
export type PollEndReason = "ended" | "cancelled" | "sessionExpired" | "notFound" | "forbidden" | "stopped";
export interface PollOptions {
  /** Between the end of one poll and the start of the next. Default 5000. */
  intervalMs?: number;
  onUpdate: (session: SessionDetails) => void;
  onError?: (error: ConsultError) => void;
  onEnd?: (reason: PollEndReason) => void;
}
export type VideoSessionState = "connecting" | "connected" | "joined" | "reconnecting" | "refreshing" | "closed";
export interface VideoSessionOptions {
  /** Socket.IO server; default the client's baseUrl. */
  url?: string;
  sessionId: string;
  roomId: string;
  userId: string;
  role: string;
  /** Default "/". */
  namespace?: string;
  /** Defaults: 5 attempts in a row, 1000 ms doubling, at most 5000 ms (± 50 % jitter). */
  reconnection?: { attempts?: number; delayMs?: number; maxDelayMs?: number };
}
export interface Participant { user_id: string; role: string; name: string }
export interface VideoSessionEventMap {
  joined_room: { room_id: string; session_id: string; user_id: string; role: string; participants: Participant[] };
  participant_joined: { room_id: string; user_id: string; role: string; name: string };
  participant_left: { room_id: string; user_id: string; role: string; name: string };
  session_status: { session_id: string; room_id: string; status: SessionStatusName; version: number; updated_at: string };
  error: { code: string; message: string };
  state: { state: VideoSessionState; reason: string };
}
export interface VideoSession {
  on<K extends keyof VideoSessionEventMap>(event: K, listener: (payload: VideoSessionEventMap[K]) => void): void;
  /** Sends an event; with ackTimeoutMs, resolves with the server's acknowledgement. */
  emit(event: string, data?: unknown, ackTimeoutMs?: number): Promise<unknown>;
}
export interface ConsultClient {
  /** `fetch(baseUrl + path, init)` with the token; one refresh and one replay after a 401. */
  fetch(path: string, init?: RequestInit): Promise<Response>;
  /** Subscribes to an event; returns the function that unsubscribes. */
  on<K extends ConsultEventName>(event: K, listener: (payload: ConsultEventMap[K]) => void): () => void;
}
"#;

fn type_error(message: &str) -> JsValue {
    js_sys::TypeError::new(message).into()
}

fn get(object: &JsValue, key: &str) -> JsValue {
    js_sys::Reflect::get(object, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}

fn options_from_js(options: &JsValue) -> Result<ClientOptions, JsValue> {
    let base_url = get(options, "baseUrl")
        .as_string()
        .ok_or_else(|| type_error("options.baseUrl must be a string"))?;
    let mut parsed = ClientOptions::new(base_url);
    let storage = get(options, "storage");
    parsed.storage = match storage.as_string().as_deref() {
        None if storage.is_undefined() => StorageKind::Local,
        None if storage.is_object() => StorageKind::Custom(storage),
        Some("local") => StorageKind::Local,
        Some("session") => StorageKind::Session,
        Some("memory") => StorageKind::Memory,
        _ => {
            return Err(type_error(
                "options.storage must be \"local\", \"session\", \"memory\" or a storage adapter",
            ));
        }
    };
    let keys = get(options, "storageKeys");
    if keys.is_object() {
        let defaults = StorageKeys::default();
        parsed.storage_keys = StorageKeys {
            token: get(&keys, "token").as_string().unwrap_or(defaults.token),
            expires_at: get(&keys, "expiresAt")
                .as_string()
                .unwrap_or(defaults.expires_at),
        };
    }
    if let Some(margin) = get(options, "refreshMarginSeconds").as_f64() {
        parsed.refresh_margin_seconds = margin;
    }
    if let Some(timeout) = get(options, "requestTimeoutMs").as_f64() {
        parsed.request_timeout_ms = timeout.clamp(0.0, 2_147_483_647.0) as u32;
    }
    if let Some(retries) = get(options, "refreshRetries").as_f64() {
        parsed.refresh_retries = retries.clamp(0.0, 20.0) as u32;
    }
    if let Some(cross_tab) = get(options, "crossTab").as_bool() {
        parsed.cross_tab = cross_tab;
    }
    if let Some(auto) = get(options, "autoRefresh").as_bool() {
        parsed.auto_refresh = auto;
    }
    if let Ok(now) = get(options, "now").dyn_into::<js_sys::Function>() {
        let now: Now = Rc::new(move || {
            now.call0(&JsValue::UNDEFINED)
                .ok()
                .and_then(|v| v.as_f64())
                .unwrap_or_else(js_sys::Date::now)
        });
        parsed.now = Some(now);
    }
    Ok(parsed)
}

fn snapshot_to_js(snapshot: &TokenSnapshot, now_ms: f64) -> JsValue {
    let object = js_sys::Object::new();
    let set = |key: &str, value: JsValue| {
        let _ = js_sys::Reflect::set(&object, &JsValue::from_str(key), &value);
    };
    let optional = |v: Option<i64>| {
        v.map(|n| JsValue::from_f64(n as f64))
            .unwrap_or(JsValue::NULL)
    };
    set("token", JsValue::from_str(&snapshot.token));
    set(
        "expiresAt",
        JsValue::from_f64(snapshot.expires_at_ms as f64),
    );
    set(
        "expiresInMs",
        JsValue::from_f64(snapshot.expires_at_ms as f64 - (now_ms + snapshot.skew_ms as f64)),
    );
    set("issuedAt", optional(snapshot.issued_at_ms));
    set("skewMs", JsValue::from_f64(snapshot.skew_ms as f64));
    set("refreshCount", JsValue::from(snapshot.refresh_count));
    set("lastRefreshAt", optional(snapshot.last_refresh_at_ms));
    object.into()
}

type Boxed = std::pin::Pin<Box<dyn std::future::Future<Output = Result<JsValue, ClientError>>>>;

/// One `future_to_promise` instantiation for every method (each costs wasm bytes).
fn promise_of(future: Boxed) -> js_sys::Promise {
    future_to_promise(async move { future.await.map_err(|e| e.to_js()) })
}

fn promise<F>(future: F) -> js_sys::Promise
where
    F: std::future::Future<Output = Result<JsValue, ClientError>> + 'static,
{
    promise_of(Box::pin(future))
}

/// The consult client for JavaScript. See the package README.
#[wasm_bindgen(js_name = ConsultClient)]
pub struct JsConsultClient {
    client: ConsultClient,
    /// The current token as a JS string, so the hot path does not re-encode it per call.
    token_js: RefCell<Option<(String, JsValue)>>,
}

#[wasm_bindgen(js_class = ConsultClient)]
impl JsConsultClient {
    /// Creates a client; nothing is read or sent until the first call.
    #[wasm_bindgen(constructor)]
    pub fn new(
        #[wasm_bindgen(unchecked_param_type = "ConsultClientOptions")] options: JsValue,
    ) -> Result<JsConsultClient, JsValue> {
        Ok(JsConsultClient {
            client: ConsultClient::new(options_from_js(&options)?),
            token_js: RefCell::new(None),
        })
    }

    /// Stores the session returned by sign-in or refresh.
    #[wasm_bindgen(js_name = setSession, unchecked_return_type = "Promise<void>")]
    pub fn set_session(
        &self,
        #[wasm_bindgen(unchecked_param_type = "RefreshResponse")] response: JsValue,
    ) -> js_sys::Promise {
        let client = self.client.clone();
        promise(async move {
            let token = get(&response, "access_token").as_string().ok_or_else(|| {
                ClientError::new(
                    ErrorCode::BadResponse,
                    "setSession needs an object with access_token",
                )
            })?;
            let expires_at = crate::token::expires_at_text(&get(&response, "expires_at"));
            let grant = crate::SessionGrant {
                access_token: token,
                expires_at,
                expires_in: get(&response, "expires_in").as_f64(),
            };
            client.set_session(&grant).await?;
            Ok(JsValue::UNDEFINED)
        })
    }

    /// A token valid for at least the refresh margin (refreshing first if needed).
    #[wasm_bindgen(js_name = getValidToken, unchecked_return_type = "Promise<string>")]
    pub fn get_valid_token(&self) -> js_sys::Promise {
        // Hot path: a loaded token that is not due resolves at once, with no task or future.
        let cached = self.client.inner.with_usable_token(|token| {
            let mut cache = self.token_js.borrow_mut();
            match &*cache {
                Some((text, value)) if text == token => value.clone(),
                _ => {
                    let value = JsValue::from_str(token);
                    *cache = Some((token.to_owned(), value.clone()));
                    value
                }
            }
        });
        if let Some(token) = cached {
            return js_sys::Promise::resolve(&token);
        }
        let client = self.client.clone();
        promise(async move {
            client
                .get_valid_token()
                .await
                .map(|t| JsValue::from_str(&t))
        })
    }

    /// Refreshes now (single-flight).
    #[wasm_bindgen(js_name = refreshAuthToken, unchecked_return_type = "Promise<string>")]
    pub fn refresh_auth_token(&self) -> js_sys::Promise {
        let client = self.client.clone();
        promise(async move {
            client
                .refresh_auth_token()
                .await
                .map(|t| JsValue::from_str(&t))
        })
    }

    /// `fetch(baseUrl + path, init)` with the token; one refresh and replay after a 401.
    /// (Typed in the `ConsultClient` interface of the custom section: `init` is optional.)
    #[wasm_bindgen(skip_typescript)]
    pub fn fetch(&self, path: String, init: Option<JsValue>) -> js_sys::Promise {
        let client = self.client.clone();
        let init: Option<web_sys::RequestInit> =
            init.filter(JsValue::is_object).map(JsCast::unchecked_into);
        promise(async move { client.fetch(&path, init).await.map(JsValue::from) })
    }

    /// `GET /api/video/sessions/{id}`.
    #[wasm_bindgen(js_name = getSessionDetails, unchecked_return_type = "Promise<SessionDetails>")]
    pub fn get_session_details(&self, session_id: String) -> js_sys::Promise {
        let client = self.client.clone();
        promise(async move { client.get_session_details(&session_id).await })
    }

    /// Polls the session until it ends or `stop()`.
    #[wasm_bindgen(js_name = pollSession)]
    pub fn poll_session(
        &self,
        session_id: String,
        #[wasm_bindgen(unchecked_param_type = "PollOptions")] options: JsValue,
    ) -> Result<JsSessionPoller, JsValue> {
        let on_update = get(&options, "onUpdate")
            .dyn_into::<js_sys::Function>()
            .map_err(|_| type_error("options.onUpdate must be a function"))?;
        let on_error = get(&options, "onError").dyn_into::<js_sys::Function>().ok();
        let on_end = get(&options, "onEnd").dyn_into::<js_sys::Function>().ok();
        let interval_ms = get(&options, "intervalMs")
            .as_f64()
            .unwrap_or(5_000.0)
            .clamp(100.0, 86_400_000.0) as u32;
        let poll = PollOptions {
            interval_ms,
            on_update: Rc::new(move |session| {
                let _ = on_update.call1(&JsValue::UNDEFINED, &session);
            }),
            on_error: on_error.map(|f| -> Rc<dyn Fn(ClientError)> {
                Rc::new(move |error: ClientError| {
                    let _ = f.call1(&JsValue::UNDEFINED, &error.to_js());
                })
            }),
            on_end: on_end.map(|f| -> Rc<dyn Fn(crate::poller::PollEnd)> {
                Rc::new(move |end: crate::poller::PollEnd| {
                    let _ = f.call1(&JsValue::UNDEFINED, &JsValue::from_str(end.as_str()));
                })
            }),
        };
        Ok(JsSessionPoller {
            poller: self.client.poll_session(&session_id, poll),
        })
    }

    /// Subscribes to an event; returns the function that unsubscribes. (Typed by the generic
    /// `ConsultClient` interface in the custom section, hence `skip_typescript`.)
    #[wasm_bindgen(skip_typescript)]
    pub fn on(
        &self,
        #[wasm_bindgen(unchecked_param_type = "ConsultEventName")] event: String,
        #[wasm_bindgen(
            unchecked_param_type = "(payload: TokenInfo | ConsultError | null) => void"
        )]
        listener: js_sys::Function,
    ) -> Result<JsValue, JsValue> {
        let kind = EventKind::parse(&event).ok_or_else(|| type_error("unknown event name"))?;
        let now = self.client.inner.now.clone();
        let subscription = self.client.on(
            kind,
            Rc::new(move |event: &ClientEvent| {
                let payload = match event {
                    ClientEvent::TokenRefreshed(snapshot)
                    | ClientEvent::TokenChanged(Some(snapshot)) => snapshot_to_js(snapshot, now()),
                    ClientEvent::TokenChanged(None) => JsValue::NULL,
                    ClientEvent::RefreshFailed(error)
                    | ClientEvent::SessionExpired(error)
                    | ClientEvent::Warning(error) => error.to_js(),
                };
                let _ = listener.call1(&JsValue::UNDEFINED, &payload);
            }),
        );
        Ok(Closure::once_into_js(move || subscription.off()))
    }

    /// What is known about the current token, or `null`.
    #[wasm_bindgen(js_name = tokenInfo, unchecked_return_type = "TokenInfo | null")]
    pub fn token_info(&self) -> JsValue {
        let now = (self.client.inner.now)();
        self.client
            .token_info()
            .map(|s| snapshot_to_js(&s, now))
            .unwrap_or(JsValue::NULL)
    }

    /// Signs out: server logout (best effort), storage cleared, other tabs told.
    #[wasm_bindgen(js_name = signOut, unchecked_return_type = "Promise<void>")]
    pub fn sign_out(&self) -> js_sys::Promise {
        let client = self.client.clone();
        promise(async move {
            client.sign_out().await;
            Ok(JsValue::UNDEFINED)
        })
    }

    /// Connects to the consultation room over Socket.IO and stays joined across token changes.
    #[wasm_bindgen(js_name = connectVideoSession)]
    pub fn connect_video_session(
        &self,
        #[wasm_bindgen(unchecked_param_type = "VideoSessionOptions")] options: JsValue,
    ) -> Result<JsVideoSession, JsValue> {
        let text = |key: &str| {
            get(&options, key).as_string().ok_or_else(|| {
                type_error("connectVideoSession needs string sessionId, roomId, userId and role")
            })
        };
        let mut reconnection = ConnectionConfig::default();
        let retry = get(&options, "reconnection");
        if retry.is_object() {
            if let Some(n) = get(&retry, "attempts").as_f64() {
                reconnection.reconnect_attempts = n.clamp(0.0, 1000.0) as u32;
            }
            if let Some(n) = get(&retry, "delayMs").as_f64() {
                reconnection.reconnect_delay_ms = n.clamp(0.0, 3_600_000.0) as u64;
            }
            if let Some(n) = get(&retry, "maxDelayMs").as_f64() {
                reconnection.reconnect_max_delay_ms = n.clamp(0.0, 3_600_000.0) as u64;
            }
        }
        if let Some(namespace) = get(&options, "namespace").as_string() {
            reconnection.namespace = namespace;
        }
        let session = self.client.connect_video_session(VideoSessionOptions {
            url: get(&options, "url").as_string(),
            session_id: text("sessionId")?,
            room_id: text("roomId")?,
            user_id: text("userId")?,
            role: text("role")?,
            reconnection,
        });
        Ok(JsVideoSession { session })
    }

    /// Auth for the official socket.io-client: `io(url, { auth: client.socketIoAuth() })`. It is a
    /// function socket.io-client calls at every (re)connect, so the token is always current.
    #[wasm_bindgen(js_name = socketIoAuth, unchecked_return_type = "(callback: (auth: { token?: string }) => void) => void")]
    pub fn socket_io_auth(&self) -> JsValue {
        let client = self.client.clone();
        Closure::<dyn FnMut(js_sys::Function)>::new(move |callback: js_sys::Function| {
            let client = client.clone();
            crate::env::spawn(async move {
                let auth = js_sys::Object::new();
                if let Ok(token) = client.get_valid_token().await {
                    let _ =
                        js_sys::Reflect::set(&auth, &"token".into(), &JsValue::from_str(&token));
                }
                let _ = callback.call1(&JsValue::UNDEFINED, &auth);
            });
        })
        .into_js_value()
    }

    /// Stops background timers and listeners (lets Node exit).
    pub fn dispose(&self) {
        self.client.dispose();
    }
}

/// A running session poll.
#[wasm_bindgen(js_name = SessionPoller)]
pub struct JsSessionPoller {
    poller: SessionPoller,
}

#[wasm_bindgen(js_class = SessionPoller)]
impl JsSessionPoller {
    /// Stops polling and aborts the request in flight.
    pub fn stop(&self) {
        self.poller.stop();
    }

    /// Whether polling has ended.
    #[wasm_bindgen(getter)]
    pub fn stopped(&self) -> bool {
        self.poller.is_stopped()
    }
}

/// A live video session (Socket.IO room).
#[wasm_bindgen(js_name = VideoSession)]
pub struct JsVideoSession {
    session: VideoSession,
}

#[wasm_bindgen(js_class = VideoSession)]
impl JsVideoSession {
    /// Listens to an event (typed in the `VideoSession` interface of the custom section).
    #[wasm_bindgen(skip_typescript)]
    pub fn on(&self, event: String, listener: js_sys::Function) {
        self.session.on(
            &event,
            Rc::new(move |payload: &JsValue| {
                let _ = listener.call1(&JsValue::UNDEFINED, payload);
            }),
        );
    }

    /// Sends an event; with `ackTimeoutMs`, resolves with the server's acknowledgement.
    #[wasm_bindgen(skip_typescript)]
    pub fn emit(
        &self,
        event: String,
        data: JsValue,
        ack_timeout_ms: Option<u32>,
    ) -> js_sys::Promise {
        let session = self.session.clone();
        promise(async move { session.emit(&event, &data, ack_timeout_ms).await })
    }

    /// Leaves the room and closes the connection.
    pub fn disconnect(&self) {
        self.session.disconnect();
    }

    /// `connecting`, `connected`, `joined`, `reconnecting`, `refreshing` or `closed`.
    #[wasm_bindgen(getter, unchecked_return_type = "VideoSessionState")]
    pub fn state(&self) -> String {
        self.session.state().to_owned()
    }
}

thread_local! {
    static DEFAULT: RefCell<Option<ConsultClient>> = const { RefCell::new(None) };
}

fn default_client() -> Result<ConsultClient, ClientError> {
    DEFAULT
        .with(|d| d.borrow().clone())
        .ok_or_else(|| ClientError::new(ErrorCode::NoToken, "call configure({ baseUrl }) first"))
}

/// Sets up the default client used by the seed-compatible helpers below.
#[wasm_bindgen]
pub fn configure(
    #[wasm_bindgen(unchecked_param_type = "ConsultClientOptions")] options: JsValue,
) -> Result<(), JsValue> {
    let client = ConsultClient::new(options_from_js(&options)?);
    DEFAULT.with(|d| {
        if let Some(previous) = d.borrow_mut().replace(client) {
            previous.dispose();
        }
    });
    Ok(())
}

/// The seed's `refreshAuthToken()`, on the default client.
#[wasm_bindgen(js_name = refreshAuthToken, unchecked_return_type = "Promise<string>")]
pub fn refresh_auth_token() -> js_sys::Promise {
    promise(async move {
        default_client()?
            .refresh_auth_token()
            .await
            .map(|t| JsValue::from_str(&t))
    })
}

/// The seed's `getValidToken()`, on the default client.
#[wasm_bindgen(js_name = getValidToken, unchecked_return_type = "Promise<string>")]
pub fn get_valid_token() -> js_sys::Promise {
    promise(async move {
        default_client()?
            .get_valid_token()
            .await
            .map(|t| JsValue::from_str(&t))
    })
}

/// The seed's `getSessionDetails(id)`, on the default client.
#[wasm_bindgen(js_name = getSessionDetails, unchecked_return_type = "Promise<SessionDetails>")]
pub fn get_session_details(session_id: String) -> js_sys::Promise {
    promise(async move { default_client()?.get_session_details(&session_id).await })
}
