//! Command-line flags and environment variables, the settings derived from them, and the checks
//! that refuse a dangerous configuration (short secret, dev endpoints on a public address, a
//! token that could outlive its sign-in).

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;

use crate::limits::Limits;

/// Shortest HS256 secret accepted (RFC 7518 §3.2: a key at least as long as the hash output).
pub const MIN_SECRET_BYTES: usize = 32;

/// consult-stub: the video-consultation backend consult's clients are tested against.
///
/// The signing secret comes from `CONSULT_JWT_SECRET` or `--jwt-secret-file`, never from argv
/// (which every local user can read in `ps`).
#[derive(Debug, Parser)]
#[command(name = "consult-stub", version, about)]
pub struct Cli {
    /// Address to bind (loopback by default: this is a development server).
    #[arg(long, env = "CONSULT_BIND", default_value = "127.0.0.1")]
    pub bind: IpAddr,

    /// Port to listen on; 0 picks a free port (the bound address is printed at start).
    #[arg(long, env = "CONSULT_PORT", default_value_t = 8086)]
    pub port: u16,

    /// File holding the HS256 secret (at least 32 bytes; one trailing newline is ignored).
    #[arg(long, env = "CONSULT_JWT_SECRET_FILE")]
    pub jwt_secret_file: Option<PathBuf>,

    /// Lifetime of an issued access token (at most the session max age).
    #[arg(long, env = "CONSULT_TOKEN_TTL", default_value = "4h", value_parser = humantime::parse_duration)]
    pub token_ttl: Duration,

    /// How long after `exp` a token is still accepted by the refresh and logout endpoints.
    #[arg(long, env = "CONSULT_REFRESH_GRACE", default_value = "1h", value_parser = humantime::parse_duration)]
    pub refresh_grace: Duration,

    /// Longest a sign-in lasts through refreshes, counted from `auth_time`.
    #[arg(long, env = "CONSULT_SESSION_MAX_AGE", default_value = "12h", value_parser = humantime::parse_duration)]
    pub session_max_age: Duration,

    /// Repeating a refresh within this window returns the same successor; later, it revokes the sign-in.
    #[arg(long, env = "CONSULT_REUSE_WINDOW", default_value = "30s", value_parser = humantime::parse_duration)]
    pub reuse_window: Duration,

    /// Socket.IO ping interval (Engine.IO `pingInterval`).
    #[arg(long, env = "CONSULT_PING_INTERVAL", default_value = "25s", value_parser = humantime::parse_duration)]
    pub ping_interval: Duration,

    /// Socket.IO ping timeout (Engine.IO `pingTimeout`).
    #[arg(long, env = "CONSULT_PING_TIMEOUT", default_value = "20s", value_parser = humantime::parse_duration)]
    pub ping_timeout: Duration,

    /// Create a session with this id (room `room-<id>`, open to every user) at start;
    /// repeatable. For demos and restart tests: sessions live in memory.
    #[arg(long = "create-session", value_name = "SESSION_ID")]
    pub create_sessions: Vec<String>,

    /// Serve this folder (a built web app) for every path the API does not answer.
    #[arg(long, env = "CONSULT_STATIC_DIR")]
    pub static_dir: Option<PathBuf>,

    /// Mount the `/api/dev/*` endpoints (token minting, sessions, faults, stats). Loopback
    /// `Host` only; loopback browser origins are allowed by CORS.
    #[arg(long, env = "CONSULT_DEV")]
    pub dev: bool,

    /// Allow `--dev` on a non-loopback `--bind` (anyone who reaches the port can mint tokens).
    #[arg(long, env = "CONSULT_DEV_ON_PUBLIC_ADDRESS")]
    pub dev_on_public_address: bool,

