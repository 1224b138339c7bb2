//! A run's settings, drawn from its seed (swarm testing: each fault kind is switched on or off
//! per schedule, with its own probability): how many tabs and for how long, the server's rules
//! and instances, the faults, the clocks, the configuration, the user's actions, and which
//! cross-tab protocol the tabs' driver follows.

use consult_core::rng::Rng;

use super::server::Rules;

const S: i64 = 1_000;
const HOUR: i64 = 3_600 * S;

/// Where a tab re-reads the shared token after taking the lock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// A store where a read after the lock sees the last write (IndexedDB in a transaction),
    /// with `localStorage` kept as a mirror: the protocol of the drivers.
    Consistent,
    /// `localStorage`, whose per-tab copies lag behind: the protocol before the machine.
    LocalStorageReread,
}

/// What goes wrong, and how often (probabilities per request or operation). All zero in the
/// quiet period at the end of every run.
#[derive(Debug, Clone, Default)]
pub struct Faults {
    pub status_5xx: f64,
    pub status_403: f64,
    pub status_429: f64,
    /// The request never reaches the server (the client times out).
    pub drop_request: f64,
    /// The server rotated, but the answer never arrives.
    pub lose_answer: f64,
    /// The answer takes 5–15 s.
    pub slow: f64,
    /// The server rotated and answered garbage (not JSON, a due token, absurd times).
    pub garble: f64,
    /// Offline windows (every request fails at once).
    pub offline: Vec<(i64, i64)>,
    /// Share of broadcast messages lost.
    pub broadcast_loss: f64,
    /// Longest delay of a late broadcast message.
    pub broadcast_delay_ms: i64,
    /// Share of `storage` events (of the mirror) lost.
    pub storage_event_loss: f64,
    /// Share of storage operations that throw.
    pub storage_fail: f64,
    /// Share of storage operations that never answer.
    pub storage_hang: f64,
    /// Share of storage writes refused for quota.
    pub quota: f64,
    /// Share of tabs whose IndexedDB does not open (every operation fails).
    pub idb_open_fails: f64,
    /// The device's wall clock steps by this much at this time (every tab).
    pub wall_steps: Vec<(i64, i64)>,
    /// A tab freezes (its events wait) for this long, at this time, maybe holding the lock.
    pub freezes: Vec<(i64, i64)>,
    /// The `Date` header: 0 absent, 1 right, 2 wrong by hours.
    pub date_header: u8,
    /// Answers without `expires_in` (the skew comes from `iat`, or `Date`).
    pub no_expires_in: bool,
}

/// What the user does.
#[derive(Debug, Clone, Default)]
pub struct UserActions {
    /// A tab signs out at this time.
    pub sign_out: Option<i64>,
    /// A tab signs in again (a new sign-in) at this time.
    pub sign_in_again: Option<i64>,
    /// A tab is disposed at this time.
    pub dispose: Option<i64>,
}

/// The consultation around the token: each tab polls the session and holds a socket in its
/// room (issue 18, item 4).
#[derive(Debug, Clone, Default)]
pub struct Consultation {
    /// Whether the tabs poll and connect at all (off: the token session alone, as the
    /// regression seeds were found).
    pub on: bool,
    /// The poll interval (ms).
    pub poll_interval_ms: u64,
    /// The session goes `waiting` → `active` at this time…
    pub active_at: i64,
    /// …and ends (`true`: cancelled) at this time, if it does.
    pub terminal: Option<(i64, bool)>,
    /// Share of server pings after which the transport drops (a server restart, a network
    /// change).
    pub socket_drop: f64,
    /// Share of CONNECTs refused as "Service unavailable", and of poll requests answered 503.
    pub server_busy: f64,
    /// Share of acknowledgements the server never sends.
    pub ack_lost: f64,
    /// The session is deleted (GET answers 404) or the patient removed from it (403) at this
    /// time, if it is.
    pub gone: Option<(i64, u16)>,
}

/// One run's settings.
#[derive(Debug, Clone)]
pub struct Schedule {
    pub seed: u64,
    pub protocol: Protocol,
    pub tabs_at_start: usize,
    /// Faults and user actions happen before this; then the quiet period.
    pub duration_ms: i64,
    pub rules: Rules,
    pub faults: Faults,
    pub user: UserActions,
    /// Each tab's clock is off by up to this much.
    pub skew_ms: i64,
    /// Tabs open and close during the run.
    pub churn: bool,
    /// The laptop sleeps once, this long.
    pub sleep_ms: Option<i64>,
    /// Tabs go hidden (throttled timers) and come back.
    pub hidden: bool,
    pub request_timeout_ms: u64,
    pub cross_tab: bool,
    pub auto_refresh: bool,
    pub storage: bool,
    /// The environment has Web Locks (without: `LockUnavailable`, one tab).
    pub web_locks: bool,
    pub consultation: Consultation,
}

