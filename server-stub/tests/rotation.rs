//! Refresh rotation: the seed's response shape, successor claims, the reuse window,
//! reuse detection revoking the whole sign-in, logout, and the session-age cap.

mod common;

use common::{TestServer, payload_of};
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn the_seed_curl_gets_the_seed_response_shape() {
    let server = TestServer::start().await;
    let expired = server.mint("doc-7", -60).await;
    assert!(
        expired.expires_in < 0,
        "dev token must be minted already expired"
    );

    let answer = server.refresh(&expired.access_token).await;
    assert_eq!(answer.status, StatusCode::OK, "{:?}", answer.body);
    let body = answer.body.as_object().cloned().unwrap_or_default();
    let mut keys: Vec<&str> = body.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "access_token",
            "expires_at",
            "expires_in",
            "token_type",
            "user"
        ]
    );
    assert_eq!(body["token_type"], "bearer");
    assert_eq!(body["expires_in"], 4 * 3600);
    assert_eq!(
        body["user"],
        json!({"user_id": "doc-7", "email": "doc-7@example.test", "role": "PATIENT", "name": "doc-7"})
    );

    let expires_at = body["expires_at"].as_str().unwrap_or_default();
    assert!(
        expires_at.ends_with('Z'),
        "expires_at must be UTC with Z: {expires_at}"
    );
    let parsed =
        time::OffsetDateTime::parse(expires_at, &time::format_description::well_known::Rfc3339)
            .unwrap_or_else(|e| panic!("expires_at {expires_at}: {e}"));
    let token = body["access_token"].as_str().unwrap_or_default();
    assert_eq!(
        Some(parsed.unix_timestamp()),
        payload_of(token)["exp"].as_i64()
    );
}