    /// A browser origin allowed by CORS, e.g. `https://app.example`; repeatable (env: comma-separated).
    #[arg(
        long = "allow-origin",
        env = "CONSULT_ALLOW_ORIGIN",
        value_delimiter = ','
    )]
    pub allow_origins: Vec<String>,

    /// Most TCP connections served at once; more wait in the kernel's backlog.
    #[arg(long, env = "CONSULT_MAX_CONNECTIONS", default_value_t = Limits::DEFAULT.max_connections)]
    pub max_connections: usize,

    /// Most TCP connections one client address may hold at once; more are answered
    /// `429 rate_limited` and closed.
    #[arg(long, env = "CONSULT_MAX_CONNECTIONS_PER_CLIENT", default_value_t = Limits::DEFAULT.max_connections_per_client)]
    pub max_connections_per_client: usize,

    /// Most Engine.IO sessions that have not sent an accepted CONNECT, every client together;
    /// more handshakes are answered `503 server_full`.
    #[arg(long, env = "CONSULT_MAX_UNAUTHENTICATED_SESSIONS", default_value_t = Limits::DEFAULT.max_unauthenticated_sessions)]
    pub max_unauthenticated_sessions: usize,

    /// The same, per client address; more handshakes are answered `429 rate_limited`.
    #[arg(long, env = "CONSULT_MAX_UNAUTHENTICATED_SESSIONS_PER_CLIENT", default_value_t = Limits::DEFAULT.max_unauthenticated_sessions_per_client)]
    pub max_unauthenticated_sessions_per_client: usize,

    /// Socket events one sign-in's sockets together may send in a burst (each socket also has
    /// its own 20, one more per 100 ms); reconnecting does not refill it.
    #[arg(long, env = "CONSULT_SIGN_IN_EVENT_BURST", default_value_t = Limits::DEFAULT.sign_in_event_burst)]
    pub sign_in_event_burst: u32,

    /// Time for a sign-in to earn back one event of its burst.
    #[arg(long, env = "CONSULT_SIGN_IN_EVENT_INTERVAL", default_value = "10ms", value_parser = humantime::parse_duration)]
    pub sign_in_event_interval: Duration,

    /// Socket.IO over WebSocket only: HTTP long-polling handshakes are refused (`400`).
    #[arg(long, env = "CONSULT_WEBSOCKET_ONLY")]
    pub websocket_only: bool,

    /// Close every HTTP connection after its response (`Connection: close`; WebSocket upgrades
    /// are unaffected). Behind a balancer that spreads connections (consult-proxy, `haproxy`
    /// in `mode tcp`), every request then takes its own turn; for cluster tests and demos.
    #[arg(long, env = "CONSULT_NO_KEEP_ALIVE")]
    pub no_keep_alive: bool,

    /// Most Socket.IO connections one sign-in may hold at once.
    #[arg(long, env = "CONSULT_MAX_SOCKETS_PER_SIGN_IN", default_value_t = Limits::DEFAULT.max_sockets_per_sign_in)]
    pub max_sockets_per_sign_in: usize,

    /// Most sign-ins remembered for rotation at once; beyond it a new sign-in's first refresh
    /// is refused (503) rather than forgetting a live one.
    #[arg(long, env = "CONSULT_MAX_SIGN_INS", default_value_t = Limits::DEFAULT.max_sign_ins)]
    pub max_sign_ins: usize,

    /// Most consultation sessions held (dev-created and `--create-session`).
    #[arg(long, env = "CONSULT_MAX_SESSIONS", default_value_t = Limits::DEFAULT.max_sessions)]
    pub max_sessions: usize,

    /// Refreshes one sign-in may make in a burst (refilled at one per `--refresh-interval`).
    #[arg(long, env = "CONSULT_REFRESH_BURST", default_value_t = Limits::DEFAULT.refresh_burst)]
    pub refresh_burst: u32,

    /// Time to earn back one refresh of a sign-in's burst.
    #[arg(long, env = "CONSULT_REFRESH_INTERVAL", default_value = "1s", value_parser = humantime::parse_duration)]
    pub refresh_interval: Duration,

    /// Keep sign-ins, revocations, sessions and the join log on this Redis server
    /// (`redis://host:port/db`), and share Socket.IO rooms through it, so that several instances
    /// behind one address act as one. Needs a supplied JWT secret (the same on every instance).
    #[arg(
        long = "redis",
        value_name = "URL",
        env = "CONSULT_REDIS_URL",
        hide_env_values = true
    )]
    pub redis_url: Option<String>,

    /// The `--redis` URL is a node of a sharded Redis Cluster (several comma-separated nodes
    /// may be given: one that answers is enough). Each sign-in's keys, and the sessions', share
    /// one hash slot, so every script runs on one node.
    #[arg(long, env = "CONSULT_REDIS_CLUSTER")]
    pub redis_cluster: bool,

    /// The CA certificates (PEM) a `rediss://` (TLS) Redis's certificate must chain to; without
    /// it, the system's roots. The server's certificate is always verified.
    #[arg(long, value_name = "PEM", env = "CONSULT_REDIS_CA_FILE")]
    pub redis_ca_file: Option<PathBuf>,

    /// Start even on a Redis that may lose data: persistence off (`appendonly no`), an evicting
    /// `maxmemory-policy`, or one whose CONFIG cannot be read. Without it such a Redis is
    /// refused. A loss never lets anybody in (a sign-in whose record is gone is refused), but it
    /// signs everybody out.
    #[arg(long, env = "CONSULT_REDIS_MAY_LOSE_DATA")]
    pub redis_may_lose_data: bool,

    /// How long sockets stay connected while Redis does not answer: meanwhile the sweep still
    /// ends those whose token or sign-in ended (it knows their expiry), after it every socket
    /// is disconnected (revocations made meanwhile cannot be known).
    #[arg(long, env = "CONSULT_OUTAGE_DISCONNECT_AFTER", default_value = "60s", value_parser = humantime::parse_duration)]
    pub outage_disconnect_after: Duration,

    /// Longest wait for any one Redis call (and for connecting); a later answer is a 503.
    #[arg(long, env = "CONSULT_REDIS_TIMEOUT", default_value = "1s", value_parser = humantime::parse_duration)]
    pub redis_timeout: Duration,
}

