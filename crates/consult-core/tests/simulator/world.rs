//! One simulated run: a virtual clock and an event queue; N tabs of one browser, each a
//! `TokenSession` with its own clock skew, over the shared stores, lock and broadcast channel;
//! a server with consult-stub's rules; faults drawn from the schedule. Invariants are checked
//! as the run goes and at its end; a violation names the seed that replays it.

use std::cmp::Ordering;
use std::collections::{BinaryHeap, HashMap, HashSet};

use consult_core::rng::Rng;
use consult_core::session::{
    Action, CallId, Grant, Input, MIN_REFRESH_INTERVAL_MS, OpId, SessionConfig, SessionEvent,
    TokenSession, TransportFailure,
};

use super::browser::{CachedStore, ConsistentStore, WebLock};
use super::schedule::{Protocol, Schedule};
use super::server::{Outcome, Server, jwt};

const S: i64 = 1_000;
/// Longest wait of a caller in a visible tab: every attempt (lock, request, backoff) of
/// `refresh_retries + 1` attempts, plus the storage operations, with room to spare.
pub const WAIT_BOUND_MS: i64 = 300 * S;
/// Hidden tabs have their timers (and so their deadlines) stretched to a minute.
const HIDDEN_WAIT_BOUND_MS: i64 = 15 * 60 * S;
/// Throttling of timers in hidden tabs (Chromium's intensive throttling aligns to a minute).
const HIDDEN_TIMER_ALIGN_MS: i64 = 60 * S;
/// After the schedule ends, calls stop and the run goes on this long so every wait can end.
const DRAIN_MS: i64 = 16 * 60 * S;

#[derive(Debug)]
enum Ev {
    Timer {
        tab: usize,
        generation: u64,
    },
    Deliver {
        tab: usize,
        input: Input,
    },
    RefreshArrives {
        tab: usize,
        op: OpId,
        token: String,
    },
    RefreshAnswer {
        tab: usize,
        op: OpId,
        input: Input,
        sent: String,
        successor: Option<String>,
    },
    ApiArrives {
        tab: usize,
        token: String,
        replay: bool,
    },
    AppCall {
        tab: usize,
    },
    IdbCommit {
        tab: usize,
        op: OpId,
        value: Option<String>,
    },
    LsPropagate {
        tab: usize,
        old: Option<String>,
        value: Option<String>,
    },
    OpenTab,
    CloseTab {
        tab: usize,
    },
    Visibility {
        tab: usize,
        hidden: bool,
    },
    Sleep {
        duration: i64,
    },
}

struct Scheduled {
    at: i64,
    seq: u64,
    ev: Ev,
}

