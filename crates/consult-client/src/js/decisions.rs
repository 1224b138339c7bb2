//! Token times, clock skew, the refresh policy, backoff and status classification.

use consult_core::{Backoff, ClockSkew, Outcome, RefreshPolicy, TokenInfo};
use wasm_bindgen::prelude::*;

use super::{ms, ms_u64};

/// The JSON text of a JWT's payload (not verified); `undefined` when the string is not a JWT.
///
/// ```js
/// JSON.parse(jwtPayload(token)).exp
/// ```
#[wasm_bindgen(js_name = jwtPayload)]
pub fn jwt_payload(token: &str) -> Option<String> {
    consult_core::jwt::payload_json(token).ok()
}

/// The token's expiry (Unix ms, server time): the claims' `exp` (seconds), or else the
/// server's or stored `expires_at` (RFC 3339, naive = UTC, or epoch seconds). `undefined` when
/// the token has no usable expiry.
#[wasm_bindgen(js_name = tokenExpiresAt)]
pub fn token_expires_at(
    exp: Option<f64>,
    iat: Option<f64>,
    expires_at: Option<String>,
) -> Option<f64> {
    match TokenInfo::from_claims(exp, iat) {
        Ok(info) => Some(info.expires_at_ms as f64),
        Err(_) => expires_at
            .as_deref()
            .and_then(consult_core::timestamp::parse_expires_at)
            .map(|at| at as f64),
    }
}

/// `iat` in ms, when the claims carry a plausible one (before `exp`).
#[wasm_bindgen(js_name = tokenIssuedAt)]
pub fn token_issued_at(exp: Option<f64>, iat: Option<f64>) -> Option<f64> {
    TokenInfo::from_claims(exp, iat)
        .ok()
        .and_then(|info| info.issued_at_ms)
        .map(|at| at as f64)
}

fn token(exp_ms: f64, iat_ms: Option<f64>) -> TokenInfo {
    TokenInfo::new(ms(exp_ms), iat_ms.map(ms))
}

/// Whether the token is due for refresh at device time `now_ms` (margin capped at half the
/// token's lifetime, server − device skew applied).
#[wasm_bindgen(js_name = isDue)]
pub fn is_due(
    margin_seconds: f64,
    exp_ms: f64,
    iat_ms: Option<f64>,
    now_ms: f64,
    skew_ms: f64,
) -> bool {
    RefreshPolicy::with_margin_seconds(margin_seconds).is_due(
        &token(exp_ms, iat_ms),
        ms(now_ms),
        ms(skew_ms),
    )
}

/// Device milliseconds until the token is due (0 when it is).
#[wasm_bindgen(js_name = delayUntilDue)]
pub fn delay_until_due(
    margin_seconds: f64,
    exp_ms: f64,
    iat_ms: Option<f64>,
    now_ms: f64,
    skew_ms: f64,
) -> f64 {
    RefreshPolicy::with_margin_seconds(margin_seconds).delay_until_due_ms(
        &token(exp_ms, iat_ms),
        ms(now_ms),
        ms(skew_ms),
    ) as f64
}

/// Whether the token has expired at device time `now_ms` (skew applied).
#[wasm_bindgen(js_name = isExpired)]
pub fn is_expired(exp_ms: f64, now_ms: f64, skew_ms: f64) -> bool {
    let skew = ClockSkew {
        offset_ms: ms(skew_ms),
    };
    token(exp_ms, None).is_expired(skew.server_now(ms(now_ms)))
}

/// Clock skew (server − device, ms) measured at receipt: from the server's "now" when the
/// answer tells it (`serverTimeFromExpiresIn`, or a fresh token's `iat`), else from `Date`.
#[wasm_bindgen(js_name = estimateSkew)]
pub fn estimate_skew(received_ms: f64, server_now_ms: Option<f64>, date_ms: Option<f64>) -> f64 {
    ClockSkew::estimate(ms(received_ms), server_now_ms.map(ms), date_ms.map(ms)).offset_ms as f64
}

