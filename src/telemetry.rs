//! Structured logs to stderr. Nothing that logs may carry a password, key, token or cookie:
//! handlers log ids and outcomes only, and `TraceLayer` logs method, path and status.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

/// Logs at `filter` (`tracing` syntax: the config's `log`, `PI_CRM_LOG`).
pub fn init(filter: &str) {
    let filter = EnvFilter::new(filter);
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        // Colour codes only for a person at a terminal, not in journald or a log file.
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(false)
        .try_init();
}

/// An error as every log line writes it: its message and its causes (`{:#}`), never its
/// `Debug`. For anyhow, `Debug` prints a backtrace when `RUST_BACKTRACE` is set, and
/// symbolizing one keeps the debug info it parsed in memory for the life of the process (idle
/// RSS 58 MB instead of 25 after an import's revert whose busy lock made loops warn,
/// `docs/benchmarks.md`). Log with `error = %telemetry::chain(&e)`.
pub fn chain<E: std::fmt::Display + ?Sized>(error: &E) -> Chain<'_, E> {
    Chain(error)
}

/// What `chain` returns.
pub struct Chain<'a, E: ?Sized>(&'a E);

impl<E: std::fmt::Display + ?Sized> std::fmt::Display for Chain<'_, E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:#}", self.0)
    }
}
