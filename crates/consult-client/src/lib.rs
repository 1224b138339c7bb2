//! consult-client: keeps a video consultation authenticated for hours.
//!
//! The Rust API (the Leptos demo uses it) is a thin executor of consult-core's machines: the
//! token session ([`consult_core::session::TokenSession`]) decides when to load, refresh, retry,
//! adopt another tab's token or end the sign-in; this crate only does the browser I/O — fetch,
//! IndexedDB and web storage, timers, Web Locks, BroadcastChannel, page events, WebSocket.
//!
//! JavaScript gets the npm package instead (crate `consult-js`): its own driver over the same
//! machines, compiled to wasm.
//!
//! ```no_run
//! use std::rc::Rc;
//! use consult_client::{ClientOptions, ConsultClient, PollOptions};
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let client = ConsultClient::new(ClientOptions::new("http://127.0.0.1:8086"))?;
//! let token = client.get_valid_token().await?;
//! let poller = client.poll_session("session-1", PollOptions {
//!     interval_ms: 5_000,
//!     on_update: Rc::new(|session| { let _ = session.status(); }),
//!     on_error: None,
//!     on_end: None,
//! });
//! poller.stop();
//! # let _ = token; Ok(()) }
//! ```

mod client;
mod details;
mod driver;
mod env;
mod error;
mod events;
mod http;
mod idb;
mod lock;
#[cfg(all(test, not(target_arch = "wasm32")))]
mod options_table;
mod poller;
mod pump;
mod room_event;
mod socket;
mod storage;
mod tabs;
mod wake;

pub use {
    client::{ClientOptions, ConsultClient, Subscription},
    consult_core::connection::ConnectionConfig,
    consult_core::{ErrorCode, SessionStatus},
    details::SessionDetails,
    env::Now,
    error::{ClientError, InvalidOptions},
    events::{ClientEvent, EventKind, Listener, TokenSnapshot},
    http::join_url,
    poller::{PollEnd, PollOptions, SessionPoller},
    room_event::{JoinedRoom, Participant, RoomError, RoomEvent, RoomState, StatusChange},
    socket::{SessionListener, VideoSession, VideoSessionOptions},
    storage::{StorageKeys, StorageKind},
};

/// What sign-in (or a refresh done elsewhere) returned.
pub use consult_core::session::Grant as SessionGrant;
