//! Session polling, driven by [`consult_core::PollSchedule`]: one request at a time with
//! `If-None-Match`, paused while the page is hidden, backing off on errors, stopping on a
//! terminal status, on session loss, or on [`SessionPoller::stop`] (which aborts the request).

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use consult_core::poll::{PollResult, StopReason};
use consult_core::{ErrorCode, Outcome, PollAction, PollSchedule, SessionStatus, classify_status};
use wasm_bindgen::JsCast;
use wasm_bindgen::JsValue;
use wasm_bindgen::closure::Closure;

use crate::client::{ConsultClient, SESSIONS_PATH, encode_segment, http_error};
use crate::env::{page_hidden, random, sleep_ms};
use crate::flight::{Notify, first_of};
use crate::{ClientError, http};

/// Why polling ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PollEnd {
    /// The session reached `ended`.
    Ended,
    /// The session reached `cancelled`.
    Cancelled,
    /// The sign-in is over (refresh refused, or no token).
    SessionExpired,
    /// `404`: no such session.
    NotFound,
    /// `403`: not a participant.
    Forbidden,
    /// [`SessionPoller::stop`] was called.
    Stopped,
}

impl PollEnd {
    /// The JS name (`ended`, `cancelled`, `sessionExpired`, `notFound`, `forbidden`, `stopped`).
    pub fn as_str(self) -> &'static str {
        match self {
            PollEnd::Ended => "ended",
            PollEnd::Cancelled => "cancelled",
            PollEnd::SessionExpired => "sessionExpired",
            PollEnd::NotFound => "notFound",
            PollEnd::Forbidden => "forbidden",
            PollEnd::Stopped => "stopped",
        }
    }
}

/// Callbacks and settings of a poll.
pub struct PollOptions {
    /// Time between the end of one poll and the start of the next (default 5 000 ms).
    pub interval_ms: u32,
    /// A new version of the session (not called on 304).
    pub on_update: Rc<dyn Fn(JsValue)>,
    /// A poll failed; polling goes on with backoff.
    pub on_error: Option<Rc<dyn Fn(ClientError)>>,
    /// Polling ended.
    pub on_end: Option<Rc<dyn Fn(PollEnd)>>,
}

struct Shared {
    schedule: RefCell<PollSchedule>,
    wake: Notify,
    pending: Cell<Option<PollAction>>,
    cancel: RefCell<Option<web_sys::AbortController>>,
    end: Cell<Option<PollEnd>>,
}

/// A running poll. Dropping it does not stop it: call [`SessionPoller::stop`].
#[derive(Clone)]
pub struct SessionPoller {
    shared: Rc<Shared>,
}

impl SessionPoller {
    /// Stops polling and aborts the request in flight, if any. `on_end(Stopped)` follows.
    pub fn stop(&self) {
        let action = self.shared.schedule.borrow_mut().stop();
        if let Some(controller) = self.shared.cancel.borrow_mut().take() {
            controller.abort();
        }
        self.shared.pending.set(Some(action));
        self.shared.wake.notify();
    }

    /// Whether polling has ended.
    pub fn is_stopped(&self) -> bool {
        self.shared.schedule.borrow().is_stopped()
    }
}

impl ConsultClient {
    /// Polls `GET /api/video/sessions/{id}` until the session ends, the sign-in is lost, or
    /// [`SessionPoller::stop`].
    pub fn poll_session(&self, session_id: &str, options: PollOptions) -> SessionPoller {
        let shared = Rc::new(Shared {
            schedule: RefCell::new(PollSchedule::new(u64::from(options.interval_ms))),
            wake: Notify::default(),
            pending: Cell::new(None),
            cancel: RefCell::new(None),
            end: Cell::new(None),
        });
        if page_hidden() {
            shared.schedule.borrow_mut().on_visibility(true);
        }
        let poller = SessionPoller {
            shared: shared.clone(),
        };
        let visibility = watch_visibility(&shared);
        let client = self.clone();
        let mut path = String::from(SESSIONS_PATH);
        path.push_str(&encode_segment(session_id));
        crate::env::spawn(async move {
            run(client, path, shared, options).await;
            drop(visibility);
        });
        poller
    }
}

