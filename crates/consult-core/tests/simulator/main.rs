//! The deterministic simulator: the proof of the token session's logic, and its judge. Many tabs
//! of one browser, each a `TokenSession` with a skewed (and sometimes stepping) wall clock and a
//! monotonic clock, over models of IndexedDB (failing, hanging, full), `localStorage` (stale
//! per-tab copies, lost `storage` events), BroadcastChannel (delay, loss) and the Web Lock (FIFO,
//! frozen holders, holders that die), against a server of one or more instances with their own
//! clocks over one store, with consult-stub's rules, on one virtual clock.
//!
//! The judge checks every run against the server's history; the only excuses are faults the
//! world injected and recorded (never a machine's own abort or dropped answer):
//! - a sign-in revoked for reuse, or a token refreshed again after its rotation, needs a
//!   recorded fault that hid the successor (answer lost, garbled, late, a sleep, a tab closed,
//!   the successor's write failed, or storage and message faults in the refreshing tab);
//! - a token handed to a caller as valid was current on the server (or inside the reuse window)
//!   at that moment, give or take the propagation of a message, unless a fault was active;
//! - no tab goes back to a predecessor after holding the successor, unless the successor never
//!   reached the store (a recorded fault);
//! - an error reaches a caller only while a fault is active or the sign-in legitimately ended;
//! - every call is answered once within a bound; refreshes of a tab are 5 s apart (monotonic);
//! - liveness: every run ends with a fault-free quiet period, after which every open tab answers
//!   a probe with a current token (or, if the sign-in legitimately ended, with an error);
//! - an event budget per instant and per run turns a livelock into a failure with its seed.
//!
//! `SIM_SCHEDULES=N` sets how many random schedules run (default 10,000), on all cores;
//! `SIM_SEED=S` replays one schedule (`SIM_TRACE=1` prints every event and action).

mod browser;
mod coverage;
mod schedule;
mod server;
mod world;

use std::collections::BTreeMap;
use std::time::Instant;

use coverage::Coverage;
use schedule::{Protocol, Schedule};
use world::{Stats, World};

fn env_number(name: &str) -> Option<u64> {
    std::env::var(name).ok()?.trim().parse().ok()
}

/// Runs one schedule; the violations, if any, with the seed that replays them.
fn run(schedule: Schedule) -> (World, Option<String>) {
    let seed = schedule.seed;
    let mut world = World::new(schedule);
    world.trace = env_number("SIM_TRACE") == Some(1)
        && (env_number("SIM_SEED") == Some(seed) || env_number("SIM_STRICT_SEED") == Some(seed));
    world.run();
    let failure = (!world.violations.is_empty()).then(|| {
        format!(
            "schedule {seed} broke an invariant (replay: SIM_SEED={seed} cargo test -p consult-core --test simulator -- --nocapture):\n  {}",
            world.violations.join("\n  ")
        )
    });
    (world, failure)
}

#[derive(Default)]
struct Totals {
    stats: Stats,
    coverage: Coverage,
    schedules: u64,
    revoked_runs: u64,
    failures: Vec<String>,
    failed_seeds: Vec<u64>,
}

fn world_seed(failure: &str) -> u64 {
    failure
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(u64::MAX)
}

impl Totals {
    fn add(&mut self, world: &World, failure: Option<String>) {
        let s = &world.stats;
        self.schedules += 1;
        self.stats.absorb(s);
        if !s.revocations.is_empty() {
            self.revoked_runs += 1;
        }
        self.coverage.merge(&world.coverage);
        if let Some(failure) = failure {
            if env_number("SIM_LIST") == Some(1) {
                println!(
                    "FAIL {}",
                    failure.lines().take(3).collect::<Vec<_>>().join(" | ")
                );
            }
            self.failed_seeds.push(world_seed(&failure));
            if self.failures.len() < 200 {
                self.failures.push(failure);
            }
        }
    }

    fn merge(&mut self, other: Totals) {
        self.stats.absorb(&other.stats);
        self.schedules += other.schedules;
        self.revoked_runs += other.revoked_runs;
        self.coverage.merge(&other.coverage);
        self.failures.extend(other.failures);
        self.failed_seeds.extend(other.failed_seeds);
    }
}

