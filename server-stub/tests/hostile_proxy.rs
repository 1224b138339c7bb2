//! The hostile suite, issue 20: consult-proxy (N3, N4). The real `consult-proxy` binary in
//! front of the real `consult-stub` (or of a test listener) on 127.0.0.1; every wait bounded.

#[path = "hostile/support.rs"]
mod support;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use support::{Sio, Stub, raw_http, status_of};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

fn proxy_binary() -> String {
    std::env::var("CONSULT_PROXY_BIN")
        .unwrap_or_else(|_| env!("CARGO_BIN_EXE_consult-proxy").to_owned())
}

/// A running consult-proxy; killed when dropped.
struct Proxy {
    child: Child,
    addr: String,
}

impl Proxy {
    fn start(backend: &str, extra: &[&str]) -> Proxy {
        let mut child = Command::new(proxy_binary())
            .args(["--listen", "127.0.0.1:0", "--backend", backend])
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("spawn consult-proxy: {e}"));
        let stdout = child.stdout.take().unwrap_or_else(|| panic!("no stdout"));
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines();
            if let Some(Ok(line)) = lines.next() {
                let _ = tx.send(line);
            }
            for _ in lines {}
        });
        let line = rx
            .recv_timeout(Duration::from_secs(10))
            .unwrap_or_else(|e| panic!("consult-proxy did not print its address: {e}"));
        let addr = line
            .rsplit(' ')
            .next()
            .unwrap_or_default()
            .trim()
            .trim_start_matches("http://")
            .to_owned();
        Proxy { child, addr }
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Whether the peer closes `stream` within `wait` (end of stream or reset).
async fn closed_within(stream: &mut TcpStream, wait: Duration) -> bool {
    let mut buf = [0_u8; 4096];
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        match tokio::time::timeout_at(deadline, stream.read(&mut buf)).await {
            Err(_) => return false,
            Ok(Ok(0)) | Ok(Err(_)) => return true,
            Ok(Ok(_)) => continue,
        }
    }
}

const STATS: &[u8] = b"GET /api/dev/stats HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";

#[tokio::test]
async fn n3_idle_proxy_clients_do_not_hold_the_instances_connection_slots() {
    let stub = Stub::dev(&["--max-connections", "3"]);
    let proxy = Proxy::start(&stub.addr, &[]);
    let mut idle = Vec::new();
    for _ in 0..3 {
        idle.push(
            TcpStream::connect(&proxy.addr)
                .await
                .unwrap_or_else(|e| panic!("{e}")),
        );
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let started = Instant::now();
    let answer = raw_http(&proxy.addr, STATS, Duration::from_secs(10)).await;
    let took = started.elapsed();
    println!("a request through the proxy behind 3 idle clients took {took:?}");
    assert_eq!(status_of(&answer), 200, "{answer}");
    assert!(took < Duration::from_secs(1), "it waited {took:?}");
    drop(idle);
}

#[tokio::test]
async fn n3_a_proxy_client_that_sends_nothing_is_closed_after_the_first_byte_timeout() {
    let stub = Stub::dev(&[]);
    let proxy = Proxy::start(&stub.addr, &["--first-byte-timeout", "1s"]);
    let mut silent = TcpStream::connect(&proxy.addr)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        closed_within(&mut silent, Duration::from_secs(3)).await,
        "a silent client stayed"
    );
    assert_eq!(
        status_of(&raw_http(&proxy.addr, STATS, Duration::from_secs(5)).await),
        200
    );
}

#[tokio::test]
async fn n3_an_idle_proxied_connection_is_closed_after_the_idle_timeout() {
    // A backend that accepts and then says nothing, and never closes.
    let backend = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let backend_addr = backend.local_addr().unwrap_or_else(|e| panic!("{e}"));
    let held = tokio::spawn(async move {
        let mut kept = Vec::new();
        while let Ok((stream, _)) = backend.accept().await {
            kept.push(stream);
        }
    });
    let proxy = Proxy::start(
        &backend_addr.to_string(),
        &["--idle-timeout", "1s", "--half-close-timeout", "30s"],
    );
    let mut client = TcpStream::connect(&proxy.addr)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let _ = client.write_all(b"hello").await;
    assert!(
        closed_within(&mut client, Duration::from_secs(4)).await,
        "an idle connection stayed open past the idle timeout"
    );
    held.abort();
}

