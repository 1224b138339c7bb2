//! The server model: consult-stub's rules for tokens (rotation with a reuse window, reuse after
//! it revokes the sign-in, refresh grace after `exp`, a cap on the sign-in's age, revocation),
//! and a record of every refusal with whether it was legitimate.

use std::collections::HashMap;

use consult_core::base64url;

/// The server's rules.
#[derive(Debug, Clone)]
pub struct Rules {
    pub ttl_ms: i64,
    pub grace_ms: i64,
    pub max_age_ms: i64,
    pub reuse_window_ms: i64,
    /// Whether a token already rotated still authorises API calls.
    pub rotated_tokens_work: bool,
}

/// Why the refresh endpoint refused (401).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    Unknown,
    Revoked,
    PastGrace,
    PastCap,
    Reuse,
}

#[derive(Debug, Clone)]
struct Issued {
    text: String,
    sid: u32,
    exp_ms: i64,
    auth_time_ms: i64,
    successor: Option<(u64, i64)>,
    /// A refresh of this token was answered where no client saw it (answer lost, garbled,
    /// aborted): refreshing it again is a reuse the client could not avoid.
    answer_lost: bool,
}

#[derive(Debug, Clone, Default)]
struct SignIn {
    revoked: bool,
    /// Revoked for a reuse that a lost answer explains.
    revoked_for_cause: bool,
}

/// What the refresh endpoint did with one request.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// 200 with a token: `(token text, expires_in seconds)`.
    Issued(String, i64),
    /// 401 and why.
    Refused(Refusal),
}

/// The server.
#[derive(Debug, Default)]
pub struct Server {
    pub rules: Option<Rules>,
    issued: HashMap<u64, Issued>,
    sign_ins: HashMap<u32, SignIn>,
    next_jti: u64,
    /// Refresh requests for a token that was already rotated (each is a wasted or risky refresh).
    pub repeated_refreshes: u32,
    /// Refresh requests for a token already rotated that no lost answer explains.
    pub unexplained_repeats: u32,
    /// Rotations done.
    pub rotations: u32,
    /// Refusals that no client behaviour can avoid (cap, grace after a long outage, a lost
    /// successor), and those it could.
    pub legitimate_refusals: u32,
    pub illegitimate_refusals: Vec<(i64, Refusal)>,
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

fn jti_of(token: &str) -> Option<u64> {
    let payload = consult_core::jwt::payload_json(token).ok()?;
    let json = consult_core::json::Json::parse(&payload)?;
    json.get("n")?.as_f64().map(|n| n as u64)
}

impl Server {
    pub fn new(rules: Rules) -> Self {
        Self {
            rules: Some(rules),
            ..Self::default()
        }
    }

    fn rules(&self) -> Rules {
        self.rules.clone().unwrap_or(Rules {
            ttl_ms: 60_000,
            grace_ms: 3_600_000,
            max_age_ms: 43_200_000,
            reuse_window_ms: 30_000,
            rotated_tokens_work: true,
        })
    }

    fn mint(&mut self, now: i64, sid: u32, auth_time_ms: i64, lifetime_ms: i64) -> String {
        self.next_jti += 1;
        let jti = self.next_jti;
        // Whole seconds, as JWTs carry them.
        let iat = now.div_euclid(1000) * 1000;
        let exp = iat + lifetime_ms.max(1000);
        let text = jwt(exp, iat, jti);
        self.issued.insert(
            jti,
            Issued {
                text: text.clone(),
                sid,
                exp_ms: exp,
                auth_time_ms,
                successor: None,
                answer_lost: false,
            },
        );
        text
    }

    /// A new sign-in at `now`.
    pub fn sign_in(&mut self, now: i64) -> String {
        let sid = self.sign_ins.len() as u32 + 1;
        self.sign_ins.insert(sid, SignIn::default());
        let ttl = self.rules().ttl_ms;
        self.mint(now, sid, now, ttl)
    }

    fn expires_in_s(&self, token: &str, now: i64) -> i64 {
        let exp = jti_of(token)
            .and_then(|jti| self.issued.get(&jti))
            .map_or(now, |i| i.exp_ms);
        (exp - now).div_euclid(1000)
    }

    fn refuse(&mut self, now: i64, _sid: u32, why: Refusal, lost: bool) -> Outcome {
        let legitimate = match why {
            Refusal::PastCap | Refusal::PastGrace | Refusal::Revoked => true,
            Refusal::Reuse => lost,
            Refusal::Unknown => false,
        };
        if legitimate {
            self.legitimate_refusals += 1;
        } else {
            self.illegitimate_refusals.push((now, why));
        }
        Outcome::Refused(why)
    }

