//! Session polling: an executor of [`PollMachine`], which decides when to poll and what each
//! answer means. This driver sends the request (`If-None-Match` when asked), reads the answer,
//! keeps one timer, and calls the application back. Stopping — [`SessionPoller::stop`], or
//! dropping the last handle — aborts the request in flight.

use std::cell::RefCell;
use std::rc::{Rc, Weak};

pub use consult_core::poll_machine::PollEnd;
use consult_core::poll_machine::{PollInput, PollMachine, PollOutput};
use consult_core::session::SessionError;
use consult_core::{poll, wire};

use crate::client::session_path;
use crate::env::{EventListener, mono_ms, mono_timer_at, page_hidden, spawn};
use crate::pump::Pump;
use crate::{ClientError, ConsultClient, SessionDetails, http};

/// Callbacks and settings of a poll.
pub struct PollOptions {
    /// Time between the end of one poll and the start of the next, ms (100 ms to a day).
    pub interval_ms: u32,
    /// A new version of the session (not called when unchanged).
    pub on_update: Rc<dyn Fn(SessionDetails)>,
    /// A poll failed; polling goes on with backoff.
    pub on_error: Option<Rc<dyn Fn(ClientError)>>,
    /// Polling ended.
    pub on_end: Option<Rc<dyn Fn(PollEnd)>>,
}

struct Shared {
    client: ConsultClient,
    path: String,
    options: PollOptions,
    weak: Weak<Shared>,
    machine: Pump<PollMachine>,
    /// The body of the last answer, read as a session on [`PollOutput::Update`].
    latest: RefCell<Option<String>>,
    request: RefCell<Option<web_sys::AbortController>>,
    timer: RefCell<Option<gloo_timers::callback::Timeout>>,
}

/// Stops the poll when the last [`SessionPoller`] clone goes.
struct Handle {
    shared: Rc<Shared>,
    _visibility: Option<EventListener>,
}

impl Drop for Handle {
    fn drop(&mut self) {
        feed(&self.shared, PollInput::Stop);
    }
}

/// A running poll. Cheap to clone; dropping the last clone stops it.
#[derive(Clone)]
pub struct SessionPoller {
    handle: Rc<Handle>,
}

impl PollOptions {
    /// The interval as core settles it ([`poll::interval_ms`]: 100 ms to a day), as the
    /// JavaScript driver's is.
    pub(crate) fn settled_interval_ms(&self) -> u64 {
        poll::interval_ms(Some(f64::from(self.interval_ms)))
    }
}

impl SessionPoller {
    /// Stops polling and aborts the request in flight, if any; `on_end(Stopped)` follows.
    pub fn stop(&self) {
        feed(&self.handle.shared, PollInput::Stop);
    }

    /// Whether polling has ended.
    pub fn is_stopped(&self) -> bool {
        self.handle.shared.machine.machine().is_ended()
    }
}

impl ConsultClient {
    /// Polls `GET /api/video/sessions/{id}` until the session ends, the sign-in is lost, or the
    /// poller is stopped or dropped.
    ///
    /// ```no_run
    /// # fn demo(client: &consult_client::ConsultClient) {
    /// use std::rc::Rc;
    /// let poller = client.poll_session("session-1", consult_client::PollOptions {
    ///     interval_ms: 5_000,
    ///     on_update: Rc::new(|session| println!("{}", session.status_text)),
    ///     on_error: None,
    ///     on_end: None,
    /// });
    /// drop(poller); // stops polling
    /// # }
    /// ```
    pub fn poll_session(&self, session_id: &str, options: PollOptions) -> SessionPoller {
        let seed = crate::env::seed();
        let machine = PollMachine::new(options.settled_interval_ms(), seed);
        let shared = Rc::new_cyclic(|weak| Shared {
            client: self.clone(),
            path: session_path(session_id),
            options,
            weak: weak.clone(),
            machine: Pump::new(machine),
            latest: RefCell::new(None),
            request: RefCell::new(None),
            timer: RefCell::new(None),
        });
        let weak = shared.weak.clone();
        let document = crate::env::window().and_then(|w| w.document());
        let visibility = document.map(|document| {
            EventListener::new(&document, "visibilitychange", move |_| {
                if let Some(shared) = weak.upgrade() {
                    feed(
                        &shared,
                        PollInput::Visibility {
                            hidden: page_hidden(),
                        },
                    );
                }
            })
        });
        let hidden = page_hidden();
        feed(&shared, PollInput::Start { hidden });
        let handle = Handle {
            shared,
            _visibility: visibility,
        };
        SessionPoller {
            handle: Rc::new(handle),
        }
    }
}

