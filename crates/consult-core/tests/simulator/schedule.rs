//! A run's settings, drawn from its seed: how many tabs and for how long, the server's rules,
//! the faults, the clocks, and which cross-tab protocol the tabs' driver follows.

use consult_core::rng::Rng;

use super::server::Rules;

const S: i64 = 1_000;

/// Where a tab re-reads the shared token after taking the lock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// A store where a read after the lock sees the last write (IndexedDB in a transaction),
    /// with `localStorage` kept as a mirror: the protocol of the drivers.
    Consistent,
    /// `localStorage`, whose per-tab copies lag behind: the protocol before the machine.
    LocalStorageReread,
}

/// What goes wrong, and how often (probabilities per request unless said otherwise).
#[derive(Debug, Clone, Default)]
pub struct Faults {
    pub status_5xx: f64,
    pub status_403: f64,
    pub status_429: f64,
    /// The request never reaches the server (the client times out).
    pub drop_request: f64,
    /// The server rotated, but the answer never arrives.
    pub lose_answer: f64,
    /// The answer takes 5–15 s (the client gives up at 10 s).
    pub slow: f64,
    /// The server rotated and answered garbage (not JSON, a due token, absurd times).
    pub garble: f64,
    /// Offline windows (every request fails at once).
    pub offline: Vec<(i64, i64)>,
    /// Share of broadcast messages lost.
    pub broadcast_loss: f64,
    /// Longest delay of a late broadcast message.
    pub broadcast_delay_ms: i64,
}

/// One run's settings.
#[derive(Debug, Clone)]
pub struct Schedule {
    pub seed: u64,
    pub protocol: Protocol,
    pub tabs_at_start: usize,
    pub duration_ms: i64,
    pub rules: Rules,
    pub faults: Faults,
    /// Each tab's clock is off by up to this much.
    pub skew_ms: i64,
    /// Tabs open and close during the run.
    pub churn: bool,
    /// The laptop sleeps once.
    pub sleep: bool,
    /// Tabs go hidden (throttled timers) and come back.
    pub hidden: bool,
}

impl Schedule {
    /// A schedule with everything drawn from `seed`: faults in about half of the runs.
    pub fn random(seed: u64, protocol: Protocol) -> Self {
        let mut rng = Rng::new(seed);
        let mut pick = |choices: &[i64]| choices[rng.below(choices.len() as u64) as usize];
        let ttl_ms = pick(&[6 * S, 20 * S, 60 * S, 300 * S, 900 * S]);
        let reuse_window_ms = pick(&[0, 0, 2 * S, 30 * S]);
        let tabs = pick(&[1, 2, 3, 4, 4, 5]) as usize;
        let lifetimes = pick(&[4, 6, 10]);
        let duration_ms = (ttl_ms * lifetimes).clamp(2 * 60 * S, 3_600 * S);
        let faulty = pick(&[0, 1]) == 1;
        let skew_ms = pick(&[0, 90 * S, 10 * 60 * S]);
        let churn = pick(&[0, 1]) == 1;
        let sleep = pick(&[0, 0, 1]) == 1;
        let hidden = pick(&[0, 1]) == 1;
        let rotated_tokens_work = pick(&[0, 1]) == 1;
        let faults = if faulty {
            let p = |rng: &mut Rng, max: f64| rng.next_f64() * max;
            let mut rng = Rng::new(seed ^ 0xFA17);
            let offline = if rng.below(3) == 0 {
                let from = rng.below(duration_ms as u64) as i64;
                vec![(from, from + rng.below(5 * 60 * S as u64) as i64)]
            } else {
                Vec::new()
            };
            Faults {
                status_5xx: p(&mut rng, 0.3),
                status_403: p(&mut rng, 0.1),
                status_429: p(&mut rng, 0.1),
                drop_request: p(&mut rng, 0.05),
                lose_answer: p(&mut rng, 0.05),
                slow: p(&mut rng, 0.1),
                garble: p(&mut rng, 0.1),
                offline,
                broadcast_loss: p(&mut rng, 0.5),
                broadcast_delay_ms: rng.below(5 * S as u64) as i64,
            }
        } else {
            Faults {
                broadcast_delay_ms: 200,
                ..Faults::default()
            }
        };
        Schedule {
            seed,
            protocol,
            tabs_at_start: tabs,
            duration_ms,
            rules: Rules {
                ttl_ms,
                grace_ms: 3_600 * S,
                max_age_ms: 12 * 3_600 * S,
                reuse_window_ms,
                rotated_tokens_work,
            },
            faults,
            skew_ms,
            churn,
            sleep,
            hidden,
        }
    }

    /// The strict-server case: four tabs, 6 s tokens, no reuse window, no faults.
    pub fn strict_server(seed: u64, protocol: Protocol) -> Self {
        let mut schedule = Schedule::random(seed, protocol);
        schedule.tabs_at_start = 4;
        schedule.duration_ms = 10 * 60 * S;
        schedule.rules.ttl_ms = 6 * S;
        schedule.rules.reuse_window_ms = 0;
        schedule.faults = Faults {
            broadcast_delay_ms: 200,
            ..Faults::default()
        };
        schedule.churn = false;
        schedule.sleep = false;
        schedule.hidden = false;
        schedule
    }
}
