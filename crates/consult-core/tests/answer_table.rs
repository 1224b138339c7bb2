//! The answer table: what every answer means, per endpoint — status → outcome, retryable or
//! not, sign-in ends or not — checked against `classify`, against the error each answer is
//! reported with, and against the machines that act on it (the token session for the refresh,
//! the poll machine for the poll, the socket machine for CONNECT_ERROR).
//!
//! The promises it holds (ARCHITECTURE.md, the READMEs): a refresh 403 keeps the sign-in, is
//! retried and is reported retryable; only a refresh 401 ends a sign-in; an authorised 401 is
//! refreshed and replayed; a poll 404/403 ends polling, not the sign-in.

use consult_core::ErrorCode;
use consult_core::base64url;
use consult_core::classify::{Endpoint, Outcome, Refusal, read_connect_error, read_status};
use consult_core::connection::{self, ConnState, ConnectionConfig, Notice, SocketConnection};
use consult_core::poll_machine::{PollEnd, PollInput, PollMachine, PollOutput};
use consult_core::session::{
    Action, Input, SessionConfig, SessionEvent, TokenSession, credential_refused,
};

use Endpoint::{Authorised, Poll, Refresh};
use Outcome::*;

/// (endpoint, status, outcome, retryable, the sign-in ends).
const TABLE: &[(Endpoint, u16, Outcome, bool, bool)] = &[
    (Refresh, 200, Success, false, false),
    (Refresh, 204, Success, false, false),
    (Refresh, 302, Failed, false, false),
    (Refresh, 304, Failed, false, false),
    (Refresh, 400, Failed, false, false),
    (Refresh, 401, EndSignIn, false, true),
    (Refresh, 403, Transient, true, false),
    (Refresh, 404, Failed, false, false),
    (Refresh, 408, Transient, true, false),
    (Refresh, 425, Transient, true, false),
    (Refresh, 429, Transient, true, false),
    (Refresh, 500, Transient, true, false),
    (Refresh, 503, Transient, true, false),
    (Refresh, 599, Transient, true, false),
    (Refresh, 600, Failed, false, false),
    (Authorised, 200, Success, false, false),
    (Authorised, 304, Failed, false, false),
    (Authorised, 400, Failed, false, false),
    (Authorised, 401, RefreshAndReplay, false, false),
    (Authorised, 403, Transient, true, false),
    (Authorised, 404, Failed, false, false),
    (Authorised, 429, Transient, true, false),
    (Authorised, 502, Transient, true, false),
    (Poll, 200, Success, false, false),
    (Poll, 304, NotModified, false, false),
    (Poll, 400, Failed, false, false),
    (Poll, 401, Failed, false, false),
    (Poll, 403, Forbidden, false, false),
    (Poll, 404, NotFound, false, false),
    (Poll, 410, Failed, false, false),
    (Poll, 429, Transient, true, false),
    (Poll, 503, Transient, true, false),
];

/// CONNECT_ERROR messages (the stub's and socketioxide's) and what they mean.
const REFUSALS: &[(&str, Refusal)] = &[
    ("Token expired", Refusal::Credential),
    ("Invalid token", Refusal::Credential),
    ("unauthorized: missing token", Refusal::Credential),
    ("Session revoked", Refusal::Credential),
    ("jwt malformed", Refusal::Credential),
    ("Service unavailable", Refusal::Transient),
    ("Too many connections", Refusal::Transient),
    ("Something new", Refusal::Transient),
    ("", Refusal::Transient),
    ("Invalid namespace", Refusal::Final),
];

