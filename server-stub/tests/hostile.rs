//! The hostile-input suite: every row of issue 10's table, replayed against the real binary on
//! 127.0.0.1 (a port it picks), each refusal asserted together with "the server still answers".
//! Test names start with the row they replay (`row1_…` … `row10_…`). Every loop is bounded.
//!
//! Runs against cargo's build of the binary, or `CONSULT_STUB_BIN` (e.g. the release build).

#[path = "hostile/support.rs"]
mod support;

use std::time::Duration;

use serde_json::{Value, json};
use support::{Seen, Sio, Stub, claims_now, raw_http, start_expecting_failure, status_of, with};

const WAIT: Duration = Duration::from_secs(5);

// ---- Row 1: dev doors ----------------------------------------------------------------------

#[tokio::test]
async fn row1_dev_endpoints_are_off_unless_asked_for() {
    let stub = Stub::start(&[], &[]);
    let (status, body) = stub
        .post(
            "/api/dev/token",
            json!({"user_id": "eve", "role": "DOCTOR"}),
        )
        .await;
    assert_eq!((status, body["error"].as_str()), (404, Some("not_found")));
    stub.assert_alive_without_dev().await;
}

#[tokio::test]
async fn row1_cors_does_not_mirror_a_foreign_origin() {
    let stub = Stub::dev(&["--allow-origin", "https://app.example"]);
    for (origin, allowed) in [
        ("https://evil.example", false),
        ("null", false),
        ("https://app.example", true),
        ("http://127.0.0.1:5173", true),
    ] {
        let (_, _, headers) = stub
            .call(
                stub.http
                    .request(
                        reqwest::Method::OPTIONS,
                        format!("{}/api/dev/token", stub.base),
                    )
                    .header("origin", origin)
                    .header("access-control-request-method", "POST")
                    .header("access-control-request-headers", "content-type"),
            )
            .await;
        let granted = headers
            .get("access-control-allow-origin")
            .and_then(|v| v.to_str().ok());
        assert_eq!(granted == Some(origin), allowed, "{origin}: {granted:?}");
    }
    stub.assert_alive().await;
}

#[tokio::test]
async fn row1_dev_endpoints_refuse_a_foreign_host_or_origin() {
    let stub = Stub::dev(&[]);
    let body = r#"{"user_id":"eve","role":"DOCTOR"}"#;
    let post = |host: &str, origin: Option<&str>, path: &str, body: &str| {
        let origin = origin.map_or(String::new(), |o| format!("Origin: {o}\r\n"));
        format!(
            "POST {path} HTTP/1.1\r\nHost: {host}\r\n{origin}Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
    };
    // DNS rebinding: a foreign Host.
    let answer = raw_http(
        &stub.addr,
        post("evil.example", None, "/api/dev/token", body).as_bytes(),
        WAIT,
    )
    .await;
    assert_eq!(status_of(&answer), 403, "{answer}");
    assert!(answer.contains("\"forbidden\""), "{answer}");
    assert!(!answer.contains("access_token"), "{answer}");
    // A page elsewhere (simple POST, no preflight) and an opaque origin.
    let answer = raw_http(
        &stub.addr,
        post(
            &stub.addr,
            Some("https://evil.example"),
            "/api/dev/token",
            body,
        )
        .as_bytes(),
        WAIT,
    )
    .await;
    assert_eq!(status_of(&answer), 403, "{answer}");
    let fault = r#"{"target":"refresh","fail_next":5}"#;
    let answer = raw_http(
        &stub.addr,
        post(&stub.addr, Some("null"), "/api/dev/faults", fault).as_bytes(),
        WAIT,
    )
    .await;
    assert_eq!(status_of(&answer), 403, "{answer}");
    // The fault was not installed, and the server answers.
    stub.assert_alive().await;
}

#[tokio::test]
async fn row1_dev_on_a_non_loopback_bind_is_refused_without_the_explicit_flag() {
    // The configuration is refused before anything is bound.
    let (ok, stderr) = start_expecting_failure(&["--dev", "--bind", "0.0.0.0"], &[]);
    assert!(!ok, "started: {stderr}");
    assert!(stderr.contains("--dev-on-public-address"), "{stderr}");
}

// ---- Row 2: reuse detection cannot be bypassed by volume -----------------------------------

#[tokio::test]
async fn row2_chained_refreshes_cannot_outrun_reuse_detection() {
    let stub = Stub::dev(&["--refresh-burst", "40"]);
    let first = stub.mint("chain-user", 3600).await;
    let mut token = first.clone();
    let mut refreshed = 0;
    // Chain as fast as the server allows (bounded): the per-sign-in limit answers 429.
    for _ in 0..60 {
        let (status, body) = stub.refresh(&token).await;
        if status == 429 {
            assert_eq!(body["error"].as_str(), Some("rate_limited"));
            break;
        }
        assert_eq!(status, 200, "{body}");
        token = body["access_token"].as_str().unwrap_or_default().to_owned();
        refreshed += 1;
    }
    assert!(refreshed >= 40, "only {refreshed} refreshes");
    assert!(refreshed < 60, "no rate limit after {refreshed} refreshes");
    // The first token, rotated long ago in chain terms, is reuse: 401 and the sign-in revoked.
    // (The reuse window is 30 s, but it covers only the current token's predecessor.)
    let (status, body) = stub.refresh(&first).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("token_reused"))
    );
    let (status, body) = stub.refresh(&token).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("session_revoked"))
    );
    stub.assert_alive().await;
}