/// A configuration the server refuses to start with.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The secret is shorter than [`MIN_SECRET_BYTES`].
    #[error("the JWT secret has {0} bytes; at least {MIN_SECRET_BYTES} are required")]
    ShortSecret(usize),
    /// Both the environment variable and the file were given.
    #[error("give the JWT secret either in CONSULT_JWT_SECRET or with --jwt-secret-file, not both")]
    TwoSecrets,
    /// The secret file could not be read.
    #[error("cannot read the JWT secret file: {0}")]
    SecretFile(std::io::Error),
    /// A token could outlive its sign-in.
    #[error("--token-ttl ({ttl:?}) must not exceed --session-max-age ({max_age:?})")]
    TtlAboveMaxAge {
        /// The token TTL.
        ttl: Duration,
        /// The session max age.
        max_age: Duration,
    },
    /// A zero duration where a positive one is needed.
    #[error("{0} must be positive")]
    NotPositive(&'static str),
    /// Dev endpoints on a non-loopback address without the explicit flag.
    #[error(
        "--dev on the non-loopback address {0} lets anyone who reaches it mint tokens; add --dev-on-public-address if that is really meant"
    )]
    DevOnPublicAddress(IpAddr),
    /// An `--allow-origin` that is not `scheme://host[:port]`.
    #[error(
        "--allow-origin {0:?} is not an origin like https://app.example or http://127.0.0.1:8080"
    )]
    BadOrigin(String),
    /// A `--create-session` id that is not a valid id.
    #[error("--create-session {0:?} is not 1 to 128 characters of A-Z a-z 0-9 . _ - @ +")]
    BadSessionId(String),
    /// A zero limit.
    #[error("{0} must be at least 1")]
    ZeroLimit(&'static str),
    /// `--redis` without a supplied secret: each instance would sign with its own random one.
    #[error(
        "--redis needs the JWT secret shared by every instance (CONSULT_JWT_SECRET or --jwt-secret-file); a random one would make each instance refuse the others' tokens"
    )]
    RandomSecretWithRedis,
}