    /// `POST /refresh-token` with `token` at server time `now`.
    pub fn refresh(&mut self, now: i64, token: &str) -> Outcome {
        let rules = self.rules();
        let Some(jti) = jti_of(token) else {
            return self.refuse(now, 0, Refusal::Unknown, false);
        };
        let Some(issued) = self.issued.get(&jti).cloned() else {
            return self.refuse(now, 0, Refusal::Unknown, false);
        };
        let lost = issued.answer_lost;
        let sid = issued.sid;
        if self.sign_ins.get(&sid).is_some_and(|s| s.revoked) {
            return self.refuse(now, sid, Refusal::Revoked, lost);
        }
        if now > issued.exp_ms + rules.grace_ms {
            return self.refuse(now, sid, Refusal::PastGrace, lost);
        }
        if now > issued.auth_time_ms + rules.max_age_ms {
            return self.refuse(now, sid, Refusal::PastCap, lost);
        }
        if let Some((successor, rotated_at)) = issued.successor {
            self.repeated_refreshes += 1;
            if !lost {
                self.unexplained_repeats += 1;
            }
            if now <= rotated_at + rules.reuse_window_ms {
                let text = self.token_text(successor);
                let expires_in = self.expires_in_s(&text, now);
                return Outcome::Issued(text, expires_in);
            }
            if let Some(sign_in) = self.sign_ins.get_mut(&sid) {
                sign_in.revoked = true;
                sign_in.revoked_for_cause = lost;
            }
            return self.refuse(now, sid, Refusal::Reuse, lost);
        }
        let left = issued.auth_time_ms + rules.max_age_ms - now;
        if left <= 1000 {
            return self.refuse(now, sid, Refusal::PastCap, lost);
        }
        let text = self.mint(now, sid, issued.auth_time_ms, rules.ttl_ms.min(left));
        let successor = jti_of(&text).unwrap_or_default();
        if let Some(i) = self.issued.get_mut(&jti) {
            i.successor = Some((successor, now));
        }
        self.rotations += 1;
        let expires_in = self.expires_in_s(&text, now);
        Outcome::Issued(text, expires_in)
    }

    fn token_text(&self, jti: u64) -> String {
        self.issued
            .get(&jti)
            .map_or_else(String::new, |i| i.text.clone())
    }

    /// An answer to a refresh of `token` (the token sent) reached no client, or may not.
    pub fn answer_lost(&mut self, token: &str) {
        if let Some(issued) = jti_of(token).and_then(|jti| self.issued.get_mut(&jti)) {
            issued.answer_lost = true;
        }
    }

    /// The successor `token` reached a client that died before storing it: only that tab's
    /// broadcast may have told the others, so refreshing its predecessor again is a reuse the
    /// clients could not always avoid (as if the answer had been lost).
    pub fn successor_lost(&mut self, token: &str) {
        let Some(jti) = jti_of(token) else { return };
        for issued in self.issued.values_mut() {
            if issued
                .successor
                .is_some_and(|(successor, _)| successor == jti)
            {
                issued.answer_lost = true;
            }
        }
    }

    /// An API call with `token` (strict: not expired, not revoked).
    pub fn authorises(&self, now: i64, token: &str) -> bool {
        let rules = self.rules();
        let Some(issued) = jti_of(token).and_then(|jti| self.issued.get(&jti)) else {
            return false;
        };
        let revoked = self.sign_ins.get(&issued.sid).is_none_or(|s| s.revoked);
        let rotated_ok = rules.rotated_tokens_work || issued.successor.is_none();
        !revoked && now <= issued.exp_ms && rotated_ok
    }

    /// Whether the sign-in of `token` was ended for a reason no client can avoid.
    pub fn sign_in_legitimately_over(&self, now: i64, token: &str) -> bool {
        let rules = self.rules();
        let Some(issued) = jti_of(token).and_then(|jti| self.issued.get(&jti)) else {
            return false;
        };
        let sign_in = self.sign_ins.get(&issued.sid);
        let revoked_for_cause = sign_in.is_some_and(|s| s.revoked_for_cause);
        revoked_for_cause
            || now > issued.auth_time_ms + rules.max_age_ms
            || now > issued.exp_ms + rules.grace_ms
    }
}
