//! When to refresh: a margin before expiry (5 minutes, the seed's), never more than half the
//! token's lifetime, so a token shorter than the margin is not refreshed in a loop.

use crate::{ClockSkew, TokenInfo};

/// The refresh rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RefreshPolicy {
    /// Refresh this long before `exp`, at most (milliseconds).
    pub margin_ms: i64,
}

impl Default for RefreshPolicy {
    fn default() -> Self {
        Self { margin_ms: 300_000 }
    }
}

impl RefreshPolicy {
    /// A policy with the given margin in seconds (negative counts as zero).
    pub fn with_margin_seconds(seconds: f64) -> Self {
        let ms = if seconds.is_finite() {
            crate::to_i64((seconds.max(0.0) * 1000.0).min(i64::MAX as f64))
        } else {
            300_000
        };
        Self { margin_ms: ms }
    }

    /// The margin that applies to `token`: the configured one, capped at half its lifetime.
    pub fn effective_margin_ms(&self, token: &TokenInfo) -> i64 {
        match token.lifetime_ms() {
            Some(lifetime) => self.margin_ms.min(lifetime.max(0) / 2),
            None => self.margin_ms,
        }
    }

    /// Server time at which `token` should be refreshed.
    pub fn refresh_at_ms(&self, token: &TokenInfo) -> i64 {
        token
            .expires_at_ms
            .saturating_sub(self.effective_margin_ms(token))
    }

    /// Whether `token` should be refreshed now. `local_now_ms` is the device clock; `skew_ms` the
    /// measured [`ClockSkew`] offset.
    pub fn is_due(&self, token: &TokenInfo, local_now_ms: i64, skew_ms: i64) -> bool {
        ClockSkew { offset_ms: skew_ms }.server_now(local_now_ms) >= self.refresh_at_ms(token)
    }

    /// Milliseconds of device time until `token` is due (0 when it already is).
    pub fn delay_until_due_ms(&self, token: &TokenInfo, local_now_ms: i64, skew_ms: i64) -> i64 {
        let server_now = ClockSkew { offset_ms: skew_ms }.server_now(local_now_ms);
        self.refresh_at_ms(token).saturating_sub(server_now).max(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const HOUR: i64 = 3_600_000;

    #[test]
    fn a_four_hour_token_is_due_five_minutes_before_expiry() {
        let token = TokenInfo::new(4 * HOUR, Some(0));
        let policy = RefreshPolicy::default();
        assert!(!policy.is_due(&token, 4 * HOUR - 300_001, 0));
        assert!(policy.is_due(&token, 4 * HOUR - 300_000, 0));
        assert_eq!(policy.delay_until_due_ms(&token, 0, 0), 4 * HOUR - 300_000);
    }

    #[test]
    fn a_token_shorter_than_the_margin_is_due_at_half_life_not_at_once() {
        let token = TokenInfo::new(60_000, Some(0));
        let policy = RefreshPolicy::default();
        assert!(
            !policy.is_due(&token, 0, 0),
            "a fresh 60 s token must not be due immediately"
        );
        assert!(!policy.is_due(&token, 29_999, 0));
        assert!(policy.is_due(&token, 30_000, 0));
    }

    #[test]
    fn skew_is_applied() {
        let token = TokenInfo::new(4 * HOUR, Some(0));
        let policy = RefreshPolicy::default();
        // Device one hour fast: its clock reads 1 h ahead of the server's.
        assert!(!policy.is_due(&token, 4 * HOUR, -HOUR));
        // Device one hour slow.
        assert!(policy.is_due(&token, 3 * HOUR, HOUR));
    }

    #[test]
    fn sleeping_past_expiry_makes_it_due() {
        let token = TokenInfo::new(4 * HOUR, Some(0));
        assert!(RefreshPolicy::default().is_due(&token, 10 * HOUR, 0));
        assert_eq!(
            RefreshPolicy::default().delay_until_due_ms(&token, 10 * HOUR, 0),
            0
        );
    }

    proptest! {
        /// With skew corrected, a client refreshes exactly once per lifetime: a fresh token is
        /// never due, and every token becomes due before it expires.
        #[test]
        fn one_refresh_per_lifetime(
            lifetime in 1_000i64..(8 * HOUR),
            margin in 0i64..(2 * HOUR),
            issued in 0i64..4_000_000_000_000,
            skew in -HOUR..HOUR,
        ) {
            let policy = RefreshPolicy { margin_ms: margin };
            let token = TokenInfo::new(issued + lifetime, Some(issued));
            let local_at_issue = issued - skew;
            prop_assert!(!policy.is_due(&token, local_at_issue, skew), "fresh token due at once");
            prop_assert!(policy.is_due(&token, local_at_issue + lifetime, skew), "not due at expiry");
            prop_assert!(policy.refresh_at_ms(&token) >= issued + lifetime / 2);
        }
    }
}
