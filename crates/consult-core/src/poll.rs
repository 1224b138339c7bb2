//! The session poll schedule: one request at a time, the next one scheduled when the previous
//! ends, paused while the page is hidden (one immediate poll when it shows again), backing off
//! on errors, stopping on a terminal status or when the session is lost.

use crate::Backoff;

/// A consultation's status as the server names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionStatus {
    /// `scheduled`
    Scheduled,
    /// `waiting`
    Waiting,
    /// `active`
    Active,
    /// `ended` (terminal)
    Ended,
    /// `cancelled` (terminal)
    Cancelled,
    /// Anything else (kept polling: a newer server may add statuses).
    Other,
}

impl SessionStatus {
    /// Reads the server's status string.
    ///
    /// ```
    /// use consult_core::SessionStatus;
    /// assert!(SessionStatus::parse("ended").is_terminal());
    /// assert!(!SessionStatus::parse("active").is_terminal());
    /// ```
    pub fn parse(text: &str) -> Self {
        match text {
            "scheduled" => SessionStatus::Scheduled,
            "waiting" => SessionStatus::Waiting,
            "active" => SessionStatus::Active,
            "ended" => SessionStatus::Ended,
            "cancelled" | "canceled" => SessionStatus::Cancelled,
            _ => SessionStatus::Other,
        }
    }

    /// Whether the session can no longer change.
    pub fn is_terminal(self) -> bool {
        matches!(self, SessionStatus::Ended | SessionStatus::Cancelled)
    }
}

/// How a poll request ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PollResult {
    /// 200 with this status.
    Updated(SessionStatus),
    /// 304: nothing changed.
    NotModified,
    /// Network error, timeout, 5xx, 429…; `Retry-After` if the server sent one.
    TransientError {
        /// Server-requested wait, in milliseconds.
        retry_after_ms: Option<u64>,
    },
    /// The session is lost (token refresh rejected) or the session is gone (404/403).
    Fatal,
}

/// What the driver must do next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PollAction {
    /// Send the request now.
    FetchNow,
    /// Wait this long, then call [`PollSchedule::on_timer`].
    SleepMs(u64),
    /// Do nothing until [`PollSchedule::on_visibility`] says the page is visible.
    Paused,
    /// A request is already in flight: wait for its result.
    AwaitResult,
    /// Polling is over.
    Stopped(StopReason),
}

/// Why polling stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopReason {
    /// The session reached `ended` or `cancelled`.
    Terminal,
    /// The session or the sign-in is lost.
    Fatal,
    /// `stop()` was called.
    Stopped,
}

/// The poll state machine.
#[derive(Debug, Clone)]
pub struct PollSchedule {
    interval_ms: u64,
    backoff: Backoff,
    hidden: bool,
    in_flight: bool,
    stopped: Option<StopReason>,
}

/// The poll interval from an application's raw option: 5 s by default, between 100 ms and a day.
///
/// ```
/// use consult_core::poll::interval_ms;
/// assert_eq!(interval_ms(None), 5_000);
/// assert_eq!(interval_ms(Some(1.0)), 100);
/// assert_eq!(interval_ms(Some(f64::NAN)), 5_000);
/// ```
pub fn interval_ms(option: Option<f64>) -> u64 {
    option.filter(|ms| ms.is_finite()).map_or(5_000, |ms| {
        crate::to_u64(ms.clamp(100.0, MAX_INTERVAL_MS as f64))
    })
}

/// The longest poll interval: a day.
pub const MAX_INTERVAL_MS: u64 = 86_400_000;

impl PollSchedule {
    /// Polls every `interval_ms` (100 ms to a day, as [`interval_ms`] bounds an option); errors
    /// back off from one interval up to `max(interval · 8, 30 s)`.
    pub fn new(interval_ms: u64) -> Self {
        let interval_ms = interval_ms.clamp(100, MAX_INTERVAL_MS);
        Self {
            interval_ms,
            backoff: Backoff::new(interval_ms, interval_ms.saturating_mul(8).max(30_000)),
            hidden: false,
            in_flight: false,
            stopped: None,
        }
    }

    /// The interval in force (ms).
    pub fn interval_ms(&self) -> u64 {
        self.interval_ms
    }

    /// Whether polling is over.
    pub fn is_stopped(&self) -> bool {
        self.stopped.is_some()
    }

    fn next_fetch(&mut self) -> PollAction {
        if let Some(reason) = self.stopped {
            PollAction::Stopped(reason)
        } else if self.in_flight {
            PollAction::AwaitResult
        } else if self.hidden {
            PollAction::Paused
        } else {
            self.in_flight = true;
            PollAction::FetchNow
        }
    }

    /// Starts polling: fetch at once (unless hidden).
    ///
    /// ```
    /// use consult_core::poll::{PollAction, PollResult, PollSchedule, SessionStatus};
    /// let mut poll = PollSchedule::new(5_000);
    /// assert_eq!(poll.start(), PollAction::FetchNow);
    /// assert_eq!(poll.on_result(PollResult::NotModified, 0.5), PollAction::SleepMs(5_000));
    /// assert_eq!(poll.on_timer(), PollAction::FetchNow);
    /// ```
    pub fn start(&mut self) -> PollAction {
        self.next_fetch()
    }

    /// The sleep ended.
    pub fn on_timer(&mut self) -> PollAction {
        self.next_fetch()
    }

    /// The page became hidden or visible. Becoming visible polls at once (if nothing is in
    /// flight); becoming hidden pauses after the current request.
    pub fn on_visibility(&mut self, hidden: bool) -> PollAction {
        let was_hidden = self.hidden;
        self.hidden = hidden;
        if let Some(reason) = self.stopped {
            return PollAction::Stopped(reason);
        }
        match (was_hidden, hidden) {
            (true, false) => self.next_fetch(),
            _ if self.in_flight => PollAction::AwaitResult,
            _ if hidden => PollAction::Paused,
            _ => PollAction::AwaitResult,
        }
    }