/// Runs `seeds` on every core; totals and the first failures.
fn run_many(seeds: Vec<u64>) -> Totals {
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let handles: Vec<_> = (0..threads)
        .map(|part| {
            let mine: Vec<u64> = seeds.iter().copied().skip(part).step_by(threads).collect();
            std::thread::spawn(move || {
                let mut totals = Totals::default();
                for seed in mine {
                    let (world, failure) = run(Schedule::random(seed, Protocol::Consistent));
                    totals.add(&world, failure);
                }
                totals
            })
        })
        .collect();
    let mut totals = Totals::default();
    for handle in handles {
        match handle.join() {
            Ok(part) => totals.merge(part),
            Err(_) => totals
                .failures
                .push(String::from("a simulator thread panicked")),
        }
    }
    totals
}

/// Seeds that once broke an invariant (found by the simulator, fixed in the machine): they run
/// every time, whatever `SIM_SCHEDULES` says.
const REGRESSION_SEEDS: &[(u64, &str)] = &[
    (
        7,
        "a successor due at once (a reuse-window replay) refused: its predecessor refreshed again, sign-in revoked",
    ),
    (
        11,
        "a successor with an earlier exp (another instance's clock) not adopted: every tab kept a rotated token",
    ),
    (
        20,
        "reuse revoked the sign-in with no recorded fault (exp/iat ordering under the lock)",
    ),
    (31, "reuse revoked the sign-in with no recorded fault"),
    (
        38,
        "tabs went back to a predecessor, then refreshed it: revoked",
    ),
    (44, "reuse revoked the sign-in with no recorded fault"),
    (
        144,
        "a token the server refused (401) handed out again while its replacement was on the way",
    ),
    (
        247,
        "a failed first load never read again; a late storage event took a tab back",
    ),
    (
        321,
        "a broadcast overtook the storage event of the token before: the tab went back",
    ),
    // Fixed in the machine: a message the tab cannot order against its own token (a `storage`
    // event seconds behind the store, a held-back broadcast) is checked against the store.
    (
        1238,
        "a late message took tabs back; the probe got RefreshRejected",
    ),
    (
        2053,
        "a late storage event took a tab back, then it refreshed the predecessor",
    ),
    (
        2381,
        "storage events lagging a re-read under the lock took a tab back",
    ),
    (
        3578,
        "a late message retired the newer token: reuse, sign-in revoked",
    ),
    (
        4757,
        "a late storage event took a tab back, then it refreshed the predecessor",
    ),
    (
        5913,
        "a tab signed out with no legitimate cause after a late message",
    ),
    (
        6310,
        "a late message retired the newer token: reuse, sign-in revoked",
    ),
    (
        6507,
        "a held-back broadcast retired the newer token the store held: the tab refreshed the old one",
    ),
    (
        7233,
        "a late message left a tab on a rotated token at the probe",
    ),
    (
        7973,
        "a late message retired the newer token: its predecessor refreshed again",
    ),
    (
        9421,
        "storage events lagging a re-read under the lock took a tab back",
    ),
    // The judge was wrong: an answer arriving after the client's timeout counted from the
    // request's arrival at the server, not its send, so a late answer went unexcused.
    (
        1869,
        "an answer late by the send's time was not excused (judge)",
    ),
    (
        3581,
        "an answer late by the send's time was not excused (judge)",
    ),
    (
        4342,
        "an answer late by the send's time was not excused (judge)",
    ),
    (
        8520,
        "an answer late by the send's time was not excused (judge)",
    ),
    (
        8973,
        "an answer late by the send's time was not excused (judge)",
    ),
    // The judge was wrong: a fault is active until its effect reaches the tab (a slow, garbled
    // or failed answer until it arrives; a frozen tab or a sleep until it ends), not only for
    // ten seconds after it was injected.
    (
        344,
        "a rotated token handed out while a slow answer was on its way (judge)",
    ),
    (
        917,
        "a rotated token handed out while a slow answer was on its way (judge)",
    ),
    (
        1439,
        "a rotated token handed out while a slow answer was on its way (judge)",
    ),
    (
        6831,
        "a garbled answer arriving 15 s after its fault: BadResponse unexcused (judge)",
    ),
    (
        6867,
        "a garbled answer arriving late: BadResponse unexcused (judge)",
    ),
    (
        7540,
        "a rotated token handed out while a slow answer was on its way (judge)",
    ),
    (
        9812,
        "a frozen tab thawed and handed out a token rotated meanwhile (judge)",
    ),
    // Fixed in the machine: the skew is anchored to wall − monotonic time (`skew_at`).
    (
        6817,
        "a wall clock stepped back 3 h: a peer's expired token looked valid for 3 h",
    ),
    // Found while fixing the above (the store check must not stop a tab whose IndexedDB never
    // opens from following the messages).
    (
        2292,
        "a tab whose IndexedDB never opens stayed on an old token: signed out past the grace",
    ),
    // The model was wrong: Web Storage fires no `storage` event when nothing changes.
    (
        5066,
        "a clear of an empty mirror fired an event read as a sign-out: tabs lost their token",
    ),
    // The judge was wrong: an answer for the old sign-in, dropped because the user signed in
    // again meanwhile, is the user's doing.
    (
        138,
        "the old sign-in's token refreshed again after its answer was dropped for a new sign-in",
    ),
];

