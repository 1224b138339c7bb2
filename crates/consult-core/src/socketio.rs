//! Socket.IO v5 packets (the payload of an Engine.IO message):
//! `<type>[<attachments>-][/<namespace>,][<ack id>][<JSON>]`.
//!
//! ```text
//! 0{"token":"…"}  CONNECT with auth     40{"sid":"…"}  connected
//! 4{"message":…}  CONNECT_ERROR          1  DISCONNECT
//! 2["event",…]    EVENT                  21["event",…]  EVENT asking for ack 1
//! 3 1[…]          ACK of id 1 (`31[…]`)  5/6 binary event/ack (refused here)
//! ```

use crate::engineio::FrameError;
use crate::json::{Json, push_decimal, quote};
use alloc::{borrow::ToOwned, string::String};

/// Socket.IO packet types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SioKind {
    /// `0`
    Connect,
    /// `1`
    Disconnect,
    /// `2`
    Event,
    /// `3`
    Ack,
    /// `4`
    ConnectError,
}

/// A decoded Socket.IO packet. `data` is the raw JSON text, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SioPacket {
    /// Packet type.
    pub kind: SioKind,
    /// Namespace (`/` by default).
    pub namespace: String,
    /// Acknowledgement id.
    pub ack_id: Option<u64>,
    /// JSON payload text.
    pub data: Option<String>,
}

/// Decodes a Socket.IO packet.
///
/// ```
/// use consult_core::socketio::{decode, SioKind};
/// let packet = decode(r#"21["join_room",{"room_id":"r"}]"#).unwrap();
/// assert_eq!((packet.kind, packet.ack_id), (SioKind::Event, Some(1)));
/// assert_eq!(decode("0/admin,").unwrap().namespace, "/admin");
/// ```
pub fn decode(text: &str) -> Result<SioPacket, FrameError> {
    let mut rest = text;
    let kind = match rest.as_bytes().first() {
        Some(b'0') => SioKind::Connect,
        Some(b'1') => SioKind::Disconnect,
        Some(b'2') => SioKind::Event,
        Some(b'3') => SioKind::Ack,
        Some(b'4') => SioKind::ConnectError,
        Some(b'5' | b'6') => return Err(FrameError::BinaryUnsupported),
        _ => return Err(FrameError::BadPacket),
    };
    // `get` rather than `[..]` on these ASCII boundaries: indexing links the panic formatting
    // for "not a char boundary" (a few KB of wasm) even though it cannot happen.
    rest = rest.get(1..).unwrap_or("");
    let mut namespace = String::from("/");
    if rest.starts_with('/') {
        let end = rest.bytes().position(|b| b == b',').unwrap_or(rest.len());
        namespace = rest.get(..end).unwrap_or("/").to_owned();
        rest = rest.get(end + 1..).unwrap_or("");
    }
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    let ack_id = if digits > 0 {
        let id = rest
            .get(..digits)
            .and_then(crate::http_date::int)
            .and_then(|id| u64::try_from(id).ok())
            .ok_or(FrameError::BadPacket)?;
        rest = rest.get(digits..).unwrap_or("");
        Some(id)
    } else {
        None
    };
    let data = if rest.is_empty() {
        None
    } else {
        Json::parse(rest).ok_or(FrameError::BadPacket)?;
        Some(rest.to_owned())
    };
    if matches!(kind, SioKind::Event)
        && !data
            .as_deref()
            .is_some_and(|d| d.trim_ascii_start().starts_with('['))
    {
        return Err(FrameError::BadPacket);
    }
    Ok(SioPacket {
        kind,
        namespace,
        ack_id,
        data,
    })
}

fn with_namespace(kind: char, namespace: &str) -> String {
    let mut out = String::new();
    out.push(kind);
    if namespace != "/" && !namespace.is_empty() {
        out.push_str(namespace);
        out.push(',');
    }
    out
}

