//! consult-stub beyond one process: two or three real `consult-stub` binaries sharing one real
//! `redis-server` (started by each test on a free loopback port, no persistence). Each test
//! asserts what a client would see: tokens, status codes, Socket.IO events, disconnects.
//! A missing `redis-server` fails these tests (scripts/setup.sh installs it).

#[path = "hostile/support.rs"]
mod support;

#[path = "common/redis_server.rs"]
mod redis_server;

use std::collections::HashSet;
use std::time::Duration;

use redis_server::RedisServer;
use serde_json::{Value, json};
use support::{Sio, Stub};

const SECRET: &str = "cluster-test-secret-shared-by-every-instance-0123456789";
const WAIT: Duration = Duration::from_secs(5);

/// An instance on `redis` with `--dev`, the shared secret, a short Redis deadline and `extra`.
fn instance(redis: &RedisServer, extra: &[&str]) -> Stub {
    let mut args = vec!["--dev", "--redis", &redis.url, "--redis-timeout", "300ms"];
    args.extend_from_slice(extra);
    Stub::start(&args, &[("CONSULT_JWT_SECRET", SECRET)])
}

fn token_of(body: &Value) -> String {
    body["access_token"].as_str().unwrap_or_default().to_owned()
}

/// A socket connected to `stub` and joined to `room` as `user`.
async fn joined(stub: &Stub, user: &str, token: &str, room: &str) -> Sio {
    let mut socket = Sio::connect(&stub.addr, token)
        .await
        .unwrap_or_else(|e| panic!("connect to {}: {e}", stub.addr));
    socket
        .emit(
            "join_room",
            json!({"room_id": room, "user_id": user, "role": "PATIENT", "token": token}),
        )
        .await;
    socket.expect_event("joined_room", WAIT).await;
    socket
}

#[tokio::test]
async fn a_replay_at_another_instance_repeats_inside_the_window_and_revokes_everywhere_after() {
    let redis = RedisServer::start();
    let a = instance(&redis, &["--reuse-window", "2s", "--create-session", "c1"]);
    let b = instance(&redis, &["--reuse-window", "2s"]);
    let old = a.mint("pat-c1", 3600).await;
    let (status, first) = a.refresh(&old).await;
    assert_eq!(status, 200, "{first}");
    let successor = token_of(&first);

    // Inside the window, at B: the same successor, not a second one.
    let (status, again) = b.refresh(&old).await;
    assert_eq!(
        (status, token_of(&again)),
        (200, successor.clone()),
        "{again}"
    );
    let mut socket = joined(&a, "pat-c1", &successor, "room-c1").await;

    // After the window, at B: reuse, and the whole sign-in is revoked on every instance.
    tokio::time::sleep(Duration::from_millis(2300)).await;
    let (status, reused) = b.refresh(&old).await;
    assert_eq!(
        (status, reused["error"].as_str()),
        (401, Some("token_reused"))
    );
    let (ended, errors) = socket.ended_within(WAIT).await;
    assert!(
        ended,
        "the socket at A of a sign-in revoked through B stayed"
    );
    assert_eq!(errors, vec!["token_reused".to_owned()]);
    for stub in [&a, &b] {
        let (status, body) = stub.get_session("c1", &successor).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (401, Some("session_revoked"))
        );
        let (status, body) = stub.refresh(&successor).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (401, Some("session_revoked"))
        );
    }
}

#[tokio::test]
async fn fifty_parallel_refreshes_over_three_instances_make_exactly_one_successor() {
    let redis = RedisServer::start();
    let stubs = [
        instance(&redis, &[]),
        instance(&redis, &[]),
        instance(&redis, &[]),
    ];
    let token = stubs[0].mint("pat-race", 3600).await;
    let answers =
        futures::future::join_all((0..50).map(|i| stubs[i % stubs.len()].refresh(&token))).await;
    let statuses: Vec<u16> = answers.iter().map(|(status, _)| *status).collect();
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
    let successors: HashSet<String> = answers.iter().map(|(_, body)| token_of(body)).collect();
    assert_eq!(successors.len(), 1, "several successors: {successors:?}");
    // And that one successor is the sign-in's current token everywhere.
    let successor = successors.into_iter().next().unwrap_or_default();
    for stub in &stubs {
        assert_eq!(stub.whoami(&successor).await.0, 200);
    }
    // The dev counters of all three together (each instance adds its own every 500 ms).
    tokio::time::sleep(Duration::from_millis(700)).await;
    let stats = stubs[1]
        .http
        .get(format!("{}/api/dev/stats?scope=cluster", stubs[1].base));
    let (status, stats, _) = stubs[1].call(stats).await;
    assert_eq!(
        (status, stats["refresh_ok"].as_u64()),
        (200, Some(50)),
        "{stats}"
    );
}

