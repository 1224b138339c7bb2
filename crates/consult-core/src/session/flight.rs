//! One refresh at a time: wait out the backoff, take the cross-tab lock, read the shared store
//! again, send the refresh, store the new token, release the lock. Each step has a deadline, so
//! a lost lock, a hung request or a hung store never leaves a caller waiting for ever.

use super::answer::accept_refresh;
use super::io::{Action, OpId, SessionError, SessionEvent};
use super::storage::{Pending, STORAGE_TIMEOUT_MS, StorageOp};
use super::token::Token;
use super::{MIN_REFRESH_INTERVAL_MS, Now, TokenSession};
use crate::ErrorCode;
use alloc::{string::String, vec::Vec};

/// Failed re-reads under the lock in a row before the tab refreshes without one.
pub(super) const REREAD_ATTEMPTS: u32 = 3;
/// Shortest wait between two failed attempts (full jitter can draw zero).
const RETRY_FLOOR_MS: u64 = 500;

/// Where the refresh stands.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
enum Step {
    /// No refresh under way.
    #[default]
    Idle,
    /// Backing off (or keeping the minimum interval) before the next attempt.
    Waiting { until: i64 },
    /// The lock is asked for.
    Locking { lock: OpId, deadline: i64 },
    /// The lock is held; the shared store is read again.
    Rereading { lock: OpId, read: OpId },
    /// The refresh request is out.
    Requesting {
        op: OpId,
        token: String,
        deadline: i64,
        lock: Option<OpId>,
    },
    /// The new token is being stored; the lock goes once it is. A sign-in's token waits for the
    /// lock first (the storage is held until it is granted).
    Storing { lock: OpId, write: OpId },
}

/// The refresh flight and the failures since the last success.
#[derive(Debug, Clone, Default)]
pub(super) struct Flight {
    step: Step,
    /// Failed attempts since the last success.
    failures: u32,
    /// The last failure, and whether trying again may help.
    last_error: Option<(SessionError, bool)>,
}

impl Flight {
    pub(super) fn is_idle(&self) -> bool {
        matches!(self.step, Step::Idle)
    }

    /// Whether the last attempts failed (a caller may then go on with a token not yet expired).
    pub(super) fn has_failed(&self) -> bool {
        self.failures > 0
    }

    /// The last failure, and whether trying again may help.
    pub(super) fn last_error(&self) -> Option<(SessionError, bool)> {
        self.last_error
    }

    pub(super) fn deadline(&self) -> Option<i64> {
        match self.step {
            Step::Waiting { until } => Some(until),
            Step::Locking { deadline, .. } | Step::Requesting { deadline, .. } => Some(deadline),
            _ => None,
        }
    }

    pub(super) fn is_request(&self, op: OpId) -> bool {
        matches!(&self.step, Step::Requesting { op: o, .. } if *o == op)
    }

    pub(super) fn is_reread(&self, op: OpId) -> bool {
        matches!(self.step, Step::Rereading { read, .. } if read == op)
    }

    pub(super) fn is_store(&self, op: OpId) -> bool {
        matches!(self.step, Step::Storing { write, .. } if write == op)
    }

    fn held_lock(&self) -> Option<OpId> {
        match self.step {
            Step::Locking { lock, .. }
            | Step::Rereading { lock, .. }
            | Step::Storing { lock, .. }
            | Step::Requesting {
                lock: Some(lock), ..
            } => Some(lock),
            _ => None,
        }
    }
}

impl TokenSession {
    /// Longest wait for the lock: longer than any holder keeps it (one request and two storage
    /// operations), so a live holder is always waited for and only a lost one times out.
    fn lock_wait_ms(&self) -> i64 {
        let request = i64::try_from(self.config.request_timeout_ms).unwrap_or(i64::MAX);
        request
            .saturating_add(2 * STORAGE_TIMEOUT_MS)
            .saturating_add(1_000)
    }

    fn release_held_lock(&mut self) {
        if let Some(lock) = self.flight.held_lock() {
            self.actions.push(Action::ReleaseLock { op: lock });
        }
    }

