//! consult-stub: the video-consultation backend consult's clients are built and tested against.
//!
//! It keeps the seed backend's wire contract (the README's "What it answers") and makes it
//! safer: expired tokens are accepted only within a refresh grace and a session max age, each
//! sign-in is one rotation chain (a repeat within the reuse window gets the same successor, any
//! other old token revokes the sign-in and disconnects its sockets), logout revokes, every
//! resource is bounded ([`limits::Limits`]) and the dev endpoints exist only when asked for.
//!
//! ```no_run
//! # async fn run() -> std::io::Result<()> {
//! use std::sync::Arc;
//! use consult_stub::{build_app, clock::SystemClock, config::Settings};
//! let settings = Settings::with_secret(vec![7; 32]);
//! let limits = settings.limits;
//! let (router, _state) = build_app(settings, Arc::new(SystemClock))
//!     .map_err(std::io::Error::other)?;
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//! consult_stub::serve::serve(listener, router, limits, std::future::pending()).await;
//! # Ok(())
//! # }
//! ```

pub mod auth;
pub mod clock;
pub mod config;
pub mod cors;
pub mod error;
pub mod event_limit;
pub mod extract;
pub mod faults;
pub mod ids;
pub mod keyed;
pub mod limits;
pub mod logging;
pub mod preauth;
pub mod proxy;
pub mod pubsub;
pub mod rooms;
pub mod routes;
pub mod serve;
pub mod session;
pub mod socket;
pub mod state;
pub mod stats;
pub mod storage;
pub mod store;
pub mod token_cache;
pub mod tokens;

use std::sync::Arc;

use axum::Router;
use axum::response::IntoResponse;
use futures_util::FutureExt;
use socketioxide::adapter::Adapter;
use socketioxide::layer::SocketIoLayer;
use socketioxide::{SocketIo, SocketIoBuilder};
use socketioxide_redis::{RedisAdapterConfig, RedisAdapterCtr};
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::services::{ServeDir, ServeFile};

use crate::clock::Clock;
use crate::config::Settings;
use crate::pubsub::{ClusterAdapter, PubSub};
use crate::state::AppState;
use crate::storage::memory::MemoryStorage;
use crate::storage::redis::{ConnectError, RedisKeys, RedisStorage};
use crate::storage::redis_tls::RedisTls;

/// Why the application could not be built.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// The settings are refused (see [`Settings::validate`]).
    #[error(transparent)]
    Config(#[from] config::ConfigError),
    /// The JWT backend refused the secret.
    #[error("cannot set up token signing: {0}")]
    Jwt(#[from] jsonwebtoken::errors::Error),
    /// Redis could not be reached or used at start.
    #[error(transparent)]
    Redis(#[from] ConnectError),
    /// The Socket.IO Redis adapter could not subscribe to its channels.
    #[error("the Socket.IO Redis adapter could not start: {0}")]
    Adapter(String),
    /// `build_app` was given `--redis`, which needs [`connect_app`].
    #[error("a Redis-backed server must be built with connect_app")]
    NeedsConnect,
}

/// Builds the whole application in memory (one process): API, dev hooks (when enabled),
/// Socket.IO with its limits, CORS allowlist, JSON errors, body limit and the optional static
/// folder. (No per-request trace span: tower-http logs at `debug`, which [`logging`] never lets
/// through.) Must be called inside a Tokio runtime (it starts the task that expires sockets).
/// Settings with a Redis URL are refused: use [`connect_app`].
pub fn build_app(
    settings: Settings,
    clock: Arc<dyn Clock>,
) -> Result<(Router, AppState), BuildError> {
    settings.validate()?;
    if settings.redis_url.is_some() {
        return Err(BuildError::NeedsConnect);
    }
    let storage = Arc::new(MemoryStorage::new(settings.limits));
    let state = AppState::new(settings, clock, storage)?;
    let (layer, io) = socket_builder(SocketIo::builder(), &state).build_layer();
    socket::register(&io);
    // The in-memory store answers at once: these futures are ready.
    for session in start_sessions(&state) {
        let _ = state.storage().insert_session(session).now_or_never();
    }
    Ok((assemble(&state, layer, io), state))
}

/// Builds the application like [`build_app`], on Redis when the settings name one: connects
/// (bounded by `--redis-timeout`), starts the Socket.IO Redis adapter, and refuses to start when
/// Redis cannot be reached.
pub async fn connect_app(
    settings: Settings,
    clock: Arc<dyn Clock>,
) -> Result<(Router, AppState), BuildError> {
    settings.validate()?;
    let Some(url) = settings.redis_url.clone() else {
        return build_app(settings, clock);
    };
    let timeout = settings.redis_timeout;
    let tls = RedisTls::load(settings.redis_ca_file.as_deref())?;
    let keys = RedisKeys::new(&settings.jwt_secret);
    let redis = if settings.redis_cluster {
        let nodes: Vec<String> = url
            .split(',')
            .map(str::trim)
            .filter(|node| !node.is_empty())
            .map(str::to_owned)
            .collect();
        let conn = storage::redis_conn::connect_cluster(&nodes, &tls, timeout).await?;
        Arc::new(RedisStorage::over(conn, keys, timeout, settings.limits))
    } else {
        let client = tls.client(&url)?;
        Arc::new(RedisStorage::connect(&client, keys, timeout, settings.limits).await?)
    };
    // The Socket.IO adapter's pub/sub: on a cluster, through its first node (classic pub/sub
    // reaches every node's subscribers).
    let client = tls.client(url.split(',').next().unwrap_or_default().trim())?;
    match storage::durability::check(&redis).await {
        Ok(()) => {}
        Err(reason) if settings.redis_may_lose_data => tracing::warn!(
            "this Redis may lose data ({reason}); started anyway (--redis-may-lose-data): a loss \
             signs everybody out"
        ),
        Err(reason) => return Err(ConnectError::MayLoseData(reason).into()),
    }
    let epoch = storage::durability::Epoch::default();
    if let Ok(storage::durability::EpochSeen::Written) = epoch.check(&redis).await {
        tracing::info!("a new epoch marker was written: this Redis held no consult data");
    }
    tokio::spawn(epoch.watch(redis.clone()));
    let storage: Arc<dyn storage::Storage> = redis;
    let pubsub = PubSub::connect(&client, timeout).await?;
    let adapter = RedisAdapterCtr::new_with_driver(
        pubsub,
        RedisAdapterConfig::new()
            .with_request_timeout(timeout)
            .with_prefix("consult-socket.io"),
    );
    let state = AppState::new(settings, clock, storage)?;
    let builder = SocketIo::builder().with_adapter::<ClusterAdapter>(adapter);
    let (layer, io) = socket_builder(builder, &state).build_layer();
    match tokio::time::timeout(timeout.saturating_mul(3), socket::register_cluster(&io)).await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => return Err(BuildError::Adapter(e.to_string())),
        Err(_) => return Err(BuildError::Adapter("timed out".to_owned())),
    }
    let flusher = state.clone();
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(std::time::Duration::from_millis(500));
        loop {
            ticker.tick().await;
            // Redis away: the counts wait for the next flush.
            let _ = flusher.flush_stats().await;
        }
    });
    for session in start_sessions(&state) {
        // Another instance may have created it already: the first one stays.
        match state.storage().insert_session(session).await {
            Ok(_) | Err(error::ApiError::SessionExists(_)) => {}
            Err(e) => return Err(BuildError::Adapter(format!("--create-session: {e}"))),
        }
    }
    Ok((assemble(&state, layer, io), state))
}

