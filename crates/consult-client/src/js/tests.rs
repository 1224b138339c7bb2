//! Whatever JavaScript passes, no export panics (a panic would be a wasm trap thrown into the
//! driver's event handlers).

use proptest::prelude::*;

use super::decisions::*;
use super::poll::{PollIn, PollMachine, PollOp};
use super::session::*;
use super::socket::{SocketMachine, SocketOp, websocket_url};

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
        inputs in proptest::collection::vec((1u8..19, number(), proptest::option::of(".{0,60}"), proptest::option::of(".{0,30}"), proptest::option::of(number())), 0..60),
        status in any::<u16>(), text in ".{0,40}",
    ) {
        let mut machine = TokenMachine::new(Some(margin), Some(timeout), Some(seed), true, true, true, seed);
        for (kind, value, text, extra, number) in inputs {
            machine.set_retry_after(extra.clone());
            let url = text.clone().unwrap_or_default();
            machine.feed(value, input_kind(kind), value, text, extra, number);
            while machine.poll_action() != SessionOp::None {
                let _ = (machine.id(), machine.text(), machine.extra(), machine.code(), machine.status(), machine.retryable());
            }
            let _ = (machine.poll_timeout(), machine.fresh_until(), machine.token(), machine.token_time(value, kind), machine.may_carry_token(&url));
        }
        machine.allow_origin(&text);
        let _ = (credential_refused(status), machine.may_carry_token(&text));
        let _ = classify_status(status);
    }

    #[test]
    fn the_poll_machine_takes_any_sequence_of_inputs(
        interval in number(), seed in number(),
        inputs in proptest::collection::vec((1u8..7, number(), any::<bool>(), proptest::option::of(".{0,12}")), 0..40),
    ) {
        let mut poll = PollMachine::new(Some(interval), seed);
        for (kind, value, flag, text) in inputs {
            let kind = [PollIn::Start, PollIn::Timer, PollIn::Visibility, PollIn::Answered, PollIn::Failed, PollIn::Stop][usize::from(kind - 1) % 6];
            poll.feed(value, kind, flag, value, text.clone(), text.clone(), text.clone(), flag, text);
            while poll.poll_output() != PollOp::None {
                let _ = (poll.text(), poll.code(), poll.status());
            }
            let _ = poll.poll_timeout();
        }
    }

    #[test]
    fn the_socket_machine_takes_any_frames_tokens_and_times(
        namespace in ".{0,8}", attempts in any::<u32>(), delay in number(), max_delay in number(),
        inputs in proptest::collection::vec((0u8..8, ".{0,60}", number()), 0..40),
    ) {
        let mut machine = SocketMachine::new(namespace.clone(), Some(f64::from(attempts)), Some(delay), Some(max_delay), namespace.clone(), namespace.clone(), namespace.clone(), namespace);
        machine.start(0.0);
        for (input, text, value) in inputs {
            match input {
                0 => machine.on_transport_open(value),
                1 => machine.on_frame(&text, value),
                2 => machine.on_token(value, Some(text), None, value, value),
                3 => machine.on_token(value, None, Some(text), value, value),
                4 => machine.on_transport_closed(value, value),
                5 => machine.on_timeout(value, value),
                6 => { let _ = machine.emit(&text, &text, Some(value), value); }
                _ => machine.disconnect(),
            }
            while machine.next() != SocketOp::None {}
            let _ = (machine.next_timeout(), machine.state());
        }
        let _ = websocket_url(&machine.state());
    }
}

/// The input kind of a number (every kind is reachable).
fn input_kind(n: u8) -> SessionInput {
    use SessionInput::*;
    [
        GetToken,
        TokenRefused,
        ForceRefresh,
        SetSession,
        SignOut,
        StorageRead,
        StorageDone,
        StorageFailed,
        LockGranted,
        LockUnavailable,
        RefreshAnswered,
        RefreshNetworkError,
        RefreshUnreadable,
        PeerToken,
        PeerSignedOut,
        Wake,
        Dispose,
        Timeout,
    ][usize::from(n.saturating_sub(1)) % 18]
}
