//! consult-core's session poller ([`consult_core::poll_machine::PollMachine`]) for the JS
//! poller: inputs fed with a numeric kind ([`PollIn`]), outputs drained as a numeric kind
//! ([`PollOp`]) with typed getters. The driver sends requests and calls back; the machine
//! decides when to poll and what each answer means. The numbers cross as plain numbers, named
//! for the driver by `js/poll_in.js` and `js/poll_op.js` (checked against these enums by a test,
//! as the token machine's are).

use alloc::{borrow::ToOwned, string::String};
use consult_core::ErrorCode;
use consult_core::poll_machine::{PollEnd, PollInput, PollOutput};
use consult_core::session::SessionError;

use super::abi::{self, Slab};
use super::ms;

/// What happened to the poller (the `kind` of [`PollMachine::feed`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PollIn {
    /// Start polling (`hidden`: the page is hidden now).
    Start = 1,
    /// The timer set to `pollTimeout()` fired.
    Timer = 2,
    /// The page's visibility changed (`hidden`).
    Visibility = 3,
    /// The request was answered: `status`, `etag`, `body` (its text; absent: unreadable),
    /// `retryAfter` — the answer as it came; what it means is core's.
    Answered = 4,
    /// The request failed with the client's error `code` (and `status`).
    Failed = 5,
    /// Stop polling.
    Stop = 6,
}

/// What to do (returned by [`PollMachine::poll_action`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PollOp {
    /// Nothing more to do.
    None = 0,
    /// Send the request, with `If-None-Match: text()` when there is one.
    Fetch = 1,
    /// Abort the request in flight.
    Abort = 2,
    /// Hand the session just received to `onUpdate`.
    Update = 3,
    /// Report an error (code `text()`, `status()`) to `onError`.
    Error = 4,
    /// Polling is over: `onEnd(text())`.
    End = 5,
}

impl PollIn {
    /// Every kind, in order of its number (1, 2, …).
    pub const ALL: [PollIn; 6] = [
        PollIn::Start,
        PollIn::Timer,
        PollIn::Visibility,
        PollIn::Answered,
        PollIn::Failed,
        PollIn::Stop,
    ];
}

// For the host test that checks the driver's code modules (src/tests.rs).
#[cfg(all(test, not(target_arch = "wasm32")))]
impl PollOp {
    /// Every op, in order of its number (0, 1, …).
    pub const ALL: [PollOp; 6] = [
        PollOp::None,
        PollOp::Fetch,
        PollOp::Abort,
        PollOp::Update,
        PollOp::Error,
        PollOp::End,
    ];
}

/// The session poller of one `pollSession()` call.
pub struct PollMachine {
    machine: consult_core::poll_machine::PollMachine,
    text: Option<String>,
    status: Option<u16>,
}

impl PollMachine {
    /// A poller every `interval_ms` (consult-core's default and bounds apply; not finite, as
    /// `undefined` is: the default), jitter seeded with `seed`.
    pub fn new(interval_ms: f64, seed: f64) -> PollMachine {
        let interval = consult_core::poll::interval_ms(Some(interval_ms));
        PollMachine {
            machine: consult_core::poll_machine::PollMachine::new(interval, seed.to_bits()),
            text: None,
            status: None,
        }
    }

    /// The interval in force (for the options table's test).
    #[cfg(all(test, not(target_arch = "wasm32")))]
    pub(crate) fn interval_ms(&self) -> u64 {
        self.machine.interval_ms()
    }

    /// Feeds what happened at time `now` (ms on the driver's monotonic clock, `performance.now()`:
    /// the machine only schedules): `kind` is a [`PollIn`] (an unknown number is ignored). `code`
    /// is the client's error code (Failed).
    #[allow(clippy::too_many_arguments)]
    pub fn feed(
        &mut self,
        now: f64,
        kind: u8,
        hidden: bool,
        status: f64,
        etag: Option<String>,
        body: Option<String>,
        retry_after: Option<String>,
        code: Option<String>,
    ) {
        let status = if (0.0..=999.0).contains(&status) {
            status as u16
        } else {
            0
        };
        let Some(&kind) = PollIn::ALL.get(usize::from(kind).wrapping_sub(1)) else {
            return;
        };
        let input = match kind {
            PollIn::Start => PollInput::Start { hidden },
            PollIn::Timer => return self.machine.handle_timeout(ms(now)),
            PollIn::Visibility => PollInput::Visibility { hidden },
            PollIn::Answered => PollInput::Answered {
                status,
                etag,
                body,
                retry_after,
            },
            PollIn::Failed => {
                let code = code
                    .as_deref()
                    .and_then(ErrorCode::parse)
                    .unwrap_or(ErrorCode::Network);
                PollInput::Failed(SessionError {
                    code,
                    status: (status > 0).then_some(status),
                })
            }
            PollIn::Stop => PollInput::Stop,
        };
        self.machine.handle(ms(now), input);
    }

    /// The next output, a [`PollOp`], or [`PollOp::None`].
    pub fn poll_action(&mut self) -> u8 {
        self.output() as u8
    }

