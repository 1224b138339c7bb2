//! The application's authorised calls, decided here so both drivers only send and hand back:
//! after a 401 the call gets one new token ([`Input::TokenRefused`](crate::session::Input)) and
//! is replayed once, and the replay's answer is final, even a second 401 ([`replays`]); a
//! session answer is a session, an `HTTP` error (non-2xx) or `BAD_RESPONSE` (a 2xx whose body is
//! not a session) ([`session_answer`]). The poll reads its answers with the same rule.
//!
//! A driver's authorised call, whatever the language:
//!
//! ```text
//! token = getValidToken()
//! for replayed in [false, true]:
//!     response = send(token)
//!     if !replays(response.status, replayed): return response
//!     token = feed(TokenRefused { token })
//! ```

use alloc::borrow::ToOwned;
use alloc::string::String;

use crate::ErrorCode;
use crate::classify::{Endpoint, Outcome, read_status};
use crate::json::Json;
use crate::session::SessionError;

/// Whether an authorised call answered `status` gets a new token and is sent again: only a
/// 401, and only once (`replayed`: this answer is already the replay's).
///
/// ```
/// use consult_core::authorised::replays;
/// assert!(replays(401, false));
/// assert!(!replays(401, true)); // a second 401 is final
/// assert!(!replays(403, false));
/// ```
pub fn replays(status: u16, replayed: bool) -> bool {
    !replayed && crate::classify::refuses_credential(status)
}

/// The `status` field of a session (`GET /api/video/sessions/{id}`): `Some` when `body` is a
/// JSON object whose `status` is a string, `None` for anything else.
///
/// ```
/// use consult_core::authorised::session_status;
/// let body = r#"{"session_id":"s1","room_id":"room-s1","status":"active"}"#;
/// assert_eq!(session_status(body).as_deref(), Some("active"));
/// assert_eq!(session_status(r#"{"status":5}"#), None);
/// assert_eq!(session_status("<html>"), None);
/// ```
pub fn session_status(body: &str) -> Option<String> {
    let json = Json::parse(body)?;
    json.get("status").and_then(Json::as_str).map(str::to_owned)
}

/// What an answer to a session request means: `Ok` with the session's status, or the error
/// the call fails with — `HTTP` with the status for any non-2xx, `BAD_RESPONSE` for a 2xx whose
/// body (`None`: it could not be read) is not a session.
///
/// ```
/// use consult_core::ErrorCode;
/// use consult_core::authorised::session_answer;
/// let body = r#"{"session_id":"s1","room_id":"r","status":"ended"}"#;
/// assert_eq!(session_answer(200, Some(body)).ok().as_deref(), Some("ended"));
/// assert_eq!(session_answer(404, Some(body)).err().map(|e| e.code), Some(ErrorCode::Http));
/// assert_eq!(session_answer(200, None).err().map(|e| e.code), Some(ErrorCode::BadResponse));
/// ```
pub fn session_answer(status: u16, body: Option<&str>) -> Result<String, SessionError> {
    if read_status(Endpoint::Authorised, status) != Outcome::Success {
        return Err(SessionError::with_status(ErrorCode::Http, status));
    }
    body.and_then(session_status)
        .ok_or(SessionError::with_status(ErrorCode::BadResponse, status))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_first_401_is_replayed() {
        for status in [200, 204, 304, 400, 403, 404, 429, 500, 503] {
            assert!(!replays(status, false), "{status}");
            assert!(!replays(status, true), "{status}");
        }
        assert!(replays(401, false));
        assert!(!replays(401, true));
    }

    #[test]
    fn a_session_answer_is_a_session_or_an_error() {
        let session = r#"{"session_id":"s","room_id":"r","status":"active","version":3}"#;
        assert_eq!(session_answer(200, Some(session)), Ok("active".into()));
        let http = |status| Err(SessionError::with_status(ErrorCode::Http, status));
        for status in [302, 304, 400, 401, 403, 404, 429, 503] {
            assert_eq!(session_answer(status, Some(session)), http(status));
        }
        let bad = Err(SessionError::with_status(ErrorCode::BadResponse, 200));
        for body in [None, Some(""), Some("[]"), Some(r#"{"status":5}"#)] {
            assert_eq!(session_answer(200, body), bad, "{body:?}");
        }
    }
}