#[tokio::test]
async fn row2_a_full_sign_in_store_fails_closed() {
    let stub = Stub::dev(&["--max-sign-ins", "2"]);
    let a = stub.mint("a", 3600).await;
    let b = stub.mint("b", 3600).await;
    // A third sign-in is refused at its birth (issue 20, N7: counted when minted).
    let (status, body) = stub
        .post("/api/dev/token", json!({"user_id": "c", "ttl_secs": 3600}))
        .await;
    assert_eq!((status, body["error"].as_str()), (503, Some("server_full")));
    let (status, a2) = stub.refresh(&a).await;
    assert_eq!(status, 200);
    assert_eq!(stub.refresh(&b).await.0, 200);
    // Nothing live was forgotten: a's old token is still reuse.
    let a2 = a2["access_token"].as_str().unwrap_or_default().to_owned();
    assert_eq!(stub.refresh(&a2).await.0, 200);
    let (status, body) = stub.refresh(&a).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("token_reused"))
    );
}

// ---- Row 3: revocation reaches live sockets ------------------------------------------------

async fn joined_socket(stub: &Stub, user: &str, token: &str, room: &str) -> Sio {
    Sio::joined(&stub.addr, user, token, room).await
}

#[tokio::test]
async fn row3_logout_disconnects_the_sign_ins_sockets() {
    let stub = Stub::dev(&["--create-session", "s3"]);
    let token = stub.mint("pat3", 3600).await;
    let other = stub.mint("doc3", 3600).await;
    let mut socket = joined_socket(&stub, "pat3", &token, "room-s3").await;
    let mut bystander = joined_socket(&stub, "doc3", &other, "room-s3").await;
    assert_eq!(stub.logout(&token).await, 204);
    let (ended, errors) = socket.ended_within(WAIT).await;
    assert!(ended, "the revoked socket stayed");
    assert_eq!(errors, vec!["session_revoked".to_owned()]);
    // The other user's socket stays, and hears the departure.
    let left = bystander.expect_event("participant_left", WAIT).await;
    assert_eq!(left["user_id"], "pat3");
    // A revoked token cannot reconnect.
    assert_eq!(
        Sio::connect(&stub.addr, &token).await.err().as_deref(),
        Some("Session revoked")
    );
}