impl PartialEq for Scheduled {
    fn eq(&self, other: &Self) -> bool {
        (self.at, self.seq) == (other.at, other.seq)
    }
}
impl Eq for Scheduled {}
impl PartialOrd for Scheduled {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Scheduled {
    fn cmp(&self, other: &Self) -> Ordering {
        (other.at, other.seq).cmp(&(self.at, self.seq))
    }
}

struct PendingCall {
    since: i64,
    replay: bool,
}

struct Tab {
    session: TokenSession,
    offset_ms: i64,
    alive: bool,
    hidden: bool,
    timer_generation: u64,
    timer_at: Option<i64>,
    calls: HashMap<CallId, PendingCall>,
    next_call: CallId,
    aborted: HashSet<OpId>,
    /// The token each refresh request carried.
    sent: HashMap<OpId, String>,
    last_token: Option<String>,
    last_success_device_ms: Option<i64>,
    attempts: u64,
    /// The tokens this tab asked the storage to write.
    writing: HashSet<String>,
}

/// What a run counted.
#[derive(Debug, Default, Clone)]
pub struct Stats {
    pub events: u64,
    pub calls: u64,
    pub refresh_requests: u64,
    pub refreshes: u64,
    pub rotations: u64,
    pub repeated_refreshes: u64,
    pub max_wait_ms: i64,
    pub errors: u64,
    pub tabs_opened: u64,
    /// Rotated answers a live tab received but did not keep (untrusted, or superseded).
    pub answers_dropped: u64,
}

/// One run.
pub struct World {
    schedule: Schedule,
    rng: Rng,
    now: i64,
    seq: u64,
    queue: BinaryHeap<Scheduled>,
    tabs: Vec<Tab>,
    idb: ConsistentStore,
    /// Every token IndexedDB has held: a tab hands a token it stored itself to a caller only
    /// once it is one of these (a peer's announced token may come first: its writer stores it).
    committed: HashSet<String>,
    ls: CachedStore,
    ls_latest: Option<String>,
    lock: WebLock,
    server: Server,
    frozen_until: i64,
    sleeps: Vec<(i64, i64)>,
    pub stats: Stats,
    pub violations: Vec<String>,
    /// Print every event and action (`SIM_TRACE=1`, with `SIM_SEED`).
    pub trace: bool,
}

impl World {
    pub fn new(schedule: Schedule) -> Self {
        let server = Server::new(schedule.rules.clone());
        let rng = Rng::new(schedule.seed ^ 0x5EED);
        let mut world = Self {
            schedule,
            rng,
            now: 0,
            seq: 0,
            queue: BinaryHeap::new(),
            tabs: Vec::new(),
            idb: ConsistentStore::default(),
            committed: HashSet::new(),
            ls: CachedStore::default(),
            ls_latest: None,
            lock: WebLock::default(),
            server,
            frozen_until: i64::MIN,
            sleeps: Vec::new(),
            stats: Stats::default(),
            violations: Vec::new(),
            trace: false,
        };
        world.set_up();
        world
    }

    fn at(&mut self, at: i64, ev: Ev) {
        self.seq += 1;
        self.queue.push(Scheduled {
            at: at.max(self.now),
            seq: self.seq,
            ev,
        });
    }

    fn after(&mut self, delay: i64, ev: Ev) {
        self.at(self.now + delay, ev);
    }

    fn between(&mut self, low: i64, high: i64) -> i64 {
        low + self.rng.below((high - low).max(1) as u64) as i64
    }

    fn chance(&mut self, p: f64) -> bool {
        p > 0.0 && self.rng.next_f64() < p
    }

    fn violation(&mut self, what: String) {
        if self.violations.len() < 10 {
            self.violations.push(format!("t={} ms: {what}", self.now));
        }
    }

    fn set_up(&mut self) {
        let first = self.open_tab();
        let token = self.server.sign_in(0);
        let ttl_s = self.schedule.rules.ttl_ms / S;
        self.feed_call(
            first,
            |call| Input::SetSession {
                call,
                grant: Grant {
                    access_token: token.clone(),
                    expires_at: None,
                    expires_in: Some(ttl_s as f64),
                },
            },
            true,
        );
        for _ in 1..self.schedule.tabs_at_start {
            let delay = self.between(0, 5 * S);
            self.after(delay, Ev::OpenTab);
        }
        let end = self.schedule.duration_ms;
        if self.schedule.churn {
            for _ in 0..self.between(1, 6) {
                let at = self.between(0, end);
                self.at(at, Ev::OpenTab);
            }
        }
        if self.schedule.sleep {
            let at = self.between(end / 4, end);
            let duration = self.between(S, 3 * self.schedule.rules.ttl_ms);
            self.at(at, Ev::Sleep { duration });
        }
    }

