//! The one decision the JS driver's errors need from consult-core: whether an error is worth
//! retrying (`ConsultError.retryable`). The token, poll and socket decisions live in their
//! machines (`session.rs`, `poll.rs`, `socket.rs`).

use consult_core::ErrorCode;
use wasm_bindgen::prelude::*;

/// Whether an error with this `code` and HTTP `status` (NaN or undefined: none) may succeed
/// later ([`ErrorCode::retryable_with`]); `false` for a code consult-core does not know.
#[wasm_bindgen(js_name = errorRetryable)]
pub fn error_retryable(code: &str, status: f64) -> bool {
    let status = (0.0..=999.0).contains(&status).then_some(status as u16);
    ErrorCode::parse(code).is_some_and(|code| code.retryable_with(status))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_is_worth_retrying() {
        assert!(error_retryable("HTTP", 503.0));
        assert!(error_retryable("HTTP", 429.0));
        assert!(!error_retryable("HTTP", 404.0));
        assert!(error_retryable("NETWORK", f64::NAN));
        assert!(!error_retryable("REFRESH_REJECTED", f64::NAN));
        assert!(!error_retryable("SOMETHING_ELSE", 503.0));
    }
}
