//! Command-line flags and environment variables, and the settings derived from them.

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;

/// consult-stub: the video-consultation backend consult's clients are tested against.
#[derive(Debug, Parser)]
#[command(name = "consult-stub", version, about)]
pub struct Cli {
    /// Address to bind (loopback by default: this is a development server).
    #[arg(long, env = "CONSULT_BIND", default_value = "127.0.0.1")]
    pub bind: IpAddr,

    /// Port to listen on; 0 picks a free port (the bound address is printed at start).
    #[arg(long, env = "CONSULT_PORT", default_value_t = 8086)]
    pub port: u16,

    /// HS256 signing secret. A random 32-byte secret is made at every start when absent.
    #[arg(long, env = "CONSULT_JWT_SECRET", hide_env_values = true)]
    pub jwt_secret: Option<String>,

    /// Lifetime of an issued access token.
    #[arg(long, env = "CONSULT_TOKEN_TTL", default_value = "4h", value_parser = humantime::parse_duration)]
    pub token_ttl: Duration,

    /// How long after `exp` a token is still accepted by the lenient endpoints.
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

    /// Leave out the `/api/dev/*` endpoints (token minting, sessions, faults, stats).
    #[arg(long, env = "CONSULT_NO_DEV_ENDPOINTS")]
    pub no_dev_endpoints: bool,
}

/// Everything the application needs, independent of how it was configured.
#[derive(Clone)]
pub struct Settings {
    /// HS256 secret (never logged: `Settings` has no `Debug`).
    pub jwt_secret: Vec<u8>,
    /// Lifetime of a fresh access token.
    pub token_ttl: Duration,
    /// Leniency after `exp` at refresh, logout and GET session.
    pub refresh_grace: Duration,
    /// Hard cap on a sign-in, from `auth_time`.
    pub session_max_age: Duration,
    /// Window in which a repeated refresh returns the same successor.
    pub reuse_window: Duration,
    /// Whether `/api/dev/*` is mounted.
    pub dev_endpoints: bool,
    /// Engine.IO ping interval.
    pub ping_interval: Duration,
    /// Engine.IO ping timeout.
    pub ping_timeout: Duration,
    /// Folder served as a fallback (the demo's `dist/`).
    pub static_dir: Option<PathBuf>,
    /// Sessions created at start.
    pub create_sessions: Vec<String>,
}

impl Settings {
    /// Defaults as in the seed, with the given secret; convenient for tests.
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
            ping_interval: Duration::from_secs(25),
            ping_timeout: Duration::from_secs(20),
            static_dir: None,
            create_sessions: Vec::new(),
        }
    }
}

impl Cli {
    /// Turns flags into settings, making a random secret when none was given.
    pub fn into_settings(self) -> Settings {
        let jwt_secret = match self.jwt_secret {
            Some(secret) if !secret.is_empty() => secret.into_bytes(),
            _ => rand::random::<[u8; 32]>().to_vec(),
        };
        Settings {
            jwt_secret,
            token_ttl: self.token_ttl,
            refresh_grace: self.refresh_grace,
            session_max_age: self.session_max_age,
            reuse_window: self.reuse_window,
            dev_endpoints: !self.no_dev_endpoints,
            ping_interval: self.ping_interval,
            ping_timeout: self.ping_timeout,
            static_dir: self.static_dir,
            create_sessions: self.create_sessions,
        }
    }
}
