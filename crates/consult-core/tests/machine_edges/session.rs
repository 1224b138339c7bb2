//! Edges of the token session that the mutation run (`scripts/mutants.sh`) found no test held:
//! the storage queue's order, the lock's wait and release, what a message adopted after a store
//! check retires, a forced refresh answered by another tab. Each test names the mutant it
//! catches, and asserts what a driver sees: actions, the token handed out, the token refreshed.

use consult_core::ErrorCode;
use consult_core::session::{
    Action, CallId, Grant, Input, OpId, STORAGE_TIMEOUT_MS, SessionConfig, SessionError,
    SessionEvent, TokenSession,
};

const S: i64 = 1_000;
const HOUR: i64 = 3_600 * S;
/// Inside the default 5-minute margin of a 4-hour token issued at 0: due, not expired.
const DUE: i64 = 4 * HOUR - 200 * S;

/// A JWT-shaped token (unsigned: the client only reads its times); `n` tells tokens apart.
fn jwt(exp_s: i64, iat_s: i64, n: u32) -> String {
    let payload = format!(r#"{{"exp":{exp_s},"iat":{iat_s},"n":{n}}}"#);
    format!(
        "e30.{}.sig",
        consult_core::base64url::encode(payload.as_bytes())
    )
}

/// A 4-hour token issued at 0.
fn four_hours(n: u32) -> String {
    jwt(4 * 3_600, 0, n)
}

/// One tab's session, fed at `now` (both clocks).
struct Tab {
    session: TokenSession,
    now: i64,
}

impl Tab {
    fn new(config: SessionConfig) -> Self {
        Self {
            session: TokenSession::new(config, 7),
            now: 0,
        }
    }

    /// Signed in with `token` at 0, the sign-in stored (under the lock, across tabs).
    fn signed_in(config: SessionConfig, token: &str) -> Self {
        let mut tab = Self::new(config);
        let mut actions = tab.feed(sign_in(0, token));
        if let Some(lock) = lock_op(&actions) {
            actions = tab.feed(Input::LockGranted { op: lock });
        }
        let write = write_op(&actions).expect("the sign-in is stored");
        tab.feed(Input::StorageDone {
            op: write,
            ok: true,
        });
        tab
    }

    fn feed(&mut self, input: Input) -> Vec<Action> {
        self.session.handle(self.now, input);
        core::iter::from_fn(|| self.session.poll_action()).collect()
    }

    /// The timer fired at `at` (early or late: the machine decides what is due).
    fn timer(&mut self, at: i64) -> Vec<Action> {
        self.now = at;
        self.session.handle_timeout(at);
        core::iter::from_fn(|| self.session.poll_action()).collect()
    }

    /// The token this tab holds now.
    fn token(&self) -> Option<String> {
        self.session
            .view(self.now)
            .map(|view| view.token.to_owned())
    }
}

/// One tab on its own: no cross-tab coordination, so no lock and no messages.
fn one_tab() -> SessionConfig {
    SessionConfig {
        cross_tab: false,
        ..SessionConfig::default()
    }
}

fn sign_in(call: CallId, token: &str) -> Input {
    Input::SetSession {
        call,
        grant: Grant {
            access_token: token.to_owned(),
            ..Grant::default()
        },
    }
}

fn peer(token: &str, replaces: Option<&str>) -> Input {
    Input::PeerToken {
        token: token.to_owned(),
        expires_at: None,
        replaces: replaces.map(str::to_owned),
    }
}

fn stored(op: OpId, token: Option<&str>) -> Input {
    Input::StorageRead {
        op,
        token: token.map(str::to_owned),
        expires_at: None,
    }
}

fn read_op(actions: &[Action]) -> Option<OpId> {
    actions.iter().find_map(|action| match action {
        Action::ReadStorage { op } => Some(*op),
        _ => None,
    })
}

fn write_op(actions: &[Action]) -> Option<OpId> {
    actions.iter().find_map(|action| match action {
        Action::WriteStorage { op, .. } => Some(*op),
        _ => None,
    })
}

/// The tokens written, in order.
fn written(actions: &[Action]) -> Vec<&str> {
    actions
        .iter()
        .filter_map(|action| match action {
            Action::WriteStorage { token, .. } => Some(token.as_str()),
            _ => None,
        })
        .collect()
}

fn lock_op(actions: &[Action]) -> Option<OpId> {
    actions.iter().find_map(|action| match action {
        Action::AcquireLock { op } => Some(*op),
        _ => None,
    })
}

/// The refresh request sent, and the token it refreshes.
fn refresh_op(actions: &[Action]) -> Option<(OpId, &str)> {
    actions.iter().find_map(|action| match action {
        Action::SendRefresh { op, token } => Some((*op, token.as_str())),
        _ => None,
    })
}

fn resolved(actions: &[Action], call: CallId) -> Option<Result<&str, SessionError>> {
    actions.iter().find_map(|action| match action {
        Action::Resolve { call: c, result } if *c == call => {
            Some(result.as_deref().map_err(|e| *e))
        }
        _ => None,
    })
}

/// A 200 answer of the refresh endpoint with `token`, which has `expires_in_s` left.
fn refreshed(op: OpId, token: &str, expires_in_s: i64) -> Input {
    Input::RefreshAnswered {
        op,
        status: 200,
        body: format!(r#"{{"access_token":"{token}","expires_in":{expires_in_s}}}"#),
        date: None,
        retry_after: None,
    }
}

/// Catches `!=` → `==` in `StorageQueue::push` (either comparison): a write waiting behind the
/// running one is replaced by a later write, so only the last token is written next, and the
/// calls waiting on the replaced write are answered once the last one lands.
#[test]
fn a_queued_write_is_replaced_by_the_next_one() {
    let (first, second, third) = (four_hours(1), four_hours(2), four_hours(3));
    // One tab: its sign-ins are written at once (across tabs they wait for the lock first).
    let mut tab = Tab::new(one_tab());
    let actions = tab.feed(sign_in(1, &first));
    assert_eq!(written(&actions), [first.as_str()]);
    let running = write_op(&actions).expect("the first sign-in is written");
    // Two more sign-ins while the first write runs: they queue, the third replaces the second.
    assert!(written(&tab.feed(sign_in(2, &second))).is_empty());
    assert!(written(&tab.feed(sign_in(3, &third))).is_empty());
    let actions = tab.feed(Input::StorageDone {
        op: running,
        ok: true,
    });
    assert_eq!(written(&actions), [third.as_str()], "{actions:?}");
    assert_eq!(resolved(&actions, 1), Some(Ok(first.as_str())));
    let last = write_op(&actions).expect("the last sign-in is written");
    let actions = tab.feed(Input::StorageDone { op: last, ok: true });
    assert_eq!(resolved(&actions, 2), Some(Ok(second.as_str())));
    assert_eq!(resolved(&actions, 3), Some(Ok(third.as_str())));
    assert!(written(&actions).is_empty());
}

/// Catches `2 * STORAGE_TIMEOUT_MS` turned into `2 / …` (or `2 + …`) in the lock wait: a tab
/// waits for the lock longer than a live holder can keep it (its request's timeout and two
/// storage operations), so only a lost holder makes the attempt time out.
#[test]
fn the_lock_is_waited_for_longer_than_a_live_holder_keeps_it() {
    let mut tab = Tab::signed_in(SessionConfig::default(), &four_hours(1));
    tab.now = DUE;
    let lock = lock_op(&tab.feed(Input::GetToken { call: 1 })).expect("the lock is asked for");
    let request_timeout = i64::try_from(tab.session.config().request_timeout_ms).unwrap_or(0);
    let held_at_most = request_timeout + 2 * STORAGE_TIMEOUT_MS;
    let actions = tab.timer(DUE + held_at_most);
    assert!(
        actions.is_empty(),
        "still waiting for the lock: {actions:?}"
    );
    let deadline = tab
        .session
        .poll_timeout()
        .expect("the lock wait has a deadline");
    assert!(deadline > DUE + held_at_most);
    let actions = tab.timer(deadline);
    let timeout = SessionError::new(ErrorCode::Timeout);
    assert!(actions.contains(&Action::Emit(SessionEvent::RefreshFailed(timeout))));
    assert!(actions.contains(&Action::ReleaseLock { op: lock }));
}

/// Catches `Flight::is_store` → `true`: the lock is held until the refreshed token is stored,
/// not released when another write finishes first (here the predecessor's, written again under
/// the lock because its own first write failed).
#[test]
fn the_lock_is_released_when_the_refreshed_token_is_stored_not_before() {
    let (old, new) = (four_hours(1), jwt(2 * 14_400 - 200, 14_400 - 200, 2));
    let mut tab = Tab::new(SessionConfig::default());
    let lock = lock_op(&tab.feed(sign_in(1, &old))).expect("the sign-in waits for the lock");
    let actions = tab.feed(Input::LockGranted { op: lock });
    let write = write_op(&actions).expect("the sign-in is written");
    tab.feed(Input::StorageDone {
        op: write,
        ok: false,
    });
    tab.now = DUE;
    let lock = lock_op(&tab.feed(Input::GetToken { call: 2 })).expect("the lock is asked for");
    let reread = read_op(&tab.feed(Input::LockGranted { op: lock })).expect("the store re-read");
    // The store is empty (the sign-in's write failed): ours is written again, and refreshed.
    let actions = tab.feed(stored(reread, None));
    assert_eq!(written(&actions), [old.as_str()]);
    let rewrite = write_op(&actions).expect("ours is written again");
    let (request, sent) = refresh_op(&actions).expect("ours is refreshed");
    assert_eq!(sent, old);
    let actions = tab.feed(refreshed(request, &new, 14_400));
    assert!(actions.contains(&Action::Emit(SessionEvent::TokenRefreshed)));
    // The rewrite lands first: the new token is not stored yet, the lock stays.
    let actions = tab.feed(Input::StorageDone {
        op: rewrite,
        ok: true,
    });
    assert!(
        !actions.contains(&Action::ReleaseLock { op: lock }),
        "{actions:?}"
    );
    assert_eq!(written(&actions), [new.as_str()]);
    let write = write_op(&actions).expect("the new token is written");
    let actions = tab.feed(Input::StorageDone {
        op: write,
        ok: true,
    });
    assert!(actions.contains(&Action::ReleaseLock { op: lock }));
    assert_eq!(resolved(&actions, 2), Some(Ok(new.as_str())));
}

/// Catches `cross_tab && lock_available` turned into `||` where an attempt starts: without
/// cross-tab coordination, or where there is no lock (the driver said so once), the refresh is
/// sent at once; no lock is asked for (nobody would answer it: every attempt would time out).
#[test]
fn without_cross_tab_or_without_a_lock_the_refresh_asks_for_no_lock() {
    let token = four_hours(1);
    let single_tab = one_tab();
    let mut tab = Tab::signed_in(single_tab, &token);
    tab.now = DUE;
    let actions = tab.feed(Input::GetToken { call: 1 });
    assert_eq!(lock_op(&actions), None, "{actions:?}");
    assert_eq!(refresh_op(&actions).map(|(_, t)| t), Some(token.as_str()));

    let mut tab = Tab::signed_in(SessionConfig::default(), &token);
    tab.now = DUE;
    let lock = lock_op(&tab.feed(Input::GetToken { call: 1 })).expect("the lock is asked for");
    let actions = tab.feed(Input::LockUnavailable { op: lock });
    let (request, _) = refresh_op(&actions).expect("sent without the lock");
    tab.feed(Input::RefreshAnswered {
        op: request,
        status: 503,
        body: String::new(),
        date: None,
        retry_after: None,
    });
    let retry_at = tab
        .session
        .poll_timeout()
        .expect("a retry after the backoff");
    let actions = tab.timer(retry_at);
    assert_eq!(lock_op(&actions), None, "{actions:?}");
    assert_eq!(refresh_op(&actions).map(|(_, t)| t), Some(token.as_str()));
}

/// Catches deleting `ForceRefresh`'s `(Load::Done, Some(current))` arm (the call would wait for
/// "a token other than the loaded one", fixed only once the sign-in's write is done): a forced
/// refresh asked while the sign-in is being stored wants a token other than that one, so a
/// newer token from another tab, arriving meanwhile, answers it — with no refresh of its own.
#[test]
fn a_forced_refresh_is_answered_by_a_newer_token_arriving_while_the_old_one_is_stored() {
    let (signed_in, newer) = (four_hours(1), four_hours(2));
    let mut tab = Tab::new(SessionConfig::default());
    let lock = lock_op(&tab.feed(sign_in(1, &signed_in))).expect("the sign-in waits for the lock");
    let write =
        write_op(&tab.feed(Input::LockGranted { op: lock })).expect("the sign-in is written");
    // Asked while the sign-in is stored under its lock: no refresh of its own starts yet.
    let actions = tab.feed(Input::ForceRefresh { call: 2 });
    assert_eq!(lock_op(&actions), None, "{actions:?}");
    tab.feed(peer(&newer, Some(&signed_in)));
    assert_eq!(tab.token().as_deref(), Some(newer.as_str()));
    let actions = tab.feed(Input::StorageDone {
        op: write,
        ok: true,
    });
    assert_eq!(
        resolved(&actions, 2),
        Some(Ok(newer.as_str())),
        "{actions:?}"
    );
    assert!(actions.contains(&Action::ReleaseLock { op: lock }));
    assert_eq!(refresh_op(&actions), None, "nothing refreshed: {actions:?}");
    assert_eq!(lock_op(&actions), None, "no refresh starts: {actions:?}");
}

/// Catches `delete !` of `adopt_unless_retired(token, !failed)` in `store_checked`, the store
/// answering: a message placed by the store (it holds the token the message replaces) is
/// adopted in order, so the token it displaces is retired, and a late message carrying that one
/// (a `storage` event lags by seconds) does not take the tab back.
#[test]
fn a_message_the_store_placed_retires_the_token_it_displaced() {
    let (ours, unseen, newest) = (four_hours(1), four_hours(2), four_hours(3));
    let mut tab = Tab::new(SessionConfig::default());
    let load = read_op(&tab.feed(Input::GetToken { call: 1 })).expect("the first load");
    let actions = tab.feed(stored(load, Some(&ours)));
    assert_eq!(resolved(&actions, 1), Some(Ok(ours.as_str())));
    // It replaces a token this tab never saw: the store is asked, and holds that one.
    let check = read_op(&tab.feed(peer(&newest, Some(&unseen)))).expect("the store is asked");
    tab.feed(stored(check, Some(&unseen)));
    assert_eq!(tab.token().as_deref(), Some(newest.as_str()));
    tab.feed(peer(&ours, None));
    assert_eq!(tab.token().as_deref(), Some(newest.as_str()), "went back");
}

/// Catches `delete !` of `adopt_unless_retired(token, !failed)` in `store_checked`, the store
/// failing: a tab whose store never opened follows a message it cannot place, unordered — its
/// own token is not retired, so when the store can be read under the lock and still holds that
/// one (the message was late), the store's word counts: that token is the one refreshed.
#[test]
fn a_message_adopted_after_a_failed_store_check_leaves_the_store_the_last_word() {
    let (ours, unseen, message) = (four_hours(1), four_hours(2), four_hours(3));
    let mut tab = Tab::new(SessionConfig::default());
    let mut actions = tab.feed(Input::GetToken { call: 1 });
    while let Some(op) = read_op(&actions) {
        actions = tab.feed(Input::StorageDone { op, ok: false });
    }
    tab.feed(peer(&ours, None));
    let check = read_op(&tab.feed(peer(&message, Some(&unseen)))).expect("the store is asked");
    tab.feed(Input::StorageDone {
        op: check,
        ok: false,
    });
    assert_eq!(tab.token().as_deref(), Some(message.as_str()));
    tab.now = DUE;
    let lock = lock_op(&tab.feed(Input::GetToken { call: 2 })).expect("the lock is asked for");
    let reread = read_op(&tab.feed(Input::LockGranted { op: lock })).expect("the store re-read");
    let actions = tab.feed(stored(reread, Some(&ours)));
    assert_eq!(refresh_op(&actions).map(|(_, t)| t), Some(ours.as_str()));
}

/// Catches `load != Done || ended` turned into `&&` in `refresh_wanted` (the line BENCHMARKS.md
/// listed at 2455359 as `auto_refresh || wake_check`; that one the auto-refresh tests hold):
/// no refresh work starts before the first read of the store answers, even when another tab's
/// token arrived meanwhile; a token that turns out fresh then needs no lock at all.
#[test]
fn nothing_is_refreshed_before_the_first_load_answers() {
    let token = four_hours(1);
    let mut tab = Tab::new(SessionConfig::default());
    let load = read_op(&tab.feed(Input::GetToken { call: 1 })).expect("the first load");
    let actions = tab.feed(peer(&token, None));
    assert_eq!(lock_op(&actions), None, "{actions:?}");
    assert_eq!(refresh_op(&actions), None);
    assert_eq!(resolved(&actions, 1), None, "the call waits for the load");
    let actions = tab.feed(stored(load, Some(&token)));
    assert_eq!(resolved(&actions, 1), Some(Ok(token.as_str())));
    assert_eq!(lock_op(&actions), None, "{actions:?}");
    assert!(
        !actions
            .iter()
            .any(|action| matches!(action, Action::ReleaseLock { .. }))
    );
}

/// Catches `load != Done || ended || writing` turned into `load != Done && ended || writing` in
/// `lease_end` (found by the full mutation run at 6e44362): a token another tab announced while
/// the first read of the store is out gives no lease (`fresh_until` on either clock) until that
/// read answers, as it gives no token to a caller.
#[test]
fn no_lease_before_the_first_load_answers() {
    let token = four_hours(1);
    let mut tab = Tab::new(SessionConfig::default());
    let load = read_op(&tab.feed(Input::GetToken { call: 1 })).expect("the first load");
    tab.feed(peer(&token, None));
    assert_eq!(tab.session.fresh_until(), None);
    assert_eq!(tab.session.fresh_until_mono(), None);
    let actions = tab.feed(stored(load, Some(&token)));
    assert_eq!(resolved(&actions, 1), Some(Ok(token.as_str())));
    let due = 4 * HOUR - 300 * S;
    assert_eq!(tab.session.fresh_until(), Some(due));
    assert_eq!(tab.session.fresh_until_mono(), Some(due));
}

/// Catches the deletion of `ForceRefresh`'s `(Load::Done, None)` arm (found by the full mutation
/// run at 6e44362; the caller would then want "a token other than the one loaded"): a tab whose
/// store could not be read holds no token, so a forced refresh there asks for a valid token,
/// and the store, read again for it, answers with another tab's fresh token: handed out as it
/// is, without a lock or a refresh (which would rotate a token nobody here was refused).
#[test]
fn a_forced_refresh_with_no_token_loaded_takes_the_stored_one_without_refreshing() {
    let token = four_hours(1);
    let mut tab = Tab::new(SessionConfig::default());
    let mut read = read_op(&tab.feed(Input::GetToken { call: 1 })).expect("the first load");
    let mut answered = None;
    for _ in 0..3 {
        let actions = tab.feed(Input::StorageDone {
            op: read,
            ok: false,
        });
        answered = answered.or(resolved(&actions, 1).map(|r| r.map(str::to_owned)));
        match read_op(&actions) {
            Some(next) => read = next,
            None => break,
        }
    }
    let Some(Err(error)) = answered else {
        panic!("the failed load answers the caller: {answered:?}");
    };
    assert_eq!(error.code, ErrorCode::NoToken);
    let actions = tab.feed(Input::ForceRefresh { call: 2 });
    let reread = read_op(&actions).expect("the store is read again for the caller");
    let actions = tab.feed(stored(reread, Some(&token)));
    assert_eq!(resolved(&actions, 2), Some(Ok(token.as_str())));
    assert_eq!(lock_op(&actions), None, "{actions:?}");
    assert_eq!(refresh_op(&actions), None, "{actions:?}");
}

/// Simulator seed 49 (with the socket expiry sweep): a tab that missed the broadcast of B (which
/// replaced its A) waits for the lock; while its re-read under the lock is out, the broadcast of
/// C, which replaced B, arrives: the tab learns that B is replaced, and waits for the store to
/// order C against A. The re-read finds B (C's write failed, or is still to come). Before, the
/// re-read ignored B (replaced) and refreshed A, two rotations old: reuse, and every tab signed
/// out. Now the re-read answers the store check first: the store is one step behind C's message,
/// so C is the newest, nothing is refreshed and the lock is released.
#[test]
fn a_reread_finding_the_token_a_message_replaced_takes_the_message_not_a_refresh_of_ours() {
    let a = four_hours(1);
    let b = jwt(8 * 3_600, 4 * 3_600 - 300, 2);
    let c = jwt(12 * 3_600, 8 * 3_600 - 300, 3);
    let mut tab = Tab::signed_in(SessionConfig::default(), &a);
    let lock = lock_op(&tab.timer(DUE)).expect("A is due: the lock is asked for");
    let reread = read_op(&tab.feed(Input::LockGranted { op: lock })).expect("the re-read");
    let actions = tab.feed(peer(&c, Some(&b)));
    assert_eq!(refresh_op(&actions), None);
    let actions = tab.feed(stored(reread, Some(&b)));
    assert_eq!(refresh_op(&actions), None, "A refreshed: {actions:?}");
    assert_eq!(tab.token().as_deref(), Some(c.as_str()));
    assert!(
        actions
            .iter()
            .any(|action| matches!(action, Action::ReleaseLock { op } if *op == lock)),
        "{actions:?}"
    );
}

/// Catches `waiter.failures_seen > 0 && !retryable` turned into `< 0` in `answer_for` (found by
/// the full mutation run at 6e44362): a caller whose token the API refused, whose refresh then
/// fails in a way a retry cannot mend (an unreadable answer), gets that error at once, not after
/// the retries a network failure gets.
#[test]
fn a_failure_no_retry_mends_answers_the_caller_at_once() {
    use consult_core::session::TransportFailure;
    let a = four_hours(1);
    let mut tab = Tab::signed_in(SessionConfig::default(), &a);
    tab.now = S;
    let lock = lock_op(&tab.feed(Input::TokenRefused {
        call: 2,
        token: a.clone(),
    }))
    .expect("a replacement is asked for under the lock");
    let reread = read_op(&tab.feed(Input::LockGranted { op: lock })).expect("the re-read");
    let (op, sent) = refresh_op(&tab.feed(stored(reread, Some(&a))))
        .map(|(op, sent)| (op, sent.to_owned()))
        .expect("the refused token is refreshed");
    assert_eq!(sent, a);
    let actions = tab.feed(Input::RefreshFailed {
        op,
        failure: TransportFailure::UnreadableBody,
    });
    let Some(Err(error)) = resolved(&actions, 2) else {
        panic!("the caller waits on: {actions:?}");
    };
    assert_eq!(error.code, ErrorCode::BadResponse);
}

/// Catches `reread_failures >= REREAD_ATTEMPTS` turned into `<` in `store_checked` (found by
/// the full mutation run at 6e44362): one failed read of a store check cannot order a message
/// against ours, and the store has worked until now, so ours stays; only a store that keeps
/// failing leaves the tab following the messages unordered.
#[test]
fn one_failed_store_check_keeps_our_token() {
    let a = four_hours(1);
    let b = jwt(8 * 3_600, 4 * 3_600 - 300, 2);
    let c = jwt(12 * 3_600, 8 * 3_600 - 300, 3);
    let mut tab = Tab::signed_in(SessionConfig::default(), &a);
    tab.now = S;
    let check = read_op(&tab.feed(peer(&c, Some(&b)))).expect("the store is asked to order C");
    let actions = tab.feed(Input::StorageDone {
        op: check,
        ok: false,
    });
    assert_eq!(tab.token().as_deref(), Some(a.as_str()), "{actions:?}");
}

/// Catches `pending.op == op` → `true` in `StorageQueue::finish` (found by the full mutation run
/// at 6e44362): the late answer of a storage operation that timed out does not finish the one
/// running now, so a caller is handed its token only once that token's own write is done.
#[test]
fn a_late_answer_of_a_timed_out_write_does_not_finish_the_next_one() {
    let (first, second) = (four_hours(1), four_hours(2));
    let mut tab = Tab::new(one_tab());
    let hung = write_op(&tab.feed(sign_in(1, &first))).expect("the first sign-in is written");
    // The write hangs past its deadline: it failed, and its caller is answered all the same.
    let actions = tab.timer(STORAGE_TIMEOUT_MS);
    assert_eq!(
        resolved(&actions, 1),
        Some(Ok(first.as_str())),
        "{actions:?}"
    );
    let running = write_op(&tab.feed(sign_in(2, &second))).expect("the second one is written");
    let actions = tab.feed(Input::StorageDone { op: hung, ok: true });
    assert_eq!(resolved(&actions, 2), None, "{actions:?}");
    let actions = tab.feed(Input::StorageDone {
        op: running,
        ok: true,
    });
    assert_eq!(resolved(&actions, 2), Some(Ok(second.as_str())));
}

/// Catches `16 * 1024` → `16 + 1024` in `MAX_TOKEN_BYTES` (found by the full mutation run at
/// 6e44362; the length-limit test in `machine_edges.rs` reads the constant, so it moves with
/// it): a long but real token — 8 KB, a JWT carrying many claims — is signed in, stored and
/// handed out.
#[test]
fn a_token_of_eight_kilobytes_is_signed_in_and_handed_out() {
    let payload = format!(r#"{{"exp":14400,"iat":0,"roles":"{}"}}"#, "r".repeat(6_000));
    let token = format!(
        "e30.{}.sig",
        consult_core::base64url::encode(payload.as_bytes())
    );
    assert!((8_000..8_200).contains(&token.len()), "{}", token.len());
    let mut tab = Tab::new(one_tab());
    let actions = tab.feed(sign_in(1, &token));
    assert_eq!(written(&actions), [token.as_str()], "{actions:?}");
    let write = write_op(&actions).expect("the sign-in is written");
    let actions = tab.feed(Input::StorageDone {
        op: write,
        ok: true,
    });
    assert_eq!(resolved(&actions, 1), Some(Ok(token.as_str())));
    let actions = tab.feed(Input::GetToken { call: 2 });
    assert_eq!(resolved(&actions, 2), Some(Ok(token.as_str())));
}

/// Catches deleting `flight_not_wanted`'s `Step::Locking` arm (found by the full mutation run at
/// 6e44362): a refresh no longer wanted while the lock is asked for — another tab's successor
/// arrived — gives the lock request back at once, instead of taking the lock when it comes
/// (holding up the other tabs) to re-read the store for nothing.
#[test]
fn a_refresh_no_longer_wanted_gives_the_lock_request_back_at_once() {
    let (a, b) = (four_hours(1), jwt(2 * 14_400 - 200, 14_400 - 200, 2));
    let mut tab = Tab::signed_in(SessionConfig::default(), &a);
    tab.now = DUE;
    let lock = lock_op(&tab.feed(Input::GetToken { call: 1 })).expect("the lock is asked for");
    let actions = tab.feed(peer(&b, Some(&a)));
    assert_eq!(resolved(&actions, 1), Some(Ok(b.as_str())), "{actions:?}");
    assert!(
        actions.contains(&Action::ReleaseLock { op: lock }),
        "{actions:?}"
    );
    // Granted all the same (the release raced it): given back unused.
    let actions = tab.feed(Input::LockGranted { op: lock });
    assert_eq!(actions, [Action::ReleaseLock { op: lock }]);
}

/// The tab's token is due; its wait for the lock times out (the request is given back), and
/// after the backoff the lock is asked for again: the two requests.
fn lock_given_up_and_asked_again(tab: &mut Tab) -> (OpId, OpId) {
    let first = lock_op(&tab.timer(DUE)).expect("the token is due: the lock is asked for");
    let deadline = tab
        .session
        .poll_timeout()
        .expect("the lock wait has a deadline");
    let actions = tab.timer(deadline);
    assert!(actions.contains(&Action::ReleaseLock { op: first }));
    let retry = tab
        .session
        .poll_timeout()
        .expect("a retry after the backoff");
    let second = lock_op(&tab.timer(retry)).expect("the lock is asked for again");
    assert_ne!(first, second);
    (first, second)
}

/// Catches `lock == op` → `true` in `lock_granted`'s `Locking` arm (found by the full mutation
/// run at 6e44362): the grant of a lock request this tab gave up on (its wait timed out) is not
/// the lock it asks for now: given back, and the store is not re-read under a lock this tab
/// does not hold; the store is re-read once its own request is granted.
#[test]
fn a_late_grant_of_a_lock_given_up_on_is_not_the_lock_asked_for_now() {
    let mut tab = Tab::signed_in(SessionConfig::default(), &four_hours(1));
    let (first, second) = lock_given_up_and_asked_again(&mut tab);
    let actions = tab.feed(Input::LockGranted { op: first });
    assert_eq!(actions, [Action::ReleaseLock { op: first }]);
    let actions = tab.feed(Input::LockGranted { op: second });
    assert!(read_op(&actions).is_some(), "no re-read: {actions:?}");
}

/// A tab signed in with `a` refreshes it under the lock to `b`, whose write fails; the API then
/// refuses `b`, and a replacement is asked for under the lock: the tab, and its re-read of the
/// store (unanswered).
fn refused_unstored_successor(a: &str, b: &str) -> (Tab, OpId) {
    let mut tab = Tab::signed_in(SessionConfig::default(), a);
    let lock = lock_op(&tab.timer(DUE)).expect("A is due: the lock is asked for");
    let reread = read_op(&tab.feed(Input::LockGranted { op: lock })).expect("the re-read");
    let (request, sent) = refresh_op(&tab.feed(stored(reread, Some(a))))
        .map(|(op, sent)| (op, sent.to_owned()))
        .expect("A is refreshed");
    assert_eq!(sent, a);
    let write = write_op(&tab.feed(refreshed(request, b, 14_400))).expect("B is written");
    let actions = tab.feed(Input::StorageDone {
        op: write,
        ok: false,
    });
    assert!(actions.contains(&Action::ReleaseLock { op: lock }));
    tab.now = DUE + 10 * S;
    let lock = lock_op(&tab.feed(Input::TokenRefused {
        call: 2,
        token: b.to_owned(),
    }))
    .expect("the lock is asked for");
    let reread = read_op(&tab.feed(Input::LockGranted { op: lock })).expect("the re-read");
    (tab, reread)
}

/// Catches `||` → `&&` in `reread_done`'s `ours_unstored` (found by the full mutation run at
/// 6e44362): under the lock, a store that still holds the token this tab replaced (the write of
/// its successor failed) gets the successor written again before that one is refreshed, so a
/// reload or another tab never refreshes the retired predecessor (reuse: the family revoked).
#[test]
fn a_store_holding_the_replaced_token_gets_ours_written_again_under_the_lock() {
    let (a, b) = (four_hours(1), jwt(2 * 14_400 - 200, 14_400 - 200, 2));
    let (mut tab, reread) = refused_unstored_successor(&a, &b);
    // The store still holds A.
    let actions = tab.feed(stored(reread, Some(&a)));
    assert_eq!(written(&actions), [b.as_str()], "{actions:?}");
    assert_eq!(refresh_op(&actions).map(|(_, t)| t), Some(b.as_str()));
    assert_eq!(tab.token().as_deref(), Some(b.as_str()));
}

/// Catches `now.mono_ms >= deadline` → `true` in `flight_timeout` on the request's side (the
/// guard is shared with the lock wait, which `the_lock_is_waited_for_longer_than_a_live_holder_
/// keeps_it` holds): an early timer while the refresh request is out does not abort it; its
/// deadline does, and the failure is a timeout.
#[test]
fn an_early_timer_does_not_abort_the_refresh_request() {
    let token = four_hours(1);
    let single_tab = one_tab();
    let mut tab = Tab::signed_in(single_tab, &token);
    tab.now = DUE;
    let (request, _) = refresh_op(&tab.feed(Input::GetToken { call: 1 }))
        .map(|(op, sent)| (op, sent.to_owned()))
        .expect("the refresh is sent");
    let deadline = tab
        .session
        .poll_timeout()
        .expect("the request has a deadline");
    let request_timeout = i64::try_from(tab.session.config().request_timeout_ms).unwrap_or(0);
    assert_eq!(deadline, DUE + request_timeout);
    let actions = tab.timer(DUE + S);
    assert!(actions.is_empty(), "{actions:?}");
    let actions = tab.timer(deadline);
    assert!(actions.contains(&Action::AbortRefresh { op: request }));
    let timeout = SessionError::new(ErrorCode::Timeout);
    assert!(actions.contains(&Action::Emit(SessionEvent::RefreshFailed(timeout))));
}

/// A tab's token is due and the lock is asked for its refresh; before the lock comes, the user
/// signs in again, and the new sign-in waits for a lock of its own (nothing written yet): the
/// tab, the new sign-in's token, the refresh's lock request and the sign-in's.
fn signed_in_again_while_refreshing() -> (Tab, String, OpId, OpId) {
    let (old, new) = (four_hours(1), jwt(8 * 3_600, 4 * 3_600 - 300, 2));
    let mut tab = Tab::signed_in(SessionConfig::default(), &old);
    let refresh_lock = lock_op(&tab.timer(DUE)).expect("the old sign-in is due");
    let actions = tab.feed(sign_in(5, &new));
    let sign_in_lock = lock_op(&actions).expect("the sign-in waits for the lock");
    assert_ne!(sign_in_lock, refresh_lock);
    assert_eq!(write_op(&actions), None, "{actions:?}");
    (tab, new, refresh_lock, sign_in_lock)
}

/// Catches the sign-in's guard `lock == op` turned into `true` in `lock_granted` (the second
/// guard; found by the re-check of the full mutation run): a new sign-in waits for the lock
/// before it is stored; a late grant of a lock request the tab gave up (here, for a refresh of
/// the old sign-in, which the sign-in abandoned) is given back, and does not let the sign-in's
/// write start outside the lock.
#[test]
fn a_late_grant_of_an_abandoned_refresh_does_not_store_a_sign_in_outside_the_lock() {
    let (mut tab, new, refresh_lock, sign_in_lock) = signed_in_again_while_refreshing();
    let actions = tab.feed(Input::LockGranted { op: refresh_lock });
    assert_eq!(
        write_op(&actions),
        None,
        "stored outside the lock: {actions:?}"
    );
    assert!(
        actions
            .iter()
            .any(|action| matches!(action, Action::ReleaseLock { op } if *op == refresh_lock)),
        "{actions:?}"
    );
    let actions = tab.feed(Input::LockGranted { op: sign_in_lock });
    assert_eq!(written(&actions), vec![new.as_str()]);
}

/// Catches `lock == op` → `true` in `lock_unavailable`'s `Locking` arm (found by the whole
/// mutation run of session 11): "no lock available" for a lock request this tab gave up on is
/// not about the lock it asks for now: the refresh is not sent outside the lock, and the store
/// is re-read once its own request is granted.
#[test]
fn a_late_lock_unavailable_of_a_request_given_up_on_does_not_refresh_outside_the_lock() {
    let mut tab = Tab::signed_in(SessionConfig::default(), &four_hours(1));
    let (first, second) = lock_given_up_and_asked_again(&mut tab);
    let actions = tab.feed(Input::LockUnavailable { op: first });
    assert_eq!(
        refresh_op(&actions),
        None,
        "refreshed outside the lock: {actions:?}"
    );
    let actions = tab.feed(Input::LockGranted { op: second });
    assert!(read_op(&actions).is_some(), "no re-read: {actions:?}");
}

/// Catches the sign-in's guard `lock == op` turned into `true` in `lock_unavailable` (the second
/// guard; found by the whole mutation run of session 11): a new sign-in waits for its own lock
/// before it is stored; "no lock available" for the refresh the sign-in abandoned does not let
/// the sign-in's write start outside the lock.
#[test]
fn a_late_lock_unavailable_of_an_abandoned_refresh_does_not_store_a_sign_in_outside_the_lock() {
    let (mut tab, new, refresh_lock, sign_in_lock) = signed_in_again_while_refreshing();
    let actions = tab.feed(Input::LockUnavailable { op: refresh_lock });
    assert_eq!(
        write_op(&actions),
        None,
        "stored outside the lock: {actions:?}"
    );
    let actions = tab.feed(Input::LockGranted { op: sign_in_lock });
    assert_eq!(written(&actions), vec![new.as_str()]);
}

/// Catches `current == Some(&f.text)` → `!=` in `reread_done`'s `ours_unstored` (found by the
/// whole mutation run of session 11): under the lock, a store holding a token this tab never
/// saw (another tab's successor of ours, whose own write failed) is adopted as it is; the tab
/// does not write it back, nor its own unstored token over it.
#[test]
fn a_store_holding_a_token_never_seen_is_adopted_without_a_write() {
    let (a, b) = (four_hours(1), jwt(2 * 14_400 - 200, 14_400 - 200, 2));
    let c = jwt(2 * 14_400 - 100, 14_400 - 100, 3);
    let (mut tab, reread) = refused_unstored_successor(&a, &b);
    // The store holds C, which this tab never saw.
    let actions = tab.feed(stored(reread, Some(&c)));
    assert_eq!(written(&actions), Vec::<&str>::new(), "{actions:?}");
    assert_eq!(refresh_op(&actions), None, "{actions:?}");
    assert_eq!(tab.token().as_deref(), Some(c.as_str()));
}
