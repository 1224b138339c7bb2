//! `consult-proxy`: several consult-stub instances behind one address, for tests, the cluster
//! demo (`scripts/demo.sh --cluster`) and the cluster benchmark; not a production balancer. See
//! [`consult_stub::proxy`].

use std::io::Write;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::Parser;
use consult_stub::logging;
use consult_stub::proxy::{Balancer, ProxyLimits};

/// Round-robin TCP proxy in front of consult-stub instances (HTTP and WebSocket alike), for
/// tests and demos. In production use any TCP or HTTP balancer: the instances need no
/// stickiness.
#[derive(Debug, Parser)]
#[command(name = "consult-proxy", version, about)]
struct Args {
    /// Address to listen on (loopback by default; another needs --listen-on-public-address).
    #[arg(long, default_value = "127.0.0.1:8086")]
    listen: SocketAddr,
    /// Allow a non-loopback --listen: whoever reaches it reaches the instances as if from
    /// loopback (their --dev endpoints included).
    #[arg(long)]
    listen_on_public_address: bool,
    /// An instance, e.g. 127.0.0.1:8087; repeatable, tried in turn.
    #[arg(long = "backend", required = true)]
    backends: Vec<SocketAddr>,
    /// Most client connections served at once; more wait in the kernel's backlog.
    #[arg(long, default_value_t = ProxyLimits::DEFAULT.max_connections)]
    max_connections: usize,
    /// Longest wait for an instance to accept a connection before trying the next one.
    #[arg(long, default_value = "1s", value_parser = humantime::parse_duration)]
    connect_timeout: Duration,
    /// Longest wait for a new client's first bytes (no instance is contacted before them).
    #[arg(long, default_value = "5s", value_parser = humantime::parse_duration)]
    first_byte_timeout: Duration,
    /// A connection without traffic either way for this long is closed.
    #[arg(long, default_value = "60s", value_parser = humantime::parse_duration)]
    idle_timeout: Duration,
    /// Once one side has finished sending, the other has this long to finish.
    #[arg(long, default_value = "5s", value_parser = humantime::parse_duration)]
    half_close_timeout: Duration,
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    logging::init();
    if !args.listen.ip().is_loopback() && !args.listen_on_public_address {
        eprintln!(
            "consult-proxy: --listen {} is not a loopback address: whoever reaches it reaches the \
             instances as if from loopback (their --dev endpoints included). consult-proxy is a \
             test and demo balancer; add --listen-on-public-address if that is really meant",
            args.listen
        );
        return ExitCode::FAILURE;
    }
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
        ProxyLimits {
            max_connections: args.max_connections,
            connect_timeout: args.connect_timeout,
            first_byte_timeout: args.first_byte_timeout,
            idle_timeout: args.idle_timeout,
            half_close_timeout: args.half_close_timeout,
        },
    ));
    balancer
        .serve(listener, async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await;
    ExitCode::SUCCESS
}
