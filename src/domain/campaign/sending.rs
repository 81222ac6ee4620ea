//! Sending a campaign (SPEC §10): `schedule` (409 `approval_required` when the workspace
//! requires a review and it has not been approved) resolves the segment once into
//! `campaign_recipients`; `fan_out` queues them; pause, resume and cancel act on what has not
//! gone; `run_due` is the scheduler's pass (times come, yearly occurrences, cut-short fan-outs).

use jiff::Timestamp;
use jiff::tz::TimeZone;

use super::approval::Snapshot;
use super::segment::{self, SegmentQuery};
use super::{Campaign, Schedule, Status, Stored, settings, yearly};
use crate::domain::actor::{Actor, Scope};
use crate::domain::audit;
use crate::domain::field_definition;
use crate::domain::ids::{CampaignId, WorkspaceId};
use crate::domain::messaging::Channel;
use crate::domain::workspace::{self, WorkspaceAccess};
use crate::error::{AppError, AppResult};
use crate::schedule::{TimeOfDay, stored_text};
use crate::state::AppState;
use crate::storage;

/// An instant as people read it, in `tz`.
pub fn instant_words(t: Timestamp, tz: &TimeZone) -> String {
    let zoned = t.to_zoned(tz.clone());
    format!(
        "{} ({})",
        zoned.strftime("%A, %B %-d, %Y at %-I:%M %p"),
        tz.iana_name().unwrap_or("UTC")
    )
}

/// When a schedule sends, in words.
pub fn schedule_words(schedule: &Schedule, tz: &TimeZone) -> String {
    match schedule {
        Schedule::Now => "As soon as it is scheduled".into(),
        Schedule::At { at } => match crate::clock::parse(at) {
            Some(t) => instant_words(t, tz),
            None => at.clone(),
        },
        Schedule::Yearly { field, time } => format!(
            "Every year on each contact's {field}, at {time} ({})",
            tz.iana_name().unwrap_or("UTC")
        ),
    }
}

/// Refuses a campaign the workspace's provider cannot send: none configured, or Microsoft
/// Graph for email (it cannot set `List-Unsubscribe`, which marketing email must carry).
pub(super) async fn check_provider(state: &AppState, ws: &WorkspaceAccess, via: Channel) -> AppResult<String> {
    match via {
        Channel::Email => {
            let mailer = crate::domain::messaging::providers::mailer(state, ws)
                .await?
                .ok_or_else(|| {
                    AppError::refused(
                        "provider_not_configured",
                        "this workspace has no email provider yet; its owner sets one under Settings → Providers",
                    )
                })?;
            if mailer.provider.kind() == "graph" {
                return Err(AppError::refused(
                    "provider_unsuitable",
                    "Microsoft 365 (Graph) cannot add the one-click unsubscribe header (List-Unsubscribe) marketing email must carry; \
                     send campaigns through Mailgun, SMTP or Gmail",
                ));
            }
            Ok(mailer.provider.from().to_string())
        }
        Channel::Text => Ok(crate::domain::messaging::providers::texter(state, ws)
            .await?
            .ok_or_else(|| {
                AppError::refused(
                    "provider_not_configured",
                    "this workspace has no text provider yet; its owner sets one under Settings → Providers",
                )
            })?
            .provider
            .from()
            .to_string()),
    }
}

pub(super) fn snapshot_of(stored: &Stored) -> AppResult<Snapshot> {
    let text = stored
        .row
        .snapshot
        .as_deref()
        .ok_or_else(|| AppError::conflict("this campaign has nothing frozen to send; schedule it again"))?;
    Ok(serde_json::from_str(text).map_err(anyhow::Error::from)?)
}

pub(super) async fn query_of(state: &AppState, ws: &WorkspaceAccess, snapshot: &Snapshot) -> AppResult<SegmentQuery> {
    let fields = field_definition::applicable(&state.db, ws).await?;
    segment::query(state, ws, &fields, &snapshot.segment).await
}