    /// Starts an attempt (or waits for the backoff first).
    pub(super) fn begin_attempt(&mut self, now: Now) {
        if now.mono_ms < self.not_before {
            self.flight.step = Step::Waiting {
                until: self.not_before,
            };
        } else if self.config.cross_tab && self.lock_available {
            let lock = self.op();
            self.actions.push(Action::AcquireLock { op: lock });
            self.flight.step = Step::Locking {
                lock,
                deadline: now.mono_ms.saturating_add(self.lock_wait_ms()),
            };
        } else {
            self.send_request(now, None);
        }
    }

    /// A sign-in's token is stored (queued as `write`) under the lock, when there is one: a
    /// holder refreshing the old sign-in stores its successor first, never over the new one. The
    /// storage is held until the lock comes (a read meanwhile would not see the sign-in); every
    /// holder keeps the lock a bounded time (its request and storage deadlines).
    pub(super) fn lock_for_sign_in(&mut self, write: OpId) {
        if self.config.cross_tab && self.lock_available && self.storage.usable {
            let lock = self.op();
            self.actions.push(Action::AcquireLock { op: lock });
            self.storage.held = true;
            self.flight.step = Step::Storing { lock, write };
        }
    }

    fn send_request(&mut self, now: Now, lock: Option<OpId>) {
        let Some(current) = &self.current else {
            self.release_held_lock();
            self.flight.step = Step::Idle;
            return;
        };
        let token = current.text.clone();
        let op = self.op();
        self.actions.push(Action::SendRefresh {
            op,
            token: token.clone(),
        });
        let timeout = i64::try_from(self.config.request_timeout_ms).unwrap_or(i64::MAX);
        self.flight.step = Step::Requesting {
            op,
            token,
            deadline: now.mono_ms.saturating_add(timeout),
            lock,
        };
    }

    /// Nobody needs the refresh any more: stop waiting for the backoff or the lock. A read, a
    /// request or a store under way finishes on its own.
    pub(super) fn flight_not_wanted(&mut self) {
        match self.flight.step {
            Step::Waiting { .. } => self.flight.step = Step::Idle,
            Step::Locking { lock, .. } => {
                self.actions.push(Action::ReleaseLock { op: lock });
                self.flight.step = Step::Idle;
            }
            _ => {}
        }
    }

    /// Drops the flight at once (a new sign-in, a sign-out): its answer would be for a sign-in
    /// that is gone.
    pub(super) fn abandon_flight(&mut self) {
        if let Step::Requesting { op, .. } = self.flight.step {
            self.actions.push(Action::AbortRefresh { op });
        }
        self.release_held_lock();
        self.flight = Flight::default();
        self.storage.held = false;
        self.check = None;
    }

    pub(super) fn lock_granted(&mut self, now: Now, op: OpId) {
        match self.flight.step {
            Step::Locking { lock, .. } if lock == op => {
                let read = self.op();
                self.storage.push(Pending {
                    op: read,
                    kind: StorageOp::Read,
                    then: Vec::new(),
                });
                self.flight.step = Step::Rereading { lock, read };
            }
            // A sign-in's: its token is stored now.
            Step::Storing { lock, .. } if lock == op => self.storage.held = false,
            // Granted after we stopped waiting for it: give it back.
            _ => self.actions.push(Action::ReleaseLock { op }),
        }
        let _ = now;
    }

    pub(super) fn lock_unavailable(&mut self, now: Now, op: OpId) {
        match self.flight.step {
            Step::Locking { lock, .. } if lock == op => {
                self.lock_available = false;
                self.send_request(now, None);
            }
            // A sign-in's: stored at once (its lock is given back once stored, a no-op).
            Step::Storing { lock, .. } if lock == op => self.storage.held = false,
            _ => {}
        }
    }

