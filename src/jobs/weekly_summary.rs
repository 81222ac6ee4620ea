//! The `weekly-summary` job (SPEC §9.2, §15): hourly, since people live in different zones,
//! it queues the summaries that fell due (`domain::weekly::queue_due`); the outbox sends them.

use jiff::Timestamp;

use crate::domain::weekly;
use crate::state::AppState;

/// Checked hourly: people live in different zones.
pub fn next_after(after: Timestamp) -> Timestamp {
    let hour = after.as_second().div_euclid(3600) * 3600;
    Timestamp::from_second(hour + 3600).unwrap_or(after)
}

pub async fn run(state: &AppState) -> anyhow::Result<String> {
    run_at(state, state.clock.now()).await
}

/// Queues the summaries due at `now`.
pub async fn run_at(state: &AppState, now: Timestamp) -> anyhow::Result<String> {
    let queued = weekly::queue_due(state, now)
        .await
        .map_err(|e| anyhow::anyhow!(e.public_message()))?;
    Ok(format!(
        "{} weekly summaries queued to be emailed, {} on the dashboard only",
        queued.emailed, queued.dashboard_only
    ))
}
