//! How to read an HTTP status, for the `retryable` flag of the errors the JS driver builds (the
//! token and poll decisions live in their machines, `session.rs` and `poll.rs`).

use consult_core::Outcome;
use wasm_bindgen::prelude::*;

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
    fn statuses_are_classified() {
        assert_eq!([200, 503, 401, 404].map(classify_status), [0, 1, 2, 3]);
    }
}
