//! Retry delays: capped exponential backoff with full jitter (AWS architecture blog's
//! "full jitter"), honouring a server's `Retry-After`.

/// Backoff state for one kind of retry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// First ceiling (milliseconds).
    pub base_ms: u64,
    /// Largest ceiling (milliseconds).
    pub max_ms: u64,
    /// Failures so far.
    pub attempt: u32,
}

/// Longest `Retry-After` honoured; a server asking for more gets this.
pub const MAX_RETRY_AFTER_MS: u64 = 300_000;

impl Default for Backoff {
    fn default() -> Self {
        Self {
            base_ms: 1_000,
            max_ms: 30_000,
            attempt: 0,
        }
    }
}

impl Backoff {
    /// A backoff between `base_ms` and `max_ms`.
    pub fn new(base_ms: u64, max_ms: u64) -> Self {
        Self {
            base_ms,
            max_ms: max_ms.max(base_ms),
            attempt: 0,
        }
    }

    /// The current ceiling: `min(max, base · 2^attempt)`.
    pub fn ceiling_ms(&self) -> u64 {
        crate::saturating_shl(self.base_ms, self.attempt.min(40)).min(self.max_ms)
    }

    /// Records a failure and returns how long to wait: uniform in `[0, ceiling)` (`random` in
    /// `[0, 1)`), but never less than the server's `Retry-After` (capped at five minutes).
    ///
    /// ```
    /// use consult_core::Backoff;
    /// let mut backoff = Backoff::new(1_000, 30_000);
    /// assert_eq!(backoff.next_delay_ms(0.5, None), 500);     // ceiling 1 s
    /// assert_eq!(backoff.next_delay_ms(0.5, None), 1_000);   // ceiling 2 s
    /// assert_eq!(backoff.next_delay_ms(0.0, Some(7_000)), 7_000);
    /// ```
    pub fn next_delay_ms(&mut self, random: f64, retry_after_ms: Option<u64>) -> u64 {
        let random = if random.is_finite() {
            random.clamp(0.0, 1.0)
        } else {
            0.5
        };
        let jittered = crate::to_u64(self.ceiling_ms() as f64 * random);
        self.attempt = self.attempt.saturating_add(1);
        jittered.max(retry_after_ms.unwrap_or(0).min(MAX_RETRY_AFTER_MS))
    }

    /// Forgets past failures (after a success).
    pub fn reset(&mut self) {
        self.attempt = 0;
    }
}

/// Reads a `Retry-After` value given in seconds (the HTTP-date form is not used by our server).
///
/// ```
/// assert_eq!(consult_core::backoff::retry_after_ms("7"), Some(7_000));
/// assert_eq!(consult_core::backoff::retry_after_ms("soon"), None);
/// ```
pub fn retry_after_ms(value: &str) -> Option<u64> {
    // `http_date::int` and an ASCII trim: core's generic parser and Unicode trim are ~1 KB of
    // wasm, and a header is ASCII.
    crate::http_date::int(value.trim_ascii())
        .and_then(|s| u64::try_from(s).ok())
        // `saturating_mul(1000)` by a comparison: see `saturating_shl`.
        .map(|s| {
            if s <= u64::MAX / 1000 {
                s * 1000
            } else {
                u64::MAX
            }
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::{string::ToString, vec::Vec};
    use proptest::prelude::*;

    #[test]
    fn ceilings_double_then_cap() {
        let mut backoff = Backoff::new(1_000, 5_000);
        let ceilings: Vec<u64> = (0..5)
            .map(|_| {
                let c = backoff.ceiling_ms();
                backoff.next_delay_ms(0.0, None);
                c
            })
            .collect();
        assert_eq!(ceilings, [1_000, 2_000, 4_000, 5_000, 5_000]);
        backoff.reset();
        assert_eq!(backoff.ceiling_ms(), 1_000);
    }

    /// Seconds become milliseconds up to the largest count that fits, then saturate (session
    /// 10's mutation run: a limit of `u64::MAX % 1000`, 615 s, saturated ordinary values).
    #[test]
    fn retry_after_seconds_saturate_only_past_what_fits() {
        assert_eq!(retry_after_ms("700"), Some(700_000));
        assert_eq!(retry_after_ms(" 86400 "), Some(86_400_000));
        let largest = u64::MAX / 1000;
        assert_eq!(retry_after_ms(&largest.to_string()), Some(largest * 1000));
        assert_eq!(retry_after_ms(&(largest + 1).to_string()), Some(u64::MAX));
    }

    #[test]
    fn retry_after_is_a_floor_but_capped() {
        let mut backoff = Backoff::default();
        assert_eq!(
            backoff.next_delay_ms(0.9, Some(10_000_000)),
            MAX_RETRY_AFTER_MS
        );
    }

    proptest! {
        #[test]
        fn delays_stay_within_the_ceiling(random in 0.0f64..1.0, failures in 0u32..100) {
            let mut backoff = Backoff::new(1_000, 30_000);
            for _ in 0..failures { backoff.next_delay_ms(random, None); }
            let ceiling = backoff.ceiling_ms();
            let delay = backoff.next_delay_ms(random, None);
            prop_assert!(delay <= ceiling && ceiling <= 30_000);
        }
    }
}
