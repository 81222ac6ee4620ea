//! The server's one scheduler: every job whose time has come is claimed through the database
//! (so `pi-crm jobs run` beside it never doubles a run) and run; its next time is worked out
//! from *now*, so runs missed while the Pi was off happen once, not once per missed day.

use std::time::Duration;

use jiff::Timestamp;

use super::Job;
use crate::schedule::stored_text;
use crate::state::AppState;
use crate::storage;

/// Looks for due work at least this often (and at once when a job falls due sooner).
const LOOK_EVERY: Duration = Duration::from_secs(60);

pub fn spawn(state: AppState) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        // Each job's row, once: the loop below then only reads unless something is due.
        let started = state.clock.now();
        for job in Job::ALL {
            if let Err(e) = ensure_row(&state, job, started).await {
                tracing::warn!(job = job.name(), error = %crate::telemetry::chain(&e), "the scheduler could not register a job");
            }
        }
        loop {
            let now = state.clock.now();
            if let Err(e) = run_due(&state, now).await {
                tracing::warn!(error = %crate::telemetry::chain(&e), "the scheduler could not look at its jobs; it tries again shortly");
            }
            let wait = until_next(&state, now).await.unwrap_or(LOOK_EVERY).min(LOOK_EVERY);
            tokio::time::sleep(wait).await;
        }
    })
}

async fn until_next(state: &AppState, now: Timestamp) -> Option<Duration> {
    let rows = storage::jobs::all(&state.db).await.ok()?;
    let next = rows.iter().filter_map(|r| crate::clock::parse(&r.next_run_at)).min()?;
    Some(Duration::try_from(next.duration_since(now)).unwrap_or(Duration::ZERO) + Duration::from_secs(1))
}

/// Every job's row: its last and next run and last error (`pi-crm jobs list`).
pub async fn listing(state: &AppState) -> anyhow::Result<Vec<storage::jobs::JobRow>> {
    Ok(storage::jobs::all(&state.db).await?)
}

/// Runs the jobs due at `now` (a job without its row yet is not due); returns the names of
/// those run, whether they succeeded or not.
pub async fn run_due(state: &AppState, now: Timestamp) -> anyhow::Result<Vec<&'static str>> {
    let mut ran = Vec::new();
    for job in Job::ALL {
        if claim(state, job, now, true).await? {
            // A failed run is recorded (and logged) by `run_claimed`; the others still run.
            let _ = run_claimed(state, job, now).await;
            ran.push(job.name());
        }
    }
    Ok(ran)
}

/// What a run by hand came to.
pub enum ByHand {
    /// Someone (the server's scheduler, another hand) is running it now.
    Busy,
    /// It ran: its line for the person, or why it failed (also recorded for the dashboard).
    Ran(anyhow::Result<String>),
}

/// Runs `job` now (`pi-crm jobs run`, "Back up now"), through the same claim as the
/// scheduler, so a run is never done twice at once; its schedule is kept.
pub async fn run_by_hand(state: &AppState, job: Job) -> anyhow::Result<ByHand> {
    let now = state.clock.now();
    ensure_row(state, job, now).await?;
    if !claim(state, job, now, false).await? {
        return Ok(ByHand::Busy);
    }
    Ok(ByHand::Ran(run_claimed(state, job, now).await))
}

/// Gives `job` its row (with its first run time) if it has none yet.
pub async fn ensure_row(state: &AppState, job: Job, now: Timestamp) -> anyhow::Result<()> {
    let first = job.next_after(now, &state.config)?;
    Ok(storage::jobs::ensure(&state.db, job.name(), &stored_text(first)).await?)
}

/// Claims a run of `job` at `now`: only when due (`due`), or whenever nobody runs it.
async fn claim(state: &AppState, job: Job, now: Timestamp, due: bool) -> anyhow::Result<bool> {
    let until = now.checked_add(job.lease()).unwrap_or(now);
    let now_text = stored_text(now);
    Ok(storage::jobs::claim(
        &state.db,
        job.name(),
        &now_text,
        &stored_text(until),
        due.then_some(now_text.as_str()),
    )
    .await?)
}

/// Runs a claimed job and records the outcome: a failure is logged, kept in `last_error` for
/// the dashboard, and tried again after the job's retry delay. A run by hand keeps the
/// schedule's next time unless it failed.
async fn run_claimed(state: &AppState, job: Job, now: Timestamp) -> anyhow::Result<String> {
    let outcome = job.run(state).await;
    let finished = state.clock.now().max(now);
    let scheduled = storage::jobs::find(&state.db, job.name())
        .await?
        .and_then(|r| crate::clock::parse(&r.next_run_at));
    let (error, next) = match &outcome {
        Ok(_) => {
            let next = match scheduled {
                Some(at) if at > now => at,
                _ => job.next_after(finished, &state.config)?,
            };
            (None, next)
        }
        Err(e) => {
            tracing::error!(job = job.name(), error = %e, "a scheduled job failed; it will be tried again");
            (
                Some(e.to_string()),
                finished.checked_add(job.retry_after_failure()).unwrap_or(finished),
            )
        }
    };
    storage::jobs::finish(
        &state.db,
        job.name(),
        &stored_text(finished),
        error.as_deref(),
        &stored_text(next),
    )
    .await?;
    outcome
}