/// Everything the application needs, independent of how it was configured.
#[derive(Clone)]
pub struct Settings {
    /// HS256 secret (never logged: `Settings` has no `Debug`).
    pub jwt_secret: Vec<u8>,
    /// Lifetime of a fresh access token.
    pub token_ttl: Duration,
    /// Leniency after `exp` at refresh and logout.
    pub refresh_grace: Duration,
    /// Hard cap on a sign-in, from `auth_time`.
    pub session_max_age: Duration,
    /// Window in which a repeated refresh returns the same successor.
    pub reuse_window: Duration,
    /// Whether `/api/dev/*` is mounted.
    pub dev_endpoints: bool,
    /// Browser origins CORS allows (exact `scheme://host[:port]`), besides loopback ones in dev.
    pub allow_origins: Vec<String>,
    /// Engine.IO ping interval.
    pub ping_interval: Duration,
    /// Engine.IO ping timeout.
    pub ping_timeout: Duration,
    /// Folder served as a fallback (the demo's `dist/`).
    pub static_dir: Option<PathBuf>,
    /// Sessions created at start.
    pub create_sessions: Vec<String>,
    /// Every resource bound.
    pub limits: Limits,
    /// The Redis server holding the shared state (`None`: this process's memory). May carry a
    /// password: never logged.
    pub redis_url: Option<String>,
    /// Deadline of every Redis call.
    pub redis_timeout: Duration,
    /// Start on a Redis that may lose data (with a warning) instead of refusing it.
    pub redis_may_lose_data: bool,
    /// `redis_url` lists nodes of a Redis Cluster.
    pub redis_cluster: bool,
    /// CA certificates (PEM file) for a `rediss://` Redis; `None`: the system's roots.
    pub redis_ca_file: Option<PathBuf>,
    /// Refuse Engine.IO's polling transport.
    pub websocket_only: bool,
    /// Outage length after which every socket is disconnected.
    pub outage_disconnect_after: Duration,
}

impl Settings {
    /// Defaults as in the seed, dev endpoints on, with the given secret; convenient for tests.
    ///
    /// ```
    /// let settings = consult_stub::config::Settings::with_secret(b"test-secret".to_vec());
    /// assert_eq!(settings.token_ttl.as_secs(), 4 * 3600);
    /// ```
    pub fn with_secret(jwt_secret: Vec<u8>) -> Self {
        Self {
            jwt_secret,
            token_ttl: Duration::from_secs(4 * 3600),
            refresh_grace: Duration::from_secs(3600),
            session_max_age: Duration::from_secs(12 * 3600),
            reuse_window: Duration::from_secs(30),
            dev_endpoints: true,
            allow_origins: Vec::new(),
            ping_interval: Duration::from_secs(25),
            ping_timeout: Duration::from_secs(20),
            static_dir: None,
            create_sessions: Vec::new(),
            limits: Limits::DEFAULT,
            redis_url: None,
            redis_timeout: Duration::from_secs(1),
            redis_may_lose_data: false,
            redis_cluster: false,
            redis_ca_file: None,
            websocket_only: false,
            outage_disconnect_after: Duration::from_secs(60),
        }
    }

    /// Refuses settings that would make tokens outlive their sign-in or a limit zero.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.jwt_secret.len() < MIN_SECRET_BYTES {
            return Err(ConfigError::ShortSecret(self.jwt_secret.len()));
        }
        if self.redis_timeout.is_zero() {
            return Err(ConfigError::NotPositive("--redis-timeout"));
        }
        if self.token_ttl.is_zero() {
            return Err(ConfigError::NotPositive("--token-ttl"));
        }
        if self.session_max_age.is_zero() {
            return Err(ConfigError::NotPositive("--session-max-age"));
        }
        if self.token_ttl > self.session_max_age {
            return Err(ConfigError::TtlAboveMaxAge {
                ttl: self.token_ttl,
                max_age: self.session_max_age,
            });
        }
        if let Some(bad) = self
            .create_sessions
            .iter()
            .find(|id| !crate::ids::valid_id(id, self.limits.max_id_bytes))
        {
            return Err(ConfigError::BadSessionId(bad.clone()));
        }
        if let Some(bad) = self.allow_origins.iter().find(|o| !is_origin(o)) {
            return Err(ConfigError::BadOrigin(bad.clone()));
        }
        match self.limits.first_zero() {
            Some(name) => Err(ConfigError::ZeroLimit(name)),
            None => Ok(()),
        }
    }
}

/// Whether `value` is a serialised origin: `http(s)://host[:port]`, no path, no trailing slash.
fn is_origin(value: &str) -> bool {
    let Some(rest) = value
        .strip_prefix("https://")
        .or_else(|| value.strip_prefix("http://"))
    else {
        return false;
    };
    !rest.is_empty()
        && rest
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b))
}

