//! The Redis backend (`--redis URL`): every instance behind one address shares the sign-in
//! chains, revocations, sessions and the join log. Each rule that reads and writes runs as one
//! Lua script (atomic on the Redis server); every call has a deadline ([`RedisStorage::timeout`])
//! and a late or failed call is [`Unavailable`], never a guess.
//!
//! Nothing in Redis lets a reader in: no token, no signature, no token id and no sign-in id is
//! stored in clear. Each id is replaced by its keyed digest ([`RedisKeys`], HMAC-SHA256 under a
//! key derived from the JWT secret); a successor token is not stored either: a repeat inside
//! the reuse window signs it again from its recorded `iat`/`exp` (its `jti` derives from the
//! predecessor's, see [`crate::tokens::TokenService::successor_jti`]).
//!
//! Keys (prefix `consult:`; `{…}` is a literal Redis Cluster hash tag; `<d(sid)>` the sign-in
//! id's digest): `signin:{<d(sid)>}` (hash: current jti digest and exp, the last rotation's
//! predecessor digest, time and successor times, revoked, rate-limit bucket; written when the
//! sign-in is born, expires at its end: a sign-in without one is refused, so a Redis that lost
//! its data refuses every token from before), `{sessions}:session:<id>` (hash: rendered JSON,
//! ETag, participants, room, version), `{sessions}:room:<room>` → session id, `{sessions}:ids`
//! (set of ids, for the cap), `joins` (list, the latest 200, token ids digested), `stats`,
//! `epoch` (see [`super::durability`]).

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::Duration;

use axum::body::Bytes;
use axum::http::HeaderValue;
use redis::Script;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use time::OffsetDateTime;

use super::{
    MintAt, MintSuccessor, Rotated, RotationRules, SignInView, Storage, StorageFuture, SweepState,
    Unavailable, millis, now_ms,
};
use crate::error::{ApiError, AuthError};
use crate::keyed::KeyedDigest;
use crate::limits::Limits;
use crate::session::{Rendered, Session, SessionStatus};
use crate::stats::StatsSnapshot;
use crate::storage::redis_conn::RedisConn;
use crate::storage::redis_tls::{RedisTls, describe};
use crate::storage::{JOINS_KEPT, JoinRecord};
use crate::storage::{Presented, RefreshRefused};

const PREFIX: &str = "consult:";
/// Attempts at a session change when another instance changes it at the same moment.
const SET_STATUS_ATTEMPTS: usize = 8;

/// What Redis keeps instead of ids: keyed digests (HMAC-SHA256 under keys derived from the JWT
/// secret, so every instance computes the same ones), and the key names built from them.
///
/// ```
/// use consult_stub::storage::redis::RedisKeys;
/// let keys = RedisKeys::new(b"a-secret-of-at-least-32-bytes-long!!");
/// let key = keys.sign_in_key("sid-1");
/// assert!(key.starts_with("consult:signin:{") && !key.contains("sid-1"));
/// assert_ne!(keys.jti("j1"), "j1");
/// ```
#[derive(Clone)]
pub struct RedisKeys {
    sids: KeyedDigest,
    jtis: KeyedDigest,
}

impl RedisKeys {
    /// The digests of instances sharing `secret`.
    pub fn new(secret: &[u8]) -> Self {
        Self {
            sids: KeyedDigest::derive(secret, "redis-sid"),
            jtis: KeyedDigest::derive(secret, "redis-jti"),
        }
    }

    /// The key of sign-in `sid`'s hash. Hash tag (`{…}`): a sign-in's keys share a slot, so
    /// every script runs on one node of a Redis Cluster.
    pub fn sign_in_key(&self, sid: &str) -> String {
        format!("{PREFIX}signin:{{{}}}", self.sids.hex128(sid.as_bytes()))
    }

    /// What Redis keeps of token id `jti`.
    pub fn jti(&self, jti: &str) -> String {
        self.jtis.hex128(jti.as_bytes())
    }
}

