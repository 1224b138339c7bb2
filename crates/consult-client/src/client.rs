//! The client: token cache over storage, pre-expiry refresh (single-flight in the page, Web Lock
//! across tabs), authorised requests with one replay after a 401, and events.

use std::cell::{Cell, RefCell};
use std::rc::{Rc, Weak};

use consult_core::backoff::retry_after_ms;
use consult_core::{
    Backoff, ClockSkew, ErrorCode, Outcome, RefreshPolicy, TokenInfo, classify_status,
};
use wasm_bindgen::JsValue;

use crate::ClientError;
use crate::env::{Now, now_ms, random, sleep_ms, system_now};
use crate::events::{ClientEvent, EventKind, Listener, Listeners};
use crate::flight::Flight;
use crate::http::{self, Exchange, join_url};
use crate::storage::{StorageKeys, StorageKind, TokenStorage};
use crate::tabs::TabSync;
use crate::token::{TokenSnapshot, read_token};

/// Path of the refresh endpoint.
pub const REFRESH_PATH: &str = "/api/video/auth/refresh-token";
/// Path of the logout endpoint.
pub const LOGOUT_PATH: &str = "/api/video/auth/logout";
/// Path prefix of the session endpoint.
pub const SESSIONS_PATH: &str = "/api/video/sessions/";
/// Longest wait for the cross-tab refresh lock.
const LOCK_TIMEOUT_MS: u32 = 10_000;
/// Longest sleep of the auto-refresh timer: hidden tabs throttle timers, so re-check often.
const MAX_TIMER_MS: i64 = 30_000;

/// How to build a [`ConsultClient`].
#[derive(Clone)]
pub struct ClientOptions {
    /// Server base URL, e.g. `http://127.0.0.1:8086`.
    pub base_url: String,
    /// Where the token lives (default `localStorage`, memory without a window).
    pub storage: StorageKind,
    /// Storage keys (default the seed's `authToken` / `tokenExpiresAt`).
    pub storage_keys: StorageKeys,
    /// Refresh this many seconds before expiry, at most half the token's lifetime (default 300).
    pub refresh_margin_seconds: f64,
    /// Give up on a request after this long (default 10 000 ms).
    pub request_timeout_ms: u32,
    /// Coordinate refreshes with other tabs (Web Lock + BroadcastChannel; default true).
    pub cross_tab: bool,
    /// Refresh in the background before expiry, without waiting for a call (default true).
    pub auto_refresh: bool,
    /// Retries of a refresh after transient failures (default 3).
    pub refresh_retries: u32,
    /// The clock, Unix ms (default the device clock). For tests and simulations.
    pub now: Option<Now>,
}

impl ClientOptions {
    /// Defaults for `base_url`.
    ///
    /// ```
    /// let options = consult_client::ClientOptions::new("http://127.0.0.1:8086");
    /// assert_eq!(options.refresh_margin_seconds, 300.0);
    /// assert_eq!(options.storage_keys.token, "authToken");
    /// ```
    pub fn new(base_url: impl Into<String>) -> Self {
        Self {
            base_url: base_url.into(),
            storage: StorageKind::Local,
            storage_keys: StorageKeys::default(),
            refresh_margin_seconds: 300.0,
            request_timeout_ms: 10_000,
            cross_tab: true,
            auto_refresh: true,
            refresh_retries: 3,
            now: None,
        }
    }
}

#[derive(Clone)]
struct Current {
    token: String,
    info: TokenInfo,
}

#[derive(Default)]
struct State {
    loaded: bool,
    current: Option<Current>,
    skew_ms: i64,
    refresh_count: u32,
    last_refresh_at_ms: Option<i64>,
    /// Set when the refresh endpoint refused: calls fail with `REFRESH_REJECTED` until a new session.
    expired: bool,
}

type RefreshResult = Result<String, ClientError>;