#[tokio::test]
async fn row3_reuse_detection_disconnects_the_sign_ins_sockets() {
    let stub = Stub::dev(&["--create-session", "s3r", "--reuse-window", "1s"]);
    let first = stub.mint("pat3r", 3600).await;
    let (_, body) = stub.refresh(&first).await;
    let second = body["access_token"].as_str().unwrap_or_default().to_owned();
    let mut socket = joined_socket(&stub, "pat3r", &second, "room-s3r").await;
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let (status, body) = stub.refresh(&first).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("token_reused"))
    );
    let (ended, errors) = socket.ended_within(WAIT).await;
    assert!(ended, "the socket of a reused sign-in stayed");
    assert_eq!(errors, vec!["token_reused".to_owned()]);
}

#[tokio::test]
async fn row3_a_socket_whose_token_expired_is_disconnected() {
    let stub = Stub::dev(&["--create-session", "s3e"]);
    let token = stub.mint("pat3e", 2).await;
    let mut socket = joined_socket(&stub, "pat3e", &token, "room-s3e").await;
    let (ended, errors) = socket.ended_within(Duration::from_secs(6)).await;
    assert!(ended, "the expired token's socket stayed");
    assert_eq!(errors, vec!["token_expired".to_owned()]);
    stub.assert_alive().await;
}

#[tokio::test]
async fn row3_a_socket_whose_sign_in_refreshed_stays() {
    let stub = Stub::dev(&["--create-session", "s3k"]);
    // Minted at t0 (exp ≤ t0 + 4 s); refreshed at t1 = t0 + 2.5 s (successor exp ≥ t1 + 3 s).
    let token = stub.mint("pat3k", 4).await;
    let mut socket = joined_socket(&stub, "pat3k", &token, "room-s3k").await;
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let (status, _) = stub.refresh(&token).await;
    assert_eq!(status, 200);
    // Watched from t1 + 2 s to t1 + 2.8 s: past the handshake token's exp (the expiry sweep runs
    // every second), before the successor's.
    tokio::time::sleep(Duration::from_millis(2000)).await;
    let (ended, errors) = socket.ended_within(Duration::from_millis(800)).await;
    assert!(
        !ended,
        "a refreshed sign-in lost its socket at the old token's exp: {errors:?}"
    );
}

// ---- Row 4: a revoked token does not come back ---------------------------------------------

#[tokio::test]
async fn row4_a_logged_out_token_stays_refused_past_the_session_max_age() {
    let stub = Stub::dev(&["--session-max-age", "3s", "--token-ttl", "3s"]);
    let token = stub.mint("pat4", 3).await;
    assert_eq!(stub.logout(&token).await, 204);
    assert_eq!(stub.whoami(&token).await.0, 401);
    tokio::time::sleep(Duration::from_millis(3500)).await;
    let (status, body) = stub.whoami(&token).await;
    assert_eq!(status, 401, "{body}");
    assert!(Sio::connect(&stub.addr, &token).await.is_err());
    assert_eq!(stub.refresh(&token).await.0, 401);
    stub.assert_alive().await;
}

#[tokio::test]
async fn row4_mint_ttl_is_clamped_and_config_is_validated() {
    let stub = Stub::dev(&[]);
    let (status, body) = stub
        .post(
            "/api/dev/token",
            json!({"user_id": "pat4c", "ttl_secs": 365 * 86_400}),
        )
        .await;
    assert_eq!(status, 200);
    assert!(
        body["expires_in"].as_i64().unwrap_or(i64::MAX) <= 4 * 3600,
        "{body}"
    );
    let (ok, stderr) = start_expecting_failure(
        &["--token-ttl", "13h"],
        &[("CONSULT_JWT_SECRET", &"k".repeat(32))],
    );
    assert!(!ok && stderr.contains("--session-max-age"), "{stderr}");
}

// ---- Row 5: bounded resources --------------------------------------------------------------

