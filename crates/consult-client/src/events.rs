//! Client events and their listeners.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use crate::ClientError;
use crate::token::TokenSnapshot;

/// Something the application may want to know about.
#[derive(Debug, Clone)]
pub enum ClientEvent {
    /// A refresh succeeded (this tab's, not an adopted one).
    TokenRefreshed(TokenSnapshot),
    /// A refresh attempt failed; more may follow if `error.retryable()`.
    RefreshFailed(ClientError),
    /// The refresh endpoint refused the token: storage is cleared, sign in again. Fired once.
    SessionExpired(ClientError),
    /// The current token changed (refresh, adoption from another tab, set, sign-out → `None`).
    TokenChanged(Option<TokenSnapshot>),
    /// Something degraded but works (e.g. storage fell back to memory: code `STORAGE`).
    Warning(ClientError),
}

/// The kinds of [`ClientEvent`], to subscribe to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    /// [`ClientEvent::TokenRefreshed`]
    TokenRefreshed,
    /// [`ClientEvent::RefreshFailed`]
    RefreshFailed,
    /// [`ClientEvent::SessionExpired`]
    SessionExpired,
    /// [`ClientEvent::TokenChanged`]
    TokenChanged,
    /// [`ClientEvent::Warning`]
    Warning,
}

impl EventKind {
    /// Reads the JS event name (`tokenRefreshed`, …).
    pub fn parse(name: &str) -> Option<EventKind> {
        Some(match name {
            "tokenRefreshed" => EventKind::TokenRefreshed,
            "refreshFailed" => EventKind::RefreshFailed,
            "sessionExpired" => EventKind::SessionExpired,
            "tokenChanged" => EventKind::TokenChanged,
            "warning" => EventKind::Warning,
            _ => return None,
        })
    }
}

impl ClientEvent {
    /// This event's kind.
    pub fn kind(&self) -> EventKind {
        match self {
            ClientEvent::TokenRefreshed(_) => EventKind::TokenRefreshed,
            ClientEvent::RefreshFailed(_) => EventKind::RefreshFailed,
            ClientEvent::SessionExpired(_) => EventKind::SessionExpired,
            ClientEvent::TokenChanged(_) => EventKind::TokenChanged,
            ClientEvent::Warning(_) => EventKind::Warning,
        }
    }
}

/// A listener.
pub type Listener = Rc<dyn Fn(&ClientEvent)>;

/// The listeners of one client.
#[derive(Default)]
pub(crate) struct Listeners {
    next_id: Cell<u32>,
    entries: RefCell<Vec<(u32, EventKind, Listener)>>,
}

impl Listeners {
    pub(crate) fn add(&self, kind: EventKind, listener: Listener) -> u32 {
        let id = self.next_id.get().wrapping_add(1);
        self.next_id.set(id);
        self.entries.borrow_mut().push((id, kind, listener));
        id
    }

    pub(crate) fn remove(&self, id: u32) {
        self.entries.borrow_mut().retain(|(i, _, _)| *i != id);
    }

    /// Calls every listener of the event's kind. Listeners may add or remove listeners.
    pub(crate) fn emit(&self, event: &ClientEvent) {
        let kind = event.kind();
        let matching: Vec<Listener> = self
            .entries
            .borrow()
            .iter()
            .filter(|(_, k, _)| *k == kind)
            .map(|(_, _, l)| l.clone())
            .collect();
        for listener in matching {
            listener(event);
        }
    }
}
