//! The connection machine, driven through whole scenarios with injected time.

use super::*;
use alloc::{format, string::String, string::ToString, vec::Vec};
use proptest::prelude::*;

const OPEN: &str =
    r#"0{"sid":"e1","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}"#;

fn drain(socket: &mut SocketConnection) -> Vec<Action> {
    core::iter::from_fn(|| socket.poll_action()).collect()
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
    assert!(
        !actions
            .iter()
            .any(|a| matches!(a, Action::FetchToken { .. })),
        "no room configured: no join_room"
    );
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

fn room() -> RoomJoin {
    RoomJoin {
        room_id: "r".into(),
        session_id: "s".into(),
        user_id: "u".into(),
        role: "PATIENT".into(),
    }
}

/// Connected (CONNECT answered) with a room to join; the join's token request drained.
fn connected_to_room(now: i64) -> (SocketConnection, u64) {
    let config = ConnectionConfig {
        room: Some(room()),
        ..ConnectionConfig::default()
    };
    let mut socket = SocketConnection::new(config);
    socket.start(now);
    socket.on_transport_open(now);
    socket.on_frame(OPEN, now);
    socket.on_token(
        socket.awaited_request.unwrap_or(0),
        TokenResult::Token("t1".into()),
        now,
        0.5,
    );
    socket.on_frame(r#"40{"sid":"s1"}"#, now);
    let actions = drain(&mut socket);
    let join = actions.iter().rev().find_map(|a| match a {
        Action::FetchToken {
            request,
            force_refresh: false,
        } => Some(*request),
        _ => None,
    });
    assert_eq!(
        states(&actions),
        [ConnState::Connecting, ConnState::Connected]
    );
    (
        socket,
        join.unwrap_or_else(|| panic!("no token asked for join_room: {actions:?}")),
    )
}

fn outcomes(actions: &[Action]) -> Vec<(u64, Result<Option<String>, ErrorCode>)> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::Notify(Notice::Emitted { id, result }) => Some((*id, result.clone())),
            _ => None,
        })
        .collect()
}