pub(crate) struct Inner {
    pub(crate) base_url: String,
    keys: StorageKeys,
    policy: RefreshPolicy,
    pub(crate) timeout_ms: u32,
    cross_tab: bool,
    auto_refresh: bool,
    refresh_retries: u32,
    pub(crate) now: Now,
    storage: TokenStorage,
    state: RefCell<State>,
    flight: RefCell<Option<Flight<RefreshResult>>>,
    pub(crate) listeners: Listeners,
    tabs: RefCell<Option<TabSync>>,
    generation: Cell<u32>,
    /// Wakes the auto-refresh loop so a retired loop ends at once (and its timer is cleared).
    auto_wake: crate::flight::Notify,
    startup_warning: RefCell<Option<ClientError>>,
    wake_listeners: RefCell<Vec<crate::wake::WakeListener>>,
}

/// What sign-in or a refresh returned: the refresh endpoint's answer, in Rust.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SessionGrant {
    /// The JWT.
    pub access_token: String,
    /// The server's `expires_at`, used only when the token has no `exp`.
    pub expires_at: Option<String>,
    /// The server's `expires_in` (seconds left when it answered); measures the clock skew.
    pub expires_in: Option<f64>,
}

impl SessionGrant {
    /// A grant of just a token.
    ///
    /// ```
    /// let grant = consult_client::SessionGrant::new("eyJ…");
    /// assert_eq!(grant.expires_in, None);
    /// ```
    pub fn new(access_token: impl Into<String>) -> Self {
        Self {
            access_token: access_token.into(),
            ..Self::default()
        }
    }
}

/// The consult client. Cheap to clone; clones share everything.
///
/// ```no_run
/// # async fn demo() -> Result<(), consult_client::ClientError> {
/// use consult_client::{ClientOptions, ConsultClient, SessionGrant};
/// let client = ConsultClient::new(ClientOptions::new("http://127.0.0.1:8086"));
/// client.set_session(&SessionGrant::new("eyJ…")).await?;
/// let token = client.get_valid_token().await?; // refreshed first if inside the margin
/// let session = client.get_session_details("session-1").await?;
/// # let _ = (token, session); Ok(()) }
/// ```
#[derive(Clone)]
pub struct ConsultClient {
    pub(crate) inner: Rc<Inner>,
}

/// A listener registration; [`Subscription::off`] removes it.
pub struct Subscription {
    id: u32,
    inner: Weak<Inner>,
}

impl Subscription {
    /// Stops the listener.
    pub fn off(&self) {
        if let Some(inner) = self.inner.upgrade() {
            inner.listeners.remove(self.id);
        }
    }
}

impl ConsultClient {
    /// Builds a client. Nothing is read or sent until the first call.
    pub fn new(options: ClientOptions) -> ConsultClient {
        let (storage, startup_warning) = TokenStorage::open(&options.storage);
        let inner = Rc::new(Inner {
            base_url: options.base_url,
            keys: options.storage_keys,
            policy: RefreshPolicy::with_margin_seconds(options.refresh_margin_seconds),
            timeout_ms: options.request_timeout_ms,
            cross_tab: options.cross_tab,
            auto_refresh: options.auto_refresh,
            refresh_retries: options.refresh_retries,
            now: options.now.unwrap_or_else(system_now),
            storage,
            state: RefCell::new(State::default()),
            flight: RefCell::new(None),
            listeners: Listeners::default(),
            tabs: RefCell::new(None),
            generation: Cell::new(0),
            auto_wake: crate::flight::Notify::default(),
            startup_warning: RefCell::new(startup_warning),
            wake_listeners: RefCell::new(Vec::new()),
        });
        if inner.cross_tab && inner.storage.shared_with_tabs() {
            let tabs = TabSync::start(Rc::downgrade(&inner), &inner.keys.token);
            *inner.tabs.borrow_mut() = Some(tabs);
        }
        crate::wake::listen(&inner);
        ConsultClient { inner }
    }

