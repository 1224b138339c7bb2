//! The server model and its history: consult-stub's rules for tokens (rotation with a reuse
//! window, reuse after it revokes the sign-in, refresh grace after `exp`, a cap on the sign-in's
//! age, logout; `tests/data/rotation.json` holds the model to the stub's answers), run by several instances with their own clocks over one shared store (Redis),
//! and the rotation chain the judge checks every tab against.
//!
//! The only excuses the judge accepts are faults the world injected and recorded here
//! ([`Excuse`]): never a machine's own abort or a dropped answer.

use std::collections::{BTreeMap, HashMap};

use consult_core::base64url;

/// True time 0 is this Unix time (tokens carry realistic, positive times).
pub const EPOCH_MS: i64 = 1_750_000_000_000;

/// The server's rules.
#[derive(Debug, Clone)]
pub struct Rules {
    pub ttl_ms: i64,
    pub grace_ms: i64,
    pub max_age_ms: i64,
    pub reuse_window_ms: i64,
    /// Whether a token already rotated still authorises API calls.
    pub rotated_tokens_work: bool,
    /// Each instance's clock offset from true time (one entry: a single server).
    pub instance_offsets_ms: Vec<i64>,
}

/// Why the refresh endpoint refused (401).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Refusal {
    Unknown,
    Revoked,
    SignedOut,
    PastGrace,
    PastCap,
    Reuse,
}

/// A fault the world injected that may legitimately hide a successor from the tabs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Excuse {
    /// The server rotated, the answer never arrived.
    AnswerLost,
    /// The server rotated and answered garbage.
    AnswerGarbled,
    /// The answer came after the client's request timeout.
    AnswerLate,
    /// The laptop slept with the answer in flight.
    SleptMidRefresh,
    /// The tab closed with the request out, or before its successor was stored.
    TabClosed,
    /// The successor's write to the store failed or hung.
    StoreWriteFailed,
    /// The refreshing tab's storage failed and it missed a message (two faults).
    StorageAndMessageLost,
    /// The refreshing tab's IndexedDB never opened: it refreshes without the re-read, racing
    /// the other tabs' messages.
    StorageBroken,
    /// The user signed out or in again while the request was out (the machine dropped it).
    UserAction,
    /// The cap cut the successor to a few seconds (consult-stub mints it anyway): the sign-in
    /// is ending, the client may not be able to use it.
    SignInEnding,
    /// The sign-in was already over on the instance whose clock runs furthest ahead (its grace
    /// or cap passed): a tab that heard so signed out and dropped its request, another tab's
    /// request reached an instance whose clock is behind, which still rotates.
    SignInOver,
}

#[derive(Debug, Clone)]
pub struct Issued {
    pub text: String,
    pub sid: u32,
    /// Position in the sign-in's chain (0: the sign-in's token).
    pub index: u32,
    /// `exp` in true time (the minting instance's clock corrected).
    pub exp_true_ms: i64,
    /// `exp` in the minting instance's clock (as written in the token).
    exp_ms: i64,
    auth_time_ms: i64,
    /// The successor's jti, and when it was minted (true time, instance time).
    pub successor: Option<(u64, i64, i64)>,
    /// A recorded fault that may hide this token's successor.
    pub excuse: Option<Excuse>,
    /// A write of this token to the store failed or hung.
    pub write_failed: bool,
}

#[derive(Debug, Clone, Default)]
struct SignIn {
    revoked: Option<Refusal>,
    /// The jti of its newest token (the head of its chain: the last one minted).
    head: u64,
}

/// What the refresh endpoint did with one request.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// 200 with a token: `(token text, expires_in seconds, the answering instance's time)`.
    Issued(String, i64, i64),
    /// 401 and why.
    Refused(Refusal),
}

/// The server.
#[derive(Debug, Default)]
pub struct Server {
    rules: Option<Rules>,
    issued: HashMap<u64, Issued>,
    /// Token text → jti (the judge looks tokens up constantly; parsing each is slow).
    by_text: HashMap<String, u64>,
    sign_ins: Vec<SignIn>,
    next_jti: u64,
    /// Refresh requests for a token already rotated (within the window: the same successor).
    pub repeated_refreshes: u32,
    /// Repeats no recorded fault explains (each one is a violation).
    pub unexcused_repeats: Vec<(i64, String)>,
    pub rotations: u32,
    /// Refusals by kind.
    pub refusals: BTreeMap<Refusal, u32>,
    /// Sign-ins revoked for reuse, by the recorded fault that excuses them (`None`: unexcused).
    pub revocations: BTreeMap<Option<Excuse>, u32>,
}

