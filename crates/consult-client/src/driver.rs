//! The executor of one client's [`TokenSession`]: inputs in, actions out, nothing decided here.
//!
//! [`Inner::feed`] hands the machine an input through the driver's pump (`pump.rs`), which
//! performs every action it asks for — storage, lock, refresh, logout, tab messages, answers to
//! calls, events — with no borrow held while a listener runs or a task waits (an input fed
//! meanwhile waits its turn); then one timer is re-armed to [`TokenSession::poll_timeout`]. Answers that come later (a storage task, a granted lock, a
//! refresh answer, a tab message, a wake-up, the timer) are fed back through a `Weak`, so
//! dropping the client drops everything: listeners, timer, lock, channel, requests.

use std::cell::{Cell, RefCell};
use std::rc::{Rc, Weak};

use consult_core::ErrorCode;
use consult_core::session::{
    Action, CallId, Input, OpId, SessionError, SessionEvent, TokenSession, TransportFailure,
};
use consult_core::wire::{self, TabMessage};
use futures::channel::oneshot;

use crate::env::{EventListener, Now, mono_ms, mono_timer_at, now_ms, spawn};
use crate::events::{ClientEvent, EventKind, Listeners, TokenSnapshot};
use crate::http::{self, Exchange, bearer, join_url};
use crate::lock::{self, HeldLock};
use crate::pump::Pump;
use crate::storage::Store;
use crate::tabs::Tabs;
use crate::{ClientError, wake};

/// Where the machine's answer to one call goes.
type Answer = oneshot::Sender<Result<String, SessionError>>;

/// What [`Inner::new`] needs besides the machine.
pub(crate) struct Parts {
    pub(crate) base_url: String,
    pub(crate) allowed_origins: Vec<String>,
    /// As the machine settled it (`None`: no timeout).
    pub(crate) request_timeout_ms: Option<u32>,
    pub(crate) now: Now,
    pub(crate) store: Store,
    pub(crate) token_key: String,
    pub(crate) cross_tab: bool,
}

/// A client's machine and the I/O it drives.
pub(crate) struct Inner {
    pub(crate) base_url: String,
    pub(crate) allowed_origins: Vec<String>,
    pub(crate) request_timeout_ms: Option<u32>,
    pub(crate) now: Now,
    pub(crate) listeners: Listeners<EventKind, ClientEvent>,
    pub(crate) tabs: RefCell<Option<Tabs>>,
    pub(crate) wake: RefCell<Vec<EventListener>>,
    weak: Weak<Inner>,
    session: Pump<TokenSession>,
    next_call: Cell<CallId>,
    calls: RefCell<Vec<(CallId, Answer)>>,
    store: Store,
    lock_name: String,
    locks: RefCell<Vec<(OpId, HeldLock)>>,
    refreshes: RefCell<Vec<(OpId, web_sys::AbortController)>>,
    timer: RefCell<Option<(i64, gloo_timers::callback::Timeout)>>,
}

/// Feeds `input` to the client behind `weak`, if it is still there.
fn feed_weak(weak: &Weak<Inner>, input: Input) {
    if let Some(inner) = weak.upgrade() {
        inner.feed(input);
    }
}

impl Inner {
    pub(crate) fn new(parts: Parts, session: TokenSession) -> Rc<Inner> {
        let inner = Rc::new_cyclic(|weak: &Weak<Inner>| Inner {
            base_url: parts.base_url,
            allowed_origins: parts.allowed_origins,
            request_timeout_ms: parts.request_timeout_ms,
            now: parts.now,
            listeners: Listeners::default(),
            tabs: RefCell::new(None),
            wake: RefCell::new(Vec::new()),
            weak: weak.clone(),
            session: Pump::new(session),
            next_call: Cell::new(0),
            calls: RefCell::new(Vec::new()),
            lock_name: wire::lock_name(&parts.token_key),
            store: parts.store,
            locks: RefCell::new(Vec::new()),
            refreshes: RefCell::new(Vec::new()),
            timer: RefCell::new(None),
        });
        let weak = inner.weak.clone();
        let feed = move |input| feed_weak(&weak, input);
        if parts.cross_tab {
            let tabs = Tabs::start(&parts.token_key, inner.store.mirror_key(), feed.clone());
            *inner.tabs.borrow_mut() = Some(tabs);
        }
        *inner.wake.borrow_mut() = wake::listen(feed);
        inner
    }