// The sessions, their rooms and the set of ids (the cap) share the tag `{sessions}` (one slot:
// they are few, and checked together).
fn session_key(id: &str) -> String {
    format!("{PREFIX}{{sessions}}:session:{id}")
}
fn room_key(room: &str) -> String {
    format!("{PREFIX}{{sessions}}:room:{room}")
}
const SESSIONS_KEY: &str = "consult:{sessions}:ids";
const JOINS_KEY: &str = "consult:joins";
const STATS_KEY: &str = "consult:stats";

/// Rules and sessions on a Redis server.
pub struct RedisStorage {
    conn: RedisConn,
    keys: RedisKeys,
    timeout: Duration,
    limits: Limits,
    rotate: Script,
    begin: Script,
    revoke: Script,
    insert_session: Script,
    set_session: Script,
    add_stats: Script,
    outage: OutageLog,
}

/// Logs Redis failures at most once per interval, with how many there were since the last line
/// (an outage under load would otherwise write a line per request). Never logs the URL or a
/// command's arguments: only the error's kind.
#[derive(Debug, Default)]
struct OutageLog {
    last_ms: AtomicI64,
    failures: AtomicU64,
}

impl OutageLog {
    const EVERY_MS: i64 = 5_000;

    fn failed(&self, what: &'static str, kind: &str) {
        let failures = self.failures.fetch_add(1, Ordering::Relaxed) + 1;
        let now = now_ms(OffsetDateTime::now_utc());
        let last = self.last_ms.load(Ordering::Relaxed);
        if now.saturating_sub(last) >= Self::EVERY_MS
            && self
                .last_ms
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            self.failures.store(0, Ordering::Relaxed);
            tracing::warn!(
                what,
                kind,
                failures,
                "Redis did not answer in time: answering 503 until it does"
            );
        }
    }
}

/// Why Redis could not be used at start.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// The URL does not parse (its text is not repeated: it may hold a password).
    #[error("--redis is not a valid redis:// URL ({0})")]
    BadUrl(String),
    /// The first connection failed or timed out.
    #[error("cannot reach Redis within {0:?} ({1})")]
    Unreachable(Duration, String),
    /// Redis may lose data (see [`super::durability::check`]) and `--redis-may-lose-data`
    /// was not given.
    #[error(
        "this Redis may lose data: {0}. Use one with appendonly yes and maxmemory-policy noeviction, or pass --redis-may-lose-data (a loss then signs everybody out)"
    )]
    MayLoseData(String),
    /// `--redis-ca-file` could not be read.
    #[error("cannot read --redis-ca-file: {0}")]
    CaFile(String),
    /// `--redis-ca-file` with a `redis://` URL: the certificates would protect nothing.
    #[error("--redis-ca-file needs a rediss:// (TLS) URL")]
    CaWithoutTls,
    /// A URL fragment such as redis' `#insecure`, which would skip the server's certificate check.
    #[error(
        "the --redis URL has a fragment (#…): rediss:// always verifies the server's certificate; give its CA with --redis-ca-file"
    )]
    InsecureTls,
}

/// A client for `url` without TLS certificates of its own (RESP3, which the Socket.IO adapter's
/// pub/sub needs too); see [`RedisTls::client`] for `--redis-ca-file`.
pub fn client(url: &str) -> Result<redis::Client, ConnectError> {
    RedisTls::default().client(url)
}

/// A connection manager for `client` with `config`, connected within three times `timeout`
/// (the first connection includes the handshake): the storage's and the pub/sub driver's.
pub async fn connect_manager(
    client: &redis::Client,
    config: ConnectionManagerConfig,
    timeout: Duration,
) -> Result<ConnectionManager, ConnectError> {
    let connecting = ConnectionManager::new_with_config(client.clone(), config);
    match tokio::time::timeout(timeout.saturating_mul(3), connecting).await {
        Ok(Ok(conn)) => Ok(conn),
        Ok(Err(e)) => Err(ConnectError::Unreachable(timeout, describe(&e))),
        Err(_) => Err(ConnectError::Unreachable(timeout, "timed out".to_owned())),
    }
}

