//! A small TCP load balancer for tests and demos (`consult-proxy`): each connection goes to the
//! next instance in turn that accepts it, bytes copied both ways (HTTP and WebSocket alike), as
//! `haproxy` in `mode tcp` would. An instance that is down is skipped; its open connections
//! end with it, and the clients' reconnects land on the others. Not for production: there, any
//! TCP or HTTP balancer does (the instances need no stickiness).
//!
//! Connections whose first request line (method and path, the query left out) is the same take
//! their turns together, apart from the others: with instances that close each connection after
//! one response (`consult-stub --no-keep-alive`), a client's successive refreshes alternate over
//! the instances whatever its polls and sockets do in between, so a test knows that each
//! instance rotated a token. At most [`MAX_OWN_TURNS`] request lines get a turn of their own;
//! any other connection, or one whose request line is not in its first bytes, takes the shared
//! turn.
//!
//! Bounded like the instances: an instance connection is opened only once the client has sent
//! its first bytes (within [`ProxyLimits::first_byte_timeout`]), so idle clients hold no
//! instance's slot; a connection with no traffic either way for [`ProxyLimits::idle_timeout`]
//! is closed, and once one side has finished sending, the other gets
//! [`ProxyLimits::half_close_timeout`] to finish too.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio::time::Instant;

/// Request lines that get a turn of their own at most; the proxy's memory stays bounded
/// whatever clients send.
pub const MAX_OWN_TURNS: usize = 64;

/// Bytes of a connection's start looked at for its request line.
const REQUEST_LINE_PEEK: usize = 512;

/// The bounds on the proxy's connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProxyLimits {
    /// Most client connections at once.
    pub max_connections: usize,
    /// Longest wait for an instance to accept before trying the next one.
    pub connect_timeout: Duration,
    /// Longest wait for a new client's first bytes.
    pub first_byte_timeout: Duration,
    /// A connection without traffic either way for this long is closed.
    pub idle_timeout: Duration,
    /// Once one side has finished sending, the other has this long to finish.
    pub half_close_timeout: Duration,
}

impl ProxyLimits {
    /// The defaults (the binary's flags): 4096 connections, 1 s to connect, 5 s for the first
    /// bytes, 60 s idle (Engine.IO pings every 25 s), 5 s after a half-close.
    pub const DEFAULT: ProxyLimits = ProxyLimits {
        max_connections: 4096,
        connect_timeout: Duration::from_secs(1),
        first_byte_timeout: Duration::from_secs(5),
        idle_timeout: Duration::from_secs(60),
        half_close_timeout: Duration::from_secs(5),
    };
}

/// Where connections go, and the bounds on them.
#[derive(Debug)]
pub struct Balancer {
    backends: Vec<SocketAddr>,
    /// The turn of connections without a turn of their own.
    next: AtomicUsize,
    /// The turns of request lines (method and path), at most [`MAX_OWN_TURNS`].
    own_turns: Mutex<HashMap<Vec<u8>, usize>>,
    limits: ProxyLimits,
    permits: Arc<Semaphore>,
}

impl Balancer {
    /// Round-robin over `backends` within `limits`.
    pub fn new(backends: Vec<SocketAddr>, limits: ProxyLimits) -> Self {
        Balancer {
            backends,
            next: AtomicUsize::new(0),
            own_turns: Mutex::default(),
            limits,
            permits: Arc::new(Semaphore::new(limits.max_connections.max(1))),
        }
    }

    /// The turn of a connection that starts with `first_bytes`: its request line's own, or
    /// the shared one.
    fn take_turn(&self, first_bytes: &[u8]) -> usize {
        if let Some(line) = request_line(first_bytes) {
            let mut turns = self.own_turns.lock().unwrap_or_else(|p| p.into_inner());
            let room = turns.len() < MAX_OWN_TURNS;
            if let Some(turn) = turns.get_mut(line) {
                *turn = turn.wrapping_add(1);
                return turn.wrapping_sub(1);
            }
            if room {
                turns.insert(line.to_vec(), 1);
                return 0;
            }
        }
        self.next.fetch_add(1, Ordering::Relaxed)
    }

