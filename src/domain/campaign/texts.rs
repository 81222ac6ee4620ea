//! Marketing texts keep the workspace's quiet hours and its daily limit (SPEC §10): the outbox
//! asks `text_hold` before each campaign text, and they wait instead of going; the dashboard
//! lists what waits (`held_texts`).

use jiff::Timestamp;

use super::settings;
use crate::domain::actor::{Actor, Scope};
use crate::domain::workspace::WorkspaceAccess;
use crate::error::AppResult;
use crate::schedule::stored_text;
use crate::state::AppState;
use crate::storage;

/// Why a campaign's texts are waiting, if they are: quiet hours, or the day's limit reached.
/// `None` when they may go now.
pub async fn text_hold(
    state: &AppState,
    ws: &WorkspaceAccess,
    outbox_id: &str,
    now: Timestamp,
) -> AppResult<Option<(Timestamp, String)>> {
    let config = settings::load(&state.db, ws).await?;
    let tz = ws.time_zone(&state.config)?;
    if let Some(until) = config.quiet_hours.wait_until(now, &tz) {
        return Ok(Some((
            until,
            format!(
                "quiet hours ({}–{}): marketing texts wait until {}",
                config.quiet_hours.start, config.quiet_hours.end, config.quiet_hours.end
            ),
        )));
    }
    let local = now.to_zoned(tz.clone());
    let day_start = local
        .date()
        .to_zoned(tz.clone())
        .map_err(anyhow::Error::from)?
        .timestamp();
    let sent = storage::outbox::campaign_texts_since(&state.db, ws, &stored_text(day_start), outbox_id).await?;
    if sent >= i64::from(config.daily_text_limit) {
        let tomorrow = local
            .date()
            .tomorrow()
            .map_err(anyhow::Error::from)?
            .to_zoned(tz.clone())
            .map_err(anyhow::Error::from)?
            .timestamp();
        return Ok(Some((
            tomorrow,
            format!(
                "the daily limit of {} marketing texts is reached; the rest go tomorrow",
                config.daily_text_limit
            ),
        )));
    }
    Ok(None)
}

/// Marketing texts waiting for quiet hours to end or for tomorrow's limit, per workspace (the
/// dashboard says so).
pub struct HeldTexts {
    pub workspace: WorkspaceAccess,
    pub messages: i64,
    pub until: String,
    pub reason: String,
}

pub async fn held_texts(state: &AppState, actor: &Actor, workspaces: &[WorkspaceAccess]) -> AppResult<Vec<HeldTexts>> {
    if !actor.has_scope(Scope::ReadCampaigns) {
        return Ok(Vec::new());
    }
    let now = state.clock.now_text();
    let mut out = Vec::new();
    for ws in workspaces {
        let (messages, until, reason) = storage::outbox::held_texts(&state.db, ws, &now).await?;
        if messages > 0 {
            out.push(HeldTexts {
                workspace: ws.clone(),
                messages,
                until: until.unwrap_or_default(),
                reason: reason.unwrap_or_else(|| "waiting".into()),
            });
        }
    }
    Ok(out)
}
