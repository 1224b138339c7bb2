//! The connection machine, driven through whole scenarios with injected time.

use super::*;
use proptest::prelude::*;

const OPEN: &str =
    r#"0{"sid":"e1","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}"#;

fn drain(socket: &mut SocketConnection) -> Vec<Action> {
    std::iter::from_fn(|| socket.poll_action()).collect()
}

fn sends(actions: &[Action]) -> Vec<String> {
    actions
        .iter()
        .filter_map(|a| {
            if let Action::Send(f) = a {
                Some(f.clone())
            } else {
                None
            }
        })
        .collect()
}

fn states(actions: &[Action]) -> Vec<ConnState> {
    actions
        .iter()
        .filter_map(|a| {
            if let Action::Notify(Notice::State(s, _)) = a {
                Some(*s)
            } else {
                None
            }
        })
        .collect()
}

/// Starts and walks through the handshake up to the token request.
fn handshaken(now: i64) -> SocketConnection {
    let mut socket = SocketConnection::new(ConnectionConfig::default());
    socket.start(now);
    socket.on_transport_open(now);
    socket.on_frame(OPEN, now);
    socket
}

fn connected(now: i64) -> SocketConnection {
    let mut socket = handshaken(now);
    socket.on_token(
        socket.awaited_request.unwrap_or(0),
        TokenResult::Token("t1".into()),
        now,
        0.5,
    );
    socket.on_frame(r#"40{"sid":"s1"}"#, now);
    drain(&mut socket);
    socket
}

#[test]
fn connects_with_a_fresh_token_after_the_handshake() {
    let mut socket = SocketConnection::new(ConnectionConfig::default());
    socket.start(0);
    assert_eq!(
        drain(&mut socket),
        [
            Action::Notify(Notice::State(ConnState::Connecting, "start".into())),
            Action::OpenTransport
        ]
    );
    socket.on_transport_open(0);
    socket.on_frame(OPEN, 10);
    assert_eq!(
        drain(&mut socket),
        [Action::FetchToken {
            request: socket.awaited_request.unwrap_or(0),
            force_refresh: false
        }]
    );
    socket.on_token(
        socket.awaited_request.unwrap_or(0),
        TokenResult::Token("jwt".into()),
        20,
        0.5,
    );
    assert_eq!(sends(&drain(&mut socket)), [r#"40{"token":"jwt"}"#]);
    socket.on_frame(r#"40{"sid":"s1"}"#, 30);
    let actions = drain(&mut socket);
    assert_eq!(states(&actions), [ConnState::Connected]);
    assert!(actions.contains(&Action::Notify(Notice::Connected)));
}

#[test]
fn answers_pings_and_a_ping_may_come_before_the_connect_answer() {
    let mut socket = handshaken(0);
    socket.on_token(
        socket.awaited_request.unwrap_or(0),
        TokenResult::Token("t".into()),
        0,
        0.5,
    );
    drain(&mut socket);
    socket.on_frame("2", 5);
    assert_eq!(sends(&drain(&mut socket)), ["3"]);
    socket.on_frame(r#"40{"sid":"s"}"#, 6);
    assert_eq!(socket.state(), ConnState::Connected);
}

#[test]
fn an_expired_token_gets_one_forced_refresh_then_connects() {
    let mut socket = handshaken(0);
    socket.on_token(
        socket.awaited_request.unwrap_or(0),
        TokenResult::Token("old".into()),
        0,
        0.5,
    );
    drain(&mut socket);
    socket.on_frame(r#"44{"message":"Token expired"}"#, 1);
    let actions = drain(&mut socket);
    assert_eq!(states(&actions), [ConnState::Refreshing]);
    assert!(actions.contains(&Action::FetchToken {
        request: socket.awaited_request.unwrap_or(0),
        force_refresh: true
    }));
    socket.on_token(
        socket.awaited_request.unwrap_or(0),
        TokenResult::Token("new".into()),
        2,
        0.5,
    );
    assert_eq!(sends(&drain(&mut socket)), [r#"40{"token":"new"}"#]);
    socket.on_frame(r#"40{"sid":"s"}"#, 3);
    assert_eq!(socket.state(), ConnState::Connected);
}

#[test]
fn a_second_refusal_in_one_attempt_does_not_refresh_again_but_reconnects() {
    let mut socket = handshaken(0);
    socket.on_token(
        socket.awaited_request.unwrap_or(0),
        TokenResult::Token("a".into()),
        0,
        0.5,
    );
    socket.on_frame(r#"44{"message":"Token expired"}"#, 1);
    socket.on_token(
        socket.awaited_request.unwrap_or(0),
        TokenResult::Token("b".into()),
        2,
        0.5,
    );
    drain(&mut socket);
    socket.on_frame(r#"44{"message":"Token expired"}"#, 3);
    let actions = drain(&mut socket);
    assert!(
        !actions
            .iter()
            .any(|a| matches!(a, Action::FetchToken { .. })),
        "no loop: {actions:?}"
    );
    assert!(actions.contains(&Action::CloseTransport));
    assert_eq!(socket.state(), ConnState::Reconnecting);
}

#[test]
fn a_non_auth_connect_error_never_refreshes() {
    let mut socket = handshaken(0);
    socket.on_token(
        socket.awaited_request.unwrap_or(0),
        TokenResult::Token("t".into()),
        0,
        0.5,
    );
    drain(&mut socket);
    socket.on_frame(r#"44{"message":"Invalid namespace"}"#, 1);
    let actions = drain(&mut socket);
    assert!(
        !actions
            .iter()
            .any(|a| matches!(a, Action::FetchToken { .. }))
    );
    assert_eq!(socket.state(), ConnState::Closed);
    assert!(actions.iter().any(|a| matches!(a, Action::Notify(Notice::State(ConnState::Closed, r)) if r == "Invalid namespace")));
}

#[test]
fn a_refused_refresh_closes_with_session_expired() {
    let mut socket = handshaken(0);
    socket.on_token(
        socket.awaited_request.unwrap_or(0),
        TokenResult::Token("t".into()),
        0,
        0.5,
    );
    socket.on_frame(r#"44{"message":"Session revoked"}"#, 1);
    drain(&mut socket);
    socket.on_token(
        socket.awaited_request.unwrap_or(0),
        TokenResult::Rejected,
        2,
        0.5,
    );
    let actions = drain(&mut socket);
    assert_eq!(socket.state(), ConnState::Closed);
    assert!(actions.iter().any(|a| matches!(a, Action::Notify(Notice::State(ConnState::Closed, r)) if r == "session expired")));
}

#[test]
fn a_lost_transport_reconnects_with_a_new_token_and_capped_backoff() {
    let mut socket = connected(0);
    socket.on_transport_closed(1_000, 0.5);
    assert_eq!(socket.state(), ConnState::Reconnecting);
    assert_eq!(
        socket.next_timeout(),
        Some(2_000),
        "first delay 1 s (random 0.5: no jitter)"
    );
    socket.on_timeout(2_000, 0.5);
    assert!(drain(&mut socket).contains(&Action::OpenTransport));
    // The new attempt asks for a token again: never the one captured at the first connect.
    socket.on_transport_open(2_001);
    socket.on_frame(OPEN, 2_002);
    assert!(drain(&mut socket).contains(&Action::FetchToken {
        request: socket.awaited_request.unwrap_or(0),
        force_refresh: false
    }));
}

#[test]
fn backoff_doubles_with_jitter_and_caps_at_the_maximum() {
    let mut socket = connected(0);
    let mut delays = Vec::new();
    let mut now = 0;
    for _ in 0..4 {
        socket.on_transport_closed(now, 1.0);
        let at = socket.next_timeout().unwrap_or(now);
        delays.push(at - now);
        now = at;
        socket.on_timeout(now, 1.0);
        drain(&mut socket);
    }
    assert_eq!(
        delays,
        [1_500, 3_000, 5_000, 5_000],
        "+50 % jitter, capped at 5 s"
    );
}

#[test]
fn attempts_are_limited_and_reset_by_a_successful_connect() {
    let config = ConnectionConfig {
        reconnect_attempts: 2,
        ..ConnectionConfig::default()
    };
    let mut socket = SocketConnection::new(config);
    socket.start(0);
    let mut now = 0;
    for _ in 0..2 {
        socket.on_transport_closed(now, 0.5);
        now = socket.next_timeout().unwrap_or(now);
        socket.on_timeout(now, 0.5);
    }
    socket.on_transport_closed(now, 0.5);
    assert_eq!(socket.state(), ConnState::Closed);
    let actions = drain(&mut socket);
    assert!(actions.iter().any(|a| matches!(a, Action::Notify(Notice::State(ConnState::Closed, r)) if r == "reconnect attempts exhausted")));
}

#[test]
fn a_server_disconnect_does_not_reconnect() {
    let mut socket = connected(0);
    socket.on_frame("41", 1);
    assert_eq!(socket.state(), ConnState::Closed);
    assert_eq!(socket.next_timeout(), None);
    socket.on_transport_closed(2, 0.5);
    assert_eq!(socket.state(), ConnState::Closed);
}

#[test]
fn a_silent_server_is_detected_after_ping_interval_plus_timeout() {
    let mut socket = connected(0);
    assert_eq!(socket.next_timeout(), Some(45_000));
    socket.on_frame("2", 20_000);
    assert_eq!(socket.next_timeout(), Some(65_000));
    socket.on_timeout(64_999, 0.5);
    assert_eq!(socket.state(), ConnState::Connected);
    socket.on_timeout(65_000, 0.5);
    assert!(drain(&mut socket).contains(&Action::CloseTransport));
    assert_eq!(socket.state(), ConnState::Reconnecting);
}

#[test]
fn absurd_ping_settings_and_times_saturate_instead_of_overflowing() {
    // The longest ping settings a handshake may carry (a day each) at the end of time: every
    // deadline saturates at i64::MAX instead of overflowing into the past.
    let mut socket = SocketConnection::new(ConnectionConfig::default());
    let late = i64::MAX - 10;
    socket.start(late);
    socket.on_transport_open(late);
    socket.on_frame(
        r#"0{"sid":"e1","upgrades":[],"pingInterval":86400000,"pingTimeout":86400000,"maxPayload":1}"#,
        late,
    );
    assert!(drain(&mut socket).contains(&Action::FetchToken {
        request: socket.awaited_request.unwrap_or(0),
        force_refresh: false
    }));
    socket.on_token(
        socket.awaited_request.unwrap_or(0),
        TokenResult::Token("t1".into()),
        late,
        0.5,
    );
    socket.on_frame(r#"40{"sid":"s1"}"#, late);
    assert_eq!(socket.state(), ConnState::Connected);
    assert_eq!(socket.next_timeout(), Some(i64::MAX));
    socket.on_frame("2", late);
    socket.on_timeout(late, 0.5);
    assert_eq!(socket.state(), ConnState::Connected);
    socket.on_transport_closed(late, 0.5);
    assert_eq!(socket.state(), ConnState::Reconnecting);
}

#[test]
fn events_and_acks_reach_the_application_only_when_connected() {
    let mut socket = connected(0);
    socket.on_frame(r#"42["joined_room",{"room_id":"r"}]"#, 1);
    socket.on_frame(r#"431[{"ok":true}]"#, 2);
    socket.on_frame("4not a packet", 3);
    let actions = drain(&mut socket);
    assert!(actions.contains(&Action::Notify(Notice::Event(
        r#"["joined_room",{"room_id":"r"}]"#.into()
    ))));
    assert!(actions.contains(&Action::Notify(Notice::Ack(
        1,
        Some(r#"[{"ok":true}]"#.into())
    ))));
    assert!(
        actions
            .iter()
            .any(|a| matches!(a, Action::Notify(Notice::ProtocolError(_))))
    );
    assert_eq!(
        socket.emit("join_room", r#"{"room_id":"r"}"#, Some(2)),
        Some(())
    );
    assert_eq!(
        sends(&drain(&mut socket)),
        [r#"422["join_room",{"room_id":"r"}]"#]
    );
    socket.disconnect();
    assert_eq!(sends(&drain(&mut socket)), ["41"]);
    assert_eq!(socket.emit("x", "", None), None);
}

proptest! {
    /// Whatever arrives, in whatever order: no panic, and within one connection attempt at most
    /// two token requests (the normal one and one forced refresh) without an answer.
    #[test]
    fn survives_any_sequence_of_events(events in proptest::collection::vec((0u8..9, ".{0,12}"), 0..80)) {
        let mut socket = SocketConnection::new(ConnectionConfig::default());
        let mut now = 0i64;
        let mut outstanding_token_requests = 0i32;
        for (event, text) in events {
            now += 250;
            match event {
                0 => socket.start(now),
                1 => socket.on_transport_open(now),
                2 => socket.on_frame(OPEN, now),
                3 => socket.on_frame(&text, now),
                4 => { socket.on_token(socket.awaited_request.unwrap_or(0), TokenResult::Token(text), now, 0.3); }
                5 => socket.on_transport_closed(now, 0.7),
                6 => socket.on_timeout(now + 60_000, 0.1),
                7 => socket.on_frame(r#"44{"message":"Token expired"}"#, now),
                _ => socket.on_frame(r#"40{"sid":"s"}"#, now),
            }
            if event == 4 { outstanding_token_requests = 0; }
            for action in drain(&mut socket) {
                match action {
                    // A new attempt: earlier requests are stale (the machine ignores their answers).
                    Action::OpenTransport => outstanding_token_requests = 0,
                    Action::FetchToken { .. } => outstanding_token_requests += 1,
                    _ => {}
                }
            }
            prop_assert!(outstanding_token_requests <= 2, "token requests pile up");
        }
    }
}

#[test]
fn a_token_answer_from_an_earlier_attempt_is_ignored() {
    let mut socket = SocketConnection::new(ConnectionConfig::default());
    socket.start(0);
    socket.on_transport_open(1);
    socket.on_frame(OPEN, 2);
    let first = socket.awaited_request.unwrap_or(0);
    drain(&mut socket);
    // The transport drops while the token is fetched; the next attempt asks again.
    socket.on_transport_closed(3, 0.5);
    let at = socket.next_timeout().unwrap_or(0);
    socket.on_timeout(at, 0.5);
    socket.on_transport_open(at + 1);
    socket.on_frame(OPEN, at + 2);
    drain(&mut socket);
    let second = socket.awaited_request.unwrap_or(0);
    assert_ne!(first, second);
    // The first request's answer arrives late: it is not the one awaited.
    socket.on_token(first, TokenResult::Token("old".into()), at + 3, 0.5);
    assert!(sends(&drain(&mut socket)).is_empty());
    socket.on_token(second, TokenResult::Token("new".into()), at + 4, 0.5);
    assert_eq!(sends(&drain(&mut socket)), [r#"40{"token":"new"}"#]);
}