    /// The request ended; `random` in `[0, 1)` jitters error backoff.
    pub fn on_result(&mut self, result: PollResult, random: f64) -> PollAction {
        self.in_flight = false;
        if let Some(reason) = self.stopped {
            return PollAction::Stopped(reason);
        }
        match result {
            PollResult::Updated(status) if status.is_terminal() => {
                self.stop_with(StopReason::Terminal)
            }
            PollResult::Fatal => self.stop_with(StopReason::Fatal),
            PollResult::Updated(_) | PollResult::NotModified => {
                self.backoff.reset();
                PollAction::SleepMs(self.interval_ms)
            }
            PollResult::TransientError { retry_after_ms } => {
                // Never poll faster than the interval, even after a failure.
                let delay = self
                    .backoff
                    .next_delay_ms(random, retry_after_ms)
                    .max(self.interval_ms);
                PollAction::SleepMs(delay)
            }
        }
    }

    /// Stops polling (the driver aborts any in-flight request).
    pub fn stop(&mut self) -> PollAction {
        self.stop_with(StopReason::Stopped)
    }

    fn stop_with(&mut self, reason: StopReason) -> PollAction {
        let reason = *self.stopped.get_or_insert(reason);
        PollAction::Stopped(reason)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;
    use proptest::prelude::*;

    #[test]
    fn never_two_requests_in_flight() {
        let mut poll = PollSchedule::new(1_000);
        assert_eq!(poll.start(), PollAction::FetchNow);
        assert_eq!(poll.on_timer(), PollAction::AwaitResult);
        assert_eq!(poll.on_visibility(true), PollAction::AwaitResult);
        assert_eq!(poll.on_visibility(false), PollAction::AwaitResult);
        assert_eq!(
            poll.on_result(PollResult::NotModified, 0.0),
            PollAction::SleepMs(1_000)
        );
    }

    #[test]
    fn hidden_pauses_and_showing_polls_at_once() {
        let mut poll = PollSchedule::new(5_000);
        poll.start();
        poll.on_result(PollResult::NotModified, 0.0);
        assert_eq!(poll.on_visibility(true), PollAction::Paused);
        assert_eq!(poll.on_timer(), PollAction::Paused);
        assert_eq!(poll.on_visibility(false), PollAction::FetchNow);
    }

    #[test]
    fn stops_on_terminal_status_and_on_fatal() {
        let mut poll = PollSchedule::new(5_000);
        poll.start();
        assert_eq!(
            poll.on_result(PollResult::Updated(SessionStatus::Ended), 0.0),
            PollAction::Stopped(StopReason::Terminal)
        );
        assert_eq!(poll.on_timer(), PollAction::Stopped(StopReason::Terminal));
        let mut poll = PollSchedule::new(5_000);
        poll.start();
        assert_eq!(
            poll.on_result(PollResult::Fatal, 0.0),
            PollAction::Stopped(StopReason::Fatal)
        );
    }

    #[test]
    fn a_result_after_stop_stays_stopped() {
        let mut poll = PollSchedule::new(5_000);
        poll.start();
        assert_eq!(poll.stop(), PollAction::Stopped(StopReason::Stopped));
        assert_eq!(
            poll.on_result(PollResult::NotModified, 0.0),
            PollAction::Stopped(StopReason::Stopped)
        );
    }

    #[test]
    fn errors_back_off_and_success_resets() {
        let mut poll = PollSchedule::new(1_000);
        poll.start();
        let delays: Vec<PollAction> = (0..4)
            .map(|_| {
                let action = poll.on_result(
                    PollResult::TransientError {
                        retry_after_ms: None,
                    },
                    0.999,
                );
                poll.on_timer();
                action
            })
            .collect();
        assert_eq!(
            delays,
            [
                PollAction::SleepMs(1_000),
                PollAction::SleepMs(1_998),
                PollAction::SleepMs(3_996),
                PollAction::SleepMs(7_992)
            ]
        );
        assert_eq!(
            poll.on_result(PollResult::NotModified, 0.999),
            PollAction::SleepMs(1_000)
        );
        poll.on_timer();
        assert_eq!(
            poll.on_result(
                PollResult::TransientError {
                    retry_after_ms: Some(20_000)
                },
                0.0
            ),
            PollAction::SleepMs(20_000)
        );
    }

    proptest! {
        /// Whatever happens, FetchNow is never returned while a request is in flight, and
        /// nothing but Stopped comes after a stop.
        #[test]
        fn invariants_hold_for_any_event_sequence(events in proptest::collection::vec(0u8..7, 0..60)) {
            let mut poll = PollSchedule::new(1_000);
            let mut in_flight = false;
            let mut stopped = false;
            for event in events {
                let action = match event {
                    0 => poll.start(),
                    1 => poll.on_timer(),
                    2 => poll.on_visibility(true),
                    3 => poll.on_visibility(false),
                    4 if in_flight => { in_flight = false; poll.on_result(PollResult::NotModified, 0.5) }
                    5 if in_flight => { in_flight = false; poll.on_result(PollResult::TransientError { retry_after_ms: None }, 0.5) }
                    6 => poll.stop(),
                    _ => PollAction::AwaitResult,
                };
                if stopped {
                    prop_assert!(matches!(action, PollAction::Stopped(_) | PollAction::AwaitResult));
                }
                if action == PollAction::FetchNow {
                    prop_assert!(!in_flight, "second request while one is in flight");
                    in_flight = true;
                }
                if matches!(action, PollAction::Stopped(_)) { stopped = true; }
            }
        }
    }
}
