//! Sending a campaign (SPEC §10): `schedule` (409 `approval_required` when the workspace
//! requires a review and it has not been approved), the fan-out that resolves the segment once
//! into `campaign_recipients` and queues each personalised message in the outbox in batches —
//! every skip recorded with its reason — and pause, resume and cancel. A recipient moves from
//! `pending` to `queued` in the same transaction as its outbox row, so a crash, a restart or a
//! second runner never queues anyone twice; the outbox then never sends anything twice.

use std::collections::HashMap;

use jiff::Timestamp;
use jiff::tz::TimeZone;

use super::approval::Snapshot;
use super::segment::{self, SegmentQuery};
use super::{Campaign, Schedule, Status, Stored, settings, yearly};
use crate::domain::actor::{Actor, Scope, Via as ActorVia};
use crate::domain::audit;
use crate::domain::contact::ContactRecord;
use crate::domain::field_definition;
use crate::domain::ids::{CampaignId, ContactId, UserId, WorkspaceId};
use crate::domain::messages::{self, Stored as Message};
use crate::domain::suppression::Via;
use crate::domain::template::Filler;
use crate::domain::workspace::{self, WorkspaceAccess};
use crate::error::{AppError, AppResult};
use crate::schedule::{TimeOfDay, from_timestamp, to_timestamp};
use crate::state::AppState;
use crate::storage;

