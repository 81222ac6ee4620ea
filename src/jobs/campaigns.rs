//! The `yearly-campaigns` job (SPEC §10, §15): every minute it starts campaigns whose time has
//! come, sends today's yearly occurrences whose time of day has passed, and finishes fan-outs a
//! crash cut short. Each occurrence is keyed by its year and each recipient is queued once, so a
//! second run, a restart or a second runner sends nothing twice.

use jiff::Timestamp;

use crate::domain::campaign::sending;
use crate::state::AppState;

/// Looked at every minute: campaigns go at their minute.
pub fn next_after(after: Timestamp) -> Timestamp {
    let minute = after.as_second().div_euclid(60) * 60;
    Timestamp::from_second(minute + 60).unwrap_or(after)
}

pub async fn run(state: &AppState) -> anyhow::Result<String> {
    run_at(state, Timestamp::now()).await
}

/// The pass at `now` (tests give a fixed clock).
pub async fn run_at(state: &AppState, now: Timestamp) -> anyhow::Result<String> {
    let ran = sending::run_due(state, now)
        .await
        .map_err(|e| anyhow::anyhow!(e.public_message()))?;
    Ok(ran.to_string())
}

/// At start, one pass at once: a fan-out a crash cut short goes on now, not at the next
/// minute's run.
pub fn resume_at_start(state: AppState) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        if let Err(e) = sending::run_due(&state, Timestamp::now()).await {
            tracing::warn!(error = %e.public_message(), "campaigns could not be resumed at start; the scheduler tries again");
        }
    })
}
