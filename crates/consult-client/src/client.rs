//! The public client: options, calls, events. Every token decision is the token session's
//! ([`consult_core::session`]); `driver.rs` carries it out.

use std::rc::{Rc, Weak};

use consult_core::session::{
    Grant as SessionGrant, Input, SessionConfig, TokenSession, origin_of, token_may_go_to,
};
use consult_core::{ErrorCode, authorised, wire};

use crate::ClientError;
use crate::details::SessionDetails;
use crate::driver::{Inner, Parts};
use crate::env::{Now, system_now};
use crate::error::{InvalidOptions, check};
use crate::events::{EventKind, Listener, TokenSnapshot};
use crate::http::{self, Exchange, bearer, encode_segment, join_url};
use crate::storage::{StorageKeys, StorageKind, Store};

/// How to build a [`ConsultClient`].
#[derive(Clone)]
pub struct ClientOptions {
    /// Server base URL, absolute: e.g. `http://127.0.0.1:8086`.
    pub base_url: String,
    /// Where the token lives (default IndexedDB mirrored to `localStorage`).
    pub storage: StorageKind,
    /// Storage keys (default the seed's `authToken` / `tokenExpiresAt`).
    pub storage_keys: StorageKeys,
    /// Refresh this many seconds before expiry, at most half the token's lifetime (default 300;
    /// negative: 0; not finite: the default).
    pub refresh_margin_seconds: f64,
    /// Longest wait for an answer, ms (default 10 000; 0: no timeout).
    pub request_timeout_ms: u32,
    /// Coordinate refreshes with other tabs (Web Lock + BroadcastChannel; default true).
    pub cross_tab: bool,
    /// Refresh in the background before expiry, without waiting for a call (default true).
    pub auto_refresh: bool,
    /// Failed refresh attempts a waiting call sits through before it gets the error (default 3,
    /// at most 20).
    pub refresh_retries: u32,
    /// Other origins [`ConsultClient::fetch`] may send the token to (`https://media.example`).
    pub allowed_origins: Vec<String>,
    /// The clock, Unix ms (default the device clock). For tests and simulations.
    pub now: Option<Now>,
}

impl ClientOptions {
    /// The token session's defaults for `base_url`.
    ///
    /// ```
    /// let options = consult_client::ClientOptions::new("http://127.0.0.1:8086");
    /// assert_eq!(options.storage_keys.token, "authToken");
    /// ```
    pub fn new(base_url: impl Into<String>) -> Self {
        let defaults = SessionConfig::default();
        Self {
            base_url: base_url.into(),
            storage: StorageKind::Local,
            storage_keys: StorageKeys::default(),
            refresh_margin_seconds: defaults.policy.margin_ms as f64 / 1e3,
            request_timeout_ms: u32::try_from(defaults.request_timeout_ms).unwrap_or(u32::MAX),
            cross_tab: defaults.cross_tab,
            auto_refresh: defaults.auto_refresh,
            refresh_retries: defaults.refresh_retries,
            allowed_origins: Vec::new(),
            now: None,
        }
    }

    /// The token session's configuration: every number settled by core
    /// ([`SessionConfig::from_options`]: defaults, bounds, 0 for no timeout), as the JavaScript
    /// driver's are.
    pub(crate) fn session_config(&self, cross_tab: bool) -> SessionConfig {
        SessionConfig {
            cross_tab,
            auto_refresh: self.auto_refresh,
            storage: !matches!(self.storage, StorageKind::Memory),
            ..SessionConfig::from_options(
                Some(self.refresh_margin_seconds),
                Some(f64::from(self.request_timeout_ms)),
                Some(f64::from(self.refresh_retries)),
            )
        }
    }

    fn validate(&self) -> Result<(), InvalidOptions> {
        check(
            origin_of(&self.base_url).is_some(),
            "base_url must be an absolute http(s) URL",
        )?;
        check(
            !self.storage_keys.token.is_empty(),
            "storage_keys.token must not be empty",
        )?;
        let origins = self.allowed_origins.iter().all(|o| origin_of(o).is_some());
        check(origins, "allowed_origins must be http(s) origins")
    }
}

