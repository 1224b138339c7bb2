//! What an HTTP status means for the client: success, retry later, the session is over, or a
//! plain failure to report.

/// The client's reading of a response status (or of a failure to get one).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// 2xx (and 304 for conditional GETs).
    Success,
    /// Try again after a backoff: 408, 425, 429, 5xx, and network errors or timeouts.
    Transient,
    /// 401 or 403: the credential is refused; from the refresh endpoint, the session is over.
    Unauthorized,
    /// Any other status: report it, do not retry, keep the session.
    Failed,
}

/// Classifies a status code.
///
/// ```
/// use consult_core::{Outcome, classify_status};
/// assert_eq!(classify_status(503), Outcome::Transient);
/// assert_eq!(classify_status(401), Outcome::Unauthorized);
/// assert_eq!(classify_status(404), Outcome::Failed);
/// ```
pub fn classify_status(status: u16) -> Outcome {
    match status {
        200..=299 | 304 => Outcome::Success,
        401 | 403 => Outcome::Unauthorized,
        408 | 425 | 429 | 500..=599 => Outcome::Transient,
        _ => Outcome::Failed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_has_one_reading() {
        assert_eq!(classify_status(200), Outcome::Success);
        assert_eq!(classify_status(304), Outcome::Success);
        assert_eq!(classify_status(403), Outcome::Unauthorized);
        assert_eq!(classify_status(429), Outcome::Transient);
        assert_eq!(classify_status(500), Outcome::Transient);
        assert_eq!(classify_status(400), Outcome::Failed);
        assert_eq!(classify_status(302), Outcome::Failed);
    }
}
