//! The wire: every name and path the drivers share with the server and with each other — the
//! endpoints, the headers they read and send, the cross-tab lock, channel, IndexedDB and
//! storage names, and the cross-tab message. No driver writes one of
//! them itself: the Rust driver reads these items, the JavaScript driver `js/wire.js` (one
//! `export const` each, which a bundler inlines; a host test checks it against this file by
//! name and value). The cross-tab message is core's [`TabMessage`]; the JavaScript driver
//! writes and reads its fields by these names (passing it through the wasm boundary instead
//! cost the npm package ~400 B gz of wasm, against its size ratchet).
//!
//! Two drivers in one browser (the demo's Rust client and the npm package in another tab) share
//! the lock, the channel and the store: that is why these are one list.
//!
//! ```
//! use consult_core::wire;
//! assert_eq!(wire::lock_name("authToken"), "consult-refresh:authToken");
//! assert_eq!(wire::channel_name("authToken"), "consult:authToken");
//! ```

use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;

use crate::session::Input;

/// `POST`: a new token for the bearer token (lenient: an expired one within the grace).
pub const REFRESH_PATH: &str = "/api/video/auth/refresh-token";
/// `POST`: ends the sign-in of the bearer token.
pub const LOGOUT_PATH: &str = "/api/video/auth/logout";
/// `GET` + the session id as one percent-encoded segment: a consultation session.
pub const SESSIONS_PATH: &str = "/api/video/sessions/";

/// The method of [`REFRESH_PATH`] and [`LOGOUT_PATH`].
pub const POST: &str = "POST";
/// The method of [`SESSIONS_PATH`], and of an authorised call whose caller names none.
pub const GET: &str = "GET";

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
/// The field of a cross-tab token message naming the token it replaces.
pub const FIELD_REPLACES: &str = "replaces";

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

/// The field of a cross-tab message saying what it is: [`KIND_TOKEN`] or [`KIND_SIGNOUT`].
pub const MESSAGE_KIND: &str = "type";
/// A cross-tab message's kind: a tab stored a new token ([`FIELD_TOKEN`], [`FIELD_EXPIRES_AT`]).
pub const KIND_TOKEN: &str = "token";
/// A cross-tab message's kind: a tab ended the sign-in of [`FIELD_TOKEN`] (absent: unknown).
pub const KIND_SIGNOUT: &str = "signout";

/// What one tab tells the others on the channel: an object (structured-cloned by
/// BroadcastChannel) `{type: "token", token, expiresAt?, replaces?}` or
/// `{type: "signout", token?}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TabMessage {
    /// A tab stored this token.
    Token {
        /// The token.
        token: String,
        /// Its expiry text, as stored.
        expires_at: Option<String>,
        /// The token it replaces (that one is behind from now on).
        replaces: Option<String>,
    },
    /// A tab ended the sign-in of this token (absent: it did not say which).
    SignOut {
        /// The token.
        token: Option<String>,
    },
}

impl TabMessage {
    /// The message's fields, `(name, value)`, to post as one object (absent values left out).
    ///
    /// ```
    /// use consult_core::wire::TabMessage;
    /// let message = TabMessage::Token { token: "t".into(), expires_at: None, replaces: None };
    /// assert_eq!(message.fields(), [("type", "token"), ("token", "t")]);
    /// ```
    pub fn fields(&self) -> Vec<(&'static str, &str)> {
        let (kind, token, expires_at, replaces) = match self {
            TabMessage::Token {
                token,
                expires_at,
                replaces,
            } => (
                KIND_TOKEN,
                Some(token),
                expires_at.as_ref(),
                replaces.as_ref(),
            ),
            TabMessage::SignOut { token } => (KIND_SIGNOUT, token.as_ref(), None, None),
        };
        let mut fields = vec![(MESSAGE_KIND, kind)];
        fields.extend(token.map(|token| (FIELD_TOKEN, token.as_str())));
        fields.extend(expires_at.map(|at| (FIELD_EXPIRES_AT, at.as_str())));
        fields.extend(replaces.map(|old| (FIELD_REPLACES, old.as_str())));
        fields
    }

    /// The message whose string fields `field` reads (`None`: absent or not a string); `None`
    /// for anything else (another version's message, garbage, a token message without its
    /// token).
    ///
    /// ```
    /// use consult_core::wire::TabMessage;
    /// let signout = |name: &str| (name == "type").then(|| String::from("signout"));
    /// assert_eq!(TabMessage::read(signout), Some(TabMessage::SignOut { token: None }));
    /// let token_without_token = |name: &str| (name == "type").then(|| String::from("token"));
    /// assert_eq!(TabMessage::read(token_without_token), None);
    /// ```
    pub fn read(field: impl Fn(&str) -> Option<String>) -> Option<TabMessage> {
        let kind = field(MESSAGE_KIND)?;
        if kind == KIND_TOKEN {
            let token = field(FIELD_TOKEN)?;
            let expires_at = field(FIELD_EXPIRES_AT);
            let replaces = field(FIELD_REPLACES);
            Some(TabMessage::Token {
                token,
                expires_at,
                replaces,
            })
        } else if kind == KIND_SIGNOUT {
            let token = field(FIELD_TOKEN);
            Some(TabMessage::SignOut { token })
        } else {
            None
        }
    }

    /// What the token session is fed when this message arrives.
    pub fn into_input(self) -> Input {
        match self {
            TabMessage::Token {
                token,
                expires_at,
                replaces,
            } => Input::PeerToken {
                token,
                expires_at,
                replaces,
            },
            TabMessage::SignOut { token } => Input::PeerSignedOut { token },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_back(message: &TabMessage) -> Option<TabMessage> {
        let fields = message.fields();
        TabMessage::read(|name| {
            let value = fields.iter().find(|(field, _)| *field == name);
            value.map(|(_, value)| String::from(*value))
        })
    }

    #[test]
    fn every_message_reads_back_as_itself() {
        let messages = [
            TabMessage::Token {
                token: "a.b.c".into(),
                expires_at: Some("2026-12-06T20:00:00Z".into()),
                replaces: Some("o.l.d".into()),
            },
            TabMessage::Token {
                token: "t".into(),
                expires_at: None,
                replaces: None,
            },
            TabMessage::SignOut { token: None },
            TabMessage::SignOut {
                token: Some("t".into()),
            },
        ];
        for message in messages {
            assert_eq!(read_back(&message), Some(message));
        }
    }

    #[test]
    fn a_message_of_another_shape_is_ignored() {
        let none = |_: &str| None;
        assert_eq!(TabMessage::read(none), None);
        let other = |name: &str| (name == MESSAGE_KIND).then(|| String::from("other"));
        assert_eq!(TabMessage::read(other), None);
    }
}
