//! The token model: what the client needs to know of an access token, read without verifying
//! the signature (only the server can; the client only needs the times).

use crate::base64url;
use alloc::string::String;

/// Why a string is not usable as an access token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JwtError {
    /// Not three dot-separated segments.
    NotAJwt,
    /// The payload segment is not base64url.
    BadEncoding,
    /// The payload is not UTF-8 text.
    NotText,
    /// The payload has no usable `exp`.
    NoExpiry,
}

impl core::fmt::Display for JwtError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            JwtError::NotAJwt => "not a JWT (three dot-separated segments)",
            JwtError::BadEncoding => "JWT payload is not base64url",
            JwtError::NotText => "JWT payload is not UTF-8",
            JwtError::NoExpiry => "JWT payload has no numeric exp claim",
        })
    }
}

impl core::error::Error for JwtError {}

/// The JSON text of a JWT's payload (the middle segment), undecoded otherwise.
/// Parsing the JSON is left to the caller (the browser's `JSON.parse` costs no bytes).
///
/// ```
/// // {"exp":1}
/// let token = "eyJhbGciOiJIUzI1NiJ9.eyJleHAiOjF9.sig";
/// assert_eq!(consult_core::jwt::payload_json(token).as_deref(), Ok(r#"{"exp":1}"#));
/// ```
pub fn payload_json(token: &str) -> Result<String, JwtError> {
    let mut parts = crate::ascii::split(token, b'.');
    let (Some(header), Some(payload), Some(_signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(JwtError::NotAJwt);
    };
    if header.is_empty() || payload.is_empty() {
        return Err(JwtError::NotAJwt);
    }
    let bytes = base64url::decode(payload).ok_or(JwtError::BadEncoding)?;
    crate::utf8::decode(&bytes).ok_or(JwtError::NotText)
}

/// The times of an access token, in server time (Unix milliseconds).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenInfo {
    /// `exp` in milliseconds.
    pub expires_at_ms: i64,
    /// `iat` in milliseconds, when the token has one.
    pub issued_at_ms: Option<i64>,
}

/// Largest plausible JWT time in seconds (year 9999); anything beyond is treated as missing.
const MAX_SECONDS: f64 = 253_402_300_799.0;

impl TokenInfo {
    /// From milliseconds.
    pub fn new(expires_at_ms: i64, issued_at_ms: Option<i64>) -> Self {
        Self {
            expires_at_ms,
            issued_at_ms,
        }
    }

    /// From the `exp` and `iat` claims as JSON numbers (seconds, possibly fractional).
    /// A missing, non-finite, negative or absurd `exp` is an error; such an `iat` is ignored.
    ///
    /// ```
    /// use consult_core::TokenInfo;
    /// let info = TokenInfo::from_claims(Some(100.0), Some(40.0)).unwrap();
    /// assert_eq!(info.lifetime_ms(), Some(60_000));
    /// assert!(TokenInfo::from_claims(None, Some(1.0)).is_err());
    /// ```
    pub fn from_claims(exp: Option<f64>, iat: Option<f64>) -> Result<Self, crate::JwtError> {
        let to_ms = |s: f64| {
            (s.is_finite() && (0.0..=MAX_SECONDS).contains(&s)).then(|| crate::to_i64(s * 1000.0))
        };
        let expires_at_ms = exp.and_then(to_ms).ok_or(JwtError::NoExpiry)?;
        let issued_at_ms = iat.and_then(to_ms).filter(|iat| *iat <= expires_at_ms);
        Ok(Self {
            expires_at_ms,
            issued_at_ms,
        })
    }

    /// `exp - iat`, when `iat` is known.
    pub fn lifetime_ms(&self) -> Option<i64> {
        self.issued_at_ms
            .map(|iat| self.expires_at_ms.saturating_sub(iat))
    }

    /// Whether the token has expired at server time `server_now_ms`.
    pub fn is_expired(&self, server_now_ms: i64) -> bool {
        server_now_ms >= self.expires_at_ms
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn rejects_shapes_that_are_not_jwts() {
        for bad in ["", "abc", "a.b", "a.b.c.d", ".eyJ9.s", "a..s"] {
            assert_eq!(payload_json(bad), Err(JwtError::NotAJwt), "{bad}");
        }
        assert_eq!(payload_json("a.!!!.s"), Err(JwtError::BadEncoding));
        assert_eq!(payload_json("a._w.s"), Err(JwtError::NotText)); // 0xff
    }

    #[test]
    fn claims_in_seconds_become_milliseconds() {
        let info = TokenInfo::from_claims(Some(1_800_000_000.0), Some(1_799_985_600.0));
        assert_eq!(
            info,
            Ok(TokenInfo::new(1_800_000_000_000, Some(1_799_985_600_000)))
        );
    }

    #[test]
    fn absurd_claims_are_refused_or_ignored() {
        assert_eq!(
            TokenInfo::from_claims(Some(f64::NAN), None),
            Err(JwtError::NoExpiry)
        );
        assert_eq!(
            TokenInfo::from_claims(Some(-1.0), None),
            Err(JwtError::NoExpiry)
        );
        assert_eq!(
            TokenInfo::from_claims(Some(1e300), None),
            Err(JwtError::NoExpiry)
        );
        // iat after exp makes no sense: ignored, not trusted.
        assert_eq!(
            TokenInfo::from_claims(Some(10.0), Some(20.0)).map(|t| t.issued_at_ms),
            Ok(None)
        );
    }

    proptest! {
        #[test]
        fn payload_json_never_panics(token in ".{0,120}") {
            let _ = payload_json(&token);
        }
    }
}
