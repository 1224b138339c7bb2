//! The JWT matrix: every kind of credential, at both lenient endpoints (refresh and GET
//! session), with the exact status and error code.

mod common;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use common::{SECRET, TestServer, b64_json, payload_of};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::StatusCode;
use serde_json::{Value, json};

const SESSION: &str = "matrix-session";

async fn server() -> TestServer {
    let server = TestServer::start().await;
    server
        .create_session_ok(json!({"session_id": SESSION}))
        .await;
    server
}

/// Claims the server would sign now, as JSON, for `sub` (4 h token).
fn claims_now(now: i64) -> Value {
    json!({
        "sub": "u1", "email": "u1@example.test", "role": "PATIENT", "name": "U1",
        "iat": now, "exp": now + 4 * 3600, "jti": "jti-1", "sid": "sid-1", "auth_time": now,
        "iss": "consult-stub", "aud": "consult-video"
    })
}

/// Signs like the server does: `typ` `at+jwt`.
fn sign(alg: Algorithm, claims: &Value, secret: &[u8]) -> String {
    sign_typed(alg, claims, secret, Some("at+jwt"))
}

fn sign_typed(alg: Algorithm, claims: &Value, secret: &[u8], typ: Option<&str>) -> String {
    let key = EncodingKey::from_secret(secret).unwrap_or_else(|e| panic!("key: {e}"));
    let mut header = Header::new(alg);
    header.typ = typ.map(str::to_owned);
    jsonwebtoken::encode(&header, claims, &key).unwrap_or_else(|e| panic!("encode: {e}"))
}

fn without(mut claims: Value, field: &str) -> Value {
    if let Some(map) = claims.as_object_mut() {
        map.remove(field);
    }
    claims
}

fn with(mut claims: Value, field: &str, value: Value) -> Value {
    if let Some(map) = claims.as_object_mut() {
        map.insert(field.to_owned(), value);
    }
    claims
}

fn now(server: &TestServer) -> i64 {
    use consult_stub::clock::Clock;
    server.clock.now().unix_timestamp()
}

/// Asserts the same outcome at both endpoints for an `Authorization` header value.
async fn expect_both(
    server: &TestServer,
    case: &str,
    authorization: Option<&str>,
    status: StatusCode,
    code: Option<&str>,
) {
    let refresh = server.refresh_with(authorization).await;
    let session = server.get_session_with(SESSION, authorization).await;
    for (endpoint, answer) in [("refresh", &refresh), ("get session", &session)] {
        assert_eq!(
            answer.status, status,
            "{case} at {endpoint}: {:?}",
            answer.body
        );
        assert_eq!(
            answer.code(),
            code,
            "{case} at {endpoint}: {:?}",
            answer.body
        );
        if code.is_some() {
            assert!(
                answer
                    .body
                    .get("message")
                    .and_then(Value::as_str)
                    .is_some_and(|m| !m.is_empty()),
                "{case}: message"
            );
        }
    }
}

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

#[tokio::test]
async fn a_valid_token_is_accepted_at_both_endpoints() {
    let server = server().await;
    let token = server.mint("u1", 4 * 3600).await.access_token;
    expect_both(
        &server,
        "valid",
        Some(&bearer(&token)),
        StatusCode::OK,
        None,
    )
    .await;
}

#[tokio::test]
async fn an_expired_token_is_accepted_within_the_grace() {
    let server = server().await;
    let token = server.mint("u1", 60).await.access_token;
    server.advance_secs(60 + 3600); // exactly at the end of the 1 h grace
    expect_both(
        &server,
        "expired within grace",
        Some(&bearer(&token)),
        StatusCode::OK,
        None,
    )
    .await;
}

#[tokio::test]
async fn an_expired_token_is_refused_beyond_the_grace() {
    let server = server().await;
    let token = server.mint("u1", 60).await.access_token;
    server.advance_secs(60 + 3600 + 1);
    expect_both(
        &server,
        "beyond grace",
        Some(&bearer(&token)),
        StatusCode::UNAUTHORIZED,
        Some("refresh_window_expired"),
    )
    .await;
}

#[tokio::test]
async fn a_token_beyond_the_session_cap_is_refused_even_within_grace() {
    let server = server().await;
    let t = now(&server);
    let claims = with(
        with(
            with(claims_now(t), "auth_time", json!(t - 12 * 3600 - 1)),
            "exp",
            json!(t - 60),
        ),
        "iat",
        json!(t - 60 - 4 * 3600),
    );
    let token = sign(Algorithm::HS256, &claims, SECRET);
    expect_both(
        &server,
        "beyond cap",
        Some(&bearer(&token)),
        StatusCode::UNAUTHORIZED,
        Some("session_expired"),
    )
    .await;
}