    /// Stores a session after sign-in (or a refresh done elsewhere): the token, the server's
    /// `expires_at` (RFC 3339, naive UTC or epoch seconds; used only if the token has no `exp`)
    /// and `expires_in` (measures the clock skew). Clears a previous expiry.
    pub async fn set_session(&self, grant: &SessionGrant) -> Result<(), ClientError> {
        let inner = &self.inner;
        let access_token = grant.access_token.as_str();
        let info = read_token(access_token, grant.expires_at.as_deref())
            .map_err(|e| ClientError::new(ErrorCode::BadResponse, e.message))?;
        let received = now_ms(&inner.now);
        {
            // Only `expires_in` tells the server's "now" here: a login token's `iat` may be old.
            let server_now =
                ClockSkew::server_time_from_expires_in(info.expires_at_ms, grant.expires_in);
            let mut state = inner.state.borrow_mut();
            state.loaded = true;
            state.expired = false;
            state.skew_ms = ClockSkew::estimate(received, server_now, None).offset_ms;
        }
        inner.store_token(access_token, info).await;
        inner.announce(access_token, info);
        inner.emit(ClientEvent::TokenChanged(inner.snapshot()));
        inner.start_auto_refresh();
        Ok(())
    }

    /// A token valid for at least the refresh margin: the stored one, or a fresh one after a
    /// refresh (shared with any refresh already running, in this page or, via a Web Lock, in
    /// another tab). While a refresh fails transiently, the current token is returned as long
    /// as it has not expired.
    pub async fn get_valid_token(&self) -> Result<String, ClientError> {
        self.inner.clone().valid_token().await
    }

    /// Refreshes now, whatever the expiry (still single-flight).
    pub async fn refresh_auth_token(&self) -> Result<String, ClientError> {
        self.inner.load().await;
        self.inner.check_not_expired()?;
        let stale = self.inner.current_token();
        self.inner.clone().refresh_single_flight(stale).await
    }

    /// `fetch(baseUrl + path, init)` with `Authorization: Bearer`; a 401 leads to one refresh and
    /// one replay, never more.
    pub async fn fetch(
        &self,
        path: &str,
        init: Option<web_sys::RequestInit>,
    ) -> Result<web_sys::Response, ClientError> {
        self.inner
            .clone()
            .authorized(path, init.as_ref(), Vec::new(), None)
            .await
    }

    /// `GET /api/video/sessions/{id}` as JSON. Non-2xx answers are `HTTP` errors with the status.
    pub async fn get_session_details(&self, session_id: &str) -> Result<JsValue, ClientError> {
        let mut path = String::from(SESSIONS_PATH);
        path.push_str(&encode_segment(session_id));
        let response = self
            .inner
            .clone()
            .authorized(&path, None, Vec::new(), None)
            .await?;
        if !response.ok() {
            return Err(http_error(&response));
        }
        http::json(&response).await
    }

    /// Subscribes to one kind of event.
    pub fn on(&self, kind: EventKind, listener: Listener) -> Subscription {
        let id = self.inner.listeners.add(kind, listener);
        if kind == EventKind::Warning
            && let Some(warning) = self.inner.startup_warning.borrow_mut().take()
        {
            self.inner.emit(ClientEvent::Warning(warning));
        }
        Subscription {
            id,
            inner: Rc::downgrade(&self.inner),
        }
    }

    /// What is known about the current token (`None` when there is none or it was not loaded yet).
    pub fn token_info(&self) -> Option<TokenSnapshot> {
        self.inner.snapshot()
    }

    /// Ends the session: tells the server (best effort), clears storage, tells other tabs.
    pub async fn sign_out(&self) {
        let inner = &self.inner;
        inner.load().await;
        let token = inner.current_token();
        inner.forget().await;
        if let Some(tabs) = &*inner.tabs.borrow() {
            tabs.announce_sign_out();
        }
        inner.emit(ClientEvent::TokenChanged(None));
        if let Some(token) = token {
            let init = web_sys::RequestInit::new();
            init.set_method("POST");
            let url = join_url(&inner.base_url, LOGOUT_PATH);
            let _ = http::send(Exchange {
                url: &url,
                init,
                headers: vec![("Authorization", bearer(&token))],
                timeout_ms: inner.timeout_ms,
                cancel: None,
            })
            .await;
        }
    }

    /// Stops background work (auto-refresh timer, tab and page listeners). Calls still work.
    pub fn dispose(&self) {
        self.inner.retire_auto_refresh();
        *self.inner.tabs.borrow_mut() = None;
        crate::wake::unlisten(&self.inner);
    }
}

pub(crate) fn bearer(token: &str) -> String {
    let mut value = String::from("Bearer ");
    value.push_str(token);
    value
}