    pub(crate) fn now_ms(&self) -> i64 {
        now_ms(&self.now)
    }

    /// Both clocks, for the machine: wall time (expiry, skew) and monotonic time (deadlines).
    fn clocks(&self) -> consult_core::session::Now {
        consult_core::session::Now {
            wall_ms: self.now_ms(),
            mono_ms: mono_ms(),
        }
    }

    /// The current token, as the application sees it.
    pub(crate) fn snapshot(&self) -> Option<TokenSnapshot> {
        let now = self.now_ms();
        self.session.machine().view(now).map(TokenSnapshot::from)
    }

    /// Hands `input` to the machine and performs what follows.
    pub(crate) fn feed(&self, input: Input) {
        self.step(move |session, now| session.handle(now, input));
    }

    /// Hands `step` to the machine through the pump; once every action is carried out, the
    /// timer is re-armed.
    fn step(&self, step: impl FnOnce(&mut TokenSession, consult_core::session::Now) + 'static) {
        let perform = |action| self.perform(action);
        if self.session.feed(step, || self.clocks(), perform) {
            self.arm_timer();
        }
    }

    /// A token valid for at least the refresh margin: within the machine's lease
    /// ([`TokenSession::fresh_until`] and [`TokenSession::fresh_until_mono`]: both clocks) the
    /// current one at once, otherwise the answer to a call.
    pub(crate) async fn valid_token(&self) -> Result<String, ClientError> {
        let now = self.now_ms();
        let mono = mono_ms();
        let leased = {
            let session = self.session.machine();
            let fresh = session.fresh_until().is_some_and(|until| now < until)
                && session.fresh_until_mono().is_some_and(|until| mono < until);
            fresh
                .then(|| session.view(now).map(|v| v.token.to_owned()))
                .flatten()
        };
        match leased {
            Some(token) => Ok(token),
            None => self.call(|call| Input::GetToken { call }).await,
        }
    }

    /// Feeds `make(call)` for a new call id and waits for the machine's answer to it.
    pub(crate) async fn call(
        &self,
        make: impl FnOnce(CallId) -> Input,
    ) -> Result<String, ClientError> {
        let call = self.next_call.get().wrapping_add(1);
        self.next_call.set(call);
        let (sender, receiver) = oneshot::channel();
        self.calls.borrow_mut().push((call, sender));
        self.feed(make(call));
        match receiver.await {
            Ok(answer) => answer.map_err(ClientError::from),
            Err(_) => Err(ClientError::new(ErrorCode::Aborted, "the client is gone")),
        }
    }

    fn arm_timer(&self) {
        let at = self.session.machine().poll_timeout();
        let mut timer = self.timer.borrow_mut();
        if timer.as_ref().map(|(t, _)| *t) == at {
            return;
        }
        let weak = self.weak.clone();
        *timer = at.map(|at| {
            let fire = move || {
                if let Some(inner) = weak.upgrade() {
                    inner.timer.borrow_mut().take();
                    inner.step(|session, now| session.handle_timeout(now));
                }
            };
            (at, mono_timer_at(at, fire))
        });
    }

