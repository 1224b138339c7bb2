//! Client events, their listeners, and the token snapshot they carry.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use consult_core::session::TokenView;

use crate::ClientError;

/// The current token and what is known about it, as reported to the application.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenSnapshot {
    /// The access token.
    pub token: String,
    /// `exp`, server time, Unix ms.
    pub expires_at_ms: i64,
    /// `iat`, server time, Unix ms.
    pub issued_at_ms: Option<i64>,
    /// Measured clock skew (server − device), ms.
    pub skew_ms: i64,
    /// Refreshes done by this client.
    pub refresh_count: u32,
    /// Device time of the last refresh by this client, Unix ms.
    pub last_refresh_at_ms: Option<i64>,
}

impl From<TokenView<'_>> for TokenSnapshot {
    fn from(view: TokenView<'_>) -> Self {
        Self {
            token: view.token.to_owned(),
            expires_at_ms: view.expires_at_ms,
            issued_at_ms: view.issued_at_ms,
            skew_ms: view.skew_ms,
            refresh_count: view.refresh_count,
            last_refresh_at_ms: view.last_refresh_at_ms,
        }
    }
}

/// Something the application may want to know about.
#[derive(Debug, Clone)]
pub enum ClientEvent {
    /// This client refreshed the token (not an adoption from another tab).
    TokenRefreshed(TokenSnapshot),
    /// A refresh attempt failed; the sign-in is kept and the client tries again.
    RefreshFailed(ClientError),
    /// The refresh endpoint refused the token: storage is cleared, sign in again.
    SessionExpired(ClientError),
    /// The current token changed (refresh, adoption from another tab, set, sign-out → `None`).
    TokenChanged(Option<TokenSnapshot>),
    /// Something degraded but works (the storage failed: code `STORAGE`, memory from then on).
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

impl ClientEvent {
    /// This event's kind.
    ///
    /// ```
    /// use consult_client::{ClientEvent, EventKind};
    /// assert_eq!(ClientEvent::TokenChanged(None).kind(), EventKind::TokenChanged);
    /// ```
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

type Entry<K, E> = (u32, K, Rc<dyn Fn(&E)>);

/// Listeners keyed by kind `K`, each with an id for removal.
pub(crate) struct Listeners<K, E: ?Sized> {
    next_id: Cell<u32>,
    entries: RefCell<Vec<Entry<K, E>>>,
}

impl<K, E: ?Sized> Default for Listeners<K, E> {
    fn default() -> Self {
        Self {
            next_id: Cell::new(0),
            entries: RefCell::new(Vec::new()),
        }
    }
}

impl<K: PartialEq, E: ?Sized> Listeners<K, E> {
    pub(crate) fn add(&self, kind: K, listener: Rc<dyn Fn(&E)>) -> u32 {
        let id = self.next_id.get().wrapping_add(1);
        self.next_id.set(id);
        self.entries.borrow_mut().push((id, kind, listener));
        id
    }

    pub(crate) fn remove(&self, id: u32) {
        self.entries.borrow_mut().retain(|(i, _, _)| *i != id);
    }

    /// Calls every listener of `kind`, with no borrow held (listeners may add or remove).
    pub(crate) fn emit(&self, kind: &K, event: &E) {
        let matching: Vec<_> = self
            .entries
            .borrow()
            .iter()
            .filter(|(_, k, _)| k == kind)
            .map(|(_, _, l)| l.clone())
            .collect();
        for listener in matching {
            listener(event);
        }
    }
}
