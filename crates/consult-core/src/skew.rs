//! Clock skew: how far the device clock is from the server's. Token times are server times;
//! comparing them with a device clock that is ten minutes fast would refresh on every call.

/// The measured offset: `server_now = local_now + offset_ms`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ClockSkew {
    /// Milliseconds to add to the local clock to get server time.
    pub offset_ms: i64,
}

/// Offsets smaller than this are noise (the sources have one-second resolution).
const NOISE_MS: i64 = 1_500;

impl ClockSkew {
    /// No correction.
    pub const NONE: ClockSkew = ClockSkew { offset_ms: 0 };

    /// Estimates the skew at the moment a response was received (`local_receipt_ms`), from the
    /// `iat` of a token issued by that response and/or the response's `Date` header. `iat` is
    /// preferred (it is what expiry is computed from); `Date` is the fallback. Offsets within
    /// the sources' resolution count as zero.
    ///
    /// ```
    /// use consult_core::ClockSkew;
    /// // The device is one hour fast: the server issued the token "an hour ago" by its clock.
    /// let skew = ClockSkew::estimate(10_000_000, Some(10_000_000 - 3_600_000), None);
    /// assert_eq!(skew.server_now(10_000_000), 10_000_000 - 3_600_000);
    /// ```
    pub fn estimate(
        local_receipt_ms: i64,
        fresh_iat_ms: Option<i64>,
        date_header_ms: Option<i64>,
    ) -> ClockSkew {
        let Some(server_ms) = fresh_iat_ms.or(date_header_ms) else {
            return ClockSkew::NONE;
        };
        let offset_ms = server_ms.saturating_sub(local_receipt_ms);
        if offset_ms.unsigned_abs() < NOISE_MS.unsigned_abs() {
            ClockSkew::NONE
        } else {
            ClockSkew { offset_ms }
        }
    }

    /// The server's clock when it answered, from the token's `exp` and the answer's
    /// `expires_in` (seconds left then); `None` without a usable `expires_in`.
    ///
    /// ```
    /// use consult_core::ClockSkew;
    /// assert_eq!(ClockSkew::server_time_from_expires_in(100_000, Some(40.0)), Some(60_000));
    /// assert_eq!(ClockSkew::server_time_from_expires_in(100_000, Some(f64::NAN)), None);
    /// ```
    pub fn server_time_from_expires_in(
        expires_at_ms: i64,
        expires_in_secs: Option<f64>,
    ) -> Option<i64> {
        let seconds = expires_in_secs.filter(|s| s.is_finite() && s.abs() < 1e10)?;
        Some(expires_at_ms.saturating_sub(crate::to_i64(seconds * 1000.0)))
    }

    /// Server time at local time `local_now_ms`.
    pub fn server_now(&self, local_now_ms: i64) -> i64 {
        local_now_ms.saturating_add(self.offset_ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn prefers_iat_and_falls_back_to_date() {
        assert_eq!(
            ClockSkew::estimate(0, Some(-600_000), Some(5_000_000)).offset_ms,
            -600_000
        );
        assert_eq!(
            ClockSkew::estimate(0, None, Some(600_000)).offset_ms,
            600_000
        );
        assert_eq!(ClockSkew::estimate(0, None, None), ClockSkew::NONE);
    }

    #[test]
    fn ignores_sub_second_noise() {
        assert_eq!(
            ClockSkew::estimate(10_000, Some(9_000), None),
            ClockSkew::NONE
        );
    }

    proptest! {
        #[test]
        fn corrected_time_matches_the_server(local in 0i64..4_000_000_000_000, offset in -7_200_000i64..7_200_000) {
            let skew = ClockSkew::estimate(local, Some(local + offset), None);
            prop_assert!((skew.server_now(local) - (local + offset)).abs() < NOISE_MS);
        }
    }
}