/// The `--create-session` sessions.
fn start_sessions(state: &AppState) -> Vec<session::Session> {
    state
        .settings
        .create_sessions
        .iter()
        .map(|id| session::Session::new(id.clone(), None, None, None, state.clock.now()))
        .collect()
}

/// Socket.IO's limits and state, whatever the adapter.
fn socket_builder<A: Adapter>(builder: SocketIoBuilder<A>, state: &AppState) -> SocketIoBuilder<A> {
    let limits = state.settings.limits;
    let message_bytes = limits.max_socket_message_bytes;
    builder
        .ping_interval(state.settings.ping_interval)
        .ping_timeout(state.settings.ping_timeout)
        .connect_timeout(limits.connect_timeout)
        .max_payload(u64::try_from(message_bytes).unwrap_or(u64::MAX))
        .ws_max_message_size(message_bytes)
        .ws_max_frame_size(message_bytes)
        .ws_read_buffer_size(4 * 1024)
        .max_buffer_size(128)
        .with_state(state.clone())
}

/// The router around the API and Socket.IO; starts the socket expiry sweep.
fn assemble<A: Adapter>(
    state: &AppState,
    socket_layer: SocketIoLayer<A>,
    io: SocketIo<A>,
) -> Router {
    let limits = state.settings.limits;
    state.attach_rooms(Arc::new(io.clone()));
    if let Ok(runtime) = tokio::runtime::Handle::try_current() {
        runtime.spawn(socket::expire_sockets(state.clone(), io));
    }
    let api = routes::api(state).layer(RequestBodyLimitLayer::new(limits.max_body_bytes));
    let mut router = Router::new().nest("/api", api);
    router = match &state.settings.static_dir {
        Some(dir) => router.fallback_service(
            ServeDir::new(dir).not_found_service(ServeFile::new(dir.join("index.html"))),
        ),
        None => router.fallback(routes::not_found),
    };
    let gate = preauth::PreAuthGate::new(preauth::PreAuthLimits {
        global: limits.max_unauthenticated_sessions,
        per_client: limits.max_unauthenticated_sessions_per_client,
        retry_after_secs: u32::try_from(limits.connect_timeout.as_secs().max(1))
            .unwrap_or(u32::MAX),
        websocket_only: state.settings.websocket_only,
    });
    // The outer layers wrap the whole router once, as one service, rather than each route
    // (`Router::layer` boxes every route again per layer, and each request clones its route's
    // boxes: five allocations per request, a tenth of the CPU of GET session under load).
    let stack = tower::ServiceBuilder::new()
        .layer(cors::layer(&state.settings))
        .layer(preauth::PreAuthLayer(gate))
        .map_response(IntoResponse::into_response)
        .layer(socket_layer)
        .layer(axum::middleware::map_response(error::json_refusal))
        .service(router.with_state(state.clone()));
    Router::new().fallback_service(stack)
}
