//! consult-core: every decision of the consult client, with no I/O.
//!
//! Feed it what happened (a token arrived, a response came back, "now" is T) and it says what
//! to do next (refresh now, sleep until T, retry after D, stop). No clocks, no randomness, no
//! browser: time is passed in as Unix milliseconds and random numbers as `f64` in `[0, 1)`, so
//! every rule is tested on the host.
//!
//! ```
//! use consult_core::{RefreshPolicy, TokenInfo};
//! // A 4-hour token issued at t=0 (server time), seen by a client whose clock is right.
//! let token = TokenInfo::new(4 * 3600 * 1000, Some(0));
//! let policy = RefreshPolicy::default(); // 5-minute margin
//! assert!(!policy.is_due(&token, 3 * 3600 * 1000, 0));
//! assert!(policy.is_due(&token, 4 * 3600 * 1000 - 299_000, 0));
//! ```

#![no_std]

extern crate alloc;
#[cfg(test)]
extern crate std;

pub mod ascii;
pub mod authorised;
pub mod backoff;
pub mod base64url;
pub mod classify;
pub mod connection;
pub mod engineio;
pub mod error_code;
pub mod http_date;
pub mod json;
pub mod jwt;
pub mod policy;
pub mod poll;
pub mod poll_machine;
pub mod rng;
pub mod session;
pub mod skew;
pub mod socketio;
pub mod timestamp;
pub mod wire;

pub use backoff::Backoff;
pub use classify::{Endpoint, Outcome, read_status};
pub use error_code::ErrorCode;
pub use jwt::{JwtError, TokenInfo};
pub use policy::RefreshPolicy;
pub use poll::{PollAction, PollSchedule, SessionStatus};
pub use skew::ClockSkew;

/// `value as u64` (saturating; NaN is 0), as one shared function where the conversion is long:
/// on WebAssembly 1.0 (the React Native core, through wasm2js) it is a dozen instructions, and
/// each inlined copy becomes hundreds of bytes of JavaScript. Where the target has the
/// saturating conversion instruction (`nontrapping-fptoint`: the browser cores) it is
/// that one instruction, inlined.
///
/// ```
/// assert_eq!(consult_core::to_u64(-1.5), 0);
/// assert_eq!(consult_core::to_u64(2.9), 2);
/// ```
#[cfg_attr(target_feature = "nontrapping-fptoint", inline(always))]
#[cfg_attr(not(target_feature = "nontrapping-fptoint"), inline(never))]
pub fn to_u64(value: f64) -> u64 {
    value as u64
}

/// `value as i64` (saturating; NaN is 0), shared as [`to_u64`] is.
///
/// ```
/// assert_eq!(consult_core::to_i64(-2.9), -2);
/// assert_eq!(consult_core::to_i64(f64::NAN), 0);
/// ```
#[cfg_attr(target_feature = "nontrapping-fptoint", inline(always))]
#[cfg_attr(not(target_feature = "nontrapping-fptoint"), inline(never))]
pub fn to_i64(value: f64) -> i64 {
    value as i64
}

/// Takes the first item out of `items` (the rest keep their order), or none when it is empty:
/// the action queues' and the storage queue's `pop_front`. Unlike `Vec::remove(0)` it moves
/// the items one swap at a time, so it links neither `memmove` (on WebAssembly 1.0, the React
/// Native core, a 1.5 KB function and 5 KB of JavaScript after wasm2js) nor a panic path with
/// its message; the queues hold a few items.
///
/// ```
/// let mut queue = vec![1, 2, 3];
/// assert_eq!(consult_core::pop_front(&mut queue), Some(1));
/// assert_eq!(queue, [2, 3]);
/// assert_eq!(consult_core::pop_front(&mut Vec::<u8>::new()), None);
/// ```
pub fn pop_front<T>(items: &mut alloc::vec::Vec<T>) -> Option<T> {
    let mut rest = items.iter_mut();
    if let Some(mut first) = rest.next() {
        // The first item travels to the end, each one after it moving up one place.
        for next in rest {
            core::mem::swap(first, next);
            first = next;
        }
    }
    items.pop()
}
