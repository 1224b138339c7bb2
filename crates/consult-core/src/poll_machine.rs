//! The session poller as a machine: [`PollSchedule`] decides *when* to poll; this machine also
//! decides what each answer *means* — a new session to report, nothing new (304, the `ETag`
//! kept for `If-None-Match`), an end (a terminal status, 404, 403, the sign-in lost), or an
//! error to report and back off from — so a driver only sends requests and calls back.
//!
//! ```
//! use consult_core::poll_machine::{PollEnd, PollInput, PollMachine, PollOutput};
//! let mut poll = PollMachine::new(5_000, 7);
//! poll.handle(0, PollInput::Start { hidden: false });
//! assert_eq!(poll.poll_action(), Some(PollOutput::Fetch { if_none_match: None }));
//! let body = r#"{"session_id":"s1","room_id":"room-s1","status":"ended"}"#;
//! poll.handle(40, PollInput::Answered {
//!     status: 200, etag: Some("\"v1\"".into()), body: Some(body.into()), retry_after: None,
//! });
//! assert_eq!(poll.poll_action(), Some(PollOutput::Update));
//! assert_eq!(poll.poll_action(), Some(PollOutput::End(PollEnd::Ended)));
//! ```

use crate::ErrorCode;
use crate::authorised;
use crate::classify::{Endpoint, Outcome, read_status};
use crate::poll::{PollAction, PollResult, PollSchedule, SessionStatus, StopReason};
use crate::rng::Rng;
use crate::session::SessionError;
use alloc::{string::String, vec::Vec};

/// What happened to the poller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PollInput {
    /// Start polling (`hidden`: the page is hidden now).
    Start {
        /// Whether the page is hidden.
        hidden: bool,
    },
    /// The page became hidden or visible.
    Visibility {
        /// Whether the page is hidden now.
        hidden: bool,
    },
    /// The session request was answered.
    Answered {
        /// HTTP status.
        status: u16,
        /// The `ETag` header.
        etag: Option<String>,
        /// The body as text (`None`: it could not be read); what it holds is core's to read
        /// ([`authorised::session_answer`](crate::authorised::session_answer)).
        body: Option<String>,
        /// The `Retry-After` header.
        retry_after: Option<String>,
    },
    /// The request failed before any answer (the client's error code).
    Failed(SessionError),
    /// The application stops polling.
    Stop,
    /// The timer fired: what [`PollMachine::handle_timeout`] feeds.
    Timer,
}

/// Why polling ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PollEnd {
    /// The session ended.
    Ended,
    /// The session was cancelled.
    Cancelled,
    /// No such session (404).
    NotFound,
    /// Not a participant (403).
    Forbidden,
    /// The sign-in is over (no token, or the refresh was refused).
    SessionExpired,
    /// [`PollInput::Stop`].
    Stopped,
}

impl PollEnd {
    /// The name the JS API uses.
    pub fn as_str(self) -> &'static str {
        match self {
            PollEnd::Ended => "ended",
            PollEnd::Cancelled => "cancelled",
            PollEnd::NotFound => "notFound",
            PollEnd::Forbidden => "forbidden",
            PollEnd::SessionExpired => "sessionExpired",
            PollEnd::Stopped => "stopped",
        }
    }
}

/// What the driver must do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PollOutput {
    /// Send the session request (with `If-None-Match` when given).
    Fetch {
        /// The `ETag` of the last session seen.
        if_none_match: Option<String>,
    },
    /// Abort the request in flight.
    Abort,
    /// Hand the session just received to the application (`onUpdate`).
    Update,
    /// Report this error to the application (`onError`); polling goes on.
    Error(SessionError),
    /// Polling is over (`onEnd`); nothing follows.
    End(PollEnd),
}

/// The session poller. See the [module documentation](self).
#[derive(Debug, Clone)]
pub struct PollMachine {
    schedule: PollSchedule,
    rng: Rng,
    etag: Option<String>,
    in_flight: bool,
    wake_at: Option<i64>,
    ended: bool,
    /// Why polling will end, decided by the answer that ends it.
    end: Option<PollEnd>,
    /// In order; drained from the front. A `Vec` (a few at a time) is smaller code than a
    /// `VecDeque`.
    outputs: Vec<PollOutput>,
}

