//! consult-stub on a sharded Redis Cluster (`--redis-cluster`): three masters with a replica
//! each, started by the test; two real instances on it. Every rule holds with the sign-ins
//! spread over the shards, and a master failover signs nobody out and revives no revoked token.

#[path = "hostile/support.rs"]
mod support;

#[path = "common/redis_cluster.rs"]
mod redis_cluster;

use std::collections::HashSet;
use std::time::Duration;

use redis_cluster::RedisCluster;
use serde_json::{Value, json};
use support::{Sio, Stub, payload_sid};

const SECRET: &str = "cluster-shard-test-secret-shared-by-every-instance-0123";
const WAIT: Duration = Duration::from_secs(5);

fn instance(cluster: &RedisCluster, extra: &[&str]) -> Stub {
    let urls = cluster.urls();
    let mut args = vec![
        "--dev",
        "--redis-cluster",
        "--redis",
        &urls,
        "--redis-timeout",
        "1s",
    ];
    args.extend_from_slice(extra);
    Stub::start(&args, &[("CONSULT_JWT_SECRET", SECRET)])
}

fn token_of(body: &Value) -> String {
    body["access_token"].as_str().unwrap_or_default().to_owned()
}

/// What the test holds about one sign-in.
struct SignIn {
    first: String,
    current: String,
    logged_out: bool,
}

/// Twelve sign-ins made through `a` and `b` in turn: each refreshed once (through the other
/// instance), every other one then logged out. Their sids spread over the shards.
async fn sign_ins(a: &Stub, b: &Stub, cluster: &RedisCluster) -> Vec<SignIn> {
    let mut made = Vec::new();
    let mut slots = HashSet::new();
    for i in 0..12 {
        let (minter, other) = if i % 2 == 0 { (a, b) } else { (b, a) };
        let first = minter.mint(&format!("pat-shard-{i}"), 3600).await;
        slots.insert(cluster.slot_of(&format!("{{{}}}", payload_sid(&first))));
        let (status, body) = other.refresh(&first).await;
        assert_eq!(status, 200, "{body}");
        let current = token_of(&body);
        // A repeat at the first instance: the same successor, whatever node holds the chain.
        let (status, again) = minter.refresh(&first).await;
        assert_eq!(
            (status, token_of(&again)),
            (200, current.clone()),
            "{again}"
        );
        let logged_out = i % 3 == 0;
        if logged_out {
            assert_eq!(other.logout(&current).await, 204);
        }
        made.push(SignIn {
            first,
            current,
            logged_out,
        });
    }
    assert!(
        slots.len() > 6,
        "the sign-ins did not spread over slots: {slots:?}"
    );
    made
}

/// Every sign-in answers as it should at both instances: live ones work, logged-out ones stay
/// refused.
async fn assert_sign_ins(stubs: [&Stub; 2], made: &[SignIn], when: &str) {
    for stub in stubs {
        for (i, sign_in) in made.iter().enumerate() {
            let (status, body) = stub.whoami(&sign_in.current).await;
            if sign_in.logged_out {
                assert_eq!(
                    (status, body["error"].as_str()),
                    (401, Some("session_revoked")),
                    "{when}: logged-out sign-in {i} works again: {body}"
                );
            } else {
                assert_eq!(status, 200, "{when}: sign-in {i} was signed out: {body}");
            }
        }
    }
}

#[tokio::test]
async fn every_rule_holds_on_a_sharded_cluster_and_a_master_failover_signs_nobody_out_nor_revives_a_revoked_token()
 {
    let cluster = RedisCluster::start();
    let a = instance(
        &cluster,
        &["--create-session", "shard-1", "--reuse-window", "2s"],
    );
    let b = instance(
        &cluster,
        &["--create-session", "shard-1", "--reuse-window", "2s"],
    );
    let made = sign_ins(&a, &b, &cluster).await;
    assert_sign_ins([&a, &b], &made, "before the failover").await;

    // Sessions (one slot) and rooms across the instances.
    let live = made
        .iter()
        .find(|s| !s.logged_out)
        .unwrap_or_else(|| panic!("no live sign-in"));
    assert_eq!(b.get_session("shard-1", &live.current).await.0, 200);
    let mut socket = Sio::connect(&a.addr, &live.current)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    socket
        .emit(
            "join_room",
            json!({"room_id": "room-shard-1", "user_id": "pat-shard-1", "role": "PATIENT", "token": live.current}),
        )
        .await;
    socket.expect_event("joined_room", WAIT).await;

    // Every master fails over to its replica, one after the other.
    for master in cluster.masters() {
        cluster.fail_over(master);
    }
    assert_sign_ins([&a, &b], &made, "after the failover").await;
    // The chains survived too: a live sign-in refreshes, and (past the reuse window) its first
    // token is reuse.
    let (status, body) = b.refresh(&live.current).await;
    assert_eq!(status, 200, "{body}");
    tokio::time::sleep(Duration::from_millis(2200)).await;
    let (status, body) = a.refresh(&live.first).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("token_reused")),
        "{body}"
    );
}