    /// A connection to the first backend, from the one of turn `start` on, that accepts within
    /// the timeout; `None` when none does.
    async fn connect(&self, start: usize) -> Option<(SocketAddr, TcpStream)> {
        let count = self.backends.len();
        for offset in 0..count {
            let Some(&backend) = self.backends.get((start + offset) % count.max(1)) else {
                continue;
            };
            let connecting = TcpStream::connect(backend);
            match tokio::time::timeout(self.limits.connect_timeout, connecting).await {
                Ok(Ok(stream)) => return Some((backend, stream)),
                Ok(Err(e)) => tracing::debug!(%backend, error = %e, "backend refused"),
                Err(_) => tracing::debug!(%backend, "backend did not accept in time"),
            }
        }
        None
    }

    /// Accepts on `listener` until `shutdown` completes.
    pub async fn serve(self: Arc<Self>, listener: TcpListener, shutdown: impl Future<Output = ()>) {
        let mut shutdown = std::pin::pin!(shutdown);
        loop {
            let permit = tokio::select! {
                permit = self.permits.clone().acquire_owned() => match permit {
                    Ok(permit) => permit,
                    Err(_) => return,
                },
                () = &mut shutdown => return,
            };
            let client = tokio::select! {
                stream = crate::serve::accept(&listener) => stream,
                () = &mut shutdown => return,
            };
            let balancer = self.clone();
            tokio::spawn(async move {
                let _permit = permit;
                balancer.relay(client).await;
            });
        }
    }

    /// One client connection: waits for its first bytes, then relays it to an instance.
    async fn relay(&self, client: TcpStream) {
        let mut first = [0_u8; REQUEST_LINE_PEEK];
        let seen =
            match tokio::time::timeout(self.limits.first_byte_timeout, client.peek(&mut first))
                .await
            {
                Ok(Ok(n)) if n > 0 => n,
                _ => return,
            };
        let turn = self.take_turn(first.get(..seen).unwrap_or_default());
        let Some((backend, upstream)) = self.connect(turn).await else {
            tracing::warn!("no instance accepts connections");
            return;
        };
        let _ = client.set_nodelay(true);
        let _ = upstream.set_nodelay(true);
        if let Err(e) = copy_both_ways(client, upstream, self.limits).await {
            tracing::debug!(%backend, error = %e, "proxied connection ended");
        }
    }
}

/// The method and path of the HTTP request line at the start of `bytes` (`GET /a` of
/// `GET /a?b=1 HTTP/1.1`), when they are all there.
fn request_line(bytes: &[u8]) -> Option<&[u8]> {
    let method_end = bytes.iter().position(|&b| b == b' ')?;
    let path_len = bytes
        .get(method_end + 1..)?
        .iter()
        .position(|&b| b == b' ' || b == b'?')?;
    if method_end == 0 || path_len == 0 {
        return None;
    }
    bytes.get(..method_end + 1 + path_len)
}

/// Copies `a` ⇄ `b` until both sides have finished, an error, the idle timeout, or the
/// half-close timeout after the first side finished; then both are closed (dropped).
async fn copy_both_ways(a: TcpStream, b: TcpStream, limits: ProxyLimits) -> std::io::Result<()> {
    let start = Instant::now();
    let last = Arc::new(AtomicU64::new(0));
    let (a_read, a_write) = a.into_split();
    let (b_read, b_write) = b.into_split();
    let forward = copy_one_way(a_read, b_write, start, last.clone());
    let backward = copy_one_way(b_read, a_write, start, last.clone());
    tokio::pin!(forward, backward);
    let (mut forward_done, mut backward_done) = (false, false);
    let mut half_closed_at: Option<Instant> = None;
    loop {
        let idle_deadline =
            start + Duration::from_millis(last.load(Ordering::Relaxed)) + limits.idle_timeout;
        let deadline = half_closed_at
            .map(|at| (at + limits.half_close_timeout).min(idle_deadline))
            .unwrap_or(idle_deadline);
        tokio::select! {
            done = &mut forward, if !forward_done => {
                done?;
                forward_done = true;
            }
            done = &mut backward, if !backward_done => {
                done?;
                backward_done = true;
            }
            () = tokio::time::sleep_until(deadline) => {
                let now = Instant::now();
                let idle_since = start + Duration::from_millis(last.load(Ordering::Relaxed));
                let half_close_over =
                    half_closed_at.is_some_and(|at| now >= at + limits.half_close_timeout);
                if half_close_over || now >= idle_since + limits.idle_timeout {
                    return Ok(());
                }
            }
        }
        if forward_done && backward_done {
            return Ok(());
        }
        if (forward_done || backward_done) && half_closed_at.is_none() {
            half_closed_at = Some(Instant::now());
        }
    }
}

