//! The one decision the JS driver's errors need from consult-core: whether an error is worth
//! retrying (`ConsultError.retryable`). The token, poll and socket decisions live in their
//! machines (`session.rs`, `poll.rs`, `socket.rs`).

use consult_core::ErrorCode;

/// Whether an error with this `code` and HTTP `status` (NaN or undefined: none) may succeed
/// later ([`ErrorCode::retryable_with`]); `false` for a code consult-core does not know.
pub fn error_retryable(code: &str, status: f64) -> bool {
    let status = (0.0..=999.0).contains(&status).then_some(status as u16);
    ErrorCode::parse(code).is_some_and(|code| code.retryable_with(status))
}

/// The wasm export of [`error_retryable`]: the code is in the in buffer (`abi.rs`); 1: yes.
#[unsafe(export_name = "error_retryable")]
pub extern "C" fn error_retryable_export(code: f64, status: f64) -> u32 {
    let code = super::abi::string(code).unwrap_or_default();
    u32::from(error_retryable(&code, status))
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
