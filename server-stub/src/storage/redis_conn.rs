//! One connection type over a single Redis or a sharded Redis Cluster, so the storage's calls
//! and scripts are written once. A single Redis: redis' `ConnectionManager` (reconnects with
//! backoff). A cluster (`--redis-cluster`): its `cluster_async::ClusterConnection`, which routes
//! each command by its key's slot and follows `MOVED`/`ASK` and failovers. Every key one script
//! touches shares a hash tag, so each script runs on one node.

use std::time::Duration;

use redis::aio::{ConnectionLike, ConnectionManager};
use redis::cluster::ClusterClient;
use redis::cluster_async::ClusterConnection;
use redis::{Cmd, Pipeline, ProtocolVersion, RedisFuture, Value};

use super::redis::ConnectError;
use super::redis_tls::{RedisTls, describe, install_crypto_provider, is_tls};

/// A connection to a single Redis or to a Redis Cluster.
#[derive(Clone)]
pub enum RedisConn {
    /// One server.
    Single(ConnectionManager),
    /// A sharded cluster.
    Cluster(ClusterConnection),
}

impl ConnectionLike for RedisConn {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        match self {
            RedisConn::Single(conn) => conn.req_packed_command(cmd),
            RedisConn::Cluster(conn) => conn.req_packed_command(cmd),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        match self {
            RedisConn::Single(conn) => conn.req_packed_commands(pipeline, offset, count),
            RedisConn::Cluster(conn) => conn.req_packed_commands(pipeline, offset, count),
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            RedisConn::Single(conn) => conn.get_db(),
            RedisConn::Cluster(conn) => conn.get_db(),
        }
    }
}

/// Connects to the cluster that `nodes` (`redis://host:port` each, one is enough) belong to,
/// every connect and answer bounded by `timeout`, RESP3.
pub async fn connect_cluster(
    nodes: &[String],
    tls: &RedisTls,
    timeout: Duration,
) -> Result<RedisConn, ConnectError> {
    install_crypto_provider();
    if nodes.iter().any(|node| node.contains('#')) {
        return Err(ConnectError::InsecureTls);
    }
    let mut builder = ClusterClient::builder(nodes.iter().map(String::as_str));
    if let Some(certs) = tls.certificates() {
        if !nodes.iter().all(|node| is_tls(node)) {
            return Err(ConnectError::CaWithoutTls);
        }
        builder = builder.certs(certs);
    }
    let client = builder
        .use_protocol(ProtocolVersion::RESP3)
        .connection_timeout(timeout)
        .response_timeout(timeout)
        .retries(2)
        .min_retry_wait(50)
        .max_retry_wait(500)
        .build()
        .map_err(|e| ConnectError::BadUrl(describe(&e)))?;
    match tokio::time::timeout(timeout.saturating_mul(3), client.get_async_connection()).await {
        Ok(Ok(conn)) => Ok(RedisConn::Cluster(conn)),
        Ok(Err(e)) => Err(ConnectError::Unreachable(timeout, describe(&e))),
        Err(_) => Err(ConnectError::Unreachable(timeout, "timed out".to_owned())),
    }
}
