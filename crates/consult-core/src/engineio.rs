//! Engine.IO v4 packets over a WebSocket (text frames): the transport Socket.IO runs on.
//!
//! ```text
//! 0{"sid":…,"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}   open
//! 1 close   2 ping   3 pong   4<payload> message   5 upgrade   6 noop
//! ```

use crate::json::Json;
use alloc::{borrow::ToOwned, string::String};

/// The handshake values of an Engine.IO `open` packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Handshake {
    /// Engine.IO session id.
    pub sid: String,
    /// How often the server pings (ms).
    pub ping_interval_ms: u64,
    /// How long after a ping interval the server may be silent before it counts as gone (ms).
    pub ping_timeout_ms: u64,
    /// Largest payload the server accepts (bytes).
    pub max_payload: u64,
}

/// A decoded Engine.IO packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EioPacket {
    /// `0`: the handshake.
    Open(Handshake),
    /// `1`: the server closes the transport.
    Close,
    /// `2`: a ping (the server pings in v4; answer with a pong).
    Ping,
    /// `3`: a pong.
    Pong,
    /// `4`: a message carrying a Socket.IO packet.
    Message(String),
    /// `5` / `6`: upgrade and noop (no meaning on a WebSocket-only connection).
    Noop,
}

/// Why a frame could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameError {
    /// An empty frame.
    Empty,
    /// An unknown packet type.
    UnknownType,
    /// An `open` packet whose handshake is not valid JSON with the required fields.
    BadHandshake,
    /// A Socket.IO packet that does not follow the format.
    BadPacket,
    /// Binary attachments are not supported by this client.
    BinaryUnsupported,
}

impl FrameError {
    /// What went wrong, in words.
    pub fn as_str(self) -> &'static str {
        match self {
            FrameError::Empty => "empty frame",
            FrameError::UnknownType => "unknown packet type",
            FrameError::BadHandshake => "malformed Engine.IO handshake",
            FrameError::BadPacket => "malformed Socket.IO packet",
            FrameError::BinaryUnsupported => "binary attachments are not supported",
        }
    }
}

impl core::fmt::Display for FrameError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl core::error::Error for FrameError {}

fn millis(value: Option<&Json>) -> Option<u64> {
    value
        .and_then(Json::as_f64)
        .filter(|n| *n >= 0.0 && *n <= 86_400_000.0)
        .map(crate::to_u64)
}

/// Decodes one text frame.
///
/// ```
/// use consult_core::engineio::{decode, EioPacket};
/// assert_eq!(decode("2"), Ok(EioPacket::Ping));
/// assert_eq!(decode("40"), Ok(EioPacket::Message("0".into())));
/// assert!(decode("9").is_err());
/// ```
pub fn decode(frame: &str) -> Result<EioPacket, FrameError> {
    let kind = *frame.as_bytes().first().ok_or(FrameError::Empty)?;
    // A first byte that is not ASCII is an unknown type below: `rest` is not read then.
    let rest = frame.get(1..).unwrap_or("");
    Ok(match kind {
        b'0' => {
            let json = Json::parse(rest).ok_or(FrameError::BadHandshake)?;
            EioPacket::Open(Handshake {
                sid: json
                    .get("sid")
                    .and_then(Json::as_str)
                    .ok_or(FrameError::BadHandshake)?
                    .to_owned(),
                ping_interval_ms: millis(json.get("pingInterval"))
                    .ok_or(FrameError::BadHandshake)?,
                ping_timeout_ms: millis(json.get("pingTimeout")).ok_or(FrameError::BadHandshake)?,
                max_payload: json
                    .get("maxPayload")
                    .and_then(Json::as_f64)
                    .map_or(1_000_000, |n| crate::to_u64(n.max(0.0))),
            })
        }
        b'1' => EioPacket::Close,
        b'2' => EioPacket::Ping,
        b'3' => EioPacket::Pong,
        b'4' => EioPacket::Message(rest.to_owned()),
        b'5' | b'6' => EioPacket::Noop,
        _ => return Err(FrameError::UnknownType),
    })
}

/// The pong frame answering a ping.
pub const PONG: &str = "3";

/// Encodes a message frame carrying `payload` (a Socket.IO packet).
pub fn message(payload: &str) -> String {
    let mut frame = String::with_capacity(payload.len() + 1);
    frame.push('4');
    frame.push_str(payload);
    frame
}

/// The WebSocket URL of a Socket.IO server: `http(s)://host[/base]` →
/// `ws(s)://host[/base]/socket.io/?EIO=4&transport=websocket`.
///
/// ```
/// use consult_core::engineio::websocket_url;
/// assert_eq!(websocket_url("http://127.0.0.1:8086"), "ws://127.0.0.1:8086/socket.io/?EIO=4&transport=websocket");
/// assert_eq!(websocket_url("https://api.example/"), "wss://api.example/socket.io/?EIO=4&transport=websocket");
/// ```
pub fn websocket_url(base: &str) -> String {
    let base = crate::ascii::trim_end(base, b'/');
    let mut url = String::with_capacity(base.len() + 48);
    if let Some(rest) = base.strip_prefix("https://") {
        url.push_str("wss://");
        url.push_str(rest);
    } else if let Some(rest) = base.strip_prefix("http://") {
        url.push_str("ws://");
        url.push_str(rest);
    } else {
        url.push_str(base);
    }
    url.push_str("/socket.io/?EIO=4&transport=websocket");
    url
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn decodes_the_handshake_socket_io_sends() {
        let frame = r#"0{"sid":"abc","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}"#;
        assert_eq!(
            decode(frame),
            Ok(EioPacket::Open(Handshake {
                sid: "abc".into(),
                ping_interval_ms: 25_000,
                ping_timeout_ms: 20_000,
                max_payload: 1_000_000
            }))
        );
    }

    #[test]
    fn every_packet_type() {
        assert_eq!(decode("1"), Ok(EioPacket::Close));
        assert_eq!(decode("3"), Ok(EioPacket::Pong));
        assert_eq!(
            decode("42[\"x\"]"),
            Ok(EioPacket::Message("2[\"x\"]".into()))
        );
        assert_eq!(decode("6"), Ok(EioPacket::Noop));
        assert_eq!(decode(""), Err(FrameError::Empty));
        assert_eq!(decode("0{}"), Err(FrameError::BadHandshake));
        assert_eq!(
            decode("0{\"sid\":\"a\",\"pingInterval\":-1,\"pingTimeout\":1}"),
            Err(FrameError::BadHandshake)
        );
        assert_eq!(decode("é"), Err(FrameError::UnknownType));
        assert_eq!(message("0{}"), "40{}");
    }

    proptest! {
        #[test]
        fn never_panics(frame in ".{0,60}") {
            let _ = decode(&frame);
        }
    }
}