async fn run(client: ConsultClient, path: String, shared: Rc<Shared>, options: PollOptions) {
    let mut etag: Option<String> = None;
    let mut action = shared.schedule.borrow_mut().start();
    loop {
        action = match action {
            PollAction::FetchNow => {
                let result = poll_once(&client, &path, &shared, &mut etag, &options).await;
                shared.schedule.borrow_mut().on_result(result, random())
            }
            PollAction::SleepMs(ms) => {
                let woken = !first_of(sleep_ms(ms as i64), shared.wake.notified()).await;
                match shared.pending.take() {
                    Some(next) if woken => next,
                    _ => shared.schedule.borrow_mut().on_timer(),
                }
            }
            PollAction::Paused | PollAction::AwaitResult => {
                shared.wake.notified().await;
                shared
                    .pending
                    .take()
                    .unwrap_or_else(|| shared.schedule.borrow_mut().on_timer())
            }
            PollAction::Stopped(reason) => {
                let end = shared.end.get().unwrap_or(match reason {
                    StopReason::Stopped => PollEnd::Stopped,
                    StopReason::Terminal => PollEnd::Ended,
                    StopReason::Fatal => PollEnd::SessionExpired,
                });
                if let Some(on_end) = &options.on_end {
                    on_end(end);
                }
                return;
            }
        };
    }
}

async fn poll_once(
    client: &ConsultClient,
    path: &str,
    shared: &Rc<Shared>,
    etag: &mut Option<String>,
    options: &PollOptions,
) -> PollResult {
    let controller = web_sys::AbortController::new().ok();
    *shared.cancel.borrow_mut() = controller.clone();
    let headers = etag
        .iter()
        .map(|tag| ("If-None-Match", tag.clone()))
        .collect();
    let signal = controller.as_ref().map(|c| c.signal());
    let outcome = client
        .inner
        .clone()
        .authorized(path, None, headers, signal)
        .await;
    shared.cancel.borrow_mut().take();
    let response = match outcome {
        Ok(response) => response,
        Err(error) => return on_failure(error, None, shared, options),
    };
    let status = response.status();
    match (status, classify_status(status)) {
        (304, _) => PollResult::NotModified,
        (_, Outcome::Success) => match http::json(&response).await {
            Ok(session) => {
                *etag = http::header(&response, "etag");
                let status_text = js_sys::Reflect::get(&session, &JsValue::from_str("status"))
                    .ok()
                    .and_then(|s| s.as_string())
                    .unwrap_or_default();
                let status = SessionStatus::parse(&status_text);
                match status {
                    SessionStatus::Ended => shared.end.set(Some(PollEnd::Ended)),
                    SessionStatus::Cancelled => shared.end.set(Some(PollEnd::Cancelled)),
                    _ => {}
                }
                (options.on_update)(session);
                PollResult::Updated(status)
            }
            Err(error) => on_failure(error, None, shared, options),
        },
        (404, _) => {
            shared.end.set(Some(PollEnd::NotFound));
            PollResult::Fatal
        }
        (403, _) => {
            shared.end.set(Some(PollEnd::Forbidden));
            PollResult::Fatal
        }
        _ => {
            let retry_after = http::header(&response, "retry-after")
                .and_then(|v| consult_core::backoff::retry_after_ms(&v));
            on_failure(http_error(&response), retry_after, shared, options)
        }
    }
}

fn on_failure(
    error: ClientError,
    retry_after_ms: Option<u64>,
    shared: &Rc<Shared>,
    options: &PollOptions,
) -> PollResult {
    match error.code {
        ErrorCode::Aborted => PollResult::Fatal,
        ErrorCode::RefreshRejected | ErrorCode::NoToken => {
            shared.end.set(Some(PollEnd::SessionExpired));
            if let Some(on_error) = &options.on_error {
                on_error(error);
            }
            PollResult::Fatal
        }
        _ => {
            if let Some(on_error) = &options.on_error {
                on_error(error);
            }
            PollResult::TransientError { retry_after_ms }
        }
    }
}

/// Feeds `visibilitychange` to the schedule while the poll runs (removed when dropped).
struct VisibilityWatch {
    target: Option<web_sys::EventTarget>,
    closure: Closure<dyn FnMut()>,
}

impl Drop for VisibilityWatch {
    fn drop(&mut self) {
        if let Some(target) = &self.target {
            let _ = target.remove_event_listener_with_callback(
                "visibilitychange",
                self.closure.as_ref().unchecked_ref(),
            );
        }
    }
}

fn watch_visibility(shared: &Rc<Shared>) -> VisibilityWatch {
    let weak = Rc::downgrade(shared);
    let closure = Closure::<dyn FnMut()>::new(move || {
        let Some(shared) = weak.upgrade() else { return };
        let action = shared.schedule.borrow_mut().on_visibility(page_hidden());
        if matches!(action, PollAction::FetchNow | PollAction::Stopped(_)) {
            shared.pending.set(Some(action));
            shared.wake.notify();
        }
    });
    let target: Option<web_sys::EventTarget> = crate::env::window()
        .and_then(|w| w.document())
        .map(Into::into);
    if let Some(target) = &target {
        let _ = target
            .add_event_listener_with_callback("visibilitychange", closure.as_ref().unchecked_ref());
    }
    VisibilityWatch { target, closure }
}
