//! Whatever JavaScript passes, no export panics (a panic would be a wasm trap thrown into the
//! driver's event handlers).

use proptest::prelude::*;

use super::decisions::*;
use super::poll::{
    PollIn, PollMachine, PollOp, pm_feed, pm_free, pm_new, pm_poll, pm_status, pm_text, pm_timeout,
};
use super::session::*;
use super::socket::*;

/// Any f64 JavaScript can pass, the awkward ones often.
fn number() -> impl Strategy<Value = f64> {
    prop_oneof![
        Just(f64::NAN),
        Just(f64::INFINITY),
        Just(f64::NEG_INFINITY),
        Just(f64::MAX),
        Just(-f64::MAX),
        Just(0.0),
        Just(-0.0),
        any::<f64>(),
        -1e13..1e13f64,
    ]
}

proptest! {
    #[test]
    fn the_token_machine_takes_any_inputs(
        margin in number(), timeout in number(), seed in number(),
        inputs in proptest::collection::vec((0u8..20, number(), proptest::option::of(".{0,60}"), proptest::option::of(".{0,30}"), proptest::option::of(number())), 0..60),
        status in any::<u16>(), text in ".{0,40}",
    ) {
        let mut machine = TokenMachine::new(margin, timeout, seed, true, true, true, seed);
        for (kind, value, text, extra, number) in inputs {
            machine.set_retry_after(extra.clone());
            machine.set_replaces(text.clone());
            let url = text.clone().unwrap_or_default();
            machine.feed(value, value, kind, value, text, extra, number.unwrap_or(f64::NAN));
            while machine.poll_action() != SessionOp::None as u8 {
                let _ = (machine.id(), machine.text(), machine.extra(), machine.replaces(), machine.status());
            }
            let _ = (machine.poll_timeout(), machine.fresh_until(kind % 2 == 0), machine.fresh_until(true), machine.token(), machine.token_time(value, kind), machine.may_carry_token(&url));
        }
        machine.allow_origin(&text);
        let _ = (authorised_replays(f64::from(status), status % 2 == 0), machine.may_carry_token(&text));
        let _ = session_answer_error(f64::from(status), Some(&text));
        let _ = error_retryable(&text, f64::from(status));
    }

    #[test]
    fn the_poll_machine_takes_any_sequence_of_inputs(
        interval in number(), seed in number(),
        inputs in proptest::collection::vec((0u8..8, number(), any::<bool>(), proptest::option::of(".{0,12}")), 0..40),
    ) {
        let mut poll = PollMachine::new(interval, seed);
        for (kind, value, flag, text) in inputs {
            poll.feed(value, kind, flag, value, text.clone(), text.clone(), text.clone(), text);
            while poll.poll_action() != PollOp::None as u8 {
                let _ = (poll.text(), poll.status());
            }
            let _ = poll.poll_timeout();
        }
    }

    #[test]
    fn the_socket_machine_takes_any_frames_tokens_and_times(
        url in ".{0,20}", namespace in ".{0,8}", attempts in any::<u32>(), delay in number(), max_delay in number(),
        inputs in proptest::collection::vec((0u8..8, ".{0,60}", number()), 0..40),
    ) {
        let mut machine = SocketMachine::new(&url, Some(namespace.clone()), f64::from(attempts), delay, max_delay, namespace.clone(), namespace.clone(), namespace.clone(), namespace, delay);
        machine.start(0.0);
        for (input, text, value) in inputs {
            match input {
                0 => machine.on_transport_open(value),
                1 => machine.on_frame(text, value),
                2 => machine.on_token(value, Some(text), None, value),
                3 => machine.on_token(value, None, Some(text), value),
                4 => machine.on_transport_closed(value),
                5 => machine.handle_timeout(value),
                6 => machine.emit(value, &text, &text, Some(value), value),
                _ => machine.disconnect(value),
            }
            while machine.next() != SocketOp::None as u8 {
                let _ = (machine.text(), machine.extra(), machine.id());
            }
            let _ = (machine.poll_timeout(), machine.state());
        }
    }
}

proptest! {
    /// The raw exports, as a buggy or hostile caller could call them: any handle (freed, never
    /// made, not a number), any string length (beyond what was written, negative, NaN), any
    /// kind. Nothing panics, and a handle that names no machine changes nothing.
    #[test]
    fn the_exports_take_any_handle_and_any_length(
        calls in proptest::collection::vec((0u8..12, number(), number(), 0u32..30), 0..60),
    ) {
        let token = tm_new(f64::NAN, f64::NAN, f64::NAN, 1, 1, 1, 1.0);
        let poll = pm_new(f64::NAN, 1.0);
        let socket = sm_new(-1.0, -1.0, f64::NAN, f64::NAN, f64::NAN, -1.0, -1.0, -1.0, -1.0, f64::NAN);
        for (call, handle, length, kind) in calls {
            let handle = if handle.is_finite() && handle.abs() < 4.0 { handle.trunc() } else { handle };
            match call {
                0 => tm_feed(handle, length, length, kind, length, length, length, length),
                1 => { let _ = (tm_poll(handle), tm_id(handle), tm_text(handle), tm_extra(handle), tm_status(handle), tm_token(handle)); }
                2 => { let _ = (tm_timeout(handle), tm_fresh_until(handle, kind), tm_fresh_until(handle, 1), tm_time(handle, length, kind), tm_may_carry(handle, length)); }
                3 => { tm_allow_origin(handle, length); tm_set_retry_after(handle, length); tm_set_replaces(handle, length); let _ = tm_replaces(handle); }
                4 => pm_feed(handle, length, kind, kind, length, length, length, length, length),
                5 => { let _ = (pm_poll(handle), pm_text(handle), pm_status(handle), pm_timeout(handle)); }
                6 => { sm_frame(handle, length, length); sm_token(handle, length, length, length, length); }
                7 => { sm_emit(handle, length, length, length, length, length); let _ = (sm_next(handle), sm_text(handle), sm_state(handle)); }
                8 => { sm_start(handle, length); sm_open(handle, length); sm_closed(handle, length); sm_timeout(handle, length); sm_disconnect(handle, length); }
                9 => { let _ = (error_retryable_export(length, length), authorised_replays_export(length, kind), session_answer_export(length, length)); }
                10 => { let _ = super::abi::io_in(kind); }
                _ => { tm_free(handle); pm_free(handle); sm_free(handle); }
            }
        }
        for handle in [token, poll, socket] {
            tm_free(handle);
            pm_free(handle);
            sm_free(handle);
        }
        prop_assert_eq!(tm_poll(token), 0, "a freed handle answers none");
        prop_assert_eq!(tm_text(token), -1.0);
        prop_assert!(sm_next_timeout(socket).is_nan());
    }
}

