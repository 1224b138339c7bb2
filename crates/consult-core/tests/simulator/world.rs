//! One simulated run: a virtual clock and an event queue; N tabs of one browser, each a
//! `TokenSession` with its own wall clock (skewed, and stepping when the schedule says) and a
//! monotonic clock, over the shared stores, lock and broadcast channel; a server of one or more
//! instances; faults drawn from the schedule, each recorded when injected. The run ends with a
//! fault-free quiet period and a probe of every open tab (liveness). The judge (see `main.rs`)
//! checks every answer against the server's history as the run goes.

use std::cmp::Ordering;
use std::collections::{BTreeMap, BinaryHeap, HashMap, HashSet};

use consult_core::rng::Rng;
use consult_core::session::{
    Action, CallId, Grant, Input, MIN_REFRESH_INTERVAL_MS, Now, OpId, STORAGE_TIMEOUT_MS,
    SessionConfig, SessionError, SessionEvent, TokenSession, TransportFailure,
};

#[path = "consult.rs"]
mod consult;

use super::browser::{CachedStore, ConsistentStore, WebLock};
use super::coverage::Coverage;
use super::schedule::{Protocol, Schedule};
use super::server::{EPOCH_MS, Excuse, Outcome, Server, jwt};
use consult::{Cev, Consult, Purpose};

const S: i64 = 1_000;
/// After the schedule's faults and actions end, nothing goes wrong for this long.
pub const QUIET_MS: i64 = 15 * 60 * S;
/// Then every open tab is asked for a token, and must have it within this.
const PROBE_MS: i64 = 5 * 60 * S;
/// Throttling of timers in hidden tabs (Chromium's intensive throttling aligns to a minute).
const HIDDEN_TIMER_ALIGN_MS: i64 = 60 * S;
/// A browser gives up on a request that never answers after about this long.
const BROWSER_NETWORK_TIMEOUT_MS: i64 = 300 * S;
/// A token handed out may lag the server's rotation by this much (a message in flight, the
/// skew measured to the second).
const PROPAGATION_MS: i64 = 3 * S;
/// An error or a stale token reaching a caller is excused by a fault this recent.
const FAULT_MEMORY_MS: i64 = 10 * S;
/// Events at one instant, and in one run, beyond which the run is a livelock.
const EVENTS_PER_INSTANT: u32 = 20_000;
const EVENTS_PER_RUN: u64 = 5_000_000;

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
    /// A broadcast the channel held back (a recorded fault): it may arrive after newer ones.
    DeliverLate {
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
        successor: Option<String>,
        /// A fault decided at the server (an error status, garbage, slowness): it is active
        /// until the answer reaches the tab.
        faulty: bool,
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
    WallStep {
        delta: i64,
    },
    Freeze {
        duration: i64,
    },
    SignOut,
    SignInAgain,
    Dispose,
    Probe,
    /// The probe's request was answered 401: the application replays it once.
    ProbeReplay {
        tab: usize,
        token: String,
    },
    /// The poller, the socket and their server.
    Consult(Cev),
    /// A request dropped or an answer lost: the fault lasts until the browser gives up.
    FaultEnds,
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
    /// What the token is for (the application, the poller, the socket).
    purpose: Purpose,
    since: i64,
    /// A replay after a 401: its token is not sent again.
    replay: bool,
    probe: bool,
    /// The probe's replay after a 401 (`TokenRefused`).
    replay_of_probe: bool,
    /// Asks for a token (not a sign-in or sign-out).
    wants_token: bool,
}

struct Tab {
    session: TokenSession,
    /// Device wall clock − true time.
    wall_offset: i64,
    /// Monotonic clock − true time.
    mono_base: i64,
    alive: bool,
    hidden: bool,
    frozen_from: i64,
    frozen_until: i64,
    timer_generation: u64,
    timer_at: Option<i64>,
    calls: HashMap<CallId, PendingCall>,
    next_call: CallId,
    aborted: HashSet<OpId>,
    /// The token each refresh request carried, and when it was sent (true time).
    sent: HashMap<OpId, (String, i64)>,
    last_token: Option<String>,
    /// The furthest `(sign-in, chain index)` this tab has held.
    highest: Option<((u32, u32), String)>,
    last_success_mono: Option<i64>,
    attempts: u64,
    /// The tokens this tab asked the storage to write.
    writing: HashSet<String>,
    /// IndexedDB does not open in this tab: every operation fails.
    storage_broken: bool,
    storage_faulted: bool,
    /// When each of this tab's hung storage operations hung (true time): the fault is active
    /// until the machine's storage deadline fires in this tab (a hidden tab's timers are
    /// throttled to a minute, and a lock holder keeps the lock until then).
    hung_since: Vec<i64>,
    lost_message: bool,
    /// Tokens whose `storage` event this tab lost before their broadcast went out, and the
    /// last tokens whose broadcast reached it: a successor is hidden (`lost_message`) only when
    /// neither channel brought it.
    missed_storage_events: Vec<String>,
    heard_broadcasts: Vec<String>,
    /// Last time a `storage` event reached this tab (they arrive in order).
    ls_last_at: i64,
    probed: Option<CallId>,
    /// The last token the tab held before it was probed.
    held: Option<String>,
    /// The probe's answer, judged when it came: a token current then, or why not.
    probe_answer: Option<Result<Result<(), String>, SessionError>>,
    /// The tab's poller and socket.
    consult: Consult,
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
    pub simulated_ms: i64,
    /// Rotated answers a live tab received but did not keep (untrusted, or superseded).
    pub answers_dropped: u64,
    /// Sign-ins revoked for reuse, by the recorded fault that excuses them.
    pub revocations: BTreeMap<String, u64>,
    /// Stale tokens handed out, excused by a fault.
    pub stale_excused: u64,
    /// Backoff waits after a failed attempt, and how many were whole seconds.
    pub backoff_draws: u64,
    pub backoff_round: u64,
    /// Poll requests, socket CONNECTs the server accepted, rooms joined, emits.
    pub polls: u64,
    pub connects: u64,
    pub joins: u64,
    pub emits: u64,
}

impl Stats {
    /// Adds `other`'s counts to these (the longest wait is the larger of the two).
    pub fn absorb(&mut self, other: &Stats) {
        self.events += other.events;
        self.calls += other.calls;
        self.refresh_requests += other.refresh_requests;
        self.refreshes += other.refreshes;
        self.rotations += other.rotations;
        self.repeated_refreshes += other.repeated_refreshes;
        self.max_wait_ms = self.max_wait_ms.max(other.max_wait_ms);
        self.errors += other.errors;
        self.tabs_opened += other.tabs_opened;
        self.simulated_ms += other.simulated_ms;
        self.answers_dropped += other.answers_dropped;
        for (why, n) in &other.revocations {
            *self.revocations.entry(why.clone()).or_default() += n;
        }
        self.stale_excused += other.stale_excused;
        self.backoff_draws += other.backoff_draws;
        self.backoff_round += other.backoff_round;
        self.polls += other.polls;
        self.connects += other.connects;
        self.joins += other.joins;
        self.emits += other.emits;
    }
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
    committed: HashSet<String>,
    ls: CachedStore,
    ls_latest: Option<String>,
    lock: WebLock,
    server: Server,
    frozen_until: i64,
    sleeps: Vec<(i64, i64)>,
    /// The last time a fault was injected (true time).
    last_fault_at: i64,
    /// The last time the user signed out or in.
    last_user_action_at: i64,
    /// The user signed out (and has not signed in again since): every tab may lose its token.
    signed_out: bool,
    /// Inside a user action: an abort then is the user's doing.
    in_user_action: bool,
    /// Feeding a late broadcast (a recorded fault).
    late_delivery: bool,
    /// A refresh attempt just failed: the next timer is its backoff.
    just_failed: bool,
    /// Faulty answers on their way (the fault is active until they arrive).
    faults_in_flight: u32,
    faults_injected: u64,
    /// Events at the current instant.
    instant_events: u32,
    pub stats: Stats,
    pub coverage: Coverage,
    pub violations: Vec<String>,
    /// Print every event and action (`SIM_TRACE=1`, with `SIM_SEED`).
    pub trace: bool,
    /// The consultation's status on the server, and its version (the ETag).
    session_status: &'static str,
    session_version: u32,
    /// The session deleted (404) or the patient removed from it (403).
    session_gone: Option<u16>,
    /// Every token a tab broadcast (the judge's record of what the channel carried).
    broadcast_sent: HashSet<String>,
}

