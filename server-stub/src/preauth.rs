//! The bound on what the server holds for clients that have not authenticated yet: each new
//! Engine.IO session (a `/socket.io/` request without `sid`: a polling handshake or a WebSocket
//! upgrade) takes a slot, globally and per client address, until it sends an accepted CONNECT
//! or ends (the slot travels in the handshake request's extensions, which the Engine.IO
//! session keeps as long as it lives). Beyond the caps the handshake is refused with a JSON
//! error (`429 rate_limited` per client, `503 server_full` for everyone), before socketioxide
//! allocates anything. `--websocket-only` refuses the polling transport (`400 bad_request`).

use std::collections::HashMap;
use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use axum::body::Body;
use axum::http::{Request, Response};
use axum::response::IntoResponse;
use tower::{Layer, Service};

use crate::error::ApiError;

/// The address a connection comes from, put in each request's extensions by [`crate::serve`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddr(pub IpAddr);

/// The caps on unauthenticated Engine.IO sessions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PreAuthLimits {
    /// Most at once, every client together.
    pub global: usize,
    /// Most at once from one client address.
    pub per_client: usize,
    /// Seconds a refused client is told to wait (the CONNECT timeout: by then slots are free).
    pub retry_after_secs: u32,
    /// Refuse the polling transport.
    pub websocket_only: bool,
}

#[derive(Debug, Default)]
struct Counts {
    total: usize,
    by_client: HashMap<IpAddr, usize>,
}

/// The slots of unauthenticated sessions.
#[derive(Debug)]
pub struct PreAuthGate {
    limits: PreAuthLimits,
    counts: Mutex<Counts>,
}

/// Why a new Engine.IO session was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// This client holds its share of unauthenticated sessions.
    Client,
    /// Every slot is taken.
    Everyone,
}

/// One unauthenticated session's slot: freed by [`PreAuthSlot::release`] (an accepted CONNECT)
/// or when the last copy is dropped (the session ended), whichever comes first.
#[derive(Debug)]
pub struct PreAuthSlot {
    gate: Arc<PreAuthGate>,
    client: Option<IpAddr>,
    released: AtomicBool,
}

impl PreAuthSlot {
    /// Frees the slot (once; later calls do nothing).
    pub fn release(&self) {
        if self.released.swap(true, Ordering::AcqRel) {
            return;
        }
        let mut counts = self.gate.counts();
        counts.total = counts.total.saturating_sub(1);
        if let Some(client) = self.client
            && let Some(held) = counts.by_client.get_mut(&client)
        {
            *held = held.saturating_sub(1);
            if *held == 0 {
                counts.by_client.remove(&client);
            }
        }
    }
}

impl Drop for PreAuthSlot {
    fn drop(&mut self) {
        self.release();
    }
}

/// The handle on a slot kept in the handshake request's extensions (which must be `Clone`).
#[derive(Debug, Clone)]
pub struct HeldSlot(pub Arc<PreAuthSlot>);

impl PreAuthGate {
    /// A gate with these caps.
    pub fn new(limits: PreAuthLimits) -> Arc<Self> {
        Arc::new(PreAuthGate {
            limits,
            counts: Mutex::new(Counts::default()),
        })
    }

    fn counts(&self) -> std::sync::MutexGuard<'_, Counts> {
        self.counts.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Takes a slot for a new session from `client` (`None`: unknown address, only the global
    /// cap applies).
    ///
    /// ```
    /// use consult_stub::preauth::{PreAuthGate, PreAuthLimits, Refusal};
    /// let limits = PreAuthLimits { global: 2, per_client: 1, retry_after_secs: 5, websocket_only: false };
    /// let gate = PreAuthGate::new(limits);
    /// let a = Some(std::net::Ipv4Addr::new(10, 0, 0, 1).into());
    /// let first = gate.admit(a);
    /// assert!(first.is_ok());
    /// assert_eq!(gate.admit(a).err(), Some(Refusal::Client));
    /// drop(first);
    /// assert!(gate.admit(a).is_ok());
    /// ```
    pub fn admit(self: &Arc<Self>, client: Option<IpAddr>) -> Result<Arc<PreAuthSlot>, Refusal> {
        let mut counts = self.counts();
        if counts.total >= self.limits.global {
            return Err(Refusal::Everyone);
        }
        if let Some(client) = client {
            let held = counts.by_client.entry(client).or_insert(0);
            if *held >= self.limits.per_client {
                return Err(Refusal::Client);
            }
            *held += 1;
        }
        counts.total += 1;
        Ok(Arc::new(PreAuthSlot {
            gate: self.clone(),
            client,
            released: AtomicBool::new(false),
        }))
    }

    /// Unauthenticated sessions held now.
    pub fn held(&self) -> usize {
        self.counts().total
    }
}

/// Whether a request opens a new Engine.IO session, and over which transport.
fn new_session(request: &Request<Body>) -> Option<bool> {
    if !request.uri().path().starts_with("/socket.io") {
        return None;
    }
    let query = request.uri().query().unwrap_or_default();
    let mut polling = false;
    for pair in query.split('&') {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        match key {
            "sid" => return None,
            "transport" => polling = value == "polling",
            _ => {}
        }
    }
    Some(polling)
}

/// The layer putting a [`PreAuthGate`] in front of Socket.IO.
#[derive(Debug, Clone)]
pub struct PreAuthLayer(pub Arc<PreAuthGate>);

impl<S> Layer<S> for PreAuthLayer {
    type Service = PreAuthService<S>;
    fn layer(&self, inner: S) -> Self::Service {
        PreAuthService {
            inner,
            gate: self.0.clone(),
        }
    }
}

/// See [`PreAuthLayer`].
#[derive(Debug, Clone)]
pub struct PreAuthService<S> {
    inner: S,
    gate: Arc<PreAuthGate>,
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

impl<S> Service<Request<Body>> for PreAuthService<S>
where
    S: Service<Request<Body>, Response = Response<Body>> + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
{
    type Response = Response<Body>;
    type Error = S::Error;
    type Future = BoxFuture<Result<Response<Body>, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<Body>) -> Self::Future {
        if let Some(polling) = new_session(&request) {
            let limits = self.gate.limits;
            let refused = if polling && limits.websocket_only {
                Some(ApiError::BadRequest(
                    "this server takes Socket.IO over WebSocket only (transport=websocket)"
                        .to_owned(),
                ))
            } else {
                let client = request.extensions().get::<ClientAddr>().map(|c| c.0);
                match self.gate.admit(client) {
                    Ok(slot) => {
                        request.extensions_mut().insert(HeldSlot(slot));
                        None
                    }
                    Err(Refusal::Client) => Some(ApiError::RateLimited {
                        retry_after_secs: limits.retry_after_secs,
                    }),
                    Err(Refusal::Everyone) => Some(ApiError::Full("unauthenticated connections")),
                }
            };
            if let Some(error) = refused {
                return Box::pin(std::future::ready(Ok(error.into_response())));
            }
        }
        Box::pin(self.inner.call(request))
    }
}