impl PollMachine {
    /// A poller every `interval_ms` (at least 100), jitter seeded with `seed`.
    pub fn new(interval_ms: u64, seed: u64) -> Self {
        Self {
            schedule: PollSchedule::new(interval_ms),
            rng: Rng::new(seed),
            etag: None,
            in_flight: false,
            wake_at: None,
            ended: false,
            end: None,
            outputs: Vec::new(),
        }
    }

    /// The next output for the driver.
    pub fn poll_action(&mut self) -> Option<PollOutput> {
        crate::pop_front(&mut self.outputs)
    }

    /// When to call [`PollMachine::handle_timeout`], if ever.
    pub fn poll_timeout(&self) -> Option<i64> {
        self.wake_at
    }

    /// The interval in force (ms).
    pub fn interval_ms(&self) -> u64 {
        self.schedule.interval_ms()
    }

    /// Whether polling is over.
    pub fn is_ended(&self) -> bool {
        self.ended
    }

    /// The timer set to [`PollMachine::poll_timeout`] fired (one that fires early, or a stale
    /// one, changes nothing).
    pub fn handle_timeout(&mut self, now: i64) {
        self.handle(now, PollInput::Timer);
    }

    /// Feeds one input at time `now`.
    pub fn handle(&mut self, now: i64, input: PollInput) {
        if self.ended {
            return;
        }
        let action = match input {
            PollInput::Start { hidden } => {
                if hidden {
                    self.schedule.on_visibility(true);
                }
                self.schedule.start()
            }
            // A timer that fires early (or a stale one) changes nothing.
            PollInput::Timer if self.wake_at.is_some_and(|at| now < at) => return,
            PollInput::Timer => {
                self.wake_at = None;
                self.schedule.on_timer()
            }
            PollInput::Visibility { hidden } => self.schedule.on_visibility(hidden),
            PollInput::Stop => {
                if self.in_flight {
                    self.outputs.push(PollOutput::Abort);
                }
                self.end.get_or_insert(PollEnd::Stopped);
                self.schedule.stop()
            }
            PollInput::Answered { .. } | PollInput::Failed(_) if !self.in_flight => {
                return;
            }
            PollInput::Answered {
                status,
                etag,
                body,
                retry_after,
            } => self.answered(status, etag, body, retry_after),
            PollInput::Failed(error) => {
                self.in_flight = false;
                self.failed(error, None)
            }
        };
        self.follow(now, action);
    }

    fn answered(
        &mut self,
        status: u16,
        etag: Option<String>,
        body: Option<String>,
        retry_after: Option<String>,
    ) -> PollAction {
        self.in_flight = false;
        let random = self.rng.next_f64();
        match read_status(Endpoint::Poll, status) {
            Outcome::NotModified => self.schedule.on_result(PollResult::NotModified, random),
            Outcome::Success => {
                let session_status = match authorised::session_answer(status, body.as_deref()) {
                    Ok(session_status) => session_status,
                    Err(unreadable) => return self.failed(unreadable, None),
                };
                if etag.is_some() {
                    self.etag = etag;
                }
                let session = SessionStatus::parse(&session_status);
                // Ended needs no note: a terminal stop without one reads as Ended.
                if session == SessionStatus::Cancelled {
                    self.end = Some(PollEnd::Cancelled);
                }
                self.outputs.push(PollOutput::Update);
                self.schedule
                    .on_result(PollResult::Updated(session), random)
            }
            Outcome::NotFound => self.fatal(PollEnd::NotFound),
            Outcome::Forbidden => self.fatal(PollEnd::Forbidden),
            // Transient or failed (a 401 after its replay, too): reported, and polling goes on
            // after a backoff; the error's `retryable` says which.
            _ => {
                let retry_after = retry_after
                    .as_deref()
                    .and_then(crate::backoff::retry_after_ms);
                self.failed(
                    SessionError::with_status(ErrorCode::Http, status),
                    retry_after,
                )
            }
        }
    }

