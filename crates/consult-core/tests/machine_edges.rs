//! Edges of the socket and poll machines that the mutation run (`scripts/mutants.sh`) found no
//! test held: the names the JavaScript API and the server use, packets out of sequence, the
//! reconnect deadline, and what leaving closes; the token session's in `session`. Each test
//! names the mutant it catches.

#[path = "machine_edges/session.rs"]
mod session;

use consult_core::connection::{
    Action, ConnState, ConnectionConfig, Input, Notice, SocketConnection, TokenResult,
};
use consult_core::poll::{PollAction, PollResult, PollSchedule};
use consult_core::{ErrorCode, SessionStatus};

const OPEN: &str =
    r#"0{"sid":"e1","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}"#;

fn drain(socket: &mut SocketConnection) -> Vec<Action> {
    core::iter::from_fn(|| socket.poll_action()).collect()
}

fn protocol_errors(actions: &[Action]) -> Vec<&str> {
    actions
        .iter()
        .filter_map(|action| match action {
            Action::Notify(Notice::ProtocolError(what)) => Some(what.as_str()),
            _ => None,
        })
        .collect()
}

fn states(actions: &[Action]) -> Vec<ConnState> {
    actions
        .iter()
        .filter_map(|action| match action {
            Action::Notify(Notice::State(state, _)) => Some(*state),
            _ => None,
        })
        .collect()
}

/// Started, transport open, handshake read, token handed over: waiting for CONNECT's answer.
fn awaiting_connect(now: i64) -> SocketConnection {
    let mut socket = SocketConnection::new(ConnectionConfig::default(), 1);
    socket.handle(now, Input::Start);
    socket.handle(now, Input::TransportOpened);
    socket.handle(now, Input::Frame(OPEN.to_owned()));
    let request = drain(&mut socket)
        .into_iter()
        .find_map(|action| match action {
            Action::FetchToken { request, .. } => Some(request),
            _ => None,
        })
        .unwrap_or_default();
    socket.handle(
        now,
        Input::Token {
            request,
            result: TokenResult::Token("t1".into()),
        },
    );
    drain(&mut socket);
    socket
}

