//! GET session (ETag/304, 404, 403), dev endpoints (sessions, faults, stats, switch-off),
//! and bad input (malformed and oversized bodies).

mod common;

use common::TestServer;
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn an_unchanged_session_answers_304_and_a_change_gives_a_new_etag() {
    let server = TestServer::start().await;
    server.create_session_ok(json!({"session_id": "s1"})).await;
    let token = server.mint("u1", 3600).await.access_token;

    let first = server.get_session("s1", &token).await;
    assert_eq!(first.status, StatusCode::OK);
    assert_eq!(first.body["status"], "scheduled");
    let etag = first
        .headers
        .get("etag")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(
        etag.starts_with('"') && etag.ends_with('"'),
        "quoted etag: {etag}"
    );

    let conditional = server.get_session_if_none_match("s1", &token, &etag).await;
    assert_eq!(conditional.status, StatusCode::NOT_MODIFIED);
    assert_eq!(
        conditional
            .headers
            .get("etag")
            .and_then(|v| v.to_str().ok()),
        Some(etag.as_str())
    );

    let patched = server
        .send(
            server
                .http
                .patch(format!("{}/api/dev/sessions/s1", server.base))
                .json(&json!({"status": "active"})),
        )
        .await;
    assert_eq!(patched.status, StatusCode::OK);
    let after = server.get_session_if_none_match("s1", &token, &etag).await;
    assert_eq!(after.status, StatusCode::OK);
    assert_eq!(after.body["status"], "active");
    assert_ne!(
        after.headers.get("etag").and_then(|v| v.to_str().ok()),
        Some(etag.as_str())
    );

    let stats = server.stats().await;
    assert_eq!((stats.session_get, stats.session_not_modified), (3, 1));
}

#[tokio::test]
async fn unknown_sessions_and_outsiders_get_the_same_404() {
    let server = TestServer::start().await;
    server
        .create_session_ok(json!({"session_id": "private", "participants": ["doc", "pat"]}))
        .await;
    let patient = server.mint("pat", 3600).await.access_token;
    let stranger = server.mint("eve", 3600).await.access_token;

    assert_eq!(
        server.get_session("private", &patient).await.status,
        StatusCode::OK
    );
    let outsider = server.get_session("private", &stranger).await;
    outsider.expect_error(StatusCode::NOT_FOUND, "session_not_found");
    let missing = server.get_session("nope", &patient).await;
    missing.expect_error(StatusCode::NOT_FOUND, "session_not_found");
}

#[tokio::test]
async fn a_terminal_session_cannot_be_reopened() {
    let server = TestServer::start().await;
    server
        .create_session_ok(json!({"session_id": "s", "status": "active"}))
        .await;
    let patch = |status: &'static str| {
        server.send(
            server
                .http
                .patch(format!("{}/api/dev/sessions/s", server.base))
                .json(&json!({"status": status})),
        )
    };
    assert_eq!(patch("ended").await.status, StatusCode::OK);
    let reopen = patch("active").await;
    reopen.expect_error(StatusCode::BAD_REQUEST, "bad_request");
    let duplicate = server.create_session(json!({"session_id": "s"})).await;
    duplicate.expect_error(StatusCode::CONFLICT, "session_exists");
}