/// Percent-encodes a path segment (RFC 3986 unreserved characters pass).
pub(crate) fn encode_segment(segment: &str) -> String {
    let mut out = String::with_capacity(segment.len());
    for byte in segment.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(byte as char);
        } else {
            const HEX: &[u8; 16] = b"0123456789ABCDEF";
            out.push('%');
            out.push(HEX[(byte >> 4) as usize] as char);
            out.push(HEX[(byte & 15) as usize] as char);
        }
    }
    out
}

pub(crate) fn http_error(response: &web_sys::Response) -> ClientError {
    let status = response.status();
    let mut message = String::from("HTTP ");
    consult_core::json::push_decimal(&mut message, u64::from(status));
    ClientError::with_status(ErrorCode::Http, message, status)
}

impl Inner {
    pub(crate) fn emit(&self, event: ClientEvent) {
        self.listeners.emit(&event);
    }

    pub(crate) fn snapshot(&self) -> Option<TokenSnapshot> {
        let state = self.state.borrow();
        state.current.as_ref().map(|current| TokenSnapshot {
            token: current.token.clone(),
            expires_at_ms: current.info.expires_at_ms,
            issued_at_ms: current.info.issued_at_ms,
            skew_ms: state.skew_ms,
            refresh_count: state.refresh_count,
            last_refresh_at_ms: state.last_refresh_at_ms,
        })
    }

    fn current_token(&self) -> Option<String> {
        self.state
            .borrow()
            .current
            .as_ref()
            .map(|c| c.token.clone())
    }

    fn check_not_expired(&self) -> Result<(), ClientError> {
        if self.state.borrow().expired {
            return Err(ClientError::new(
                ErrorCode::RefreshRejected,
                "the session has expired; sign in again",
            ));
        }
        Ok(())
    }

    /// Reads storage once (first use), so a page reload picks up the stored session.
    pub(crate) async fn load(self: &Rc<Self>) {
        if self.state.borrow().loaded {
            return;
        }
        let stored = self.read_stored().await;
        let mut state = self.state.borrow_mut();
        if !state.loaded {
            state.loaded = true;
            state.current = stored;
        }
        drop(state);
        if self.state.borrow().current.is_some() {
            self.start_auto_refresh();
        }
    }

    async fn read_stored(&self) -> Option<Current> {
        let token = match self.storage.get(&self.keys.token).await {
            Ok(token) => token?,
            Err(warning) => {
                self.emit(ClientEvent::Warning(warning));
                return None;
            }
        };
        let expires_at = self.storage.get(&self.keys.expires_at).await.ok().flatten();
        let info = read_token(&token, expires_at.as_deref()).ok()?;
        Some(Current { token, info })
    }

    async fn store_token(&self, token: &str, info: TokenInfo) {
        self.state.borrow_mut().current = Some(Current {
            token: token.to_owned(),
            info,
        });
        let expires_at = crate::iso::format_utc(info.expires_at_ms);
        for (key, value) in [
            (&self.keys.token, token),
            (&self.keys.expires_at, expires_at.as_str()),
        ] {
            if let Err(warning) = self.storage.set(key, value).await {
                self.emit(ClientEvent::Warning(warning));
            }
        }
    }

    fn announce(&self, token: &str, info: TokenInfo) {
        if let Some(tabs) = &*self.tabs.borrow() {
            tabs.announce_token(token, &crate::iso::format_utc(info.expires_at_ms));
        }
    }

    async fn forget(&self) {
        {
            let mut state = self.state.borrow_mut();
            state.current = None;
            state.loaded = true;
        }
        self.retire_auto_refresh();
        self.storage.remove(&self.keys.token).await;
        self.storage.remove(&self.keys.expires_at).await;
    }

    fn is_due(&self, info: &TokenInfo) -> bool {
        self.policy
            .is_due(info, now_ms(&self.now), self.state.borrow().skew_ms)
    }

    fn is_expired(&self, info: &TokenInfo) -> bool {
        info.is_expired(
            ClockSkew {
                offset_ms: self.state.borrow().skew_ms,
            }
            .server_now(now_ms(&self.now)),
        )
    }

