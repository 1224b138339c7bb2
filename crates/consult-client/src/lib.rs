//! consult-client: keeps a video consultation authenticated for hours.
//!
//! The Rust API (the Leptos demo uses it) is a thin executor of consult-core's machines: the
//! token session ([`consult_core::session::TokenSession`]) decides when to load, refresh, retry,
//! adopt another tab's token or end the sign-in; this crate only does the browser I/O — fetch,
//! IndexedDB and web storage, timers, Web Locks, BroadcastChannel, page events, WebSocket.
//!
//! JavaScript gets the npm package instead: its own driver (`js/`) over the same machines,
//! exported by the `js` feature (`src/js/`); the npm build also turns on `small-alloc`. No
//! feature is on by default, so the crate installs no global allocator.
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
#[cfg(feature = "js")]
mod js;
mod lock;
mod poller;
mod room_event;
mod socket;
mod storage;
mod tabs;
mod wake;

pub use client::{ClientOptions, ConsultClient, Subscription};
pub use consult_core::connection::ConnectionConfig;
/// What sign-in (or a refresh done elsewhere) returned.
pub use consult_core::session::Grant as SessionGrant;
pub use consult_core::{ErrorCode, SessionStatus};
pub use details::SessionDetails;
pub use env::Now;
pub use error::{ClientError, InvalidOptions};
pub use events::{ClientEvent, EventKind, Listener, TokenSnapshot};
pub use http::join_url;
pub use poller::{PollEnd, PollOptions, SessionPoller};
pub use room_event::{JoinedRoom, Participant, RoomError, RoomEvent, RoomState, StatusChange};
pub use socket::{SessionListener, VideoSession, VideoSessionOptions};
pub use storage::{StorageKeys, StorageKind};

/// A small allocator: std's dlmalloc costs ~7 KB of wasm; the client allocates little.
#[cfg(all(target_arch = "wasm32", feature = "small-alloc"))]
#[global_allocator]
static ALLOCATOR: lol_alloc::AssumeSingleThreaded<lol_alloc::FreeListAllocator> =
    // SAFETY: wasm32-unknown-unknown without atomics runs one thread.
    unsafe { lol_alloc::AssumeSingleThreaded::new(lol_alloc::FreeListAllocator::new()) };
