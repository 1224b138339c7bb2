//! N6: what the path to Redis and Redis itself give away. The real `consult-stub` binary on a
//! real `redis-server` (Debian's, built with TLS) started by each test on a free loopback port:
//! `rediss://` with the server's certificate verified against `--redis-ca-file` (a certificate
//! from another CA is refused at start, and there is no way to skip the check), and a dump of
//! every key and value after sign-ins, refreshes, a join and a logout in which no token, token
//! signature, token id or sign-in id appears. Certificates are made by the test (openssl CLI).

#[path = "hostile/support.rs"]
mod support;

#[path = "common/redis_server.rs"]
mod redis_server;

use std::time::Duration;

use redis_server::{RedisServer, TlsFiles};
use serde_json::{Value, json};
use support::{Sio, Stub, payload_sid, start_expecting_failure};

const SECRET: &str = "redis-secrecy-test-secret-shared-by-instances-0123456789";
const WAIT: Duration = Duration::from_secs(5);

fn token_of(body: &Value) -> String {
    body["access_token"].as_str().unwrap_or_default().to_owned()
}

/// The `jti` claim of a token (payload decoded without verifying).
fn payload_jti(token: &str) -> String {
    use base64::Engine;
    let part = token.split('.').nth(1).unwrap_or_default();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(part)
        .unwrap_or_default();
    serde_json::from_slice::<Value>(&bytes).unwrap_or(Value::Null)["jti"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// A socket connected to `stub` and joined to `room` as `user`.
async fn joined(stub: &Stub, user: &str, token: &str, room: &str) -> Sio {
    let mut socket = Sio::connect(&stub.addr, token)
        .await
        .unwrap_or_else(|e| panic!("connect to {}: {e}", stub.addr));
    socket
        .emit(
            "join_room",
            json!({"room_id": room, "user_id": user, "role": "PATIENT", "token": token}),
        )
        .await;
    socket.expect_event("joined_room", WAIT).await;
    socket
}

#[tokio::test]
async fn rediss_with_the_ca_file_carries_sign_in_refresh_rooms_and_logout() {
    let tls = TlsFiles::generate("consult-test-ca");
    let ca = tls.ca.to_string_lossy().into_owned();
    let redis = RedisServer::start_tls(tls);
    assert!(redis.url.starts_with("rediss://"), "{}", redis.url);
    let args = [
        "--dev",
        "--redis",
        &redis.url,
        "--redis-ca-file",
        &ca,
        "--create-session",
        "tls-1",
    ];
    let a = Stub::start(&args, &[("CONSULT_JWT_SECRET", SECRET)]);
    let b = Stub::start(&args, &[("CONSULT_JWT_SECRET", SECRET)]);
    let token = a.mint("pat-tls", 3600).await;
    let (status, body) = a.refresh(&token).await;
    assert_eq!(status, 200, "{body}");
    let successor = token_of(&body);
    // The other instance, through the same TLS Redis: the same successor inside the window.
    let (status, again) = b.refresh(&token).await;
    assert_eq!(
        (status, token_of(&again)),
        (200, successor.clone()),
        "{again}"
    );
    assert_eq!(b.get_session("tls-1", &successor).await.0, 200);
    // Socket.IO's adapter (pub/sub) goes over TLS too: a logout at B ends A's socket.
    let mut socket = joined(&a, "pat-tls", &successor, "room-tls-1").await;
    assert_eq!(b.logout(&successor).await, 204);
    let (ended, errors) = socket.ended_within(WAIT).await;
    assert!(ended, "the socket at A stayed after a logout at B");
    assert_eq!(errors, vec!["session_revoked".to_owned()]);
    let (status, body) = a.get_session("tls-1", &successor).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("session_revoked"))
    );
    // The state really is in that Redis, which has no plain port.
    let keys: u64 = redis.cli(&["DBSIZE"]).trim().parse().unwrap_or(0);
    assert!(keys > 0, "nothing reached the TLS Redis");
}

#[tokio::test]
async fn a_redis_certificate_from_another_ca_is_refused_at_start() {
    let redis = RedisServer::start_tls(TlsFiles::generate("the-servers-ca"));
    let other = TlsFiles::generate("another-ca");
    let other_ca = other.ca.to_string_lossy().into_owned();
    let env = [("CONSULT_JWT_SECRET", SECRET)];
    let (started, stderr) = start_expecting_failure(
        &[
            "--redis",
            &redis.url,
            "--redis-ca-file",
            &other_ca,
            "--redis-timeout",
            "500ms",
        ],
        &env,
    );
    assert!(
        !started,
        "started on a Redis whose certificate it cannot verify"
    );
    assert!(
        stderr.contains("cannot reach Redis") && stderr.contains("certificate"),
        "the refusal does not say why: {stderr}"
    );
    // Without a CA file the system's roots are used: a test CA is not among them.
    let (started, stderr) =
        start_expecting_failure(&["--redis", &redis.url, "--redis-timeout", "500ms"], &env);
    assert!(!started, "started on an unverified certificate: {stderr}");
    assert!(stderr.contains("certificate"), "{stderr}");
}