#[test]
fn joins_the_room_after_every_connect_with_the_token_current_then() {
    let (mut socket, join) = connected_to_room(0);
    // The token for join_room is asked for after CONNECT: a refresh in between is picked up.
    socket.on_token(join, TokenResult::Token("t2".into()), 1, 0.5);
    assert_eq!(
        sends(&drain(&mut socket)),
        [
            r#"42["join_room",{"room_id":"r","session_id":"s","user_id":"u","role":"PATIENT","token":"t2"}]"#
        ]
    );
    socket.on_frame(r#"42["joined_room",{"room_id":"r"}]"#, 2);
    let actions = drain(&mut socket);
    assert_eq!(states(&actions), [ConnState::Joined]);
    assert!(actions.contains(&Action::Notify(Notice::Event {
        name: "joined_room".into(),
        array: r#"["joined_room",{"room_id":"r"}]"#.into(),
    })));
    // A second joined_room changes nothing; a lost transport leaves the room.
    socket.on_frame(r#"42["joined_room",{"room_id":"r"}]"#, 3);
    assert!(states(&drain(&mut socket)).is_empty());
    socket.on_transport_closed(4, 0.5);
    assert_eq!(socket.state(), ConnState::Reconnecting);
    // After the reconnect, a new join with a new token request.
    let at = socket.next_timeout().unwrap_or(0);
    socket.on_timeout(at, 0.5);
    socket.on_transport_open(at);
    socket.on_frame(OPEN, at);
    socket.on_token(
        socket.awaited_request.unwrap_or(0),
        TokenResult::Token("t3".into()),
        at,
        0.5,
    );
    drain(&mut socket);
    socket.on_frame(r#"40{"sid":"s2"}"#, at);
    let asked = drain(&mut socket)
        .iter()
        .filter(|a| {
            matches!(
                a,
                Action::FetchToken {
                    force_refresh: false,
                    ..
                }
            )
        })
        .count();
    assert_eq!(asked, 1, "one token request for the new join_room");
    // The old join's answer, late, is not used.
    socket.on_token(join, TokenResult::Token("stale".into()), at + 1, 0.5);
    assert!(sends(&drain(&mut socket)).is_empty());
}

#[test]
fn a_refused_join_token_ends_the_session_and_a_missing_one_reconnects() {
    let (mut socket, join) = connected_to_room(0);
    socket.on_token(join, TokenResult::Rejected, 1, 0.5);
    let actions = drain(&mut socket);
    assert_eq!(sends(&actions), ["41"]);
    assert!(actions.contains(&Action::CloseTransport));
    assert_eq!(socket.state(), ConnState::Closed);
    assert!(actions.contains(&Action::Notify(Notice::State(
        ConnState::Closed,
        "session expired".into()
    ))));

    let (mut socket, join) = connected_to_room(0);
    socket.on_token(join, TokenResult::Unavailable, 1, 0.5);
    assert!(drain(&mut socket).contains(&Action::CloseTransport));
    assert_eq!(socket.state(), ConnState::Reconnecting);
}

#[test]
fn every_emit_has_one_outcome() {
    let mut socket = connected(0);
    // Sent without an acknowledgement wanted: done at once.
    let plain = socket.emit("ping", "", None, 0);
    // Acknowledged.
    let acked = socket.emit("echo", r#"{"a":1}"#, Some(1_000), 0);
    let actions = drain(&mut socket);
    assert_eq!(
        sends(&actions),
        [
            "42[\"ping\"]".to_string(),
            format!(r#"42{acked}["echo",{{"a":1}}]"#)
        ]
    );
    assert_eq!(outcomes(&actions), [(plain, Ok(None))]);
    socket.on_frame(&format!(r#"43{acked}[{{"ok":true}}]"#), 10);
    // The same acknowledgement again, and one for an emit that never was: dropped.
    socket.on_frame(&format!(r#"43{acked}[{{"ok":true}}]"#), 11);
    socket.on_frame("43999[]", 12);
    assert_eq!(
        outcomes(&drain(&mut socket)),
        [(acked, Ok(Some(r#"[{"ok":true}]"#.into())))]
    );
    // No acknowledgement in time.
    let late = socket.emit("echo", "", Some(100), 20);
    drain(&mut socket);
    assert_eq!(socket.next_timeout(), Some(120));
    socket.on_timeout(120, 0.5);
    assert_eq!(
        outcomes(&drain(&mut socket)),
        [(late, Err(ErrorCode::Timeout))]
    );
    assert_eq!(
        socket.state(),
        ConnState::Connected,
        "a late ack does not drop the connection"
    );
    // The connection lost before the acknowledgement.
    let lost = socket.emit("echo", "", Some(60_000), 130);
    socket.on_transport_closed(140, 0.5);
    assert_eq!(
        outcomes(&drain(&mut socket)),
        [(lost, Err(ErrorCode::Aborted))]
    );
    // Not connected.
    let offline = socket.emit("echo", "", Some(1_000), 150);
    let actions = drain(&mut socket);
    assert!(sends(&actions).is_empty());
    assert_eq!(outcomes(&actions), [(offline, Err(ErrorCode::Network))]);
}

#[test]
fn events_reach_the_application_only_when_connected() {
    let mut socket = handshaken(0);
    socket.on_frame(r#"42["session_status",{"status":"ended"}]"#, 1);
    assert!(
        drain(&mut socket)
            .iter()
            .all(|a| !matches!(a, Action::Notify(Notice::Event { .. })))
    );
    let mut socket = connected(0);
    socket.on_frame(r#"42["session_status",{"status":"ended"}]"#, 1);
    socket.on_frame(r#"42[7]"#, 2);
    socket.on_frame("4not a packet", 3);
    let actions = drain(&mut socket);
    assert!(actions.contains(&Action::Notify(Notice::Event {
        name: "session_status".into(),
        array: r#"["session_status",{"status":"ended"}]"#.into(),
    })));
    let errors = actions
        .iter()
        .filter(|a| matches!(a, Action::Notify(Notice::ProtocolError(_))))
        .count();
    assert_eq!(
        errors, 2,
        "a nameless event and a malformed packet: {actions:?}"
    );
    socket.disconnect();
    assert_eq!(sends(&drain(&mut socket)), ["41"]);
}

proptest! {
    /// Whatever arrives, in whatever order: no panic, and within one connection attempt at most
    /// two token requests (the normal one and one forced refresh) without an answer.
    #[test]
    fn survives_any_sequence_of_events(events in proptest::collection::vec((0u8..12, ".{0,12}"), 0..80)) {
        let config = ConnectionConfig { room: Some(room()), ..ConnectionConfig::default() };
        let mut socket = SocketConnection::new(config);
        let mut emitted = Vec::new();
        let mut outcomes_seen = Vec::new();
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
                9 => emitted.push(socket.emit("e", "", Some(1_000), now)),
                10 => socket.on_frame(&format!("43{}[]", text.len() + emitted.len().saturating_sub(1)), now),
                _ => socket.on_frame(r#"40{"sid":"s"}"#, now),
            }
            if event == 4 { outstanding_token_requests = 0; }
            for action in drain(&mut socket) {
                match action {
                    // A new attempt: earlier requests are stale (the machine ignores their answers).
                    Action::OpenTransport => outstanding_token_requests = 0,
                    Action::FetchToken { .. } => outstanding_token_requests += 1,
                    Action::Notify(Notice::Emitted { id, .. }) => outcomes_seen.push(id),
                    _ => {}
                }
            }
            prop_assert!(outstanding_token_requests <= 2, "token requests pile up");
        }
        socket.disconnect();
        outcomes_seen.extend(outcomes(&drain(&mut socket)).into_iter().map(|(id, _)| id));
        outcomes_seen.sort_unstable();
        prop_assert_eq!(outcomes_seen, emitted, "every emit has exactly one outcome");
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
