//! The wire: every name and path the drivers share with the server and with each other — the
//! endpoints, the headers they read and send, the cross-tab lock, channel, IndexedDB and
//! storage names, and the cross-tab message (encoded and decoded here). No driver writes one of
//! them itself: the Rust driver reads these items, the JavaScript driver `js/wire.js` (one
//! `export const` each, which a bundler inlines; a host test checks it against this file by
//! name and value), and a cross-tab message crosses the wasm boundary as its text.
//!
//! Two drivers in one browser (the demo's Rust client and the npm package in another tab) share
//! the lock, the channel and the store: that is why these are one list.
//!
//! ```
//! use consult_core::wire::{self, TabMessage};
//! assert_eq!(wire::lock_name("authToken"), "consult-refresh:authToken");
//! let message = TabMessage::SignOut { token: Some("t".into()) };
//! assert_eq!(TabMessage::decode(&message.encode()), Some(message));
//! ```

use crate::json::{Json, quote};
use crate::session::Input;

/// `POST`: a new token for the bearer token (lenient: an expired one within the grace).
pub const REFRESH_PATH: &str = "/api/video/auth/refresh-token";
/// `POST`: ends the sign-in of the bearer token.
pub const LOGOUT_PATH: &str = "/api/video/auth/logout";
/// `GET` + the session id as one percent-encoded segment: a consultation session.
pub const SESSIONS_PATH: &str = "/api/video/sessions/";

/// The request header carrying the token, as `BEARER` + the token.
pub const AUTHORIZATION: &str = "Authorization";
/// The scheme prefix of [`AUTHORIZATION`]'s value.
pub const BEARER: &str = "Bearer ";
/// The request header of a conditional poll (the last `ETag`).
pub const IF_NONE_MATCH: &str = "If-None-Match";
/// The response header naming a session's version.
pub const ETAG: &str = "etag";
/// The response header saying how long to wait before trying again.
pub const RETRY_AFTER: &str = "retry-after";
/// The response header with the server's clock (measures the skew).
pub const DATE: &str = "date";

/// The seed's `localStorage` key of the token (the default; an application may choose another).
pub const TOKEN_KEY: &str = "authToken";
/// The seed's `localStorage` key of the token's expiry.
pub const EXPIRES_KEY: &str = "tokenExpiresAt";

/// The IndexedDB database holding the token every tab reads after taking the lock.
pub const IDB_DATABASE: &str = "consult";
/// Its version (the object store is created on the upgrade to it).
pub const IDB_VERSION: u32 = 1;
/// Its object store; the key is the token storage key.
pub const IDB_STORE: &str = "tokens";
/// The field of a stored record (and of a cross-tab message) holding the token.
pub const FIELD_TOKEN: &str = "token";
/// The field of a stored record (and of a cross-tab message) holding the expiry text.
pub const FIELD_EXPIRES_AT: &str = "expiresAt";

/// The Web Lock name's prefix (the token storage key follows).
pub const LOCK_PREFIX: &str = "consult-refresh:";
/// The BroadcastChannel name's prefix (the token storage key follows).
pub const CHANNEL_PREFIX: &str = "consult:";

/// The Web Lock serialising the refreshes of the sign-in stored under `token_key`.
///
/// ```
/// assert_eq!(consult_core::wire::lock_name("k"), "consult-refresh:k");
/// ```
pub fn lock_name(token_key: &str) -> String {
    let mut name = String::from(LOCK_PREFIX);
    name.push_str(token_key);
    name
}

/// The BroadcastChannel of the tabs sharing the sign-in stored under `token_key`.
///
/// ```
/// assert_eq!(consult_core::wire::channel_name("k"), "consult:k");
/// ```
pub fn channel_name(token_key: &str) -> String {
    let mut name = String::from(CHANNEL_PREFIX);
    name.push_str(token_key);
    name
}

/// What one tab tells the others on the channel, as JSON text:
/// `{"type":"token","token":…,"expiresAt":…}` or `{"type":"signout","token":…}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TabMessage {
    /// A tab stored this token.
    Token {
        /// The token.
        token: String,
        /// Its expiry text, as stored.
        expires_at: Option<String>,
    },
    /// A tab ended the sign-in of this token (absent: it did not say which).
    SignOut {
        /// The token.
        token: Option<String>,
    },
}

impl TabMessage {
    /// The message as JSON text.
    ///
    /// ```
    /// use consult_core::wire::TabMessage;
    /// let message = TabMessage::Token { token: "t".into(), expires_at: Some("9".into()) };
    /// assert_eq!(message.encode(), r#"{"type":"token","token":"t","expiresAt":"9"}"#);
    /// ```
    pub fn encode(&self) -> String {
        let (kind, token, expires_at) = match self {
            TabMessage::Token { token, expires_at } => ("token", Some(token), expires_at.as_ref()),
            TabMessage::SignOut { token } => ("signout", token.as_ref(), None),
        };
        let mut out = String::from("{\"type\":");
        out.push_str(&quote(kind));
        for (field, value) in [(FIELD_TOKEN, token), (FIELD_EXPIRES_AT, expires_at)] {
            if let Some(value) = value {
                out.push(',');
                out.push_str(&quote(field));
                out.push(':');
                out.push_str(&quote(value));
            }
        }
        out.push('}');
        out
    }

    /// The message in `text`; `None` for anything else (another version's message, garbage).
    ///
    /// ```
    /// use consult_core::wire::TabMessage;
    /// assert_eq!(TabMessage::decode(r#"{"type":"signout"}"#), Some(TabMessage::SignOut { token: None }));
    /// assert_eq!(TabMessage::decode(r#"{"type":"token"}"#), None); // a token message needs its token
    /// assert_eq!(TabMessage::decode("nonsense"), None);
    /// ```
    pub fn decode(text: &str) -> Option<TabMessage> {
        let json = Json::parse(text)?;
        let field = |name: &str| json.get(name).and_then(Json::as_str).map(str::to_owned);
        match json.get("type").and_then(Json::as_str)? {
            "token" => Some(TabMessage::Token {
                token: field(FIELD_TOKEN)?,
                expires_at: field(FIELD_EXPIRES_AT),
            }),
            "signout" => Some(TabMessage::SignOut {
                token: field(FIELD_TOKEN),
            }),
            _ => None,
        }
    }

    /// What the token session is fed when this message arrives.
    pub fn into_input(self) -> Input {
        match self {
            TabMessage::Token { token, expires_at } => Input::PeerToken { token, expires_at },
            TabMessage::SignOut { token } => Input::PeerSignedOut { token },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_message_reads_back_as_itself() {
        let messages = [
            TabMessage::Token {
                token: "a.b.c".into(),
                expires_at: Some("2026-12-06T20:00:00Z".into()),
            },
            TabMessage::Token {
                token: "quote\"back\\slash\n".into(),
                expires_at: None,
            },
            TabMessage::SignOut { token: None },
            TabMessage::SignOut {
                token: Some("t".into()),
            },
        ];
        for message in messages {
            assert_eq!(TabMessage::decode(&message.encode()), Some(message));
        }
    }

    #[test]
    fn a_message_of_another_shape_is_ignored() {
        for text in [
            "",
            "{}",
            "[]",
            r#"{"type":"token","token":5}"#,
            r#"{"type":"other","token":"t"}"#,
            r#"{"type":1}"#,
        ] {
            assert_eq!(TabMessage::decode(text), None, "{text}");
        }
    }
}