#[tokio::test]
async fn faults_fire_fail_next_times_then_stop() {
    let server = TestServer::start().await;
    let token = server.mint("u1", 3600).await.access_token;
    let fault = server
        .post_json(
            "/api/dev/faults",
            json!({"target": "refresh", "fail_next": 2, "status": 503, "retry_after_secs": 7}),
        )
        .await;
    assert_eq!(fault.status, StatusCode::NO_CONTENT);

    for _ in 0..2 {
        let answer = server.refresh(&token).await;
        answer.expect_error(StatusCode::SERVICE_UNAVAILABLE, "injected_fault");
        assert_eq!(
            answer
                .headers
                .get("retry-after")
                .and_then(|v| v.to_str().ok()),
            Some("7")
        );
    }
    assert_eq!(server.refresh(&token).await.status, StatusCode::OK);
    let stats = server.stats().await;
    assert_eq!((stats.refresh_faulted, stats.refresh_ok), (2, 1));

    // Session faults, and DELETE clears whatever is left.
    server.create_session_ok(json!({"session_id": "s"})).await;
    server
        .post_json(
            "/api/dev/faults",
            json!({"target": "sessions", "fail_next": 5, "status": 500}),
        )
        .await;
    assert_eq!(
        server.get_session("s", &token).await.status,
        StatusCode::INTERNAL_SERVER_ERROR
    );
    let cleared = server
        .send(
            server
                .http
                .delete(format!("{}/api/dev/faults", server.base)),
        )
        .await;
    assert_eq!(cleared.status, StatusCode::NO_CONTENT);
    assert_eq!(server.get_session("s", &token).await.status, StatusCode::OK);
}

#[tokio::test]
async fn bad_fault_requests_are_refused() {
    let server = TestServer::start().await;
    let not_error = server
        .post_json(
            "/api/dev/faults",
            json!({"target": "refresh", "fail_next": 1, "status": 200}),
        )
        .await;
    not_error.expect_error(StatusCode::BAD_REQUEST, "bad_request");
    let unknown_target = server
        .post_json("/api/dev/faults", json!({"target": "everything"}))
        .await;
    unknown_target.expect_error(StatusCode::BAD_REQUEST, "bad_request");
}

#[tokio::test]
async fn stats_count_refresh_outcomes() {
    let server = TestServer::start().await;
    let token = server.mint("u1", 60).await.access_token;
    server.refresh(&token).await;
    server.refresh("garbage").await;
    server.refresh_with(None).await;
    let stats = server.stats().await;
    assert_eq!((stats.refresh_ok, stats.refresh_rejected), (1, 2));
    assert_eq!(
        (stats.socket_connect, stats.socket_reject, stats.join),
        (0, 0, 0)
    );
}

