//! Keyed one-way digests under the server's secret (HMAC-SHA256, one derived key per purpose):
//! what Redis keeps instead of a token id or sign-in id, and how a successor's token id is
//! derived from its predecessor's, so that a repeat inside the reuse window can sign the same
//! successor again without any token being stored.
//!
//! ```
//! use consult_stub::keyed::KeyedDigest;
//! let a = KeyedDigest::derive(b"a-secret-of-at-least-32-bytes-long!!", "jti");
//! let b = KeyedDigest::derive(b"a-secret-of-at-least-32-bytes-long!!", "sid");
//! assert_eq!(a.hex128(b"x"), a.hex128(b"x"));
//! assert_ne!(a.hex128(b"x"), b.hex128(b"x"));
//! assert_eq!(a.hex128(b"x").len(), 32);
//! ```

use std::fmt::Write as _;

use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};

/// An HMAC-SHA256 key derived from a secret for one purpose; cheap to use (the keyed state is
/// computed once and cloned per digest).
#[derive(Clone)]
pub struct KeyedDigest {
    keyed: Hmac<Sha256>,
}

impl KeyedDigest {
    /// The key for `purpose`: HMAC-SHA256(secret, "consult-stub/" + purpose).
    pub fn derive(secret: &[u8], purpose: &str) -> Self {
        let key = mac(secret, &[b"consult-stub/", purpose.as_bytes()]);
        Self { keyed: keyed(&key) }
    }

    /// The first 128 bits of HMAC(key, value), in lower-case hex (32 characters).
    pub fn hex128(&self, value: &[u8]) -> String {
        let mut mac = self.keyed.clone();
        mac.update(value);
        let bytes = mac.finalize().into_bytes();
        let mut hex = String::with_capacity(32);
        for byte in bytes.iter().take(16) {
            let _ = write!(hex, "{byte:02x}");
        }
        hex
    }
}

/// HMAC-SHA256 keyed with `key` of any length, as RFC 2104 normalises it (a key longer than
/// the 64-byte block is hashed first, a shorter one is zero-padded): infallible.
pub(crate) fn keyed(key: &[u8]) -> Hmac<Sha256> {
    let mut block = [0u8; 64];
    if key.len() > block.len() {
        block[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    <Hmac<Sha256> as KeyInit>::new(&block.into())
}

fn mac(key: &[u8], parts: &[&[u8]]) -> Vec<u8> {
    let mut mac = keyed(key);
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keying_matches_hmac_sha256_for_short_and_long_keys() {
        for key in [&b"k"[..], &[7u8; 64][..], &[9u8; 100][..]] {
            let ours = mac(key, &[b"message"]);
            let mut reference =
                <Hmac<Sha256> as KeyInit>::new_from_slice(key).unwrap_or_else(|_| keyed(b"never"));
            reference.update(b"message");
            assert_eq!(ours, reference.finalize().into_bytes().to_vec());
        }
    }
}
