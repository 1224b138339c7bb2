//! Whatever JavaScript passes, no export panics (a panic would be a wasm trap thrown into the
//! driver's event handlers).

use proptest::prelude::*;

use super::decisions::*;
use super::poll::{PollSchedule, session_status};
use super::socket::{SocketMachine, websocket_url};

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
    fn the_token_decisions_take_any_numbers(
        margin in number(), exp in number(), iat in proptest::option::of(number()),
        now in number(), skew in number(), attempt in any::<u32>(), random in number(),
        retry in proptest::option::of(number()), text in ".{0,40}",
    ) {
        let _ = token_expires_at(Some(exp), iat, Some(text.clone()));
        let _ = token_issued_at(Some(exp), iat);
        let _ = is_due(margin, exp, iat, now, skew);
        prop_assert!(delay_until_due(margin, exp, iat, now, skew) >= 0.0);
        let _ = is_expired(exp, now, skew);
        let _ = estimate_skew(now, iat, retry);
        let _ = server_time_from_expires_in(exp, iat);
        let _ = parse_http_date(&text);
        let _ = retry_after_ms(&text);
        let _ = jwt_payload(&text);
        let _ = classify_status(attempt as u16);
        let delay = backoff_delay(margin, exp, attempt, random, retry);
        prop_assert!(delay >= 0.0);
    }

    #[test]
    fn the_poll_schedule_takes_any_sequence_of_inputs(
        interval in number(), inputs in proptest::collection::vec((0u8..7, number(), any::<u8>()), 0..40),
        status in ".{0,12}",
    ) {
        let mut schedule = PollSchedule::new(interval);
        let mut action = schedule.start();
        for (input, value, code) in inputs {
            action = match input {
                0 => schedule.on_timer(),
                1 => schedule.on_visibility(code % 2 == 0),
                2 => schedule.on_updated(code, value),
                3 => schedule.on_not_modified(value),
                4 => schedule.on_transient(Some(value), value),
                5 => schedule.on_fatal(),
                _ => schedule.stop(),
            };
            prop_assert!(action >= -6.0);
        }
        let _ = (action, session_status(&status), schedule.stopped());
    }

    #[test]
    fn the_socket_machine_takes_any_frames_tokens_and_times(
        namespace in ".{0,8}", attempts in any::<u32>(), delay in number(), max_delay in number(),
        inputs in proptest::collection::vec((0u8..8, ".{0,60}", number()), 0..40),
    ) {
        let mut machine = SocketMachine::new(namespace, attempts, delay, max_delay);
        machine.start(0.0);
        for (input, text, value) in inputs {
            match input {
                0 => machine.on_transport_open(value),
                1 => machine.on_frame(&text, value),
                2 => machine.on_token(Some(text), false, value, value),
                3 => machine.on_token(None, value > 0.0, value, value),
                4 => machine.on_transport_closed(value, value),
                5 => machine.on_timeout(value, value),
                6 => { let _ = machine.emit(&text, &text, Some(value)); }
                _ => machine.disconnect(),
            }
            while machine.next().is_some() {}
            let _ = (machine.next_timeout(), machine.state());
        }
        let _ = websocket_url(&machine.state());
    }
}
