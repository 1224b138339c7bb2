//! What the tabs of one browser share: a consistent store (IndexedDB read in a transaction), the
//! `localStorage` mirror with per-tab cached copies that lag behind (Chromium's behaviour, which
//! makes a read right after another tab's write return the old value), and the Web Lock (FIFO;
//! a closed tab's lock and requests go away).

use std::collections::VecDeque;

use consult_core::session::OpId;

/// The IndexedDB model: one value, every read sees every write committed before it.
#[derive(Debug, Default)]
pub struct ConsistentStore {
    pub value: Option<String>,
}

/// The `localStorage` model: the latest value, and each tab's copy of it.
#[derive(Debug, Default)]
pub struct CachedStore {
    pub copies: Vec<Option<String>>,
}

impl CachedStore {
    /// A new tab starts with a copy of the latest value.
    pub fn open_tab(&mut self, latest: Option<String>) {
        self.copies.push(latest);
    }

    pub fn read(&self, tab: usize) -> Option<String> {
        self.copies.get(tab).cloned().flatten()
    }

    pub fn set(&mut self, tab: usize, value: Option<String>) {
        if let Some(copy) = self.copies.get_mut(tab) {
            *copy = value;
        }
    }
}

/// The Web Lock of the refresh.
#[derive(Debug, Default)]
pub struct WebLock {
    pub holder: Option<(usize, OpId)>,
    pub queue: VecDeque<(usize, OpId)>,
}

impl WebLock {
    /// Asks for the lock; returns the request if it is granted at once.
    pub fn request(&mut self, tab: usize, op: OpId) -> Option<(usize, OpId)> {
        self.queue.push_back((tab, op));
        self.grant_next()
    }

    /// Releases the lock or withdraws the request; returns the next grant, if any.
    pub fn release(&mut self, tab: usize, op: OpId) -> Option<(usize, OpId)> {
        if self.holder == Some((tab, op)) {
            self.holder = None;
        } else {
            self.queue.retain(|r| *r != (tab, op));
        }
        self.grant_next()
    }

    /// A tab closed: its lock and its requests go.
    pub fn tab_closed(&mut self, tab: usize) -> Option<(usize, OpId)> {
        if self.holder.is_some_and(|(t, _)| t == tab) {
            self.holder = None;
        }
        self.queue.retain(|(t, _)| *t != tab);
        self.grant_next()
    }

    fn grant_next(&mut self) -> Option<(usize, OpId)> {
        if self.holder.is_some() {
            return None;
        }
        self.holder = self.queue.pop_front();
        self.holder
    }
}