/// Copies one direction until end of stream (then finishes the writer's side), noting the
/// time of the last traffic (milliseconds since `start`) in `last`.
async fn copy_one_way(
    mut from: OwnedReadHalf,
    mut to: OwnedWriteHalf,
    start: Instant,
    last: Arc<AtomicU64>,
) -> std::io::Result<()> {
    let mut buf = vec![0_u8; 16 * 1024];
    loop {
        let n = from.read(&mut buf).await?;
        if n == 0 {
            to.shutdown().await?;
            return Ok(());
        }
        to.write_all(buf.get(..n).unwrap_or_default()).await?;
        let elapsed = u64::try_from(start.elapsed().as_millis()).unwrap_or(u64::MAX);
        last.store(elapsed, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn balancer() -> Balancer {
        let backends = vec![
            SocketAddr::from(([127, 0, 0, 1], 1)),
            SocketAddr::from(([127, 0, 0, 1], 2)),
        ];
        Balancer::new(backends, ProxyLimits::DEFAULT)
    }

    #[test]
    fn the_request_line_is_method_and_path_without_the_query() {
        let line =
            |bytes: &[u8]| request_line(bytes).map(|l| String::from_utf8_lossy(l).into_owned());
        assert_eq!(line(b"GET /a?b=1 HTTP/1.1\r\n").as_deref(), Some("GET /a"));
        assert_eq!(
            line(b"POST /api/x HTTP/1.1").as_deref(),
            Some("POST /api/x")
        );
        assert_eq!(
            line(b"POST /api/x"),
            None,
            "the path may go on in the next bytes"
        );
        assert_eq!(line(b"GET"), None);
        assert_eq!(line(b" /a HTTP/1.1"), None);
        assert_eq!(line(b"GET  HTTP/1.1"), None);
        assert_eq!(line(b""), None);
    }

    #[test]
    fn a_request_line_takes_its_turns_apart_from_the_others() {
        let balancer = balancer();
        let refresh = b"POST /refresh HTTP/1.1\r\n".as_slice();
        let poll = b"GET /poll?i=1 HTTP/1.1\r\n".as_slice();
        let turns: Vec<usize> = [refresh, poll, poll, poll, refresh, poll, refresh]
            .iter()
            .map(|bytes| balancer.take_turn(bytes))
            .collect();
        assert_eq!(turns, [0, 0, 1, 2, 1, 3, 2]);
    }

    #[test]
    fn request_lines_beyond_the_bound_share_one_turn() {
        let balancer = balancer();
        for i in 0..MAX_OWN_TURNS {
            assert_eq!(
                balancer.take_turn(format!("GET /{i} HTTP/1.1").as_bytes()),
                0
            );
        }
        let shared: Vec<usize> = (0..3)
            .map(|i| balancer.take_turn(format!("GET /more-{i} HTTP/1.1").as_bytes()))
            .collect();
        assert_eq!(shared, [0, 1, 2], "new lines take the shared turn");
        assert_eq!(
            balancer.take_turn(b"not http"),
            3,
            "so do bytes that are not HTTP"
        );
        assert_eq!(
            balancer.take_turn(b"GET /0 HTTP/1.1"),
            1,
            "a line with its own turn keeps it"
        );
        let held = balancer
            .own_turns
            .lock()
            .map(|t| t.len())
            .unwrap_or(usize::MAX);
        assert_eq!(held, MAX_OWN_TURNS);
    }
}