    fn open_tab(&mut self) -> usize {
        let tab = self.tabs.len();
        let skew = self.schedule.skew_ms;
        let offset_ms = if skew == 0 {
            0
        } else {
            self.between(-skew, skew)
        };
        let config = SessionConfig {
            request_timeout_ms: 10_000,
            ..SessionConfig::default()
        };
        let seed = self.schedule.seed.wrapping_mul(31).wrapping_add(tab as u64);
        self.tabs.push(Tab {
            session: TokenSession::new(config, seed),
            offset_ms,
            alive: true,
            hidden: false,
            timer_generation: 0,
            timer_at: None,
            calls: HashMap::new(),
            next_call: 1,
            aborted: HashSet::new(),
            sent: HashMap::new(),
            last_token: None,
            last_success_device_ms: None,
            attempts: 0,
            writing: HashSet::new(),
        });
        self.ls.open_tab(self.ls_latest.clone());
        self.stats.tabs_opened += 1;
        let delay = self.between(0, 2 * S);
        self.after(delay, Ev::AppCall { tab });
        let end = self.schedule.duration_ms;
        if self.schedule.churn && tab > 0 {
            let close = self.between(self.now, end + end / 2);
            self.at(close, Ev::CloseTab { tab });
        }
        if self.schedule.hidden {
            let at = self.between(self.now, end);
            self.at(at, Ev::Visibility { tab, hidden: true });
            let back = self.between(at, end + 60 * S);
            self.at(back, Ev::Visibility { tab, hidden: false });
        }
        tab
    }

    /// Runs the schedule to its end and the drain after it.
    pub fn run(&mut self) {
        let stop = self.schedule.duration_ms + DRAIN_MS;
        while let Some(next) = self.queue.pop() {
            if next.at > stop {
                break;
            }
            if next.at < self.frozen_until && self.targets_a_tab(&next.ev) {
                self.at(self.frozen_until, next.ev);
                continue;
            }
            self.now = next.at;
            self.stats.events += 1;
            if self.trace {
                println!("{:>8} {:?}", self.now, next.ev);
            }
            self.step(next.ev);
        }
        self.now = stop;
        self.final_checks();
    }

    fn targets_a_tab(&self, ev: &Ev) -> bool {
        !matches!(
            ev,
            Ev::RefreshArrives { .. } | Ev::ApiArrives { .. } | Ev::OpenTab | Ev::Sleep { .. }
        )
    }

    fn step(&mut self, ev: Ev) {
        match ev {
            Ev::Timer { tab, generation } => {
                if self.tabs[tab].alive && self.tabs[tab].timer_generation == generation {
                    self.tabs[tab].timer_at = None;
                    let device = self.device_now(tab);
                    self.tabs[tab].session.handle_timeout(device);
                    self.perform(tab);
                }
            }
            Ev::Deliver { tab, input } => {
                if let Input::RefreshFailed { op, .. } = &input {
                    self.tabs[tab].sent.remove(op);
                }
                self.feed(tab, input);
            }
            Ev::RefreshArrives { tab, op, token } => self.server_refresh(tab, op, &token),
            Ev::RefreshAnswer {
                tab,
                op,
                input,
                sent,
                successor,
            } => self.refresh_answer(tab, op, input, &sent, successor),
            Ev::ApiArrives { tab, token, replay } => {
                if !self.server.authorises(self.now, &token) && !replay && self.tabs[tab].alive {
                    self.feed_call(tab, |call| Input::TokenRefused { call, token }, true);
                }
            }
            Ev::AppCall { tab } => {
                if self.tabs[tab].alive && self.now < self.schedule.duration_ms {
                    if self.chance(0.01) {
                        self.feed_call(tab, |call| Input::ForceRefresh { call }, false);
                    } else {
                        self.feed_call(tab, |call| Input::GetToken { call }, false);
                    }
                    let next = self.between(2 * S, 15 * S);
                    self.after(next, Ev::AppCall { tab });
                }
            }
            Ev::IdbCommit { tab, op, value } => {
                self.committed.extend(value.clone());
                self.idb.value = value.clone();
                // The driver writes the mirror once IndexedDB has the token (storage.js).
                self.write_mirror(tab, value);
                self.feed(tab, Input::StorageDone { op, ok: true });
            }
            Ev::LsPropagate { tab, old, value } => {
                self.ls.set(tab, value.clone());
                let input = match value {
                    Some(token) => Input::PeerToken {
                        token,
                        expires_at: None,
                    },
                    None => Input::PeerSignedOut { token: old },
                };
                self.feed(tab, input);
            }
            Ev::OpenTab => {
                if self.now < self.schedule.duration_ms && self.alive_tabs() < 6 {
                    self.open_tab();
                }
            }
            Ev::CloseTab { tab } => self.close_tab(tab),
            Ev::Visibility { tab, hidden } => {
                if self.tabs[tab].alive {
                    self.tabs[tab].hidden = hidden;
                    if hidden {
                        self.perform(tab);
                    } else {
                        self.feed(tab, Input::Wake);
                    }
                }
            }
            Ev::Sleep { duration } => {
                self.frozen_until = self.now + duration;
                self.sleeps.push((self.now, self.now + duration));
                for tab in 0..self.tabs.len() {
                    self.at(
                        self.frozen_until,
                        Ev::Deliver {
                            tab,
                            input: Input::Wake,
                        },
                    );
                }
            }
        }
    }