#[tokio::test]
async fn session_status_presence_and_logout_cross_instances() {
    let redis = RedisServer::start();
    let a = instance(&redis, &["--create-session", "c2"]);
    let b = instance(&redis, &["--create-session", "c2"]);
    let patient = a.mint("pat-c2", 3600).await;
    let doctor = b.mint("doc-c2", 3600).await;
    let mut at_a = joined(&a, "pat-c2", &patient, "room-c2").await;
    let mut at_b = joined(&b, "doc-c2", &doctor, "room-c2").await;
    let presence = at_a.expect_event("participant_joined", WAIT).await;
    assert_eq!(
        presence["user_id"], "doc-c2",
        "a join at B is announced at A"
    );

    // A session ended through B reaches the socket joined at A (and the one at B).
    let patch = b
        .http
        .patch(format!("{}/api/dev/sessions/c2", b.base))
        .json(&json!({"status": "ended"}));
    let (status, body, _) = b.call(patch).await;
    assert_eq!(status, 200, "{body}");
    for socket in [&mut at_a, &mut at_b] {
        let pushed = socket.expect_event("session_status", WAIT).await;
        assert_eq!(
            (pushed["status"].as_str(), pushed["version"].as_u64()),
            (Some("ended"), Some(2))
        );
    }
    let (status, session) = a.get_session("c2", &patient).await;
    assert_eq!((status, session["status"].as_str()), (200, Some("ended")));

    // A logout at A disconnects the doctor's socket at B; the patient at A hears them leave.
    assert_eq!(a.logout(&doctor).await, 204);
    let (ended, errors) = at_b.ended_within(WAIT).await;
    assert!(ended, "the socket at B of a sign-in logged out at A stayed");
    assert_eq!(errors, vec!["session_revoked".to_owned()]);
    let left = at_a.expect_event("participant_left", WAIT).await;
    assert_eq!(left["user_id"], "doc-c2");
    assert_eq!(
        Sio::connect(&b.addr, &doctor).await.err().as_deref(),
        Some("Session revoked")
    );
}