/// The consult client. Cheap to clone; clones share everything. Dropping the last clone
/// (pollers and video sessions hold one) removes its listeners and stops its timer, lock and
/// requests.
///
/// ```no_run
/// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// use consult_client::{ClientOptions, ConsultClient, SessionGrant};
/// let client = ConsultClient::new(ClientOptions::new("http://127.0.0.1:8086"))?;
/// let grant = SessionGrant { access_token: "eyJ…".into(), ..SessionGrant::default() };
/// client.set_session(&grant).await?;
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
    /// Builds a client; nothing is read or sent until the first call.
    pub fn new(options: ClientOptions) -> Result<ConsultClient, InvalidOptions> {
        options.validate()?;
        let store = Store::new(&options.storage, options.storage_keys.clone());
        let cross_tab = options.cross_tab && store.shared_with_tabs();
        let config = options.session_config(cross_tab);
        let seed = crate::env::seed();
        let parts = Parts {
            base_url: options.base_url,
            allowed_origins: options.allowed_origins,
            request_timeout_ms: request_timeout(&config),
            now: options.now.unwrap_or_else(system_now),
            store,
            token_key: options.storage_keys.token,
            cross_tab,
        };
        let inner = Inner::new(parts, TokenSession::new(config, seed));
        Ok(ConsultClient { inner })
    }

    /// Stores what sign-in (or a refresh done elsewhere) returned — the token, the server's
    /// `expires_at` (used only when the token has no `exp`) and `expires_in` (measures the clock
    /// skew) — and tells the other tabs.
    pub async fn set_session(&self, grant: &SessionGrant) -> Result<(), ClientError> {
        let grant = grant.clone();
        let stored = self.inner.call(|call| Input::SetSession { call, grant });
        stored.await.map(drop)
    }

    /// A token valid for at least the refresh margin: the current one, or a fresh one after the
    /// (single, cross-tab) refresh. While refreshes fail, a token not yet expired is returned.
    pub async fn get_valid_token(&self) -> Result<String, ClientError> {
        self.inner.valid_token().await
    }

    /// Refreshes now, whatever the expiry (still single-flight).
    pub async fn refresh_auth_token(&self) -> Result<String, ClientError> {
        self.inner.call(|call| Input::ForceRefresh { call }).await
    }

    /// `fetch(baseUrl + path, init)` with `Authorization: Bearer`; an answer refusing the
    /// credential leads to one new token and one replay. A URL on another origin than the base
    /// URL's (or a listed one) is refused (`ORIGIN_NOT_ALLOWED`) and the token not sent.
    pub async fn fetch(
        &self,
        path: &str,
        init: Option<web_sys::RequestInit>,
    ) -> Result<web_sys::Response, ClientError> {
        self.inner
            .authorized(path, init.as_ref(), Vec::new(), None)
            .await
    }

    /// `GET /api/video/sessions/{id}`. A non-2xx answer is an `HTTP` error with its status, a
    /// 2xx that is not a session `BAD_RESPONSE` (core's reading: [`authorised::session_answer`]).
    pub async fn get_session_details(
        &self,
        session_id: &str,
    ) -> Result<SessionDetails, ClientError> {
        let path = session_path(session_id);
        let response = self.inner.authorized(&path, None, Vec::new(), None).await?;
        let body = http::text(&response).await;
        authorised::session_answer(response.status(), body.as_deref())?;
        Ok(SessionDetails::read(body.as_deref().unwrap_or_default()))
    }

    /// Subscribes to one kind of event.
    ///
    /// ```no_run
    /// # fn demo(client: &consult_client::ConsultClient) {
    /// use consult_client::{ClientEvent, EventKind};
    /// let listener = std::rc::Rc::new(|event: &ClientEvent| println!("{event:?}"));
    /// let subscription = client.on(EventKind::TokenChanged, listener);
    /// subscription.off();
    /// # }
    /// ```
    pub fn on(&self, kind: EventKind, listener: Listener) -> Subscription {
        let id = self.inner.listeners.add(kind, listener);
        let inner = Rc::downgrade(&self.inner);
        Subscription { id, inner }
    }

    /// The current token and its times, if one is loaded.
    pub fn token_info(&self) -> Option<TokenSnapshot> {
        self.inner.snapshot()
    }

    /// Signs out: clears storage, tells the other tabs, revokes the token at the server.
    pub async fn sign_out(&self) {
        let _ = self.inner.call(|call| Input::SignOut { call }).await;
    }

    /// Stops background work (auto-refresh, tab and page listeners). Calls still work.
    pub fn dispose(&self) {
        self.inner.feed(Input::Dispose);
        self.inner.tabs.borrow_mut().take();
        self.inner.wake.borrow_mut().clear();
    }
}

/// The timeout of the driver's own requests, as the machine settled it (`None`: none).
pub(crate) fn request_timeout(config: &SessionConfig) -> Option<u32> {
    let ms = config.request_timeout_ms;
    (ms != u64::MAX).then(|| u32::try_from(ms).unwrap_or(u32::MAX))
}

/// The path of a session.
pub(crate) fn session_path(session_id: &str) -> String {
    let mut path = String::from(wire::SESSIONS_PATH);
    path.push_str(&encode_segment(session_id));
    path
}

impl Inner {
    /// Sends an authorised request, with a new token and again for as long as core says (once,
    /// after a 401: [`authorised::replays`]).
    pub(crate) async fn authorized(
        &self,
        path: &str,
        init: Option<&web_sys::RequestInit>,
        headers: Vec<(&'static str, String)>,
        cancel: Option<web_sys::AbortSignal>,
    ) -> Result<web_sys::Response, ClientError> {
        let url = join_url(&self.base_url, path);
        if !token_may_go_to(&self.base_url, &url, &self.allowed_origins) {
            let message = format!("not sent: {url} is not on the base URL's origin");
            return Err(ClientError::new(ErrorCode::OriginNotAllowed, message));
        }
        let send = |token: &str| {
            let mut headers = headers.clone();
            headers.push((wire::AUTHORIZATION, bearer(token)));
            http::send(Exchange {
                url: &url,
                init,
                method: wire::GET,
                headers,
                timeout_ms: self.request_timeout_ms,
                cancel: cancel.clone(),
            })
        };
        let mut token = self.valid_token().await?;
        let mut replayed = false;
        loop {
            let response = send(&token).await?;
            if !authorised::replays(response.status(), replayed) {
                return Ok(response);
            }
            token = self
                .call(|call| Input::TokenRefused { call, token })
                .await?;
            replayed = true;
        }
    }
}