    fn alive_tabs(&self) -> usize {
        self.tabs.iter().filter(|t| t.alive).count()
    }

    fn device_now(&self, tab: usize) -> i64 {
        self.now + self.tabs[tab].offset_ms
    }

    fn feed(&mut self, tab: usize, input: Input) {
        if !self.tabs[tab].alive {
            return;
        }
        let device = self.device_now(tab);
        self.tabs[tab].session.handle(device, input);
        self.perform(tab);
    }

    fn feed_call(&mut self, tab: usize, input: impl FnOnce(CallId) -> Input, replay: bool) {
        let t = &mut self.tabs[tab];
        let call = t.next_call;
        t.next_call += 1;
        t.calls.insert(
            call,
            PendingCall {
                since: self.now,
                replay,
            },
        );
        self.stats.calls += 1;
        self.feed(tab, input(call));
    }

    fn close_tab(&mut self, tab: usize) {
        if !self.tabs[tab].alive {
            return;
        }
        self.tabs[tab].alive = false;
        self.tabs[tab].calls.clear();
        // Requests still out are abandoned: their answers, if any, reach no one.
        let abandoned: Vec<String> = self.tabs[tab].sent.drain().map(|(_, t)| t).collect();
        for token in abandoned {
            self.server.answer_lost(&token);
        }
        // A successor it received but had not stored yet dies with it (but for its broadcast).
        let unstored: Vec<String> = (self.tabs[tab].writing.iter())
            .filter(|token| !self.committed.contains(*token))
            .cloned()
            .collect();
        for token in unstored {
            self.server.successor_lost(&token);
        }
        if let Some(grant) = self.lock.tab_closed(tab) {
            self.grant(grant);
        }
    }

    fn grant(&mut self, (tab, op): (usize, OpId)) {
        let delay = self.between(0, 3);
        self.after(
            delay,
            Ev::Deliver {
                tab,
                input: Input::LockGranted { op },
            },
        );
    }

    fn write_mirror(&mut self, tab: usize, value: Option<String>) {
        let old = self.ls_latest.clone();
        self.ls_latest = value.clone();
        self.ls.set(tab, value.clone());
        for other in 0..self.tabs.len() {
            if other != tab && self.tabs[other].alive {
                let lag = if self.chance(0.2) {
                    self.between(50, 2 * S)
                } else {
                    self.between(0, 50)
                };
                self.after(
                    lag,
                    Ev::LsPropagate {
                        tab: other,
                        old: old.clone(),
                        value: value.clone(),
                    },
                );
            }
        }
    }

    fn broadcast(&mut self, from: usize, input: &Input) {
        for other in 0..self.tabs.len() {
            if other == from
                || !self.tabs[other].alive
                || self.chance(self.schedule.faults.broadcast_loss)
            {
                continue;
            }
            let delay = if self.chance(0.1) {
                self.between(0, self.schedule.faults.broadcast_delay_ms.max(1))
            } else {
                self.between(0, 20)
            };
            self.after(
                delay,
                Ev::Deliver {
                    tab: other,
                    input: input.clone(),
                },
            );
        }
    }

    fn offline(&self) -> bool {
        self.schedule
            .faults
            .offline
            .iter()
            .any(|(from, to)| (*from..*to).contains(&self.now))
    }