/// A JWT the model can read back: `exp`, `iat` in seconds and the `jti` as `n`.
pub fn jwt(exp_ms: i64, iat_ms: i64, jti: u64) -> String {
    let payload = format!(
        r#"{{"exp":{},"iat":{},"n":{jti}}}"#,
        exp_ms.div_euclid(1000),
        iat_ms.div_euclid(1000)
    );
    format!("e30.{}.sig", base64url::encode(payload.as_bytes()))
}

impl Server {
    pub fn new(rules: Rules) -> Self {
        Self {
            rules: Some(rules),
            ..Self::default()
        }
    }

    fn rules(&self) -> &Rules {
        self.rules.as_ref().expect("a server has rules")
    }

    /// The clock offset of instance `instance`.
    pub fn offset(&self, instance: usize) -> i64 {
        let offsets = &self.rules().instance_offsets_ms;
        offsets.get(instance).copied().unwrap_or(0)
    }

    pub fn instances(&self) -> usize {
        self.rules().instance_offsets_ms.len().max(1)
    }

    pub fn get(&self, token: &str) -> Option<&Issued> {
        self.by_text.get(token).and_then(|jti| self.issued.get(jti))
    }

    pub fn by_jti(&self, jti: u64) -> Option<&Issued> {
        self.issued.get(&jti)
    }

    fn get_mut(&mut self, token: &str) -> Option<&mut Issued> {
        let jti = *self.by_text.get(token)?;
        self.issued.get_mut(&jti)
    }

    #[allow(clippy::too_many_arguments)]
    fn mint(
        &mut self,
        local_now: i64,
        offset: i64,
        sid: u32,
        index: u32,
        auth_time_ms: i64,
        lifetime_ms: i64,
    ) -> String {
        self.next_jti += 1;
        let jti = self.next_jti;
        // Whole seconds, as JWTs carry them.
        let iat = local_now.div_euclid(1000) * 1000;
        let exp = iat.saturating_add(lifetime_ms.max(1000));
        let text = jwt(exp, iat, jti);
        self.by_text.insert(text.clone(), jti);
        if let Some(sign_in) = self.sign_ins.get_mut(sid as usize - 1) {
            sign_in.head = jti;
        }
        self.issued.insert(
            jti,
            Issued {
                text: text.clone(),
                sid,
                index,
                exp_true_ms: exp.saturating_sub(offset).saturating_sub(EPOCH_MS),
                exp_ms: exp,
                auth_time_ms,
                successor: None,
                excuse: None,
                write_failed: false,
            },
        );
        text
    }

    /// A new sign-in at true time `now` (by instance 0): the token and `expires_in`.
    pub fn sign_in(&mut self, now: i64) -> (String, i64) {
        self.sign_ins.push(SignIn::default());
        let sid = self.sign_ins.len() as u32;
        let ttl = self.rules().ttl_ms;
        let local = now.saturating_add(EPOCH_MS).saturating_add(self.offset(0));
        let text = self.mint(local, self.offset(0), sid, 0, local, ttl);
        let exp = self.get(&text).map_or(local, |i| i.exp_ms);
        (text, exp.saturating_sub(local).div_euclid(1000))
    }

    fn refuse(&mut self, why: Refusal) -> Outcome {
        *self.refusals.entry(why).or_default() += 1;
        Outcome::Refused(why)
    }

    fn sign_in_of(&mut self, sid: u32) -> Option<&mut SignIn> {
        self.sign_ins.get_mut((sid as usize).wrapping_sub(1))
    }

