//! Issue 4's scenarios: the wasm Socket.IO client against real consult-stub instances
//! (headless Chromium; run by `scripts/test-browser.sh`).

mod support;

use std::cell::RefCell;
use std::rc::Rc;

use consult_client::{
    ClientOptions, ConnectionConfig, ConsultClient, ErrorCode, RoomEvent, RoomState, StorageKeys,
    VideoSession, VideoSessionOptions,
};
use support::*;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

/// Everything a session reported: `name:detail` strings.
type Log = Rc<RefCell<Vec<String>>>;

fn record(session: &VideoSession) -> Log {
    let log: Log = Rc::new(RefCell::new(Vec::new()));
    let entries = log.clone();
    session.on(Rc::new(move |event: &RoomEvent| {
        let entry = match event {
            RoomEvent::State { state, .. } => format!("state:{}", state.as_str()),
            RoomEvent::Error(e) => format!("error:{}", e.code),
            RoomEvent::SessionStatus(s) => format!("session_status:{}", s.status_text),
            RoomEvent::JoinedRoom(j) => format!("joined_room:{}", j.user_id),
            RoomEvent::ParticipantJoined(p) => format!("participant_joined:{}", p.user_id),
            RoomEvent::ParticipantLeft(p) => format!("participant_left:{}", p.user_id),
            RoomEvent::Other { name, .. } => name.clone(),
        };
        entries.borrow_mut().push(entry);
    }));
    log
}

fn seen(log: &Log, entry: &str) -> usize {
    log.borrow().iter().filter(|e| e.as_str() == entry).count()
}

async fn until(log: &Log, entry: &str, count: usize, timeout_ms: u32) {
    for _ in 0..timeout_ms / 50 {
        if seen(log, entry) >= count {
            return;
        }
        sleep(50).await;
    }
    panic!("timed out waiting for {entry} ×{count}: {:?}", log.borrow());
}

fn options(session: &str, user: &str) -> VideoSessionOptions {
    VideoSessionOptions {
        url: None,
        session_id: session.to_owned(),
        room_id: format!("room-{session}"),
        user_id: user.to_owned(),
        role: "PATIENT".to_owned(),
        reconnection: ConnectionConfig::default(),
    }
}

/// A client on `base` whose stored token is `token`, with an optional device-clock offset.
fn client_with_stored(
    base: &str,
    keys: &StorageKeys,
    token: &str,
    expires_at: &str,
    clock_offset_ms: f64,
) -> ConsultClient {
    let storage = local_storage();
    storage.set_item(&keys.token, token).unwrap();
    storage.set_item(&keys.expires_at, expires_at).unwrap();
    let mut options = ClientOptions::new(base);
    options.storage_keys = keys.clone();
    options.auto_refresh = false;
    options.now = Some(Rc::new(move || js_sys::Date::now() + clock_offset_ms));
    ConsultClient::new(options).unwrap()
}

#[wasm_bindgen_test]
async fn joins_with_a_valid_token_and_sees_presence_and_status() {
    let base = stub();
    let session = create_session(base, "{}").await;
    let (token, expires_at) = dev_token(base, "p-join", 3600).await;
    let patient = client_with_stored(base, &unique_keys("join-p"), &token, &expires_at, 0.0);
    let room = patient
        .connect_video_session(options(&session, "p-join"))
        .unwrap();
    assert_eq!(
        room.state(),
        RoomState::Connecting,
        "connecting from the start"
    );
    let log = record(&room);
    until(&log, "state:joined", 1, 5_000).await;
    assert_eq!(room.state(), RoomState::Joined);

    let (doctor_token, doctor_expiry) = dev_token(base, "d-join", 3600).await;
    let doctor = client_with_stored(
        base,
        &unique_keys("join-d"),
        &doctor_token,
        &doctor_expiry,
        0.0,
    );
    let doctor_room = doctor
        .connect_video_session(VideoSessionOptions {
            role: "DOCTOR".into(),
            ..options(&session, "d-join")
        })
        .unwrap();
    until(&log, "participant_joined:d-join", 1, 5_000).await;

    patch_session(base, &session, "active").await;
    until(&log, "session_status:active", 1, 5_000).await;

    let doctor_log = record(&doctor_room);
    drop(doctor_room); // the last handle: DISCONNECT and a `closed` state
    assert_eq!(
        seen(&doctor_log, "state:closed"),
        1,
        "{:?}",
        doctor_log.borrow()
    );
    until(&log, "participant_left:d-join", 1, 5_000).await;

    // The stub acknowledges nothing it does not know: the machine's deadline fails the emit.
    let unanswered = room
        .emit("echo", &serde_json::json!({"n": 1}), Some(200))
        .await;
    assert_eq!(unanswered.map_err(|e| e.code), Err(ErrorCode::Timeout));
    assert_eq!(room.emit("note", &"sent", None).await.ok(), Some(None));
    room.disconnect();
    assert_eq!(room.state(), RoomState::Closed);
    let closed = room.emit("note", &"late", None).await;
    assert_eq!(closed.map_err(|e| e.code), Err(ErrorCode::Network));
}