/// Schedules the campaign: now (it starts sending at once), at its time, or yearly. With
/// review required it must be approved, and what goes is the approved snapshot; without, the
/// snapshot is frozen now.
pub async fn schedule(state: &AppState, actor: &Actor, ws: &WorkspaceAccess, id: &CampaignId) -> AppResult<Campaign> {
    actor.require(Scope::WriteCampaigns)?;
    actor.require(Scope::SendMessages)?;
    ws.require_editor()?;
    let stored = super::load(state, ws, id).await?;
    let required = settings::load(&state.db, ws).await?.approval.required;
    match stored.status() {
        Status::Approved => {}
        Status::Draft | Status::Rejected | Status::PendingApproval if required => {
            return Err(AppError::refused(
                "approval_required",
                "this workspace's marketing must be approved first: submit the campaign for review",
            ));
        }
        Status::Draft | Status::Rejected => {}
        other => {
            return Err(AppError::conflict(format!(
                "a campaign that is {} cannot be scheduled",
                other.label().to_lowercase()
            )));
        }
    }
    // Marketing email carries a one-click unsubscribe link, which must open from anywhere.
    if stored.via() == Channel::Email && state.config.public_url.is_none() {
        return Err(super::approval::OutsiderLink::Unsubscribe.required());
    }
    check_provider(state, ws, stored.via()).await?;
    let snapshot = match stored.status() {
        Status::Approved => snapshot_of(&stored)?,
        _ => super::approval::freeze(state, actor, ws, &stored).await?,
    };
    let q = query_of(state, ws, &snapshot).await?;
    let now = state.clock.now();
    let starts_now = match &snapshot.schedule {
        Schedule::Now => true,
        Schedule::At { at } => crate::clock::parse(at).is_none_or(|t| t <= now),
        Schedule::Yearly { .. } => false,
    };
    let mut row = stored.row.clone();
    row.snapshot = Some(serde_json::to_string(&snapshot).map_err(anyhow::Error::from)?);
    let mut tx = storage::db::begin_write(&state.db).await?;
    if starts_now {
        row.status = Status::Sending.as_str().into();
        row.next_at = None;
        storage::segments::resolve_into(&mut tx, ws, &q, &row.id, "", &crate::clock::format(now)).await?;
    } else {
        row.status = Status::Scheduled.as_str().into();
        row.next_at = Some(match &snapshot.schedule {
            Schedule::At { at } => at.clone(),
            _ => crate::clock::format(now),
        });
    }
    storage::campaigns::update(&mut tx, ws, &row).await?;
    audit::in_workspace(&mut tx, actor, ws.id(), "campaign.schedule", "campaign", &row.id).await?;
    tx.commit().await?;
    if starts_now {
        // The campaigns pump queues it (`jobs::campaigns`): the request answers at once, and
        // the scheduler picks up whatever a crash left.
        state.campaigns.notify_one();
    }
    super::get(state, actor, ws, id).await
}

/// Stops claiming: messages waiting in the outbox are held, the fan-out stops after its batch.
pub async fn pause(state: &AppState, actor: &Actor, ws: &WorkspaceAccess, id: &CampaignId) -> AppResult<Campaign> {
    actor.require(Scope::WriteCampaigns)?;
    ws.require_editor()?;
    let mut tx = storage::db::begin_write(&state.db).await?;
    if !storage::campaigns::transition(&mut tx, ws, id.as_str(), &["sending", "scheduled"], "paused").await? {
        return Err(AppError::conflict("only a scheduled or sending campaign can be paused"));
    }
    storage::outbox::hold_campaign(&mut tx, ws, id.as_str()).await?;
    audit::in_workspace(&mut tx, actor, ws.id(), "campaign.pause", "campaign", id.as_str()).await?;
    tx.commit().await?;
    super::get(state, actor, ws, id).await
}

/// Continues where it stopped: held messages go in their order, the fan-out goes on.
pub async fn resume(state: &AppState, actor: &Actor, ws: &WorkspaceAccess, id: &CampaignId) -> AppResult<Campaign> {
    actor.require(Scope::WriteCampaigns)?;
    actor.require(Scope::SendMessages)?;
    ws.require_editor()?;
    let stored = super::load(state, ws, id).await?;
    if stored.status() != Status::Paused {
        return Err(AppError::conflict("only a paused campaign can be resumed"));
    }
    check_provider(state, ws, stored.via()).await?;
    // One that had started (recipients resolved) sends on; a yearly one, or one whose time has
    // not come, waits for its schedule again.
    let started = !storage::campaign_recipients::stats(&state.db, ws, id.as_str())
        .await?
        .is_empty()
        && !stored.schedule.is_yearly();
    let to = if started { Status::Sending } else { Status::Scheduled };
    let mut tx = storage::db::begin_write(&state.db).await?;
    if !storage::campaigns::transition(&mut tx, ws, id.as_str(), &["paused"], to.as_str()).await? {
        return Err(AppError::conflict("only a paused campaign can be resumed"));
    }
    storage::outbox::release_campaign(&mut tx, ws, id.as_str(), &state.clock.now_text()).await?;
    audit::in_workspace(&mut tx, actor, ws.id(), "campaign.resume", "campaign", id.as_str()).await?;
    tx.commit().await?;
    state.outbox.notify_one();
    if started {
        state.campaigns.notify_one();
    }
    super::get(state, actor, ws, id).await
}

