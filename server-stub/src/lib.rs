//! consult-stub: the video-consultation backend consult's clients are built and tested against.
//!
//! It keeps the seed backend's wire contract (see `DESIGN.md`, "The wire contract") and makes it
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
pub mod extract;
pub mod faults;
pub mod ids;
pub mod limits;
pub mod logging;
pub mod routes;
pub mod serve;
pub mod session;
pub mod socket;
pub mod state;
pub mod stats;
pub mod store;
pub mod tokens;

use std::sync::Arc;

use axum::Router;
use socketioxide::SocketIo;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::services::{ServeDir, ServeFile};

use crate::clock::Clock;
use crate::config::Settings;
use crate::state::AppState;

/// Why the application could not be built.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// The settings are refused (see [`Settings::validate`]).
    #[error(transparent)]
    Config(#[from] config::ConfigError),
    /// The JWT backend refused the secret.
    #[error("cannot set up token signing: {0}")]
    Jwt(#[from] jsonwebtoken::errors::Error),
}

/// Builds the whole application: API, dev hooks (when enabled), Socket.IO with its limits,
/// CORS allowlist, JSON errors, body limit and the optional static folder. (No per-request
/// trace span: tower-http logs at `debug`, which [`logging`] never lets through.) Must be
/// called inside a Tokio runtime (it starts the task that expires sockets).
pub fn build_app(
    settings: Settings,
    clock: Arc<dyn Clock>,
) -> Result<(Router, AppState), BuildError> {
    settings.validate()?;
    let state = AppState::new(settings, clock)?;
    let limits = state.settings.limits;
    let message_bytes = limits.max_socket_message_bytes;
    let (socket_layer, io) = SocketIo::builder()
        .ping_interval(state.settings.ping_interval)
        .ping_timeout(state.settings.ping_timeout)
        .connect_timeout(limits.connect_timeout)
        .max_payload(u64::try_from(message_bytes).unwrap_or(u64::MAX))
        .ws_max_message_size(message_bytes)
        .ws_max_frame_size(message_bytes)
        .ws_read_buffer_size(4 * 1024)
        .max_buffer_size(128)
        .with_state(state.clone())
        .build_layer();
    socket::register(&io);
    state.attach_io(io);
    if let Ok(runtime) = tokio::runtime::Handle::try_current() {
        runtime.spawn(socket::expire_sockets(state.clone()));
    }
    for session_id in &state.settings.create_sessions {
        let session =
            session::Session::new(session_id.clone(), None, None, None, state.clock.now());
        // A duplicate id on the command line is harmless: the first one stays.
        let _ = state.store().insert_session(session);
    }

    let api = routes::api(&state).layer(RequestBodyLimitLayer::new(limits.max_body_bytes));
    let mut router = Router::new().nest("/api", api);
    router = match &state.settings.static_dir {
        Some(dir) => router.fallback_service(
            ServeDir::new(dir).not_found_service(ServeFile::new(dir.join("index.html"))),
        ),
        None => router.fallback(routes::not_found),
    };
    let router = router
        .with_state(state.clone())
        .layer(axum::middleware::map_response(error::json_refusal))
        .layer(socket_layer)
        .layer(cors::layer(&state.settings));
    Ok((router, state))
}
