//! The decisions the JS driver needs outside a machine: whether an error is worth retrying
//! (`ConsultError.retryable`), and what an authorised call's answer means (replay it once after
//! a 401; a session answer is a session or an error: `consult_core::authorised`). The token,
//! poll and socket decisions live in their machines (`session.rs`, `poll.rs`, `socket.rs`).

use consult_core::{ErrorCode, authorised};

/// A JS number as an HTTP status (anything else: 0, which no rule reads as a success).
fn status_of(status: f64) -> u16 {
    if (0.0..=999.0).contains(&status) {
        status as u16
    } else {
        0
    }
}

/// Whether an authorised call answered `status` gets a new token (feed `TokenRefused`) and is
/// sent again; `replayed`: this answer is already the replay's ([`authorised::replays`]).
pub fn authorised_replays(status: f64, replayed: bool) -> bool {
    authorised::replays(status_of(status), replayed)
}

/// The wasm export of [`authorised_replays`] (`replayed` 0: no; 1: yes).
#[unsafe(export_name = "authorised_replays")]
pub extern "C" fn authorised_replays_export(status: f64, replayed: u32) -> u32 {
    u32::from(authorised_replays(status, replayed != 0))
}

/// The error code a session answer (`status`, `body`; `None`: unreadable) fails with, or `None`
/// when it is a session ([`authorised::session_answer`]).
pub fn session_answer_error(status: f64, body: Option<&str>) -> Option<&'static str> {
    let answer = authorised::session_answer(status_of(status), body);
    answer.err().map(|error| error.code.as_str())
}

/// The wasm export of [`session_answer_error`]: the body is in the in buffer; the code goes to
/// the out buffer (its length; -1: a session).
#[unsafe(export_name = "session_answer")]
pub extern "C" fn session_answer_export(status: f64, body: f64) -> f64 {
    let body = super::abi::string(body);
    super::abi::out(session_answer_error(status, body.as_deref()))
}

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

    #[test]
    fn an_authorised_answer_as_the_driver_reads_it() {
        assert!(authorised_replays(401.0, false));
        assert!(!authorised_replays(401.0, true));
        assert!(!authorised_replays(f64::NAN, false));
        let session = r#"{"session_id":"s","room_id":"r","status":"active"}"#;
        assert_eq!(session_answer_error(200.0, Some(session)), None);
        assert_eq!(
            session_answer_error(200.0, Some("<html>")),
            Some("BAD_RESPONSE")
        );
        assert_eq!(session_answer_error(200.0, None), Some("BAD_RESPONSE"));
        assert_eq!(session_answer_error(404.0, Some(session)), Some("HTTP"));
    }
}
