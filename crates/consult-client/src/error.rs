//! The client's error types: [`ClientError`] for calls, [`InvalidOptions`] for construction.

use consult_core::ErrorCode;
use consult_core::session::SessionError;

/// What went wrong, with a stable [`ErrorCode`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientError {
    /// Stable code (`NO_TOKEN`, `REFRESH_REJECTED`, …).
    pub code: ErrorCode,
    /// Human-readable detail.
    pub message: String,
    /// HTTP status, when a response was received.
    pub status: Option<u16>,
}

impl ClientError {
    /// An error with no status.
    ///
    /// ```
    /// let error = consult_client::ClientError::new(consult_client::ErrorCode::Network, "offline");
    /// assert_eq!(error.to_string(), "NETWORK: offline");
    /// ```
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            status: None,
        }
    }

    /// Whether the same call may succeed later (network trouble, timeouts, 403, 429, 5xx).
    ///
    /// ```
    /// use consult_client::{ClientError, ErrorCode};
    /// assert!(ClientError::new(ErrorCode::Timeout, "slow").retryable());
    /// ```
    pub fn retryable(&self) -> bool {
        self.code.retryable_with(self.status)
    }
}

impl From<SessionError> for ClientError {
    fn from(error: SessionError) -> Self {
        let message = match error.status {
            Some(status) => format!("{} (HTTP {status})", error.code.as_str()),
            None => String::from(error.code.as_str()),
        };
        Self {
            code: error.code,
            message,
            status: error.status,
        }
    }
}

impl core::fmt::Display for ClientError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{}: {}", self.code.as_str(), self.message)
    }
}

impl std::error::Error for ClientError {}

/// Options that cannot work (which, and why), returned instead of a panic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidOptions(pub String);

impl core::fmt::Display for InvalidOptions {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "invalid options: {}", self.0)
    }
}

impl std::error::Error for InvalidOptions {}

/// Fails with `what` unless `ok`.
pub(crate) fn check(ok: bool, what: &str) -> Result<(), InvalidOptions> {
    if ok {
        Ok(())
    } else {
        Err(InvalidOptions(what.to_owned()))
    }
}