#[tokio::test]
async fn row5_huge_websocket_messages_are_refused_before_auth_and_memory_stays_bounded() {
    let stub = Stub::dev(&[]);
    let before = stub.rss_kib();
    for _ in 0..4 {
        let mut socket = Sio::open(&stub.addr).await;
        let huge = format!("40{{\"token\":\"{}\"}}", "a".repeat(8 * 1024 * 1024));
        socket.send(&huge).await;
        let (ended, _) = socket.ended_within(WAIT).await;
        assert!(ended, "an 8 MiB CONNECT was read");
    }
    let mut socket = Sio::open(&stub.addr).await;
    socket
        .send(&format!("42{}", json!(["x", "a".repeat(100 * 1024)])))
        .await;
    assert!(
        socket.ended_within(WAIT).await.0,
        "a 100 KiB message was read"
    );
    let after = stub.rss_kib();
    assert!(
        after < before + 30 * 1024,
        "RSS grew from {before} to {after} KiB"
    );
    stub.assert_alive().await;
}

#[tokio::test]
async fn row5_an_engine_io_session_that_never_connects_is_closed_within_seconds() {
    let stub = Stub::dev(&[]);
    let mut socket = Sio::open(&stub.addr).await;
    let (ended, _) = socket.ended_within(Duration::from_secs(8)).await;
    assert!(ended, "an Engine.IO session without CONNECT lived 8 s");
    stub.assert_alive().await;
}

