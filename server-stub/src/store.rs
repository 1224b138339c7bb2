//! The server's memory: sessions and, per sign-in (`sid`), its rotation chain and revocation.
//! One short-held mutex guards it; nothing here awaits, and nothing here scans every entry.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, VecDeque};
use std::time::Duration;

use time::OffsetDateTime;

use crate::error::{ApiError, AuthError};
use crate::limits::{Bucket, Limits};
use crate::session::{Rendered, Session, SessionStatus};
use crate::storage::{Presented, RefreshRefused, SignInView, now_ms};
use std::sync::Arc;

/// The refresh a chain remembers, so that a repeat within the reuse window gets the same answer.
#[derive(Debug, Clone)]
pub struct Rotation {
    /// The refreshed token's `jti`.
    pub jti: String,
    /// When it was refreshed.
    pub refreshed_at: OffsetDateTime,
    /// The successor token it got.
    pub access_token: String,
    /// The successor's `exp` (Unix seconds).
    pub successor_exp: i64,
}

/// One sign-in: which token is current, the last rotation, whether it is revoked.
/// Kept until `end` (auth_time + max age), after which no token of the sign-in is accepted
/// anyway; never evicted before.
#[derive(Debug, Clone)]
pub struct Chain {
    /// `jti` of the token that may be refreshed next.
    pub current_jti: String,
    /// `exp` of the current token (sockets of the sign-in live until it).
    pub current_exp: i64,
    /// The last rotation (its `jti` is the predecessor of the current token).
    pub last: Option<Rotation>,
    /// Revoked by logout or reuse detection.
    pub revoked: bool,
    /// The last instant any token of the sign-in can be accepted (Unix seconds).
    pub end: i64,
    /// Refresh rate limit of the sign-in.
    bucket: Bucket,
}

/// What to do with a refresh request, given the sign-in's chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefreshDecision {
    /// The current token: mint a successor.
    MintNew,
    /// The predecessor, inside the reuse window: answer with this successor again.
    Repeat {
        /// The successor token.
        access_token: String,
        /// Its `exp` (Unix seconds).
        successor_exp: i64,
    },
}

/// Sessions and sign-ins.
#[derive(Debug, Default)]
pub struct Store {
    sessions: HashMap<String, Session>,
    /// Each session's current version, rendered (GET answers it without serialising).
    rendered: HashMap<String, Arc<Rendered>>,
    room_to_session: HashMap<String, String>,
    chains: HashMap<String, Chain>,
    /// `(end, sid)` of every chain, soonest first: chains are dropped once their sign-in is over,
    /// without scanning the map.
    ends: BinaryHeap<Reverse<(i64, String)>>,
    /// `(refreshed_at, sid)` of every rotation, oldest first: a successor token is needed only
    /// inside the reuse window, and is dropped after it (one ~0.5 KB string per sign-in).
    rotations: VecDeque<(OffsetDateTime, String)>,
    limits: Limits,
}

impl Store {
    /// An empty store with these limits.
    pub fn new(limits: Limits) -> Self {
        Store {
            limits,
            ..Store::default()
        }
    }

    /// Whether sign-in `sid` was revoked.
    pub fn is_revoked(&self, sid: &str) -> bool {
        self.chains.get(sid).is_some_and(|c| c.revoked)
    }

    /// Whether `jti` is the sign-in's current token, or its predecessor inside the reuse window
    /// (a token that has been replaced for longer is superseded). A sign-in never refreshed has
    /// no chain: its token is current.
    pub fn is_current(&self, sid: &str, jti: &str, now: OffsetDateTime, window: Duration) -> bool {
        match self.chains.get(sid) {
            None => true,
            Some(chain) => {
                chain.current_jti == jti
                    || chain
                        .last
                        .as_ref()
                        .is_some_and(|r| r.jti == jti && now - r.refreshed_at <= window)
            }
        }
    }

    /// The sign-in's chain as the token checks see it (see [`crate::storage::SignInView`]).
    pub fn view(&self, sid: &str) -> SignInView {
        match self.chains.get(sid) {
            None => SignInView::default(),
            Some(chain) => SignInView {
                revoked: chain.revoked,
                current_jti: Some(chain.current_jti.clone()),
                current_exp: Some(chain.current_exp),
                last: chain
                    .last
                    .as_ref()
                    .map(|r| (r.jti.clone(), now_ms(r.refreshed_at))),
                unknown: false,
                store_now_ms: None,
            },
        }
    }

