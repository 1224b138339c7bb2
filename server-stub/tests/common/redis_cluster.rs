//! A real sharded Redis Cluster for the cluster tests: three masters and a replica of each
//! (`redis-server --cluster-enabled yes` ×6, `redis-cli --cluster create … --cluster-replicas 1`),
//! loopback only, free ports, an append-only file each in its own temporary folder; every node
//! killed (and the folders removed) when dropped.
#![allow(dead_code)] // each test file uses a different part of the harness

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running three-master cluster with one replica per master.
pub struct RedisCluster {
    nodes: Vec<(u16, Child)>,
    dir: PathBuf,
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or_else(|e| panic!("no free loopback port: {e}"))
}

/// `redis-cli -p port args…`, its stdout.
pub fn cli(port: u16, args: &[&str]) -> String {
    let output = Command::new("redis-cli")
        .args(["-h", "127.0.0.1", "-p", &port.to_string()])
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("redis-cli: {e}"));
    String::from_utf8_lossy(&output.stdout).into_owned()
}

impl RedisCluster {
    /// Starts six nodes, makes them one cluster, and waits (at most 30 s) until every node
    /// says `cluster_state:ok`.
    pub fn start() -> RedisCluster {
        let dir = std::env::temp_dir().join(format!(
            "consult-redis-cluster-{}-{:x}",
            std::process::id(),
            rand::random::<u32>()
        ));
        let mut nodes = Vec::new();
        for _ in 0..6 {
            let port = free_port();
            let node_dir = dir.join(port.to_string());
            std::fs::create_dir_all(&node_dir).unwrap_or_else(|e| panic!("redis dir: {e}"));
            let child = Command::new("redis-server")
                .args(["--bind", "127.0.0.1", "--port", &port.to_string()])
                .args(["--cluster-enabled", "yes", "--cluster-node-timeout", "2000"])
                .args(["--cluster-config-file", "nodes.conf"])
                .args(["--save", "", "--appendonly", "yes"])
                .args(["--maxmemory-policy", "noeviction"])
                .arg("--dir")
                .arg(&node_dir)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap_or_else(|e| {
                    panic!("cannot start redis-server ({e}): run scripts/setup.sh")
                });
            nodes.push((port, child));
        }
        let cluster = RedisCluster { nodes, dir };
        for &(port, _) in &cluster.nodes {
            cluster.wait_for(port, "PONG", &["PING"]);
        }
        let addresses: Vec<String> = cluster
            .nodes
            .iter()
            .map(|(port, _)| format!("127.0.0.1:{port}"))
            .collect();
        let created = Command::new("redis-cli")
            .arg("--cluster")
            .arg("create")
            .args(&addresses)
            .args(["--cluster-replicas", "1", "--cluster-yes"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .unwrap_or_else(|e| panic!("redis-cli --cluster create: {e}"));
        assert!(created.success(), "redis-cli --cluster create failed");
        for &(port, _) in &cluster.nodes {
            cluster.wait_for(port, "cluster_state:ok", &["CLUSTER", "INFO"]);
        }
        cluster
    }

    fn wait_for(&self, port: u16, expected: &str, args: &[&str]) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if cli(port, args).contains(expected) {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("redis node {port}: no {expected:?} to {args:?} within 30 s");
    }

    /// `redis://127.0.0.1:<port>` of every node, comma-separated (consult-stub's `--redis`).
    pub fn urls(&self) -> String {
        self.nodes
            .iter()
            .map(|(port, _)| format!("redis://127.0.0.1:{port}"))
            .collect::<Vec<_>>()
            .join(",")
    }

    /// The ports of the nodes that are masters now.
    pub fn masters(&self) -> Vec<u16> {
        self.nodes
            .iter()
            .map(|(port, _)| *port)
            .filter(|port| cli(*port, &["ROLE"]).starts_with("master"))
            .collect()
    }

    /// The port of a replica of master `port`.
    pub fn replica_of(&self, master: u16) -> u16 {
        self.nodes
            .iter()
            .map(|(port, _)| *port)
            .find(|port| {
                let role = cli(*port, &["ROLE"]);
                role.starts_with("slave") && role.lines().any(|l| l.trim() == master.to_string())
            })
            .unwrap_or_else(|| panic!("master {master} has no replica"))
    }

    /// A manual failover of master `port` (`CLUSTER FAILOVER` on its replica: the replica
    /// catches up, then takes over); waits (at most 30 s) until the replica is master and the
    /// cluster is ok again. Returns the new master's port. Redis abandons a manual failover
    /// that does not complete within 5 s (a loaded machine), so the command is given again
    /// every 6 s until the replica has taken over.
    pub fn fail_over(&self, master: u16) -> u16 {
        let replica = self.replica_of(master);
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            let answer = cli(replica, &["CLUSTER", "FAILOVER"]);
            assert!(answer.contains("OK"), "CLUSTER FAILOVER: {answer}");
            let attempt_ends = Instant::now() + Duration::from_secs(6);
            while Instant::now() < attempt_ends.min(deadline) {
                if cli(replica, &["ROLE"]).starts_with("master") {
                    for &(port, _) in &self.nodes {
                        self.wait_for(port, "cluster_state:ok", &["CLUSTER", "INFO"]);
                    }
                    return replica;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        }
        panic!("replica {replica} of {master} did not take over within 30 s");
    }

    /// The slot of `key` (`CLUSTER KEYSLOT`).
    pub fn slot_of(&self, key: &str) -> u16 {
        let port = self.nodes.first().map(|(port, _)| *port).unwrap_or(0);
        cli(port, &["CLUSTER", "KEYSLOT", key])
            .trim()
            .parse()
            .unwrap_or_else(|e| panic!("CLUSTER KEYSLOT {key}: {e}"))
    }
}

impl Drop for RedisCluster {
    fn drop(&mut self) {
        for (_, child) in &mut self.nodes {
            let _ = child.kill();
            let _ = child.wait();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