/// The `export const Name = n;` lines of one of the driver's code modules (`js/*.js`).
fn js_codes(file: &str) -> Vec<(String, u8)> {
    file.lines()
        .filter_map(|line| {
            let (name, value) = line.strip_prefix("export const ")?.split_once(" = ")?;
            Some((name.to_owned(), value.strip_suffix(';')?.parse().ok()?))
        })
        .collect()
}

/// What the driver's code modules say is exactly what the enums say: every variant, by name and
/// number, and nothing else.
#[test]
fn the_drivers_code_modules_match_the_enums() {
    fn rust<T: std::fmt::Debug + Copy>(all: &[T], number: impl Fn(T) -> u8) -> Vec<(String, u8)> {
        all.iter().map(|&v| (format!("{v:?}"), number(v))).collect()
    }
    let cases = [
        (
            include_str!("../js/session_in.js"),
            rust(&SessionInput::ALL, |v| v as u8),
        ),
        (
            include_str!("../js/session_op.js"),
            rust(&SessionOp::ALL, |v| v as u8),
        ),
        (
            include_str!("../js/poll_in.js"),
            rust(&PollIn::ALL, |v| v as u8),
        ),
        (
            include_str!("../js/poll_op.js"),
            rust(&PollOp::ALL, |v| v as u8),
        ),
        (
            include_str!("../js/socket_op.js"),
            rust(&SocketOp::ALL, |v| v as u8),
        ),
    ];
    for (file, expected) in cases {
        assert_eq!(js_codes(file), expected);
    }
    // The arrays list the variants in order of their numbers, so a number reads back its kind.
    for (i, kind) in SessionInput::ALL.iter().enumerate() {
        assert_eq!(*kind as usize, i + 1);
        assert_eq!(SessionInput::from_number(i as u8 + 1), Some(*kind));
    }
    for (i, op) in SessionOp::ALL.iter().enumerate() {
        assert_eq!(*op as usize, i);
    }
    for (i, kind) in PollIn::ALL.iter().enumerate() {
        assert_eq!(*kind as usize, i + 1);
    }
    for (i, op) in PollOp::ALL.iter().enumerate() {
        assert_eq!(*op as usize, i);
    }
    for (i, op) in SocketOp::ALL.iter().enumerate() {
        assert_eq!(*op as usize, i);
    }
    assert_eq!(SessionInput::from_number(0), None);
    assert_eq!(SessionInput::from_number(19), None);
}

/// `js/wire.js` says exactly what `consult_core::wire` says: every name, by name and value, and
/// nothing else (a driver writes no protocol string of its own).
#[test]
fn the_drivers_wire_module_matches_core() {
    use consult_core::wire::*;
    let file = include_str!("../js/wire.js");
    let js: Vec<(String, String)> = file
        .lines()
        .filter_map(|line| {
            let (name, value) = line.strip_prefix("export const ")?.split_once(" = ")?;
            let value = value.strip_suffix(';')?;
            let value = value
                .strip_prefix('"')
                .and_then(|v| v.strip_suffix('"'))
                .unwrap_or(value);
            Some((name.to_owned(), value.to_owned()))
        })
        .collect();
    let version = IDB_VERSION.to_string();
    let rust = [
        ("REFRESH_PATH", REFRESH_PATH),
        ("LOGOUT_PATH", LOGOUT_PATH),
        ("SESSIONS_PATH", SESSIONS_PATH),
        ("POST", POST),
        ("GET", GET),
        ("AUTHORIZATION", AUTHORIZATION),
        ("BEARER", BEARER),
        ("IF_NONE_MATCH", IF_NONE_MATCH),
        ("ETAG", ETAG),
        ("RETRY_AFTER", RETRY_AFTER),
        ("DATE", DATE),
        ("TOKEN_KEY", TOKEN_KEY),
        ("EXPIRES_KEY", EXPIRES_KEY),
        ("IDB_DATABASE", IDB_DATABASE),
        ("IDB_VERSION", version.as_str()),
        ("IDB_STORE", IDB_STORE),
        ("FIELD_TOKEN", FIELD_TOKEN),
        ("FIELD_EXPIRES_AT", FIELD_EXPIRES_AT),
        ("LOCK_PREFIX", LOCK_PREFIX),
        ("CHANNEL_PREFIX", CHANNEL_PREFIX),
        ("MESSAGE_KIND", MESSAGE_KIND),
        ("KIND_TOKEN", KIND_TOKEN),
        ("KIND_SIGNOUT", KIND_SIGNOUT),
        ("FIELD_REPLACES", FIELD_REPLACES),
    ];
    let rust: Vec<(String, String)> = rust
        .iter()
        .map(|(name, value)| (name.to_string(), value.to_string()))
        .collect();
    assert_eq!(js, rust);
}