    /// Performs every action of `tab` and sets its timer.
    fn perform(&mut self, tab: usize) {
        while let Some(action) = self.tabs[tab].session.poll_action() {
            self.act(tab, action);
        }
        let Some(device_at) = self.tabs[tab].session.poll_timeout() else {
            self.tabs[tab].timer_at = None;
            self.tabs[tab].timer_generation += 1;
            return;
        };
        let mut at = (device_at - self.tabs[tab].offset_ms).max(self.now);
        if self.tabs[tab].hidden {
            at = (at + HIDDEN_TIMER_ALIGN_MS - 1) / HIDDEN_TIMER_ALIGN_MS * HIDDEN_TIMER_ALIGN_MS;
        }
        if self.tabs[tab].timer_at != Some(at) {
            let t = &mut self.tabs[tab];
            t.timer_generation += 1;
            t.timer_at = Some(at);
            let generation = t.timer_generation;
            self.at(at, Ev::Timer { tab, generation });
        }
    }

    fn act(&mut self, tab: usize, action: Action) {
        if self.trace {
            println!("{:>8}   tab {tab} -> {action:?}", self.now);
        }
        match action {
            Action::ReadStorage { op } => {
                let (token, delay) = match self.schedule.protocol {
                    Protocol::Consistent => (self.idb.value.clone(), self.between(1, 15)),
                    Protocol::LocalStorageReread => (self.ls.read(tab), 1),
                };
                self.after(
                    delay,
                    Ev::Deliver {
                        tab,
                        input: Input::StorageRead {
                            op,
                            token,
                            expires_at: None,
                        },
                    },
                );
            }
            Action::WriteStorage { op, token, .. } => {
                self.tabs[tab].writing.insert(token.clone());
                self.write(tab, op, Some(token))
            }
            Action::ClearStorage { op } => self.write(tab, op, None),
            Action::AcquireLock { op } => {
                if let Some(grant) = self.lock.request(tab, op) {
                    self.grant(grant);
                }
            }
            Action::ReleaseLock { op } => {
                if let Some(grant) = self.lock.release(tab, op) {
                    self.grant(grant);
                }
            }
            Action::SendRefresh { op, token } => {
                self.stats.refresh_requests += 1;
                self.tabs[tab].attempts += 1;
                self.tabs[tab].sent.insert(op, token.clone());
                let faults = self.schedule.faults.clone();
                if self.offline() {
                    let delay = self.between(1, 50);
                    self.after(
                        delay,
                        Ev::Deliver {
                            tab,
                            input: Input::RefreshFailed {
                                op,
                                failure: TransportFailure::Network,
                            },
                        },
                    );
                } else if !self.chance(faults.drop_request) {
                    let delay = self.between(5, 200);
                    self.after(delay, Ev::RefreshArrives { tab, op, token });
                }
            }
            Action::AbortRefresh { op } => {
                // The server may have rotated already, or may yet: that answer is lost.
                self.tabs[tab].aborted.insert(op);
                if let Some(sent) = self.tabs[tab].sent.get(&op).cloned() {
                    self.server.answer_lost(&sent);
                }
            }
            Action::SendLogout { .. } => {}
            Action::AnnounceToken { token, .. } => {
                let input = Input::PeerToken {
                    token,
                    expires_at: None,
                };
                self.broadcast(tab, &input);
            }
            Action::AnnounceSignOut { token } => {
                let input = Input::PeerSignedOut { token: Some(token) };
                self.broadcast(tab, &input);
            }
            Action::Resolve { call, result } => self.resolved(tab, call, result),
            Action::Emit(event) => self.emitted(tab, event),
        }
    }

    fn write(&mut self, tab: usize, op: OpId, value: Option<String>) {
        match self.schedule.protocol {
            Protocol::Consistent => {
                let delay = self.between(1, 15);
                self.after(delay, Ev::IdbCommit { tab, op, value });
            }
            Protocol::LocalStorageReread => {
                self.write_mirror(tab, value);
                self.after(
                    1,
                    Ev::Deliver {
                        tab,
                        input: Input::StorageDone { op, ok: true },
                    },
                );
            }
        }
    }