/// Recipients queued per transaction: small enough that other writers wait milliseconds,
/// large enough that 10,000 take well under two seconds.
const BATCH: i64 = 500;

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
            Some(t) => instant_words(to_timestamp(t), tz),
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
async fn check_provider(state: &AppState, ws: &WorkspaceAccess, via: Via) -> AppResult<String> {
    match via {
        Via::Email => {
            let mailer = crate::domain::providers::mailer(state, ws).await?.ok_or_else(|| {
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
        Via::Text => Ok(crate::domain::providers::texter(state, ws)
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

fn snapshot_of(stored: &Stored) -> AppResult<Snapshot> {
    let text = stored
        .row
        .snapshot
        .as_deref()
        .ok_or_else(|| AppError::conflict("this campaign has nothing frozen to send; schedule it again"))?;
    Ok(serde_json::from_str(text).map_err(anyhow::Error::from)?)
}

async fn query_of(state: &AppState, ws: &WorkspaceAccess, snapshot: &Snapshot) -> AppResult<SegmentQuery> {
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
    check_provider(state, ws, stored.via()).await?;
    let snapshot = match stored.status() {
        Status::Approved => snapshot_of(&stored)?,
        _ => super::approval::freeze(state, actor, ws, &stored).await?,
    };
    let q = query_of(state, ws, &snapshot).await?;
    let now = crate::clock::now();
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
        spawn_fan_out(state, ws, id);
    }
    super::get(state, actor, ws, id).await
}

/// Queues the campaign in the background (the request answers at once; the scheduler picks
/// up whatever a crash left).
fn spawn_fan_out(state: &AppState, ws: &WorkspaceAccess, id: &CampaignId) {
    let (state, ws, id) = (state.clone(), ws.clone(), id.clone());
    tokio::spawn(async move {
        if let Err(e) = fan_out(&state, &ws, &id).await {
            tracing::warn!(campaign = %id, error = %e.public_message(), "a campaign could not be queued yet; the scheduler tries again");
        }
    });
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
    storage::outbox::release_campaign(&mut tx, ws, id.as_str(), &crate::clock::now_text()).await?;
    audit::in_workspace(&mut tx, actor, ws.id(), "campaign.resume", "campaign", id.as_str()).await?;
    tx.commit().await?;
    state.outbox.notify_one();
    if started {
        spawn_fan_out(state, ws, id);
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

/// Who a campaign's messages are from on the timeline (and `sender.*`): the person who made
/// it, else the workspace's owner.
async fn sender_actor(state: &AppState, ws: &WorkspaceAccess, stored: &Stored) -> AppResult<Actor> {
    if let Some(id) = stored.row.created_by.as_deref().and_then(UserId::parse)
        && storage::users::find(&state.db, &id).await?.is_some()
    {
        return Ok(Actor::person(id, ActorVia::Job));
    }
    let (_, owner) = workspace::for_system(&state.db, ws.id())
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(Actor::person(owner, ActorVia::Job))
}

/// What becomes of one recipient.
enum Plan {
    Queue {
        address: String,
        message: Message,
    },
    Skip {
        reason: &'static str,
        detail: String,
        address: Option<String>,
    },
    /// Deleted since the segment was resolved.
    Gone,
}

/// The one-click link and the visible footer every campaign email carries (SPEC §8.4); the
/// footer is left out when the template already shows the link.
fn marketing_email(state: &AppState, ws: &WorkspaceAccess, from: &str, to: &str, mut message: Message) -> Message {
    message.headers =
        crate::domain::unsubscribe::headers(&state.secret, state.config.public_url.as_deref(), ws.id(), to, from);
    let link = crate::domain::unsubscribe::link(&state.secret, state.config.public_url.as_deref(), ws.id(), to);
    let (html_line, text_line) = match &link {
        Some(url) => (
            format!(
                "<p style=\"font-size:12px;color:#64748b;margin-top:24px\">Don't want these emails? <a href=\"{}\">Unsubscribe</a>.</p>",
                crate::domain::template::render::html_escape(url)
            ),
            format!("Don't want these emails? Unsubscribe: {url}"),
        ),
        None => (
            "<p style=\"font-size:12px;color:#64748b;margin-top:24px\">Don't want these emails? Reply with \"unsubscribe\".</p>".to_string(),
            "Don't want these emails? Reply with \"unsubscribe\".".to_string(),
        ),
    };
    let shown = link.as_deref().is_some_and(|url| message.text.contains(url));
    if !shown {
        message.text = format!("{}\n\n{text_line}", message.text.trim_end());
        if let Some(html) = &mut message.html {
            match html.to_ascii_lowercase().rfind("</body>") {
                Some(at) => html.insert_str(at, &html_line),
                None => html.push_str(&html_line),
            }
        }
    }
    message
}

/// Marketing texts end with how to opt out, unless the template says it already.
fn marketing_text(mut message: Message) -> Message {
    if !message.text.to_lowercase().contains("stop") {
        message.text = format!("{}\n\nReply STOP to opt out", message.text.trim_end());
    }
    message
}

#[allow(clippy::too_many_arguments)]
fn plan(
    state: &AppState,
    ws: &WorkspaceAccess,
    via: Via,
    from: &str,
    filler: &Filler,
    template_id: &str,
    contact: Option<&ContactRecord>,
    suppressed: &std::collections::HashSet<String>,
) -> Plan {
    let Some(contact) = contact else {
        return Plan::Gone;
    };
    let address = match via {
        Via::Email => contact.base.primary_email.clone(),
        Via::Text => contact.base.primary_phone.clone(),
    }
    .filter(|a| !a.trim().is_empty());
    let Some(address) = address else {
        return Plan::Skip {
            reason: "no_address",
            detail: match via {
                Via::Email => "no email address".into(),
                Via::Text => "no phone number".into(),
            },
            address: None,
        };
    };
    if suppressed.contains(&address) {
        return Plan::Skip {
            reason: "suppressed",
            detail: "on the suppression list".into(),
            address: Some(address),
        };
    }
    let message = filler
        .fill(state, contact)
        .and_then(|rendered| messages::from_rendered(via, rendered, template_id))
        .map(|m| match via {
            Via::Email => marketing_email(state, ws, from, &address, m),
            Via::Text => marketing_text(m),
        })
        .and_then(|m| {
            if via == Via::Text && m.text.chars().count() > messages::TEXT_MAX_CHARS {
                Err(AppError::invalid(
                    "body",
                    format!("the text is longer than {} characters", messages::TEXT_MAX_CHARS),
                ))
            } else {
                Ok(m)
            }
        });
    match message {
        Ok(message) => Plan::Queue { address, message },
        Err(e) => Plan::Skip {
            reason: "render_error",
            detail: e.public_message(),
            address: Some(address),
        },
    }
}

/// What one fan-out did.
#[derive(Debug, Default, Clone, Copy)]
pub struct FannedOut {
    pub queued: usize,
    pub skipped: usize,
}

/// Queues every pending recipient of the campaign, a batch per transaction, while it is
/// sending (or a yearly one is scheduled); stops at a pause or cancel between batches.
pub async fn fan_out(state: &AppState, ws: &WorkspaceAccess, id: &CampaignId) -> AppResult<FannedOut> {
    let mut done = FannedOut::default();
    let stored = super::load(state, ws, id).await?;
    if !matches!(stored.status(), Status::Sending | Status::Scheduled) {
        return Ok(done);
    }
    if storage::campaign_recipients::pending(&state.db, ws, id.as_str(), 1)
        .await?
        .is_empty()
    {
        finish(state, id).await?;
        return Ok(done);
    }
    let snapshot = snapshot_of(&stored)?;
    let via = stored.via();
    let from = check_provider(state, ws, via).await?;
    let actor = sender_actor(state, ws, &stored).await?;
    let filler = Filler::for_source(state, &actor, ws, &snapshot.source()).await?;
    loop {
        let batch = storage::campaign_recipients::pending(&state.db, ws, id.as_str(), BATCH).await?;
        if batch.is_empty() {
            break;
        }
        let ids: Vec<String> = batch.iter().map(|(_, c)| c.clone()).collect();
        let contacts: HashMap<String, ContactRecord> = storage::contacts::load_many(&state.db, ws, &ids)
            .await?
            .into_iter()
            .map(|c| (c.id.clone(), c))
            .collect();
        let addresses: Vec<String> = contacts
            .values()
            .filter_map(|c| match via {
                Via::Email => c.base.primary_email.clone(),
                Via::Text => c.base.primary_phone.clone(),
            })
            .collect();
        let suppressed = storage::suppressions::among(&state.db, ws, via.as_str(), &addresses).await?;
        let plans: Vec<(String, String, Plan)> = batch
            .into_iter()
            .map(|(occurrence, contact)| {
                let p = plan(
                    state,
                    ws,
                    via,
                    &from,
                    &filler,
                    &snapshot.template_id,
                    contacts.get(&contact),
                    &suppressed,
                );
                (occurrence, contact, p)
            })
            .collect();
        let mut tx = storage::db::begin_write(&state.db).await?;
        // A pause or cancel since the batch was read stops it here, inside the lock.
        let now_status = storage::campaigns::find(&mut *tx, ws, id)
            .await?
            .map(|r| Status::parse(&r.status));
        if !matches!(now_status, Some(Status::Sending | Status::Scheduled)) {
            return Ok(done);
        }
        for (occurrence, contact, plan) in &plans {
            match plan {
                Plan::Queue { address, message } => {
                    if !storage::campaign_recipients::take(
                        &mut tx,
                        id.as_str(),
                        occurrence,
                        contact,
                        "queued",
                        None,
                        None,
                        Some(address),
                    )
                    .await?
                    {
                        continue;
                    }
                    let contact_id = ContactId::found(contact)?;
                    let comm = messages::queue_one(
                        &mut tx,
                        &actor,
                        ws,
                        &contact_id,
                        via,
                        &from,
                        address,
                        message,
                        Some(id.as_str()),
                    )
                    .await?;
                    storage::campaign_recipients::set_communication(
                        &mut tx,
                        id.as_str(),
                        occurrence,
                        contact,
                        comm.as_str(),
                    )
                    .await?;
                    done.queued += 1;
                }
                Plan::Skip {
                    reason,
                    detail,
                    address,
                } => {
                    if storage::campaign_recipients::take(
                        &mut tx,
                        id.as_str(),
                        occurrence,
                        contact,
                        "skipped",
                        Some(reason),
                        Some(detail),
                        address.as_deref(),
                    )
                    .await?
                    {
                        done.skipped += 1;
                    }
                }
                Plan::Gone => {
                    storage::campaign_recipients::take(
                        &mut tx,
                        id.as_str(),
                        occurrence,
                        contact,
                        "cancelled",
                        None,
                        Some("the contact was deleted"),
                        None,
                    )
                    .await?;
                }
            }
        }
        tx.commit().await?;
        state.outbox.notify_one();
    }
    if done.queued + done.skipped > 0 {
        let mut tx = storage::db::begin_write(&state.db).await?;
        audit::in_workspace_with(
            &mut tx,
            &actor,
            ws.id(),
            "campaign.queue",
            "campaign",
            id.as_str(),
            &serde_json::json!({"queued": done.queued, "skipped": done.skipped}),
        )
        .await?;
        tx.commit().await?;
    }
    finish(state, id).await?;
    Ok(done)
}

/// A one-off campaign with nothing left to queue or send is `sent`.
async fn finish(state: &AppState, id: &CampaignId) -> AppResult<()> {
    let mut tx = storage::db::begin_write(&state.db).await?;
    storage::campaigns::finish_if_done(&mut tx, id.as_str()).await?;
    tx.commit().await?;
    Ok(())
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
pub async fn run_due(state: &AppState, now: Timestamp) -> AppResult<Ran> {
    let mut ran = Ran::default();
    let now_text = crate::clock::format(from_timestamp(now));
    for (ws_id, id) in storage::campaigns::due(&state.db, &now_text).await? {
        let (Some(ws_id), Some(id)) = (WorkspaceId::parse(&ws_id), CampaignId::parse(&id)) else {
            continue;
        };
        let Some((ws, _)) = workspace::for_system(&state.db, &ws_id).await? else {
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
) -> AppResult<FannedOut> {
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
                    storage::campaigns::set_next_at(&mut tx, ws, id.as_str(), Some(&text_of(today_at))).await?;
                } else {
                    q.on_days = Some((field.clone(), yearly::month_days(local.date())));
                    let occurrence = yearly::occurrence(local.date());
                    storage::segments::resolve_into(&mut tx, ws, &q, id.as_str(), &occurrence, now_text).await?;
                    let next = crate::schedule::next_daily(now, at, &tz);
                    storage::campaigns::set_next_at(&mut tx, ws, id.as_str(), Some(&text_of(next))).await?;
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
    fan_out(state, ws, id).await
}

fn text_of(t: Timestamp) -> String {
    crate::clock::format(from_timestamp(t))
}

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
    let sent =
        storage::outbox::campaign_texts_since(&state.db, ws.id().as_str(), &text_of(day_start), outbox_id).await?;
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

/// A campaign's message as one recipient gets it.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct Preview {
    pub contact_id: Option<String>,
    pub contact_name: String,
    pub address: Option<String>,
    pub subject: String,
    pub body_html: Option<String>,
    pub body_text: String,
}

/// What `contact` (or the segment's first contact, or a sample) would get: the frozen snapshot
/// once there is one, else the template as it is now; with the unsubscribe footer or the STOP
/// line marketing carries.
pub async fn preview(
    state: &AppState,
    actor: &Actor,
    ws: &WorkspaceAccess,
    id: &CampaignId,
    contact: Option<&ContactId>,
) -> AppResult<Preview> {
    actor.require(Scope::ReadCampaigns)?;
    let stored = super::load(state, ws, id).await?;
    let snapshot = match &stored.row.snapshot {
        Some(_) => snapshot_of(&stored)?,
        None => super::approval::freeze(state, actor, ws, &stored).await?,
    };
    let filler = Filler::for_source(state, actor, ws, &snapshot.source()).await?;
    let record =
        match contact {
            Some(c) => Some(storage::contacts::load(&state.db, ws, c).await?.ok_or_else(|| {
                AppError::invalid("contact_id", "there is no contact with this id in this workspace")
            })?),
            None => {
                let q = query_of(state, ws, &snapshot).await?;
                match storage::segments::first(&state.db, ws, &q).await? {
                    Some(first) => storage::contacts::load(&state.db, ws, &first).await?,
                    None => None,
                }
            }
        };
    let record = record.unwrap_or_else(|| crate::domain::template::sample_contact(filler.fields()));
    let via = stored.via();
    let address = match via {
        Via::Email => record.base.primary_email.clone(),
        Via::Text => record.base.primary_phone.clone(),
    };
    let rendered = filler.fill(state, &record)?;
    let message = messages::from_rendered(via, rendered, &snapshot.template_id)?;
    let from = check_provider(state, ws, via).await.unwrap_or_default();
    let message = match via {
        Via::Email => marketing_email(
            state,
            ws,
            &from,
            address.as_deref().unwrap_or("someone@example.com"),
            message,
        ),
        Via::Text => marketing_text(message),
    };
    Ok(Preview {
        contact_id: (!record.id.is_empty()).then(|| record.id.clone()),
        contact_name: record.display_name(),
        address,
        subject: message.subject,
        body_html: message.html,
        body_text: message.text,
    })
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
    let now = crate::clock::now_text();
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
