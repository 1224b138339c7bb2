//! consult-client: keeps a video consultation authenticated for hours.
//!
//! The Rust API (the Leptos demo uses it) is a thin executor of consult-core's machines: the
//! token session ([`consult_core::session::TokenSession`]) decides when to load, refresh, retry,
//! adopt another tab's token or end the sign-in; this crate only does the browser I/O — fetch,
//! IndexedDB and web storage, timers, Web Locks, BroadcastChannel, page events, WebSocket.
//!
//! JavaScript gets the npm package instead: its own driver (`js/`) over the same machines,
//! exported by the `js` feature (`src/js/`, a hand-written boundary with no import). The Rust API
//! is the default feature `rust-api`; the npm build turns it off and turns on `small-alloc`, so
//! its wasm holds the machines and their exports only. By default no global allocator is
//! installed.
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

// Without its Rust API (the npm package's wasm) the crate is `no_std`: stable Rust's prebuilt
// `core` and `alloc` serve it, with no rebuilt std and no unstable flag (scripts/build-core-wasm.sh).
#![cfg_attr(not(feature = "rust-api"), no_std)]

extern crate alloc;

/// Declares the Rust API's modules: they compile only with the feature `rust-api` (the
/// default), so the npm package's wasm (`--no-default-features --features js-video,small-alloc`)
/// holds consult-core's machines and their exports alone.
macro_rules! rust_api_modules {
    ($($module:ident),* $(,)?) => {
        $(
            #[cfg(feature = "rust-api")]
            mod $module;
        )*
    };
}

rust_api_modules!(
    client, details, driver, env, error, events, http, idb, lock, poller, room_event, socket,
    storage, tabs, wake,
);

#[cfg(feature = "js")]
mod js;

#[cfg(feature = "rust-api")]
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
#[cfg(feature = "rust-api")]
pub use consult_core::session::Grant as SessionGrant;

/// The package's wasm (`no_std`) stops at a panic: a trap, no message (no input reaches one; a
/// property test feeds every export arbitrary values). Nothing formats the panic, so none of
/// `core`'s formatting is linked.
#[cfg(all(target_arch = "wasm32", not(feature = "rust-api"), not(test)))]
#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    core::arch::wasm32::unreachable()
}

/// A small allocator: std's dlmalloc costs ~7 KB of wasm; the client allocates little.
#[cfg(all(target_arch = "wasm32", feature = "small-alloc"))]
#[global_allocator]
static ALLOCATOR: lol_alloc::AssumeSingleThreaded<lol_alloc::FreeListAllocator> =
    // SAFETY: wasm32-unknown-unknown without atomics runs one thread.
    unsafe { lol_alloc::AssumeSingleThreaded::new(lol_alloc::FreeListAllocator::new()) };
