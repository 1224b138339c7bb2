//! The hostile suite, issue 20: the caps of one sign-in (N7), what `join_room` tells an outsider
//! (N9) and the socket event limit (N10). The real binary on 127.0.0.1; every wait bounded.

#[path = "hostile/support.rs"]
mod support;

use std::time::Duration;

use serde_json::json;
use support::{Seen, Sio, Stub};

const WAIT: Duration = Duration::from_secs(5);

#[tokio::test]
async fn n7_mint_and_logout_cannot_grow_the_sign_in_store_past_its_cap() {
    let stub = Stub::dev(&["--max-sign-ins", "10"]);
    for i in 0..10 {
        let token = stub.mint(&format!("pat-n7-{i}"), 3600).await;
        assert_eq!(stub.logout(&token).await, 204);
    }
    for _ in 0..3 {
        let (status, body) = stub
            .post(
                "/api/dev/token",
                json!({"user_id": "pat-n7-more", "ttl_secs": 3600}),
            )
            .await;
        assert_eq!(
            (status, body["error"].as_str()),
            (503, Some("server_full")),
            "a sign-in beyond the cap was made: {body}"
        );
    }
}

/// The `error` code `join_room` answers for `room`.
async fn join_refusal(socket: &mut Sio, user: &str, token: &str, room: &str) -> String {
    socket
        .emit(
            "join_room",
            json!({"room_id": room, "user_id": user, "role": "PATIENT", "token": token}),
        )
        .await;
    let error = socket.expect_event("error", WAIT).await;
    format!("{} {}", error["code"], error["message"])
}

#[tokio::test]
async fn n9_join_room_does_not_tell_an_outsider_that_a_private_session_exists() {
    let stub = Stub::dev(&[]);
    let (status, body) = stub
        .post(
            "/api/dev/sessions",
            json!({"session_id": "private-n9", "participants": ["doc-n9"]}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let token = stub.mint("outsider-n9", 3600).await;
    let mut socket = Sio::connect(&stub.addr, &token)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let private = join_refusal(&mut socket, "outsider-n9", &token, "room-private-n9").await;
    let missing = join_refusal(&mut socket, "outsider-n9", &token, "room-nobody-n9").await;
    assert_eq!(
        private, missing,
        "a private session and no session answer differently"
    );
    assert!(private.contains("session_not_found"), "{private}");
}

/// The codes of the `error` events `socket` gets until it ends or `wait` passes, and how it
/// ended.
async fn errors_until_end(socket: &mut Sio, wait: Duration) -> (Vec<String>, Seen) {
    let deadline = tokio::time::Instant::now() + wait;
    let mut codes = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        match socket.next(left).await {
            Seen::Event(name, data) if name == "error" => {
                codes.push(data["code"].as_str().unwrap_or_default().to_owned());
            }
            Seen::Event(..) => continue,
            end => return (codes, end),
        }
    }
}

#[tokio::test]
async fn n10_an_event_flood_is_told_rate_limited_before_it_is_disconnected() {
    let stub = Stub::dev(&[]);
    let token = stub.mint("pat-n10-flood", 3600).await;
    let mut socket = Sio::connect(&stub.addr, &token)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let join = json!({"room_id": "room-none", "user_id": "pat-n10-flood", "role": "PATIENT", "token": token});
    for _ in 0..40 {
        socket.emit("join_room", join.clone()).await;
    }
    let (codes, end) = errors_until_end(&mut socket, WAIT).await;
    assert_eq!(
        codes.last().map(String::as_str),
        Some("rate_limited"),
        "the flood ended without the documented error: {codes:?}, {end:?}"
    );
    assert_eq!(end, Seen::Disconnect, "{codes:?}");
    assert!(
        codes.iter().filter(|c| *c == "session_not_found").count() <= 21,
        "more events answered than the burst: {codes:?}"
    );
}

#[tokio::test]
async fn n10_reconnecting_does_not_refill_a_sign_ins_event_budget() {
    let stub = Stub::dev(&[
        "--sign-in-event-burst",
        "30",
        "--sign-in-event-interval",
        "1h",
    ]);
    let token = stub.mint("pat-n10-again", 3600).await;
    let join = json!({"room_id": "room-none", "user_id": "pat-n10-again", "role": "PATIENT", "token": token});
    let mut first = Sio::connect(&stub.addr, &token)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    for _ in 0..20 {
        first.emit("join_room", join.clone()).await;
    }
    for _ in 0..20 {
        first.expect_event("error", WAIT).await;
    }
    drop(first);
    let mut second = Sio::connect(&stub.addr, &token)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    for _ in 0..15 {
        second.emit("join_room", join.clone()).await;
    }
    let (codes, end) = errors_until_end(&mut second, WAIT).await;
    assert_eq!(
        codes.iter().filter(|c| *c == "session_not_found").count(),
        10,
        "a new socket of the same sign-in got more than the sign-in had left: {codes:?}"
    );
    assert_eq!(codes.last().map(String::as_str), Some("rate_limited"));
    assert_eq!(end, Seen::Disconnect);
}