/// Hands `input` to the machine and performs what follows (a nested call only feeds).
fn feed(shared: &Rc<Shared>, input: PollInput) {
    step(shared, Some(input));
}

/// Gives the machine what happened (an input, or `None`: its timer fired) on the monotonic
/// clock (the machine only schedules; a wall clock stepping back must not stall polling)
/// through the pump, then re-arms the timer once every action is carried out.
fn step(shared: &Rc<Shared>, input: Option<PollInput>) {
    let hand = move |machine: &mut PollMachine, now| match input {
        Some(input) => machine.handle(now, input),
        None => machine.handle_timeout(now),
    };
    let now = mono_ms;
    if !shared
        .machine
        .feed(hand, now, |output| perform(shared, output))
    {
        return;
    }
    let at = shared.machine.machine().poll_timeout();
    let weak = shared.weak.clone();
    let timer = at.map(|at| {
        mono_timer_at(at, move || {
            if let Some(shared) = weak.upgrade() {
                step(&shared, None);
            }
        })
    });
    *shared.timer.borrow_mut() = timer;
}

/// Carries out one output of the machine.
fn perform(shared: &Rc<Shared>, output: PollOutput) {
    let options = &shared.options;
    match output {
        PollOutput::Fetch { if_none_match } => fetch(shared, if_none_match),
        PollOutput::Abort => {
            let request = shared.request.borrow_mut().take();
            if let Some(controller) = request {
                controller.abort();
            }
        }
        PollOutput::Update => {
            // Core read the body as a session.
            let body = shared.latest.borrow_mut().take().unwrap_or_default();
            (options.on_update)(SessionDetails::read(&body));
        }
        PollOutput::Error(error) => {
            if let Some(on_error) = &options.on_error {
                on_error(error.into());
            }
        }
        PollOutput::End(end) => {
            if let Some(on_end) = &options.on_end {
                on_end(end);
            }
        }
    }
}

/// Sends the session request and feeds its answer.
fn fetch(shared: &Rc<Shared>, if_none_match: Option<String>) {
    let controller = web_sys::AbortController::new().ok();
    *shared.request.borrow_mut() = controller.clone();
    let (client, path, weak) = (
        shared.client.clone(),
        shared.path.clone(),
        shared.weak.clone(),
    );
    spawn(async move {
        let headers = if_none_match
            .map(|tag| (wire::IF_NONE_MATCH, tag))
            .into_iter()
            .collect();
        let signal = controller.map(|c| c.signal());
        let answer = client.inner.authorized(&path, None, headers, signal).await;
        let Some(shared) = weak.upgrade() else { return };
        let input = match answer {
            Err(error) => PollInput::Failed(SessionError {
                code: error.code,
                status: error.status,
            }),
            Ok(response) => {
                let body = http::text(&response).await;
                shared.latest.borrow_mut().clone_from(&body);
                PollInput::Answered {
                    status: response.status(),
                    etag: http::header(&response, wire::ETAG),
                    body,
                    retry_after: http::header(&response, wire::RETRY_AFTER),
                }
            }
        };
        shared.request.borrow_mut().take();
        feed(&shared, input);
    });
}
