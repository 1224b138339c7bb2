//! The connection machine, driven through whole scenarios with injected time.

use super::*;
use alloc::{format, string::String, string::ToString, vec::Vec};
use proptest::prelude::*;

const OPEN: &str =
    r#"0{"sid":"e1","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}"#;

/// `Input::Emit` with the next id of this test thread; the id.
trait EmitForTest {
    fn emit_for_test(&mut self, name: &str, args: &str, ack: Option<u64>, now: i64) -> u64;
}

impl EmitForTest for SocketConnection {
    fn emit_for_test(&mut self, name: &str, args: &str, ack: Option<u64>, now: i64) -> u64 {
        std::thread_local!(static NEXT: std::cell::Cell<u64> = const { std::cell::Cell::new(1) });
        let id = NEXT.with(|next| next.replace(next.get() + 1));
        let emit = Input::Emit {
            id,
            name: name.to_owned(),
            args_json: args.to_owned(),
            ack_timeout_ms: ack,
        };
        self.handle(now, emit);
        id
    }
}

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
    let mut socket = SocketConnection::new(ConnectionConfig::default(), 1);
    socket.handle(now, Input::Start);
    socket.handle(now, Input::TransportOpened);
    socket.handle(now, Input::Frame(OPEN.to_owned()));
    socket
}