    fn output(&mut self) -> PollOp {
        self.text = None;
        self.status = None;
        match self.machine.poll_action() {
            None => PollOp::None,
            Some(PollOutput::Fetch { if_none_match }) => {
                self.text = if_none_match;
                PollOp::Fetch
            }
            Some(PollOutput::Abort) => PollOp::Abort,
            Some(PollOutput::Update) => PollOp::Update,
            Some(PollOutput::Error(error)) => {
                self.text = Some(error.code.as_str().to_owned());
                self.status = error.status;
                PollOp::Error
            }
            Some(PollOutput::End(end)) => {
                self.text = Some(PollEnd::as_str(end).to_owned());
                PollOp::End
            }
        }
    }

    /// The `If-None-Match` value (Fetch), the error code (Error) or the end reason (End).
    pub fn text(&self) -> Option<&str> {
        self.text.as_deref()
    }

    /// The HTTP status behind the error (Error).
    pub fn status(&self) -> Option<u16> {
        self.status
    }

    /// When to feed [`PollIn::Timer`] (on the clock `now` is given in); NaN: never.
    pub fn poll_timeout(&self) -> f64 {
        self.machine.poll_timeout().map_or(f64::NAN, |t| t as f64)
    }
}

// ---- the wasm exports (`js/consult_core.js` calls them; conventions in `abi.rs`) ----------------

abi::local! {
    static MACHINES: Slab<PollMachine> = const { Slab::new() };
}

/// [`PollMachine::new`]; its handle.
#[unsafe(no_mangle)]
pub extern "C" fn pm_new(interval_ms: f64, seed: f64) -> f64 {
    MACHINES.with(|slab| slab.insert(PollMachine::new(interval_ms, seed)))
}

/// Drops the machine behind `handle`.
#[unsafe(no_mangle)]
pub extern "C" fn pm_free(handle: f64) {
    abi::free(&MACHINES, handle);
}

/// [`PollMachine::feed`]; `etag`, `session_status`, `retry_after` and `code` are in the in
/// buffer.
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub extern "C" fn pm_feed(
    handle: f64,
    now: f64,
    kind: u32,
    hidden: u32,
    status: f64,
    etag: f64,
    body: f64,
    retry_after: f64,
    code: f64,
) {
    let mut strings = abi::Strings::default();
    let etag = strings.next(etag);
    let body = strings.next(body);
    let retry_after = strings.next(retry_after);
    let code = strings.next(code);
    let kind = u8::try_from(kind).unwrap_or(0);
    abi::with(&MACHINES, handle, |m| {
        m.feed(
            now,
            kind,
            hidden != 0,
            status,
            etag,
            body,
            retry_after,
            code,
        );
    });
}

/// [`PollMachine::poll_action`] (0 once there is none, or no machine).
#[unsafe(no_mangle)]
pub extern "C" fn pm_poll(handle: f64) -> u32 {
    abi::with(&MACHINES, handle, |m| u32::from(m.poll_action())).unwrap_or(0)
}

/// [`PollMachine::text`] into the out buffer.
#[unsafe(no_mangle)]
pub extern "C" fn pm_text(handle: f64) -> f64 {
    abi::with(&MACHINES, handle, |m| abi::out(m.text())).unwrap_or(-1.0)
}

/// [`PollMachine::status`]; NaN: none.
#[unsafe(no_mangle)]
pub extern "C" fn pm_status(handle: f64) -> f64 {
    abi::number(abi::with(&MACHINES, handle, |m| m.status()).flatten())
}

/// [`PollMachine::poll_timeout`]; NaN: never.
#[unsafe(no_mangle)]
pub extern "C" fn pm_timeout(handle: f64) -> f64 {
    abi::with(&MACHINES, handle, |m| m.poll_timeout()).unwrap_or(f64::NAN)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn drain(poll: &mut PollMachine) -> Vec<(PollOp, Option<String>)> {
        core::iter::from_fn(|| match poll.output() {
            PollOp::None => None,
            op => Some((op, poll.text().map(String::from))),
        })
        .collect()
    }

    #[test]
    fn a_2xx_body_that_is_not_a_session_is_a_bad_response_and_polling_goes_on() {
        let mut poll = PollMachine::new(1000.0, 1.0);
        poll.feed(0.0, PollIn::Start as u8, false, 0.0, None, None, None, None);
        assert_eq!(drain(&mut poll), vec![(PollOp::Fetch, None)]);
        poll.feed(
            5.0,
            PollIn::Answered as u8,
            false,
            200.0,
            None,
            None,
            None,
            None,
        );
        assert_eq!(poll.output(), PollOp::Error);
        assert_eq!(poll.text(), Some("BAD_RESPONSE"));
        assert!(!poll.poll_timeout().is_nan());
    }

    #[test]
    fn a_lost_sign_in_ends_polling_as_session_expired() {
        let mut poll = PollMachine::new(1000.0, 1.0);
        poll.feed(0.0, PollIn::Start as u8, false, 0.0, None, None, None, None);
        drain(&mut poll);
        let code = Some(String::from("REFRESH_REJECTED"));
        poll.feed(
            5.0,
            PollIn::Failed as u8,
            false,
            401.0,
            None,
            None,
            None,
            code,
        );
        let outputs = drain(&mut poll);
        assert_eq!(
            outputs.last(),
            Some(&(PollOp::End, Some(String::from("sessionExpired"))))
        );
    }
}
