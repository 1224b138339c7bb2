//! The hostile suite, issue 20: what a client can make the server hold before it authenticates
//! (N2) and how many connections one client may take (N10). The real binary on 127.0.0.1; each
//! refusal asserted with its JSON error, and "the server still answers".

#[path = "hostile/support.rs"]
mod support;

use std::time::Duration;

use futures::StreamExt;
use serde_json::Value;
use support::{Sio, Stub, raw_http, status_of};

const POLLING_HANDSHAKE: &str = "/socket.io/?EIO=4&transport=polling";

/// A polling handshake on its own connection: (status, body).
async fn handshake(stub: &Stub) -> (u16, String) {
    let request =
        format!("GET {POLLING_HANDSHAKE} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
    let answer = raw_http(&stub.addr, request.as_bytes(), Duration::from_secs(5)).await;
    let body = answer
        .split_once("\r\n\r\n")
        .map(|(_, body)| body.to_owned())
        .unwrap_or_default();
    (status_of(&answer), body)
}

fn error_code(body: &str) -> Option<String> {
    serde_json::from_str::<Value>(body)
        .ok()
        .and_then(|v| v["error"].as_str().map(str::to_owned))
}

#[tokio::test]
async fn n2_a_flood_of_polling_handshakes_is_refused_beyond_the_per_client_cap_and_memory_stays_flat()
 {
    let stub = Stub::dev(&[]);
    stub.assert_alive().await;
    let before = stub.rss_kib();
    // The flood: 16,000 handshakes over 8 keep-alive connections.
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(8)
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap_or_else(|e| panic!("client: {e}"));
    let url = format!("{}{POLLING_HANDSHAKE}", stub.base);
    let started = std::time::Instant::now();
    let statuses: Vec<u16> = futures::stream::iter(0..16_000)
        .map(|_| {
            let request = http.get(&url).send();
            async move { request.await.map(|r| r.status().as_u16()).unwrap_or(0) }
        })
        .buffer_unordered(8)
        .collect()
        .await;
    let elapsed = started.elapsed();
    let after = stub.rss_kib();
    let opened = statuses.iter().filter(|s| **s == 200).count();
    let limited = statuses.iter().filter(|s| **s == 429).count();
    println!(
        "16000 polling handshakes in {elapsed:?}: {opened} opened, {limited} refused (429); RSS {before} -> {after} KiB"
    );
    // 64 at once per client; a slot comes back when its session ends (the 5 s CONNECT timeout).
    let windows = usize::try_from(elapsed.as_secs() / 5 + 1).unwrap_or(usize::MAX);
    assert!(
        opened <= 64 * windows,
        "{opened} unauthenticated sessions opened by one client in {elapsed:?}"
    );
    assert_eq!(opened + limited, 16_000, "other answers: {statuses:?}");
    assert!(
        after < before + 16 * 1024,
        "RSS grew from {before} to {after} KiB under the flood"
    );
    let (status, body) = handshake(&stub).await;
    assert_eq!(
        (status, error_code(&body).as_deref()),
        (429, Some("rate_limited")),
        "{body}"
    );
    stub.assert_alive().await;
}

#[tokio::test]
async fn n2_unauthenticated_sessions_beyond_the_global_cap_are_refused_with_503() {
    let stub = Stub::dev(&[
        "--max-unauthenticated-sessions",
        "3",
        "--max-unauthenticated-sessions-per-client",
        "100",
    ]);
    for _ in 0..3 {
        assert_eq!(handshake(&stub).await.0, 200);
    }
    let (status, body) = handshake(&stub).await;
    assert_eq!(
        (status, error_code(&body).as_deref()),
        (503, Some("server_full")),
        "{body}"
    );
    stub.assert_alive().await;
}

#[tokio::test]
async fn n2_an_authenticated_or_ended_session_gives_its_slot_back() {
    let stub = Stub::dev(&["--max-unauthenticated-sessions-per-client", "2"]);
    let token = stub.mint("pat-slot", 3600).await;
    let connected = Sio::connect(&stub.addr, &token)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let waiting = Sio::open(&stub.addr).await;
    // One slot is held by `waiting`; `connected` gave its slot back when it authenticated.
    assert_eq!(handshake(&stub).await.0, 200);
    let (status, body) = handshake(&stub).await;
    assert_eq!(
        (status, error_code(&body).as_deref()),
        (429, Some("rate_limited")),
        "{body}"
    );
    drop(waiting);
    drop(connected);
    // The unauthenticated ones end at the CONNECT timeout (5 s) and give their slots back.
    let mut again = 0;
    for _ in 0..40 {
        again = handshake(&stub).await.0;
        if again == 200 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert_eq!(
        again, 200,
        "the slots of ended sessions were not given back"
    );
}

#[tokio::test]
async fn n2_websocket_only_refuses_polling_handshakes() {
    let stub = Stub::dev(&["--websocket-only"]);
    let (status, body) = handshake(&stub).await;
    assert_eq!(
        (status, error_code(&body).as_deref()),
        (400, Some("bad_request")),
        "{body}"
    );
    let token = stub.mint("pat-ws", 3600).await;
    assert!(Sio::connect(&stub.addr, &token).await.is_ok());
}

#[tokio::test]
async fn n10_one_client_cannot_take_every_connection() {
    let stub = Stub::dev(&["--max-connections-per-client", "4"]);
    let mut held = Vec::new();
    for _ in 0..4 {
        if let Ok(stream) = tokio::net::TcpStream::connect(&stub.addr).await {
            held.push(stream);
        }
    }
    let started = std::time::Instant::now();
    let answer = raw_http(
        &stub.addr,
        b"GET /api/dev/stats HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
        Duration::from_secs(3),
    )
    .await;
    let body = answer
        .split_once("\r\n\r\n")
        .map(|(_, b)| b)
        .unwrap_or_default();
    assert_eq!(
        (status_of(&answer), error_code(body).as_deref()),
        (429, Some("rate_limited")),
        "{answer}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "the refusal waited"
    );
    drop(held);
    // The server gives the places back once it has seen the connections close.
    let mut served = 0;
    for _ in 0..40 {
        served = status_of(&raw_http(&stub.addr, STATS_CLOSE, Duration::from_secs(3)).await);
        if served == 200 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        served, 200,
        "the places of closed connections were not given back"
    );
    stub.assert_alive().await;
}

const STATS_CLOSE: &[u8] =
    b"GET /api/dev/stats HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