#[tokio::test]
async fn an_instance_killed_and_restarted_loses_no_sign_in_and_no_revocation() {
    let redis = RedisServer::start();
    let a = instance(&redis, &["--create-session", "c3"]);
    let b = instance(&redis, &[]);
    let revoked = a.mint("pat-gone", 3600).await;
    assert_eq!(a.logout(&revoked).await, 204);
    let kept = a.mint("pat-c3", 3600).await;
    let (_, body) = a.refresh(&kept).await;
    let current = token_of(&body);
    let mut socket = joined(&a, "pat-c3", &current, "room-c3").await;

    // A client polls through B while A dies (SIGKILL: no goodbye) and a new A starts.
    let poller = async {
        let mut statuses = Vec::new();
        for _ in 0..15 {
            statuses.push(b.get_session("c3", &current).await.0);
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        statuses
    };
    let restart = async {
        tokio::time::sleep(Duration::from_millis(300)).await;
        drop(a);
        let (ended, _) = socket.ended_within(WAIT).await;
        assert!(ended, "the socket of the killed instance is gone");
        instance(&redis, &[])
    };
    let (statuses, a2) = tokio::join!(poller, restart);
    assert!(
        statuses.iter().all(|s| *s == 200),
        "polling through B: {statuses:?}"
    );

    // The new instance knows everything: the revocation, the rotation, the session.
    assert_eq!(
        a2.get_session("c3", &revoked).await.1["error"].as_str(),
        Some("session_revoked")
    );
    assert_eq!(a2.get_session("c3", &current).await.0, 200);
    let (status, body) = a2.refresh(&kept).await;
    assert_eq!(
        (status, token_of(&body)),
        (200, current.clone()),
        "a repeat inside the window"
    );
    // The client reconnects to the new instance and joins its room again.
    let mut again = joined(&a2, "pat-c3", &current, "room-c3").await;
    assert_eq!(
        again.next(Duration::from_millis(300)).await,
        support::Seen::Nothing
    );
}

#[tokio::test]
async fn redis_paused_answers_503_with_retry_after_and_service_returns_by_itself() {
    let redis = RedisServer::start();
    let a = instance(&redis, &["--create-session", "c4"]);
    let b = instance(&redis, &[]);
    let token = a.mint("pat-c4", 3600).await;
    assert_eq!(b.get_session("c4", &token).await.0, 200);

    redis.pause();
    let started = std::time::Instant::now();
    let session = a
        .http
        .get(format!("{}/api/video/sessions/c4", a.base))
        .bearer_auth(&token);
    let (status, body, headers) = a.call(session).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (503, Some("store_unavailable")),
        "{body}"
    );
    assert!(body["message"].is_string(), "{body}");
    assert!(
        headers.get("retry-after").is_some(),
        "no Retry-After: {headers:?}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "the 503 took {:?}",
        started.elapsed()
    );
    let (status, body) = b.refresh(&token).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (503, Some("store_unavailable"))
    );
    assert_eq!(
        Sio::connect(&b.addr, &token).await.err().as_deref(),
        Some("Service unavailable"),
        "a socket is not let in unchecked"
    );
    assert_eq!(
        a.logout(&token).await,
        503,
        "a logout is not reported done while not stored"
    );
    tokio::time::sleep(Duration::from_secs(2)).await;
    redis.resume();

    // Nobody was signed out, and full service returns without a restart.
    let mut back = false;
    for _ in 0..50 {
        if a.get_session("c4", &token).await.0 == 200 {
            back = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(back, "A did not recover within 5 s of Redis returning");
    let (status, body) = b.refresh(&token).await;
    assert_eq!(status, 200, "{body}");
    let successor = token_of(&body);
    assert_eq!(a.get_session("c4", &successor).await.0, 200);
    joined(&b, "pat-c4", &successor, "room-c4").await;
}

#[tokio::test]
async fn redis_needs_a_supplied_secret_and_a_reachable_server() {
    let redis = RedisServer::start();
    let (ok, stderr) = support::start_expecting_failure(&["--redis", &redis.url], &[]);
    assert!(
        !ok && stderr.contains("--redis needs the JWT secret"),
        "{stderr}"
    );
    let closed = format!("redis://127.0.0.1:{}", free_port());
    let (ok, stderr) = support::start_expecting_failure(
        &["--redis", &closed, "--redis-timeout", "300ms"],
        &[("CONSULT_JWT_SECRET", SECRET)],
    );
    assert!(!ok && stderr.contains("cannot reach Redis"), "{stderr}");
    assert!(!stderr.contains(SECRET), "the secret reached the log");
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or(1)
}

#[tokio::test]
async fn after_a_redis_restart_the_instances_reconnect_and_rooms_cross_again() {
    let mut redis = RedisServer::start();
    let a = instance(&redis, &[]);
    let b = instance(&redis, &[]);
    redis.restart_empty(); // a Redis that lost its data
    let mut recovered = false;
    for _ in 0..50 {
        let (status, _) = a
            .post("/api/dev/sessions", json!({"session_id": "c5"}))
            .await;
        if status == 201 {
            recovered = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(recovered, "A did not reconnect to the new Redis within 5 s");
    let token = b.mint("pat-c5", 3600).await;
    let mut at_b = joined(&b, "pat-c5", &token, "room-c5").await;
    // The adapter's subscriptions came back too: a push through A reaches the socket at B.
    let mut pushed = Value::Null;
    for _ in 0..20 {
        let patch = a
            .http
            .patch(format!("{}/api/dev/sessions/c5", a.base))
            .json(&json!({"status": "waiting"}));
        assert_eq!(a.call(patch).await.0, 200);
        if let support::Seen::Event(name, data) = at_b.next(Duration::from_millis(250)).await
            && name == "session_status"
        {
            pushed = data;
            break;
        }
    }
    assert_eq!(
        pushed["status"], "waiting",
        "no session_status crossed after the restart"
    );
}

#[tokio::test]
async fn the_refresh_rate_limit_of_a_sign_in_is_shared_by_the_instances() {
    let redis = RedisServer::start();
    let limits = ["--refresh-burst", "2", "--refresh-interval", "1h"];
    let a = instance(&redis, &limits);
    let b = instance(&redis, &limits);
    let first = a.mint("pat-rate", 3600).await;
    let (status, body) = a.refresh(&first).await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = b.refresh(&token_of(&body)).await;
    assert_eq!(status, 200, "{body}");
    let third = token_of(&body);
    for stub in [&a, &b] {
        let refresh = stub
            .http
            .post(format!("{}/api/video/auth/refresh-token", stub.base))
            .bearer_auth(&third);
        let (status, body, headers) = stub.call(refresh).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (429, Some("rate_limited"))
        );
        assert!(headers.get("retry-after").is_some());
    }
    // Refused, not revoked: the current token still works everywhere.
    assert_eq!(a.whoami(&third).await.0, 200);
    assert_eq!(b.whoami(&third).await.0, 200);
}

#[tokio::test]
async fn nothing_secret_reaches_the_log_at_trace_even_during_an_outage() {
    let redis = RedisServer::start();
    let a = Stub::start(
        &[
            "--dev",
            "--redis",
            &redis.url,
            "--redis-timeout",
            "300ms",
            "--create-session",
            "c6",
        ],
        &[("CONSULT_JWT_SECRET", SECRET), ("RUST_LOG", "trace")],
    );
    let token = a.mint("pat-c6", 3600).await;
    let (_, body) = a.refresh(&token).await;
    let successor = token_of(&body);
    joined(&a, "pat-c6", &successor, "room-c6").await;
    redis.pause();
    assert_eq!(a.get_session("c6", &successor).await.0, 503);
    redis.resume();
    assert_eq!(a.logout(&successor).await, 204);
    let log = a.stderr();
    assert!(
        log.contains("Redis did not answer in time"),
        "the outage is logged: {log}"
    );
    for secret in [SECRET, token.as_str(), successor.as_str()] {
        assert!(!log.contains(secret), "a secret or token reached the log");
    }
    // No token fragment either (a JWT's signature is its third part).
    let signature = successor.rsplit('.').next().unwrap_or_default();
    assert!(
        !log.contains(signature),
        "a token signature reached the log"
    );
}

// ---- Issue 20: fail closed on lost data, and through outages ---------------------------------

/// Waits (at most 5 s) until `stub` mints again: its Redis answers.
async fn until_minting(stub: &Stub) {
    for _ in 0..50 {
        let (status, _) = stub
            .post(
                "/api/dev/token",
                json!({"user_id": "probe", "ttl_secs": 600}),
            )
            .await;
        if status == 200 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{} did not reach Redis again within 5 s", stub.addr);
}

#[tokio::test]
async fn a_redis_that_lost_its_data_refuses_a_logged_out_token_and_an_old_one_instead_of_trusting_them()
 {
    let mut redis = RedisServer::start();
    let a = instance(&redis, &["--create-session", "c7"]);
    let b = instance(&redis, &[]);
    let logged_out = a.mint("pat-out", 3600).await;
    assert_eq!(a.logout(&logged_out).await, 204);
    let first = a.mint("pat-c7", 3600).await;
    let (_, body) = a.refresh(&first).await;
    let second = token_of(&body);
    let (status, body) = b.refresh(&second).await;
    assert_eq!(status, 200, "{body}");
    let current = token_of(&body); // `first` is two rotations old now
    let mut socket = joined(&a, "pat-c7", &current, "room-c7").await;

    redis.restart_empty();
    until_minting(&a).await;
    until_minting(&b).await;

    for stub in [&a, &b] {
        let (status, body) = stub.whoami(&logged_out).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (401, Some("session_revoked")),
            "a logged-out token works again after the loss: {body}"
        );
        let (status, body) = stub.refresh(&first).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (401, Some("session_revoked")),
            "an old token refreshed after the loss: {body}"
        );
        // The current one too: nothing the lost record said can be checked (fail closed).
        let (status, body) = stub.refresh(&current).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (401, Some("session_revoked"))
        );
    }
    let (ended, errors) = socket.ended_within(WAIT).await;
    assert!(ended, "the socket of a sign-in the store lost stayed");
    assert_eq!(errors, vec!["session_revoked".to_owned()]);
    let mut said = false;
    for _ in 0..30 {
        said = [&a, &b]
            .iter()
            .any(|stub| stub.stderr().contains("Redis lost its data"));
        if said {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(said, "nobody said the data was lost: {}", a.stderr());
    // A new sign-in works across the instances.
    let fresh = a.mint("pat-c7", 3600).await;
    let (status, body) = b.refresh(&fresh).await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn a_redis_restarted_from_its_append_only_file_keeps_every_sign_in_and_revocation() {
    let mut redis = RedisServer::start();
    let a = instance(&redis, &[]);
    let logged_out = a.mint("pat-aof-out", 3600).await;
    assert_eq!(a.logout(&logged_out).await, 204);
    let kept = a.mint("pat-aof", 3600).await;
    let (_, body) = a.refresh(&kept).await;
    let current = token_of(&body);
    redis.restart_from_disk();
    until_minting(&a).await;
    assert_eq!(a.whoami(&current).await.0, 200, "a sign-in was lost");
    assert_eq!(
        a.whoami(&logged_out).await.1["error"].as_str(),
        Some("session_revoked")
    );
}

#[tokio::test]
async fn a_redis_that_may_lose_data_is_refused_at_start_unless_explicitly_accepted() {
    let redis = RedisServer::start();
    let args = ["--redis", &redis.url, "--redis-timeout", "300ms"];
    let env = [("CONSULT_JWT_SECRET", SECRET)];
    redis.cli(&["CONFIG", "SET", "appendonly", "no"]);
    let (ok, stderr) = support::start_expecting_failure(&args, &env);
    assert!(
        !ok && stderr.contains("may lose data") && stderr.contains("appendonly no"),
        "{stderr}"
    );
    redis.cli(&["CONFIG", "SET", "appendonly", "yes"]);
    redis.cli(&["CONFIG", "SET", "maxmemory-policy", "allkeys-lru"]);
    let (ok, stderr) = support::start_expecting_failure(&args, &env);
    assert!(!ok && stderr.contains("allkeys-lru"), "{stderr}");
    // Accepted on request, with a warning; a loss would still refuse, never trust.
    let stub = instance(&redis, &["--redis-may-lose-data"]);
    assert!(stub.stderr().contains("may lose data"), "{}", stub.stderr());
    stub.assert_alive().await;
}

#[tokio::test]
async fn while_redis_is_down_an_expired_socket_is_still_disconnected_and_every_socket_after_the_outage_limit()
 {
    let redis = RedisServer::start();
    let a = instance(&redis, &["--outage-disconnect-after", "4s"]);
    let short = a.mint("pat-short", 2).await;
    let long = a.mint("pat-long", 3600).await;
    let mut expiring = Sio::connect(&a.addr, &short)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let mut lasting = Sio::connect(&a.addr, &long)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    redis.pause();
    let (ended, errors) = expiring.ended_within(Duration::from_secs(4)).await;
    assert!(
        ended,
        "a socket whose token expired stayed while Redis was down"
    );
    assert_eq!(errors, vec!["token_expired".to_owned()]);
    assert_eq!(
        lasting.next(Duration::from_millis(200)).await,
        support::Seen::Nothing,
        "a socket with a valid token went before the outage limit"
    );
    let (ended, errors) = lasting.ended_within(Duration::from_secs(5)).await;
    assert!(
        ended,
        "every socket stays through an outage longer than the limit"
    );
    assert_eq!(errors, vec!["store_unavailable".to_owned()]);
    redis.resume();
}

#[tokio::test]
async fn an_acl_user_confined_to_the_consult_keys_and_channels_is_enough() {
    let redis = RedisServer::start();
    let created = redis.cli(&[
        "ACL",
        "SETUSER",
        "consult",
        "on",
        ">acl-user-password-for-the-test",
        "~consult:*",
        "&consult-socket.io*",
        "+@all",
        "-@dangerous",
        "+config|get",
        "+info",
    ]);
    assert!(created.contains("OK"), "ACL SETUSER: {created}");
    let url = format!(
        "redis://consult:acl-user-password-for-the-test@127.0.0.1:{}",
        redis.port
    );
    let a = Stub::start(
        &["--dev", "--redis", &url, "--create-session", "acl-1"],
        &[("CONSULT_JWT_SECRET", SECRET)],
    );
    let token = a.mint("pat-acl", 3600).await;
    let (status, body) = a.refresh(&token).await;
    assert_eq!(status, 200, "{body}");
    let successor = token_of(&body);
    assert_eq!(a.get_session("acl-1", &successor).await.0, 200);
    joined(&a, "pat-acl", &successor, "room-acl-1").await;
    assert_eq!(a.logout(&successor).await, 204);
    assert!(
        !a.stderr().contains("acl-user-password-for-the-test"),
        "the password reached the log"
    );
}