    fn fatal(&mut self, end: PollEnd) -> PollAction {
        self.end = Some(end);
        self.schedule.on_result(PollResult::Fatal, 0.0)
    }

    fn failed(&mut self, error: SessionError, retry_after_ms: Option<u64>) -> PollAction {
        match error.code {
            // Cancelled: only a stop does that, and it has already ended polling.
            ErrorCode::Aborted => self.fatal(PollEnd::Stopped),
            ErrorCode::RefreshRejected | ErrorCode::NoToken => {
                self.outputs.push(PollOutput::Error(error));
                self.fatal(PollEnd::SessionExpired)
            }
            _ => {
                self.outputs.push(PollOutput::Error(error));
                let random = self.rng.next_f64();
                self.schedule
                    .on_result(PollResult::TransientError { retry_after_ms }, random)
            }
        }
    }

    /// Carries out what the schedule said.
    fn follow(&mut self, now: i64, action: PollAction) {
        match action {
            PollAction::FetchNow => {
                self.in_flight = true;
                self.wake_at = None;
                self.outputs.push(PollOutput::Fetch {
                    if_none_match: self.etag.clone(),
                });
            }
            PollAction::SleepMs(delay) => {
                let delay = i64::try_from(delay).unwrap_or(i64::MAX);
                self.wake_at = Some(now.saturating_add(delay));
            }
            PollAction::Paused => self.wake_at = None,
            PollAction::AwaitResult => {}
            PollAction::Stopped(reason) => {
                let end = self.end.unwrap_or(match reason {
                    StopReason::Terminal => PollEnd::Ended,
                    StopReason::Fatal => PollEnd::SessionExpired,
                    StopReason::Stopped => PollEnd::Stopped,
                });
                self.ended = true;
                self.wake_at = None;
                self.outputs.push(PollOutput::End(end));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::{borrow::ToOwned, vec};
    use proptest::prelude::*;

    fn drain(poll: &mut PollMachine) -> Vec<PollOutput> {
        core::iter::from_fn(|| poll.poll_action()).collect()
    }

    fn answer(status: u16, session: Option<&str>) -> PollInput {
        let body =
            session.map(|s| alloc::format!(r#"{{"session_id":"s","room_id":"r","status":"{s}"}}"#));
        PollInput::Answered {
            status,
            etag: Some(String::from("\"v2\"")),
            body,
            retry_after: None,
        }
    }

    fn started() -> PollMachine {
        let mut poll = PollMachine::new(1_000, 1);
        poll.handle(0, PollInput::Start { hidden: false });
        drain(&mut poll);
        poll
    }

    #[test]
    fn an_update_keeps_the_etag_and_polls_again_after_the_interval() {
        let mut poll = started();
        poll.handle(10, answer(200, Some("active")));
        assert_eq!(drain(&mut poll), vec![PollOutput::Update]);
        assert_eq!(poll.poll_timeout(), Some(1_010));
        poll.handle_timeout(1_010);
        assert_eq!(
            drain(&mut poll),
            vec![PollOutput::Fetch {
                if_none_match: Some(String::from("\"v2\""))
            }]
        );
        poll.handle(1_020, answer(304, None));
        assert_eq!(drain(&mut poll), vec![]);
    }

    #[test]
    fn each_end_has_its_reason() {
        for (input, end) in [
            (answer(200, Some("ended")), PollEnd::Ended),
            (answer(200, Some("cancelled")), PollEnd::Cancelled),
            (answer(404, None), PollEnd::NotFound),
            (answer(403, None), PollEnd::Forbidden),
            (
                PollInput::Failed(SessionError::new(ErrorCode::RefreshRejected)),
                PollEnd::SessionExpired,
            ),
            (PollInput::Stop, PollEnd::Stopped),
        ] {
            let mut poll = started();
            poll.handle(10, input.clone());
            let outputs = drain(&mut poll);
            assert_eq!(outputs.last(), Some(&PollOutput::End(end)), "{input:?}");
            assert!(poll.is_ended());
            poll.handle_timeout(20);
            assert_eq!(drain(&mut poll), vec![], "nothing after the end");
        }
    }

    #[test]
    fn a_2xx_that_is_not_a_session_is_a_bad_response_and_polling_goes_on() {
        for body in [None, Some("<html>"), Some(r#"{"status":5}"#)] {
            let mut poll = started();
            let answer = PollInput::Answered {
                status: 200,
                etag: Some(String::from("\"v9\"")),
                body: body.map(str::to_owned),
                retry_after: None,
            };
            poll.handle(0, answer);
            let bad = SessionError::with_status(ErrorCode::BadResponse, 200);
            assert_eq!(drain(&mut poll), vec![PollOutput::Error(bad)], "{body:?}");
            assert!(!poll.is_ended());
            let at = poll.poll_timeout().unwrap_or(i64::MAX);
            poll.handle_timeout(at);
            let refetch = PollOutput::Fetch {
                if_none_match: None,
            };
            assert_eq!(
                drain(&mut poll),
                vec![refetch],
                "the ETag of a bad answer is not kept"
            );
        }
    }

    #[test]
    fn errors_are_reported_and_backed_off_honouring_retry_after() {
        let mut poll = started();
        poll.handle(
            0,
            PollInput::Answered {
                status: 503,
                etag: None,
                body: None,
                retry_after: Some(String::from("7")),
            },
        );
        assert_eq!(
            drain(&mut poll),
            vec![PollOutput::Error(SessionError::with_status(
                ErrorCode::Http,
                503
            ))]
        );
        assert!(poll.poll_timeout().is_some_and(|t| t >= 7_000));
    }

    #[test]
    fn an_early_timer_changes_nothing() {
        let mut poll = started();
        poll.handle(10, answer(304, None));
        poll.handle_timeout(500);
        assert_eq!(drain(&mut poll), vec![]);
        poll.handle_timeout(1_010);
        assert_eq!(drain(&mut poll).len(), 1, "the fetch, on time");
    }

    #[test]
    fn stop_aborts_the_request_in_flight() {
        let mut poll = started();
        poll.handle(5, PollInput::Stop);
        assert_eq!(
            drain(&mut poll),
            vec![PollOutput::Abort, PollOutput::End(PollEnd::Stopped)]
        );
        // The aborted request's failure comes in later: ignored.
        poll.handle(6, PollInput::Failed(SessionError::new(ErrorCode::Aborted)));
        assert_eq!(drain(&mut poll), vec![]);
    }

    proptest! {
        /// Whatever happens, never two requests at once, and one End at most.
        #[test]
        fn never_overlaps_and_ends_once(inputs in proptest::collection::vec((0u8..7, any::<u16>()), 0..60)) {
            let mut poll = PollMachine::new(1_000, 3);
            poll.handle(0, PollInput::Start { hidden: false });
            let (mut in_flight, mut ends) = (1i32, 0);
            prop_assert_eq!(drain(&mut poll), vec![PollOutput::Fetch { if_none_match: None }]);
            for (now, (kind, status)) in inputs.into_iter().enumerate() {
                let input = match kind {
                    0 => None,
                    1 => Some(PollInput::Visibility { hidden: status % 2 == 0 }),
                    2 => Some(answer(status, Some("active"))),
                    3 => Some(PollInput::Answered { status, etag: None, body: None, retry_after: None }),
                    4 => Some(PollInput::Failed(SessionError::new(ErrorCode::Network))),
                    5 => Some(answer(304, None)),
                    _ => Some(PollInput::Stop),
                };
                let answering = matches!(kind, 2..=5);
                if answering && in_flight > 0 { in_flight -= 1; }
                let now = now as i64 * 1_000_000;
                match input {
                    Some(input) => poll.handle(now, input),
                    None => poll.handle_timeout(now),
                }
                for output in core::iter::from_fn(|| poll.poll_action()) {
                    match output {
                        PollOutput::Fetch { .. } => in_flight += 1,
                        PollOutput::Abort => in_flight = 0,
                        PollOutput::End(_) => ends += 1,
                        _ => {}
                    }
                    prop_assert!(in_flight <= 1);
                }
            }
            prop_assert!(ends <= 1);
        }
    }
}