/// Reads the secret: the environment variable or the file, never argv.
fn read_secret(env: Option<String>, file: Option<&PathBuf>) -> Result<Vec<u8>, ConfigError> {
    match (env.filter(|s| !s.is_empty()), file) {
        (Some(_), Some(_)) => Err(ConfigError::TwoSecrets),
        (Some(secret), None) => Ok(secret.into_bytes()),
        (None, Some(path)) => {
            let mut bytes = std::fs::read(path).map_err(ConfigError::SecretFile)?;
            if bytes.last() == Some(&b'\n') {
                bytes.pop();
                if bytes.last() == Some(&b'\r') {
                    bytes.pop();
                }
            }
            Ok(bytes)
        }
        (None, None) => Ok(rand::random::<[u8; 32]>().to_vec()),
    }
}

impl Cli {
    /// Turns flags into checked settings, making a random secret when none was given.
    pub fn into_settings(self) -> Result<Settings, ConfigError> {
        if self.dev && !self.bind.is_loopback() && !self.dev_on_public_address {
            return Err(ConfigError::DevOnPublicAddress(self.bind));
        }
        let env_secret = std::env::var("CONSULT_JWT_SECRET").ok();
        let supplied =
            env_secret.as_deref().is_some_and(|s| !s.is_empty()) || self.jwt_secret_file.is_some();
        if self.redis_url.as_deref().is_some_and(|url| !url.is_empty()) && !supplied {
            return Err(ConfigError::RandomSecretWithRedis);
        }
        let jwt_secret = read_secret(env_secret, self.jwt_secret_file.as_ref())?;
        let settings = Settings {
            jwt_secret,
            token_ttl: self.token_ttl,
            refresh_grace: self.refresh_grace,
            session_max_age: self.session_max_age,
            reuse_window: self.reuse_window,
            dev_endpoints: self.dev,
            allow_origins: self.allow_origins,
            ping_interval: self.ping_interval,
            ping_timeout: self.ping_timeout,
            static_dir: self.static_dir,
            create_sessions: self.create_sessions,
            limits: Limits {
                max_connections: self.max_connections,
                max_connections_per_client: self.max_connections_per_client,
                keep_alive: !self.no_keep_alive,
                max_unauthenticated_sessions: self.max_unauthenticated_sessions,
                max_unauthenticated_sessions_per_client: self
                    .max_unauthenticated_sessions_per_client,
                max_sockets_per_sign_in: self.max_sockets_per_sign_in,
                max_sign_ins: self.max_sign_ins,
                max_sessions: self.max_sessions,
                refresh_burst: self.refresh_burst,
                refresh_interval: self.refresh_interval,
                sign_in_event_burst: self.sign_in_event_burst,
                sign_in_event_interval: self.sign_in_event_interval,
                ..Limits::DEFAULT
            },
            redis_url: self.redis_url.filter(|url| !url.is_empty()),
            redis_timeout: self.redis_timeout,
            redis_may_lose_data: self.redis_may_lose_data,
            redis_cluster: self.redis_cluster,
            redis_ca_file: self.redis_ca_file,
            websocket_only: self.websocket_only,
            outage_disconnect_after: self.outage_disconnect_after,
        };
        settings.validate()?;
        Ok(settings)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_secrets_and_long_ttls_are_refused() {
        let mut settings = Settings::with_secret(vec![7; 31]);
        assert!(matches!(
            settings.validate(),
            Err(ConfigError::ShortSecret(31))
        ));
        settings.jwt_secret = vec![7; 32];
        assert!(settings.validate().is_ok());
        settings.token_ttl = Duration::from_secs(13 * 3600);
        assert!(matches!(
            settings.validate(),
            Err(ConfigError::TtlAboveMaxAge { .. })
        ));
    }

    #[test]
    fn origins_are_exact_scheme_host_port() {
        assert!(is_origin("https://app.example"));
        assert!(is_origin("http://127.0.0.1:8080"));
        assert!(!is_origin("null"));
        assert!(!is_origin("https://app.example/"));
        assert!(!is_origin("*"));
    }
}