    fn perform(&self, action: Action) {
        let weak = self.weak.clone();
        match action {
            Action::ReadStorage { .. }
            | Action::WriteStorage { .. }
            | Action::ClearStorage { .. } => {
                let store = self.store.clone();
                spawn(async move {
                    if let Some(input) = store.perform(action).await {
                        feed_weak(&weak, input);
                    }
                });
            }
            Action::AcquireLock { op } => {
                let granted = move || feed_weak(&weak, Input::LockGranted { op });
                match lock::request(&self.lock_name, granted) {
                    Some(held) => self.locks.borrow_mut().push((op, held)),
                    None => self.feed(Input::LockUnavailable { op }),
                }
            }
            Action::ReleaseLock { op } => drop(take(&self.locks, op)),
            Action::SendRefresh { op, token } => self.send_refresh(op, token),
            Action::AbortRefresh { op } => {
                for (_, controller) in take(&self.refreshes, op) {
                    controller.abort();
                }
            }
            Action::SendLogout { token } => {
                let url = join_url(&self.base_url, wire::LOGOUT_PATH);
                spawn(async move { drop(post(&url, &token, None).await) });
            }
            Action::AnnounceToken {
                token,
                expires_at,
                replaces,
            } => self.announce(TabMessage::Token {
                token,
                expires_at: Some(expires_at),
                replaces,
            }),
            Action::AnnounceSignOut { token } => {
                self.announce(TabMessage::SignOut { token: Some(token) })
            }
            Action::Resolve { call, result } => {
                for (_, sender) in take(&self.calls, call) {
                    let _ = sender.send(result.clone());
                }
            }
            Action::Emit(event) => self.emit(event),
        }
    }

    fn announce(&self, message: TabMessage) {
        if let Some(tabs) = &*self.tabs.borrow() {
            tabs.announce(&message);
        }
    }

    fn send_refresh(&self, op: OpId, token: String) {
        let Ok(controller) = web_sys::AbortController::new() else {
            let failure = TransportFailure::Network;
            return self.feed(Input::RefreshFailed { op, failure });
        };
        self.refreshes.borrow_mut().push((op, controller.clone()));
        let url = join_url(&self.base_url, wire::REFRESH_PATH);
        let weak = self.weak.clone();
        spawn(async move {
            let input = match post(&url, &token, Some(controller.signal())).await {
                Ok(response) => match http::text(&response).await {
                    Some(body) => Input::RefreshAnswered {
                        op,
                        status: response.status(),
                        body,
                        date: http::header(&response, wire::DATE),
                        retry_after: http::header(&response, wire::RETRY_AFTER),
                    },
                    None => Input::RefreshFailed {
                        op,
                        failure: TransportFailure::UnreadableBody,
                    },
                },
                Err(_) => Input::RefreshFailed {
                    op,
                    failure: TransportFailure::Network,
                },
            };
            if let Some(inner) = weak.upgrade() {
                take(&inner.refreshes, op);
                inner.feed(input);
            }
        });
    }

    fn emit(&self, event: SessionEvent) {
        let event = match event {
            SessionEvent::TokenChanged => ClientEvent::TokenChanged(self.snapshot()),
            SessionEvent::TokenRefreshed => match self.snapshot() {
                Some(snapshot) => ClientEvent::TokenRefreshed(snapshot),
                None => return,
            },
            SessionEvent::RefreshFailed(error) => ClientEvent::RefreshFailed(error.into()),
            SessionEvent::SessionExpired(error) => ClientEvent::SessionExpired(error.into()),
            SessionEvent::Warning(error) => ClientEvent::Warning(error.into()),
        };
        self.listeners.emit(&event.kind(), &event);
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        for (_, controller) in self.refreshes.get_mut().drain(..) {
            controller.abort();
        }
    }
}

/// Removes the entries of `id` from `list` and returns them (the borrow ends here).
fn take<T>(list: &RefCell<Vec<(u64, T)>>, id: u64) -> Vec<(u64, T)> {
    let mut list = list.borrow_mut();
    let (taken, kept) = std::mem::take(&mut *list)
        .into_iter()
        .partition(|(i, _)| *i == id);
    *list = kept;
    taken
}

/// `POST url` with the bearer token and no body.
async fn post(
    url: &str,
    token: &str,
    cancel: Option<web_sys::AbortSignal>,
) -> Result<web_sys::Response, ClientError> {
    http::send(Exchange {
        url,
        init: None,
        method: wire::POST,
        headers: vec![(wire::AUTHORIZATION, bearer(token))],
        timeout_ms: None,
        cancel,
    })
    .await
}