/// The connection manager's settings: every connect and every answer bounded by `timeout`,
/// reconnects backing off from 100 ms to 2 s.
pub fn manager_config(timeout: Duration) -> ConnectionManagerConfig {
    ConnectionManagerConfig::new()
        .set_connection_timeout(Some(timeout))
        .set_response_timeout(Some(timeout))
        .set_number_of_retries(2)
        .set_min_delay(Duration::from_millis(100))
        .set_max_delay(Duration::from_secs(2))
}

impl RedisStorage {
    /// Connects to one Redis (bounded by `timeout`) and loads nothing else: scripts are sent on
    /// first use.
    pub async fn connect(
        client: &redis::Client,
        keys: RedisKeys,
        timeout: Duration,
        limits: Limits,
    ) -> Result<Self, ConnectError> {
        let conn = connect_manager(client, manager_config(timeout), timeout).await?;
        Ok(Self::over(RedisConn::Single(conn), keys, timeout, limits))
    }

    /// The storage over an open connection (one Redis or a cluster), digesting ids with `keys`.
    pub fn over(conn: RedisConn, keys: RedisKeys, timeout: Duration, limits: Limits) -> Self {
        RedisStorage {
            conn,
            keys,
            timeout,
            limits,
            rotate: Script::new(include_str!("lua/rotate.lua")),
            begin: Script::new(include_str!("lua/begin.lua")),
            revoke: Script::new(include_str!("lua/revoke.lua")),
            insert_session: Script::new(include_str!("lua/insert_session.lua")),
            set_session: Script::new(include_str!("lua/set_session.lua")),
            add_stats: Script::new(include_str!("lua/add_stats.lua")),
            outage: OutageLog::default(),
        }
    }

    /// The deadline of every call.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// A handle on the shared connection (cheap: the manager multiplexes one connection).
    pub fn connection(&self) -> RedisConn {
        self.conn.clone()
    }

    /// Runs one Redis call under the deadline; any failure is [`Unavailable`].
    pub(crate) async fn run<T, F>(&self, what: &'static str, call: F) -> Result<T, Unavailable>
    where
        F: Future<Output = redis::RedisResult<T>>,
    {
        match tokio::time::timeout(self.timeout, call).await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(e)) => {
                self.outage.failed(what, &format!("{:?}", e.kind()));
                Err(Unavailable)
            }
            Err(_) => {
                self.outage.failed(what, "timeout");
                Err(Unavailable)
            }
        }
    }

    async fn session_hash(&self, session_id: &str) -> Result<Option<Session>, Unavailable> {
        let mut conn = self.conn.clone();
        let json: Option<Vec<u8>> = self
            .run(
                "session",
                redis::cmd("HGET")
                    .arg(session_key(session_id))
                    .arg("json")
                    .query_async(&mut conn),
            )
            .await?;
        Ok(json.and_then(|bytes| serde_json::from_slice(&bytes).ok()))
    }

    async fn change_status(
        &self,
        session_id: &str,
        status: SessionStatus,
        now: OffsetDateTime,
    ) -> Result<Session, ApiError> {
        for _ in 0..SET_STATUS_ATTEMPTS {
            let mut session = self
                .session_hash(session_id)
                .await?
                .ok_or_else(|| ApiError::SessionNotFound(session_id.to_owned()))?;
            if session.status.is_terminal() && session.status != status {
                return Err(ApiError::BadRequest(format!(
                    "session is {:?}, which is final",
                    session.status
                )));
            }
            if session.status == status {
                return Ok(session);
            }
            let expected = session.version;
            session.status = status;
            session.version += 1;
            session.updated_at = now;
            let rendered = Rendered::of(&session)
                .ok_or_else(|| ApiError::BadRequest("session cannot be rendered".to_owned()))?;
            let mut conn = self.conn.clone();
            let swapped: i64 = self
                .run(
                    "set_status",
                    self.set_session
                        .key(session_key(session_id))
                        .arg(expected)
                        .arg(rendered.json.as_ref())
                        .arg(rendered.etag.as_bytes())
                        .arg(session.version)
                        .invoke_async(&mut conn),
                )
                .await?;
            if swapped == 1 {
                return Ok(session);
            }
        }
        Err(Unavailable.into())
    }
}