#[wasm_bindgen_test]
async fn an_expired_token_refused_by_the_server_is_refreshed_once_then_joins() {
    let base = stub();
    let session = create_session(base, "{}").await;
    // Expired 30 s ago, but the device clock is 10 min slow: the client sends it, the server
    // answers "Token expired".
    let (expired, expires_at) = dev_token(base, "p-expired", -30).await;
    let client = client_with_stored(
        base,
        &unique_keys("sock-exp"),
        &expired,
        &expires_at,
        -600_000.0,
    );
    let (ok, rejected_sockets) = (
        stat(base, "refresh_ok").await,
        stat(base, "socket_reject").await,
    );

    let room = client
        .connect_video_session(options(&session, "p-expired"))
        .unwrap();
    let log = record(&room);
    until(&log, "state:joined", 1, 8_000).await;

    assert_eq!(seen(&log, "state:refreshing"), 1, "{:?}", log.borrow());
    assert_eq!(stat(base, "refresh_ok").await - ok, 1.0);
    assert_eq!(stat(base, "socket_reject").await - rejected_sockets, 1.0);
    let (_, joins) = get_with_token(base, "/api/dev/joins", "unused").await;
    let joins = js_sys::Array::from(&joins);
    let last = joins.get(joins.length().saturating_sub(1));
    let current = client.token_info().expect("token").token;
    assert_eq!(
        string(&last, "jti"),
        jti(&current),
        "joined with the refreshed token"
    );
    room.disconnect();
}

#[wasm_bindgen_test]
async fn a_refused_refresh_closes_the_session_after_exactly_one_attempt() {
    let base = stub();
    let session = create_session(base, "{}").await;
    let (expired, expires_at) = dev_token(base, "p-revoked", -30).await;
    let (status, _) = post_bearer(base, "/api/video/auth/logout", &expired).await;
    assert_eq!(status, 204);
    let client = client_with_stored(
        base,
        &unique_keys("sock-rev"),
        &expired,
        &expires_at,
        -600_000.0,
    );
    let events = record_events(&client);
    let rejected = stat(base, "refresh_rejected").await;

    let room = client
        .connect_video_session(options(&session, "p-revoked"))
        .unwrap();
    let log = record(&room);
    until(&log, "state:closed", 1, 8_000).await;
    sleep(1_500).await; // a loop would show up here

    assert_eq!(
        stat(base, "refresh_rejected").await - rejected,
        1.0,
        "one refresh, no loop"
    );
    assert_eq!(count(&events, "sessionExpired"), 1);
    assert_eq!(seen(&log, "state:closed"), 1);
    assert_eq!(room.state(), RoomState::Closed);
}

#[wasm_bindgen_test]
async fn an_unknown_namespace_never_triggers_a_refresh() {
    let base = stub();
    let session = create_session(base, "{}").await;
    let (token, expires_at) = dev_token(base, "p-nsp", 3600).await;
    let client = client_with_stored(base, &unique_keys("sock-nsp"), &token, &expires_at, 0.0);
    let refreshes = stat(base, "refresh_ok").await + stat(base, "refresh_rejected").await;

    let mut opts = options(&session, "p-nsp");
    opts.reconnection.namespace = "/nope".into();
    let room = client.connect_video_session(opts).unwrap();
    let log = record(&room);
    until(&log, "state:closed", 1, 5_000).await;
    sleep(500).await;

    assert_eq!(
        stat(base, "refresh_ok").await + stat(base, "refresh_rejected").await,
        refreshes
    );
    assert_eq!(seen(&log, "state:refreshing"), 0);
}

#[wasm_bindgen_test]
async fn a_server_restart_with_the_token_expired_meanwhile_rejoins_with_a_new_token() {
    let base = url(STUB_RESTARTABLE);
    // A 3 s token: it will have expired by the time the server is back.
    let (token, expires_at) = dev_token(base, "p-restart", 3).await;
    let mut client_options = ClientOptions::new(base);
    client_options.storage_keys = unique_keys("sock-restart");
    client_options.auto_refresh = false;
    let client = ConsultClient::new(client_options).unwrap();
    client
        .set_session(&consult_client::SessionGrant {
            access_token: token.clone(),
            expires_at: Some(expires_at),
            expires_in: Some(3.0),
        })
        .await
        .expect("set session");
    let room = client
        .connect_video_session(options("restart-room", "p-restart"))
        .unwrap();
    let log = record(&room);
    until(&log, "state:joined", 1, 5_000).await;

    supervisor("stop").await;
    until(&log, "state:reconnecting", 1, 5_000).await;
    sleep(3_200).await;
    supervisor("start").await;
    let back = js_sys::Date::now();
    until(&log, "state:joined", 2, 10_000).await;
    assert!(js_sys::Date::now() - back < 10_000.0);

    let current = client.token_info().expect("token").token;
    assert_ne!(jti(&current), jti(&token), "the token was refreshed");
    let (_, joins) = get_with_token(base, "/api/dev/joins", "unused").await;
    let joins = js_sys::Array::from(&joins);
    assert_eq!(joins.length(), 1, "one join since the restart");
    assert_eq!(
        string(&joins.get(0), "jti"),
        jti(&current),
        "re-joined with the new token"
    );
    room.disconnect();
}

#[wasm_bindgen_test]
async fn a_server_that_stops_answering_pings_is_detected_and_left_for_a_new_connection() {
    let base = url(STUB_RESTARTABLE);
    let (token, expires_at) = dev_token(base, "p-ping", 3600).await;
    let client = client_with_stored(base, &unique_keys("sock-ping"), &token, &expires_at, 0.0);
    let room = client
        .connect_video_session(options("restart-room", "p-ping"))
        .unwrap();
    let log = record(&room);
    until(&log, "state:joined", 1, 5_000).await;

    supervisor("pause").await;
    let paused = js_sys::Date::now();
    until(&log, "state:reconnecting", 1, 6_000).await;
    let detected = js_sys::Date::now() - paused;
    supervisor("resume").await;
    until(&log, "state:joined", 2, 15_000).await;

    // pingInterval 1 s + pingTimeout 1 s on this stub (plus timer slack).
    assert!(
        detected <= 3_500.0,
        "ping timeout detected after {detected} ms"
    );
    room.disconnect();
}