/// Seeds of the whole consultation (the poller and the socket beside the token session) that
/// once broke an invariant; they run with the consultation on.
const CONSULTATION_REGRESSION_SEEDS: &[(u64, &str)] = &[
    (
        30,
        "join_room refused for a token rotated since CONNECT: the socket stayed out of the room",
    ),
    (
        25814,
        "a 401 for the old sign-in's token, answered after a new sign-in, ended the new one",
    ),
    (31026, "a 401 for the old sign-in's token ended the new one"),
    (38292, "a 401 for the old sign-in's token ended the new one"),
    (55286, "a 401 for the old sign-in's token ended the new one"),
    (
        17098,
        "a late message adopted over ours because the store was behind (ours, not the message)",
    ),
    // The judge was wrong: an answer and its deadline both waiting for a frozen tab to thaw
    // come in any order; aborted first, the answer is late by the freeze.
    (
        13234,
        "an answer aborted at its deadline after a freeze, unexcused (judge)",
    ),
    // The model was wrong: a tab's events deferred by a freeze and then a sleep changed order
    // (shown, then hidden: polling paused for good); the application did not connect again
    // after the server disconnected a socket of an old sign-in.
    (
        83675,
        "a tab's visibility events reordered by a freeze and a sleep (model)",
    ),
    (
        26717,
        "no reconnect after the server disconnected the old sign-in's socket (model)",
    ),
    // Session 9. The judge was wrong: a hung storage operation is a fault until the machine's
    // storage deadline fires in that tab (a hidden lock holder's timers are throttled to a
    // minute: the other tabs wait for the lock that long), not ten seconds after it hung.
    (
        89980,
        "a Timeout while a hidden lock holder's storage hung, unexcused (judge)",
    ),
    (
        98211,
        "a Timeout while a hidden lock holder's storage hung, unexcused (judge)",
    ),
    // The judge was wrong: a tab that missed both messages of a rotation (recorded faults)
    // holds a token the API refuses where rotated tokens do not work; the application's request
    // is answered 401 and replayed once after `TokenRefused` (the re-read under the lock finds
    // the successor). The probe follows that replay. Found on the way (session 9's machine).
    (
        81520,
        "the probe got a rotated token the API refuses, its 401 replay not followed (judge)",
    ),
    // Session 9, fixed in the machine: a second sign-in is stored under the lock and announced
    // once stored, replacing nothing (each tab orders it by the store).
    (
        16500,
        "a frozen lock holder stored the old sign-in's successor over the new sign-in: tabs went back",
    ),
    (
        33878,
        "the old sign-in's successor stored over the new sign-in (written without the lock)",
    ),
    (
        56480,
        "the old sign-in's successor stored over the new sign-in (written without the lock)",
    ),
    (
        89146,
        "the old sign-in's successor stored over the new sign-in (written without the lock)",
    ),
    (
        33687,
        "a refusal of the old sign-in's token cleared the store after the lock went",
    ),
    (
        11335,
        "a refusal cleared the store after the lock went: the new sign-in stored first was wiped",
    ),
    (
        54465,
        "a late storage event of a sign-in (replacing nothing) adopted at once took a tab back",
    ),
    (
        72012,
        "under the lock a tab refreshed its older token while a newer message awaited its read",
    ),
    (
        13989,
        "a bad answer to a forced refresh not retried: the tab kept a rotated token",
    ),
    // Found on the way (they failed with this session's sign-in change before its last
    // steps), fixed in the machine.
    (
        10947,
        "a tab without a store dropped its own successor after an unordered adoption: reuse",
    ),
    (
        8014,
        "a tab without a store kept the old sign-in going; tabs whose sign-in ended adopted it",
    ),
    (
        37914,
        "a tab without a store ignored a sign-in it could not order and kept the old one going",
    ),
    (
        76576,
        "a sign-in the store could not order (one failed read) was ignored: old sign-in kept",
    ),
    (
        61346,
        "tabs holding none adopted the old sign-in kept going by a tab that missed the sign-in",
    ),
    (
        63050,
        "a tab holding none adopted the old sign-in's refresh; the store (cleared) confirmed nothing",
    ),
    (78707, "a tab holding none went back to the old sign-in"),
    (
        3679,
        "a successor adopted from a peer before the tab's own answer retired itself: reuse",
    ),
    // The model was wrong: the user signed in and out while the laptop slept (user actions now
    // wait for it to wake).
    (
        762,
        "a sign-in and a sign-out during a sleep: a tab that signed out took the old sign-in",
    ),
    // Failed with an intermediate version of this session's change; they guard it.
    (
        12824,
        "refreshed again after rotation in a second-sign-in schedule",
    ),
    (
        24326,
        "a tab adopted a token the store had kept past its memory of replaced tokens",
    ),
    (
        90388,
        "a tab stayed on a sign-in's token the others had left, then its refresh was refused",
    ),
    // The million run (issue 18), "after the quiet period a call still fails". The judge's: a
    // tab whose IndexedDB never opens held a sign-in that ended legitimately (its grace passed
    // unrefreshed, or revoked for reuse with the StorageBroken excuse); the probe's error was
    // judged against a token of another sign-in the tab took only after it.
    (
        384120,
        "probe error judged against a later token: sign-in 2 past grace in tab 1",
    ),
    (
        420787,
        "probe error judged against a later token: sign-in 2 past grace in tab 1",
    ),
    (
        427809,
        "probe error judged against a later token: sign-in 2 past grace in tab 1",
    ),
    (
        648808,
        "probe error judged against a later token: sign-in 2 past grace in tab 2",
    ),
    (
        649270,
        "probe error judged against a later token: sign-in 2 past grace in tab 2",
    ),
    (
        673287,
        "probe error judged against a later token: sign-in 2 past grace in tab 1",
    ),
    (
        889185,
        "probe error judged against a later token: sign-in 2 past grace in tab 3",
    ),
    (
        961043,
        "probe error judged against a later token: sign-in 2 past grace in tab 1",
    ),
    (
        357499,
        "probe error judged against a later token: sign-in 2 revoked in tab 2",
    ),
    (
        504715,
        "probe error judged against a later token: sign-in 1 revoked in tab 2",
    ),
    // The machine's: a tab whose IndexedDB never opens and that never held a token read
    // `current == unstored` (None == None) as "ours is our own unstored refresh" and ignored
    // every refresh message; it held none while the sign-in went on.
    (
        107505,
        "a storage-broken tab holding none ignored refresh messages",
    ),
    (
        854730,
        "a storage-broken tab holding none ignored refresh messages",
    ),
    // The judge's: the successor of a tab's token was hidden from it (its write hung, its
    // broadcast to this tab lost); idle past the token's grace, its refresh was refused.
    (
        490789,
        "a hidden successor left the tab a token past its grace: 401 at the probe",
    ),
    // Session 10 (the million run), fixed in the machine: an empty store confirms no refresh
    // message (it was cleared after the message's write, or read before a sign-in adopted since).
    (
        260068,
        "an empty store's answer took a late refresh of the old sign-in over the new sign-in",
    ),
    (
        363016,
        "an empty store's answer took a late refresh of the old sign-in over the new sign-in",
    ),
    (
        948670,
        "an empty store's answer took a late refresh of the old sign-in over the new sign-in",
    ),
    (
        987039,
        "an empty store (the sign-in ended) took a late storage event's older token",
    ),
    // Session 10, the model was wrong: the user acted in a frozen tab (its sign-out's clear
    // landed at the thaw over the new sign-in); the user now acts in a tab that is not frozen.
    (
        304845,
        "a sign-out in a frozen tab cleared the new sign-in at the thaw: a tab lost it",
    ),
    (
        789405,
        "a sign-out in a frozen tab cleared the new sign-in at the thaw: a tab lost it",
    ),
    (
        497855,
        "a sign-out in a frozen tab cleared the new sign-in at the thaw (and an empty store)",
    ),
    // Session 10, the judge excused too little: a tab left on the old sign-in by a recorded
    // fault (the new sign-in's write failed; a tab that missed it stored the old one back after
    // the new one's sign-out) lost it or took it back legitimately.
    (
        328667,
        "a tab that missed the unstored sign-in stored the old one after the sign-out: taken back",
    ),
    (
        454757,
        "a tab that missed the new sign-in stored the old one after the sign-out: taken back",
    ),
    (
        710234,
        "the new sign-in's write failed; its end cleared the old sign-in a tab was left on",
    ),
    (
        834269,
        "the new sign-in's write failed; its end cleared the old sign-in a tab was left on",
    ),
    // Session 10, fixed in the machine: a failed store check is read again (three failures in
    // a row: broken), never a reason to take a sign-in unordered.
    (
        263239,
        "one failed check took an older sign-in's late message over the tab's own sign-in",
    ),
    // Session 10, fixed in the machine with 107505's fix (holding none is not holding our own
    // unstored refresh): a tab that never held a token ignored a refresh one step ahead of the
    // store, then refreshed the sign-in's first token again (reuse).
    (
        179146,
        "holding none, a refresh one step ahead of the store not taken: reuse",
    ),
    (
        716869,
        "holding none, a refresh one step ahead of the store not taken: reuse",
    ),
    (
        937355,
        "holding none, a refresh one step ahead of the store not taken: reuse",
    ),
    // Session 10, fixed with 260068's fix (an empty store confirms no refresh message): an
    // empty store let the old chain's late refresh replace the new sign-in a tab had refreshed.
    (
        169606,
        "an empty store took the old chain's refresh over the new sign-in: reuse",
    ),
    // Session 10, fixed in the machine: a tab whose IndexedDB never opens, on its own refreshes
    // (the mirror never had them), kept its token when a `storage` event wrote a newer one over
    // a token it had refreshed itself.
    (
        149256,
        "a token written over one our refresh sent was not taken: stale",
    ),
    (
        638776,
        "a token written over one our refresh sent was not taken: stale",
    ),
    // Session 10, found by the million run after the merges, fixed in the machine: messages that
    // follow each other while one store check is out are one chain; the store holding a token
    // of it (not only the one the last message replaced) is behind the newest.
    (
        73104,
        "a store check's chain of messages lost: the store's token taken as behind, reuse",
    ),
];

