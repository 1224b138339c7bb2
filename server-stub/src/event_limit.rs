//! The socket event rate limit, per sign-in rather than per socket: a sign-in's sockets share
//! one bucket, and reconnecting does not refill it. A bucket is forgotten once it would be full
//! again anyway, so the map holds only sign-ins that sent events lately.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use crate::limits::Bucket;

/// The event buckets of this instance's sign-ins.
#[derive(Debug, Default)]
pub struct EventLimit {
    buckets: Mutex<HashMap<String, Bucket>>,
}

impl EventLimit {
    /// Takes one event of sign-in `sid`'s bucket (`burst`, one more per `interval`) at `now_ms`;
    /// `false` when it is empty.
    ///
    /// ```
    /// use consult_stub::event_limit::EventLimit;
    /// use std::time::Duration;
    /// let limit = EventLimit::default();
    /// let every = Duration::from_millis(100);
    /// assert!(limit.take("s", 1, every, 0));
    /// assert!(!limit.take("s", 1, every, 50), "the same sign-in, from any socket");
    /// assert!(limit.take("t", 1, every, 50));
    /// ```
    pub fn take(&self, sid: &str, burst: u32, interval: Duration, now_ms: i64) -> bool {
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        match buckets.get_mut(sid) {
            Some(bucket) => bucket.take(burst, interval, now_ms),
            None => {
                let mut bucket = Bucket::full(burst, now_ms);
                let taken = bucket.take(burst, interval, now_ms);
                buckets.insert(sid.to_owned(), bucket);
                taken
            }
        }
    }

    /// Forgets the buckets that are full again by `now_ms` (a new one would be the same).
    pub fn forget_refilled(&self, burst: u32, interval: Duration, now_ms: i64) {
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        buckets.retain(|_, bucket| bucket.full_at(burst, interval) > now_ms);
    }

    /// How many sign-ins have a bucket.
    pub fn len(&self) -> usize {
        self.buckets.lock().unwrap_or_else(|p| p.into_inner()).len()
    }

    /// Whether no sign-in has a bucket.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