#[tokio::test]
async fn row5_half_sent_headers_are_dropped_after_the_header_read_timeout() {
    let stub = Stub::dev(&[]);
    let mut streams = Vec::new();
    for _ in 0..20 {
        if let Ok(mut stream) = tokio::net::TcpStream::connect(&stub.addr).await {
            use tokio::io::AsyncWriteExt;
            let _ = stream
                .write_all(b"GET /api/dev/stats HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
                .await;
            streams.push(stream);
        }
    }
    tokio::time::sleep(Duration::from_secs(7)).await;
    let mut closed = 0;
    for stream in &mut streams {
        use tokio::io::AsyncReadExt;
        let mut buf = [0_u8; 512];
        match tokio::time::timeout(Duration::from_millis(500), stream.read(&mut buf)).await {
            Ok(Ok(_)) | Ok(Err(_)) => closed += 1,
            Err(_) => {}
        }
    }
    assert_eq!(
        closed,
        streams.len(),
        "half-sent requests still open after 7 s"
    );
    stub.assert_alive().await;
}

#[tokio::test]
async fn row5_connections_beyond_the_cap_wait() {
    let stub = Stub::dev(&["--max-connections", "4"]);
    let mut held = Vec::new();
    for _ in 0..4 {
        if let Ok(stream) = tokio::net::TcpStream::connect(&stub.addr).await {
            held.push(stream);
        }
    }
    let waiting = tokio::time::timeout(
        Duration::from_millis(800),
        stub.http.get(format!("{}/api/dev/stats", stub.base)).send(),
    )
    .await;
    assert!(waiting.is_err(), "a fifth connection was served");
    drop(held);
    stub.assert_alive().await;
}

#[tokio::test]
async fn row5_sessions_and_participant_lists_are_capped() {
    let stub = Stub::dev(&["--max-sessions", "3"]);
    for i in 0..3 {
        let (status, body) = stub
            .post(
                "/api/dev/sessions",
                json!({"session_id": format!("cap-{i}")}),
            )
            .await;
        assert_eq!(status, 201, "{body}");
    }
    let (status, body) = stub
        .post("/api/dev/sessions", json!({"session_id": "cap-3"}))
        .await;
    assert_eq!((status, body["error"].as_str()), (503, Some("server_full")));
    let many: Vec<String> = (0..33).map(|i| format!("user-{i}")).collect();
    let stub = Stub::dev(&[]);
    let (status, body) = stub
        .post(
            "/api/dev/sessions",
            json!({"session_id": "big", "participants": many}),
        )
        .await;
    assert_eq!((status, body["error"].as_str()), (400, Some("bad_request")));
    stub.assert_alive().await;
}

// ---- Row 6: join_room is bound to the handshake's user and sign-in -------------------------

#[tokio::test]
async fn row6_join_room_with_another_users_or_sign_ins_token_is_refused() {
    let stub = Stub::dev(&["--create-session", "s6"]);
    let alice = stub.mint("alice", 3600).await;
    let bob = stub.mint("bob", 3600).await;
    let alice_again = stub.mint("alice", 3600).await;
    let mut socket = Sio::connect(&stub.addr, &alice)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    for (user, token) in [("bob", &bob), ("alice", &alice_again)] {
        socket
            .emit(
                "join_room",
                json!({"room_id": "room-s6", "user_id": user, "role": "PATIENT", "token": token}),
            )
            .await;
        let error = socket.expect_event("error", WAIT).await;
        assert_eq!(error["code"], "not_a_participant", "{user}");
    }
    socket
        .emit(
            "join_room",
            json!({"room_id": "room-s6", "user_id": "alice", "role": "PATIENT", "token": alice}),
        )
        .await;
    socket.expect_event("joined_room", WAIT).await;
}

// ---- Row 7: claims per RFC 8725 ------------------------------------------------------------

#[tokio::test]
async fn row7_implausible_claims_are_invalid_everywhere() {
    let stub = Stub::dev(&[]);
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let base = claims_now("pat7");
    let cases: Vec<(&str, Value, Option<&str>)> = vec![
        (
            "nbf in the future",
            with(base.clone(), "nbf", json!(now + 600)),
            Some("at+jwt"),
        ),
        (
            "iat in the future",
            with(
                with(base.clone(), "iat", json!(now + 600)),
                "exp",
                json!(now + 3600),
            ),
            Some("at+jwt"),
        ),
        (
            "auth_time in the future",
            with(base.clone(), "auth_time", json!(now + 600)),
            Some("at+jwt"),
        ),
        (
            "exp 100 years out",
            with(base.clone(), "exp", json!(now + 100 * 365 * 86_400)),
            Some("at+jwt"),
        ),
        (
            "iat i64::MIN, exp i64::MAX",
            with(
                with(
                    with(base.clone(), "iat", json!(i64::MIN)),
                    "exp",
                    json!(i64::MAX),
                ),
                "auth_time",
                json!(i64::MIN),
            ),
            Some("at+jwt"),
        ),
        ("typ JWT", base.clone(), Some("JWT")),
        ("no typ", base.clone(), None),
    ];
    for (case, claims, typ) in cases {
        let token = stub.sign(&claims, typ);
        let (status, body) = stub.refresh(&token).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (401, Some("invalid_token")),
            "{case} at refresh"
        );
        let (status, _) = stub.whoami(&token).await;
        assert_eq!(status, 401, "{case} at whoami");
        assert_eq!(
            Sio::connect(&stub.addr, &token).await.err().as_deref(),
            Some("Invalid token"),
            "{case} at the handshake"
        );
    }
    // The control: the same claims, typed as the server types them, are accepted.
    let (status, body) = stub.refresh(&stub.sign(&base, Some("at+jwt"))).await;
    assert_eq!(status, 200, "{body}");
}

// ---- Row 8: secret and logs ----------------------------------------------------------------

#[tokio::test]
async fn row8_short_secrets_and_argv_secrets_are_refused() {
    let (ok, stderr) = start_expecting_failure(&[], &[("CONSULT_JWT_SECRET", "x")]);
    assert!(!ok && stderr.contains("at least 32"), "{stderr}");
    let (ok, stderr) = start_expecting_failure(&["--jwt-secret", &"k".repeat(40)], &[]);
    assert!(!ok, "a secret on the command line was accepted: {stderr}");
    let file = std::env::temp_dir().join(format!("consult-stub-secret-{}", std::process::id()));
    std::fs::write(&file, "short\n").unwrap_or_else(|e| panic!("{e}"));
    let path = file.to_string_lossy().into_owned();
    let (ok, stderr) = start_expecting_failure(&["--jwt-secret-file", &path], &[]);
    let _ = std::fs::remove_file(&file);
    assert!(!ok && stderr.contains("at least 32"), "{stderr}");
}

