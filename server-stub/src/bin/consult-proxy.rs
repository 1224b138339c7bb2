//! `consult-proxy`: several consult-stub instances behind one address, for the cluster demo
//! (`scripts/demo.sh --cluster`) and the cluster benchmark. See [`consult_stub::proxy`].

use std::io::Write;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::Parser;
use consult_stub::logging;
use consult_stub::proxy::Balancer;

/// Round-robin TCP proxy in front of consult-stub instances (HTTP and WebSocket alike).
#[derive(Debug, Parser)]
#[command(name = "consult-proxy", version, about)]
struct Args {
    /// Address to listen on (loopback by default).
    #[arg(long, default_value = "127.0.0.1:8086")]
    listen: SocketAddr,
    /// An instance, e.g. 127.0.0.1:8087; repeatable, tried in turn.
    #[arg(long = "backend", required = true)]
    backends: Vec<SocketAddr>,
    /// Most client connections served at once; more wait in the kernel's backlog.
    #[arg(long, default_value_t = 4096)]
    max_connections: usize,
    /// Longest wait for an instance to accept a connection before trying the next one.
    #[arg(long, default_value = "1s", value_parser = humantime::parse_duration)]
    connect_timeout: Duration,
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    logging::init();
    let listener = match tokio::net::TcpListener::bind(args.listen).await {
        Ok(listener) => listener,
        Err(e) => {
            eprintln!("consult-proxy: cannot listen on {}: {e}", args.listen);
            return ExitCode::FAILURE;
        }
    };
    let bound = listener.local_addr().unwrap_or(args.listen);
    println!("consult-proxy listening on http://{bound}");
    let _ = std::io::stdout().flush();
    let balancer = Arc::new(Balancer::new(
        args.backends,
        args.max_connections,
        args.connect_timeout,
    ));
    balancer
        .serve(listener, async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await;
    ExitCode::SUCCESS
}
