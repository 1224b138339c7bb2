//! The session's storage operations, one at a time and each with a deadline: a read always sees
//! the writes queued before it, and a storage that throws or hangs fails that operation (a
//! warning, the next operation tries again), never a stuck caller.

use super::io::{Action, CallId, OpId};
use super::token::Token;
use alloc::{string::String, vec::Vec};

/// Longest wait for one storage operation (a custom async adapter may hang).
pub const STORAGE_TIMEOUT_MS: i64 = 5_000;

/// What to do with the storage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum StorageOp {
    Read,
    Write { token: String, expires_at: String },
    Clear,
}

/// One queued or running operation, and the calls to answer when it is done.
#[derive(Debug, Clone)]
pub(super) struct Pending {
    pub(super) op: OpId,
    pub(super) kind: StorageOp,
    pub(super) then: Vec<(CallId, Result<String, super::SessionError>)>,
}

/// How an operation ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum StorageOutcome {
    /// A read found this (or nothing usable).
    Read(Option<Token>),
    /// A write or clear worked.
    Done,
    /// The storage threw, hung, or is no longer used.
    Failed,
}

/// The queue.
#[derive(Debug, Clone, Default)]
pub(super) struct StorageQueue {
    running: Option<(Pending, i64)>,
    /// A handful at most (reads, and one write or clear): a `Vec` is smaller code than a
    /// `VecDeque`.
    queued: Vec<Pending>,
    /// False when there is no storage (the session lives in memory).
    pub(super) usable: bool,
    /// Nothing starts while a sign-in's write waits for the lock.
    pub(super) held: bool,
}

impl StorageQueue {
    pub(super) fn new(usable: bool) -> Self {
        Self {
            usable,
            ..Self::default()
        }
    }

    /// Whether a token is being (or waits to be) written: until then, a caller is not handed
    /// the token, so that whoever got a token finds it in the storage (a reload, another tab).
    pub(super) fn writing(&self) -> bool {
        let is_write = |p: &Pending| matches!(p.kind, StorageOp::Write { .. });
        self.running.as_ref().is_some_and(|(p, _)| is_write(p)) || self.queued.iter().any(is_write)
    }

    /// Queues `pending`. A write or clear replaces a queued (not yet running) write or clear:
    /// only the last one matters, and the calls waiting on the replaced one move to it.
    pub(super) fn push(&mut self, mut pending: Pending) {
        if pending.kind != StorageOp::Read {
            let mut moved = Vec::new();
            self.queued.retain_mut(|queued| {
                let replaced = queued.kind != StorageOp::Read;
                if replaced {
                    moved.append(&mut queued.then);
                }
                !replaced
            });
            moved.append(&mut pending.then);
            pending.then = moved;
        }
        self.queued.push(pending);
    }

    /// Starts the next operation if none runs: its action, or — when the storage is no longer
    /// usable — the operation finished at once (returned for the caller to complete).
    pub(super) fn start_next(&mut self, now: i64, actions: &mut Vec<Action>) -> Option<Pending> {
        if self.running.is_some() || self.held {
            return None;
        }
        let pending = crate::pop_front(&mut self.queued)?;
        if !self.usable {
            return Some(pending);
        }
        actions.push(match &pending.kind {
            StorageOp::Read => Action::ReadStorage { op: pending.op },
            StorageOp::Write { token, expires_at } => Action::WriteStorage {
                op: pending.op,
                token: token.clone(),
                expires_at: expires_at.clone(),
            },
            StorageOp::Clear => Action::ClearStorage { op: pending.op },
        });
        self.running = Some((pending, now.saturating_add(STORAGE_TIMEOUT_MS)));
        None
    }

    /// The running operation, if it is `op`; taken off the queue.
    pub(super) fn finish(&mut self, op: OpId) -> Option<Pending> {
        match &self.running {
            Some((pending, _)) if pending.op == op => self.running.take().map(|(p, _)| p),
            _ => None,
        }
    }

    /// The running operation, if its deadline has passed.
    pub(super) fn timed_out(&mut self, now: i64) -> Option<Pending> {
        match &self.running {
            Some((_, deadline)) if now >= *deadline => self.running.take().map(|(p, _)| p),
            _ => None,
        }
    }

    /// When the running operation times out.
    pub(super) fn deadline(&self) -> Option<i64> {
        self.running.as_ref().map(|(_, deadline)| *deadline)
    }
}