    async fn valid_token(self: Rc<Self>) -> Result<String, ClientError> {
        self.load().await;
        self.check_not_expired()?;
        let current = self.state.borrow().current.clone();
        let Some(current) = current else {
            return Err(ClientError::new(
                ErrorCode::NoToken,
                "no session: sign in first",
            ));
        };
        if !self.is_due(&current.info) {
            return Ok(current.token);
        }
        match self
            .clone()
            .refresh_single_flight(Some(current.token))
            .await
        {
            Ok(token) => Ok(token),
            Err(error) if error.code == ErrorCode::RefreshRejected => Err(error),
            Err(error) => {
                // Still usable? Then the caller goes on; the auto-refresh keeps trying.
                match self.state.borrow().current.clone() {
                    Some(now_current) if !self.is_expired(&now_current.info) => {
                        Ok(now_current.token)
                    }
                    _ => Err(error),
                }
            }
        }
    }

    /// One refresh at a time in this page: join the running one or start one.
    /// `stale` is the token the caller found wanting: if another refresh (in this page or
    /// another tab) already replaced it with one that is not due, that one is the answer.
    pub(crate) async fn refresh_single_flight(
        self: Rc<Self>,
        stale: Option<String>,
    ) -> RefreshResult {
        let running = self.flight.borrow().clone();
        if let Some(flight) = running {
            return flight.wait().await;
        }
        let flight = Flight::new();
        *self.flight.borrow_mut() = Some(flight.clone());
        let inner = self.clone();
        let completer = flight.clone();
        crate::env::spawn(async move {
            let result = inner.refresh_with_retries(stale).await;
            *inner.flight.borrow_mut() = None;
            completer.complete(result);
        });
        flight.wait().await
    }

    async fn refresh_with_retries(self: &Rc<Self>, stale: Option<String>) -> RefreshResult {
        let mut backoff = Backoff::new(500, 8_000);
        let mut attempt = 0;
        loop {
            match self.refresh_once(stale.as_deref()).await {
                Ok(token) => return Ok(token),
                Err((error, _)) if error.code == ErrorCode::RefreshRejected => {
                    self.end_session(&error).await;
                    return Err(error);
                }
                Err((error, retry_after)) => {
                    self.emit(ClientEvent::RefreshFailed(error.clone()));
                    if !error.retryable() || attempt >= self.refresh_retries {
                        return Err(error);
                    }
                    attempt += 1;
                    let delay = backoff.next_delay_ms(random(), retry_after);
                    sleep_ms(delay as i64).await;
                }
            }
        }
    }

    /// One refresh attempt, under the cross-tab lock when the storage is shared.
    async fn refresh_once(
        self: &Rc<Self>,
        stale: Option<&str>,
    ) -> Result<String, (ClientError, Option<u64>)> {
        let shared = self.cross_tab && self.storage.shared_with_tabs();
        let _guard = if shared {
            let mut name = String::from("consult-refresh:");
            name.push_str(&self.keys.token);
            crate::lock::acquire(&name, LOCK_TIMEOUT_MS).await
        } else {
            None
        };
        // Another tab (or an adopted broadcast) may have refreshed while we waited.
        let stored = if shared {
            self.read_stored().await
        } else {
            None
        };
        let adopted = self.state.borrow().current.clone();
        for candidate in [stored, adopted].into_iter().flatten() {
            if Some(candidate.token.as_str()) != stale && !self.is_due(&candidate.info) {
                let token = candidate.token.clone();
                let changed = self.current_token().as_deref() != Some(token.as_str());
                self.state.borrow_mut().current = Some(candidate);
                if changed {
                    self.emit(ClientEvent::TokenChanged(self.snapshot()));
                }
                return Ok(token);
            }
        }
        let ours = self.current_token();
        let Some(token) = ours else {
            return Err((
                ClientError::new(ErrorCode::NoToken, "no session: sign in first"),
                None,
            ));
        };
        let init = web_sys::RequestInit::new();
        init.set_method("POST");
        let url = join_url(&self.base_url, REFRESH_PATH);
        let exchange = Exchange {
            url: &url,
            init,
            headers: vec![("Authorization", bearer(&token))],
            timeout_ms: self.timeout_ms,
            cancel: None,
        };
        let response = http::send(exchange).await.map_err(|e| (e, None))?;
        let status = response.status();
        match classify_status(status) {
            Outcome::Success => self.accept_refresh(&response).await.map_err(|e| (e, None)),
            Outcome::Unauthorized => Err((
                ClientError::with_status(
                    ErrorCode::RefreshRejected,
                    "the server refused to refresh the token",
                    status,
                ),
                None,
            )),
            Outcome::Transient | Outcome::Failed => {
                let retry_after =
                    http::header(&response, "retry-after").and_then(|v| retry_after_ms(&v));
                Err((http_error(&response), retry_after))
            }
        }
    }

