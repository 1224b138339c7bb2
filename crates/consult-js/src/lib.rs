//! consult-js: the npm package `consult-client` — consult-core's machines as synchronous wasm
//! exports, for the package's JavaScript driver (`js/consult_client.js`, through the hand-written
//! binding `js/consult_core.js`). The driver
//! does the I/O (fetch, timers, storage, Web Locks, BroadcastChannel, WebSocket); every decision
//! it takes comes from here.
//!
//! Each machine (`session.rs`, `poll.rs`, `socket.rs`) is a Rust type with typed methods (the
//! host tests call them) and, below it, its `extern "C"` exports. The socket machine's come with
//! the `video` feature (a default): the package's `consult-client/slim` entry is built without
//! them. Conventions at the boundary (`abi.rs`): machines behind handles; times are Unix milliseconds as `f64`; a number's "none"
//! is NaN; strings cross as UTF-8 through the core's in and out buffers, a byte length of −1
//! meaning none; random numbers are `f64` in `[0, 1)` drawn by the caller. Nothing here can
//! panic on any input: non-finite numbers count as 0, every parse answers none, a handle that
//! names no machine is ignored.
//!
//! On wasm32 (the package) the crate is `no_std`: stable Rust's prebuilt `core` and `alloc`
//! serve it, with a small allocator and a panic handler that traps and formats nothing. On the
//! host (its tests) it has std.

#![cfg_attr(target_arch = "wasm32", no_std)]

extern crate alloc;

mod abi;
mod decisions;
mod poll;
mod session;
#[cfg(feature = "video")]
mod socket;

/// A JS number (ms) as `i64`; NaN and ±∞ count as 0. One shared function, not inlined into
/// every export: on WebAssembly 1.0 (the React Native core) the conversion is a dozen
/// instructions, and wasm2js makes each copy a few hundred bytes of JavaScript.
#[inline(never)]
fn ms(value: f64) -> i64 {
    if value.is_finite() {
        consult_core::to_i64(value)
    } else {
        0
    }
}

/// A JS number (ms) as a non-negative `u64` (the socket machine's times).
#[cfg(feature = "video")]
fn ms_u64(value: f64) -> u64 {
    ms(value).max(0) as u64
}

#[cfg(all(test, not(target_arch = "wasm32"), feature = "video"))]
mod options_table;
#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests;

/// The package's wasm stops at a panic: a trap, no message (no input reaches one; a property
/// test feeds every export arbitrary values). Nothing formats the panic, so none of `core`'s
/// formatting is linked.
#[cfg(all(target_arch = "wasm32", not(test)))]
#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    core::arch::wasm32::unreachable()
}

/// A small allocator: std's dlmalloc costs ~7 KB of wasm; the machines allocate little.
#[cfg(target_arch = "wasm32")]
#[global_allocator]
static ALLOCATOR: lol_alloc::AssumeSingleThreaded<lol_alloc::FreeListAllocator> =
    // SAFETY: wasm32-unknown-unknown and wasm32v1-none without atomics run one thread.
    unsafe { lol_alloc::AssumeSingleThreaded::new(lol_alloc::FreeListAllocator::new()) };