/// Remembers `token` in a list of the last 16.
fn bounded_push(list: &mut Vec<String>, token: &str) {
    if list.len() >= 16 {
        list.remove(0);
    }
    list.push(token.to_owned());
}

fn quiet(schedule: &Schedule, now: i64) -> bool {
    now >= schedule.duration_ms
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
            last_fault_at: i64::MIN / 2,
            last_user_action_at: i64::MIN / 2,
            signed_out: false,
            in_user_action: false,
            late_delivery: false,
            just_failed: false,
            faults_in_flight: 0,
            faults_injected: 0,
            instant_events: 0,
            stats: Stats::default(),
            coverage: Coverage::default(),
            violations: Vec::new(),
            trace: false,
            session_status: "waiting",
            session_version: 1,
            session_gone: None,
            broadcast_sent: HashSet::new(),
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
        self.at(self.now.saturating_add(delay), ev);
    }

    fn between(&mut self, low: i64, high: i64) -> i64 {
        low.saturating_add(self.rng.below(high.saturating_sub(low).max(1) as u64) as i64)
    }

    /// Whether a fault with probability `p` strikes now (never in the quiet period).
    fn fault(&mut self, p: f64, kind: &'static str) -> bool {
        if p > 0.0 && !quiet(&self.schedule, self.now) && self.rng.next_f64() < p {
            self.fault_injected(kind);
            true
        } else {
            false
        }
    }

    fn fault_injected(&mut self, kind: &'static str) {
        self.last_fault_at = self.last_fault_at.max(self.now);
        self.faults_injected += 1;
        self.coverage.hit(kind);
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
        let schedule = &self.schedule;
        let config = [
            (!schedule.cross_tab, "config: cross-tab off"),
            (!schedule.auto_refresh, "config: auto-refresh off"),
            (!schedule.storage, "config: storage off"),
            (!schedule.web_locks, "config: no Web Locks"),
            (
                schedule.request_timeout_ms == u64::MAX,
                "config: no request timeout",
            ),
            (
                schedule.request_timeout_ms == 1_000,
                "config: request timeout 1 s",
            ),
            (
                schedule.request_timeout_ms == 30_000,
                "config: request timeout 30 s",
            ),
            (
                schedule.rules.reuse_window_ms == 0,
                "config: reuse window 0",
            ),
            (
                schedule.rules.reuse_window_ms == 10 * S,
                "config: reuse window 10 s",
            ),
            (
                schedule.rules.reuse_window_ms == 30 * S,
                "config: reuse window 30 s",
            ),
            (
                schedule.duration_ms > 12 * 3_600 * S,
                "config: a run past the 12 h cap",
            ),
        ];
        for (on, what) in config {
            if on {
                self.coverage.hit(what);
            }
        }
        let first = self.open_tab();
        let (token, expires_in) = self.server.sign_in(0);
        self.feed_call(
            first,
            |call| Input::SetSession {
                call,
                grant: Grant {
                    access_token: token.clone(),
                    expires_at: None,
                    expires_in: Some(expires_in as f64),
                },
            },
            false,
        );
        for _ in 1..self.schedule.tabs_at_start {
            let delay = self.between(0, 5 * S);
            self.after(delay, Ev::OpenTab);
        }
        let end = self.schedule.duration_ms;
        let shared = self.schedule.cross_tab && self.schedule.storage && self.schedule.web_locks;
        if self.schedule.churn && shared {
            for _ in 0..self.between(1, 6) {
                let at = self.between(0, end);
                self.at(at, Ev::OpenTab);
            }
        }
        if let Some(duration) = self.schedule.sleep_ms {
            // Over before the quiet period starts.
            let duration = duration.min(end * 3 / 4);
            let at = self.between(end / 4, end.saturating_sub(duration).max(end / 4 + 1));
            self.at(at, Ev::Sleep { duration });
        }
        for (at, delta) in self.schedule.faults.wall_steps.clone() {
            self.at(at, Ev::WallStep { delta });
        }
        for (at, duration) in self.schedule.faults.freezes.clone() {
            let duration = duration.min(end.saturating_sub(at).max(0));
            self.at(at, Ev::Freeze { duration });
        }
        let user = self.schedule.user.clone();
        if let Some(at) = user.sign_out {
            self.at(at, Ev::SignOut);
        }
        if let Some(at) = user.sign_in_again {
            self.at(at, Ev::SignInAgain);
        }
        if let Some(at) = user.dispose {
            self.at(at, Ev::Dispose);
        }
        self.at(end.saturating_add(QUIET_MS), Ev::Probe);
        self.consult_set_up();
    }

    fn open_tab(&mut self) -> usize {
        let tab = self.tabs.len();
        let skew = self.schedule.skew_ms;
        let mut wall_offset = if skew == 0 {
            0
        } else {
            self.between(-skew, skew)
        };
        // A tab opened after a step sees the stepped clock.
        for (at, delta) in self.schedule.faults.wall_steps.clone() {
            if at <= self.now {
                wall_offset = wall_offset.saturating_add(delta);
            }
        }
        let mono_base = self.between(0, 1_000_000);
        let config = SessionConfig {
            request_timeout_ms: self.schedule.request_timeout_ms,
            cross_tab: self.schedule.cross_tab,
            auto_refresh: self.schedule.auto_refresh,
            storage: self.schedule.storage,
            ..SessionConfig::default()
        };
        let storage_broken = self.chance(self.schedule.faults.idb_open_fails);
        if storage_broken {
            self.fault_injected("fault: IndexedDB does not open");
        }
        let seed = self.schedule.seed.wrapping_mul(31).wrapping_add(tab as u64);
        self.tabs.push(Tab {
            session: TokenSession::new(config, seed),
            wall_offset,
            mono_base,
            alive: true,
            hidden: false,
            frozen_from: i64::MIN,
            frozen_until: i64::MIN,
            timer_generation: 0,
            timer_at: None,
            calls: HashMap::new(),
            next_call: 1,
            aborted: HashSet::new(),
            sent: HashMap::new(),
            last_token: None,
            highest: None,
            last_success_mono: None,
            attempts: 0,
            writing: HashSet::new(),
            storage_broken,
            storage_faulted: storage_broken,
            hung_since: Vec::new(),
            lost_message: false,
            missed_storage_events: Vec::new(),
            heard_broadcasts: Vec::new(),
            ls_last_at: self.now,
            probed: None,
            held: None,
            probe_answer: None,
            consult: Consult::new(self.schedule.consultation.poll_interval_ms, seed),
        });
        self.ls.open_tab(self.ls_latest.clone());
        self.stats.tabs_opened += 1;
        self.consult_open(tab);
        let delay = self.between(0, 2 * S);
        self.after(delay, Ev::AppCall { tab });
        let end = self.schedule.duration_ms;
        if self.schedule.churn && tab > 0 {
            let close = self.between(self.now, end);
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

    /// Runs the schedule, the quiet period and the probe.
    pub fn run(&mut self) {
        let stop = self
            .schedule
            .duration_ms
            .saturating_add(QUIET_MS)
            .saturating_add(PROBE_MS);
        let mut last_at = i64::MIN;
        while let Some(next) = self.queue.pop() {
            if next.at > stop {
                break;
            }
            let frozen = match Self::tab_of(&next.ev) {
                Some(tab) => self.frozen_until.max(self.tabs[tab].frozen_until),
                // The user signs in, out or closes the page only while the laptop is awake, and
                // in a tab that is not frozen (one thaws first when every open tab is).
                None if matches!(next.ev, Ev::SignOut | Ev::SignInAgain | Ev::Dispose) => {
                    let thaw = self.tabs.iter().filter(|t| t.alive).map(|t| t.frozen_until);
                    self.frozen_until.max(thaw.min().unwrap_or(i64::MIN))
                }
                None => i64::MIN,
            };
            if next.at < frozen {
                // Deferred with its own sequence number: a tab's events deferred by a freeze
                // and then a sleep keep their order (a tab shown after it was hidden).
                self.queue.push(Scheduled {
                    at: frozen,
                    seq: next.seq,
                    ev: next.ev,
                });
                continue;
            }
            self.now = next.at;
            self.stats.events += 1;
            if next.at == last_at {
                self.instant_events += 1;
            } else {
                self.instant_events = 0;
                last_at = next.at;
            }
            if self.instant_events > EVENTS_PER_INSTANT {
                self.violation(format!(
                    "livelock: more than {EVENTS_PER_INSTANT} events at one instant ({:?})",
                    next.ev
                ));
                return;
            }
            if self.stats.events > EVENTS_PER_RUN {
                self.violation(format!(
                    "livelock: more than {EVENTS_PER_RUN} events in one run"
                ));
                return;
            }
            if self.trace {
                println!("{:>8} {:?}", self.now, next.ev);
            }
            self.step(next.ev);
        }
        self.now = stop;
        self.stats.simulated_ms = stop;
        self.final_checks();
    }

    /// The tab an event happens in (frozen tabs and a sleeping laptop delay it).
    fn tab_of(ev: &Ev) -> Option<usize> {
        match ev {
            Ev::Timer { tab, .. }
            | Ev::Deliver { tab, .. }
            | Ev::DeliverLate { tab, .. }
            | Ev::RefreshAnswer { tab, .. }
            | Ev::AppCall { tab }
            | Ev::IdbCommit { tab, .. }
            | Ev::LsPropagate { tab, .. }
            | Ev::CloseTab { tab }
            | Ev::Visibility { tab, .. } => Some(*tab),
            Ev::Consult(ev) => ev.tab(),
            _ => None,
        }
    }

    fn step(&mut self, ev: Ev) {
        match ev {
            Ev::Timer { tab, generation } => {
                if self.tabs[tab].alive && self.tabs[tab].timer_generation == generation {
                    self.tabs[tab].timer_at = None;
                    let now = self.clocks(tab);
                    self.coverage.hit("input: timeout");
                    self.tabs[tab].session.handle_timeout(now);
                    self.perform(tab);
                    self.storage_hangs_end(tab, false);
                }
            }
            Ev::Deliver { tab, input } => {
                if let Input::RefreshFailed { op, .. } = &input {
                    self.tabs[tab].sent.remove(op);
                }
                self.feed(tab, input);
            }
            Ev::DeliverLate { tab, input } => {
                self.late_delivery = true;
                self.feed(tab, input);
                self.late_delivery = false;
            }
            Ev::RefreshArrives { tab, op, token } => self.server_refresh(tab, op, &token),
            Ev::RefreshAnswer {
                tab,
                op,
                input,
                successor,
                faulty,
            } => {
                if faulty {
                    self.last_fault_at = self.last_fault_at.max(self.now);
                    self.faults_in_flight -= 1;
                }
                self.refresh_answer(tab, op, input, successor)
            }
            Ev::ApiArrives { tab, token, replay } => {
                if !self.server.authorises(self.now, &token) && !replay && self.tabs[tab].alive {
                    self.feed_call(tab, |call| Input::TokenRefused { call, token }, true);
                }
            }
            Ev::AppCall { tab } => {
                if self.tabs[tab].alive && !quiet(&self.schedule, self.now) {
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
                // A tab that missed the message of a new sign-in (a recorded fault) stores the
                // old sign-in's token over it, or into the store the new one's sign-out cleared
                // (the old sign-in comes back): the new one is lost from the store.
                let sid = |t: &Option<String>| {
                    t.as_deref()
                        .and_then(|t| self.server.position(t))
                        .map(|p| p.0)
                };
                let newer = match (&self.idb.value, &value) {
                    (Some(_), _) if sid(&self.idb.value) > sid(&value) => self.idb.value.clone(),
                    (None, Some(value)) => self.server.newer_sign_in_head(value),
                    _ => None,
                };
                if value.is_some()
                    && self.tabs[tab].lost_message
                    && let Some(newer) = newer
                {
                    self.server.write_failed(&newer);
                }
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
                        replaces: old,
                    },
                    None => Input::PeerSignedOut { token: old },
                };
                self.feed(tab, input);
            }
            Ev::OpenTab => {
                if !quiet(&self.schedule, self.now) && self.alive_tabs() < 6 {
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
                    self.consult_visibility(tab, hidden);
                }
            }
            Ev::Sleep { duration } => {
                self.fault_injected("fault: sleep");
                self.frozen_until = self.now.saturating_add(duration);
                self.last_fault_at = self.last_fault_at.max(self.frozen_until);
                self.sleeps.push((self.now, self.frozen_until));
                self.consult_sleep(self.frozen_until);
                // Connections die with the sleep: answers in flight are lost.
                for tab in 0..self.tabs.len() {
                    let sent: Vec<String> = self.tabs[tab]
                        .sent
                        .values()
                        .map(|(t, _)| t.clone())
                        .collect();
                    for token in sent {
                        self.server.excuse(&token, Excuse::SleptMidRefresh);
                    }
                    self.at(
                        self.frozen_until,
                        Ev::Deliver {
                            tab,
                            input: Input::Wake,
                        },
                    );
                }
            }
            Ev::WallStep { delta } => {
                self.fault_injected(if delta < 0 {
                    "fault: wall clock steps back"
                } else {
                    "fault: wall clock steps forward"
                });
                for tab in &mut self.tabs {
                    tab.wall_offset = tab.wall_offset.saturating_add(delta);
                }
            }
            Ev::Freeze { duration } => {
                // Prefer the tab holding the lock.
                let tab = match self.lock.holder {
                    Some((tab, _)) => tab,
                    None => self.any_alive_tab().unwrap_or(0),
                };
                if self.lock.holder.is_some() {
                    self.fault_injected("fault: tab frozen holding the lock");
                } else {
                    self.fault_injected("fault: tab frozen");
                }
                self.tabs[tab].frozen_from = self.now;
                self.tabs[tab].frozen_until = self.now.saturating_add(duration);
                // Active until the tab thaws (its delayed events come then).
                self.last_fault_at = self.last_fault_at.max(self.tabs[tab].frozen_until);
            }
            Ev::SignOut => {
                if let Some(tab) = self.any_alive_tab() {
                    self.coverage.hit("user: sign-out");
                    self.signed_out = true;
                    self.user_action(tab, |call| Input::SignOut { call });
                }
            }
            Ev::SignInAgain => {
                if let Some(tab) = self.any_alive_tab() {
                    self.coverage.hit("user: second sign-in");
                    self.signed_out = false;
                    // The 5 s spacing is per sign-in.
                    self.tabs[tab].last_success_mono = None;
                    let (token, expires_in) = self.server.sign_in(self.now);
                    self.user_action(tab, |call| Input::SetSession {
                        call,
                        grant: Grant {
                            access_token: token,
                            expires_at: None,
                            expires_in: Some(expires_in as f64),
                        },
                    });
                }
            }
            Ev::Dispose => {
                if let Some(tab) = self.any_alive_tab() {
                    self.coverage.hit("user: dispose");
                    self.feed(tab, Input::Dispose);
                    self.consult_dispose(tab);
                }
            }
            Ev::Probe => {
                for tab in 0..self.tabs.len() {
                    if self.tabs[tab].alive {
                        let call = self.feed_probe(tab, None);
                        self.tabs[tab].probed = Some(call);
                    }
                }
            }
            Ev::ProbeReplay { tab, token } => {
                if self.tabs[tab].alive {
                    self.coverage.hit("world: probe replayed after a 401");
                    self.feed_probe(tab, Some(token));
                }
            }
            Ev::Consult(ev) => self.consult_step(ev),
            Ev::FaultEnds => {
                self.faults_in_flight -= 1;
                self.last_fault_at = self.last_fault_at.max(self.now);
            }
        }
    }

    /// An open tab that is not frozen: a frozen page takes no input (a page the browser froze
    /// is in the background; a busy one handles the click when it thaws), so the user acts in
    /// another one, and a freeze falls on a tab not frozen already.
    fn any_alive_tab(&mut self) -> Option<usize> {
        let alive: Vec<usize> = (0..self.tabs.len())
            .filter(|t| self.tabs[*t].alive && self.tabs[*t].frozen_until <= self.now)
            .collect();
        (!alive.is_empty()).then(|| alive[self.rng.below(alive.len() as u64) as usize])
    }

    fn user_action(&mut self, tab: usize, input: impl FnOnce(CallId) -> Input) {
        self.last_user_action_at = self.now;
        self.in_user_action = true;
        self.feed_call(tab, input, false);
        self.in_user_action = false;
    }

    fn alive_tabs(&self) -> usize {
        self.tabs.iter().filter(|t| t.alive).count()
    }

    /// The tab's two clocks now.
    fn clocks(&self, tab: usize) -> Now {
        Now {
            wall_ms: self
                .now
                .saturating_add(EPOCH_MS)
                .saturating_add(self.tabs[tab].wall_offset),
            mono_ms: self.now.saturating_add(self.tabs[tab].mono_base),
        }
    }

    fn feed(&mut self, tab: usize, input: Input) {
        if !self.tabs[tab].alive {
            return;
        }
        self.coverage.input(&input);
        let now = self.clocks(tab);
        // A tab dropping its token (and its refresh) on the user's sign-out does the user's
        // bidding: the lost answer is the user's doing.
        let by_user = self.signed_out && matches!(input, Input::PeerSignedOut { .. });
        let before = self.in_user_action;
        self.in_user_action |= by_user;
        self.tabs[tab].session.handle(now, input);
        self.perform(tab);
        self.in_user_action = before;
    }

    fn feed_call(&mut self, tab: usize, input: impl FnOnce(CallId) -> Input, replay: bool) {
        let t = &mut self.tabs[tab];
        let call = t.next_call;
        t.next_call += 1;
        let input = input(call);
        let wants_token = matches!(
            input,
            Input::GetToken { .. } | Input::TokenRefused { .. } | Input::ForceRefresh { .. }
        );
        t.calls.insert(
            call,
            PendingCall {
                purpose: Purpose::App,
                since: self.now,
                replay,
                probe: false,
                replay_of_probe: false,
                wants_token,
            },
        );
        self.stats.calls += 1;
        self.feed(tab, input);
    }

    /// A token call of the poller or the socket.
    fn feed_call_for(&mut self, tab: usize, input: impl FnOnce(CallId) -> Input, purpose: Purpose) {
        let t = &mut self.tabs[tab];
        let call = t.next_call;
        t.next_call += 1;
        t.calls.insert(call, consult::pending(self.now, purpose));
        self.stats.calls += 1;
        self.feed(tab, input(call));
    }

    /// The probe: a `GetToken`, or (`refused`) the replay of a request the API answered 401.
    fn feed_probe(&mut self, tab: usize, refused: Option<String>) -> CallId {
        let t = &mut self.tabs[tab];
        let call = t.next_call;
        t.next_call += 1;
        t.calls.insert(
            call,
            PendingCall {
                purpose: Purpose::App,
                since: self.now,
                replay: true,
                probe: true,
                replay_of_probe: refused.is_some(),
                wants_token: true,
            },
        );
        let input = match refused {
            Some(token) => Input::TokenRefused { call, token },
            None => Input::GetToken { call },
        };
        self.feed(tab, input);
        call
    }

    fn close_tab(&mut self, tab: usize) {
        if !self.tabs[tab].alive {
            return;
        }
        self.coverage.hit("world: tab closed");
        self.storage_hangs_end(tab, true);
        self.tabs[tab].alive = false;
        self.tabs[tab].calls.clear();
        // Requests still out are abandoned: their answers, if any, reach no one.
        let abandoned: Vec<String> = self.tabs[tab].sent.drain().map(|(_, (t, _))| t).collect();
        if !abandoned.is_empty() {
            self.fault_injected("fault: tab closed mid-refresh");
        }
        for token in abandoned {
            self.server.excuse(&token, Excuse::TabClosed);
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

    /// The hung storage operations of `tab` whose deadline the machine has now seen (its timer
    /// fired after it), or all of them (`closed`): their fault ends now.
    fn storage_hangs_end(&mut self, tab: usize, closed: bool) {
        let now = self.now;
        let before = self.tabs[tab].hung_since.len();
        (self.tabs[tab].hung_since)
            .retain(|since| !closed && now < since.saturating_add(STORAGE_TIMEOUT_MS));
        let ended = before - self.tabs[tab].hung_since.len();
        if ended > 0 {
            self.faults_in_flight -= ended as u32;
            self.last_fault_at = self.last_fault_at.max(now);
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
        if old == value {
            // Web Storage fires no `storage` event when nothing changes (setItem with the same
            // value, removeItem of a missing key).
            return;
        }
        for other in 0..self.tabs.len() {
            if other == tab || !self.tabs[other].alive {
                continue;
            }
            if self.fault(
                self.schedule.faults.storage_event_loss,
                "fault: storage event lost",
            ) {
                self.message_lost(other, value.as_deref(), false);
                continue;
            }
            let lag = if self.chance(0.2) {
                self.between(50, 2 * S)
            } else {
                self.between(0, 50)
            };
            // `storage` events reach a tab in order.
            let at = self
                .now
                .saturating_add(lag)
                .max(self.tabs[other].ls_last_at);
            self.tabs[other].ls_last_at = at;
            self.at(
                at,
                Ev::LsPropagate {
                    tab: other,
                    old: old.clone(),
                    value: value.clone(),
                },
            );
        }
    }

    /// A message about `token` (a sign-out: `None`) did not reach `tab`. A new token goes out on
    /// two channels (the broadcast and the `localStorage` mirror's `storage` event): the tab
    /// misses it only when neither brought it — both lost, or the broadcast gone out before the
    /// tab opened; with one channel configured, or for a sign-out, one loss is enough.
    fn message_lost(&mut self, tab: usize, token: Option<&str>, broadcast: bool) {
        let both_channels = self.schedule.cross_tab && self.schedule.storage;
        let sent = token.is_some_and(|token| self.broadcast_sent.contains(token));
        let t = &mut self.tabs[tab];
        let Some(token) = token.filter(|_| both_channels) else {
            t.lost_message = true;
            return;
        };
        let missed = if broadcast {
            t.missed_storage_events.iter().any(|missed| missed == token)
        } else {
            sent && !t.heard_broadcasts.iter().any(|heard| heard == token)
        };
        if missed {
            t.lost_message = true;
        } else if !broadcast && !sent {
            bounded_push(&mut t.missed_storage_events, token);
        }
    }

    fn broadcast(&mut self, from: usize, input: &Input) {
        let token = match input {
            Input::PeerToken { token, .. } => Some(token.clone()),
            _ => None,
        };
        if let Some(token) = &token {
            self.broadcast_sent.insert(token.clone());
        }
        for other in 0..self.tabs.len() {
            if other == from || !self.tabs[other].alive {
                continue;
            }
            if self.fault(self.schedule.faults.broadcast_loss, "fault: broadcast lost") {
                self.message_lost(other, token.as_deref(), true);
                continue;
            }
            if let Some(token) = &token {
                bounded_push(&mut self.tabs[other].heard_broadcasts, token);
            }
            let can_be_late = self.schedule.faults.broadcast_delay_ms > 200;
            let input = input.clone();
            if self.chance(0.1) {
                let delay = self.between(0, self.schedule.faults.broadcast_delay_ms.max(1));
                if can_be_late && !quiet(&self.schedule, self.now) {
                    self.fault_injected("fault: broadcast late");
                    self.tabs[other].lost_message = true;
                    self.after(delay, Ev::DeliverLate { tab: other, input });
                } else {
                    self.after(delay, Ev::Deliver { tab: other, input });
                }
            } else {
                let delay = self.between(0, 20);
                self.after(delay, Ev::Deliver { tab: other, input });
            }
        }
    }

    fn offline(&self) -> bool {
        !quiet(&self.schedule, self.now)
            && self
                .schedule
                .faults
                .offline
                .iter()
                .any(|(from, to)| (*from..*to).contains(&self.now))
    }

    /// Performs every action of `tab` and sets its timer.
    fn perform(&mut self, tab: usize) {
        while let Some(action) = self.tabs[tab].session.poll_action() {
            self.coverage.action(&action);
            self.act(tab, action);
        }
        if std::mem::take(&mut self.just_failed)
            && let Some(at) = self.tabs[tab].session.poll_timeout()
        {
            let wait = at - self.clocks(tab).mono_ms;
            if wait > 0 {
                self.stats.backoff_draws += 1;
                if wait % 1000 == 0 {
                    self.stats.backoff_round += 1;
                }
            }
        }
        let Some(mono_at) = self.tabs[tab].session.poll_timeout() else {
            self.tabs[tab].timer_at = None;
            self.tabs[tab].timer_generation += 1;
            return;
        };
        let mut at = mono_at
            .saturating_sub(self.tabs[tab].mono_base)
            .max(self.now);
        if self.tabs[tab].hidden {
            at = at.saturating_add(HIDDEN_TIMER_ALIGN_MS - 1) / HIDDEN_TIMER_ALIGN_MS
                * HIDDEN_TIMER_ALIGN_MS;
        }
        if self.tabs[tab].timer_at != Some(at) {
            let t = &mut self.tabs[tab];
            t.timer_generation += 1;
            t.timer_at = Some(at);
            let generation = t.timer_generation;
            self.at(at, Ev::Timer { tab, generation });
        }
    }

    /// A storage operation's outcome in this tab: `None` when it hangs.
    fn storage_outcome(&mut self, tab: usize, write: bool) -> Option<bool> {
        if self.tabs[tab].storage_broken {
            return Some(false);
        }
        let faults = self.schedule.faults.clone();
        if self.fault(faults.storage_hang, "fault: storage hangs") {
            self.tabs[tab].storage_faulted = true;
            self.tabs[tab].hung_since.push(self.now);
            self.faults_in_flight += 1;
            return None;
        }
        if self.fault(faults.storage_fail, "fault: storage throws") {
            self.tabs[tab].storage_faulted = true;
            return Some(false);
        }
        if write && self.fault(faults.quota, "fault: quota exceeded") {
            self.tabs[tab].storage_faulted = true;
            return Some(false);
        }
        Some(true)
    }

    fn act(&mut self, tab: usize, action: Action) {
        if self.trace {
            println!("{:>8}   tab {tab} -> {action:?}", self.now);
        }
        match action {
            Action::ReadStorage { op } => {
                let delay = self.between(1, 15);
                match self.storage_outcome(tab, false) {
                    None => {}
                    Some(false) => self.after(
                        delay,
                        Ev::Deliver {
                            tab,
                            input: Input::StorageDone { op, ok: false },
                        },
                    ),
                    Some(true) => {
                        let token = match self.schedule.protocol {
                            Protocol::Consistent => self.idb.value.clone(),
                            Protocol::LocalStorageReread => self.ls.read(tab),
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
                }
            }
            Action::WriteStorage { op, token, .. } => {
                if self.tabs[tab].frozen_until.max(self.frozen_until) > self.now {
                    // A frozen tab's write lands when it thaws (the freeze is the fault).
                    self.server.write_failed(&token);
                }
                self.tabs[tab].writing.insert(token.clone());
                self.write(tab, op, Some(token))
            }
            Action::ClearStorage { op } => self.write(tab, op, None),
            Action::AcquireLock { op } if !self.schedule.web_locks => {
                let input = Input::LockUnavailable { op };
                self.after(1, Ev::Deliver { tab, input });
            }
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
            Action::SendRefresh { op, token } => self.send_refresh(tab, op, token),
            Action::AbortRefresh { op } => {
                self.tabs[tab].aborted.insert(op);
                if self.in_user_action
                    && let Some((sent, _)) = self.tabs[tab].sent.get(&op).cloned()
                {
                    self.server.excuse(&sent, Excuse::UserAction);
                }
            }
            Action::SendLogout { token } => {
                self.server.logout(&token);
                self.consult_sweep();
            }
            Action::AnnounceToken {
                token, replaces, ..
            } => {
                let input = Input::PeerToken {
                    token,
                    expires_at: None,
                    replaces,
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

    fn send_refresh(&mut self, tab: usize, op: OpId, token: String) {
        self.stats.refresh_requests += 1;
        self.tabs[tab].attempts += 1;
        self.tabs[tab].sent.insert(op, (token.clone(), self.now));
        let faults = self.schedule.faults.clone();
        if self.offline() {
            self.fault_injected("fault: offline");
            let delay = self.between(1, 50);
            let input = Input::RefreshFailed {
                op,
                failure: TransportFailure::Network,
            };
            self.after(delay, Ev::Deliver { tab, input });
        } else if self.fault(faults.drop_request, "fault: request dropped") {
            // The browser gives up on its own after a while (the machine's timeout may be none).
            let input = Input::RefreshFailed {
                op,
                failure: TransportFailure::Network,
            };
            self.after(BROWSER_NETWORK_TIMEOUT_MS, Ev::Deliver { tab, input });
            self.faults_in_flight += 1;
            self.after(BROWSER_NETWORK_TIMEOUT_MS, Ev::FaultEnds);
        } else {
            let delay = self.between(5, 200);
            self.after(delay, Ev::RefreshArrives { tab, op, token });
        }
    }

    fn write(&mut self, tab: usize, op: OpId, value: Option<String>) {
        match self.schedule.protocol {
            Protocol::Consistent => {
                let delay = self.between(1, 15);
                match self.storage_outcome(tab, value.is_some()) {
                    Some(true) => self.after(delay, Ev::IdbCommit { tab, op, value }),
                    outcome => {
                        if let Some(token) = &value {
                            self.server.write_failed(token);
                        }
                        if outcome.is_some() {
                            let input = Input::StorageDone { op, ok: false };
                            self.after(delay, Ev::Deliver { tab, input });
                        }
                    }
                }
            }
            Protocol::LocalStorageReread => {
                self.write_mirror(tab, value);
                let input = Input::StorageDone { op, ok: true };
                self.after(1, Ev::Deliver { tab, input });
            }
        }
    }

    fn slept_during(&self, since: i64) -> i64 {
        self.sleeps
            .iter()
            .map(|(from, to)| (to.min(&self.now) - from.max(&since)).max(0))
            .sum()
    }

    /// Longest wait of a caller: every attempt (lock, request, backoff, storage, a frozen
    /// holder) of `refresh_retries + 1` attempts; hidden tabs stretch each step to a minute.
    fn wait_bound(&self, tab: usize) -> i64 {
        let request = i64::try_from(self.schedule.request_timeout_ms)
            .unwrap_or(i64::MAX)
            .min(BROWSER_NETWORK_TIMEOUT_MS);
        let attempt = request * 2 + 11 * S + 30 * S + 10 * S + 61 * S;
        let bound = attempt * 4 + 60 * S;
        if self.tabs[tab].hidden {
            bound + 4 * 6 * HIDDEN_TIMER_ALIGN_MS
        } else {
            bound
        }
    }

    /// How far a token handed out may lag the server: a message in flight, and the spread of
    /// the instances' clocks (the skew is measured against whichever answered).
    fn allowance(&self) -> i64 {
        let offsets = &self.schedule.rules.instance_offsets_ms;
        let spread = offsets.iter().max().unwrap_or(&0) - offsets.iter().min().unwrap_or(&0);
        PROPAGATION_MS + spread
    }

    /// How far the tab's skew estimate is from the truth (closest instance): a tab that never
    /// measured it (its token came from the store or a peer) believes its own clock.
    fn skew_error(&self, tab: usize) -> i64 {
        let estimate = self.tabs[tab].session.skew_at(self.clocks(tab));
        let offsets = &self.schedule.rules.instance_offsets_ms;
        offsets
            .iter()
            .map(|off| (estimate - (off - self.tabs[tab].wall_offset)).abs())
            .min()
            .unwrap_or(0)
    }

    /// Whether a recorded fault hid `token`'s successor (lost, garbled, late, unstored...).
    fn successor_hidden(&self, token: &str) -> bool {
        self.server.get(token).is_some_and(|i| {
            i.excuse.is_some()
                || i.successor
                    .and_then(|(next, _, _)| self.server.by_jti(next))
                    .is_some_and(|n| n.write_failed)
        })
    }

    /// A recorded fault hid the successor of `token` (see [`Self::successor_hidden`]) and its
    /// broadcast did not reach `tab`: neither channel brought it.
    fn successor_missed(&self, tab: usize, token: &str) -> bool {
        let successor = (self.server.get(token))
            .and_then(|i| i.successor)
            .and_then(|(next, _, _)| self.server.by_jti(next));
        self.successor_hidden(token)
            && successor.is_none_or(|s| !self.tabs[tab].heard_broadcasts.contains(&s.text))
    }

    fn fault_recent(&self, since: i64) -> bool {
        self.faults_in_flight > 0 || self.last_fault_at >= since.saturating_sub(FAULT_MEMORY_MS)
    }

    fn resolved(&mut self, tab: usize, call: CallId, result: Result<String, SessionError>) {
        let Some(pending) = self.tabs[tab].calls.remove(&call) else {
            self.violation(format!(
                "tab {tab}: call {call} answered twice or never asked"
            ));
            return;
        };
        let waited = self.now - pending.since - self.slept_during(pending.since);
        self.stats.max_wait_ms = self.stats.max_wait_ms.max(waited);
        if waited > self.wait_bound(tab) {
            self.violation(format!("tab {tab}: call {call} waited {waited} ms"));
        }
        if pending.probe {
            let verdict = match &result {
                Ok(token) if self.server.legitimately_over(self.now, token) => Ok(Ok(())),
                // Valid means the API takes it: a rotated token where rotated tokens still work
                // (this tab missed the messages; its next refresh re-reads the store first).
                Ok(token)
                    if self.server.authorises(self.now, token)
                        && (self.tabs[tab].lost_message || self.successor_hidden(token)) =>
                {
                    Ok(Ok(()))
                }
                Ok(token) => {
                    let expiry = self.allowance() + self.skew_error(tab);
                    Ok(self
                        .server
                        .current(self.now, token, self.allowance(), expiry))
                }
                Err(error) => Err(*error),
            };
            // A recorded fault hid the successor from this tab and the API refuses the token
            // (rotated tokens do not work): the application's request gets a 401 and is replayed
            // once after `TokenRefused`, as the package's authorised request does. That answer
            // is the probe's.
            let replay = match (&verdict, &result) {
                (Ok(Err(_)), Ok(token))
                    if !pending.replay_of_probe
                        && !self.server.authorises(self.now, token)
                        && (self.tabs[tab].lost_message || self.successor_hidden(token)) =>
                {
                    Some(token.clone())
                }
                _ => None,
            };
            match replay {
                Some(token) => self.after(1, Ev::ProbeReplay { tab, token }),
                None => self.tabs[tab].probe_answer = Some(verdict),
            }
        }
        match &result {
            Ok(token) if pending.wants_token => {
                self.coverage.hit("result: token");
                self.judge_handed_out(tab, token, pending.since);
            }
            Ok(_) => {}
            Err(error) => {
                self.coverage.error(error);
                self.stats.errors += 1;
                self.judge_error(tab, error, pending.since);
            }
        }
        if let Ok(token) = &result
            && self.schedule.protocol == Protocol::Consistent
            && self.tabs[tab].writing.contains(token)
            && !self.committed.contains(token)
            && !self.server.get(token).is_some_and(|i| i.write_failed)
        {
            self.violation(format!(
                "tab {tab}: call {call} was handed a token the storage does not have yet"
            ));
        }
        if pending.purpose != Purpose::App {
            self.consult_token(tab, pending.purpose, result);
            return;
        }
        if let Ok(token) = result
            && !pending.replay
            && pending.wants_token
        {
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
    }

    /// A token handed to a caller as valid must be current on the server (or inside the reuse
    /// window), allowing for propagation, unless a recorded fault explains it.
    fn judge_handed_out(&mut self, tab: usize, token: &str, since: i64) {
        if self.server.legitimately_over(self.now, token) {
            // Signed out or ended elsewhere; this tab hears of it by message (or a 401).
            return;
        }
        let expiry = self.allowance() + self.skew_error(tab);
        if let Err(why) = self
            .server
            .current(self.now, token, self.allowance(), expiry)
        {
            let excused = self.successor_hidden(token)
                || self.fault_recent(since)
                || self.tabs[tab].lost_message
                || self.tabs[tab].storage_faulted
                || self.now.saturating_sub(self.last_user_action_at) < PROPAGATION_MS;
            if excused {
                self.stats.stale_excused += 1;
            } else {
                self.violation(format!("tab {tab} handed a caller a stale token: {why}"));
            }
        }
    }

    /// An error reaches a caller only while a fault is active or the sign-in legitimately ended.
    fn judge_error(&mut self, tab: usize, error: &SessionError, since: i64) {
        let last = self.tabs[tab].last_token.clone();
        let ended = match &last {
            Some(token) => self.server.legitimately_over(self.now, token),
            None => true, // no token: never signed in here, or signed out (a message said so)
        };
        let user =
            self.signed_out || self.last_user_action_at >= since.saturating_sub(FAULT_MEMORY_MS);
        if !(ended || user || self.fault_recent(since)) {
            self.violation(format!(
                "tab {tab}: a caller got {:?} with no fault active and the sign-in on",
                error.code
            ));
        }
    }

    /// No tab goes back to a predecessor after it has held the successor, unless the
    /// successor never reached the store (a recorded fault).
    fn judge_order(&mut self, tab: usize, token: &str) {
        let Some(position) = self.server.position(token) else {
            return;
        };
        match self.tabs[tab].highest.clone() {
            Some((highest, newer)) if position < highest => {
                // A tab whose IndexedDB never opens orders tokens by messages alone, and the
                // messages of several tabs carry no common order (what it hands out and
                // refreshes is still judged).
                let excused = self.server.get(&newer).is_some_and(|i| i.write_failed)
                    || self.server.get(token).is_some_and(|i| i.excuse.is_some())
                    || self.late_delivery
                    || self.tabs[tab].storage_broken;
                if excused {
                    self.coverage.hit("world: excused regression");
                } else {
                    self.violation(format!(
                        "tab {tab} went back from {highest:?} to {position:?}"
                    ));
                }
            }
            Some((highest, _)) if position == highest => {}
            _ => self.tabs[tab].highest = Some((position, token.to_owned())),
        }
    }

    fn emitted(&mut self, tab: usize, event: SessionEvent) {
        match event {
            SessionEvent::TokenChanged => {
                let now = self.clocks(tab);
                let current = self.tabs[tab]
                    .session
                    .view(now.wall_ms)
                    .map(|v| v.token.to_owned());
                // A tab left on a sign-in the user replaced, because the new one never reached
                // the store (a recorded fault), loses it when the new one ends and its tab clears
                // the store (which still held the old sign-in).
                if current.is_none()
                    && let Some(last) = self.tabs[tab].last_token.clone()
                    && !self.server.legitimately_over(self.now, &last)
                    && self.now.saturating_sub(self.last_user_action_at) > PROPAGATION_MS
                    && !self.signed_out
                    && !self.server.replaced_by_unstored_sign_in(&last)
                {
                    self.violation(format!("tab {tab} lost its token with no legitimate cause"));
                }
                if let Some(token) = &current {
                    if self.tabs[tab].probed.is_none() {
                        self.tabs[tab].held = Some(token.clone());
                    }
                    self.judge_order(tab, token);
                    self.consult_token_back(tab);
                }
                self.tabs[tab].last_token = current;
                self.coverage.hit("event: token changed");
            }
            SessionEvent::TokenRefreshed => {
                self.coverage.hit("event: token refreshed");
                self.stats.refreshes += 1;
                let mono = self.clocks(tab).mono_ms;
                if let Some(last) = self.tabs[tab].last_success_mono
                    && mono - last < MIN_REFRESH_INTERVAL_MS
                {
                    self.violation(format!("tab {tab}: refreshes {} ms apart", mono - last));
                }
                self.tabs[tab].last_success_mono = Some(mono);
            }
            SessionEvent::SessionExpired(_) => {
                self.coverage.hit("event: session expired");
                let last = self.tabs[tab].last_token.clone().unwrap_or_default();
                if !self.server.legitimately_over(self.now, &last) {
                    self.violation(format!("tab {tab} signed out with no legitimate cause"));
                }
            }
            SessionEvent::RefreshFailed(_) => {
                self.coverage.hit("event: refresh failed");
                self.just_failed = true;
            }
            SessionEvent::Warning(_) => self.coverage.hit("event: warning"),
        }
    }

    fn server_refresh(&mut self, tab: usize, op: OpId, token: &str) {
        let injected_before = self.faults_injected;
        let faults = self.schedule.faults.clone();
        let instance = self.rng.below(self.server.instances() as u64) as usize;
        if self.server.instances() > 1 {
            self.coverage.hit("world: several server instances");
        }
        let status = if self.fault(faults.status_5xx, "fault: 5xx") {
            503
        } else if self.fault(faults.status_403, "fault: 403") {
            403
        } else if self.fault(faults.status_429, "fault: 429") {
            429
        } else {
            200
        };
        let retry_after = match status {
            503 if self.chance(0.3) => Some(String::from("2")),
            429 => Some(String::from("3")),
            _ => None,
        };
        let timeout = i64::try_from(self.schedule.request_timeout_ms).unwrap_or(i64::MAX);
        let slow = self.fault(faults.slow, "fault: slow answer");
        let delay = if slow {
            self.between(5 * S, 15 * S)
        } else {
            self.between(5, 300)
        };
        let tab_state = &self.tabs[tab];
        let sender_excuse = if tab_state.storage_broken {
            Some(Excuse::StorageBroken)
        } else {
            (tab_state.storage_faulted && tab_state.lost_message)
                .then_some(Excuse::StorageAndMessageLost)
        };
        let true_local = self.now.saturating_add(EPOCH_MS);
        let (status, body, successor, local) = if status != 200 {
            (status, String::new(), None, true_local)
        } else {
            match self
                .server
                .refresh(self.now, instance, token, sender_excuse)
            {
                Outcome::Issued(text, expires_in, local) => {
                    if expires_in <= 0 {
                        // Instances whose clocks differ by more than a token's lifetime: the
                        // answering one calls the successor expired already.
                        self.fault_injected("fault: server clocks disagree");
                    }
                    if self.fault(faults.lose_answer, "fault: answer lost") {
                        self.server.excuse(token, Excuse::AnswerLost);
                        // The browser gives up on its own after a while.
                        let input = Input::RefreshFailed {
                            op,
                            failure: TransportFailure::Network,
                        };
                        self.after(BROWSER_NETWORK_TIMEOUT_MS, Ev::Deliver { tab, input });
                        self.faults_in_flight += 1;
                        self.after(BROWSER_NETWORK_TIMEOUT_MS, Ev::FaultEnds);
                        return;
                    }
                    // Late from the client's point of view: its timeout runs from the send.
                    let sent_at = self.tabs[tab].sent.get(&op).map_or(self.now, |s| s.1);
                    if self.now.saturating_add(delay).saturating_sub(sent_at) >= timeout {
                        self.server.excuse(token, Excuse::AnswerLate);
                    }
                    let body = if self.fault(faults.garble, "fault: answer garbled") {
                        self.server.excuse(token, Excuse::AnswerGarbled);
                        self.garbled(&text, token)
                    } else if faults.no_expires_in {
                        self.coverage.hit("world: answer without expires_in");
                        format!(r#"{{"access_token":"{text}","token_type":"bearer"}}"#)
                    } else {
                        format!(
                            r#"{{"access_token":"{text}","token_type":"bearer","expires_in":{expires_in}}}"#
                        )
                    };
                    (200, body, Some(text), local)
                }
                Outcome::Refused(why) => {
                    self.coverage.refusal(why);
                    self.consult_sweep();
                    (401, format!(r#"{{"error":"{why:?}"}}"#), None, true_local)
                }
            }
        };
        let date = match faults.date_header {
            0 => None,
            1 => Some(http_date(local)),
            _ => {
                self.coverage.hit("world: wrong Date header");
                Some(http_date(local.saturating_add(7 * 3_600 * S)))
            }
        };
        let input = Input::RefreshAnswered {
            op,
            status,
            body,
            date,
            retry_after,
        };
        let faulty = self.faults_injected != injected_before;
        self.faults_in_flight += u32::from(faulty);
        self.after(
            delay,
            Ev::RefreshAnswer {
                tab,
                op,
                input,
                successor,
                faulty,
            },
        );
    }

    /// A broken server or proxy: not JSON, a token already due, an absurd `expires_in`, the
    /// same token back, an `exp` in the year 9999.
    fn garbled(&mut self, text: &str, sent: &str) -> String {
        match self.rng.below(5) {
            0 => String::from("<html>502 Bad Gateway</html>"),
            1 => {
                let now = self.now + EPOCH_MS;
                let due = jwt(now + 30 * S, now - 3_600 * S, 9_999_999);
                format!(r#"{{"access_token":"{due}","expires_in":30}}"#)
            }
            2 => format!(r#"{{"access_token":"{text}","expires_in":-9e9}}"#),
            3 => format!(r#"{{"access_token":"{sent}","expires_in":3600}}"#),
            _ => {
                let forever = jwt(253_402_300_799_000, self.now + EPOCH_MS, 9_999_998);
                format!(r#"{{"access_token":"{forever}"}}"#)
            }
        }
    }

    fn refresh_answer(&mut self, tab: usize, op: OpId, input: Input, successor: Option<String>) {
        let Some((sent, sent_at)) = self.tabs[tab].sent.remove(&op) else {
            return;
        };
        let t = &self.tabs[tab];
        let delivered = t.alive && !t.aborted.contains(&op);
        if !delivered {
            // Aborted at its deadline while the tab was frozen (the answer and the timer both
            // wait for the thaw, in any order): late by the freeze.
            if t.frozen_until > sent_at && t.frozen_from < self.now {
                self.server.excuse(&sent, Excuse::AnswerLate);
            }
            return;
        }
        // A connection the sleep broke: the answer never arrives; the request fails.
        if self
            .sleeps
            .iter()
            .any(|(from, _)| (sent_at..self.now).contains(from))
        {
            let input = Input::RefreshFailed {
                op,
                failure: TransportFailure::Network,
            };
            self.feed(tab, input);
            return;
        }
        let rejected_before = self.tabs[tab].session.has_ended();
        self.feed(tab, input);
        if let Some(successor) = successor {
            let wall = self.clocks(tab).wall_ms;
            let holds = self.tabs[tab]
                .session
                .view(wall)
                .is_some_and(|v| v.token == successor);
            if !holds && !rejected_before {
                // The machine did not keep it (no excuse: a later reuse fails the run), unless
                // the user signed in again meanwhile: an answer for the old sign-in is dropped
                // on the user's word.
                self.stats.answers_dropped += 1;
                let held = self.tabs[tab]
                    .session
                    .view(wall)
                    .map(|v| v.token.to_owned());
                let sign_in = |t: &str| self.server.position(t).map(|(sid, _)| sid);
                if held.as_deref().and_then(sign_in) > sign_in(&successor) {
                    self.server.excuse(&sent, Excuse::UserAction);
                }
            }
        }
    }

    fn final_checks(&mut self) {
        for tab in 0..self.tabs.len() {
            if !self.tabs[tab].alive {
                continue;
            }
            // The poller and the socket keep asking during the quiet period: only a call older
            // than a caller's wait bound is stuck.
            let bound = self.now - self.wait_bound(tab);
            let oldest = (self.tabs[tab].calls.values())
                .filter(|c| c.purpose == Purpose::App || c.since < bound)
                .map(|c| c.since)
                .min();
            if let Some(since) = oldest {
                let waited = self.now - since - self.slept_during(since);
                self.violation(format!("tab {tab}: a call still waits after {waited} ms"));
            }
            let hours = (self.now / (3_600 * S)).max(1) as u64;
            if self.tabs[tab].attempts > hours * 7_200 {
                self.violation(format!(
                    "tab {tab}: {} refresh attempts",
                    self.tabs[tab].attempts
                ));
            }
            self.judge_liveness(tab);
            self.consult_final(tab);
        }
        for (at, what) in self.server.unexcused_repeats.clone() {
            self.violation(format!(
                "at {at} ms {what} was refreshed again after its rotation, with no recorded fault"
            ));
        }
        for (excuse, n) in self.server.revocations.clone() {
            let name = match excuse {
                Some(excuse) => format!("{excuse:?}"),
                None => {
                    self.violation(format!(
                        "{n} sign-in(s) revoked for reuse with no recorded fault"
                    ));
                    String::from("unexcused")
                }
            };
            *self.stats.revocations.entry(name).or_default() += u64::from(n);
        }
        self.stats.rotations = u64::from(self.server.rotations);
        self.stats.repeated_refreshes = u64::from(self.server.repeated_refreshes);
    }

    /// After the quiet period, every open tab answers its probe with a current token, unless
    /// the sign-in legitimately ended (then with an error, and no token held).
    fn judge_liveness(&mut self, tab: usize) {
        let answer = self.tabs[tab].probe_answer.clone();
        let ended = |server: &Server, now: i64, token: &Option<String>| {
            token
                .as_ref()
                .is_none_or(|t| server.legitimately_over(now, t))
        };
        match answer {
            None => self.violation(format!("tab {tab}: the probe was never answered")),
            Some(Ok(Ok(()))) => {}
            Some(Ok(Err(why))) => {
                self.violation(format!("tab {tab}: the probe got a stale token: {why}"));
            }
            Some(Err(error)) => {
                // Only when the sign-in is over (or there never was one in this tab's reach).
                // A tab whose IndexedDB never opens orders sign-ins by messages alone (its going
                // back is excused): the sign-in it held last before the probe over, the error
                // was its answer, whatever token of another sign-in a message brought it after.
                let last = self.tabs[tab].last_token.clone();
                let held = self.tabs[tab].held.as_deref();
                let broken_and_over = self.tabs[tab].storage_broken
                    && held.is_some_and(|t| self.server.sign_in_over(self.now, t));
                // Recorded faults hid the successor of the token it held (not stored, its
                // broadcast lost to this tab), and that token is past its grace or the cap:
                // the refresh endpoint's 401 was the answer.
                let hidden_and_over = held.is_some_and(|t| {
                    self.server.legitimately_over(self.now, t) && self.successor_missed(tab, t)
                });
                if !ended(&self.server, self.now, &last) && !broken_and_over && !hidden_and_over {
                    self.violation(format!(
                        "tab {tab}: after the quiet period a call still fails ({:?})",
                        error.code
                    ));
                }
            }
        }
    }
}

/// `Date` header text for Unix ms.
fn http_date(ms: i64) -> String {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let secs = ms.div_euclid(1000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Civil from days (Howard Hinnant).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{}, {:02} {} {} {:02}:{:02}:{:02} GMT",
        DAYS[days.rem_euclid(7) as usize],
        day,
        MONTHS[(month - 1) as usize],
        year,
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}