    fn slept_during(&self, since: i64) -> i64 {
        self.sleeps
            .iter()
            .map(|(from, to)| (to.min(&self.now) - from.max(&since)).max(0))
            .sum()
    }

    fn resolved(
        &mut self,
        tab: usize,
        call: CallId,
        result: Result<String, consult_core::session::SessionError>,
    ) {
        let Some(pending) = self.tabs[tab].calls.remove(&call) else {
            self.violation(format!(
                "tab {tab}: call {call} answered twice or never asked"
            ));
            return;
        };
        let waited = self.now - pending.since - self.slept_during(pending.since);
        self.stats.max_wait_ms = self.stats.max_wait_ms.max(waited);
        let bound = if self.tabs[tab].hidden {
            HIDDEN_WAIT_BOUND_MS
        } else {
            WAIT_BOUND_MS
        };
        if waited > bound {
            self.violation(format!("tab {tab}: call {call} waited {waited} ms"));
        }
        if let Ok(token) = &result
            && self.schedule.protocol == Protocol::Consistent
            && self.tabs[tab].writing.contains(token)
            && !self.committed.contains(token)
        {
            self.violation(format!(
                "tab {tab}: call {call} was handed a token the storage does not have yet"
            ));
        }
        match result {
            Ok(token) if !pending.replay => {
                let delay = self.between(1, 30);
                self.after(
                    delay,
                    Ev::ApiArrives {
                        tab,
                        token,
                        replay: false,
                    },
                );
            }
            Ok(_) => {}
            Err(_) => self.stats.errors += 1,
        }
    }

    fn emitted(&mut self, tab: usize, event: SessionEvent) {
        match event {
            SessionEvent::TokenChanged => {
                let device = self.device_now(tab);
                let current = self.tabs[tab]
                    .session
                    .view(device)
                    .map(|v| v.token.to_owned());
                if current.is_none()
                    && let Some(last) = self.tabs[tab].last_token.clone()
                    && !self.server.sign_in_legitimately_over(self.now, &last)
                {
                    self.violation(format!("tab {tab} lost its token with no legitimate cause"));
                }
                self.tabs[tab].last_token = current;
            }
            SessionEvent::TokenRefreshed => {
                self.stats.refreshes += 1;
                let device = self.device_now(tab);
                if let Some(last) = self.tabs[tab].last_success_device_ms
                    && device - last < MIN_REFRESH_INTERVAL_MS
                {
                    self.violation(format!("tab {tab}: refreshes {} ms apart", device - last));
                }
                self.tabs[tab].last_success_device_ms = Some(device);
            }
            SessionEvent::SessionExpired(_) => {
                let last = self.tabs[tab].last_token.clone().unwrap_or_default();
                if !self.server.sign_in_legitimately_over(self.now, &last) {
                    self.violation(format!("tab {tab} signed out with no legitimate cause"));
                }
            }
            SessionEvent::RefreshFailed(_) | SessionEvent::Warning(_) => {}
        }
    }