    /// `POST /refresh-token` with `token`, at true time `now`, answered by `instance`;
    /// `sender_excuse`: a fault recorded against the sending tab.
    pub fn refresh(
        &mut self,
        now: i64,
        instance: usize,
        token: &str,
        sender_excuse: Option<Excuse>,
    ) -> Outcome {
        let rules = self.rules().clone();
        let offset = self.offset(instance);
        let local = now.saturating_add(EPOCH_MS).saturating_add(offset);
        let Some(issued) = self.get(token).cloned() else {
            return self.refuse(Refusal::Unknown);
        };
        let sid = issued.sid;
        if let Some(why) = self.sign_in_of(sid).and_then(|s| s.revoked) {
            let why = if why == Refusal::SignedOut {
                why
            } else {
                Refusal::Revoked
            };
            return self.refuse(why);
        }
        if local > issued.exp_ms.saturating_add(rules.grace_ms) {
            return self.refuse(Refusal::PastGrace);
        }
        if local > issued.auth_time_ms.saturating_add(rules.max_age_ms) {
            return self.refuse(Refusal::PastCap);
        }
        if let Some((successor, _, rotated_local)) = issued.successor {
            self.repeated_refreshes += 1;
            let next_write_failed = self.issued.get(&successor).is_some_and(|s| s.write_failed);
            let excuse = issued
                .excuse
                .or(next_write_failed.then_some(Excuse::StoreWriteFailed))
                .or(sender_excuse)
                .or(self
                    .legitimately_over(now, token)
                    .then_some(Excuse::SignInOver));
            if excuse.is_none() {
                self.unexcused_repeats
                    .push((now, format!("token #{} (chain {})", issued.index, sid)));
            }
            // Only the chain's last rotation repeats (consult-stub remembers that one): a
            // token two rotations old is reuse, inside its own window too.
            let successor_current = self
                .issued
                .get(&successor)
                .is_some_and(|s| s.successor.is_none());
            if successor_current && local <= rotated_local.saturating_add(rules.reuse_window_ms) {
                let text = self.token_text(successor);
                let expires_in = self.expires_in_s(&text, local);
                return Outcome::Issued(text, expires_in, local);
            }
            *self.revocations.entry(excuse).or_default() += 1;
            if let Some(sign_in) = self.sign_in_of(sid) {
                sign_in.revoked = Some(Refusal::Reuse);
            }
            return self.refuse(Refusal::Reuse);
        }
        let left = issued
            .auth_time_ms
            .saturating_add(rules.max_age_ms)
            .saturating_sub(local);
        if left <= 1000 {
            return self.refuse(Refusal::PastCap);
        }
        let text = self.mint(
            local,
            offset,
            sid,
            issued.index + 1,
            issued.auth_time_ms,
            rules.ttl_ms.min(left),
        );
        let successor = self.by_text.get(&text).copied().unwrap_or_default();
        let cut_short = left < rules.ttl_ms && left < 5_000;
        if let Some(i) = self.get_mut(token) {
            i.successor = Some((successor, now, local));
            if cut_short {
                i.excuse.get_or_insert(Excuse::SignInEnding);
            }
        }
        self.rotations += 1;
        let expires_in = self.expires_in_s(&text, local);
        Outcome::Issued(text, expires_in, local)
    }

    fn expires_in_s(&self, token: &str, local: i64) -> i64 {
        let exp = self.get(token).map_or(local, |i| i.exp_ms);
        exp.saturating_sub(local).div_euclid(1000)
    }

    fn token_text(&self, jti: u64) -> String {
        self.issued
            .get(&jti)
            .map_or_else(String::new, |i| i.text.clone())
    }

    /// `POST /logout` with `token`: the sign-in is over.
    pub fn logout(&mut self, token: &str) {
        if let Some(sid) = self.get(token).map(|i| i.sid)
            && let Some(sign_in) = self.sign_in_of(sid)
        {
            sign_in.revoked.get_or_insert(Refusal::SignedOut);
        }
    }

    /// Records a fault that may hide the successor of the refresh of `sent`.
    pub fn excuse(&mut self, sent: &str, why: Excuse) {
        if let Some(issued) = self.get_mut(sent) {
            issued.excuse.get_or_insert(why);
        }
    }

    /// A write of `token` to the store failed or hung.
    pub fn write_failed(&mut self, token: &str) {
        if let Some(issued) = self.get_mut(token) {
            issued.write_failed = true;
        }
    }

    /// The last token of the newest sign-in, if that sign-in is newer than `token`'s.
    pub fn newer_sign_in_head(&self, token: &str) -> Option<String> {
        let sid = self.get(token)?.sid as usize;
        let newest = self.sign_ins.last().filter(|_| self.sign_ins.len() > sid)?;
        Some(self.token_text(newest.head))
    }

    /// Whether a sign-in newer than `token`'s never reached the store (the write of its first
    /// token failed, a recorded fault): a tab may have stayed on `token`'s sign-in, which the
    /// user replaced.
    pub fn replaced_by_unstored_sign_in(&self, token: &str) -> bool {
        let sid = self.get(token).map_or(u32::MAX, |i| i.sid);
        self.issued
            .values()
            .any(|i| i.sid > sid && i.index == 0 && i.write_failed)
    }

