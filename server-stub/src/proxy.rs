//! A small TCP load balancer for the cluster demo (`consult-proxy`): each connection goes to
//! the next instance in turn that accepts it, bytes copied both ways (HTTP and WebSocket
//! alike), as `haproxy` in `mode tcp` would. An instance that is down is skipped; its open
//! connections end with it, and the clients' reconnects land on the others.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;

/// Where connections go, and the bounds on them.
#[derive(Debug)]
pub struct Balancer {
    backends: Vec<SocketAddr>,
    next: AtomicUsize,
    connect_timeout: Duration,
    permits: Arc<Semaphore>,
}

impl Balancer {
    /// Round-robin over `backends`; at most `max_connections` at once, each backend connect
    /// bounded by `connect_timeout`.
    pub fn new(
        backends: Vec<SocketAddr>,
        max_connections: usize,
        connect_timeout: Duration,
    ) -> Self {
        Balancer {
            backends,
            next: AtomicUsize::new(0),
            connect_timeout,
            permits: Arc::new(Semaphore::new(max_connections.max(1))),
        }
    }

    /// A connection to the first backend, in turn from the next one, that accepts within the
    /// timeout; `None` when none does.
    async fn connect(&self) -> Option<(SocketAddr, TcpStream)> {
        let count = self.backends.len();
        let start = self.next.fetch_add(1, Ordering::Relaxed);
        for offset in 0..count {
            let Some(&backend) = self.backends.get((start + offset) % count.max(1)) else {
                continue;
            };
            match tokio::time::timeout(self.connect_timeout, TcpStream::connect(backend)).await {
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
            let mut client = tokio::select! {
                stream = crate::serve::accept(&listener) => stream,
                () = &mut shutdown => return,
            };
            let balancer = self.clone();
            tokio::spawn(async move {
                let _permit = permit;
                let Some((backend, mut upstream)) = balancer.connect().await else {
                    tracing::warn!("no instance accepts connections");
                    return;
                };
                let _ = client.set_nodelay(true);
                let _ = upstream.set_nodelay(true);
                if let Err(e) = tokio::io::copy_bidirectional(&mut client, &mut upstream).await {
                    tracing::debug!(%backend, error = %e, "proxied connection ended");
                }
            });
        }
    }
}