/// The strict-server schedules that once broke an invariant.
const STRICT_REGRESSION_SEEDS: &[(u64, &str)] = &[(
    0,
    "a late storage event with the predecessor (same exp/iat) took a tab back",
)];

/// Seeds among the default 10,000 that still fail the full judge, not fixed yet (see
/// ARCHITECTURE.md, "The deterministic simulator"). A ratchet: a seed failing that is not
/// listed fails the suite, and the list may only shrink. Empty: every seed keeps every invariant.
const KNOWN_OPEN_SEEDS: &[u64] = &[];

#[test]
fn regression_seeds_keep_every_invariant() {
    for (seed, what) in REGRESSION_SEEDS {
        let (_, failure) = run(Schedule::random(*seed, Protocol::Consistent).token_only());
        assert!(failure.is_none(), "{what}: {}", failure.unwrap_or_default());
    }
    for (seed, what) in CONSULTATION_REGRESSION_SEEDS {
        let (_, failure) = run(Schedule::random(*seed, Protocol::Consistent));
        assert!(failure.is_none(), "{what}: {}", failure.unwrap_or_default());
    }
    for (seed, what) in STRICT_REGRESSION_SEEDS {
        let (_, failure) = run(Schedule::strict_server(*seed, Protocol::Consistent));
        assert!(failure.is_none(), "{what}: {}", failure.unwrap_or_default());
    }
}

