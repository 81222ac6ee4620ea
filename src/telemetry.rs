//! Structured logs to stderr. Nothing that logs may carry a password, key, token or cookie:
//! handlers log ids and outcomes only, and `TraceLayer` logs method, path and status.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

pub fn init(default_filter: &str) {
    let filter = EnvFilter::try_from_env("PI_CRM_LOG_FILTER").unwrap_or_else(|_| EnvFilter::new(default_filter));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        // Colour codes only for a person at a terminal, not in journald or a log file.
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(false)
        .try_init();
}