/// The server's clock when it answered, from the token's expiry and `expires_in` (seconds).
#[wasm_bindgen(js_name = serverTimeFromExpiresIn)]
pub fn server_time_from_expires_in(expires_at_ms: f64, expires_in: Option<f64>) -> Option<f64> {
    ClockSkew::server_time_from_expires_in(ms(expires_at_ms), expires_in).map(|at| at as f64)
}

/// An HTTP `Date` header in Unix ms.
#[wasm_bindgen(js_name = parseHttpDate)]
pub fn parse_http_date(text: &str) -> Option<f64> {
    consult_core::http_date::parse(text).map(|at| at as f64)
}

/// A `Retry-After` header (seconds) in ms.
#[wasm_bindgen(js_name = retryAfterMs)]
pub fn retry_after_ms(text: &str) -> Option<f64> {
    consult_core::backoff::retry_after_ms(text).map(|delay| delay as f64)
}

/// How to treat an HTTP status: 0 success, 1 transient (retry), 2 unauthorized, 3 failed.
#[wasm_bindgen(js_name = classifyStatus)]
pub fn classify_status(status: u16) -> u8 {
    match consult_core::classify_status(status) {
        Outcome::Success => 0,
        Outcome::Transient => 1,
        Outcome::Unauthorized => 2,
        Outcome::Failed => 3,
    }
}

/// The wait after failure number `attempt` (0-based): full jitter under
/// `min(max, base·2^attempt)`, at least `Retry-After` (capped at 5 min).
#[wasm_bindgen(js_name = backoffDelay)]
pub fn backoff_delay(
    base_ms: f64,
    max_ms: f64,
    attempt: u32,
    random: f64,
    retry_after_ms: Option<f64>,
) -> f64 {
    let mut backoff = Backoff::new(ms_u64(base_ms), ms_u64(max_ms));
    backoff.attempt = attempt;
    backoff.next_delay_ms(random, retry_after_ms.map(ms_u64)) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tokens_exp_wins_over_a_naive_expires_at_which_is_read_as_utc() {
        assert_eq!(
            token_expires_at(Some(100.0), Some(40.0), Some("1999-01-01T00:00:00".into())),
            Some(100_000.0)
        );
        assert_eq!(
            token_expires_at(None, None, Some("1970-01-01T00:01:40".into())),
            Some(100_000.0)
        );
        assert_eq!(token_expires_at(None, None, Some("tomorrow".into())), None);
        assert_eq!(token_issued_at(Some(100.0), Some(40.0)), Some(40_000.0));
    }

    #[test]
    fn non_finite_numbers_count_as_zero_instead_of_failing() {
        assert!(is_expired(f64::NAN, 1.0, f64::INFINITY));
        assert_eq!(
            delay_until_due(300.0, f64::NAN, None, f64::NAN, f64::NAN),
            0.0
        );
        assert_eq!(estimate_skew(f64::NAN, None, None), 0.0);
    }

    #[test]
    fn backoff_waits_at_least_retry_after_and_statuses_are_classified() {
        assert!(backoff_delay(500.0, 8000.0, 0, 0.0, Some(3000.0)) >= 3000.0);
        assert!(backoff_delay(500.0, 8000.0, 10, 0.999, None) <= 8000.0);
        assert_eq!([200, 503, 401, 404].map(classify_status), [0, 1, 2, 3]);
        assert_eq!(retry_after_ms("2"), Some(2000.0));
        assert_eq!(
            parse_http_date("Thu, 01 Jan 1970 00:01:40 GMT"),
            Some(100_000.0)
        );
    }

    #[test]
    fn the_jwt_payload_is_its_json_text_and_garbage_is_undefined() {
        // {"exp":100} in base64url.
        assert_eq!(
            jwt_payload("e30.eyJleHAiOjEwMH0.sig").as_deref(),
            Some(r#"{"exp":100}"#)
        );
        assert_eq!(jwt_payload("not a token"), None);
    }
}