    fn server_refresh(&mut self, tab: usize, op: OpId, token: &str) {
        let faults = self.schedule.faults.clone();
        let roll = self.rng.next_f64();
        let (status, retry_after) = if roll < faults.status_5xx {
            (503, self.chance(0.3).then(|| String::from("2")))
        } else if roll < faults.status_5xx + faults.status_403 {
            (403, None)
        } else if roll < faults.status_5xx + faults.status_403 + faults.status_429 {
            (429, Some(String::from("3")))
        } else {
            (200, None)
        };
        let delay = if self.chance(faults.slow) {
            self.between(5 * S, 15 * S)
        } else {
            self.between(5, 300)
        };
        // (status, body, retry-after, the successor the answer carries)
        let answer = if status != 200 {
            (status, String::new(), retry_after, None)
        } else {
            match self.server.refresh(self.now, token) {
                Outcome::Issued(text, expires_in) => {
                    if self.chance(faults.lose_answer) {
                        self.server.answer_lost(token);
                        return;
                    }
                    let body = if self.chance(faults.garble) {
                        self.server.answer_lost(token);
                        self.garbled(&text, token)
                    } else {
                        format!(
                            r#"{{"access_token":"{text}","token_type":"bearer","expires_in":{expires_in}}}"#
                        )
                    };
                    (200, body, None, Some(text))
                }
                Outcome::Refused(why) => (401, format!(r#"{{"error":"{why:?}"}}"#), None, None),
            }
        };
        let (status, body, retry_after, successor) = answer;
        let input = Input::RefreshAnswered {
            op,
            status,
            body,
            date: None,
            retry_after,
        };
        let sent = token.to_owned();
        self.after(
            delay,
            Ev::RefreshAnswer {
                tab,
                op,
                input,
                sent,
                successor,
            },
        );
    }

    /// A broken server or proxy: not JSON, a token already due, an absurd `expires_in`, the
    /// same token back, an `exp` in the year 9999.
    fn garbled(&mut self, text: &str, sent: &str) -> String {
        match self.rng.below(5) {
            0 => String::from("<html>502 Bad Gateway</html>"),
            1 => {
                let due = jwt(self.now + 30 * S, self.now - 3_600 * S, 9_999_999);
                format!(r#"{{"access_token":"{due}","expires_in":30}}"#)
            }
            2 => format!(r#"{{"access_token":"{text}","expires_in":-9e9}}"#),
            3 => format!(r#"{{"access_token":"{sent}","expires_in":3600}}"#),
            _ => {
                let forever = jwt(253_402_300_799_000, self.now, 9_999_998);
                format!(r#"{{"access_token":"{forever}"}}"#)
            }
        }
    }

    fn refresh_answer(
        &mut self,
        tab: usize,
        op: OpId,
        input: Input,
        sent: &str,
        successor: Option<String>,
    ) {
        let delivered = self.tabs[tab].alive && !self.tabs[tab].aborted.contains(&op);
        self.tabs[tab].sent.remove(&op);
        if !delivered {
            if successor.is_some() {
                self.server.answer_lost(sent);
            }
            return;
        }
        let rejected_before = self.tabs[tab].session.has_ended();
        self.feed(tab, input);
        if let Some(successor) = successor {
            let device = self.device_now(tab);
            let holds = self.tabs[tab]
                .session
                .view(device)
                .is_some_and(|v| v.token == successor);
            if !holds && !rejected_before {
                // The machine did not keep it (already holding a newer token, or the answer was
                // untrusted): that successor reaches no one. Counted: a fault-free run has none.
                self.stats.answers_dropped += 1;
                self.server.answer_lost(sent);
            }
        }
    }

    fn final_checks(&mut self) {
        for tab in 0..self.tabs.len() {
            if !self.tabs[tab].alive {
                continue;
            }
            let oldest = self.tabs[tab].calls.values().map(|c| c.since).min();
            if let Some(since) = oldest {
                let waited = self.now - since - self.slept_during(since);
                if waited > HIDDEN_WAIT_BOUND_MS {
                    self.violation(format!("tab {tab}: a call still waits after {waited} ms"));
                }
            }
            let hours = (self.now / (3_600 * S)).max(1) as u64;
            if self.tabs[tab].attempts > hours * 7_200 {
                self.violation(format!(
                    "tab {tab}: {} refresh attempts",
                    self.tabs[tab].attempts
                ));
            }
        }
        for (at, why) in self.server.illegitimate_refusals.clone() {
            self.violation(format!(
                "server refused a refresh at {at} ms: {why:?}, not caused by any lost answer"
            ));
        }
        self.stats.rotations = u64::from(self.server.rotations);
        self.stats.repeated_refreshes = u64::from(self.server.repeated_refreshes);
        if self.server.unexplained_repeats > 0 {
            let n = self.server.unexplained_repeats;
            self.violation(format!(
                "{n} refreshes of a token already rotated, with no lost answer to explain them"
            ));
        }
    }
}
