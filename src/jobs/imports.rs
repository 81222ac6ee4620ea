//! The import worker: claims queued imports one at a time (an atomic `UPDATE … RETURNING`) and
//! runs them. Woken when an import is queued; also looks every few seconds, so an import queued
//! by another process (the CLI) is picked up too.

use std::time::Duration;

use crate::domain::import::job;
use crate::state::AppState;

pub fn spawn(state: AppState) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            match drain(&state).await {
                Ok(_) => {}
                // Another long write (a revert, an import run by the CLI) holds the database
                // past the busy timeout: the queue is looked at again shortly.
                Err(e) if is_busy(&e) => tracing::debug!("the import worker waits for the database"),
                Err(e) => tracing::error!(error = %crate::telemetry::chain(&e), "the import worker failed"),
            }
            tokio::select! {
                _ = state.imports.wake.notified() => {}
                _ = tokio::time::sleep(Duration::from_secs(5)) => {}
            }
        }
    })
}

fn is_busy(e: &anyhow::Error) -> bool {
    matches!(e.downcast_ref::<sqlx::Error>(), Some(sqlx::Error::Database(db)) if db.code().as_deref() == Some("5"))
}

/// Runs queued imports until none is left; returns how many ran.
pub async fn drain(state: &AppState) -> anyhow::Result<usize> {
    let mut ran = 0;
    job::recover(&state.db).await?;
    while let Some(row) = job::claim_next(&state.db).await? {
        let id = row.id.clone();
        tracing::info!(import = %id, rows = row.rows_total, "import started");
        let started = std::time::Instant::now();
        job::run(&state.db, &state.imports, &state.config.default_phone_region, row).await?;
        tracing::info!(import = %id, seconds = started.elapsed().as_secs_f64(), "import finished");
        ran += 1;
    }
    Ok(ran)
}