fn connected(now: i64) -> SocketConnection {
    let mut socket = handshaken(now);
    socket.handle(
        now,
        Input::Token {
            request: socket.awaited_request.unwrap_or(0),
            result: TokenResult::Token("t1".into()),
        },
    );
    socket.handle(now, Input::Frame(r#"40{"sid":"s1"}"#.into()));
    drain(&mut socket);
    socket
}

#[test]
fn connects_with_a_fresh_token_after_the_handshake() {
    let mut socket = SocketConnection::new(ConnectionConfig::default(), 1);
    socket.handle(0, Input::Start);
    assert_eq!(
        drain(&mut socket),
        [
            Action::Notify(Notice::State(ConnState::Connecting, "start".into())),
            Action::OpenTransport
        ]
    );
    socket.handle(0, Input::TransportOpened);
    socket.handle(10, Input::Frame(OPEN.to_owned()));
    assert_eq!(
        drain(&mut socket),
        [Action::FetchToken {
            request: socket.awaited_request.unwrap_or(0),
            force_refresh: false
        }]
    );
    socket.handle(
        20,
        Input::Token {
            request: socket.awaited_request.unwrap_or(0),
            result: TokenResult::Token("jwt".into()),
        },
    );
    assert_eq!(sends(&drain(&mut socket)), [r#"40{"token":"jwt"}"#]);
    socket.handle(30, Input::Frame(r#"40{"sid":"s1"}"#.into()));
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
    socket.handle(
        0,
        Input::Token {
            request: socket.awaited_request.unwrap_or(0),
            result: TokenResult::Token("t".into()),
        },
    );
    drain(&mut socket);
    socket.handle(5, Input::Frame("2".into()));
    assert_eq!(sends(&drain(&mut socket)), ["3"]);
    socket.handle(6, Input::Frame(r#"40{"sid":"s"}"#.into()));
    assert_eq!(socket.state(), ConnState::Connected);
}

#[test]
fn an_expired_token_gets_one_forced_refresh_then_connects() {
    let mut socket = handshaken(0);
    socket.handle(
        0,
        Input::Token {
            request: socket.awaited_request.unwrap_or(0),
            result: TokenResult::Token("old".into()),
        },
    );
    drain(&mut socket);
    socket.handle(1, Input::Frame(r#"44{"message":"Token expired"}"#.into()));
    let actions = drain(&mut socket);
    assert_eq!(states(&actions), [ConnState::Refreshing]);
    assert!(actions.contains(&Action::FetchToken {
        request: socket.awaited_request.unwrap_or(0),
        force_refresh: true
    }));
    socket.handle(
        2,
        Input::Token {
            request: socket.awaited_request.unwrap_or(0),
            result: TokenResult::Token("new".into()),
        },
    );
    assert_eq!(sends(&drain(&mut socket)), [r#"40{"token":"new"}"#]);
    socket.handle(3, Input::Frame(r#"40{"sid":"s"}"#.into()));
    assert_eq!(socket.state(), ConnState::Connected);
}

#[test]
fn a_second_refusal_in_one_attempt_does_not_refresh_again_but_reconnects() {
    let mut socket = handshaken(0);
    socket.handle(
        0,
        Input::Token {
            request: socket.awaited_request.unwrap_or(0),
            result: TokenResult::Token("a".into()),
        },
    );
    socket.handle(1, Input::Frame(r#"44{"message":"Token expired"}"#.into()));
    socket.handle(
        2,
        Input::Token {
            request: socket.awaited_request.unwrap_or(0),
            result: TokenResult::Token("b".into()),
        },
    );
    drain(&mut socket);
    socket.handle(3, Input::Frame(r#"44{"message":"Token expired"}"#.into()));
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
    socket.handle(
        0,
        Input::Token {
            request: socket.awaited_request.unwrap_or(0),
            result: TokenResult::Token("t".into()),
        },
    );
    drain(&mut socket);
    socket.handle(
        1,
        Input::Frame(r#"44{"message":"Invalid namespace"}"#.into()),
    );
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
    socket.handle(
        0,
        Input::Token {
            request: socket.awaited_request.unwrap_or(0),
            result: TokenResult::Token("t".into()),
        },
    );
    socket.handle(1, Input::Frame(r#"44{"message":"Session revoked"}"#.into()));
    drain(&mut socket);
    socket.handle(
        2,
        Input::Token {
            request: socket.awaited_request.unwrap_or(0),
            result: TokenResult::Rejected,
        },
    );
    let actions = drain(&mut socket);
    assert_eq!(socket.state(), ConnState::Closed);
    assert!(actions.iter().any(|a| matches!(a, Action::Notify(Notice::State(ConnState::Closed, r)) if r == "session expired")));
}

#[test]
fn a_lost_transport_reconnects_with_a_new_token_and_capped_backoff() {
    let mut socket = connected(0);
    socket.handle(1_000, Input::TransportClosed);
    assert_eq!(socket.state(), ConnState::Reconnecting);
    let at = socket.poll_timeout().unwrap_or(i64::MAX);
    assert!(
        (1_500..=2_500).contains(&at),
        "first delay 1 s ± 50 %: {at}"
    );
    socket.handle_timeout(at - 1);
    assert!(
        !drain(&mut socket).contains(&Action::OpenTransport),
        "not before"
    );
    socket.handle_timeout(at);
    assert!(drain(&mut socket).contains(&Action::OpenTransport));
    // The new attempt asks for a token again: never the one captured at the first connect.
    socket.handle(2_001, Input::TransportOpened);
    socket.handle(2_002, Input::Frame(OPEN.to_owned()));
    assert!(drain(&mut socket).contains(&Action::FetchToken {
        request: socket.awaited_request.unwrap_or(0),
        force_refresh: false
    }));
}

#[test]
fn backoff_doubles_with_jitter_and_caps_at_the_maximum() {
    let delays = |seed| {
        let mut socket = SocketConnection::new(ConnectionConfig::default(), seed);
        socket.handle(0, Input::Start);
        let mut delays = Vec::new();
        let mut now = 0;
        for _ in 0..5 {
            socket.handle(now, Input::TransportClosed);
            let at = socket.poll_timeout().unwrap_or(now);
            delays.push(at - now);
            now = at;
            socket.handle_timeout(now);
            drain(&mut socket);
        }
        delays
    };
    let runs: Vec<Vec<i64>> = (0..200).map(delays).collect();
    for run in &runs {
        // 1 s · 2ⁿ ± 50 %, capped at 5 s.
        assert!((500..=1_500).contains(&run[0]), "{run:?}");
        assert!((1_000..=3_000).contains(&run[1]), "{run:?}");
        assert!((2_000..=5_000).contains(&run[2]), "{run:?}");
        assert!(
            run[3..].iter().all(|d| (4_000..=5_000).contains(d)),
            "{run:?}"
        );
    }
    assert!(runs.iter().any(|run| run[0] < 900) && runs.iter().any(|run| run[0] > 1_100));
    assert_eq!(delays(7), delays(7), "the same seed, the same delays");
}

#[test]
fn attempts_are_limited_and_reset_by_a_successful_connect() {
    let config = ConnectionConfig {
        reconnect_attempts: 2,
        ..ConnectionConfig::default()
    };
    let mut socket = SocketConnection::new(config, 1);
    socket.handle(0, Input::Start);
    let mut now = 0;
    for _ in 0..2 {
        socket.handle(now, Input::TransportClosed);
        now = socket.poll_timeout().unwrap_or(now);
        socket.handle_timeout(now);
    }
    socket.handle(now, Input::TransportClosed);
    assert_eq!(socket.state(), ConnState::Closed);
    let actions = drain(&mut socket);
    assert!(actions.iter().any(|a| matches!(a, Action::Notify(Notice::State(ConnState::Closed, r)) if r == "reconnect attempts exhausted")));
}

#[test]
fn a_server_disconnect_does_not_reconnect() {
    let mut socket = connected(0);
    socket.handle(1, Input::Frame("41".into()));
    assert_eq!(socket.state(), ConnState::Closed);
    assert_eq!(socket.poll_timeout(), None);
    socket.handle(2, Input::TransportClosed);
    assert_eq!(socket.state(), ConnState::Closed);
}

#[test]
fn a_silent_server_is_detected_after_ping_interval_plus_timeout() {
    let mut socket = connected(0);
    assert_eq!(socket.poll_timeout(), Some(45_000));
    socket.handle(20_000, Input::Frame("2".into()));
    assert_eq!(socket.poll_timeout(), Some(65_000));
    socket.handle_timeout(64_999);
    assert_eq!(socket.state(), ConnState::Connected);
    socket.handle_timeout(65_000);
    assert!(drain(&mut socket).contains(&Action::CloseTransport));
    assert_eq!(socket.state(), ConnState::Reconnecting);
}

#[test]
fn absurd_ping_settings_and_times_saturate_instead_of_overflowing() {
    // The longest ping settings a handshake may carry (a day each) at the end of time: every
    // deadline saturates at i64::MAX instead of overflowing into the past.
    let mut socket = SocketConnection::new(ConnectionConfig::default(), 1);
    let late = i64::MAX - 10;
    socket.handle(late, Input::Start);
    socket.handle(late, Input::TransportOpened);
    socket.handle(late, Input::Frame(r#"0{"sid":"e1","upgrades":[],"pingInterval":86400000,"pingTimeout":86400000,"maxPayload":1}"#.into()));
    assert!(drain(&mut socket).contains(&Action::FetchToken {
        request: socket.awaited_request.unwrap_or(0),
        force_refresh: false
    }));
    socket.handle(
        late,
        Input::Token {
            request: socket.awaited_request.unwrap_or(0),
            result: TokenResult::Token("t1".into()),
        },
    );
    socket.handle(late, Input::Frame(r#"40{"sid":"s1"}"#.into()));
    assert_eq!(socket.state(), ConnState::Connected);
    assert_eq!(socket.poll_timeout(), Some(i64::MAX));
    socket.handle(late, Input::Frame("2".into()));
    socket.handle_timeout(late);
    assert_eq!(socket.state(), ConnState::Connected);
    socket.handle(late, Input::TransportClosed);
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
    let mut socket = SocketConnection::new(config, 1);
    socket.handle(now, Input::Start);
    socket.handle(now, Input::TransportOpened);
    socket.handle(now, Input::Frame(OPEN.to_owned()));
    socket.handle(
        now,
        Input::Token {
            request: socket.awaited_request.unwrap_or(0),
            result: TokenResult::Token("t1".into()),
        },
    );
    socket.handle(now, Input::Frame(r#"40{"sid":"s1"}"#.into()));
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

/// Found by the simulator's whole consultation (seed 30): another tab rotated the token between
/// CONNECT and `join_room`; consult-stub answers `error` `token_superseded` and keeps the
/// socket, which stayed out of the room for good. It joins again with a refreshed token (the
/// attempt's one refresh); refused again, it reconnects.
#[test]
fn a_join_refused_for_its_token_is_tried_again_with_a_refreshed_one() {
    let (mut socket, join) = connected_to_room(0);
    let token = |request, t: &str| Input::Token {
        request,
        result: TokenResult::Token(t.into()),
    };
    socket.handle(1, token(join, "stale"));
    drain(&mut socket);
    let refused = r#"42["error",{"code":"token_superseded","message":"Token expired"}]"#;
    socket.handle(2, Input::Frame(refused.into()));
    let actions = drain(&mut socket);
    let again = actions.iter().find_map(|a| match a {
        Action::FetchToken {
            request,
            force_refresh: true,
        } => Some(*request),
        _ => None,
    });
    let again = again.unwrap_or_else(|| panic!("no forced refresh: {actions:?}"));
    socket.handle(3, token(again, "fresh"));
    let actions = drain(&mut socket);
    assert!(
        sends(&actions)
            .iter()
            .any(|f| f.contains("join_room") && f.contains("fresh")),
        "{actions:?}"
    );
    // Refused again with the refreshed token: a failed attempt, reconnect.
    socket.handle(4, Input::Frame(refused.into()));
    let actions = drain(&mut socket);
    assert!(actions.contains(&Action::CloseTransport), "{actions:?}");
    assert_eq!(states(&actions), [ConnState::Reconnecting]);
    // Other errors change nothing.
    let (mut socket, join) = connected_to_room(0);
    socket.handle(1, token(join, "t"));
    drain(&mut socket);
    socket.handle(
        2,
        Input::Frame(r#"42["error",{"code":"rate_limited"}]"#.into()),
    );
    let actions = drain(&mut socket);
    assert!(
        !actions
            .iter()
            .any(|a| matches!(a, Action::FetchToken { .. })),
        "{actions:?}"
    );
}

#[test]
fn joins_the_room_after_every_connect_with_the_token_current_then() {
    let (mut socket, join) = connected_to_room(0);
    // The token for join_room is asked for after CONNECT: a refresh in between is picked up.
    socket.handle(
        1,
        Input::Token {
            request: join,
            result: TokenResult::Token("t2".into()),
        },
    );
    assert_eq!(
        sends(&drain(&mut socket)),
        [
            r#"42["join_room",{"room_id":"r","session_id":"s","user_id":"u","role":"PATIENT","token":"t2"}]"#
        ]
    );
    socket.handle(
        2,
        Input::Frame(r#"42["joined_room",{"room_id":"r"}]"#.into()),
    );
    let actions = drain(&mut socket);
    assert_eq!(states(&actions), [ConnState::Joined]);
    assert!(actions.contains(&Action::Notify(Notice::Event {
        name: "joined_room".into(),
        array: r#"["joined_room",{"room_id":"r"}]"#.into(),
    })));
    // A second joined_room changes nothing; a lost transport leaves the room.
    socket.handle(
        3,
        Input::Frame(r#"42["joined_room",{"room_id":"r"}]"#.into()),
    );
    assert!(states(&drain(&mut socket)).is_empty());
    socket.handle(4, Input::TransportClosed);
    assert_eq!(socket.state(), ConnState::Reconnecting);
    // After the reconnect, a new join with a new token request.
    let at = socket.poll_timeout().unwrap_or(0);
    socket.handle_timeout(at);
    socket.handle(at, Input::TransportOpened);
    socket.handle(at, Input::Frame(OPEN.to_owned()));
    socket.handle(
        at,
        Input::Token {
            request: socket.awaited_request.unwrap_or(0),
            result: TokenResult::Token("t3".into()),
        },
    );
    drain(&mut socket);
    socket.handle(at, Input::Frame(r#"40{"sid":"s2"}"#.into()));
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
    socket.handle(
        at + 1,
        Input::Token {
            request: join,
            result: TokenResult::Token("stale".into()),
        },
    );
    assert!(sends(&drain(&mut socket)).is_empty());
}

#[test]
fn a_refused_join_token_ends_the_session_and_a_missing_one_reconnects() {
    let (mut socket, join) = connected_to_room(0);
    socket.handle(
        1,
        Input::Token {
            request: join,
            result: TokenResult::Rejected,
        },
    );
    let actions = drain(&mut socket);
    assert_eq!(sends(&actions), ["41"]);
    assert!(actions.contains(&Action::CloseTransport));
    assert_eq!(socket.state(), ConnState::Closed);
    assert!(actions.contains(&Action::Notify(Notice::State(
        ConnState::Closed,
        "session expired".into()
    ))));

    let (mut socket, join) = connected_to_room(0);
    socket.handle(
        1,
        Input::Token {
            request: join,
            result: TokenResult::Unavailable,
        },
    );
    assert!(drain(&mut socket).contains(&Action::CloseTransport));
    assert_eq!(socket.state(), ConnState::Reconnecting);
}

#[test]
fn every_emit_has_one_outcome() {
    let mut socket = connected(0);
    // Sent without an acknowledgement wanted: done at once.
    let plain = socket.emit_for_test("ping", "", None, 0);
    // Acknowledged.
    let acked = socket.emit_for_test("echo", r#"{"a":1}"#, Some(1_000), 0);
    let actions = drain(&mut socket);
    assert_eq!(
        sends(&actions),
        [
            "42[\"ping\"]".to_string(),
            format!(r#"42{acked}["echo",{{"a":1}}]"#)
        ]
    );
    assert_eq!(outcomes(&actions), [(plain, Ok(None))]);
    socket.handle(10, Input::Frame(format!(r#"43{acked}[{{"ok":true}}]"#)));
    // The same acknowledgement again, and one for an emit that never was: dropped.
    socket.handle(11, Input::Frame(format!(r#"43{acked}[{{"ok":true}}]"#)));
    socket.handle(12, Input::Frame("43999[]".into()));
    assert_eq!(
        outcomes(&drain(&mut socket)),
        [(acked, Ok(Some(r#"[{"ok":true}]"#.into())))]
    );
    // No acknowledgement in time.
    let late = socket.emit_for_test("echo", "", Some(100), 20);
    drain(&mut socket);
    assert_eq!(socket.poll_timeout(), Some(120));
    socket.handle_timeout(120);
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
    let lost = socket.emit_for_test("echo", "", Some(60_000), 130);
    socket.handle(140, Input::TransportClosed);
    assert_eq!(
        outcomes(&drain(&mut socket)),
        [(lost, Err(ErrorCode::Aborted))]
    );
    // Not connected.
    let offline = socket.emit_for_test("echo", "", Some(1_000), 150);
    let actions = drain(&mut socket);
    assert!(sends(&actions).is_empty());
    assert_eq!(outcomes(&actions), [(offline, Err(ErrorCode::Network))]);
}

#[test]
fn events_reach_the_application_only_when_connected() {
    let mut socket = handshaken(0);
    socket.handle(
        1,
        Input::Frame(r#"42["session_status",{"status":"ended"}]"#.into()),
    );
    assert!(
        drain(&mut socket)
            .iter()
            .all(|a| !matches!(a, Action::Notify(Notice::Event { .. })))
    );
    let mut socket = connected(0);
    socket.handle(
        1,
        Input::Frame(r#"42["session_status",{"status":"ended"}]"#.into()),
    );
    socket.handle(2, Input::Frame(r#"42[7]"#.into()));
    socket.handle(3, Input::Frame("4not a packet".into()));
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
    socket.handle(0, Input::Disconnect);
    assert_eq!(sends(&drain(&mut socket)), ["41"]);
}

proptest! {
    /// Whatever arrives, in whatever order: no panic, and within one connection attempt at most
    /// two token requests (the normal one and one forced refresh) without an answer.
    #[test]
    fn survives_any_sequence_of_events(events in proptest::collection::vec((0u8..12, ".{0,12}"), 0..80)) {
        let config = ConnectionConfig { room: Some(room()), ..ConnectionConfig::default() };
        let mut socket = SocketConnection::new(config, 1);
        let mut emitted = Vec::new();
        let mut outcomes_seen = Vec::new();
        let mut now = 0i64;
        let mut outstanding_token_requests = 0i32;
        for (event, text) in events {
            now += 250;
            match event {
                0 => socket.handle(now, Input::Start),
                1 => socket.handle(now, Input::TransportOpened),
                2 => socket.handle(now, Input::Frame(OPEN.to_owned())),
                3 => socket.handle(now, Input::Frame(text.clone())),
                4 => { socket.handle(now, Input::Token { request: socket.awaited_request.unwrap_or(0), result: TokenResult::Token(text) }); }
                5 => socket.handle(now, Input::TransportClosed),
                6 => socket.handle_timeout(now + 60_000),
                7 => socket.handle(now, Input::Frame(r#"44{"message":"Token expired"}"#.into())),
                9 => emitted.push(socket.emit_for_test("e", "", Some(1_000), now)),
                10 => socket.handle(now, Input::Frame(format!("43{}[]", text.len() + emitted.len().saturating_sub(1)))),
                _ => socket.handle(now, Input::Frame(r#"40{"sid":"s"}"#.into())),
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
        socket.handle(0, Input::Disconnect);
        outcomes_seen.extend(outcomes(&drain(&mut socket)).into_iter().map(|(id, _)| id));
        outcomes_seen.sort_unstable();
        prop_assert_eq!(outcomes_seen, emitted, "every emit has exactly one outcome");
    }
}

#[test]
fn a_token_answer_from_an_earlier_attempt_is_ignored() {
    let mut socket = SocketConnection::new(ConnectionConfig::default(), 1);
    socket.handle(0, Input::Start);
    socket.handle(1, Input::TransportOpened);
    socket.handle(2, Input::Frame(OPEN.to_owned()));
    let first = socket.awaited_request.unwrap_or(0);
    drain(&mut socket);
    // The transport drops while the token is fetched; the next attempt asks again.
    socket.handle(3, Input::TransportClosed);
    let at = socket.poll_timeout().unwrap_or(0);
    socket.handle_timeout(at);
    socket.handle(at + 1, Input::TransportOpened);
    socket.handle(at + 2, Input::Frame(OPEN.to_owned()));
    drain(&mut socket);
    let second = socket.awaited_request.unwrap_or(0);
    assert_ne!(first, second);
    // The first request's answer arrives late: it is not the one awaited.
    socket.handle(
        at + 3,
        Input::Token {
            request: first,
            result: TokenResult::Token("old".into()),
        },
    );
    assert!(sends(&drain(&mut socket)).is_empty());
    socket.handle(
        at + 4,
        Input::Token {
            request: second,
            result: TokenResult::Token("new".into()),
        },
    );
    assert_eq!(sends(&drain(&mut socket)), [r#"40{"token":"new"}"#]);
}