#[test]
fn every_answer_has_one_meaning_and_every_machine_acts_on_it() {
    for &(endpoint, status, outcome, retryable, ends) in TABLE {
        let row = format!("{endpoint:?} {status}");
        assert_eq!(read_status(endpoint, status), outcome, "{row}");
        assert_eq!(outcome.retryable(), retryable, "{row}: retryable");
        assert_eq!(outcome.ends_sign_in(), ends, "{row}: ends the sign-in");
        // The error an answer is reported with says the same about retrying.
        if !matches!(
            outcome,
            Success | NotModified | EndSignIn | NotFound | Forbidden
        ) {
            assert_eq!(
                ErrorCode::Http.retryable_with(Some(status)),
                retryable,
                "{row}: the reported error's retryable"
            );
        }
        match endpoint {
            Refresh => refresh_acts(status, outcome, &row),
            Authorised => {
                assert_eq!(
                    credential_refused(status),
                    outcome == RefreshAndReplay,
                    "{row}"
                )
            }
            Poll => poll_acts(status, outcome, &row),
        }
    }
    let ended = ErrorCode::RefreshRejected;
    assert!(!ended.retryable_with(Some(401)), "a refresh 401 is final");
}

#[test]
fn every_connect_error_has_one_meaning_and_the_socket_acts_on_it() {
    for &(message, refusal) in REFUSALS {
        assert_eq!(read_connect_error(message), refusal, "{message:?}");
        let mut socket = awaiting_connect();
        let frame = format!(r#"44{{"message":"{message}"}}"#);
        socket.handle(10, connection::Input::Frame(frame));
        let actions = drain_socket(&mut socket);
        let refreshes = actions.iter().any(|a| {
            matches!(
                a,
                connection::Action::FetchToken {
                    force_refresh: true,
                    ..
                }
            )
        });
        let state = states(&actions).last().copied();
        match refusal {
            Refusal::Credential => {
                assert!(refreshes, "{message:?}: one forced refresh");
                assert_eq!(state, Some(ConnState::Refreshing), "{message:?}");
            }
            Refusal::Transient => {
                assert!(!refreshes, "{message:?}: no refresh");
                assert_eq!(state, Some(ConnState::Reconnecting), "{message:?}");
            }
            Refusal::Final => {
                assert!(!refreshes, "{message:?}: no refresh");
                assert_eq!(state, Some(ConnState::Closed), "{message:?}");
            }
        }
    }
}

/// A token session whose expired token is being refreshed; the answer is `status`.
fn refresh_acts(status: u16, outcome: Outcome, row: &str) {
    let config = SessionConfig {
        cross_tab: false,
        ..SessionConfig::default()
    };
    let mut session = TokenSession::new(config, 42);
    let now = 4 * 3_600_000 + 60_000; // the token expired a minute ago
    let old = jwt(4 * 3600, 0, 1);
    session.handle(now, Input::GetToken { call: 1 });
    let read = find(drain_session(&mut session), |a| match a {
        Action::ReadStorage { op } => Some(*op),
        _ => None,
    });
    let read = read.unwrap_or_else(|| panic!("{row}: a storage read"));
    let stored = Input::StorageRead {
        op: read,
        token: Some(old),
        expires_at: None,
    };
    session.handle(now, stored);
    let sent = find(drain_session(&mut session), |a| match a {
        Action::SendRefresh { op, .. } => Some(*op),
        _ => None,
    });
    let op = sent.unwrap_or_else(|| panic!("{row}: a refresh"));
    let body = if outcome == Success {
        let new = jwt(8 * 3600, 4 * 3600, 2);
        format!(r#"{{"access_token":"{new}","expires_in":14400}}"#)
    } else {
        String::new()
    };
    let answer = Input::RefreshAnswered {
        op,
        status,
        body,
        date: None,
        retry_after: None,
    };
    session.handle(now, answer);
    let actions = drain_session(&mut session);
    assert_eq!(session.has_ended(), outcome.ends_sign_in(), "{row}: ended");
    let failed = find(actions.clone(), |a| match a {
        Action::Emit(SessionEvent::RefreshFailed(error)) => Some(*error),
        _ => None,
    });
    let expired = find(actions, |a| match a {
        Action::Emit(SessionEvent::SessionExpired(error)) => Some(*error),
        _ => None,
    });
    match outcome {
        Success => assert_eq!((failed, expired), (None, None), "{row}"),
        EndSignIn => {
            let error = expired.unwrap_or_else(|| panic!("{row}: sessionExpired"));
            assert_eq!(error.code, ErrorCode::RefreshRejected, "{row}");
            assert!(!error.code.retryable_with(error.status), "{row}");
        }
        _ => {
            let error = failed.unwrap_or_else(|| panic!("{row}: refreshFailed"));
            assert_eq!(error.code, ErrorCode::Http, "{row}");
            assert_eq!(
                error.code.retryable_with(error.status),
                outcome.retryable(),
                "{row}: reported retryable"
            );
            // Kept and retried: a later attempt follows (after the backoff).
            assert!(session.poll_timeout().is_some(), "{row}: retried later");
        }
    }
}

/// A poll machine whose request is answered `status`.
fn poll_acts(status: u16, outcome: Outcome, row: &str) {
    let mut poll = PollMachine::new(5_000, 7);
    poll.handle(0, PollInput::Start { hidden: false });
    while poll.poll_action().is_some() {}
    let answer = PollInput::Answered {
        status,
        etag: None,
        body: Some(r#"{"session_id":"s","room_id":"r","status":"active"}"#.into()),
        retry_after: None,
    };
    poll.handle(10, answer);
    let outputs: Vec<PollOutput> = std::iter::from_fn(|| poll.poll_action()).collect();
    let error = outputs.iter().find_map(|o| match o {
        PollOutput::Error(error) => Some(*error),
        _ => None,
    });
    let end = outputs.iter().find_map(|o| match o {
        PollOutput::End(end) => Some(*end),
        _ => None,
    });
    match outcome {
        Success => assert_eq!(outputs.first(), Some(&PollOutput::Update), "{row}"),
        NotModified => assert_eq!((error, end), (None, None), "{row}"),
        NotFound => assert_eq!(end, Some(PollEnd::NotFound), "{row}"),
        Forbidden => assert_eq!(end, Some(PollEnd::Forbidden), "{row}"),
        _ => {
            let error = error.unwrap_or_else(|| panic!("{row}: an error"));
            assert_eq!(end, None, "{row}: polling goes on");
            assert_eq!(
                error.code.retryable_with(error.status),
                outcome.retryable(),
                "{row}: reported retryable"
            );
        }
    }
}

fn awaiting_connect() -> SocketConnection {
    const OPEN: &str = r#"0{"sid":"e1","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}"#;
    let mut socket = SocketConnection::new(ConnectionConfig::default(), 1);
    socket.handle(0, connection::Input::Start);
    socket.handle(0, connection::Input::TransportOpened);
    socket.handle(0, connection::Input::Frame(OPEN.to_owned()));
    let request = drain_socket(&mut socket).iter().find_map(|a| match a {
        connection::Action::FetchToken { request, .. } => Some(*request),
        _ => None,
    });
    let token = connection::TokenResult::Token("t1".into());
    socket.handle(
        0,
        connection::Input::Token {
            request: request.unwrap_or(0),
            result: token,
        },
    );
    drain_socket(&mut socket);
    socket
}

fn drain_socket(socket: &mut SocketConnection) -> Vec<connection::Action> {
    std::iter::from_fn(|| socket.poll_action()).collect()
}

fn states(actions: &[connection::Action]) -> Vec<ConnState> {
    actions
        .iter()
        .filter_map(|a| match a {
            connection::Action::Notify(Notice::State(state, _)) => Some(*state),
            _ => None,
        })
        .collect()
}

fn drain_session(session: &mut TokenSession) -> Vec<Action> {
    std::iter::from_fn(|| session.poll_action()).collect()
}

fn find<T>(actions: Vec<Action>, pick: impl Fn(&Action) -> Option<T>) -> Option<T> {
    actions.iter().find_map(pick)
}

/// A JWT with `exp`/`iat` in seconds and a serial number, so tokens differ.
fn jwt(exp_s: i64, iat_s: i64, n: u32) -> String {
    let payload = format!(r#"{{"exp":{exp_s},"iat":{iat_s},"n":{n}}}"#);
    format!("e30.{}.sig", base64url::encode(payload.as_bytes()))
}
