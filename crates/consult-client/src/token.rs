//! Reading tokens: the JWT payload's `exp`/`iat` (via the browser's `JSON.parse`), falling back
//! to a stored `expires_at` only when the token carries no `exp`.

use consult_core::{ErrorCode, TokenInfo, jwt, timestamp};
use wasm_bindgen::JsValue;

use crate::ClientError;

/// The current token and what is known about it, as reported to the application.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenSnapshot {
    /// The access token.
    pub token: String,
    /// `exp`, server time, Unix ms.
    pub expires_at_ms: i64,
    /// `iat`, server time, Unix ms.
    pub issued_at_ms: Option<i64>,
    /// Measured clock skew (server − device), ms.
    pub skew_ms: i64,
    /// Refreshes done by this client.
    pub refresh_count: u32,
    /// Device time of the last refresh by this client, Unix ms.
    pub last_refresh_at_ms: Option<i64>,
}

fn number(object: &JsValue, key: &str) -> Option<f64> {
    js_sys::Reflect::get(object, &JsValue::from_str(key))
        .ok()
        .and_then(|v| v.as_f64())
}

/// Reads a token's times. `expires_at` (the server's or the stored string) is used only when the
/// token has no `exp`: the token is what the server enforces.
pub(crate) fn read_token(token: &str, expires_at: Option<&str>) -> Result<TokenInfo, ClientError> {
    let bad = |what: &str| {
        let mut message = String::from("stored token is unusable: ");
        message.push_str(what);
        ClientError::new(ErrorCode::NoToken, message)
    };
    let payload = jwt::payload_json(token).map_err(|_| bad("not a JWT"))?;
    let claims = js_sys::JSON::parse(&payload).map_err(|_| bad("payload is not JSON"))?;
    let exp = number(&claims, "exp");
    let iat = number(&claims, "iat");
    match TokenInfo::from_claims(exp, iat) {
        Ok(info) => Ok(info),
        Err(_) => {
            let expires_at_ms = expires_at
                .and_then(timestamp::parse_expires_at)
                .ok_or_else(|| bad("no expiry"))?;
            Ok(TokenInfo::new(expires_at_ms, None))
        }
    }
}

/// An `expires_at` value as text: a string as is; a number (epoch seconds) in decimal.
pub(crate) fn expires_at_text(value: &JsValue) -> Option<String> {
    if let Some(text) = value.as_string() {
        return Some(text);
    }
    let seconds = value
        .as_f64()
        .filter(|n| n.is_finite() && *n >= 0.0 && *n < 1e12)? as u64;
    let mut text = String::new();
    consult_core::json::push_decimal(&mut text, seconds);
    Some(text)
}
