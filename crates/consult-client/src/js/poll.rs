//! The session poll schedule ([`consult_core::PollSchedule`]) for the JS poller.

use consult_core::poll::{PollResult, StopReason};
use consult_core::{PollAction, SessionStatus};
use wasm_bindgen::prelude::*;

use super::{ms, ms_u64};

/// A session status as a number: 0 scheduled, 1 waiting, 2 active, 3 ended, 4 cancelled,
/// 5 anything else.
#[wasm_bindgen(js_name = sessionStatus)]
pub fn session_status(text: &str) -> u8 {
    match SessionStatus::parse(text) {
        SessionStatus::Scheduled => 0,
        SessionStatus::Waiting => 1,
        SessionStatus::Active => 2,
        SessionStatus::Ended => 3,
        SessionStatus::Cancelled => 4,
        SessionStatus::Other => 5,
    }
}

fn status_of(code: u8) -> SessionStatus {
    match code {
        0 => SessionStatus::Scheduled,
        1 => SessionStatus::Waiting,
        2 => SessionStatus::Active,
        3 => SessionStatus::Ended,
        4 => SessionStatus::Cancelled,
        _ => SessionStatus::Other,
    }
}

/// The poll state machine. Every method returns the next action as a number: `>= 0` sleep that
/// many ms, `-1` fetch now, `-2` paused (wait for the page to be visible), `-3` wait for the
/// request in flight, `-4` stopped on a terminal status, `-5` stopped on a fatal error, `-6`
/// stopped by `stop()`.
///
/// ```js
/// const schedule = new PollSchedule(5000);
/// schedule.start(); // -1: fetch now
/// ```
#[wasm_bindgen]
pub struct PollSchedule(consult_core::PollSchedule);

fn action(action: PollAction) -> f64 {
    match action {
        PollAction::SleepMs(delay) => delay as f64,
        PollAction::FetchNow => -1.0,
        PollAction::Paused => -2.0,
        PollAction::AwaitResult => -3.0,
        PollAction::Stopped(StopReason::Terminal) => -4.0,
        PollAction::Stopped(StopReason::Fatal) => -5.0,
        PollAction::Stopped(StopReason::Stopped) => -6.0,
    }
}

#[wasm_bindgen]
impl PollSchedule {
    /// A schedule polling every `interval_ms` (between the end of one request and the next).
    #[wasm_bindgen(constructor)]
    pub fn new(interval_ms: f64) -> PollSchedule {
        PollSchedule(consult_core::PollSchedule::new(ms_u64(interval_ms)))
    }

    /// The first action.
    pub fn start(&mut self) -> f64 {
        action(self.0.start())
    }

    /// The sleep ended.
    #[wasm_bindgen(js_name = onTimer)]
    pub fn on_timer(&mut self) -> f64 {
        action(self.0.on_timer())
    }

    /// The page was hidden or shown.
    #[wasm_bindgen(js_name = onVisibility)]
    pub fn on_visibility(&mut self, hidden: bool) -> f64 {
        action(self.0.on_visibility(hidden))
    }

    /// A 200 with session status `status` (a [`session_status`] number).
    #[wasm_bindgen(js_name = onUpdated)]
    pub fn on_updated(&mut self, status: u8, random: f64) -> f64 {
        action(
            self.0
                .on_result(PollResult::Updated(status_of(status)), random),
        )
    }

    /// A 304.
    #[wasm_bindgen(js_name = onNotModified)]
    pub fn on_not_modified(&mut self, random: f64) -> f64 {
        action(self.0.on_result(PollResult::NotModified, random))
    }

    /// A failure worth retrying, with the answer's `Retry-After` (ms) if any.
    #[wasm_bindgen(js_name = onTransient)]
    pub fn on_transient(&mut self, retry_after_ms: Option<f64>, random: f64) -> f64 {
        let retry_after_ms = retry_after_ms.map(|delay| ms(delay).max(0) as u64);
        action(
            self.0
                .on_result(PollResult::TransientError { retry_after_ms }, random),
        )
    }

    /// A failure that ends polling (404, 403, the sign-in lost, cancelled).
    #[wasm_bindgen(js_name = onFatal)]
    pub fn on_fatal(&mut self) -> f64 {
        action(self.0.on_result(PollResult::Fatal, 0.0))
    }

    /// `stop()` was called.
    pub fn stop(&mut self) -> f64 {
        action(self.0.stop())
    }

    /// Whether polling has ended.
    #[wasm_bindgen(getter)]
    pub fn stopped(&self) -> bool {
        self.0.is_stopped()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_schedule_fetches_sleeps_and_stops_on_a_terminal_status() {
        let mut schedule = PollSchedule::new(5000.0);
        assert_eq!(schedule.start(), -1.0);
        assert_eq!(schedule.on_timer(), -3.0, "a request is in flight");
        assert_eq!(schedule.on_not_modified(0.5), 5000.0);
        assert_eq!(schedule.on_timer(), -1.0);
        assert!(schedule.on_transient(Some(9000.0), 0.5) >= 9000.0);
        assert_eq!(schedule.on_timer(), -1.0);
        assert_eq!(schedule.on_updated(session_status("ended"), 0.5), -4.0);
        assert!(schedule.stopped());
    }

    #[test]
    fn statuses_read_as_numbers_and_stop_is_reported() {
        let codes =
            ["scheduled", "waiting", "active", "ended", "cancelled", "?"].map(session_status);
        assert_eq!(codes, [0, 1, 2, 3, 4, 5]);
        let mut schedule = PollSchedule::new(1000.0);
        schedule.start();
        assert_eq!(schedule.stop(), -6.0);
        assert_eq!(schedule.on_fatal(), -6.0, "stopped stays stopped");
    }
}
