//! The `consult-stub` binary: parses flags, binds, prints the address, serves until Ctrl-C/SIGTERM.

use std::io::Write;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::Parser;
use consult_stub::clock::SystemClock;
use consult_stub::config::Cli;
use consult_stub::{connect_app, logging};

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    logging::init();

    let address = SocketAddr::new(cli.bind, cli.port);
    let settings = match cli.into_settings() {
        Ok(settings) => settings,
        Err(e) => {
            eprintln!("consult-stub: {e}");
            return ExitCode::FAILURE;
        }
    };
    let limits = settings.limits;
    let (router, state) = match connect_app(settings, Arc::new(SystemClock)).await {
        Ok(app) => app,
        Err(e) => {
            eprintln!("consult-stub: {e}");
            return ExitCode::FAILURE;
        }
    };
    let listener = match tokio::net::TcpListener::bind(address).await {
        Ok(listener) => listener,
        Err(e) => {
            eprintln!("consult-stub: cannot listen on {address}: {e}");
            return ExitCode::FAILURE;
        }
    };
    let bound = listener.local_addr().unwrap_or(address);
    if state.settings.dev_endpoints && !bound.ip().is_loopback() {
        tracing::warn!(%bound, "dev endpoints are on at a non-loopback address: anyone who reaches it can mint tokens");
    }
    println!("consult-stub listening on http://{bound}");
    let _ = std::io::stdout().flush();

    let summary_state = state.clone();
    tokio::spawn(async move {
        summary_state
            .stats
            .log_rejection_summaries(Duration::from_secs(60))
            .await
    });

    consult_stub::serve::serve(listener, router, limits, shutdown_signal()).await;
    ExitCode::SUCCESS
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}
