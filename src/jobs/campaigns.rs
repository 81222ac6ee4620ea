//! The campaigns pump and the `yearly-campaigns` job (SPEC §10, §15). The pump fans out a
//! campaign as soon as it is scheduled to start now (the bell `AppState::campaigns`), and at
//! start finishes fan-outs a crash cut short; every minute the job starts campaigns whose time
//! has come and sends today's yearly occurrences whose time of day has passed. Each occurrence
//! is keyed by its year and each recipient is queued once, so a second run, a restart or a
//! second runner sends nothing twice.

use jiff::Timestamp;

use crate::domain::campaign::sending;
use crate::domain::workspace::System;
use crate::state::AppState;

/// Looked at every minute: campaigns go at their minute.
pub fn next_after(after: Timestamp) -> Timestamp {
    let minute = after.as_second().div_euclid(60) * 60;
    Timestamp::from_second(minute + 60).unwrap_or(after)
}

pub async fn run(state: &AppState) -> anyhow::Result<String> {
    run_at(state, state.clock.now()).await
}

/// The pass at `now` (tests give a fixed clock).
pub async fn run_at(state: &AppState, now: Timestamp) -> anyhow::Result<String> {
    let ran = sending::run_due(state, &System::acting(), now)
        .await
        .map_err(|e| anyhow::anyhow!(e.public_message()))?;
    Ok(ran.to_string())
}

/// The server's pump: one pass at start (a fan-out a crash cut short goes on now, not at the
/// next minute's run), then one each time a campaign is started.
pub fn spawn(state: AppState) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let system = System::acting();
        loop {
            if let Err(e) = sending::run_due(&state, &system, state.clock.now()).await {
                tracing::warn!(error = %e.public_message(), "campaigns could not be queued yet; the scheduler tries again");
            }
            state.campaigns.notified().await;
        }
    })
}
