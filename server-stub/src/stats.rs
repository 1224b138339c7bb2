//! Counters for `/api/dev/stats`, and the per-minute summary of refused credentials that
//! replaces the seed's one-error-line-per-expired-token log spam.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use serde::Serialize;

use crate::error::AuthError;

/// Request counters. Relaxed atomics: they are statistics, not synchronisation.
#[derive(Debug, Default)]
pub struct Stats {
    /// Successful refreshes (repeats inside the reuse window included).
    pub refresh_ok: AtomicU64,
    /// Refreshes answered 401.
    pub refresh_rejected: AtomicU64,
    /// Refreshes answered by an injected fault.
    pub refresh_faulted: AtomicU64,
    /// GET session requests that reached the handler (any answer).
    pub session_get: AtomicU64,
    /// GET session answered 304.
    pub session_not_modified: AtomicU64,
    /// GET session answered by an injected fault.
    pub session_faulted: AtomicU64,
    /// Socket.IO connections accepted.
    pub socket_connect: AtomicU64,
    /// Socket.IO connections refused (any reason).
    pub socket_reject: AtomicU64,
    /// Successful `join_room`s.
    pub join: AtomicU64,
    /// GET session requests being answered right now.
    pub session_in_flight: AtomicU64,
    /// Most GET session requests ever answered at once (shows whether a poller overlaps).
    pub session_in_flight_max: AtomicU64,
    rejected_by_reason: [AtomicU64; AuthError::ALL.len()],
}

/// What `/api/dev/stats` answers.
#[derive(Debug, Default, Serialize, serde::Deserialize, PartialEq, Eq, Clone, Copy)]
pub struct StatsSnapshot {
    /// See [`Stats::refresh_ok`].
    pub refresh_ok: u64,
    /// See [`Stats::refresh_rejected`].
    pub refresh_rejected: u64,
    /// See [`Stats::refresh_faulted`].
    pub refresh_faulted: u64,
    /// See [`Stats::session_get`].
    pub session_get: u64,
    /// See [`Stats::session_not_modified`].
    pub session_not_modified: u64,
    /// See [`Stats::session_faulted`].
    pub session_faulted: u64,
    /// See [`Stats::socket_connect`].
    pub socket_connect: u64,
    /// See [`Stats::socket_reject`].
    pub socket_reject: u64,
    /// See [`Stats::join`].
    pub join: u64,
    /// See [`Stats::session_in_flight_max`].
    pub session_in_flight_max: u64,
}

impl StatsSnapshot {
    /// The summed counters by name (everything but `session_in_flight_max`, which is a maximum).
    pub fn counters(&self) -> [(&'static str, u64); 9] {
        [
            ("refresh_ok", self.refresh_ok),
            ("refresh_rejected", self.refresh_rejected),
            ("refresh_faulted", self.refresh_faulted),
            ("session_get", self.session_get),
            ("session_not_modified", self.session_not_modified),
            ("session_faulted", self.session_faulted),
            ("socket_connect", self.socket_connect),
            ("socket_reject", self.socket_reject),
            ("join", self.join),
        ]
    }

    /// The counters added since `flushed` (the maximum is carried as it is).
    pub fn since(&self, flushed: &StatsSnapshot) -> StatsSnapshot {
        StatsSnapshot {
            refresh_ok: self.refresh_ok.saturating_sub(flushed.refresh_ok),
            refresh_rejected: self
                .refresh_rejected
                .saturating_sub(flushed.refresh_rejected),
            refresh_faulted: self.refresh_faulted.saturating_sub(flushed.refresh_faulted),
            session_get: self.session_get.saturating_sub(flushed.session_get),
            session_not_modified: self
                .session_not_modified
                .saturating_sub(flushed.session_not_modified),
            session_faulted: self.session_faulted.saturating_sub(flushed.session_faulted),
            socket_connect: self.socket_connect.saturating_sub(flushed.socket_connect),
            socket_reject: self.socket_reject.saturating_sub(flushed.socket_reject),
            join: self.join.saturating_sub(flushed.join),
            session_in_flight_max: self.session_in_flight_max,
        }
    }

    /// A snapshot from counters by name (missing ones are 0).
    pub fn from_counters(get: impl Fn(&str) -> u64) -> StatsSnapshot {
        StatsSnapshot {
            refresh_ok: get("refresh_ok"),
            refresh_rejected: get("refresh_rejected"),
            refresh_faulted: get("refresh_faulted"),
            session_get: get("session_get"),
            session_not_modified: get("session_not_modified"),
            session_faulted: get("session_faulted"),
            socket_connect: get("socket_connect"),
            socket_reject: get("socket_reject"),
            join: get("join"),
            session_in_flight_max: get("session_in_flight_max"),
        }
    }
}

/// Adds one to a counter.
pub fn bump(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::Relaxed);
}

/// Counts a GET session request as in flight until dropped.
pub struct InFlight<'a>(&'a Stats);

impl<'a> InFlight<'a> {
    /// Enters.
    pub fn enter(stats: &'a Stats) -> Self {
        let now = stats.session_in_flight.fetch_add(1, Ordering::Relaxed) + 1;
        stats
            .session_in_flight_max
            .fetch_max(now, Ordering::Relaxed);
        InFlight(stats)
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.session_in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Stats {
    /// Notes a refused credential: a debug line now, and a count for the next summary.
    pub fn credential_rejected(&self, reason: AuthError, place: &'static str) {
        tracing::debug!(reason = reason.code(), place, "credential rejected");
        if let Some(counter) = self.rejected_by_reason.get(reason.index()) {
            bump(counter);
        }
    }

    /// The current counters.
    pub fn snapshot(&self) -> StatsSnapshot {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        StatsSnapshot {
            refresh_ok: get(&self.refresh_ok),
            refresh_rejected: get(&self.refresh_rejected),
            refresh_faulted: get(&self.refresh_faulted),
            session_get: get(&self.session_get),
            session_not_modified: get(&self.session_not_modified),
            session_faulted: get(&self.session_faulted),
            socket_connect: get(&self.socket_connect),
            socket_reject: get(&self.socket_reject),
            join: get(&self.join),
            session_in_flight_max: get(&self.session_in_flight_max),
        }
    }

    /// Takes the refused-credential counts since the last call, as `code=count` pairs.
    pub fn take_rejection_summary(&self) -> Vec<(&'static str, u64)> {
        AuthError::ALL
            .iter()
            .zip(&self.rejected_by_reason)
            .map(|(reason, counter)| (reason.code(), counter.swap(0, Ordering::Relaxed)))
            .filter(|(_, n)| *n > 0)
            .collect()
    }

    /// Logs the refused-credential summary once per `period`, only when there was any.
    pub async fn log_rejection_summaries(&self, period: Duration) {
        let mut ticker = tokio::time::interval(period);
        ticker.tick().await;
        loop {
            ticker.tick().await;
            let summary = self.take_rejection_summary();
            if !summary.is_empty() {
                let total: u64 = summary.iter().map(|(_, n)| n).sum();
                let by_reason = summary
                    .iter()
                    .map(|(code, n)| format!("{code}={n}"))
                    .collect::<Vec<_>>()
                    .join(" ");
                tracing::info!(
                    total,
                    by_reason,
                    "credentials rejected in the last {}s",
                    period.as_secs()
                );
            }
        }
    }
}