    /// The successor `token` died with a tab before it was stored: its predecessor is excused.
    pub fn successor_lost(&mut self, token: &str) {
        let Some(&jti) = self.by_text.get(token) else {
            return;
        };
        for issued in self.issued.values_mut() {
            if issued.successor.is_some_and(|(s, _, _)| s == jti) {
                issued.excuse.get_or_insert(Excuse::TabClosed);
            }
        }
    }

    /// An API call with `token` at true time `now` (strict: not expired, not revoked).
    pub fn authorises(&self, now: i64, token: &str) -> bool {
        let Some(issued) = self.get(token) else {
            return false;
        };
        let revoked = self
            .sign_ins
            .get(issued.sid as usize - 1)
            .is_none_or(|s| s.revoked.is_some());
        let rotated_ok = self.rules().rotated_tokens_work || issued.successor.is_none();
        !revoked && now <= issued.exp_true_ms && rotated_ok
    }

    /// Why the sign-in of `token` is legitimately over at true time `now`, if it is: signed out,
    /// an excused revocation, the cap or the grace period passed (any instance's clock).
    pub fn legitimately_over(&self, now: i64, token: &str) -> bool {
        let Some(issued) = self.get(token) else {
            return false;
        };
        let rules = self.rules();
        let sign_in = self.sign_ins.get(issued.sid as usize - 1);
        let ended = sign_in.is_some_and(|s| s.revoked.is_some());
        let latest = self
            .rules()
            .instance_offsets_ms
            .iter()
            .copied()
            .max()
            .unwrap_or(0);
        let local = now.saturating_add(EPOCH_MS).saturating_add(latest.max(0));
        ended
            // The server refuses once less than a second of the sign-in is left.
            || local >= issued.auth_time_ms.saturating_add(rules.max_age_ms) - 1000
            || local > issued.exp_ms.saturating_add(rules.grace_ms)
    }

    /// Whether `token` may be handed to a caller at true time `now`: its sign-in is on, it is
    /// the head of its chain or was rotated at most `window + allowance` ago, and it expired
    /// at most `expiry_allowance` ago (the client's skew estimate is only so good).
    pub fn current(
        &self,
        now: i64,
        token: &str,
        allowance_ms: i64,
        expiry_allowance_ms: i64,
    ) -> Result<(), String> {
        let Some(issued) = self.get(token) else {
            return Err(String::from("a token the server never issued"));
        };
        if let Some((_, rotated_true, _)) = issued.successor {
            let window = self.rules().reuse_window_ms.saturating_add(allowance_ms);
            if now > rotated_true.saturating_add(window) {
                return Err(format!(
                    "token #{} of sign-in {}, rotated {} ms before",
                    issued.index,
                    issued.sid,
                    now - rotated_true
                ));
            }
        }
        if now > issued.exp_true_ms.saturating_add(expiry_allowance_ms) {
            return Err(format!(
                "token #{} of sign-in {}, expired {} ms before",
                issued.index,
                issued.sid,
                now - issued.exp_true_ms
            ));
        }
        Ok(())
    }

    /// When (true time) the newest token of `token`'s sign-in expires: consult-stub's socket
    /// sweep disconnects a socket once its sign-in's newest token has expired. Judged on true
    /// time, not on the instances' clocks: the model's tokens live seconds to minutes, so an
    /// instance a few seconds ahead would sweep sockets whose tokens are refreshed on time,
    /// which consult-stub's 4-hour tokens, refreshed minutes before their `exp`, never see.
    pub fn head_expiry(&self, token: &str) -> Option<i64> {
        let sid = self.get(token)?.sid;
        let head = self.sign_ins.get(sid as usize - 1)?.head;
        self.issued.get(&head).map(|head| head.exp_true_ms)
    }

    /// Whether the sign-in of `token` is over at true time `now`: its newest token (the head of
    /// its chain) is legitimately over — signed out, revoked, its grace or the cap passed.
    pub fn sign_in_over(&self, now: i64, token: &str) -> bool {
        let head = self
            .get(token)
            .and_then(|i| self.sign_ins.get(i.sid as usize - 1))
            .and_then(|s| self.issued.get(&s.head));
        head.is_some_and(|head| self.legitimately_over(now, &head.text))
    }

    /// `(sign-in, chain index)`: the order of tokens in the server's history.
    pub fn position(&self, token: &str) -> Option<(u32, u32)> {
        self.get(token).map(|i| (i.sid, i.index))
    }
}