#[test]
fn random_schedules_keep_every_invariant_and_reach_everything() {
    if let Some(seed) = env_number("SIM_SEED") {
        let schedule = Schedule::random(seed, Protocol::Consistent);
        println!("{schedule:#?}");
        let (world, failure) = run(schedule);
        println!("{:#?}", world.stats);
        assert!(failure.is_none(), "{}", failure.unwrap_or_default());
        return;
    }
    let total = env_number("SIM_SCHEDULES").unwrap_or(10_000);
    let started = Instant::now();
    let totals = run_many((0..total).collect());
    let seconds = started.elapsed().as_secs_f64();
    let t = &totals.stats;
    println!(
        "simulator: {} schedules in {seconds:.1} s ({:.0}/s, {:.0} simulated hours per second); {} tabs, {} events, {} calls, {} refresh requests, {} rotations, {} repeated, {} answers dropped, {} stale tokens excused, {} errors, longest wait {} ms",
        totals.schedules,
        totals.schedules as f64 / seconds,
        t.simulated_ms as f64 / 3_600_000.0 / seconds,
        t.tabs_opened,
        t.events,
        t.calls,
        t.refresh_requests,
        t.rotations,
        t.repeated_refreshes,
        t.answers_dropped,
        t.stale_excused,
        t.errors,
        t.max_wait_ms
    );
    println!(
        "simulator: consultation: {} polls, {} socket CONNECTs accepted, {} rooms joined, {} emits",
        t.polls, t.connects, t.joins, t.emits
    );
    println!(
        "simulator: {} backoff waits, {} of them whole seconds",
        t.backoff_draws, t.backoff_round
    );
    println!(
        "simulator: {} runs ended revoked; revocations by recorded cause: {:?}",
        totals.revoked_runs, t.revocations
    );
    let required: BTreeMap<&str, u64> = coverage::REQUIRED
        .iter()
        .map(|what| {
            (
                *what,
                totals.coverage.counts.get(*what).copied().unwrap_or(0),
            )
        })
        .collect();
    println!("simulator coverage: {required:#?}");
    let mut failed = totals.failed_seeds.clone();
    failed.sort_unstable();
    println!("simulator: {} failing seeds: {failed:?}", failed.len());
    if total >= 10_000 {
        let missing = totals.coverage.missing();
        assert!(
            missing.is_empty(),
            "never reached in {total} schedules: {missing:?}"
        );
    }
    let new_failures: Vec<u64> = failed
        .iter()
        .copied()
        .filter(|seed| !KNOWN_OPEN_SEEDS.contains(seed))
        .collect();
    let firsts: Vec<&String> = totals
        .failures
        .iter()
        .filter(|f| new_failures.contains(&world_seed(f)))
        .take(5)
        .collect();
    assert!(
        new_failures.is_empty(),
        "{} failing schedule(s) not known open: {new_failures:?}; first ones:\n{}",
        new_failures.len(),
        firsts
            .iter()
            .map(|f| f.as_str())
            .collect::<Vec<_>>()
            .join("\n")
    );
    // Backoff with jitter: failed attempts wait a random share of the ceiling, so the waits are
    // almost never whole seconds (without jitter they all are, and tabs retry in lockstep).
    let (draws, round) = (t.backoff_draws, t.backoff_round);
    assert!(
        draws < 100 || round * 4 < draws,
        "backoff waits are whole seconds ({round} of {draws}): no jitter"
    );
}

