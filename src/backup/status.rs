//! How backups stand, for the dashboard, the backups page and `/healthz`: the last good one,
//! whether the daily job is failing, and when it runs next.

use crate::state::AppState;
use crate::storage;

use super::Backup;

pub struct Status {
    pub last_good: Option<Backup>,
    /// The daily job's last error while it keeps failing, or why the backups cannot be read.
    pub failing: Option<String>,
    pub next_run_at: Option<String>,
    /// Every backup in the backup directory, newest first.
    pub all: Vec<Backup>,
}

pub async fn of(state: &AppState) -> anyhow::Result<Status> {
    let dir = state.config.backup_dir();
    let (all, unreadable) = match super::list_in(dir).await {
        Ok(all) => (all, None),
        Err(e) => (Vec::new(), Some(e.to_string())),
    };
    let job = storage::jobs::find(&state.db, crate::jobs::Job::Backup.name()).await?;
    Ok(Status {
        last_good: all.iter().find(|b| b.verified).cloned(),
        failing: job.as_ref().and_then(|j| j.last_error.clone()).or(unreadable),
        next_run_at: job.map(|j| j.next_run_at),
        all,
    })
}

/// "3 hours ago", "2 days ago": how long since `at` (RFC 3339), for a person.
pub fn ago(at: &str) -> String {
    crate::clock::ago(at).unwrap_or_else(|| at.to_string())
}