/// `CONNECT` to `namespace` with `auth: {token}`.
///
/// ```
/// assert_eq!(consult_core::socketio::connect("/", "t"), r#"0{"token":"t"}"#);
/// ```
pub fn connect(namespace: &str, token: &str) -> String {
    let mut out = with_namespace('0', namespace);
    out.push_str("{\"token\":");
    out.push_str(&quote(token));
    out.push('}');
    out
}

/// `EVENT` `[name, …args]` where `args_json` is the JSON of the arguments *without* brackets
/// (`""` for none), asking for an ack when `ack_id` is given.
///
/// ```
/// assert_eq!(consult_core::socketio::event("/", "join_room", r#"{"a":1}"#, Some(7)), r#"27["join_room",{"a":1}]"#);
/// ```
pub fn event(namespace: &str, name: &str, args_json: &str, ack_id: Option<u64>) -> String {
    let mut out = with_namespace('2', namespace);
    if let Some(id) = ack_id {
        push_decimal(&mut out, id);
    }
    out.push('[');
    out.push_str(&quote(name));
    if !args_json.is_empty() {
        out.push(',');
        out.push_str(args_json);
    }
    out.push(']');
    out
}

/// `DISCONNECT` from `namespace`.
pub fn disconnect(namespace: &str) -> String {
    with_namespace('1', namespace)
}

/// The message of a CONNECT_ERROR payload (`{"message": "…"}`), if present.
pub fn connect_error_message(data: Option<&str>) -> Option<String> {
    Json::parse(data?)?
        .get("message")?
        .as_str()
        .map(str::to_owned)
}

/// The name of an EVENT (first element of its array), if it is a string.
pub fn event_name(data: Option<&str>) -> Option<String> {
    match Json::parse(data?)? {
        Json::Array(items) => items.first()?.as_str().map(str::to_owned),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn decodes_what_socketioxide_sends() {
        let connected = decode(r#"0{"sid":"s1"}"#).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            (connected.kind, connected.namespace.as_str()),
            (SioKind::Connect, "/")
        );
        let refused = decode(r#"4{"message":"Token expired"}"#).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            connect_error_message(refused.data.as_deref()).as_deref(),
            Some("Token expired")
        );
        let ack = decode(r#"31[{"ok":true}]"#).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((ack.kind, ack.ack_id), (SioKind::Ack, Some(1)));
        let event = decode(r#"2["joined_room",{"room_id":"r"}]"#).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            event_name(event.data.as_deref()).as_deref(),
            Some("joined_room")
        );
        assert_eq!(decode("1").map(|p| p.kind), Ok(SioKind::Disconnect));
        assert_eq!(
            decode("2/chat,[\"m\"]").map(|p| p.namespace),
            Ok("/chat".into())
        );
    }

    #[test]
    fn refuses_binary_and_malformed_packets() {
        assert_eq!(
            decode(r#"51-["x",{"_placeholder":true,"num":0}]"#),
            Err(FrameError::BinaryUnsupported)
        );
        for bad in [
            "",
            "9",
            "2",
            "2{}",
            "2[",
            "0{bad",
            "99999999999999999999999[]",
        ] {
            assert!(decode(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn encodes_with_and_without_namespace() {
        assert_eq!(connect("/admin", "t\"x"), r#"0/admin,{"token":"t\"x"}"#);
        assert_eq!(event("/", "ping", "", None), r#"2["ping"]"#);
        assert_eq!(disconnect("/"), "1");
    }

    proptest! {
        #[test]
        fn never_panics(text in ".{0,60}") {
            let _ = decode(&text);
        }

        #[test]
        fn encoded_events_decode(name in "[a-z_]{1,12}", ack in proptest::option::of(0u64..1000)) {
            let packet = decode(&event("/", &name, "{\"k\":1}", ack));
            prop_assert_eq!(packet.as_ref().map(|p| p.ack_id), Ok(ack));
            prop_assert_eq!(packet.ok().and_then(|p| event_name(p.data.as_deref())), Some(name));
        }
    }
}