/// Four tabs, 6 s tokens, a server with no reuse window, no faults: every token is refreshed
/// once, by one tab, and nobody is signed out.
#[test]
fn a_strict_server_sees_one_refresh_per_token() {
    let seeds = match env_number("SIM_STRICT_SEED") {
        Some(seed) => seed..seed + 1,
        None => 0..200,
    };
    for seed in seeds {
        let (world, failure) = run(Schedule::strict_server(seed, Protocol::Consistent));
        assert!(failure.is_none(), "{}", failure.unwrap_or_default());
        assert_eq!(world.stats.repeated_refreshes, 0, "seed {seed}");
        assert_eq!(world.stats.answers_dropped, 0, "seed {seed}");
        // 10 minutes of 6 s tokens, refreshed at most every 5 s: around a hundred rotations.
        assert!(
            world.stats.rotations >= 80,
            "seed {seed}: {:?}",
            world.stats
        );
    }
}

/// The protocol before the machine re-read `localStorage` after taking the lock. Chromium
/// serves each tab a lagging copy, so the next holder often reads the old token and refreshes
/// it again: against a strict server, reuse, and every tab signed out. The simulator must see
/// it (this is the test that failed on the old protocol).
#[test]
fn re_reading_local_storage_after_the_lock_is_caught() {
    let caught = (0..50).find_map(|seed| {
        let (_, failure) = run(Schedule::strict_server(seed, Protocol::LocalStorageReread));
        failure
    });
    let failure = caught.expect("the stale localStorage read went unnoticed in 50 schedules");
    assert!(
        failure.contains("refreshed again") || failure.contains("revoked"),
        "{failure}"
    );
}
