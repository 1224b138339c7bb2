//! The server's memory: sessions, refresh rotations and revoked sign-ins.
//! One short-held mutex guards it; nothing here awaits.

use std::collections::{HashMap, VecDeque};
use std::time::Duration;

use time::OffsetDateTime;

use crate::error::{ApiError, AuthError};
use crate::session::{Session, SessionStatus};

/// The answer a refresh gave, kept so that a repeat within the reuse window gets the same one.
#[derive(Debug, Clone)]
pub struct Rotation {
    /// When the token was first refreshed.
    pub refreshed_at: OffsetDateTime,
    /// The successor token; dropped once the reuse window has passed (only the reuse marker
    /// is needed after that).
    pub access_token: Option<String>,
    /// The successor's `exp` (Unix seconds).
    pub successor_exp: i64,
    /// The refreshed token's `exp` plus grace: after it the entry can never be used again.
    pub usable_until: i64,
}

/// What to do with a refresh request, given the rotation history.
#[derive(Debug, Clone)]
pub enum RefreshDecision {
    /// First refresh of this token: mint a successor.
    MintNew,
    /// A repeat inside the reuse window: answer with this successor again.
    Repeat {
        /// The successor token.
        access_token: String,
        /// Its `exp` (Unix seconds).
        successor_exp: i64,
    },
}

/// Sessions, rotations and revocations.
#[derive(Debug, Default)]
pub struct Store {
    sessions: HashMap<String, Session>,
    room_to_session: HashMap<String, String>,
    rotations: HashMap<String, Rotation>,
    /// Rotations in the order they happened: `(refreshed_at, jti)`, to drop successor tokens
    /// after the reuse window and whole entries once unusable, without scanning the map.
    rotation_order: VecDeque<(OffsetDateTime, String)>,
    /// Rotations whose successor token is still kept (a suffix of `rotation_order`).
    with_token: usize,
    /// Revoked `sid` → the time after which no token of it is accepted anyway.
    revoked: HashMap<String, i64>,
}

/// Most rotations remembered; past it the oldest are forgotten (their tokens then fail as
/// expired beyond grace long before, in any realistic configuration).
pub const MAX_ROTATIONS: usize = 1_000_000;

impl Store {
    /// Whether sign-in `sid` was revoked.
    pub fn is_revoked(&self, sid: &str) -> bool {
        self.revoked.contains_key(sid)
    }

    /// Revokes sign-in `sid`; `dead_after` is when its tokens die anyway (auth_time + max age).
    pub fn revoke(&mut self, sid: &str, dead_after: i64, now: i64) {
        self.revoked.retain(|_, dead| *dead >= now);
        self.revoked.insert(sid.to_owned(), dead_after);
    }

    /// Decides a refresh of token `jti`: new successor, the same successor again, or reuse.
    pub fn refresh_decision(
        &self,
        jti: &str,
        now: OffsetDateTime,
        reuse_window: Duration,
    ) -> Result<RefreshDecision, AuthError> {
        match self.rotations.get(jti) {
            None => Ok(RefreshDecision::MintNew),
            Some(rotation) => {
                let elapsed = now - rotation.refreshed_at;
                match &rotation.access_token {
                    Some(token) if elapsed <= reuse_window => Ok(RefreshDecision::Repeat {
                        access_token: token.clone(),
                        successor_exp: rotation.successor_exp,
                    }),
                    _ => Err(AuthError::TokenReused),
                }
            }
        }
    }

    /// Records that token `jti` was refreshed, forgetting what can no longer matter: successor
    /// tokens past the reuse window, entries past their usability, the oldest past the cap.
    pub fn record_rotation(&mut self, jti: &str, rotation: Rotation, reuse_window: Duration) {
        let now = rotation.refreshed_at;
        self.forget_old_rotations(now, reuse_window);
        self.rotation_order.push_back((now, jti.to_owned()));
        self.with_token += 1;
        self.rotations.insert(jti.to_owned(), rotation);
    }

    fn forget_old_rotations(&mut self, now: OffsetDateTime, reuse_window: Duration) {
        // Successor tokens: the newest `with_token` entries keep theirs.
        while self.with_token > 0 {
            let index = self.rotation_order.len() - self.with_token;
            let Some((at, jti)) = self.rotation_order.get(index) else {
                break;
            };
            if now - *at <= reuse_window {
                break;
            }
            if let Some(rotation) = self.rotations.get_mut(jti) {
                rotation.access_token = None;
            }
            self.with_token -= 1;
        }
        // Whole entries, oldest first: unusable ones, and any beyond the cap.
        while let Some((_, jti)) = self.rotation_order.front() {
            let unusable = self
                .rotations
                .get(jti)
                .is_none_or(|r| r.usable_until < now.unix_timestamp());
            if !unusable && self.rotation_order.len() < MAX_ROTATIONS {
                break;
            }
            if let Some((_, jti)) = self.rotation_order.pop_front() {
                self.rotations.remove(&jti);
            }
            self.with_token = self.with_token.min(self.rotation_order.len());
        }
    }

    /// How many rotations are remembered, and how many still hold their successor token.
    pub fn rotation_counts(&self) -> (usize, usize) {
        (self.rotations.len(), self.with_token)
    }

    /// Adds a session; refuses a duplicate id or room.
    pub fn insert_session(&mut self, session: Session) -> Result<Session, ApiError> {
        if self.sessions.contains_key(&session.session_id) {
            return Err(ApiError::SessionExists(session.session_id));
        }
        if self.room_to_session.contains_key(&session.room_id) {
            return Err(ApiError::BadRequest(format!(
                "room {:?} belongs to another session",
                session.room_id
            )));
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

    fn rotation(refreshed_at: i64, usable_until: i64) -> Rotation {
        Rotation {
            refreshed_at: at(refreshed_at),
            access_token: Some("t".into()),
            successor_exp: 0,
            usable_until,
        }
    }

    const WINDOW: Duration = Duration::from_secs(30);

    #[test]
    fn successor_tokens_are_dropped_after_the_window_but_reuse_is_still_detected() {
        let mut store = Store::default();
        store.record_rotation("a", rotation(0, 10_000), WINDOW);
        store.record_rotation("b", rotation(31, 10_000), WINDOW);
        assert_eq!(
            store.rotation_counts(),
            (2, 1),
            "a's successor is forgotten, a is not"
        );
        assert!(matches!(
            store.refresh_decision("a", at(40), WINDOW),
            Err(AuthError::TokenReused)
        ));
        assert!(matches!(
            store.refresh_decision("b", at(40), WINDOW),
            Ok(RefreshDecision::Repeat { .. })
        ));
        assert!(matches!(
            store.refresh_decision("c", at(40), WINDOW),
            Ok(RefreshDecision::MintNew)
        ));
    }

    #[test]
    fn unusable_entries_are_forgotten() {
        let mut store = Store::default();
        store.record_rotation("a", rotation(0, 100), WINDOW);
        store.record_rotation("b", rotation(101, 10_000), WINDOW);
        assert_eq!(store.rotation_counts(), (1, 1));
        assert!(matches!(
            store.refresh_decision("a", at(102), WINDOW),
            Ok(RefreshDecision::MintNew)
        ));
    }
}