    async fn accept_refresh(&self, response: &web_sys::Response) -> Result<String, ClientError> {
        let received = now_ms(&self.now);
        let body = http::json(response).await?;
        let field = |key: &str| js_sys::Reflect::get(&body, &JsValue::from_str(key)).ok();
        let bad = || {
            ClientError::with_status(
                ErrorCode::BadResponse,
                "refresh answer lacks a usable access_token",
                response.status(),
            )
        };
        let token = field("access_token")
            .and_then(|v| v.as_string())
            .ok_or_else(bad)?;
        let expires_at = field("expires_at").and_then(|v| crate::token::expires_at_text(&v));
        let info = read_token(&token, expires_at.as_deref()).map_err(|_| bad())?;
        let date = http::header(response, "date").and_then(|d| consult_core::http_date::parse(&d));
        {
            let mut state = self.state.borrow_mut();
            let expires_in = field("expires_in").and_then(|v| v.as_f64());
            let server_now = ClockSkew::server_time_from_expires_in(info.expires_at_ms, expires_in)
                .or(info.issued_at_ms);
            state.skew_ms = ClockSkew::estimate(received, server_now, date).offset_ms;
            state.refresh_count = state.refresh_count.saturating_add(1);
            state.last_refresh_at_ms = Some(received);
        }
        self.store_token(&token, info).await;
        self.announce(&token, info);
        if let Some(snapshot) = self.snapshot() {
            self.emit(ClientEvent::TokenRefreshed(snapshot.clone()));
            self.emit(ClientEvent::TokenChanged(Some(snapshot)));
        }
        Ok(token)
    }

    async fn end_session(&self, error: &ClientError) {
        let already = std::mem::replace(&mut self.state.borrow_mut().expired, true);
        self.forget().await;
        self.state.borrow_mut().expired = true;
        if !already {
            if let Some(tabs) = &*self.tabs.borrow() {
                tabs.announce_sign_out();
            }
            self.emit(ClientEvent::SessionExpired(error.clone()));
            self.emit(ClientEvent::TokenChanged(None));
        }
    }

    /// Another tab announced a token (or a sign-out: `None`).
    pub(crate) fn adopt_external(
        self: Rc<Self>,
        token: Option<String>,
        expires_at: Option<String>,
    ) {
        let current = self.current_token();
        match token {
            None => {
                if current.is_some() {
                    let inner = self.clone();
                    crate::env::spawn(async move {
                        {
                            let mut state = inner.state.borrow_mut();
                            state.current = None;
                        }
                        inner.retire_auto_refresh();
                        inner.emit(ClientEvent::TokenChanged(None));
                    });
                }
            }
            Some(token) if Some(&token) != current.as_ref() => {
                let Ok(info) = read_token(&token, expires_at.as_deref()) else {
                    return;
                };
                let newer = self
                    .state
                    .borrow()
                    .current
                    .as_ref()
                    .is_none_or(|c| info.expires_at_ms >= c.info.expires_at_ms);
                if newer {
                    {
                        let mut state = self.state.borrow_mut();
                        state.current = Some(Current { token, info });
                        state.loaded = true;
                        state.expired = false;
                    }
                    self.emit(ClientEvent::TokenChanged(self.snapshot()));
                    self.start_auto_refresh();
                }
            }
            Some(_) => {}
        }
    }

