//! The client's one error type, and its JavaScript form: an `Error` with a stable `code`,
//! the HTTP `status` where there is one, and `retryable`.

use consult_core::ErrorCode;
use wasm_bindgen::JsValue;

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
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            status: None,
        }
    }

    /// An error carrying an HTTP status.
    pub fn with_status(code: ErrorCode, message: impl Into<String>, status: u16) -> Self {
        Self {
            code,
            message: message.into(),
            status: Some(status),
        }
    }

    /// Whether the same call may succeed later (network trouble, timeouts, 5xx, 429).
    ///
    /// ```
    /// use consult_client::ClientError;
    /// use consult_core::ErrorCode;
    /// assert!(ClientError::with_status(ErrorCode::Http, "busy", 503).retryable());
    /// assert!(!ClientError::with_status(ErrorCode::Http, "gone", 404).retryable());
    /// ```
    pub fn retryable(&self) -> bool {
        match (self.code, self.status) {
            (ErrorCode::Http, Some(status)) => {
                consult_core::classify_status(status) == consult_core::Outcome::Transient
            }
            (code, _) => code.retryable(),
        }
    }

    /// The JavaScript `Error` for this error (`name` "ConsultError", `code`, `status`, `retryable`).
    pub fn to_js(&self) -> JsValue {
        let error = js_sys::Error::new(&self.message);
        error.set_name("ConsultError");
        let object: &JsValue = error.as_ref();
        set(object, "code", &JsValue::from_str(self.code.as_str()));
        let status = self.status.map(JsValue::from).unwrap_or(JsValue::UNDEFINED);
        set(object, "status", &status);
        set(object, "retryable", &JsValue::from_bool(self.retryable()));
        error.into()
    }
}

fn set(object: &JsValue, key: &str, value: &JsValue) {
    // Setting a property on a fresh Error object cannot fail; a failure would only lose detail.
    let _ = js_sys::Reflect::set(object, &JsValue::from_str(key), value);
}

impl core::fmt::Display for ClientError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{}: {}", self.code.as_str(), self.message)
    }
}

impl std::error::Error for ClientError {}

impl From<ClientError> for JsValue {
    fn from(error: ClientError) -> JsValue {
        error.to_js()
    }
}

/// The message of a thrown JavaScript value, for error details.
pub(crate) fn js_message(value: &JsValue) -> String {
    if let Some(text) = value.as_string() {
        return text;
    }
    js_sys::Reflect::get(value, &JsValue::from_str("message"))
        .ok()
        .and_then(|m| m.as_string())
        .unwrap_or_else(|| String::from("unknown error"))
}

/// Whether a thrown JavaScript value is an `AbortError` (a cancelled fetch or lock request).
pub(crate) fn is_abort(value: &JsValue) -> bool {
    js_sys::Reflect::get(value, &JsValue::from_str("name"))
        .ok()
        .and_then(|n| n.as_string())
        .is_some_and(|name| name == "AbortError")
}