#[tokio::test]
async fn row8_tokens_never_reach_the_log_even_at_trace() {
    let stub = Stub::start(
        &["--dev", "--create-session", "s8"],
        &[("RUST_LOG", "trace")],
    );
    let token = stub.mint("pat8", 3600).await;
    let _socket = joined_socket(&stub, "pat8", &token, "room-s8").await;
    let (_, body) = stub.refresh(&token).await;
    let successor = body["access_token"].as_str().unwrap_or_default().to_owned();
    let _ = stub.whoami(&stub.sign(&claims_now("x"), Some("JWT"))).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let log = stub.stderr();
    assert!(!log.is_empty(), "nothing logged at trace");
    for secret_part in [
        token.rsplit('.').next().unwrap_or_default(),
        successor.rsplit('.').next().unwrap_or_default(),
    ] {
        assert!(!secret_part.is_empty());
        assert!(
            !log.contains(secret_part),
            "a token signature is in the log"
        );
    }
}

// ---- Row 9: rotated tokens, socket floods --------------------------------------------------

#[tokio::test]
async fn row9_a_rotated_token_no_longer_reads_sessions() {
    let stub = Stub::dev(&["--create-session", "s9", "--reuse-window", "1s"]);
    let token = stub.mint("pat9", 3600).await;
    let (_, body) = stub.refresh(&token).await;
    let successor = body["access_token"].as_str().unwrap_or_default().to_owned();
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let (status, body) = stub.get_session("s9", &token).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("token_superseded"))
    );
    assert_eq!(stub.get_session("s9", &successor).await.0, 200);
}

#[tokio::test]
async fn row9_one_sign_in_cannot_open_unbounded_sockets() {
    let stub = Stub::dev(&["--max-sockets-per-sign-in", "4"]);
    let token = stub.mint("pat9s", 3600).await;
    let mut open = Vec::new();
    for _ in 0..4 {
        open.push(
            Sio::connect(&stub.addr, &token)
                .await
                .unwrap_or_else(|e| panic!("{e}")),
        );
    }
    assert_eq!(
        Sio::connect(&stub.addr, &token).await.err().as_deref(),
        Some("Too many connections")
    );
    stub.assert_alive().await;
}

#[tokio::test]
async fn row9_an_event_flood_is_cut_off() {
    let stub = Stub::dev(&["--create-session", "s9f"]);
    let token = stub.mint("pat9f", 3600).await;
    let mut socket = Sio::connect(&stub.addr, &token)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let join =
        json!({"room_id": "room-s9f", "user_id": "pat9f", "role": "PATIENT", "token": token});
    for _ in 0..200 {
        socket.emit("join_room", join.clone()).await;
    }
    let mut rate_limited = false;
    for _ in 0..250 {
        match socket.next(WAIT).await {
            Seen::Event(name, data) if name == "error" => {
                rate_limited |= data["code"] == "rate_limited";
            }
            Seen::Event(..) => continue,
            _ => break,
        }
    }
    assert!(rate_limited, "no rate_limited error");
    stub.assert_alive().await;
}

// ---- Row 10: JSON errors and ids -----------------------------------------------------------

#[tokio::test]
async fn row10_a_large_body_gets_a_json_413() {
    let stub = Stub::dev(&[]);
    // A body declared at 1 MiB, of which only the first 1 KiB is sent: the 413 is decided from
    // Content-Length, before any of the body is read. (Sending the whole body raced the server's
    // close: a client still writing, or with bytes unread at the server, could see a reset
    // instead of the answer.)
    let addr = stub.base.trim_start_matches("http://");
    let mut request = format!(
        "POST /api/dev/sessions HTTP/1.1\r\nHost: {addr}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
        1024 * 1024
    )
    .into_bytes();
    request.extend(std::iter::repeat_n(b' ', 1024));
    let answer = raw_http(addr, &request, Duration::from_secs(5)).await;
    assert_eq!(status_of(&answer), 413, "{answer}");
    assert!(answer.contains("\"payload_too_large\""), "{answer}");
    let (status, body, _) = stub
        .call(
            stub.http
                .delete(format!("{}/api/video/auth/refresh-token", stub.base)),
        )
        .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (405, Some("method_not_allowed"))
    );
    stub.assert_alive().await;
}

