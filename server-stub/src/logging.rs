//! Logging: `RUST_LOG` as usual for this crate, but other crates (socketioxide, engineioxide,
//! hyper, tower-http) never below `info` — at `debug` they print packets, and packets carry
//! tokens. Nothing this crate logs contains a token at any level.

use tracing::Level;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::filter::filter_fn;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{Layer, fmt};

/// Whether an event from `target` at `level` may be written: this crate's at any level, the
/// rest at `info` and above.
///
/// ```
/// use consult_stub::logging::allowed;
/// use tracing::Level;
/// assert!(allowed("consult_stub::auth", &Level::TRACE));
/// assert!(!allowed("socketioxide::socket", &Level::DEBUG));
/// assert!(allowed("socketioxide::socket", &Level::WARN));
/// ```
pub fn allowed(target: &str, level: &Level) -> bool {
    target.starts_with("consult_stub") || *level <= Level::INFO
}

/// Installs the subscriber (stderr, `RUST_LOG` or `info`, foreign crates capped at `info`).
pub fn init() {
    let env = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let layer = fmt::layer()
        .with_writer(std::io::stderr)
        .with_filter(env)
        .with_filter(filter_fn(|meta| allowed(meta.target(), meta.level())));
    let _ = tracing_subscriber::registry().with(layer).try_init();
}