fn parse_i64(value: Option<&String>) -> Option<i64> {
    value.and_then(|v| v.parse().ok())
}

impl Storage for RedisStorage {
    fn stored_jti<'a>(&self, jti: &'a str) -> std::borrow::Cow<'a, str> {
        std::borrow::Cow::Owned(self.keys.jti(jti))
    }

    fn sign_in(&self, sid: &str) -> StorageFuture<'_, Result<SignInView, Unavailable>> {
        let key = self.keys.sign_in_key(sid);
        Box::pin(async move {
            let mut conn = self.conn.clone();
            // The chain and Redis's clock in one round trip: the rotation times were written
            // on that clock.
            let (fields, (seconds, micros)): (Vec<Option<String>>, (i64, i64)) = self
                .run(
                    "sign_in",
                    redis::pipe()
                        .cmd("HMGET")
                        .arg(key)
                        .arg(&["rev", "cur", "cexp", "lj", "lat"])
                        .cmd("TIME")
                        .query_async(&mut conn),
                )
                .await?;
            let field = |i: usize| fields.get(i).cloned().flatten();
            Ok(SignInView {
                revoked: field(0).is_some(),
                current_jti: field(1),
                current_exp: parse_i64(field(2).as_ref()),
                last: field(3).zip(parse_i64(field(4).as_ref())),
                unknown: field(1).is_none(),
                store_now_ms: Some(seconds.saturating_mul(1000).saturating_add(micros / 1000)),
            })
        })
    }

    fn sign_ins(
        &self,
        sids: Vec<String>,
    ) -> StorageFuture<'_, Result<Vec<SweepState>, Unavailable>> {
        Box::pin(async move {
            if sids.is_empty() {
                return Ok(Vec::new());
            }
            let mut pipe = redis::pipe();
            for sid in &sids {
                pipe.cmd("HMGET")
                    .arg(self.keys.sign_in_key(sid))
                    .arg(&["rev", "cexp", "cur"]);
            }
            let mut conn = self.conn.clone();
            let rows: Vec<Vec<Option<String>>> =
                self.run("sweep", pipe.query_async(&mut conn)).await?;
            Ok(rows
                .iter()
                .map(|row| SweepState {
                    revoked: row.first().is_some_and(Option::is_some),
                    current_exp: parse_i64(row.get(1).and_then(Option::as_ref)),
                    unknown: row.get(2).is_none_or(Option::is_none),
                })
                .collect())
        })
    }

    fn rotate<'a>(
        &'a self,
        presented: Presented<'a>,
        now: OffsetDateTime,
        rules: RotationRules,
        mint: MintSuccessor<'a>,
    ) -> StorageFuture<'a, Result<Rotated, RefreshRefused>> {
        Box::pin(async move {
            // Minted first (an HMAC, microseconds): the script keeps it or answers the times of
            // the successor recorded earlier, in one atomic step.
            let successor = mint(MintAt::Now).map_err(RefreshRefused::Auth)?;
            let mut conn = self.conn.clone();
            let mut invocation = self.rotate.key(self.keys.sign_in_key(presented.sid));
            invocation
                .arg(self.keys.jti(presented.jti))
                .arg(presented.exp)
                .arg(presented.end)
                .arg(now_ms(now))
                .arg(millis(rules.reuse_window))
                .arg(rules.burst)
                .arg(millis(rules.interval))
                .arg(self.keys.jti(&successor.jti))
                .arg(successor.iat)
                .arg(successor.exp);
            let answer: Vec<String> = self
                .run("rotate", invocation.invoke_async(&mut conn))
                .await?;
            match answer.first().map(String::as_str) {
                Some("minted") => Ok(Rotated::Minted {
                    access_token: successor.access_token,
                    exp: successor.exp,
                }),
                Some("repeat") => match (parse_i64(answer.get(1)), parse_i64(answer.get(2))) {
                    (Some(iat), Some(exp)) => {
                        let again =
                            mint(MintAt::Again { iat, exp }).map_err(RefreshRefused::Auth)?;
                        Ok(Rotated::Repeat {
                            access_token: again.access_token,
                            exp,
                        })
                    }
                    _ => Err(RefreshRefused::Unavailable),
                },
                // No record: lost with Redis's data (or never born here). Refused, not trusted.
                Some("revoked" | "unknown") => Err(RefreshRefused::Auth(AuthError::SessionRevoked)),
                Some("reused") => Err(RefreshRefused::Auth(AuthError::TokenReused)),
                Some("limited") => Err(RefreshRefused::RateLimited),
                _ => Err(RefreshRefused::Unavailable),
            }
        })
    }

    fn begin_sign_in<'a>(
        &'a self,
        presented: Presented<'a>,
        now: OffsetDateTime,
        burst: u32,
    ) -> StorageFuture<'a, Result<(), ApiError>> {
        Box::pin(async move {
            let mut conn = self.conn.clone();
            let mut invocation = self.begin.key(self.keys.sign_in_key(presented.sid));
            invocation
                .arg(self.keys.jti(presented.jti))
                .arg(presented.exp)
                .arg(presented.end)
                .arg(now_ms(now))
                .arg(burst);
            let _: i64 = self
                .run("begin_sign_in", invocation.invoke_async(&mut conn))
                .await?;
            Ok(())
        })
    }

    fn revoke<'a>(
        &'a self,
        presented: Presented<'a>,
        _now: OffsetDateTime,
    ) -> StorageFuture<'a, Result<(), Unavailable>> {
        Box::pin(async move {
            let mut conn = self.conn.clone();
            let mut invocation = self.revoke.key(self.keys.sign_in_key(presented.sid));
            invocation
                .arg(self.keys.jti(presented.jti))
                .arg(presented.exp)
                .arg(presented.end);
            let _: i64 = self
                .run("revoke", invocation.invoke_async(&mut conn))
                .await?;
            Ok(())
        })
    }

    fn insert_session(&self, session: Session) -> StorageFuture<'_, Result<Session, ApiError>> {
        Box::pin(async move {
            let rendered = Rendered::of(&session)
                .ok_or_else(|| ApiError::BadRequest("session cannot be rendered".to_owned()))?;
            let mut conn = self.conn.clone();
            let mut invocation = self.insert_session.key(session_key(&session.session_id));
            invocation
                .key(room_key(&session.room_id))
                .key(SESSIONS_KEY)
                .arg(&session.session_id)
                .arg(rendered.json.as_ref())
                .arg(rendered.etag.as_bytes())
                .arg(session.participants.join(" "))
                .arg(&session.room_id)
                .arg(session.version)
                .arg(self.limits.max_sessions);
            let answer: String = self
                .run("insert_session", invocation.invoke_async(&mut conn))
                .await?;
            match answer.as_str() {
                "ok" => Ok(session),
                "full" => Err(ApiError::Full("sessions")),
                "exists" => Err(ApiError::SessionExists(session.session_id)),
                _ => Err(ApiError::BadRequest(format!(
                    "room {:?} belongs to another session",
                    session.room_id
                ))),
            }
        })
    }

    fn rendered_for<'a>(
        &'a self,
        session_id: &'a str,
        user_id: &'a str,
    ) -> StorageFuture<'a, Result<Option<Arc<Rendered>>, Unavailable>> {
        Box::pin(async move {
            let mut conn = self.conn.clone();
            let (json, etag, parts): (Option<Vec<u8>>, Option<Vec<u8>>, Option<String>) = self
                .run(
                    "get_session",
                    redis::cmd("HMGET")
                        .arg(session_key(session_id))
                        .arg(&["json", "etag", "parts"])
                        .query_async(&mut conn),
                )
                .await?;
            let (Some(json), Some(etag), Some(parts)) = (json, etag, parts) else {
                return Ok(None);
            };
            let admitted = parts.is_empty() || parts.split(' ').any(|p| p == user_id);
            if !admitted {
                return Ok(None);
            }
            Ok(HeaderValue::from_bytes(&etag).ok().map(|etag| {
                Arc::new(Rendered {
                    json: Bytes::from(json),
                    etag,
                })
            }))
        })
    }

    fn session_by_room<'a>(
        &'a self,
        room_id: &'a str,
    ) -> StorageFuture<'a, Result<Option<Session>, Unavailable>> {
        Box::pin(async move {
            let mut conn = self.conn.clone();
            let id: Option<String> = self
                .run(
                    "room",
                    redis::cmd("GET")
                        .arg(room_key(room_id))
                        .query_async(&mut conn),
                )
                .await?;
            match id {
                Some(id) => self.session_hash(&id).await,
                None => Ok(None),
            }
        })
    }

    fn set_status<'a>(
        &'a self,
        session_id: &'a str,
        status: SessionStatus,
        now: OffsetDateTime,
    ) -> StorageFuture<'a, Result<Session, ApiError>> {
        Box::pin(self.change_status(session_id, status, now))
    }

    fn record_join(&self, record: JoinRecord) -> StorageFuture<'_, Result<(), Unavailable>> {
        Box::pin(async move {
            let record = JoinRecord {
                jti: self.keys.jti(&record.jti),
                ..record
            };
            let json = serde_json::to_string(&record).unwrap_or_default();
            let kept = i64::try_from(JOINS_KEPT).unwrap_or(i64::MAX);
            let mut conn = self.conn.clone();
            let _: () = self
                .run(
                    "record_join",
                    redis::pipe()
                        .atomic()
                        .cmd("RPUSH")
                        .arg(JOINS_KEY)
                        .arg(json)
                        .ignore()
                        .cmd("LTRIM")
                        .arg(JOINS_KEY)
                        .arg(-kept)
                        .arg(-1)
                        .ignore()
                        .query_async(&mut conn),
                )
                .await?;
            Ok(())
        })
    }

    fn joins(&self) -> StorageFuture<'_, Result<Vec<JoinRecord>, Unavailable>> {
        Box::pin(async move {
            let mut conn = self.conn.clone();
            let rows: Vec<String> = self
                .run(
                    "joins",
                    redis::cmd("LRANGE")
                        .arg(JOINS_KEY)
                        .arg(0)
                        .arg(-1)
                        .query_async(&mut conn),
                )
                .await?;
            Ok(rows
                .iter()
                .filter_map(|row| serde_json::from_str(row).ok())
                .collect())
        })
    }

    fn add_stats(&self, added: StatsSnapshot) -> StorageFuture<'_, Result<(), Unavailable>> {
        Box::pin(async move {
            let mut conn = self.conn.clone();
            let mut invocation = self.add_stats.key(STATS_KEY);
            invocation.arg(added.session_in_flight_max);
            for (name, value) in added.counters() {
                invocation.arg(name).arg(value);
            }
            let _: i64 = self
                .run("add_stats", invocation.invoke_async(&mut conn))
                .await?;
            Ok(())
        })
    }

    fn shared_stats(&self) -> StorageFuture<'_, Result<Option<StatsSnapshot>, Unavailable>> {
        Box::pin(async move {
            let mut conn = self.conn.clone();
            let all: std::collections::HashMap<String, u64> = self
                .run(
                    "stats",
                    redis::cmd("HGETALL").arg(STATS_KEY).query_async(&mut conn),
                )
                .await?;
            Ok(Some(StatsSnapshot::from_counters(|name| {
                all.get(name).copied().unwrap_or(0)
            })))
        })
    }
}
