//! Property tests: the token and request parsers fed arbitrary bytes never panic, and never
//! accept what they should not. In-process (no network) except the last, which sends arbitrary
//! bytes to the real binary and checks it still answers.

#[path = "hostile/support.rs"]
mod support;

use std::time::Duration;

use axum::http::{HeaderMap, HeaderValue, header};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use consult_stub::auth::bearer_token;
use consult_stub::cors::is_loopback_host;
use consult_stub::ids::valid_id;
use consult_stub::tokens::{Leniency, TokenService};
use proptest::prelude::*;

fn service() -> TokenService {
    let hour = Duration::from_secs(3600);
    TokenService::new(&[7; 32], 4 * hour, hour, 12 * hour)
        .unwrap_or_else(|e| panic!("HS256 key: {e}"))
}

fn at(seconds: i64) -> time::OffsetDateTime {
    time::OffsetDateTime::from_unix_timestamp(seconds).unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    /// Any string is refused (none is signed with the key) without a panic, at every leniency.
    #[test]
    fn arbitrary_tokens_are_refused(token in ".{0,300}", now in any::<i64>()) {
        let service = service();
        for leniency in [Leniency::Strict, Leniency::Lenient, Leniency::Rotation] {
            prop_assert!(service.verify(&token, leniency, at(now)).is_err());
        }
    }

    /// Three base64url parts of arbitrary JSON-ish bytes: refused, no panic.
    #[test]
    fn arbitrary_jwt_shaped_tokens_are_refused(
        header in proptest::collection::vec(any::<u8>(), 0..120),
        payload in proptest::collection::vec(any::<u8>(), 0..400),
        signature in proptest::collection::vec(any::<u8>(), 0..64),
    ) {
        let token = format!(
            "{}.{}.{}",
            URL_SAFE_NO_PAD.encode(header),
            URL_SAFE_NO_PAD.encode(payload),
            URL_SAFE_NO_PAD.encode(signature)
        );
        prop_assert!(service().verify(&token, Leniency::Rotation, at(1_800_000_000)).is_err());
    }

    /// Arbitrary claim times signed with the right key: never a panic (checked arithmetic);
    /// accepted only if the lifetime is within the TTL and nothing is in the future (beyond the
    /// clock leeway).
    #[test]
    fn arbitrary_claim_times_never_overflow(
        iat in any::<i64>(), exp in any::<i64>(), auth_time in any::<i64>(),
        nbf in proptest::option::of(any::<i64>()), now in -1_000_000_000_i64..4_000_000_000,
    ) {
        let service = service();
        let claims = consult_stub::tokens::Claims {
            sub: "u".into(), email: "e".into(), role: "r".into(), name: "n".into(),
            iat, exp, jti: "j".into(), sid: "s".into(), auth_time,
            iss: consult_stub::tokens::ISSUER.into(), aud: consult_stub::tokens::AUDIENCE.into(),
            nbf,
        };
        let Ok(token) = service.sign(&claims) else { return Ok(()) };
        if let Ok(accepted) = service.verify(&token, Leniency::Rotation, at(now)) {
            let lifetime = i128::from(accepted.exp) - i128::from(accepted.iat);
            prop_assert!(lifetime > 0 && lifetime <= 4 * 3600);
            prop_assert!(i128::from(accepted.iat) <= i128::from(now) + 30);
            // A sign-in's time may be up to the leeway after a successor's issue (instances'
            // clocks differ), never more.
            prop_assert!(i128::from(accepted.auth_time) <= i128::from(accepted.iat) + 30);
        }
    }

    /// Arbitrary `Authorization` header bytes: a token, or a refusal, never a panic.
    #[test]
    fn arbitrary_authorization_headers_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        if let Ok(value) = HeaderValue::from_bytes(&bytes) {
            let mut headers = HeaderMap::new();
            headers.insert(header::AUTHORIZATION, value);
            if let Ok(token) = bearer_token(&headers) {
                prop_assert!(!token.is_empty());
            }
        }
    }

    /// Hosts and ids: arbitrary strings never panic; a valid id has only its alphabet.
    #[test]
    fn arbitrary_hosts_and_ids_never_panic(text in ".{0,200}") {
        let _ = is_loopback_host(&text);
        if valid_id(&text, 128) {
            prop_assert!(text.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-@+".contains(&b)));
        }
    }
}

/// Arbitrary bytes as an HTTP request to the real binary (a few dozen cases): the server answers
/// each or closes, and still answers a real request afterwards.
#[tokio::test]
async fn arbitrary_request_bytes_never_take_the_server_down() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let stub = support::Stub::dev(&[]);
    let mut runner = TestRunner::deterministic();
    let strategy = proptest::collection::vec(any::<u8>(), 0..2048);
    for case in 0..48 {
        let Ok(tree) = strategy.new_tree(&mut runner) else {
            continue;
        };
        let mut bytes = tree.current();
        if case % 2 == 0 {
            // Half the cases look like a request line first, to reach the header parser.
            let mut request = b"POST /api/video/auth/refresh-token HTTP/1.1\r\n".to_vec();
            request.append(&mut bytes);
            bytes = request;
        }
        let _ = support::raw_http(&stub.addr, &bytes, Duration::from_millis(300)).await;
    }
    stub.assert_alive().await;
}