    /// `exp` of the sign-in's current token, when it was ever refreshed.
    pub fn current_exp(&self, sid: &str) -> Option<i64> {
        self.chains.get(sid).map(|c| c.current_exp)
    }

    /// Revokes sign-in `sid`, remembered until `end` (the last instant any of its tokens lives).
    /// Always recorded, even past `--max-sign-ins`: a revocation is never refused.
    pub fn revoke(&mut self, presented: Presented<'_>, now: i64) {
        self.forget_ended(now);
        let burst = self.limits.refresh_burst;
        let chain = self.chain_entry(presented, burst, now);
        chain.revoked = true;
    }

    /// Records a new sign-in at its birth (its first token current), counted against
    /// `--max-sign-ins`: when the store is full, the sign-in is refused (nothing live is
    /// forgotten), so mint-and-logout cannot grow the store past its cap.
    pub fn begin(&mut self, presented: Presented<'_>, now: i64) -> Result<(), RefreshRefused> {
        self.forget_ended(now);
        if self.chains.contains_key(presented.sid) {
            return Ok(());
        }
        if self.chains.len() >= self.limits.max_sign_ins {
            return Err(RefreshRefused::Full);
        }
        let burst = self.limits.refresh_burst;
        self.chain_entry(presented, burst, now);
        Ok(())
    }

    fn chain_entry(&mut self, presented: Presented<'_>, burst: u32, now: i64) -> &mut Chain {
        if !self.chains.contains_key(presented.sid) {
            self.ends
                .push(Reverse((presented.end, presented.sid.to_owned())));
        }
        self.chains
            .entry(presented.sid.to_owned())
            .or_insert_with(|| Chain {
                current_jti: presented.jti.to_owned(),
                current_exp: presented.exp,
                last: None,
                revoked: false,
                end: presented.end,
                bucket: Bucket::full(burst, now.saturating_mul(1000)),
            })
    }

    /// Decides a refresh of the presented token: a successor for the current token, the same
    /// successor for the predecessor inside the reuse window, and for anything else reuse —
    /// which revokes the sign-in here and now.
    pub fn refresh_decision(
        &mut self,
        presented: Presented<'_>,
        now: OffsetDateTime,
        reuse_window: Duration,
    ) -> Result<RefreshDecision, RefreshRefused> {
        let now_s = now.unix_timestamp();
        self.forget_ended(now_s);
        self.forget_old_successors(now, reuse_window);
        if !self.chains.contains_key(presented.sid) && self.chains.len() >= self.limits.max_sign_ins
        {
            return Err(RefreshRefused::Full);
        }
        let limits = self.limits;
        let chain = self.chain_entry(presented, limits.refresh_burst, now_s);
        if chain.revoked {
            return Err(RefreshRefused::Auth(AuthError::SessionRevoked));
        }
        if let Some(last) = &chain.last
            && last.jti == presented.jti
            && now - last.refreshed_at <= reuse_window
            && !last.access_token.is_empty()
        {
            return Ok(RefreshDecision::Repeat {
                access_token: last.access_token.clone(),
                successor_exp: last.successor_exp,
            });
        }
        if chain.current_jti != presented.jti {
            chain.revoked = true;
            return Err(RefreshRefused::Auth(AuthError::TokenReused));
        }
        let now_ms = i64::try_from(now.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX);
        if !chain
            .bucket
            .take(limits.refresh_burst, limits.refresh_interval, now_ms)
        {
            return Err(RefreshRefused::RateLimited);
        }
        Ok(RefreshDecision::MintNew)
    }

    /// Records that the sign-in's current token was replaced by a successor.
    pub fn record_rotation(&mut self, sid: &str, rotation: Rotation, successor_jti: String) {
        let at = rotation.refreshed_at;
        if let Some(chain) = self.chains.get_mut(sid) {
            chain.current_jti = successor_jti;
            chain.current_exp = rotation.successor_exp;
            chain.last = Some(rotation);
            self.rotations.push_back((at, sid.to_owned()));
        }
    }

