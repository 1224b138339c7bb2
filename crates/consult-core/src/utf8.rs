//! Bytes to text, as `String::from_utf8` reads them, without core's UTF-8 validator: its
//! word-at-a-time fast path and tables are ~1 KB of the npm package's wasm (and ~3 KB of
//! JavaScript in the React Native core) for the few short texts the machines take as bytes
//! (a JWT's decoded payload, the strings JavaScript hands the package's wasm).

use alloc::string::String;

/// `bytes` as a `String`, or none when they are not UTF-8 (RFC 3629: no overlong form, no
/// surrogate, nothing past U+10FFFF, no cut sequence), exactly as `String::from_utf8` decides.
///
/// ```
/// use consult_core::utf8::decode;
/// assert_eq!(decode("tök€𝄞".as_bytes()).as_deref(), Some("tök€𝄞"));
/// assert_eq!(decode(b"\xc3"), None); // cut short
/// assert_eq!(decode(b"\xc0\xaf"), None); // overlong '/'
/// assert_eq!(decode(b"\xed\xa0\x80"), None); // a surrogate
/// ```
pub fn decode(bytes: &[u8]) -> Option<String> {
    let mut text = String::with_capacity(bytes.len());
    let mut rest = bytes;
    while let [lead, after @ ..] = rest {
        // How many continuation bytes follow, the least code point that needs them, and the
        // lead byte's bits of the code point.
        let (count, least, bits) = match *lead {
            0x00..=0x7f => (0, 0, *lead),
            0xc0..=0xdf => (1, 0x80, lead & 0x1f),
            0xe0..=0xef => (2, 0x800, lead & 0x0f),
            0xf0..=0xf7 => (3, 0x1_0000, lead & 0x07),
            _ => return None,
        };
        let mut code = u32::from(bits);
        for byte in after.get(..count)? {
            if byte & 0xc0 != 0x80 {
                return None;
            }
            code = code << 6 | u32::from(byte & 0x3f);
        }
        if code < least {
            return None;
        }
        // `from_u32` refuses surrogates and code points past U+10FFFF.
        text.push(char::from_u32(code)?);
        rest = after.get(count..)?;
    }
    Some(text)
}

#[cfg(test)]
mod tests {
    use alloc::{string::String, vec::Vec};
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn decodes_what_from_utf8_accepts(bytes: Vec<u8>) {
            prop_assert_eq!(super::decode(&bytes), String::from_utf8(bytes).ok());
        }

        #[test]
        fn decodes_every_text(text: String) {
            prop_assert_eq!(super::decode(text.as_bytes()), Some(text));
        }

        #[test]
        fn refuses_what_from_utf8_refuses_near_text(text: String, at: usize, byte: u8) {
            // Arbitrary bytes are rarely UTF-8: change one byte of a text, mostly a non-ASCII one.
            let mut bytes = text.into_bytes();
            if !bytes.is_empty() {
                let at = at % bytes.len();
                bytes[at] = byte;
            }
            prop_assert_eq!(super::decode(&bytes), String::from_utf8(bytes).ok());
        }
    }

    #[test]
    fn every_lead_and_second_byte() {
        for lead in 0..=255u8 {
            for second in 0..=255u8 {
                for tail in [[0x80, 0x80], [0xbf, 0xbf], [0x80, 0x41]] {
                    let bytes = [lead, second, tail[0], tail[1]];
                    for len in 1..=4 {
                        let bytes = &bytes[..len];
                        assert_eq!(
                            super::decode(bytes),
                            String::from_utf8(bytes.to_vec()).ok(),
                            "{bytes:x?}"
                        );
                    }
                }
            }
        }
    }
}