    /// Keeps the token fresh in the background: sleeps until it is due (in ≤ 30 s steps, since
    /// hidden tabs throttle timers), then refreshes. One loop per client (a generation counter
    /// retires older loops).
    pub(crate) fn start_auto_refresh(self: &Rc<Self>) {
        if !self.auto_refresh {
            return;
        }
        let generation = self.retire_auto_refresh();
        let weak = Rc::downgrade(self);
        crate::env::spawn(async move {
            let mut backoff = Backoff::new(1_000, 60_000);
            loop {
                let Some(inner) = weak.upgrade() else { return };
                if inner.generation.get() != generation {
                    return;
                }
                let Some(current) = inner.state.borrow().current.clone() else {
                    return;
                };
                let delay = inner.policy.delay_until_due_ms(
                    &current.info,
                    now_ms(&inner.now),
                    inner.state.borrow().skew_ms,
                );
                drop(inner);
                if delay > 0 {
                    let wake = weak.upgrade().map(|inner| inner.auto_wake.clone());
                    let Some(wake) = wake else { return };
                    crate::flight::first_of(sleep_ms(delay.min(MAX_TIMER_MS)), wake.notified())
                        .await;
                    continue;
                }
                let Some(inner) = weak.upgrade() else { return };
                if inner.generation.get() != generation {
                    return;
                }
                match inner
                    .clone()
                    .refresh_single_flight(Some(current.token))
                    .await
                {
                    Ok(_) => backoff.reset(),
                    Err(error)
                        if matches!(
                            error.code,
                            ErrorCode::RefreshRejected | ErrorCode::NoToken
                        ) =>
                    {
                        return;
                    }
                    Err(_) => {
                        drop(inner);
                        sleep_ms(backoff.next_delay_ms(random(), None) as i64).await;
                    }
                }
            }
        });
    }

    /// Ends the running auto-refresh loop (if any) and returns the next generation number.
    fn retire_auto_refresh(&self) -> u32 {
        let generation = self.generation.get().wrapping_add(1);
        self.generation.set(generation);
        self.auto_wake.notify();
        generation
    }

    /// A page wake-up (visible again, online, focus): timers may have slept through the refresh
    /// time, so check now (this loads the stored session first if needed, and refreshes if due).
    pub(crate) fn on_wake(self: &Rc<Self>) {
        let inner = self.clone();
        crate::env::spawn(async move {
            let _ = inner.valid_token().await;
        });
    }

    pub(crate) fn wake_listeners(&self) -> &RefCell<Vec<crate::wake::WakeListener>> {
        &self.wake_listeners
    }

    /// Sends an authorised request; after a 401, refreshes once (unless another refresh already
    /// replaced the token) and replays once.
    pub(crate) async fn authorized(
        self: Rc<Self>,
        path: &str,
        init: Option<&web_sys::RequestInit>,
        extra_headers: Vec<(&'static str, String)>,
        cancel: Option<web_sys::AbortSignal>,
    ) -> Result<web_sys::Response, ClientError> {
        let url = join_url(&self.base_url, path);
        let token = self.clone().valid_token().await?;
        let response = self
            .send_with(&url, init, &extra_headers, &token, cancel.clone())
            .await?;
        if response.status() != 401 {
            return Ok(response);
        }
        let replacement = match self.current_token() {
            Some(current) if current != token => current,
            _ => self.clone().refresh_single_flight(Some(token)).await?,
        };
        self.send_with(&url, init, &extra_headers, &replacement, cancel)
            .await
    }

    async fn send_with(
        &self,
        url: &str,
        init: Option<&web_sys::RequestInit>,
        extra_headers: &[(&'static str, String)],
        token: &str,
        cancel: Option<web_sys::AbortSignal>,
    ) -> Result<web_sys::Response, ClientError> {
        // A copy, so the caller's init object is never modified and can be replayed.
        let init: web_sys::RequestInit = match init {
            Some(init) => js_sys::Object::assign(&js_sys::Object::new(), init).unchecked_into(),
            None => web_sys::RequestInit::new(),
        };
        let mut headers = extra_headers.to_vec();
        headers.push(("Authorization", bearer(token)));
        http::send(Exchange {
            url,
            init,
            headers,
            timeout_ms: self.timeout_ms,
            cancel,
        })
        .await
    }
}

use wasm_bindgen::JsCast;