#[tokio::test]
async fn row10_bad_ids_and_oversized_user_ids_are_refused() {
    let stub = Stub::dev(&[]);
    for id in ["a\"b", "a\nb", "", &"x".repeat(200), "../etc", "#sign-in:x"] {
        let (status, body) = stub
            .post("/api/dev/sessions", json!({"session_id": id}))
            .await;
        assert_eq!(
            (status, body["error"].as_str()),
            (400, Some("bad_request")),
            "{id:?}"
        );
    }
    let (status, body) = stub
        .post("/api/dev/token", json!({"user_id": "u".repeat(7000)}))
        .await;
    assert_eq!((status, body["error"].as_str()), (400, Some("bad_request")));
    stub.assert_alive().await;
}

#[tokio::test]
async fn row10_outsiders_cannot_tell_whether_a_session_exists() {
    let stub = Stub::dev(&[]);
    let (status, _) = stub
        .post(
            "/api/dev/sessions",
            json!({"session_id": "priv", "participants": ["doc"]}),
        )
        .await;
    assert_eq!(status, 201);
    let eve = stub.mint("eve", 3600).await;
    let existing = stub.get_session("priv", &eve).await;
    let missing = stub.get_session("nope", &eve).await;
    assert_eq!(existing.0, 404);
    assert_eq!(existing.0, missing.0);
    assert_eq!(existing.1["error"], missing.1["error"]);
}

// ---- The JWT matrix, against the binary ----------------------------------------------------

#[tokio::test]
async fn matrix_forged_tokens_are_refused_by_the_binary() {
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let stub = Stub::dev(&[]);
    let good = stub.sign(&claims_now("pat-m"), Some("at+jwt"));
    let parts: Vec<&str> = good.split('.').collect();
    let b64 = |v: &Value| URL_SAFE_NO_PAD.encode(v.to_string());
    let payload: Value = URL_SAFE_NO_PAD
        .decode(parts[1])
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or(Value::Null);
    let wrong_key = {
        let key =
            jsonwebtoken::EncodingKey::from_secret(&[9; 32]).unwrap_or_else(|e| panic!("key: {e}"));
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
        header.typ = Some("at+jwt".into());
        jsonwebtoken::encode(&header, &payload, &key).unwrap_or_default()
    };
    let hs512 = {
        let key = jsonwebtoken::EncodingKey::from_secret(stub.secret.as_bytes())
            .unwrap_or_else(|e| panic!("key: {e}"));
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS512);
        header.typ = Some("at+jwt".into());
        jsonwebtoken::encode(&header, &payload, &key).unwrap_or_default()
    };
    let cases = [
        (
            "tampered payload",
            format!(
                "{}.{}.{}",
                parts[0],
                b64(&with(payload.clone(), "sub", json!("someone-else"))),
                parts[2]
            ),
        ),
        (
            "alg none",
            format!(
                "{}.{}.",
                b64(&json!({"alg": "none", "typ": "at+jwt"})),
                parts[1]
            ),
        ),
        ("wrong key", wrong_key),
        ("HS512", hs512),
        ("oversized", "a".repeat(9000)),
    ];
    for (case, token) in cases {
        let (status, body) = stub.refresh(&token).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (401, Some("invalid_token")),
            "{case}"
        );
        assert!(
            Sio::connect(&stub.addr, &token).await.is_err(),
            "{case} at the handshake"
        );
    }
    assert_eq!(stub.refresh(&good).await.0, 200, "the control");
}