#[tokio::test]
async fn malformed_and_oversized_bodies_are_bad_requests() {
    let server = TestServer::start().await;
    let url = format!("{}/api/dev/token", server.base);
    let malformed = server
        .send(
            server
                .http
                .post(&url)
                .header("content-type", "application/json")
                .body("{not json"),
        )
        .await;
    malformed.expect_error(StatusCode::BAD_REQUEST, "bad_request");
    let wrong_type = server
        .post_json("/api/dev/token", json!({"user_id": 42}))
        .await;
    wrong_type.expect_error(StatusCode::BAD_REQUEST, "bad_request");
    let no_content_type = server.send(server.http.post(&url).body("{}")).await;
    no_content_type.expect_error(StatusCode::BAD_REQUEST, "bad_request");
    let huge = format!("{{\"user_id\": \"{}\"}}", "x".repeat(100 * 1024));
    let oversized = server
        .send(
            server
                .http
                .post(&url)
                .header("content-type", "application/json")
                .body(huge),
        )
        .await;
    assert_eq!(oversized.status, StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test]
async fn unknown_api_paths_get_a_json_404() {
    let server = TestServer::start().await;
    let answer = server
        .send(server.http.get(format!("{}/api/nothing-here", server.base)))
        .await;
    answer.expect_error(StatusCode::NOT_FOUND, "not_found");
}

#[tokio::test]
async fn without_dev_endpoints_the_dev_api_is_404_and_the_video_api_works() {
    let server = TestServer::start_with(|s| s.dev_endpoints = false).await;
    for (method, path) in [
        ("POST", "/api/dev/token"),
        ("POST", "/api/dev/sessions"),
        ("PATCH", "/api/dev/sessions/x"),
        ("POST", "/api/dev/faults"),
        ("GET", "/api/dev/stats"),
    ] {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap_or(reqwest::Method::GET);
        let answer = server
            .send(
                server
                    .http
                    .request(method, format!("{}{path}", server.base))
                    .json(&json!({"user_id": "x"})),
            )
            .await;
        assert_eq!(answer.status, StatusCode::NOT_FOUND, "{path}");
    }
    let refresh = server.refresh("garbage").await;
    assert_eq!(refresh.code(), Some("invalid_token"));
}

#[tokio::test]
async fn cors_preflight_allows_authorization_and_exposes_date_and_etag() {
    let server = TestServer::start().await;
    let preflight = server
        .send(
            server
                .http
                .request(
                    reqwest::Method::OPTIONS,
                    format!("{}/api/video/sessions/s", server.base),
                )
                .header("origin", "http://127.0.0.1:9999")
                .header("access-control-request-method", "GET")
                .header(
                    "access-control-request-headers",
                    "authorization,if-none-match",
                ),
        )
        .await;
    assert!(preflight.status.is_success());
    let allowed = preflight
        .headers
        .get("access-control-allow-headers")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    assert!(
        allowed.contains("authorization") && allowed.contains("if-none-match"),
        "{allowed}"
    );
    let token = server.mint("u1", 60).await.access_token;
    let answer = server
        .send(
            server
                .http
                .post(format!("{}/api/video/auth/refresh-token", server.base))
                .bearer_auth(token)
                .header("origin", "http://127.0.0.1:9999"),
        )
        .await;
    let exposed = answer
        .headers
        .get("access-control-expose-headers")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    assert!(
        exposed.contains("date") && exposed.contains("etag"),
        "{exposed}"
    );
}

#[tokio::test]
async fn whoami_is_strict_and_names_the_token() {
    let server = TestServer::start().await;
    let valid = server.mint("u1", 60).await.access_token;
    let url = format!("{}/api/dev/whoami", server.base);
    let answer = server.send(server.http.get(&url).bearer_auth(&valid)).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.body["jti"], common::payload_of(&valid)["jti"]);
    server.advance_secs(61); // within the refresh grace, but whoami is strict
    let expired = server.send(server.http.get(&url).bearer_auth(&valid)).await;
    expired.expect_error(StatusCode::UNAUTHORIZED, "token_expired");
}

#[tokio::test]
async fn in_flight_max_counts_overlapping_session_requests() {
    let server = TestServer::start().await;
    server.create_session_ok(json!({"session_id": "s"})).await;
    let token = server.mint("u1", 3600).await.access_token;
    server
        .post_json(
            "/api/dev/faults",
            json!({"target": "sessions", "delay_ms": 300}),
        )
        .await;
    let one = server.get_session("s", &token).await;
    assert_eq!(one.status, StatusCode::OK);
    assert_eq!(server.stats().await.session_in_flight_max, 1);
    let both = futures::future::join(
        server.get_session("s", &token),
        server.get_session("s", &token),
    )
    .await;
    assert_eq!(
        (both.0.status, both.1.status),
        (StatusCode::OK, StatusCode::OK)
    );
    assert_eq!(server.stats().await.session_in_flight_max, 2);
}

#[tokio::test]
async fn a_header_block_beyond_the_http_limit_is_refused_with_431_and_the_server_lives_on() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let server = TestServer::start().await;
    let address = server.base.trim_start_matches("http://").to_owned();
    let mut stream = tokio::net::TcpStream::connect(&address)
        .await
        .unwrap_or_else(|e| panic!("connect: {e}"));
    let mut request =
        b"POST /api/video/auth/refresh-token HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
            .to_vec();
    request.extend(std::iter::repeat_n(b'a', 600 * 1024));
    request.extend(b"\r\nContent-Length: 0\r\n\r\n");
    let _ = stream.write_all(&request).await; // the server may close before reading it all
    let mut answer = vec![0u8; 64];
    let read = stream.read(&mut answer).await.unwrap_or(0);
    assert!(
        answer[..read].starts_with(b"HTTP/1.1 431"),
        "{:?}",
        String::from_utf8_lossy(&answer[..read])
    );
    assert_eq!(
        server.refresh("garbage").await.code(),
        Some("invalid_token"),
        "still serving"
    );
}