    /// Under the lock, the shared store said `found`: it is the current token (the lock holder's
    /// view is the order), unless this client replaced it already, or holds a token of its own
    /// the store does not have yet (its write failed: written again now). Then refresh only if
    /// still wanted.
    pub(super) fn reread_done(&mut self, now: Now, found: Option<Token>) {
        let Step::Rereading { lock, .. } = self.flight.step else {
            return;
        };
        let current = self.current.as_ref().map(|c| &c.text);
        // Ours is newer than the store's only if the store holds a token we replaced: one we
        // never saw was written after ours (it was refreshed from ours).
        let ours_unstored = current.is_some()
            && current == self.unstored.as_ref()
            && found
                .as_ref()
                .is_none_or(|f| self.retired.contains(&f.text) || current == Some(&f.text));
        // The store's token is adopted unless we replaced it (or hold it). A message that came
        // during the read and waits for a store check is answered by this read: one naming the
        // store's token as the one it replaced is the newest (the store is one step behind it),
        // and ours may be older than both: refreshing ours would be reuse.
        let candidate = self.check.take().and_then(|(_, candidate)| candidate);
        self.store_checked(false, found, candidate);
        if ours_unstored {
            self.store(Vec::new());
        }
        self.settle(now);
        if self.refresh_wanted(now) {
            self.send_request(now, Some(lock));
        } else {
            self.actions.push(Action::ReleaseLock { op: lock });
            self.flight.step = Step::Idle;
        }
    }

    /// Under the lock, the store could not be read: the current token may have been replaced
    /// by another tab, so it is not refreshed; the attempt fails and is retried. A storage that
    /// keeps failing (IndexedDB that does not open) does not stop refreshes for good: after a
    /// few failures in a row the tab refreshes the newest token it knows.
    pub(super) fn reread_failed(&mut self, now: Now) {
        let Step::Rereading { lock, .. } = self.flight.step else {
            return;
        };
        self.reread_failures = self.reread_failures.saturating_add(1);
        if self.reread_failures >= REREAD_ATTEMPTS {
            self.settle(now);
            if self.refresh_wanted(now) {
                self.send_request(now, Some(lock));
            } else {
                self.actions.push(Action::ReleaseLock { op: lock });
                self.flight.step = Step::Idle;
            }
            return;
        }
        self.attempt_failed(now, SessionError::new(ErrorCode::Storage), None, true);
    }

    pub(super) fn refresh_answered(
        &mut self,
        now: Now,
        op: OpId,
        status: u16,
        body: &str,
        date: Option<String>,
        retry_after: Option<String>,
    ) {
        let Step::Requesting {
            op: sent_op,
            token: sent,
            lock,
            ..
        } = &self.flight.step
        else {
            return;
        };
        if *sent_op != op {
            return;
        }
        let (sent, lock) = (sent.clone(), *lock);
        let outcome = crate::classify::read_status(crate::classify::Endpoint::Refresh, status);
        match outcome {
            crate::Outcome::Success => {
                match accept_refresh(
                    body,
                    date.as_deref(),
                    now.wall_ms,
                    &sent,
                    &self.config.policy,
                ) {
                    Some(accepted) => self.refreshed(now, accepted, lock, sent),
                    // A 200 whose token is not trusted: the server may have rotated ours all
                    // the same. Retried (waiting callers too): inside the server's reuse window
                    // the retry gets the successor back.
                    None => self.attempt_failed(
                        now,
                        SessionError::with_status(ErrorCode::BadResponse, status),
                        None,
                        true,
                    ),
                }
            }
            crate::Outcome::EndSignIn => {
                // A message not ordered yet (its store read is out) may be another tab's new
                // sign-in: ours is over, so that token is the one to go on with (its own
                // refresh says whether it is over too).
                if self.current.as_ref().is_some_and(|c| c.text != sent) {
                    // A 401 for a token this client has moved on from (a new sign-in from
                    // another tab while the request was out) ends that old sign-in, not the
                    // current one.
                    self.release_held_lock();
                    self.flight = Flight::default();
                } else {
                    // Only a 401 from the refresh endpoint ends a sign-in (the answer table).
                    self.end_sign_in(
                        lock,
                        SessionError::with_status(ErrorCode::RefreshRejected, status),
                    );
                }
            }
            _ => {
                let retryable = outcome.retryable();
                let retry_after = retry_after
                    .as_deref()
                    .and_then(crate::backoff::retry_after_ms);
                let error = SessionError::with_status(ErrorCode::Http, status);
                self.attempt_failed(now, error, retry_after, retryable);
            }
        }
    }