#[tokio::test]
async fn forged_and_malformed_tokens_are_invalid() {
    let server = server().await;
    let t = now(&server);
    let good = sign(Algorithm::HS256, &claims_now(t), SECRET);
    let parts: Vec<&str> = good.split('.').collect();
    let tampered_payload = b64_json(&with(payload_of(&good), "sub", json!("someone-else")));
    let tampered = format!("{}.{}.{}", parts[0], tampered_payload, parts[2]);
    let alg_none = format!(
        "{}.{}.",
        b64_json(&json!({"alg": "none", "typ": "JWT"})),
        parts[1]
    );
    let rs256_header = b64_json(&json!({"alg": "RS256", "typ": "JWT"}));
    let rs256_signed_with_secret = {
        use hmac_sign::sign_hs256;
        let message = format!("{rs256_header}.{}", parts[1]);
        format!(
            "{message}.{}",
            URL_SAFE_NO_PAD.encode(sign_hs256(SECRET, message.as_bytes()))
        )
    };
    let cases: Vec<(&str, String)> = vec![
        ("tampered payload", tampered),
        (
            "wrong secret",
            sign(Algorithm::HS256, &claims_now(t), b"not-the-secret"),
        ),
        ("alg none", alg_none),
        ("alg HS512", sign(Algorithm::HS512, &claims_now(t), SECRET)),
        ("alg RS256 header", rs256_signed_with_secret),
        (
            "missing exp",
            sign(Algorithm::HS256, &without(claims_now(t), "exp"), SECRET),
        ),
        (
            "missing sub",
            sign(Algorithm::HS256, &without(claims_now(t), "sub"), SECRET),
        ),
        (
            "missing sid",
            sign(Algorithm::HS256, &without(claims_now(t), "sid"), SECRET),
        ),
        (
            "wrong iss",
            sign(
                Algorithm::HS256,
                &with(claims_now(t), "iss", json!("evil")),
                SECRET,
            ),
        ),
        (
            "wrong aud",
            sign(
                Algorithm::HS256,
                &with(claims_now(t), "aud", json!("other-app")),
                SECRET,
            ),
        ),
        (
            "typ JWT instead of at+jwt",
            sign_typed(Algorithm::HS256, &claims_now(t), SECRET, Some("JWT")),
        ),
        (
            "no typ",
            sign_typed(Algorithm::HS256, &claims_now(t), SECRET, None),
        ),
        ("garbage", "definitely-not-a-jwt".to_owned()),
        ("three dots of garbage", "a.b.c".to_owned()),
        ("64 KB header", "a".repeat(64 * 1024)),
    ];
    for (case, token) in &cases {
        expect_both(
            &server,
            case,
            Some(&bearer(token)),
            StatusCode::UNAUTHORIZED,
            Some("invalid_token"),
        )
        .await;
    }
    // The control: the untampered token signed the same way is accepted.
    expect_both(
        &server,
        "control",
        Some(&bearer(&good)),
        StatusCode::OK,
        None,
    )
    .await;
}

#[tokio::test]
async fn missing_empty_and_non_bearer_credentials_are_missing_token() {
    let server = server().await;
    for (case, header) in [
        ("no header", None),
        ("empty bearer", Some("Bearer ")),
        ("empty", Some("")),
        ("not Bearer", Some("Basic dXNlcjpwdw==")),
    ] {
        expect_both(
            &server,
            case,
            header,
            StatusCode::UNAUTHORIZED,
            Some("missing_token"),
        )
        .await;
    }
}

#[tokio::test]
async fn auth_failures_carry_www_authenticate_and_never_500() {
    let server = server().await;
    let answer = server.refresh("garbage").await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        answer
            .headers
            .get("www-authenticate")
            .and_then(|v| v.to_str().ok()),
        Some("Bearer")
    );
}

/// A tiny HMAC-SHA256 over jsonwebtoken's own signing, to forge an RS256-labelled token
/// signed with the HS256 secret (the classic algorithm-confusion attack).
mod hmac_sign {
    pub fn sign_hs256(secret: &[u8], message: &[u8]) -> Vec<u8> {
        let key =
            jsonwebtoken::EncodingKey::from_secret(secret).unwrap_or_else(|e| panic!("key: {e}"));
        let signature = jsonwebtoken::crypto::sign(message, &key, jsonwebtoken::Algorithm::HS256)
            .unwrap_or_else(|e| panic!("sign: {e}"));
        base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, signature)
            .unwrap_or_default()
    }
}
