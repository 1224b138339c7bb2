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

pub use backoff::Backoff;
pub use classify::{Outcome, classify_status};
pub use error_code::ErrorCode;
pub use jwt::{JwtError, TokenInfo};
pub use policy::RefreshPolicy;
pub use poll::{PollAction, PollSchedule, SessionStatus};
pub use skew::ClockSkew;