#[tokio::test]
async fn a_successor_keeps_sid_and_auth_time_with_a_new_jti() {
    let server = TestServer::start().await;
    let first = server.mint("u1", 300).await.access_token;
    server.advance_secs(100);
    let answer = server.refresh(&first).await;
    let second = answer.body["access_token"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let (a, b) = (payload_of(&first), payload_of(&second));
    assert_eq!(a["sid"], b["sid"]);
    assert_eq!(a["auth_time"], b["auth_time"]);
    assert_eq!(a["sub"], b["sub"]);
    assert_ne!(a["jti"], b["jti"]);
    assert_eq!(b["iat"].as_i64(), a["iat"].as_i64().map(|iat| iat + 100));
}

#[tokio::test]
async fn a_repeat_inside_the_reuse_window_returns_the_same_successor() {
    let server = TestServer::start().await;
    let token = server.mint("u1", 60).await.access_token;
    let first = server.refresh(&token).await;
    server.advance_secs(30); // the default window is 30 s, inclusive
    let again = server.refresh(&token).await;
    assert_eq!(first.status, StatusCode::OK);
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(first.body["access_token"], again.body["access_token"]);
    assert_eq!(first.body["expires_at"], again.body["expires_at"]);
    assert_eq!(
        again.body["expires_in"].as_i64(),
        first.body["expires_in"].as_i64().map(|s| s - 30)
    );
    assert_eq!(server.stats().await.refresh_ok, 2);
}

#[tokio::test]
async fn concurrent_refreshes_of_one_token_share_one_successor() {
    let server = TestServer::start().await;
    let token = server.mint("u1", 60).await.access_token;
    let answers = futures::future::join_all((0..16).map(|_| server.refresh(&token))).await;
    let successors: std::collections::HashSet<String> = answers
        .iter()
        .map(|a| {
            a.body["access_token"]
                .as_str()
                .unwrap_or("missing")
                .to_owned()
        })
        .collect();
    assert_eq!(
        successors.len(),
        1,
        "racing refreshes must share one successor: {successors:?}"
    );
    assert!(answers.iter().all(|a| a.status == StatusCode::OK));
}

#[tokio::test]
async fn reuse_after_the_window_revokes_the_whole_sign_in() {
    let server = TestServer::start().await;
    server
        .create_session_ok(json!({"session_id": "s-reuse"}))
        .await;
    let old = server.mint("u1", 3600).await.access_token;
    let successor = server.refresh(&old).await.body["access_token"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert_eq!(
        server.get_session("s-reuse", &successor).await.status,
        StatusCode::OK
    );

    server.advance_secs(31);
    let reused = server.refresh(&old).await;
    assert_eq!(reused.status, StatusCode::UNAUTHORIZED);
    assert_eq!(reused.code(), Some("token_reused"));

    // Every token of that sign-in is dead now, the legitimate successor included.
    for answer in [
        server.refresh(&successor).await,
        server.get_session("s-reuse", &successor).await,
        server.refresh(&old).await,
    ] {
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{:?}", answer.body);
        assert_eq!(answer.code(), Some("session_revoked"));
    }
    // Another user's sign-in is untouched.
    let other = server.mint("u2", 3600).await.access_token;
    assert_eq!(server.refresh(&other).await.status, StatusCode::OK);
}

#[tokio::test]
async fn a_zero_reuse_window_still_tolerates_a_repeat_at_the_same_instant() {
    let server = TestServer::start_with(|s| s.reuse_window = std::time::Duration::ZERO).await;
    let token = server.mint("u1", 60).await.access_token;
    let first = server.refresh(&token).await;
    let again = server.refresh(&token).await;
    assert_eq!(first.body["access_token"], again.body["access_token"]);
    server.advance_secs(1);
    assert_eq!(server.refresh(&token).await.code(), Some("token_reused"));
}

#[tokio::test]
async fn logout_revokes_every_token_of_the_sign_in() {
    let server = TestServer::start().await;
    server
        .create_session_ok(json!({"session_id": "s-logout"}))
        .await;
    let token = server.mint("u1", 3600).await.access_token;
    let successor = server.refresh(&token).await.body["access_token"]
        .as_str()
        .unwrap_or_default()
        .to_owned();

    let logout = server.logout(&successor).await;
    assert_eq!(logout.status, StatusCode::NO_CONTENT);
    for answer in [
        server.refresh(&successor).await,
        server.get_session("s-logout", &token).await,
        server.logout(&token).await,
    ] {
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
        assert_eq!(answer.code(), Some("session_revoked"));
    }
}

#[tokio::test]
async fn a_refreshed_token_never_outlives_the_session_max_age() {
    let server = TestServer::start().await;
    let mut token = server.mint("u1", 4 * 3600).await.access_token;
    let mut lifetimes = Vec::new();
    // Refresh every 3.5 h: 3.5, 7, 10.5 h after sign-in, then 14 h is beyond the 12 h cap.
    for _ in 0..3 {
        server.advance_secs(3 * 3600 + 1800);
        let answer = server.refresh(&token).await;
        assert_eq!(answer.status, StatusCode::OK, "{:?}", answer.body);
        lifetimes.push(answer.body["expires_in"].as_i64().unwrap_or_default());
        token = answer.body["access_token"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
    }
    assert_eq!(lifetimes, [4 * 3600, 4 * 3600, 3600 + 1800]);
    server.advance_secs(3 * 3600 + 1800);
    let answer = server.refresh(&token).await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    assert_eq!(answer.code(), Some("session_expired"));
}

#[tokio::test]
async fn a_short_lived_sign_in_keeps_its_lifetime_through_refreshes() {
    let server = TestServer::start().await;
    let token = server.mint("u1", 20).await.access_token;
    server.advance_secs(15);
    let first = server.refresh(&token).await;
    assert_eq!(first.body["expires_in"], 20, "{:?}", first.body);
    let successor = first.body["access_token"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    server.advance_secs(15);
    assert_eq!(server.refresh(&successor).await.body["expires_in"], 20);
}
