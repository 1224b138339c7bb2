//! The in-memory backend: one process, one short-held mutex (see [`crate::store::Store`]).
//! Every call answers at once and never fails with [`Unavailable`].

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};

use time::OffsetDateTime;

use super::{
    MintAt, MintSuccessor, Rotated, RotationRules, SignInView, Storage, StorageFuture, SweepState,
    Unavailable,
};
use crate::error::ApiError;
use crate::limits::Limits;
use crate::session::{Rendered, Session, SessionStatus};
use crate::stats::StatsSnapshot;
use crate::storage::{JOINS_KEPT, JoinRecord};
use crate::storage::{Presented, RefreshRefused};
use crate::store::{RefreshDecision, Rotation, Store};

/// Sign-ins, sessions and the join log of one process.
#[derive(Debug)]
pub struct MemoryStorage {
    store: Mutex<Store>,
    joins: Mutex<VecDeque<JoinRecord>>,
}

impl MemoryStorage {
    /// An empty store with these limits.
    pub fn new(limits: Limits) -> Self {
        MemoryStorage {
            store: Mutex::new(Store::new(limits)),
            joins: Mutex::new(VecDeque::new()),
        }
    }

    /// Locks the store. Never held across an `.await`. A poisoned lock is recovered: every
    /// store operation leaves it consistent before anything can panic.
    fn store(&self) -> MutexGuard<'_, Store> {
        self.store.lock().unwrap_or_else(|p| p.into_inner())
    }
}

fn ready<'a, T: Send + 'a>(value: T) -> StorageFuture<'a, T> {
    Box::pin(std::future::ready(value))
}

impl Storage for MemoryStorage {
    fn sign_in(&self, sid: &str) -> StorageFuture<'_, Result<SignInView, Unavailable>> {
        ready(Ok(self.store().view(sid)))
    }

    fn sign_ins(
        &self,
        sids: Vec<String>,
    ) -> StorageFuture<'_, Result<Vec<SweepState>, Unavailable>> {
        let store = self.store();
        let answers = sids
            .iter()
            .map(|sid| SweepState {
                revoked: store.is_revoked(sid),
                current_exp: store.current_exp(sid),
                unknown: false,
            })
            .collect();
        ready(Ok(answers))
    }

    fn rotate<'a>(
        &'a self,
        presented: Presented<'a>,
        now: OffsetDateTime,
        rules: RotationRules,
        mint: MintSuccessor<'a>,
    ) -> StorageFuture<'a, Result<Rotated, RefreshRefused>> {
        let mut store = self.store();
        let answer = match store.refresh_decision(presented, now, rules.reuse_window) {
            Ok(RefreshDecision::Repeat {
                access_token,
                successor_exp,
            }) => Ok(Rotated::Repeat {
                access_token,
                exp: successor_exp,
            }),
            Ok(RefreshDecision::MintNew) => match mint(MintAt::Now) {
                Ok(successor) => {
                    store.record_rotation(
                        presented.sid,
                        Rotation {
                            jti: presented.jti.to_owned(),
                            refreshed_at: now,
                            access_token: successor.access_token.clone(),
                            successor_exp: successor.exp,
                        },
                        successor.jti,
                    );
                    Ok(Rotated::Minted {
                        access_token: successor.access_token,
                        exp: successor.exp,
                    })
                }
                Err(reason) => Err(RefreshRefused::Auth(reason)),
            },
            Err(refused) => Err(refused),
        };
        ready(answer)
    }

    fn begin_sign_in<'a>(
        &'a self,
        presented: Presented<'a>,
        now: OffsetDateTime,
        _burst: u32,
    ) -> StorageFuture<'a, Result<(), ApiError>> {
        // Counted against the cap; a sign-in this process never saw (a token from before a
        // restart with the same secret) is still current (see `SignInView::unknown`).
        let answer = self
            .store()
            .begin(presented, now.unix_timestamp())
            .map_err(|_| ApiError::Full("sign-ins"));
        ready(answer)
    }

    fn revoke<'a>(
        &'a self,
        presented: Presented<'a>,
        now: OffsetDateTime,
    ) -> StorageFuture<'a, Result<(), Unavailable>> {
        self.store().revoke(presented, now.unix_timestamp());
        ready(Ok(()))
    }

    fn insert_session(&self, session: Session) -> StorageFuture<'_, Result<Session, ApiError>> {
        ready(self.store().insert_session(session))
    }

    fn rendered_for<'a>(
        &'a self,
        session_id: &'a str,
        user_id: &'a str,
    ) -> StorageFuture<'a, Result<Option<Arc<Rendered>>, Unavailable>> {
        ready(Ok(self.store().rendered_for(session_id, user_id)))
    }

    fn session_by_room<'a>(
        &'a self,
        room_id: &'a str,
    ) -> StorageFuture<'a, Result<Option<Session>, Unavailable>> {
        ready(Ok(self.store().session_by_room(room_id).cloned()))
    }

    fn set_status<'a>(
        &'a self,
        session_id: &'a str,
        status: SessionStatus,
        now: OffsetDateTime,
    ) -> StorageFuture<'a, Result<Session, ApiError>> {
        ready(self.store().set_status(session_id, status, now))
    }

    fn record_join(&self, record: JoinRecord) -> StorageFuture<'_, Result<(), Unavailable>> {
        let mut joins = self.joins.lock().unwrap_or_else(|p| p.into_inner());
        if joins.len() >= JOINS_KEPT {
            joins.pop_front();
        }
        joins.push_back(record);
        ready(Ok(()))
    }

    fn joins(&self) -> StorageFuture<'_, Result<Vec<JoinRecord>, Unavailable>> {
        let joins = self.joins.lock().unwrap_or_else(|p| p.into_inner());
        ready(Ok(joins.iter().cloned().collect()))
    }

    fn add_stats(&self, _added: StatsSnapshot) -> StorageFuture<'_, Result<(), Unavailable>> {
        ready(Ok(()))
    }

    fn shared_stats(&self) -> StorageFuture<'_, Result<Option<StatsSnapshot>, Unavailable>> {
        ready(Ok(None))
    }
}
