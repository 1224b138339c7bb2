//! Measurements for BENCHMARKS.md ("consult-stub on Redis"), not checks: `#[ignore]`d, run by
//! hand against the release build, output on stdout:
//!
//! ```text
//! cargo build --release -p consult-stub
//! CONSULT_STUB_BIN=target/release/consult-stub \
//!   cargo test --release -p consult-stub --test cluster_bench -- --ignored --nocapture --test-threads 1
//! ```
//!
//! - `fanout_to_2000_sockets_over_two_instances`: 2,000 Socket.IO sockets joined to one room,
//!   half on each instance; one `session_status` sent through instance A; how long until every
//!   socket has it.
//! - `redis_bytes_per_live_sign_in`: what Redis holds per refreshed sign-in (`MEMORY USAGE` of
//!   its keys, and `used_memory` growth over 10,000 sign-ins).

#[path = "hostile/support.rs"]
mod support;

#[path = "common/redis_server.rs"]
mod redis_server;

use std::time::{Duration, Instant};

use futures::StreamExt;
use redis_server::RedisServer;
use serde_json::{Value, json};
use support::Stub;
use tokio_tungstenite::tungstenite::Message;

const SECRET: &str = "cluster-bench-secret-shared-by-every-instance-0123456789";

fn instance(redis: &RedisServer) -> Stub {
    Stub::start(
        &[
            "--dev",
            "--redis",
            &redis.url,
            "--max-connections",
            "8192",
            "--max-connections-per-client",
            "8192",
            "--max-unauthenticated-sessions-per-client",
            "2048",
        ],
        &[("CONSULT_JWT_SECRET", SECRET), ("RUST_LOG", "warn")],
    )
}

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// One client socket: connects, joins, then reads until `session_status` arrives; answers
/// the moment it did, or why it never will.
async fn client(
    addr: String,
    user: String,
    token: String,
    joined: tokio::sync::mpsc::Sender<()>,
) -> Result<Instant, String> {
    use futures::SinkExt;
    let url = format!("ws://{addr}/socket.io/?EIO=4&transport=websocket");
    let (ws, _) = tokio::time::timeout(
        Duration::from_secs(30),
        tokio_tungstenite::connect_async(url),
    )
    .await
    .map_err(|_| "websocket connect timed out".to_owned())?
    .map_err(|e| format!("websocket connect: {e}"))?;
    let (mut tx, mut rx) = ws.split();
    let send_err = |e: tokio_tungstenite::tungstenite::Error| format!("send: {e}");
    tx.send(Message::text(format!("40{}", json!({ "token": token }))))
        .await
        .map_err(send_err)?;
    let join = json!(["join_room", {"room_id": "room-fanout", "user_id": user, "role": "PATIENT", "token": token}]);
    let mut sent_join = false;
    loop {
        let frame = match tokio::time::timeout(Duration::from_secs(90), rx.next()).await {
            Err(_) => return Err("nothing for 90 s".to_owned()),
            Ok(None) => return Err("closed".to_owned()),
            Ok(Some(Err(e))) => return Err(format!("read: {e}")),
            Ok(Some(Ok(frame))) => frame,
        };
        let Message::Text(text) = frame else { continue };
        let text = text.as_str();
        if text == "2" {
            tx.send(Message::text("3")).await.map_err(send_err)?;
        } else if text.starts_with("40") && !sent_join {
            sent_join = true;
            tx.send(Message::text(format!("42{join}")))
                .await
                .map_err(send_err)?;
        } else if text.starts_with("42[\"joined_room\"") {
            let _ = joined.send(()).await;
        } else if text.starts_with("42[\"session_status\"") {
            return Ok(Instant::now());
        } else if text.starts_with("42[\"error\"")
            || text.starts_with("44")
            || text.starts_with("41")
            || text == "1"
        {
            return Err(text.chars().take(80).collect());
        }
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "benchmark: run by hand, see the file's doc"]
async fn fanout_to_2000_sockets_over_two_instances() {
    let sockets = env_usize("FANOUT_SOCKETS", 2000);
    let redis = RedisServer::start();
    let a = instance(&redis);
    let b = instance(&redis);
    let (status, body) = a
        .post(
            "/api/dev/sessions",
            json!({"session_id": "fanout", "room_id": "room-fanout"}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let mut tokens = Vec::with_capacity(sockets);
    for i in 0..sockets {
        tokens.push(a.mint(&format!("user-{i}"), 3600).await);
    }
    let (joined_tx, mut joined_rx) = tokio::sync::mpsc::channel(sockets);
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(sockets);
    for (i, token) in tokens.into_iter().enumerate() {
        let addr = if i % 2 == 0 {
            a.addr.clone()
        } else {
            b.addr.clone()
        };
        tasks.push(tokio::spawn(client(
            addr,
            format!("user-{i}"),
            token,
            joined_tx.clone(),
        )));
        if i % 100 == 99 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    drop(joined_tx);
    let mut joined = 0;
    while joined < sockets {
        // A joined_room can be dropped (the socket's 128-packet buffer is full of the
        // participant_joined storm): stop waiting after 10 s without one.
        match tokio::time::timeout(Duration::from_secs(10), joined_rx.recv()).await {
            Ok(Some(())) => joined += 1,
            _ => break,
        }
    }
    let join_time = started.elapsed();
    // Let the participant_joined fan-out (n²/2 events) drain before the measured push.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let (rss_a, rss_b) = (a.rss_kib(), b.rss_kib());
    let sent = Instant::now();
    let patch = a
        .http
        .patch(format!("{}/api/dev/sessions/fanout", a.base))
        .json(&json!({"status": "active"}));
    let (status, body, _) = a.call(patch).await;
    assert_eq!(status, 200, "{body}");
    let mut latencies = Vec::new();
    let mut failures: std::collections::BTreeMap<String, usize> = Default::default();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    for task in tasks {
        match tokio::time::timeout_at(deadline, task).await {
            Ok(Ok(Ok(at))) => latencies.push(at.saturating_duration_since(sent)),
            Ok(Ok(Err(why))) => *failures.entry(why).or_default() += 1,
            Ok(Err(e)) => *failures.entry(format!("task: {e}")).or_default() += 1,
            Err(_) => {
                *failures
                    .entry("still waiting after 60 s".to_owned())
                    .or_default() += 1
            }
        }
    }
    for (why, count) in &failures {
        println!("RESULT fanout_failure={count} x {why}");
    }
    latencies.sort_unstable();
    let used: Value = Value::String(redis.cli(&["INFO", "memory"]));
    println!("RESULT fanout_sockets={sockets}");
    println!(
        "RESULT fanout_joined={joined} in {:.1} s",
        join_time.as_secs_f64()
    );
    println!("RESULT fanout_received={}", latencies.len());
    println!(
        "RESULT fanout_latency_ms p50={:.1} p99={:.1} max={:.1}",
        percentile(&latencies, 0.5).as_secs_f64() * 1000.0,
        percentile(&latencies, 0.99).as_secs_f64() * 1000.0,
        latencies.last().copied().unwrap_or_default().as_secs_f64() * 1000.0
    );
    println!("RESULT fanout_rss_kib a={rss_a} b={rss_b}");
    let used_memory = used
        .as_str()
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with("used_memory:"))
        .unwrap_or_default()
        .to_owned();
    println!("RESULT fanout_redis {used_memory}");
    assert_eq!(
        latencies.len(),
        sockets,
        "not every socket got session_status"
    );
}

fn used_memory(redis: &RedisServer) -> i64 {
    redis
        .cli(&["INFO", "memory"])
        .lines()
        .find_map(|l| l.strip_prefix("used_memory:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "benchmark: run by hand, see the file's doc"]
async fn redis_bytes_per_live_sign_in() {
    let sign_ins = env_usize("SIGN_INS", 10_000);
    let redis = RedisServer::start();
    let a = &Stub::start(
        &["--dev", "--redis", &redis.url, "--reuse-window", "5s"],
        &[("CONSULT_JWT_SECRET", SECRET), ("RUST_LOG", "warn")],
    );
    let before = used_memory(&redis);
    let mut last = String::new();
    let indices: Vec<usize> = (0..sign_ins).collect();
    for batch in indices.chunks(50) {
        let refreshed = futures::future::join_all(batch.iter().map(|i| async move {
            let token = a.mint(&format!("user-{i}"), 3600).await;
            let (status, body) = a.refresh(&token).await;
            assert_eq!(status, 200, "{body}");
            body["access_token"].as_str().unwrap_or_default().to_owned()
        }))
        .await;
        if let Some(token) = refreshed.last() {
            last = token.clone();
        }
    }
    let after = used_memory(&redis);
    let sid = support_sid(&last);
    // Redis keys a sign-in by its id's keyed digest (no id or token is kept in clear).
    let key = consult_stub::storage::redis::RedisKeys::new(SECRET.as_bytes()).sign_in_key(&sid);
    let hash = redis.cli(&["MEMORY", "USAGE", &key, "SAMPLES", "0"]);
    println!("RESULT sign_ins={sign_ins}");
    println!("RESULT memory_usage_signin_hash_bytes={}", hash.trim());
    println!(
        "RESULT used_memory_growth_per_sign_in_bytes={}",
        (after - before) / i64::try_from(sign_ins).unwrap_or(1)
    );
    println!("RESULT token_bytes={}", last.len());
}

/// The `sid` claim of a token (payload decoded without verifying).
fn support_sid(token: &str) -> String {
    use base64::Engine;
    let part = token.split('.').nth(1).unwrap_or_default();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(part)
        .unwrap_or_default();
    serde_json::from_slice::<Value>(&bytes).unwrap_or(Value::Null)["sid"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}
