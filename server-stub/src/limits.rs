//! Every resource bound the server enforces, in one place (the README's flag table lists them).

use std::time::Duration;

/// The bounds on what one client, one sign-in or everyone together can make the server hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Most TCP connections served at once (`--max-connections`).
    pub max_connections: usize,
    /// Most TCP connections of one client address at once (`--max-connections-per-client`).
    pub max_connections_per_client: usize,
    /// Most Engine.IO sessions without an accepted CONNECT at once
    /// (`--max-unauthenticated-sessions`).
    pub max_unauthenticated_sessions: usize,
    /// The same, per client address (`--max-unauthenticated-sessions-per-client`).
    pub max_unauthenticated_sessions_per_client: usize,
    /// Time a client has to send a complete request head.
    pub header_read_timeout: Duration,
    /// Whether an HTTP connection may carry more than one request (`--no-keep-alive` turns it
    /// off: every response then says `Connection: close`, WebSocket upgrades excepted).
    pub keep_alive: bool,
    /// Largest HTTP request body read by the API.
    pub max_body_bytes: usize,
    /// Largest WebSocket message and Engine.IO payload accepted.
    pub max_socket_message_bytes: usize,
    /// Time an Engine.IO connection has to send a Socket.IO CONNECT.
    pub connect_timeout: Duration,
    /// Most Socket.IO connections of one sign-in (`--max-sockets-per-sign-in`).
    pub max_sockets_per_sign_in: usize,
    /// Socket events one socket may send in a burst.
    pub socket_event_burst: u32,
    /// Time to earn back one socket event of the burst.
    pub socket_event_interval: Duration,
    /// Socket events one sign-in's sockets together may send in a burst
    /// (`--sign-in-event-burst`); reconnecting does not refill it.
    pub sign_in_event_burst: u32,
    /// Time to earn back one of them (`--sign-in-event-interval`).
    pub sign_in_event_interval: Duration,
    /// Sign-ins remembered for rotation at once (`--max-sign-ins`).
    pub max_sign_ins: usize,
    /// Refreshes one sign-in may make in a burst (`--refresh-burst`).
    pub refresh_burst: u32,
    /// Time to earn back one refresh (`--refresh-interval`).
    pub refresh_interval: Duration,
    /// Most sessions held (dev-created and `--create-session`).
    pub max_sessions: usize,
    /// Most entries in a session's participant list.
    pub max_participants: usize,
    /// Longest id (session, room, user) in bytes.
    pub max_id_bytes: usize,
    /// Longest free-text claim (e-mail, role, display name) in bytes.
    pub max_text_bytes: usize,
}

impl Limits {
    /// The defaults.
    pub const DEFAULT: Limits = Limits {
        max_connections: 1024,
        max_connections_per_client: 256,
        max_unauthenticated_sessions: 1024,
        max_unauthenticated_sessions_per_client: 64,
        header_read_timeout: Duration::from_secs(5),
        keep_alive: true,
        max_body_bytes: 16 * 1024,
        max_socket_message_bytes: 16 * 1024,
        connect_timeout: Duration::from_secs(5),
        max_sockets_per_sign_in: 16,
        socket_event_burst: 20,
        socket_event_interval: Duration::from_millis(100),
        sign_in_event_burst: 1000,
        sign_in_event_interval: Duration::from_millis(10),
        max_sign_ins: 1_000_000,
        refresh_burst: 10,
        refresh_interval: Duration::from_secs(1),
        max_sessions: 10_000,
        max_participants: 32,
        max_id_bytes: 128,
        max_text_bytes: 256,
    };

    /// The flag of the first limit set to zero (none may be), if any.
    pub fn first_zero(&self) -> Option<&'static str> {
        [
            (self.max_connections, "--max-connections"),
            (
                self.max_connections_per_client,
                "--max-connections-per-client",
            ),
            (
                self.max_unauthenticated_sessions,
                "--max-unauthenticated-sessions",
            ),
            (
                self.max_unauthenticated_sessions_per_client,
                "--max-unauthenticated-sessions-per-client",
            ),
            (self.max_sockets_per_sign_in, "--max-sockets-per-sign-in"),
            (self.max_sign_ins, "--max-sign-ins"),
            (self.refresh_burst as usize, "--refresh-burst"),
            (self.sign_in_event_burst as usize, "--sign-in-event-burst"),
        ]
        .into_iter()
        .find(|(value, _)| *value == 0)
        .map(|(_, name)| name)
    }
}

impl Default for Limits {
    fn default() -> Self {
        Limits::DEFAULT
    }
}

/// A token bucket over Unix milliseconds: `burst` tokens, one more every `interval`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bucket {
    tokens: u32,
    updated_ms: i64,
}

impl Bucket {
    /// A full bucket at `now_ms`.
    pub fn full(burst: u32, now_ms: i64) -> Self {
        Bucket {
            tokens: burst,
            updated_ms: now_ms,
        }
    }

    /// The instant (Unix ms) by which the bucket is full again.
    pub fn full_at(&self, burst: u32, interval: Duration) -> i64 {
        let interval_ms = i64::try_from(interval.as_millis())
            .unwrap_or(i64::MAX)
            .max(1);
        let missing = i64::from(burst.saturating_sub(self.tokens));
        self.updated_ms
            .saturating_add(missing.saturating_mul(interval_ms))
    }

    /// Takes one token if there is one; `false` when the caller must wait.
    ///
    /// ```
    /// use consult_stub::limits::Bucket;
    /// use std::time::Duration;
    /// let mut bucket = Bucket::full(2, 0);
    /// let every = Duration::from_secs(1);
    /// assert!(bucket.take(2, every, 0) && bucket.take(2, every, 0));
    /// assert!(!bucket.take(2, every, 500));
    /// assert!(bucket.take(2, every, 1000));
    /// ```
    pub fn take(&mut self, burst: u32, interval: Duration, now_ms: i64) -> bool {
        let interval_ms = i64::try_from(interval.as_millis())
            .unwrap_or(i64::MAX)
            .max(1);
        let elapsed = now_ms.saturating_sub(self.updated_ms).max(0);
        let earned = elapsed / interval_ms;
        if earned > 0 {
            let earned = u32::try_from(earned).unwrap_or(u32::MAX);
            self.tokens = self.tokens.saturating_add(earned).min(burst);
            self.updated_ms = self
                .updated_ms
                .saturating_add(i64::from(earned).saturating_mul(interval_ms));
            if self.tokens == burst {
                self.updated_ms = now_ms;
            }
        }
        if self.tokens == 0 {
            return false;
        }
        self.tokens -= 1;
        true
    }
}
