//! The server's memory: sessions, refresh rotations and revoked sign-ins.
//! One short-held mutex guards it; nothing here awaits.

use std::collections::HashMap;
use std::time::Duration;

use time::OffsetDateTime;

use crate::error::{ApiError, AuthError};
use crate::session::{Session, SessionStatus};

/// The answer a refresh gave, kept so that a repeat within the reuse window gets the same one.
#[derive(Debug, Clone)]
pub struct Rotation {
    /// When the token was first refreshed.
    pub refreshed_at: OffsetDateTime,
    /// The successor token.
    pub access_token: String,
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
    Repeat(Rotation),
}

/// Sessions, rotations and revocations.
#[derive(Debug, Default)]
pub struct Store {
    sessions: HashMap<String, Session>,
    room_to_session: HashMap<String, String>,
    rotations: HashMap<String, Rotation>,
    rotations_prune_at: usize,
    /// Revoked `sid` → the time after which no token of it is accepted anyway.
    revoked: HashMap<String, i64>,
}

const MIN_PRUNE_AT: usize = 1024;

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
                if elapsed <= reuse_window {
                    Ok(RefreshDecision::Repeat(rotation.clone()))
                } else {
                    Err(AuthError::TokenReused)
                }
            }
        }
    }

    /// Records that token `jti` was refreshed, dropping entries that can no longer matter.
    pub fn record_rotation(&mut self, jti: &str, rotation: Rotation) {
        if self.rotations.len() >= self.rotations_prune_at.max(MIN_PRUNE_AT) {
            let now = rotation.refreshed_at.unix_timestamp();
            self.rotations.retain(|_, r| r.usable_until >= now);
            self.rotations_prune_at = self.rotations.len() * 2;
        }
        self.rotations.insert(jti.to_owned(), rotation);
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
