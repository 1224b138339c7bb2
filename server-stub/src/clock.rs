//! Where "now" comes from. The server never reads the system time directly, so tests can
//! move time forward (expiry, grace, session cap, reuse window) without sleeping.

use std::sync::{Arc, Mutex};
use time::{Duration, OffsetDateTime};

/// A source of the current UTC time.
pub trait Clock: Send + Sync + 'static {
    /// The current instant, in UTC.
    fn now(&self) -> OffsetDateTime;
}

/// The real clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }
}

/// A clock that only moves when told to; cheap to clone, all clones share one time.
///
/// ```
/// use consult_stub::clock::{Clock, ManualClock};
/// let clock = ManualClock::starting_at_unix(1_700_000_000);
/// clock.advance(time::Duration::hours(5));
/// assert_eq!(clock.now().unix_timestamp(), 1_700_000_000 + 5 * 3600);
/// ```
#[derive(Debug, Clone)]
pub struct ManualClock {
    now: Arc<Mutex<OffsetDateTime>>,
}

impl ManualClock {
    /// A clock frozen at the given Unix time (seconds); falls back to the epoch if out of range.
    pub fn starting_at_unix(seconds: i64) -> Self {
        let start =
            OffsetDateTime::from_unix_timestamp(seconds).unwrap_or(OffsetDateTime::UNIX_EPOCH);
        Self {
            now: Arc::new(Mutex::new(start)),
        }
    }

    /// Moves the clock forward (or back, with a negative duration).
    pub fn advance(&self, by: Duration) {
        let mut now = self
            .now
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        *now += by;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> OffsetDateTime {
        *self
            .now
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}