#[tokio::test]
async fn n3_a_half_closed_connection_is_closed_after_the_half_close_timeout() {
    let backend = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let backend_addr = backend.local_addr().unwrap_or_else(|e| panic!("{e}"));
    let held = tokio::spawn(async move {
        let mut kept = Vec::new();
        while let Ok((stream, _)) = backend.accept().await {
            kept.push(stream);
        }
    });
    let proxy = Proxy::start(
        &backend_addr.to_string(),
        &["--idle-timeout", "60s", "--half-close-timeout", "1s"],
    );
    let mut client = TcpStream::connect(&proxy.addr)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let _ = client.write_all(b"hello").await;
    let _ = client.shutdown().await;
    assert!(
        closed_within(&mut client, Duration::from_secs(4)).await,
        "a half-closed connection stayed open"
    );
    held.abort();
}

/// A backend that answers every connection's first request with its own `name` and closes,
/// noting which request lines it was given.
async fn naming_backend(name: &'static str) -> (String, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let addr = listener
        .local_addr()
        .unwrap_or_else(|e| panic!("{e}"))
        .to_string();
    let serving = tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut head = [0_u8; 1024];
                let _ = stream.read(&mut head).await;
                let answer = format!(
                    "HTTP/1.1 200 OK\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{name}",
                    name.len()
                );
                let _ = stream.write_all(answer.as_bytes()).await;
            });
        }
    });
    (addr, serving)
}

/// The body of the answer to `request_line` through `proxy` on a new connection.
async fn answered_by(proxy: &str, request_line: &str) -> String {
    let request =
        format!("{request_line} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
    let answer = raw_http(proxy, request.as_bytes(), Duration::from_secs(5)).await;
    answer
        .rsplit("\r\n\r\n")
        .next()
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn a_request_line_alternates_over_the_instances_whatever_other_connections_do() {
    let (a, serving_a) = naming_backend("a").await;
    let (b, serving_b) = naming_backend("b").await;
    let proxy = Proxy::start(&a, &["--backend", &b]);
    let mut refreshes = Vec::new();
    for polls_between in [0, 1, 2, 3, 1] {
        refreshes.push(answered_by(&proxy.addr, "POST /api/video/auth/refresh-token").await);
        for i in 0..polls_between {
            let poll = format!("GET /api/video/sessions/s-{i}?t={polls_between}");
            let by = answered_by(&proxy.addr, &poll).await;
            assert!(by == "a" || by == "b", "a poll was answered {by:?}");
        }
    }
    assert_eq!(
        refreshes,
        ["a", "b", "a", "b", "a"],
        "the refreshes' instances"
    );
    serving_a.abort();
    serving_b.abort();
}

#[tokio::test]
async fn the_stub_without_keep_alive_closes_each_connection_after_its_answer_but_keeps_sockets() {
    const KEPT: &[u8] = b"GET /api/dev/stats HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
    for (flags, closes) in [(&[][..], false), (&["--no-keep-alive"][..], true)] {
        let stub = Stub::dev(flags);
        let mut stream = TcpStream::connect(&stub.addr)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let _ = stream.write_all(KEPT).await;
        let mut head = vec![0_u8; 4096];
        let n = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut head))
            .await
            .unwrap_or_else(|_| panic!("no answer with {flags:?}"))
            .unwrap_or_else(|e| panic!("{e}"));
        let answer = String::from_utf8_lossy(head.get(..n).unwrap_or_default()).to_lowercase();
        assert_eq!(status_of(&answer), 200, "{answer}");
        assert_eq!(
            answer.contains("connection: close"),
            closes,
            "{flags:?}: {answer}"
        );
        assert_eq!(
            closed_within(&mut stream, Duration::from_secs(1)).await,
            closes,
            "{flags:?}: whether the connection ended after the answer"
        );
        // A Socket.IO connection over WebSocket is an upgrade: it stays, the flag or not.
        let token = stub.mint("patient-keep-alive", 3600).await;
        let mut socket = Sio::connect(&stub.addr, &token)
            .await
            .unwrap_or_else(|e| panic!("{flags:?}: {e}"));
        let (ended, _) = socket.ended_within(Duration::from_millis(500)).await;
        assert!(!ended, "{flags:?}: the socket was closed");
    }
}

#[test]
fn n4_the_proxy_refuses_a_non_loopback_listen_address_without_the_explicit_flag() {
    let mut child = Command::new(proxy_binary())
        .args(["--listen", "0.0.0.0:0", "--backend", "127.0.0.1:9"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("spawn consult-proxy: {e}"));
    // A refusal exits at once; a proxy still running after 5 s listened publicly.
    let mut status = None;
    for _ in 0..50 {
        if let Ok(Some(exited)) = child.try_wait() {
            status = Some(exited);
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = child.kill();
    let _ = child.wait();
    let mut stderr = String::new();
    if let Some(mut pipe) = child.stderr.take() {
        use std::io::Read;
        let _ = pipe.read_to_string(&mut stderr);
    }
    assert!(
        status.is_some_and(|s| !s.success()) && stderr.contains("--listen-on-public-address"),
        "{status:?}: {stderr}"
    );
}
