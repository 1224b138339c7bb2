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
pub mod utf8;
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

/// `value · 2^shift`, saturating at `u64::MAX` (`shift` below 64): the backoffs' doubling.
/// `saturating_mul` would check the product through a 128-bit multiplication (`__multi3`, a
/// kilobyte of JavaScript after wasm2js); a shift needs only the count of leading zeros.
///
/// ```
/// assert_eq!(consult_core::saturating_shl(3, 2), 12);
/// assert_eq!(consult_core::saturating_shl(u64::MAX / 2, 2), u64::MAX);
/// ```
pub fn saturating_shl(value: u64, shift: u32) -> u64 {
    if value.leading_zeros() >= shift {
        value << shift
    } else {
        u64::MAX
    }
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

#[cfg(test)]
mod tests {
    use alloc::vec::Vec;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn saturating_shl_is_saturating_mul_by_a_power_of_two(value: u64, shift in 0u32..64) {
            prop_assert_eq!(super::saturating_shl(value, shift), value.saturating_mul(1 << shift));
        }

        #[test]
        fn pop_front_is_remove_0(items: Vec<u8>) {
            let (mut ours, mut theirs) = (items.clone(), items);
            let expected = (!theirs.is_empty()).then(|| theirs.remove(0));
            prop_assert_eq!(super::pop_front(&mut ours), expected);
            prop_assert_eq!(ours, theirs);
        }
    }
}