fn connected(now: i64) -> SocketConnection {
    let mut socket = awaiting_connect(now);
    socket.handle(now, Input::Frame(r#"40{"sid":"s1"}"#.into()));
    drain(&mut socket);
    assert_eq!(socket.state(), ConnState::Connected);
    socket
}

/// Connected, then the transport lost: waiting to reconnect; the reconnect deadline.
fn waiting_to_reconnect(now: i64) -> (SocketConnection, i64) {
    let mut socket = connected(now);
    socket.handle(now, Input::TransportClosed);
    drain(&mut socket);
    assert_eq!(socket.state(), ConnState::Reconnecting);
    let at = socket.poll_timeout().unwrap_or(i64::MAX);
    (socket, at)
}

/// Catches `ConnState::as_str` returning "" or "xyzzy": these names are the JavaScript API's.
#[test]
fn connection_states_have_the_names_the_api_documents() {
    let names = [
        (ConnState::Connecting, "connecting"),
        (ConnState::Connected, "connected"),
        (ConnState::Joined, "joined"),
        (ConnState::Reconnecting, "reconnecting"),
        (ConnState::Refreshing, "refreshing"),
        (ConnState::Closed, "closed"),
    ];
    for (state, name) in names {
        assert_eq!(state.as_str(), name);
    }
}

/// Catches deleting the "scheduled" or "waiting" arm of `SessionStatus::parse`: every status
/// the server sends is read as itself, not as "other".
#[test]
fn every_session_status_the_server_sends_is_read_as_itself() {
    let statuses = [
        ("scheduled", SessionStatus::Scheduled),
        ("waiting", SessionStatus::Waiting),
        ("active", SessionStatus::Active),
        ("ended", SessionStatus::Ended),
        ("cancelled", SessionStatus::Cancelled),
        ("canceled", SessionStatus::Cancelled),
        ("archived", SessionStatus::Other),
    ];
    for (text, status) in statuses {
        assert_eq!(SessionStatus::parse(text), status, "{text}");
    }
}

/// Catches deleting the `RefreshRejected | NoToken` arm of `TokenResult::for_error`: a sign-in
/// that ended stops the socket; anything else is "no token for now".
#[test]
fn only_an_ended_sign_in_rejects_the_socket_token() {
    assert_eq!(
        TokenResult::for_error(ErrorCode::RefreshRejected),
        TokenResult::Rejected
    );
    assert_eq!(
        TokenResult::for_error(ErrorCode::NoToken),
        TokenResult::Rejected
    );
    for code in [ErrorCode::Network, ErrorCode::Timeout, ErrorCode::Http] {
        assert_eq!(TokenResult::for_error(code), TokenResult::Unavailable);
    }
}

/// Catches the CONNECT guard replaced by `true`: a second CONNECT on a connected socket is out
/// of sequence, not a new connection.
#[test]
fn a_second_connect_is_out_of_sequence() {
    let mut socket = connected(0);
    socket.handle(1, Input::Frame(r#"40{"sid":"s2"}"#.into()));
    let actions = drain(&mut socket);
    assert_eq!(protocol_errors(&actions), ["packet out of sequence"]);
    assert_eq!(socket.state(), ConnState::Connected);
}

/// Catches the EVENT guard replaced by `true`: an event before CONNECT's answer is not handed to
/// the application.
#[test]
fn an_event_before_connect_is_out_of_sequence() {
    let mut socket = awaiting_connect(0);
    socket.handle(1, Input::Frame(r#"42["joined_room",{}]"#.into()));
    let actions = drain(&mut socket);
    assert_eq!(protocol_errors(&actions), ["packet out of sequence"]);
    assert!(
        !actions
            .iter()
            .any(|a| matches!(a, Action::Notify(Notice::Event { .. })))
    );
    assert_eq!(socket.state(), ConnState::Connecting);
}

/// Catches `name == "joined_room" && state == Connected` turned into `||`: only `joined_room`
/// means the room is joined.
#[test]
fn only_joined_room_joins() {
    let mut socket = connected(0);
    socket.handle(1, Input::Frame(r#"42["status",{"s":1}]"#.into()));
    let actions = drain(&mut socket);
    assert!(states(&actions).is_empty(), "{actions:?}");
    assert_eq!(socket.state(), ConnState::Connected);
    socket.handle(2, Input::Frame(r#"42["joined_room",{}]"#.into()));
    assert_eq!(states(&drain(&mut socket)), [ConnState::Joined]);
}

/// Catches `now >= at` turned into `now < at` for the reconnect deadline: an early wake-up
/// changes nothing, the deadline itself opens a new transport.
#[test]
fn the_reconnect_waits_for_its_deadline_and_happens_at_it() {
    let (mut socket, at) = waiting_to_reconnect(0);
    assert!(at > 0 && at < i64::MAX);
    socket.handle_timeout(at - 1);
    assert!(drain(&mut socket).is_empty());
    assert_eq!(socket.state(), ConnState::Reconnecting);
    socket.handle_timeout(at);
    let actions = drain(&mut socket);
    assert!(actions.contains(&Action::OpenTransport), "{actions:?}");
    assert_eq!(socket.state(), ConnState::Connecting);
}

/// Catches the mutants of `disconnect`'s "is a transport open" test: leaving while connected
/// sends DISCONNECT and closes the transport; leaving while waiting to reconnect (no transport)
/// or before starting closes nothing, and both end closed.
#[test]
fn leaving_closes_the_transport_only_when_one_is_open() {
    let mut socket = connected(0);
    socket.handle(1, Input::Disconnect);
    let actions = drain(&mut socket);
    assert_eq!(actions.first(), Some(&Action::Send("41".into())));
    assert!(actions.contains(&Action::CloseTransport), "{actions:?}");
    assert_eq!(socket.state(), ConnState::Closed);

    let (mut socket, _) = waiting_to_reconnect(0);
    socket.handle(1, Input::Disconnect);
    let actions = drain(&mut socket);
    assert!(!actions.contains(&Action::CloseTransport), "{actions:?}");
    assert_eq!(socket.state(), ConnState::Closed);

    let mut socket = SocketConnection::new(ConnectionConfig::default(), 1);
    socket.handle(0, Input::Disconnect);
    let actions = drain(&mut socket);
    assert!(!actions.contains(&Action::CloseTransport), "{actions:?}");
    assert_eq!(socket.state(), ConnState::Closed);

    let mut socket = awaiting_connect(0);
    socket.handle(1, Input::Disconnect);
    assert!(drain(&mut socket).contains(&Action::CloseTransport));
}

/// Catches `PollSchedule::interval_ms` and `PollMachine::interval_ms` returning 0 or 1: the
/// interval in force is the one asked for, within its bounds (drivers report it).
#[test]
fn the_poll_interval_in_force_is_the_bounded_one_asked_for() {
    use consult_core::poll_machine::PollMachine;
    assert_eq!(PollSchedule::new(7_000).interval_ms(), 7_000);
    assert_eq!(PollSchedule::new(1).interval_ms(), 100);
    assert_eq!(PollMachine::new(7_000, 1).interval_ms(), 7_000);
    assert_eq!(PollMachine::new(u64::MAX, 1).interval_ms(), 86_400_000);
}

/// Catches `PollSchedule::is_stopped` returning a constant: polling is over after a terminal
/// status, not before.
#[test]
fn polling_is_stopped_only_after_a_terminal_status() {
    let mut poll = PollSchedule::new(5_000);
    assert_eq!(poll.start(), PollAction::FetchNow);
    assert!(!poll.is_stopped());
    poll.on_result(PollResult::Updated(SessionStatus::Active), 0.5);
    assert!(!poll.is_stopped());
    assert_eq!(poll.on_timer(), PollAction::FetchNow);
    poll.on_result(PollResult::Updated(SessionStatus::Ended), 0.5);
    assert!(poll.is_stopped());
}

/// Catches the `hidden` guard of `on_visibility` replaced by `true`: a visible page told again
/// that it is visible keeps its sleep; only a hidden one pauses.
#[test]
fn a_visible_page_told_it_is_visible_keeps_polling() {
    let mut poll = PollSchedule::new(5_000);
    poll.start();
    assert_eq!(
        poll.on_result(PollResult::NotModified, 0.5),
        PollAction::SleepMs(5_000)
    );
    assert_eq!(poll.on_visibility(false), PollAction::AwaitResult);
    assert_eq!(poll.on_timer(), PollAction::FetchNow);
    poll.on_result(PollResult::NotModified, 0.5);
    assert_eq!(poll.on_visibility(true), PollAction::Paused);
}

/// Catches the ACK guard (`phase == Connected`) replaced by `true`: an acknowledgement before
/// CONNECT's answer is out of sequence and reported, not dropped in silence as a late one.
#[test]
fn an_ack_before_connect_is_out_of_sequence() {
    let mut socket = awaiting_connect(0);
    socket.handle(1, Input::Frame(r#"431["ok"]"#.into()));
    let actions = drain(&mut socket);
    assert_eq!(protocol_errors(&actions), ["packet out of sequence"]);
    assert_eq!(socket.state(), ConnState::Connecting);
    // Connected, the same frame is an acknowledgement nobody waits for: dropped quietly.
    let mut socket = connected(0);
    socket.handle(1, Input::Frame(r#"431["ok"]"#.into()));
    assert!(drain(&mut socket).is_empty());
}

/// Catches the CONNECT_ERROR guard replaced by `true`: a `connect_error` on a connected socket is
/// out of sequence; it does not end or restart the connection.
#[test]
fn a_connect_error_after_connect_is_out_of_sequence() {
    let mut socket = connected(0);
    socket.handle(1, Input::Frame(r#"44{"message":"unauthorized"}"#.into()));
    let actions = drain(&mut socket);
    assert_eq!(protocol_errors(&actions), ["packet out of sequence"]);
    assert!(states(&actions).is_empty(), "{actions:?}");
    assert_eq!(socket.state(), ConnState::Connected);
}

/// Catches the poll machine's "nothing in flight" guard replaced by `false`: an answer nobody
/// asked for (late, after a stop's abort, or invented) changes nothing.
#[test]
fn a_poll_answer_nobody_asked_for_changes_nothing() {
    use consult_core::poll_machine::{PollInput, PollMachine, PollOutput};
    let mut poll = PollMachine::new(5_000, 1);
    let ended = || PollInput::Answered {
        status: 200,
        etag: Some("\"e\"".into()),
        body: Some(r#"{"session_id":"s","room_id":"r","status":"ended"}"#.into()),
        retry_after: None,
    };
    poll.handle(0, ended());
    assert_eq!(poll.poll_action(), None);
    assert!(!poll.is_ended());

    poll.handle(0, PollInput::Start { hidden: false });
    assert!(matches!(poll.poll_action(), Some(PollOutput::Fetch { .. })));
    poll.handle(1, ended());
    assert!(poll.is_ended());
}

/// A JWT-shaped token (unsigned: the client only reads its times) expiring at `exp` s.
fn jwt(exp: i64, n: u32) -> String {
    let payload = format!(r#"{{"exp":{exp},"iat":0,"n":{n}}}"#);
    format!(
        "e30.{}.sig",
        consult_core::base64url::encode(payload.as_bytes())
    )
}

/// Catches `load_failed || reread_failures >= …` turned into `&&` in the store check: a tab whose
/// store never opened cannot order another tab's messages by the store, so it follows them
/// (it would otherwise keep a token the other tab has already rotated, and refresh it: reuse).
#[test]
fn a_tab_whose_store_never_opened_follows_the_other_tabs_tokens() {
    use consult_core::session::{Action, Input, SessionConfig, TokenSession};
    let mut session = TokenSession::new(SessionConfig::default(), 1);
    let read_op = |session: &mut TokenSession| {
        core::iter::from_fn(|| session.poll_action()).find_map(|action| match action {
            Action::ReadStorage { op } => Some(op),
            _ => None,
        })
    };
    session.handle(0, Input::GetToken { call: 1 });
    // Every read of the first load fails: the tab goes on without a store.
    while let Some(op) = read_op(&mut session) {
        session.handle(0, Input::StorageDone { op, ok: false });
    }
    let (first, unseen, second) = (jwt(14_400, 1), jwt(14_400, 2), jwt(14_400, 3));
    let peer = |token: &str, replaces: Option<&str>| Input::PeerToken {
        token: token.into(),
        expires_at: None,
        replaces: replaces.map(String::from),
    };
    session.handle(1, peer(&first, None));
    assert_eq!(session.view(1).map(|v| v.token), Some(first.as_str()));
    // A message this tab cannot place (it replaces a token the tab never saw): the store is
    // asked to order it, and fails again.
    session.handle(2, peer(&second, Some(&unseen)));
    let op = read_op(&mut session);
    assert!(op.is_some(), "the store is asked");
    if let Some(op) = op {
        session.handle(2, Input::StorageDone { op, ok: false });
    }
    assert_eq!(session.view(2).map(|v| v.token), Some(second.as_str()));
}

/// Catches `PollEnd::as_str` returning "" or "xyzzy": these names are the JavaScript API's.
#[test]
fn poll_ends_have_the_names_the_api_documents() {
    use consult_core::poll_machine::PollEnd;
    let names = [
        (PollEnd::Ended, "ended"),
        (PollEnd::Cancelled, "cancelled"),
        (PollEnd::NotFound, "notFound"),
        (PollEnd::Forbidden, "forbidden"),
        (PollEnd::SessionExpired, "sessionExpired"),
        (PollEnd::Stopped, "stopped"),
    ];
    for (end, name) in names {
        assert_eq!(end.as_str(), name);
    }
}

/// A poll machine with its first request out.
fn polling() -> consult_core::poll_machine::PollMachine {
    use consult_core::poll_machine::{PollInput, PollMachine, PollOutput};
    let mut poll = PollMachine::new(5_000, 1);
    poll.handle(0, PollInput::Start { hidden: false });
    assert!(matches!(poll.poll_action(), Some(PollOutput::Fetch { .. })));
    poll
}

/// Catches deleting the `Ended` (or `Cancelled`) arm of the poll answer: a terminal status ends
/// polling with its own reason.
#[test]
fn a_terminal_status_ends_polling_with_its_reason() {
    use consult_core::poll_machine::{PollEnd, PollInput, PollOutput};
    for (status, end) in [("ended", PollEnd::Ended), ("cancelled", PollEnd::Cancelled)] {
        let mut poll = polling();
        poll.handle(
            1,
            PollInput::Answered {
                status: 200,
                etag: None,
                body: Some(format!(
                    r#"{{"session_id":"s","room_id":"r","status":"{status}"}}"#
                )),
                retry_after: None,
            },
        );
        let outputs: Vec<_> = core::iter::from_fn(|| poll.poll_action()).collect();
        assert_eq!(
            outputs,
            [PollOutput::Update, PollOutput::End(end)],
            "{status}"
        );
        assert!(poll.is_ended());
    }
}

/// Catches deleting the `Aborted` arm of a failed poll: a request aborted (only a stop does
/// that) ends polling quietly, with no error for the application and no retry.
#[test]
fn an_aborted_poll_ends_quietly() {
    use consult_core::ErrorCode;
    use consult_core::poll_machine::{PollEnd, PollInput, PollOutput};
    use consult_core::session::SessionError;
    let mut poll = polling();
    poll.handle(1, PollInput::Failed(SessionError::new(ErrorCode::Aborted)));
    let outputs: Vec<_> = core::iter::from_fn(|| poll.poll_action()).collect();
    assert_eq!(outputs, [PollOutput::End(PollEnd::Stopped)]);
    assert_eq!(poll.poll_timeout(), None);
}

/// Catches `text.len() > MAX_TOKEN_BYTES` turned into `==`: a token of exactly the limit is
/// read, one byte more is refused.
#[test]
fn a_token_longer_than_the_limit_is_refused() {
    use consult_core::session::{MAX_TOKEN_BYTES, Token};
    let of_length = |length: usize| {
        let head = jwt(14_400, 1);
        format!("{head}{}", "s".repeat(length - head.len()))
    };
    assert!(Token::parse(&of_length(MAX_TOKEN_BYTES), None).is_some());
    assert!(Token::parse(&of_length(MAX_TOKEN_BYTES + 1), None).is_none());
}

/// Catches the storage deadline's guard replaced by `true`: a timer that fires before a
/// storage operation's deadline does not fail it, and its answer still counts.
#[test]
fn an_early_timer_does_not_fail_a_storage_read() {
    use consult_core::session::{Action, Input, SessionConfig, TokenSession};
    let mut session = TokenSession::new(SessionConfig::default(), 1);
    session.handle(0, Input::GetToken { call: 1 });
    let op = core::iter::from_fn(|| session.poll_action()).find_map(|action| match action {
        Action::ReadStorage { op } => Some(op),
        _ => None,
    });
    let deadline = session.poll_timeout().unwrap_or(i64::MAX);
    assert!(deadline > 1);
    session.handle_timeout(1);
    assert_eq!(session.poll_action(), None);
    let token = jwt(14_400, 1);
    session.handle(
        2,
        Input::StorageRead {
            op: op.unwrap_or_default(),
            token: Some(token.clone()),
            expires_at: None,
        },
    );
    let actions: Vec<_> = core::iter::from_fn(|| session.poll_action()).collect();
    assert!(
        actions.contains(&Action::Resolve {
            call: 1,
            result: Ok(token)
        }),
        "{actions:?}"
    );
}

/// Catches `*deadline > now` turned into `<` in `Acks::expired` (found by the full mutation run
/// at 6e44362): when the first of two acknowledgement deadlines passes, only that emit times
/// out; the other still waits for its answer, which then settles it.
#[test]
fn only_the_acknowledgements_whose_deadline_passed_time_out() {
    let mut socket = connected(0);
    for (id, ack_timeout_ms) in [(1, 1_000), (2, 5_000)] {
        socket.handle(
            0,
            Input::Emit {
                id,
                name: "chat".into(),
                args_json: r#""hi""#.into(),
                ack_timeout_ms: Some(ack_timeout_ms),
            },
        );
    }
    drain(&mut socket);
    socket.handle_timeout(1_000);
    let outcomes: Vec<(u64, Result<Option<String>, ErrorCode>)> = drain(&mut socket)
        .into_iter()
        .filter_map(|action| match action {
            Action::Notify(Notice::Emitted { id, result }) => Some((id, result)),
            _ => None,
        })
        .collect();
    assert_eq!(outcomes, vec![(1, Err(ErrorCode::Timeout))]);
}
