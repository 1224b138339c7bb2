//! What the runs reached (Antithesis-style "sometimes" assertions): every machine input and
//! action, every event, every refusal of the server, every fault and user action, every error
//! a caller can get. The suite fails when one of [`REQUIRED`] is never reached.

use std::collections::BTreeMap;

use consult_core::session::{Action, Input, SessionError};

use super::server::Refusal;

/// Everything the default schedules must reach at least once.
pub const REQUIRED: &[&str] = &[
    "input: get token",
    "input: token refused",
    "input: force refresh",
    "input: set session",
    "input: sign out",
    "input: storage read",
    "input: storage done",
    "input: storage failed",
    "input: lock granted",
    "input: lock unavailable",
    "input: refresh answered",
    "input: refresh failed",
    "input: peer token",
    "input: peer signed out",
    "input: wake",
    "input: dispose",
    "input: timeout",
    "action: read storage",
    "action: write storage",
    "action: clear storage",
    "action: acquire lock",
    "action: release lock",
    "action: send refresh",
    "action: abort refresh",
    "action: send logout",
    "action: announce token",
    "action: announce sign-out",
    "action: resolve",
    "event: token changed",
    "event: token refreshed",
    "event: refresh failed",
    "event: session expired",
    "event: warning",
    "result: token",
    "refusal: Revoked",
    "refusal: SignedOut",
    "refusal: PastGrace",
    "refusal: PastCap",
    "refusal: Reuse",
    "fault: 5xx",
    "fault: 403",
    "fault: 429",
    "fault: request dropped",
    "fault: answer lost",
    "fault: slow answer",
    "fault: answer garbled",
    "fault: offline",
    "fault: broadcast lost",
    "fault: broadcast late",
    "fault: storage event lost",
    "fault: storage throws",
    "fault: storage hangs",
    "fault: quota exceeded",
    "fault: IndexedDB does not open",
    "fault: wall clock steps back",
    "fault: wall clock steps forward",
    "fault: tab frozen holding the lock",
    "fault: sleep",
    "fault: tab closed mid-refresh",
    "user: sign-out",
    "user: second sign-in",
    "user: dispose",
    "world: tab closed",
    "config: cross-tab off",
    "config: auto-refresh off",
    "config: storage off",
    "config: no Web Locks",
    "config: no request timeout",
    "config: request timeout 1 s",
    "config: request timeout 30 s",
    "config: reuse window 0",
    "config: reuse window 10 s",
    "config: reuse window 30 s",
    "config: a run past the 12 h cap",
    "world: several server instances",
    "world: answer without expires_in",
    "world: wrong Date header",
    "error: Network",
    "error: Timeout",
    "error: Http",
    "error: BadResponse",
    "error: NoToken",
    "error: RefreshRejected",
    // The whole consultation: the poller's inputs and outputs…
    "poll input: start",
    "poll input: visibility",
    "poll input: answered 200",
    "poll input: answered 304",
    "poll input: answered error",
    "poll input: failed",
    "poll input: stop",
    "poll input: timer",
    "poll: fetch",
    "poll: abort",
    "poll: update",
    "poll: error",
    "poll: end (ended)",
    "poll: end (cancelled)",
    "poll: end (sign-in over)",
    "poll: end (stopped)",
    "poll: 401 replayed",
    "poll: restarted",
    // …the socket's inputs, actions and states…
    "socket input: start",
    "socket input: transport opened",
    "socket input: frame",
    "socket input: token",
    "socket input: transport closed",
    "socket input: emit",
    "socket input: disconnect",
    "socket input: timeout",
    "socket: open transport",
    "socket: close transport",
    "socket: fetch token",
    "socket: fetch token (forced)",
    "socket: connecting",
    "socket: connected",
    "socket: joined",
    "socket: reconnecting",
    "socket: refreshing",
    "socket: closed",
    "socket: event",
    "socket: CONNECT_ERROR expired",
    "socket: CONNECT_ERROR revoked",
    "socket: join refused",
    "socket: client disconnect",
    "socket: server disconnect",
    "socket: restarted",
    "emit: sent",
    "emit: acknowledged",
    "emit: timed out",
    "emit: aborted",
    "emit: not connected",
    // …and the server's session and faults.
    "world: session active",
    "world: session ended",
    "world: session cancelled",
    "world: session deleted",
    "world: patient removed",
    "poll: end (not found)",
    "poll: end (forbidden)",
    "socket: join refused (no session)",
    "socket: expiry sweep",
    "fault: socket dropped",
    "fault: poll 503",
    "fault: CONNECT refused (busy)",
    "fault: acknowledgement lost",
];

/// Counts of what was reached.
#[derive(Debug, Default, Clone)]
pub struct Coverage {
    pub counts: BTreeMap<String, u64>,
}

impl Coverage {
    pub fn hit(&mut self, what: &str) {
        match self.counts.get_mut(what) {
            Some(n) => *n += 1,
            None => {
                self.counts.insert(what.to_owned(), 1);
            }
        }
    }

    pub fn merge(&mut self, other: &Coverage) {
        for (what, n) in &other.counts {
            *self.counts.entry(what.clone()).or_default() += n;
        }
    }

    pub fn input(&mut self, input: &Input) {
        self.hit(match input {
            Input::GetToken { .. } => "input: get token",
            Input::TokenRefused { .. } => "input: token refused",
            Input::ForceRefresh { .. } => "input: force refresh",
            Input::SetSession { .. } => "input: set session",
            Input::SignOut { .. } => "input: sign out",
            Input::StorageRead { .. } => "input: storage read",
            Input::StorageDone { ok: true, .. } => "input: storage done",
            Input::StorageDone { ok: false, .. } => "input: storage failed",
            Input::LockGranted { .. } => "input: lock granted",
            Input::LockUnavailable { .. } => "input: lock unavailable",
            Input::RefreshAnswered { .. } => "input: refresh answered",
            Input::RefreshFailed { .. } => "input: refresh failed",
            Input::PeerToken { .. } => "input: peer token",
            Input::PeerSignedOut { .. } => "input: peer signed out",
            Input::Wake => "input: wake",
            Input::Dispose => "input: dispose",
        });
    }

    pub fn action(&mut self, action: &Action) {
        self.hit(match action {
            Action::ReadStorage { .. } => "action: read storage",
            Action::WriteStorage { .. } => "action: write storage",
            Action::ClearStorage { .. } => "action: clear storage",
            Action::AcquireLock { .. } => "action: acquire lock",
            Action::ReleaseLock { .. } => "action: release lock",
            Action::SendRefresh { .. } => "action: send refresh",
            Action::AbortRefresh { .. } => "action: abort refresh",
            Action::SendLogout { .. } => "action: send logout",
            Action::AnnounceToken { .. } => "action: announce token",
            Action::AnnounceSignOut { .. } => "action: announce sign-out",
            Action::Resolve { .. } => "action: resolve",
            Action::Emit(_) => "action: emit",
        });
    }

    pub fn refusal(&mut self, why: Refusal) {
        self.hit(&format!("refusal: {why:?}"));
    }

    pub fn error(&mut self, error: &SessionError) {
        self.hit(&format!("error: {:?}", error.code));
    }

    /// What [`REQUIRED`] lists and no run reached.
    pub fn missing(&self) -> Vec<&'static str> {
        REQUIRED
            .iter()
            .copied()
            .filter(|what| !self.counts.contains_key(*what))
            .collect()
    }
}
