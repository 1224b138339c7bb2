//! The stable error codes the client reports (to Rust as an enum, to JS as `error.code`).

/// A stable, documented error code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// No usable token is stored (none, or corrupted).
    NoToken,
    /// The refresh endpoint refused the token (401): the session is over.
    RefreshRejected,
    /// The request could not be sent or got no answer.
    Network,
    /// No answer within the request timeout.
    Timeout,
    /// An HTTP error status that is not an auth failure.
    Http,
    /// A response that is not what the contract says.
    BadResponse,
    /// The storage failed (quota, blocked); the client fell back to memory.
    Storage,
    /// Cancelled by the caller (`stop()`, `signOut()`).
    Aborted,
    /// The request's URL is not on the base URL's origin (nor listed): the token is not sent.
    OriginNotAllowed,
}

impl ErrorCode {
    /// The code string: `NO_TOKEN`, `REFRESH_REJECTED`, …
    ///
    /// ```
    /// assert_eq!(consult_core::ErrorCode::RefreshRejected.as_str(), "REFRESH_REJECTED");
    /// ```
    // Not inlined: [`ErrorCode::parse`] would unroll its loop with a second copy of the strings.
    #[inline(never)]
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::NoToken => "NO_TOKEN",
            ErrorCode::RefreshRejected => "REFRESH_REJECTED",
            ErrorCode::Network => "NETWORK",
            ErrorCode::Timeout => "TIMEOUT",
            ErrorCode::Http => "HTTP",
            ErrorCode::BadResponse => "BAD_RESPONSE",
            ErrorCode::Storage => "STORAGE",
            ErrorCode::Aborted => "ABORTED",
            ErrorCode::OriginNotAllowed => "ORIGIN_NOT_ALLOWED",
        }
    }

    /// The code of a code string (the inverse of [`ErrorCode::as_str`]).
    ///
    /// ```
    /// use consult_core::ErrorCode;
    /// assert_eq!(ErrorCode::parse("NO_TOKEN"), Some(ErrorCode::NoToken));
    /// assert_eq!(ErrorCode::parse("nope"), None);
    /// ```
    pub fn parse(text: &str) -> Option<ErrorCode> {
        [
            ErrorCode::NoToken,
            ErrorCode::RefreshRejected,
            ErrorCode::Network,
            ErrorCode::Timeout,
            ErrorCode::Http,
            ErrorCode::BadResponse,
            ErrorCode::Storage,
            ErrorCode::Aborted,
            ErrorCode::OriginNotAllowed,
        ]
        .into_iter()
        .find(|code| code.as_str() == text)
    }

    /// Whether trying the same call again later may succeed.
    pub fn retryable(self) -> bool {
        matches!(
            self,
            ErrorCode::Network | ErrorCode::Timeout | ErrorCode::Storage
        )
    }

    /// Whether an error with this code and HTTP status may succeed later: for `HTTP`, what the
    /// status says ([`transient_status`](crate::classify::transient_status): 403, 408, 425,
    /// 429, 5xx — the answer table's "transient"); for the rest, [`ErrorCode::retryable`]. The
    /// one rule behind every error's `retryable`, in both drivers.
    ///
    /// ```
    /// use consult_core::ErrorCode;
    /// assert!(ErrorCode::Http.retryable_with(Some(503)));
    /// assert!(ErrorCode::Http.retryable_with(Some(403))); // a refresh 403 is retried
    /// assert!(!ErrorCode::Http.retryable_with(Some(404)));
    /// assert!(ErrorCode::Timeout.retryable_with(None));
    /// ```
    pub fn retryable_with(self, status: Option<u16>) -> bool {
        match (self, status) {
            (ErrorCode::Http, Some(status)) => crate::classify::transient_status(status),
            (code, _) => code.retryable(),
        }
    }
}