    fn refreshed(&mut self, now: Now, accepted: super::Accepted, lock: Option<OpId>, sent: String) {
        self.measured_skew(now, accepted.skew_ms);
        self.refresh_count = self.refresh_count.saturating_add(1);
        self.last_refresh_at_ms = Some(now.wall_ms);
        self.backoff.reset();
        self.not_before = now.mono_ms.saturating_add(MIN_REFRESH_INTERVAL_MS);
        let token = accepted.token;
        // While the request was out, this client moved on in order (it replaced the token
        // sent) to another tab's token — a newer one, or a new sign-in —: the answer is behind,
        // and writing it would put the old chain back in the store. Also a successor this
        // client already replaced (handed back inside the reuse window). Nobody else holds the
        // answer: it is dropped, not remembered (the successor we may hold already, adopted
        // from the tab that got it first, stays current). A token adopted without an order
        // (the store could not be read) does not make our own successor behind.
        if self.retired.contains(&token.text) || self.retired.contains(&sent) {
            self.release_held_lock();
            self.flight = Flight::default();
            return;
        }
        self.unstored = Some(token.text.clone());
        // The token sent is retired below; the current one may be this very successor, adopted
        // from a tab that got it first (not retired, then).
        self.current = Some(token);
        let write = self.store(Vec::new());
        // Announced now, not once stored: if this tab dies before its write lands, the other
        // tabs still know the successor (a re-read under the lock would find the old token).
        // The successor replaces the token sent: the other tabs retire that one.
        self.announce(Some(sent.clone()));
        super::remember(&mut self.refreshed_from, sent.clone());
        self.retire(sent);
        self.ended = None;
        self.emit(SessionEvent::TokenRefreshed);
        self.emit(SessionEvent::TokenChanged);
        self.flight = Flight::default();
        if let Some(lock) = lock {
            self.flight.step = Step::Storing { lock, write };
        }
    }

    pub(super) fn stored_under_lock(&mut self) {
        if let Step::Storing { lock, .. } = self.flight.step {
            self.actions.push(Action::ReleaseLock { op: lock });
            self.flight.step = Step::Idle;
        }
    }

    pub(super) fn attempt_failed(
        &mut self,
        now: Now,
        error: SessionError,
        retry_after_ms: Option<u64>,
        retryable: bool,
    ) {
        self.release_held_lock();
        // A wake-up asks for one attempt; auto-refresh and waiting callers keep retrying.
        self.wake_check = false;
        self.flight.failures = self.flight.failures.saturating_add(1);
        self.flight.last_error = Some((error, retryable));
        for waiter in &mut self.waiters {
            waiter.failures_seen = waiter.failures_seen.saturating_add(1);
        }
        self.emit(SessionEvent::RefreshFailed(error));
        let delay = self
            .backoff
            .next_delay_ms(self.rng.next_f64(), retry_after_ms)
            .max(RETRY_FLOOR_MS);
        self.not_before = now
            .mono_ms
            .saturating_add(i64::try_from(delay).unwrap_or(i64::MAX));
        self.flight.step = Step::Waiting {
            until: self.not_before,
        };
    }

    /// The refresh endpoint refused the token sent under `lock` (if any): the sign-in is over.
    fn end_sign_in(&mut self, lock: Option<OpId>, error: SessionError) {
        self.flight = Flight::default();
        self.ended = Some(error);
        let op = self.op();
        self.storage.push(Pending {
            op,
            kind: StorageOp::Clear,
            then: Vec::new(),
        });
        // The store is cleared under the lock: a sign-in waiting for it stores after the clear.
        if let Some(lock) = lock {
            self.flight.step = Step::Storing { lock, write: op };
        }
        let old = self.current.clone();
        self.replace_current(None);
        if let Some(old) = old
            && self.config.cross_tab
        {
            self.actions
                .push(Action::AnnounceSignOut { token: old.text });
        }
        self.emit(SessionEvent::SessionExpired(error));
        self.emit(SessionEvent::TokenChanged);
    }

    /// Deadlines of the flight: the backoff is over, the lock or the answer did not come.
    pub(super) fn flight_timeout(&mut self, now: Now) {
        match self.flight.step {
            Step::Waiting { until } if now.mono_ms >= until => self.flight.step = Step::Idle,
            Step::Locking { deadline, .. } | Step::Requesting { deadline, .. }
                if now.mono_ms >= deadline =>
            {
                if let Step::Requesting { op, .. } = self.flight.step {
                    self.actions.push(Action::AbortRefresh { op });
                }
                self.attempt_failed(now, SessionError::new(ErrorCode::Timeout), None, true);
            }
            _ => {}
        }
    }
}
