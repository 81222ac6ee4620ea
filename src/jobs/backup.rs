//! The daily backup (SPEC §12), at `backup_time` in the configured zone; a failed one is
//! tried again an hour later.

use jiff::{SignedDuration, Timestamp};

use crate::config::Config;
use crate::schedule::{self, TimeOfDay};
use crate::state::AppState;

pub const RETRY_AFTER_FAILURE: SignedDuration = SignedDuration::from_hours(1);

pub fn next_after(after: Timestamp, config: &Config) -> anyhow::Result<Timestamp> {
    let at = TimeOfDay::parse(&config.backup_time).map_err(|e| anyhow::anyhow!("backup_time: {e}"))?;
    Ok(schedule::next_daily(after, at, &config.time_zone()?))
}

pub async fn run(state: &AppState) -> anyhow::Result<String> {
    let backup = crate::backup::make(&state.db, &state.config, None).await?;
    tracing::info!(file = %backup.path.display(), size = backup.size, "backup made and checked");
    Ok(backup.path.display().to_string())
}
