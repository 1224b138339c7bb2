//! The status and header decisions the poll loop still takes through here (the token decisions
//! live in the token machine, `session.rs`).

use consult_core::Outcome;
use wasm_bindgen::prelude::*;

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_are_classified_and_retry_after_is_read() {
        assert_eq!([200, 503, 401, 404].map(classify_status), [0, 1, 2, 3]);
        assert_eq!(retry_after_ms("2"), Some(2000.0));
        assert_eq!(retry_after_ms("soon"), None);
    }
}
