//! The accept loop: hyper's HTTP/1 connection builder with a timer, so a client that never
//! finishes its request head is dropped after the header-read timeout, a cap on the TCP
//! connections served at once (WebSockets included: the permit lives as long as the socket),
//! and a cap per client address, beyond which a connection is answered `429 rate_limited`
//! and closed (one client cannot take every slot). Each request carries its client's address
//! ([`ClientAddr`]) for the caps further in.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::limits::Limits;
use crate::preauth::ClientAddr;

/// Connections held per client address.
#[derive(Debug)]
struct PerClient {
    max: usize,
    held: std::sync::Mutex<std::collections::HashMap<std::net::IpAddr, usize>>,
}

/// One connection's place in its client's count; given back when dropped.
struct ClientPlace {
    clients: Arc<PerClient>,
    client: std::net::IpAddr,
}

impl PerClient {
    fn take(self: &Arc<Self>, client: std::net::IpAddr) -> Option<ClientPlace> {
        let mut held = self.held.lock().unwrap_or_else(|p| p.into_inner());
        let count = held.entry(client).or_insert(0);
        if *count >= self.max {
            return None;
        }
        *count += 1;
        Some(ClientPlace {
            clients: self.clone(),
            client,
        })
    }
}

impl Drop for ClientPlace {
    fn drop(&mut self) {
        let mut held = self.clients.held.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(count) = held.get_mut(&self.client) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                held.remove(&self.client);
            }
        }
    }
}

/// What a connection beyond its client's cap gets before it is closed.
const TOO_MANY_FROM_CLIENT: &[u8] = b"HTTP/1.1 429 Too Many Requests\r\ncontent-type: application/json\r\nretry-after: 5\r\nconnection: close\r\ncontent-length: 92\r\n\r\n{\"error\":\"rate_limited\",\"message\":\"too many connections from this address; retry after 5 s\"}";

/// Largest request head hyper buffers (request line and headers).
pub const MAX_HEAD_BYTES: usize = 16 * 1024;

/// A TCP stream that holds one connection permit until it is dropped.
struct Counted {
    stream: TcpStream,
    _permit: OwnedSemaphorePermit,
    _place: ClientPlace,
}

impl AsyncRead for Counted {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for Counted {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }
}

/// The next connection of `listener`. A failed accept (out of file descriptors and the like)
/// is logged and retried after 50 ms instead of spinning.
pub async fn accept(listener: &TcpListener) -> TcpStream {
    loop {
        match listener.accept().await {
            Ok((stream, _)) => return stream,
            Err(e) => {
                tracing::warn!(error = %e, "accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
}

/// Serves `router` on `listener` until `shutdown` completes. At most `limits.max_connections`
/// connections are served at once; the next ones wait in the listen backlog.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: Limits,
    shutdown: impl Future<Output = ()>,
) {
    let permits = Arc::new(Semaphore::new(limits.max_connections));
    let clients = Arc::new(PerClient {
        max: limits.max_connections_per_client,
        held: std::sync::Mutex::default(),
    });
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            permit = permits.clone().acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => return,
            },
            () = &mut shutdown => return,
        };
        let stream = tokio::select! {
            stream = accept(&listener) => stream,
            () = &mut shutdown => return,
        };
        let _ = stream.set_nodelay(true);
        let client = match stream.peer_addr() {
            Ok(peer) => peer.ip(),
            Err(_) => continue,
        };
        let Some(place) = clients.take(client) else {
            drop(permit);
            tokio::spawn(refuse(stream));
            continue;
        };
        let io = TokioIo::new(Counted {
            stream,
            _permit: permit,
            _place: place,
        });
        let keep_alive = limits.keep_alive;
        let service = TowerToHyperService::new(tower::ServiceExt::map_response(
            tower::ServiceExt::map_request(
                router.clone(),
                move |mut request: hyper::Request<hyper::body::Incoming>| {
                    request.extensions_mut().insert(ClientAddr(client));
                    request
                },
            ),
            move |response| close_unless_kept_alive(response, keep_alive),
        ));
        let header_read_timeout = limits.header_read_timeout;
        tokio::spawn(async move {
            let connection = http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(header_read_timeout)
                .max_buf_size(MAX_HEAD_BYTES)
                .serve_connection(io, service)
                .with_upgrades();
            if let Err(e) = connection.await {
                tracing::debug!(error = %e, "connection ended with an error");
            }
        });
    }
}

/// `response`, saying `Connection: close` (hyper then closes the connection after it) unless
/// `keep_alive`, or the response names its own `Connection` (a WebSocket upgrade).
fn close_unless_kept_alive(
    mut response: axum::response::Response,
    keep_alive: bool,
) -> axum::response::Response {
    if !keep_alive {
        response
            .headers_mut()
            .entry(hyper::header::CONNECTION)
            .or_insert(hyper::header::HeaderValue::from_static("close"));
    }
    response
}

/// Answers a connection beyond its client's cap (bounded: one write, 1 s at most) and closes it.
async fn refuse(mut stream: TcpStream) {
    use tokio::io::AsyncWriteExt;
    let _ = tokio::time::timeout(Duration::from_secs(1), async {
        let _ = stream.write_all(TOO_MANY_FROM_CLIENT).await;
        let _ = stream.shutdown().await;
    })
    .await;
}
