//! TLS to Redis (`rediss://host:port`): rustls with the ring provider. The server's certificate
//! is always verified, against the PEM certificates of `--redis-ca-file` when given, otherwise
//! the system's roots. There is no switch that skips the check: redis' `#insecure` URL fragment
//! is refused here, before redis reads it (and the crate is built without its
//! `tls-rustls-insecure` feature).
//!
//! ```
//! use consult_stub::storage::redis_tls::RedisTls;
//! // A plain URL needs no certificates; a CA file with a plain URL is refused.
//! assert!(RedisTls::default().client("redis://127.0.0.1:6379").is_ok());
//! let tls = RedisTls::from_pem(b"-----BEGIN CERTIFICATE-----\n...".to_vec());
//! assert!(tls.client("redis://127.0.0.1:6379").is_err());
//! ```

use std::path::Path;

use redis::TlsCertificates;

use super::redis::ConnectError;

/// How connections to Redis are secured: the CA certificates the server's certificate must
/// chain to (`None`: the system's roots, used only by `rediss://` URLs).
#[derive(Debug, Clone, Default)]
pub struct RedisTls {
    ca_pem: Option<Vec<u8>>,
}

impl RedisTls {
    /// Reads the CA certificates (PEM) of `--redis-ca-file`.
    pub fn load(ca_file: Option<&Path>) -> Result<Self, ConnectError> {
        match ca_file {
            None => Ok(Self::default()),
            Some(path) => std::fs::read(path)
                .map(Self::from_pem)
                .map_err(|e| ConnectError::CaFile(e.to_string())),
        }
    }

    /// Trusts exactly the CA certificates in `pem`.
    pub fn from_pem(pem: Vec<u8>) -> Self {
        Self { ca_pem: Some(pem) }
    }

    /// The certificates for redis' builders (`None` for the system's roots).
    pub fn certificates(&self) -> Option<TlsCertificates> {
        self.ca_pem.as_ref().map(|pem| TlsCertificates {
            client_tls: None,
            root_cert: Some(pem.clone()),
        })
    }

    /// A client for `url` (RESP3 added when the URL does not choose a protocol). A CA file with
    /// a `redis://` URL is refused: it would suggest a protection that is not there.
    pub fn client(&self, url: &str) -> Result<redis::Client, ConnectError> {
        install_crypto_provider();
        if url.contains('#') {
            return Err(ConnectError::InsecureTls);
        }
        let url = with_resp3(url);
        let tls = is_tls(&url);
        match (self.certificates(), tls) {
            (Some(_), false) => Err(ConnectError::CaWithoutTls),
            (Some(certs), true) => redis::Client::build_with_tls(url.as_str(), certs)
                .map_err(|e| ConnectError::BadUrl(describe(&e))),
            (None, _) => {
                redis::Client::open(url.as_str()).map_err(|e| ConnectError::BadUrl(describe(&e)))
            }
        }
    }
}

/// Whether `url` asks for TLS (`rediss://`).
pub fn is_tls(url: &str) -> bool {
    url.trim_start()
        .get(..9)
        .is_some_and(|scheme| scheme.eq_ignore_ascii_case("rediss://"))
}

/// rustls needs one process-wide crypto provider; ring is the one compiled in. Installing it
/// twice is harmless (the second attempt is refused and ignored). rustls 0.23.48 deprecates
/// ring's provider for lacking post-quantum key exchange; aws-lc-rs, which has it, needs a C
/// and CMake build this offline toolchain avoids.
#[allow(deprecated)]
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

fn with_resp3(url: &str) -> String {
    if url.contains("protocol=") {
        url.to_owned()
    } else if url.contains('?') {
        format!("{url}&protocol=resp3")
    } else {
        format!("{url}?protocol=resp3")
    }
}

/// Words for a redis error that never repeat the URL (it may hold a password): its kind, and
/// for an I/O failure (TLS ones included: `invalid peer certificate: UnknownIssuer`) or a
/// refused client configuration, what went wrong.
pub fn describe(e: &redis::RedisError) -> String {
    match e.kind() {
        redis::ErrorKind::Io => format!("{:?}: {e}", e.kind()),
        redis::ErrorKind::InvalidClientConfig => match e.detail() {
            Some(detail) => format!("{:?}: {detail}", e.kind()),
            None => format!("{:?}", e.kind()),
        },
        kind => format!("{kind:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tls_is_the_rediss_scheme() {
        assert!(is_tls("rediss://h:1"));
        assert!(is_tls("REDISS://h:1"));
        assert!(!is_tls("redis://h:1"));
        assert!(!is_tls("redis"));
    }

    #[test]
    fn the_insecure_fragment_and_a_ca_without_tls_are_refused() {
        let plain = RedisTls::default();
        assert!(matches!(
            plain.client("rediss://127.0.0.1:1/#insecure"),
            Err(ConnectError::InsecureTls)
        ));
        let with_ca = RedisTls::from_pem(b"pem".to_vec());
        assert!(matches!(
            with_ca.client("redis://127.0.0.1:1"),
            Err(ConnectError::CaWithoutTls)
        ));
        assert!(plain.client("rediss://127.0.0.1:1").is_ok());
    }
}