/// Drops everything not yet sent (messages in flight finish); a submission waiting for review
/// is voided. For good.
pub async fn cancel(state: &AppState, actor: &Actor, ws: &WorkspaceAccess, id: &CampaignId) -> AppResult<Campaign> {
    actor.require(Scope::WriteCampaigns)?;
    ws.require_editor()?;
    let mut tx = storage::db::begin_write(&state.db).await?;
    let from = [
        "draft",
        "pending_approval",
        "approved",
        "rejected",
        "scheduled",
        "sending",
        "paused",
    ];
    if !storage::campaigns::transition(&mut tx, ws, id.as_str(), &from, "cancelled").await? {
        storage::campaigns::find(&mut *tx, ws, id)
            .await?
            .ok_or(AppError::NotFound)?;
        return Err(AppError::conflict("this campaign has finished already"));
    }
    storage::campaigns::set_next_at(&mut tx, ws, id.as_str(), None).await?;
    let dropped = storage::campaign_recipients::cancel(&mut tx, ws, id.as_str()).await?;
    storage::campaign_approvals::void(&mut tx, ws, id.as_str()).await?;
    audit::in_workspace_with(
        &mut tx,
        actor,
        ws.id(),
        "campaign.cancel",
        "campaign",
        id.as_str(),
        &serde_json::json!({"dropped": dropped}),
    )
    .await?;
    tx.commit().await?;
    super::get(state, actor, ws, id).await
}

/// What one scheduler pass did.
#[derive(Debug, Default, Clone, Copy)]
pub struct Ran {
    pub started: usize,
    pub occurrences: usize,
    pub queued: usize,
    pub skipped: usize,
}

impl std::fmt::Display for Ran {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} campaigns started, {} yearly occurrences, {} messages queued, {} recipients skipped",
            self.started, self.occurrences, self.queued, self.skipped
        )
    }
}

/// The scheduler's pass at `now` (SPEC §15 `yearly-campaigns`): starts campaigns whose time
/// came, sends today's yearly occurrences whose time of day has passed (so a Pi that was off
/// at 09:00 still sends at 10:00 the same day), and finishes fan-outs a crash cut short.
pub async fn run_due(state: &AppState, system: &workspace::System, now: Timestamp) -> AppResult<Ran> {
    let mut ran = Ran::default();
    let now_text = stored_text(now);
    for (ws_id, id) in storage::campaigns::due(&state.db, &now_text).await? {
        let (Some(ws_id), Some(id)) = (WorkspaceId::parse(&ws_id), CampaignId::parse(&id)) else {
            continue;
        };
        let Some((ws, _)) = workspace::for_system(system, &state.db, &ws_id).await? else {
            continue;
        };
        match one(state, &ws, &id, now, &now_text, &mut ran).await {
            Ok(f) => {
                ran.queued += f.queued;
                ran.skipped += f.skipped;
            }
            Err(e) => {
                tracing::warn!(campaign = %id, error = %e.public_message(), "a campaign could not be sent yet; tried again at the next pass");
            }
        }
    }
    Ok(ran)
}

async fn one(
    state: &AppState,
    ws: &WorkspaceAccess,
    id: &CampaignId,
    now: Timestamp,
    now_text: &str,
    ran: &mut Ran,
) -> AppResult<super::fan_out::FannedOut> {
    let stored = super::load(state, ws, id).await?;
    let due = stored.row.next_at.as_deref().is_some_and(|at| at <= now_text);
    if stored.status() == Status::Scheduled && due {
        let snapshot = snapshot_of(&stored)?;
        let mut q = query_of(state, ws, &snapshot).await?;
        match &snapshot.schedule {
            Schedule::Yearly { field, time } => {
                let tz = ws.time_zone(&state.config)?;
                let at = TimeOfDay::parse(time).map_err(|m| AppError::invalid("schedule.time", m))?;
                let local = now.to_zoned(tz.clone());
                let today_at = local
                    .date()
                    .to_datetime(at.time())
                    .to_zoned(tz.clone())
                    .map_err(anyhow::Error::from)?
                    .timestamp();
                let mut tx = storage::db::begin_write(&state.db).await?;
                if now < today_at {
                    // Not yet today (a Pi back on before the hour): wait for it.
                    storage::campaigns::set_next_at(&mut tx, ws, id.as_str(), Some(&stored_text(today_at))).await?;
                } else {
                    q.on_days = Some((field.clone(), yearly::month_days(local.date())));
                    let occurrence = yearly::occurrence(local.date());
                    storage::segments::resolve_into(&mut tx, ws, &q, id.as_str(), &occurrence, now_text).await?;
                    let next = crate::schedule::next_daily(now, at, &tz);
                    storage::campaigns::set_next_at(&mut tx, ws, id.as_str(), Some(&stored_text(next))).await?;
                    ran.occurrences += 1;
                }
                tx.commit().await?;
            }
            _ => {
                let mut tx = storage::db::begin_write(&state.db).await?;
                if storage::campaigns::transition(&mut tx, ws, id.as_str(), &["scheduled"], "sending").await? {
                    storage::campaigns::set_next_at(&mut tx, ws, id.as_str(), None).await?;
                    storage::segments::resolve_into(&mut tx, ws, &q, id.as_str(), "", now_text).await?;
                    ran.started += 1;
                }
                tx.commit().await?;
            }
        }
    }
    super::fan_out::fan_out(state, ws, id).await
}
