//! consult-stub: the video-consultation backend consult's clients are built and tested against.
//!
//! It keeps the seed backend's wire contract (see `DESIGN.md`, "The wire contract") and makes it
//! safer: expired tokens are accepted only within a refresh grace and a session max age, each
//! token is refreshed once (a repeat within the reuse window gets the same successor, a later
//! reuse revokes the sign-in), and logout revokes.
//!
//! ```no_run
//! # async fn run() -> std::io::Result<()> {
//! use std::sync::Arc;
//! use consult_stub::{build_app, clock::SystemClock, config::Settings};
//! let (router, _state) = build_app(Settings::with_secret(b"dev".to_vec()), Arc::new(SystemClock))
//!     .map_err(std::io::Error::other)?;
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//! axum::serve(listener, router).await
//! # }
//! ```

pub mod auth;
pub mod clock;
pub mod config;
pub mod error;
pub mod extract;
pub mod faults;
pub mod routes;
pub mod session;
pub mod socket;
pub mod state;
pub mod stats;
pub mod store;
pub mod tokens;

use std::sync::Arc;

use axum::Router;
use axum::http::{HeaderName, Method, header};
use socketioxide::SocketIo;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::services::{ServeDir, ServeFile};
use tower_http::trace::TraceLayer;

use crate::clock::Clock;
use crate::config::Settings;
use crate::state::AppState;

/// Largest request body the API reads.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// Builds the whole application: API, dev hooks, Socket.IO, CORS, tracing, body limit and the
/// optional static folder. Fails only if the JWT backend refuses the secret.
pub fn build_app(
    settings: Settings,
    clock: Arc<dyn Clock>,
) -> Result<(Router, AppState), jsonwebtoken::errors::Error> {
    let state = AppState::new(settings, clock)?;
    let (socket_layer, io) = SocketIo::builder()
        .ping_interval(state.settings.ping_interval)
        .ping_timeout(state.settings.ping_timeout)
        .with_state(state.clone())
        .build_layer();
    socket::register(&io);
    state.attach_io(io);
    for session_id in &state.settings.create_sessions {
        let session =
            session::Session::new(session_id.clone(), None, None, None, state.clock.now());
        // A duplicate id on the command line is harmless: the first one stays.
        let _ = state.store().insert_session(session);
    }

    let api = routes::api(&state).layer(RequestBodyLimitLayer::new(MAX_BODY_BYTES));
    let mut router = Router::new().nest("/api", api);
    router = match &state.settings.static_dir {
        Some(dir) => router.fallback_service(
            ServeDir::new(dir).not_found_service(ServeFile::new(dir.join("index.html"))),
        ),
        None => router.fallback(routes::not_found),
    };
    let router = router
        .with_state(state.clone())
        .layer(socket_layer)
        .layer(cors())
        .layer(TraceLayer::new_for_http());
    Ok((router, state))
}

/// Any origin may call (this is a development server), with the headers clients need to read.
fn cors() -> CorsLayer {
    CorsLayer::new()
        .allow_origin(AllowOrigin::mirror_request())
        .allow_methods([
            Method::GET,
            Method::POST,
            Method::PATCH,
            Method::DELETE,
            Method::OPTIONS,
        ])
        .allow_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            header::IF_NONE_MATCH,
        ])
        .expose_headers([
            header::DATE,
            header::ETAG,
            header::RETRY_AFTER,
            HeaderName::from_static("www-authenticate"),
        ])
        .max_age(std::time::Duration::from_secs(600))
}