    /// Drops the successor tokens of rotations older than the reuse window (a repeat can no
    /// longer be answered with them: the predecessor is reuse by then). Oldest first; stops at
    /// the first rotation still inside the window.
    pub fn forget_old_successors(&mut self, now: OffsetDateTime, reuse_window: Duration) {
        while let Some((at, _)) = self.rotations.front() {
            if now - *at <= reuse_window {
                break;
            }
            let Some((at, sid)) = self.rotations.pop_front() else {
                break;
            };
            if let Some(last) = self.chains.get_mut(&sid).and_then(|c| c.last.as_mut())
                && last.refreshed_at == at
            {
                last.access_token = String::new();
            }
        }
    }

    /// Drops the chains whose sign-in is over (soonest end first; stops at the first live one).
    fn forget_ended(&mut self, now: i64) {
        while let Some(Reverse((end, _))) = self.ends.peek() {
            if *end >= now {
                break;
            }
            if let Some(Reverse((_, sid))) = self.ends.pop() {
                self.chains.remove(&sid);
            }
        }
    }

    /// How many sign-ins are remembered.
    pub fn sign_in_count(&self) -> usize {
        self.chains.len()
    }

    /// Adds a session; refuses a duplicate id or room.
    pub fn insert_session(&mut self, session: Session) -> Result<Session, ApiError> {
        if self.sessions.len() >= self.limits.max_sessions {
            return Err(ApiError::Full("sessions"));
        }
        if self.sessions.contains_key(&session.session_id) {
            return Err(ApiError::SessionExists(session.session_id));
        }
        if self.room_to_session.contains_key(&session.room_id) {
            return Err(ApiError::BadRequest(format!(
                "room {:?} belongs to another session",
                session.room_id
            )));
        }
        if let Some(rendered) = Rendered::of(&session) {
            self.rendered
                .insert(session.session_id.clone(), Arc::new(rendered));
        }
        self.room_to_session
            .insert(session.room_id.clone(), session.session_id.clone());
        self.sessions
            .insert(session.session_id.clone(), session.clone());
        Ok(session)
    }

    /// The session with this id.
    pub fn session(&self, session_id: &str) -> Result<&Session, ApiError> {
        self.sessions
            .get(session_id)
            .ok_or_else(|| ApiError::SessionNotFound(session_id.to_owned()))
    }

    /// The rendered current version of a session `user_id` may see; `None` for a session that
    /// does not exist and for one the user is not in alike.
    pub fn rendered_for(&self, session_id: &str, user_id: &str) -> Option<Arc<Rendered>> {
        self.sessions
            .get(session_id)
            .filter(|s| s.admits(user_id))
            .and_then(|_| self.rendered.get(session_id).cloned())
    }

    /// The session owning this Socket.IO room.
    pub fn session_by_room(&self, room_id: &str) -> Option<&Session> {
        self.room_to_session
            .get(room_id)
            .and_then(|id| self.sessions.get(id))
    }

    /// Changes a session's status; a terminal session cannot change any more.
    pub fn set_status(
        &mut self,
        session_id: &str,
        status: SessionStatus,
        now: OffsetDateTime,
    ) -> Result<Session, ApiError> {
        let session = self
            .sessions
            .get_mut(session_id)
            .ok_or_else(|| ApiError::SessionNotFound(session_id.to_owned()))?;
        if session.status.is_terminal() && session.status != status {
            return Err(ApiError::BadRequest(format!(
                "session is {:?}, which is final",
                session.status
            )));
        }
        if session.status != status {
            session.status = status;
            session.version += 1;
            session.updated_at = now;
            match Rendered::of(session) {
                Some(rendered) => {
                    self.rendered
                        .insert(session.session_id.clone(), Arc::new(rendered));
                }
                None => {
                    self.rendered.remove(&session.session_id);
                }
            }
        }
        Ok(session.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: i64) -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(seconds).unwrap_or(OffsetDateTime::UNIX_EPOCH)
    }

    const WINDOW: Duration = Duration::from_secs(30);
    const END: i64 = 1_000_000_000;

    fn presented<'a>(sid: &'a str, jti: &'a str) -> Presented<'a> {
        Presented {
            sid,
            jti,
            exp: END,
            end: END,
        }
    }

    fn unlimited() -> Store {
        Store::new(Limits {
            refresh_burst: u32::MAX,
            ..Limits::DEFAULT
        })
    }

