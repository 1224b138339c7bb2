//! consult-client: keeps a video consultation authenticated for hours.
//!
//! Stores the access token, refreshes it before it expires (one refresh at a time in the page,
//! and across tabs through a Web Lock), sends authorised requests (a 401 leads to one refresh
//! and one replay), and polls the session without ever overlapping requests. All decisions come
//! from [`consult_core`]; this crate only drives the browser (fetch, storage, timers, locks,
//! channels, WebSocket). This is the Rust API (the Leptos demo uses it).
//!
//! JavaScript gets the npm package instead: a hand-written driver (`js/consult_client.js`, the
//! same behaviour, tested by the same scenarios) over consult-core's decisions exported as
//! synchronous wasm functions (feature `js`, `src/js/`). Compiled Rust orchestration costs about
//! 70 KB gz of wasm; the package must stay under 30 KB gz (BENCHMARKS.md, "Package size").
//!
//! ```no_run
//! use std::rc::Rc;
//! use consult_client::{ClientOptions, ConsultClient, PollOptions};
//! # async fn run() -> Result<(), consult_client::ClientError> {
//! let client = ConsultClient::new(ClientOptions::new("http://127.0.0.1:8086"));
//! let token = client.get_valid_token().await?;
//! let poller = client.poll_session("session-1", PollOptions {
//!     interval_ms: 5_000,
//!     on_update: Rc::new(|session| { let _ = session; }),
//!     on_error: None,
//!     on_end: None,
//! });
//! poller.stop();
//! # let _ = token; Ok(()) }
//! ```

mod client;
mod env;
mod error;
mod events;
mod flight;
mod http;
mod iso;
#[cfg(feature = "js")]
mod js;
mod lock;
mod poller;
mod socket;
mod storage;
mod tabs;
mod token;
mod wake;

pub use client::{ClientOptions, ConsultClient, SessionGrant, Subscription};
pub use consult_core::ErrorCode;
pub use consult_core::connection::ConnectionConfig;
pub use env::Now;
pub use error::ClientError;
pub use events::{ClientEvent, EventKind, Listener};
pub use http::join_url;
pub use poller::{PollEnd, PollOptions, SessionPoller};
pub use socket::{SessionListener, VideoSession, VideoSessionOptions};
pub use storage::{StorageKeys, StorageKind};
pub use token::TokenSnapshot;

/// A small allocator: std's dlmalloc costs ~7 KB of wasm; the client allocates little.
#[cfg(all(target_arch = "wasm32", feature = "small-alloc"))]
#[global_allocator]
static ALLOCATOR: lol_alloc::AssumeSingleThreaded<lol_alloc::FreeListAllocator> =
    // SAFETY: wasm32-unknown-unknown without atomics runs one thread.
    unsafe { lol_alloc::AssumeSingleThreaded::new(lol_alloc::FreeListAllocator::new()) };