#[tokio::test]
async fn an_insecure_fragment_or_a_ca_file_without_tls_is_refused_at_start() {
    let redis = RedisServer::start();
    let tls = TlsFiles::generate("unused-ca");
    let ca = tls.ca.to_string_lossy().into_owned();
    let env = [("CONSULT_JWT_SECRET", SECRET)];
    let insecure = format!("rediss://127.0.0.1:{}/#insecure", redis.port);
    let (started, stderr) = start_expecting_failure(&["--redis", &insecure], &env);
    assert!(!started, "#insecure was accepted");
    assert!(stderr.contains("fragment"), "{stderr}");
    let (started, stderr) =
        start_expecting_failure(&["--redis", &redis.url, "--redis-ca-file", &ca], &env);
    assert!(!started, "a CA file with a plain redis:// URL was accepted");
    assert!(stderr.contains("needs a rediss://"), "{stderr}");
}

/// Every key, field, member and value in the Redis, as text (SCAN, then by TYPE).
fn dump(redis: &RedisServer) -> Vec<String> {
    let client =
        redis::Client::open(redis.url.as_str()).unwrap_or_else(|e| panic!("redis client: {e}"));
    let mut conn = client
        .get_connection()
        .unwrap_or_else(|e| panic!("redis connection: {e}"));
    let keys: Vec<Vec<u8>> = redis::cmd("KEYS")
        .arg("*")
        .query(&mut conn)
        .unwrap_or_else(|e| panic!("KEYS: {e}"));
    let scanned: Result<Vec<Vec<u8>>, _> = redis::cmd("SCAN")
        .cursor_arg(0)
        .arg("COUNT")
        .arg(100_000)
        .clone()
        .iter(&mut conn)
        .unwrap_or_else(|e| panic!("SCAN: {e}"))
        .collect();
    let scanned = scanned.unwrap_or_else(|e| panic!("SCAN: {e}"));
    assert_eq!(keys.len(), scanned.len(), "SCAN saw every key");
    let mut seen = Vec::new();
    for key in scanned {
        let kind: String = redis::cmd("TYPE")
            .arg(&key)
            .query(&mut conn)
            .unwrap_or_else(|e| panic!("TYPE: {e}"));
        let values: Vec<Vec<u8>> = match kind.as_str() {
            "string" => redis::cmd("GET").arg(&key).query(&mut conn),
            "hash" => redis::cmd("HGETALL").arg(&key).query(&mut conn),
            "set" => redis::cmd("SMEMBERS").arg(&key).query(&mut conn),
            "zset" => redis::cmd("ZRANGE")
                .arg(&key)
                .arg(0)
                .arg(-1)
                .arg("WITHSCORES")
                .query(&mut conn),
            "list" => redis::cmd("LRANGE")
                .arg(&key)
                .arg(0)
                .arg(-1)
                .query(&mut conn),
            other => panic!("a key of type {other} the dump does not read"),
        }
        .unwrap_or_else(|e| panic!("reading a {kind}: {e}"));
        seen.push(String::from_utf8_lossy(&key).into_owned());
        seen.extend(
            values
                .iter()
                .map(|value| String::from_utf8_lossy(value).into_owned()),
        );
    }
    seen
}

#[tokio::test]
async fn no_token_signature_token_id_or_sign_in_id_is_readable_in_redis() {
    let redis = RedisServer::start();
    let a = Stub::start(
        &["--dev", "--redis", &redis.url, "--create-session", "rest-1"],
        &[("CONSULT_JWT_SECRET", SECRET)],
    );
    // A sign-in refreshed twice (once repeated inside the window), joined and logged out...
    let first = a.mint("pat-rest", 3600).await;
    let (status, body) = a.refresh(&first).await;
    assert_eq!(status, 200, "{body}");
    let second = token_of(&body);
    let (status, body) = a.refresh(&first).await;
    assert_eq!(
        (status, token_of(&body)),
        (200, second.clone()),
        "a repeat inside the window is the same successor, although none is stored"
    );
    let (status, body) = a.refresh(&second).await;
    assert_eq!(status, 200, "{body}");
    let third = token_of(&body);
    assert_eq!(a.get_session("rest-1", &third).await.0, 200);
    let socket = joined(&a, "pat-rest", &third, "room-rest-1").await;
    drop(socket);
    assert_eq!(a.logout(&third).await, 204);
    // ...and one left live, refreshed once.
    let live = a.mint("pat-live", 3600).await;
    let (status, body) = a.refresh(&live).await;
    assert_eq!(status, 200, "{body}");
    let live_successor = token_of(&body);
    assert_eq!(a.get_session("rest-1", &live_successor).await.0, 200);

    let everything = dump(&redis).join("\n");
    // The premise: the sign-ins are there, under their ids' digests.
    let keys = consult_stub::storage::redis::RedisKeys::new(SECRET.as_bytes());
    for token in [&first, &live] {
        let key = keys.sign_in_key(&payload_sid(token));
        assert!(
            everything.contains(&key),
            "no {key} in the dump:\n{everything}"
        );
    }
    assert!(
        everything.contains(&keys.jti(&payload_jti(&third))),
        "the join log is empty"
    );
    for token in [&first, &second, &third, &live, &live_successor] {
        let parts: Vec<&str> = token.split('.').collect();
        assert_eq!(parts.len(), 3, "{token}");
        let secrets = [
            ("token", token.as_str()),
            ("payload", parts[1]),
            ("signature", parts[2]),
            ("jti", &payload_jti(token)),
            ("sid", &payload_sid(token)),
        ];
        for (what, text) in secrets {
            assert!(text.len() >= 16, "{what} too short to search for: {text:?}");
            assert!(
                !everything.contains(text),
                "a {what} is readable in Redis: {text}\n{everything}"
            );
        }
    }
}