    /// Refreshes `jti` of `sid` at `now`, recording the successor `next`.
    fn rotate(store: &mut Store, sid: &str, jti: &str, next: &str, now: i64) {
        let decision = store.refresh_decision(presented(sid, jti), at(now), WINDOW);
        assert_eq!(decision, Ok(RefreshDecision::MintNew), "{jti} at {now}");
        store.record_rotation(
            sid,
            Rotation {
                jti: jti.to_owned(),
                refreshed_at: at(now),
                access_token: format!("token-{next}"),
                successor_exp: END,
            },
            next.to_owned(),
        );
    }

    #[test]
    fn the_predecessor_repeats_inside_the_window_and_is_reuse_after_it() {
        let mut store = unlimited();
        rotate(&mut store, "s", "a", "b", 0);
        assert!(matches!(
            store.refresh_decision(presented("s", "a"), at(30), WINDOW),
            Ok(RefreshDecision::Repeat { .. })
        ));
        assert_eq!(
            store.refresh_decision(presented("s", "a"), at(31), WINDOW),
            Err(RefreshRefused::Auth(AuthError::TokenReused))
        );
        assert!(store.is_revoked("s"));
        assert_eq!(
            store.refresh_decision(presented("s", "b"), at(32), WINDOW),
            Err(RefreshRefused::Auth(AuthError::SessionRevoked))
        );
    }

    #[test]
    fn a_million_chained_refreshes_keep_one_entry_and_an_old_token_is_still_reuse() {
        let mut store = unlimited();
        let mut jti = "t0".to_owned();
        for i in 1..=1_000_002_i64 {
            let next = format!("t{i}");
            rotate(&mut store, "s", &jti, &next, i / 1000);
            jti = next;
        }
        assert_eq!(store.sign_in_count(), 1);
        assert_eq!(
            store.refresh_decision(presented("s", "t999990"), at(1001), WINDOW),
            Err(RefreshRefused::Auth(AuthError::TokenReused))
        );
        assert!(store.is_revoked("s"));
    }

    #[test]
    fn successor_tokens_are_dropped_after_the_window_and_the_predecessor_is_still_reuse() {
        let mut store = unlimited();
        rotate(&mut store, "s", "a", "b", 0);
        rotate(&mut store, "t", "x", "y", 40);
        assert!(
            store
                .chains
                .get("s")
                .and_then(|c| c.last.as_ref())
                .is_some_and(|r| r.access_token.is_empty()),
            "s's successor token is forgotten"
        );
        assert_eq!(
            store.refresh_decision(presented("s", "a"), at(41), WINDOW),
            Err(RefreshRefused::Auth(AuthError::TokenReused))
        );
        assert!(matches!(
            store.refresh_decision(presented("t", "x"), at(41), WINDOW),
            Ok(RefreshDecision::Repeat { .. })
        ));
    }

    #[test]
    fn a_full_store_refuses_new_sign_ins_but_keeps_the_live_ones() {
        let mut store = Store::new(Limits {
            max_sign_ins: 1,
            ..Limits::DEFAULT
        });
        rotate(&mut store, "s1", "a", "b", 0);
        assert_eq!(
            store.refresh_decision(presented("s2", "x"), at(1), WINDOW),
            Err(RefreshRefused::Full)
        );
        rotate(&mut store, "s1", "b", "c", 2);
    }

    #[test]
    fn refreshes_of_one_sign_in_are_rate_limited() {
        let mut store = Store::new(Limits {
            refresh_burst: 2,
            ..Limits::DEFAULT
        });
        rotate(&mut store, "s", "a", "b", 0);
        rotate(&mut store, "s", "b", "c", 0);
        assert_eq!(
            store.refresh_decision(presented("s", "c"), at(0), WINDOW),
            Err(RefreshRefused::RateLimited)
        );
        rotate(&mut store, "s", "c", "d", 1);
    }

    #[test]
    fn chains_are_forgotten_only_after_their_sign_in_ends() {
        let mut store = unlimited();
        let short = Presented {
            end: 100,
            ..presented("old", "a")
        };
        store.revoke(short, 0);
        store.revoke(presented("live", "x"), 100);
        assert!(store.is_revoked("old"), "kept until its end, inclusive");
        store.revoke(presented("live", "x"), 101);
        assert!(!store.is_revoked("old"));
        assert!(store.is_revoked("live"));
    }
}
