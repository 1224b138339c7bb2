//! What keeps consult-stub from trusting a Redis that lost its data.
//!
//! - Every sign-in is recorded at its birth (`begin.lua`), and a sign-in without a record is
//!   refused: after a loss, every token from before answers 401 `session_revoked` (users sign in
//!   again) instead of a logged-out token working again or an old token becoming the chain head.
//! - At start, a Redis that would lose data is refused ([`check`]): persistence off
//!   (`appendonly no`) or a `maxmemory-policy` that evicts keys. `--redis-may-lose-data` starts
//!   anyway, with a warning: a loss then signs everybody out, it never lets anybody in.
//! - An epoch marker (`consult:epoch`, a random value written once) is checked every second
//!   ([`Epoch::check`]): when it is gone, Redis lost its data, and the instance says so loudly.

use std::collections::HashMap;
use std::sync::Mutex;

use super::Unavailable;
use super::redis::RedisStorage;

/// The key of the epoch marker.
pub const EPOCH_KEY: &str = "consult:epoch";

/// Why this Redis may lose what the rules rely on, in words for the operator; `Ok` when it
/// keeps an append-only file and never evicts.
pub async fn check(redis: &RedisStorage) -> Result<(), String> {
    let appendonly = config_get(redis, "appendonly").await;
    let policy = config_get(redis, "maxmemory-policy").await;
    match (appendonly.as_deref(), policy.as_deref()) {
        (None, _) | (_, None) => Err(
            "CONFIG GET is refused or failed, so its persistence and eviction cannot be checked"
                .to_owned(),
        ),
        (Some(aof), _) if !aof.eq_ignore_ascii_case("yes") => Err(format!(
            "persistence is off (appendonly {aof}): a restart forgets every sign-in, logout and rotation"
        )),
        (_, Some(policy)) if !policy.eq_ignore_ascii_case("noeviction") => Err(format!(
            "maxmemory-policy is {policy}: under memory pressure it drops sign-ins and revocations"
        )),
        _ => Ok(()),
    }
}

/// One `CONFIG GET` value; `None` when refused (ACL, renamed command) or failed.
async fn config_get(redis: &RedisStorage, name: &str) -> Option<String> {
    let mut conn = redis.connection();
    let answer: Result<HashMap<String, String>, Unavailable> = redis
        .run(
            "config_get",
            redis::cmd("CONFIG")
                .arg("GET")
                .arg(name)
                .query_async(&mut conn),
        )
        .await;
    answer.ok().and_then(|mut map| map.remove(name))
}

/// What the epoch marker said.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EpochSeen {
    /// The one this instance knows.
    Same,
    /// None was there: this instance wrote a new one (a fresh Redis, or one that lost its data).
    Written,
    /// Another one than this instance knew (another instance wrote it after a loss).
    Changed,
}

/// The epoch marker as this instance last saw it.
#[derive(Debug, Default)]
pub struct Epoch {
    known: Mutex<Option<String>>,
}

impl Epoch {
    /// Writes a new marker unless one is there (`SET NX GET`, one atomic command), and
    /// compares what is there with the one last seen.
    pub async fn check(&self, redis: &RedisStorage) -> Result<EpochSeen, Unavailable> {
        let candidate = format!("{:032x}", rand::random::<u128>());
        let mut conn = redis.connection();
        let previous: Option<String> = redis
            .run(
                "epoch",
                redis::cmd("SET")
                    .arg(EPOCH_KEY)
                    .arg(&candidate)
                    .arg("NX")
                    .arg("GET")
                    .query_async(&mut conn),
            )
            .await?;
        let mut known = self.known.lock().unwrap_or_else(|p| p.into_inner());
        let (now, seen) = match previous {
            None => (candidate, EpochSeen::Written),
            Some(there) if known.as_deref().is_none_or(|k| k == there) => (there, EpochSeen::Same),
            Some(there) => (there, EpochSeen::Changed),
        };
        *known = Some(now);
        Ok(seen)
    }

    /// Checks the marker every second; says loudly when Redis lost its data. The first check
    /// (at start) only notes a fresh Redis.
    pub async fn watch(self, redis: std::sync::Arc<RedisStorage>) {
        let mut ticker = tokio::time::interval(std::time::Duration::from_secs(1));
        loop {
            ticker.tick().await;
            match self.check(&redis).await {
                Ok(EpochSeen::Same) | Err(Unavailable) => {}
                Ok(EpochSeen::Written | EpochSeen::Changed) => tracing::error!(
                    "Redis lost its data (its epoch marker {EPOCH_KEY} was gone): every sign-in \
                     from before is refused (401 session_revoked) until its users sign in again"
                ),
            }
        }
    }
}