fn pick<T: Copy>(rng: &mut Rng, choices: &[T]) -> T {
    choices[rng.below(choices.len() as u64) as usize]
}

/// On in about half of the schedules, with a probability up to `max`.
fn maybe(rng: &mut Rng, max: f64) -> f64 {
    if rng.below(2) == 0 {
        0.0
    } else {
        rng.next_f64() * max
    }
}

impl Schedule {
    /// A schedule with everything drawn from `seed`: faults in about half of the runs, each kind
    /// on or off on its own.
    pub fn random(seed: u64, protocol: Protocol) -> Self {
        let mut rng = Rng::new(seed);
        let ttl_ms = pick(
            &mut rng,
            &[6 * S, 20 * S, 60 * S, 300 * S, 900 * S, 4 * HOUR],
        );
        let reuse_window_ms = pick(&mut rng, &[0, 0, 10 * S, 30 * S]);
        let mut tabs = pick(&mut rng, &[1, 2, 3, 4, 4, 5]);
        let lifetimes = pick(&mut rng, &[4, 6, 10]);
        let long = rng.below(20) == 0;
        let duration_ms = if long {
            // Long enough to reach the cap (and the grace period, with a sleep).
            pick(&mut rng, &[2 * HOUR, 13 * HOUR])
        } else {
            (ttl_ms * lifetimes).clamp(2 * 60 * S, HOUR)
        };
        let max_age_ms = if long && rng.below(2) == 0 {
            HOUR
        } else {
            12 * HOUR
        };
        let grace_ms = pick(&mut rng, &[HOUR, HOUR, 5 * 60 * S]);
        let faulty = rng.below(2) == 1;
        let skew_ms = pick(&mut rng, &[0, 90 * S, 10 * 60 * S]);
        let churn = rng.below(2) == 1;
        let sleep_ms = (rng.below(3) == 0).then(|| {
            let longest = 3 * ttl_ms + if long { 2 * HOUR } else { 0 };
            S + rng.below(longest as u64) as i64
        });
        let hidden = rng.below(2) == 1;
        let rotated_tokens_work = rng.below(2) == 1;
        let request_timeout_ms = pick(&mut rng, &[10_000, 10_000, 1_000, 30_000, u64::MAX]);
        let variant = rng.below(10);
        let (cross_tab, auto_refresh, storage) = match variant {
            0 => (false, true, true),
            1 => (true, false, true),
            2 => (true, true, false),
            _ => (true, true, true),
        };
        let web_locks = variant != 3;
        if !cross_tab || !storage || !web_locks {
            // The application opted out of sharing: one tab (several would race by design).
            tabs = 1;
        }
        let instances = if rng.below(3) == 0 {
            let n = 2 + rng.below(2) as usize;
            let spread = pick(&mut rng, &[2 * S, 10 * S, 30 * S]);
            (0..n)
                .map(|_| rng.below(2 * spread as u64 + 1) as i64 - spread)
                .collect()
        } else {
            vec![0]
        };
        let mut faults = Faults {
            broadcast_delay_ms: 200,
            date_header: pick(&mut rng, &[0, 1, 1, 2]) as u8,
            no_expires_in: rng.below(4) == 0,
            ..Faults::default()
        };
        if faulty {
            let mut rng = Rng::new(seed ^ 0xFA17);
            let offline = if rng.below(3) == 0 {
                let from = rng.below(duration_ms as u64) as i64;
                vec![(from, from + rng.below(5 * 60 * S as u64) as i64)]
            } else {
                Vec::new()
            };
            let wall_steps = if rng.below(4) == 0 {
                let at = rng.below(duration_ms as u64) as i64;
                let hours = pick(&mut rng, &[-3, -1, 1, 2]);
                vec![(at, hours * HOUR)]
            } else {
                Vec::new()
            };
            let freezes = if rng.below(4) == 0 {
                let at = rng.below(duration_ms as u64) as i64;
                vec![(at, S + rng.below(60 * S as u64) as i64)]
            } else {
                Vec::new()
            };
            faults = Faults {
                status_5xx: maybe(&mut rng, 0.3),
                status_403: maybe(&mut rng, 0.1),
                status_429: maybe(&mut rng, 0.1),
                drop_request: maybe(&mut rng, 0.05),
                lose_answer: maybe(&mut rng, 0.05),
                slow: maybe(&mut rng, 0.1),
                garble: maybe(&mut rng, 0.1),
                offline,
                broadcast_loss: maybe(&mut rng, 0.5),
                broadcast_delay_ms: rng.below(5 * S as u64) as i64,
                storage_event_loss: maybe(&mut rng, 0.5),
                storage_fail: maybe(&mut rng, 0.05),
                storage_hang: maybe(&mut rng, 0.02),
                quota: maybe(&mut rng, 0.05),
                idb_open_fails: maybe(&mut rng, 0.5),
                wall_steps,
                freezes,
                ..faults
            };
        }
        let mut user = UserActions::default();
        if rng.below(8) == 0 {
            user.sign_out = Some(rng.below(duration_ms as u64) as i64);
        }
        if rng.below(8) == 0 {
            user.sign_in_again = Some(rng.below(duration_ms as u64) as i64);
        }
        if rng.below(8) == 0 {
            user.dispose = Some(rng.below(duration_ms as u64) as i64);
        }
        // Drawn from its own generator: the token schedule of a seed is the same with or
        // without the consultation.
        let mut crng = Rng::new(seed ^ 0xC0_5017);
        let faulty_consult = faulty && crng.below(2) == 1;
        let active_at = crng.below(duration_ms as u64 / 2 + 1) as i64;
        let consultation = Consultation {
            on: true,
            poll_interval_ms: pick(&mut crng, &[5_000, 15_000, 30_000]),
            active_at,
            terminal: (crng.below(3) == 0).then(|| {
                let at = active_at + crng.below((duration_ms - active_at).max(1) as u64) as i64;
                (at, crng.below(2) == 0)
            }),
            socket_drop: if faulty_consult {
                maybe(&mut crng, 0.2)
            } else {
                0.0
            },
            server_busy: if faulty_consult {
                maybe(&mut crng, 0.2)
            } else {
                0.0
            },
            ack_lost: if faulty_consult {
                maybe(&mut crng, 0.2)
            } else {
                0.0
            },
            // Its own generator again, so every schedule drawn before it stays the same; its
            // constant is one under which no seed recorded before it (the regression lists,
            // the long mode's open seeds) loses its session: they replay as they were found.
            gone: {
                let mut grng = Rng::new(seed ^ 0x6053_000E);
                (grng.below(16) == 0).then(|| {
                    let at = grng.below(duration_ms as u64) as i64;
                    (at, pick(&mut grng, &[404, 403]))
                })
            },
        };
        Schedule {
            consultation,
            seed,
            protocol,
            tabs_at_start: tabs as usize,
            duration_ms,
            rules: Rules {
                ttl_ms,
                grace_ms,
                max_age_ms,
                reuse_window_ms,
                rotated_tokens_work,
                instance_offsets_ms: instances,
            },
            faults,
            user,
            skew_ms,
            churn,
            sleep_ms,
            hidden,
            request_timeout_ms,
            cross_tab,
            auto_refresh,
            storage,
            web_locks,
        }
    }

    /// The strict-server case: four tabs, 6 s tokens, no reuse window, no faults.
    pub fn strict_server(seed: u64, protocol: Protocol) -> Self {
        let mut schedule = Schedule::random(seed, protocol);
        schedule.tabs_at_start = 4;
        schedule.duration_ms = 10 * 60 * S;
        schedule.rules.ttl_ms = 6 * S;
        schedule.rules.reuse_window_ms = 0;
        schedule.rules.max_age_ms = 12 * HOUR;
        schedule.rules.instance_offsets_ms = vec![0];
        schedule.faults = Faults {
            broadcast_delay_ms: 200,
            date_header: 1,
            ..Faults::default()
        };
        schedule.user = UserActions::default();
        schedule.churn = false;
        schedule.sleep_ms = None;
        schedule.hidden = false;
        schedule.request_timeout_ms = 10_000;
        schedule.cross_tab = true;
        schedule.auto_refresh = true;
        schedule.storage = true;
        schedule.web_locks = true;
        schedule.consultation.on = false;
        schedule
    }

    /// The token session alone (the regression seeds replay as they were found).
    pub fn token_only(mut self) -> Self {
        self.consultation.on = false;
        self
    }
}
