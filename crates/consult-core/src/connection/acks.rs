//! The emits waiting for the server's acknowledgement, each with its deadline.

use alloc::vec::Vec;
/// Pending acknowledgements: emit id and the time (Unix ms) after which it has failed.
/// Every entry has a deadline, so whatever the server does (or does not) send, the table
/// empties.
#[derive(Debug, Clone, Default)]
pub(super) struct Acks {
    pending: Vec<(u64, i64)>,
}

impl Acks {
    /// Waits for `id` until `deadline`.
    pub(super) fn wait(&mut self, id: u64, deadline: i64) {
        self.pending.push((id, deadline));
    }

    /// Whether `id` was awaited (it no longer is).
    pub(super) fn settle(&mut self, id: u64) -> bool {
        let before = self.pending.len();
        self.pending.retain(|(pending, _)| *pending != id);
        self.pending.len() != before
    }

    /// The earliest deadline.
    pub(super) fn next_deadline(&self) -> Option<i64> {
        self.pending.iter().map(|(_, deadline)| *deadline).min()
    }

    /// Removes and returns the ids whose deadline is at or before `now`.
    pub(super) fn expired(&mut self, now: i64) -> Vec<u64> {
        let mut expired = Vec::new();
        self.pending.retain(|(id, deadline)| {
            let keep = *deadline > now;
            if !keep {
                expired.push(*id);
            }
            keep
        });
        expired
    }

    /// Removes and returns every waiting emit, `(id, deadline)` (the connection that could answer
    /// them is gone).
    pub(super) fn abandon(&mut self) -> Vec<(u64, i64)> {
        // The list itself, not a copy of its ids: no second allocation.
        core::mem::take(&mut self.pending)
    }
}
