//! A token the session holds: its text and its times, read from the JWT payload (not verified:
//! only the server can; the client needs the times).

use crate::TokenInfo;
use crate::json::Json;
use crate::jwt;
use alloc::{borrow::ToOwned, string::String};

/// Longest access token accepted (a JWT with a handful of claims is well under 2 KB).
pub const MAX_TOKEN_BYTES: usize = 16 * 1024;

/// A token and its times (server time, Unix ms).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    /// The access token.
    pub text: String,
    /// `exp` and `iat`.
    pub info: TokenInfo,
}

impl Token {
    /// Reads `text`'s `exp`/`iat`; `expires_at` (the server's or stored text) is used only when
    /// the token has no `exp`. `None`: not a usable token.
    ///
    /// ```
    /// use consult_core::session::Token;
    /// // payload {"exp":100,"iat":40}
    /// let token = Token::parse("e30.eyJleHAiOjEwMCwiaWF0Ijo0MH0.s", None).unwrap();
    /// assert_eq!(token.info.expires_at_ms, 100_000);
    /// assert!(Token::parse("not a jwt", None).is_none());
    /// ```
    pub fn parse(text: &str, expires_at: Option<&str>) -> Option<Token> {
        if text.is_empty() || text.len() > MAX_TOKEN_BYTES {
            return None;
        }
        let payload = jwt::payload_json(text).ok()?;
        let claims = Json::parse(&payload)?;
        let number = |key: &str| claims.get(key).and_then(Json::as_f64);
        let info = match crate::TokenInfo::from_claims(number("exp"), number("iat")) {
            Ok(info) => info,
            Err(_) => TokenInfo::new(
                expires_at.and_then(crate::timestamp::parse_expires_at)?,
                None,
            ),
        };
        Some(Token {
            text: text.to_owned(),
            info,
        })
    }

    /// `exp` as RFC 3339 UTC text, for the seed's `tokenExpiresAt` key and tab messages.
    pub fn expires_at_text(&self) -> String {
        crate::timestamp::format_utc(self.info.expires_at_ms)
    }
}
