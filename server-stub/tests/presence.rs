//! Presence: the others in a room hear who leaves it, however the socket goes. The application
//! in process, on this test's runtime (four worker threads, so that socketioxide's tasks race as
//! on a busy server); a raw Socket.IO client.

mod common;
#[path = "hostile/support.rs"]
mod support;

use std::time::Duration;

use common::TestServer;
use serde_json::json;
use support::Sio;

const WAIT: Duration = Duration::from_secs(5);

/// A socket of `user` (signed in on `server`) joined to `room`.
async fn joined(server: &TestServer, user: &str, room: &str) -> Sio {
    let token = server.mint(user, 3600).await.access_token;
    Sio::joined(
        server.base.trim_start_matches("http://"),
        user,
        &token,
        room,
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_socket_that_says_disconnect_and_closes_at_once_is_heard_leaving() {
    // Two regressions, each seen failing here without its fix:
    // - the React web test's `participant_left after unmount` (flaky in CI): the disconnect
    //   handler read the socket's rooms in a task of its own, and the transport's close right
    //   behind the `41` took the socket out of its rooms first: nobody heard the patient leave
    //   (each of 5 runs lost a departure within its 1,000);
    // - this test's first CI run: a join sent as soon as the CONNECT answer arrived was handled
    //   before socketioxide marked the socket connected, and its `joined_room` was dropped as
    //   if the socket were closed (4 runs of 6 lost one).
    let server = TestServer::start().await;
    server
        .create_session_ok(json!({"session_id": "s-left", "room_id": "room-s-left"}))
        .await;
    let mut doctor = joined(&server, "doc-left", "room-s-left").await;
    for i in 0..1000 {
        let user = format!("pat-left-{i}");
        let patient = joined(&server, &user, "room-s-left").await;
        let arrived = doctor.expect_event("participant_joined", WAIT).await;
        assert_eq!(arrived["user_id"], user.as_str());
        patient.disconnect_and_close().await;
        let left = doctor.expect_event("participant_left", WAIT).await;
        assert_eq!(left["user_id"], user.as_str(), "departure {i}");
    }
}
