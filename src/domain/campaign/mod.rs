//! Campaigns (SPEC §10): an email or text template sent to a segment of a workspace's
//! contacts now, at a time, or every year on a date field — through Loan Factory's approval
//! queue when the workspace requires it. This file holds the campaign itself and its edits;
//! `approval` the review, `sending` the schedule, `fan_out` the queueing, `texts` quiet hours and
//! the daily text limit, `yearly` the calendar.

pub mod approval;
pub mod fan_out;
pub mod segment;
pub mod sending;
pub mod settings;
pub mod texts;
pub mod yearly;

use serde::{Deserialize, Serialize};

use super::actor::{Actor, Scope};
use super::audit;
use super::field::FieldType;
use super::field_definition::{self, FieldSet};
use super::ids::{CampaignId, TemplateId};
use super::messaging::Channel;
use super::template;
use super::workspace::WorkspaceAccess;
use crate::error::{AppError, AppResult, Invalids};
use crate::schedule::TimeOfDay;
use crate::state::AppState;
use crate::storage;
use segment::Segment;

/// Where a campaign is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Draft,
    PendingApproval,
    Approved,
    Rejected,
    Scheduled,
    Sending,
    Paused,
    Sent,
    Cancelled,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Draft => "draft",
            Status::PendingApproval => "pending_approval",
            Status::Approved => "approved",
            Status::Rejected => "rejected",
            Status::Scheduled => "scheduled",
            Status::Sending => "sending",
            Status::Paused => "paused",
            Status::Sent => "sent",
            Status::Cancelled => "cancelled",
        }
    }

    pub fn parse(text: &str) -> Status {
        match text {
            "pending_approval" => Status::PendingApproval,
            "approved" => Status::Approved,
            "rejected" => Status::Rejected,
            "scheduled" => Status::Scheduled,
            "sending" => Status::Sending,
            "paused" => Status::Paused,
            "sent" => Status::Sent,
            "cancelled" => Status::Cancelled,
            _ => Status::Draft,
        }
    }

    /// What people read.
    pub fn label(self) -> &'static str {
        match self {
            Status::Draft => "Draft",
            Status::PendingApproval => "Waiting for approval",
            Status::Approved => "Approved",
            Status::Rejected => "Rejected",
            Status::Scheduled => "Scheduled",
            Status::Sending => "Sending",
            Status::Paused => "Paused",
            Status::Sent => "Sent",
            Status::Cancelled => "Cancelled",
        }
    }

    /// Its words, template and segment may still change (a change after submitting voids the
    /// approval and returns it to draft).
    pub fn editable(self) -> bool {
        matches!(
            self,
            Status::Draft | Status::PendingApproval | Status::Approved | Status::Rejected | Status::Scheduled
        )
    }
}

/// When it goes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Schedule {
    /// As soon as it is scheduled.
    Now,
    /// At an instant (RFC 3339).
    At { at: String },
    /// Every year on each contact's date in `field` (a date custom field such as `birthday`),
    /// at `time` (`HH:MM`) in the workspace's time zone.
    Yearly { field: String, time: String },
}

impl Schedule {
    pub fn is_yearly(&self) -> bool {
        matches!(self, Schedule::Yearly { .. })
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Skipped {
    pub suppressed: i64,
    pub no_address: i64,
    pub render_error: i64,
}

/// Where its messages are. `sent` counts every message the provider took (delivered and
/// opened ones too), `delivered` those delivered or opened, `failed` failures and bounces.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stats {
    pub recipients: i64,
    pub queued: i64,
    pub sent: i64,
    pub delivered: i64,
    pub opened: i64,
    pub failed: i64,
    pub unknown: i64,
    pub cancelled: i64,
    pub skipped: Skipped,
}

impl Stats {
    fn from_counts(counts: &[(String, Option<String>, i64)]) -> Stats {
        let mut s = Stats::default();
        for (status, reason, n) in counts {
            let n = *n;
            s.recipients += n;
            match status.as_str() {
                "pending" | "queued" => s.queued += n,
                "sent" => s.sent += n,
                "delivered" => {
                    s.sent += n;
                    s.delivered += n;
                }
                "opened" | "clicked" => {
                    s.sent += n;
                    s.delivered += n;
                    s.opened += n;
                }
                "failed" | "bounced" => s.failed += n,
                "unknown" => s.unknown += n,
                "skipped" => match reason.as_deref() {
                    Some("suppressed") => s.skipped.suppressed += n,
                    Some("no_address") => s.skipped.no_address += n,
                    _ => s.skipped.render_error += n,
                },
                _ => s.cancelled += n,
            }
        }
        s
    }

    pub fn skipped_total(&self) -> i64 {
        self.skipped.suppressed + self.skipped.no_address + self.skipped.render_error
    }

    /// Messages whose outcome is known (for the progress bar).
    pub fn settled(&self) -> i64 {
        self.sent + self.failed + self.unknown + self.cancelled + self.skipped_total()
    }
}

/// A campaign with what is known of it now: its approval, its counts, what waits and why.
#[derive(Debug, Clone)]
pub struct Campaign {
    pub id: String,
    pub workspace_id: String,
    pub name: String,
    pub channel: Channel,
    pub template_id: Option<String>,
    pub segment: Segment,
    pub schedule: Schedule,
    pub status: Status,
    pub approval: Option<approval::ApprovalView>,
    pub stats: Stats,
    /// Messages held back and why (quiet hours, the daily text limit, a pause, a provider's
    /// retry); `null` when nothing waits past its turn.
    pub waiting: Option<Waiting>,
    /// A scheduled campaign's next start (`at`) or next daily look (`yearly`).
    pub next_at: Option<String>,
    /// Why it cannot send right now (no provider any more, a template that no longer fills in);
    /// tried again every minute.
    pub problem: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

impl Campaign {
    pub fn status(&self) -> Status {
        self.status
    }
}

#[derive(Debug, Clone)]
pub struct Waiting {
    pub messages: i64,
    /// When the first of them may go.
    pub until: String,
    pub reason: String,
}

/// `POST` needs `name` and `channel`; `PATCH` takes any part.
#[derive(Debug, Default, Clone)]
pub struct CampaignInput {
    pub name: Option<String>,
    pub channel: Option<String>,
    /// `""` clears it.
    pub template_id: Option<String>,
    pub segment: Option<Segment>,
    pub schedule: Option<Schedule>,
}

/// A stored campaign, with its parts read back.
pub(crate) struct Stored {
    pub row: storage::campaigns::Row,
    pub segment: Segment,
    pub schedule: Schedule,
}

impl Stored {
    pub(crate) fn from_row(row: storage::campaigns::Row) -> AppResult<Stored> {
        let segment = serde_json::from_str(&row.segment).map_err(anyhow::Error::from)?;
        let schedule = serde_json::from_str(&row.schedule).map_err(anyhow::Error::from)?;
        Ok(Stored { row, segment, schedule })
    }

    pub(crate) fn status(&self) -> Status {
        Status::parse(&self.row.status)
    }

    pub(crate) fn via(&self) -> super::messaging::Channel {
        super::messaging::Channel::stored(&self.row.channel)
    }
}

pub(crate) async fn load(state: &AppState, ws: &WorkspaceAccess, id: &CampaignId) -> AppResult<Stored> {
    let row = storage::campaigns::find(&state.db, ws, id)
        .await?
        .ok_or(AppError::NotFound)?;
    Stored::from_row(row)
}

async fn answer(state: &AppState, ws: &WorkspaceAccess, stored: Stored) -> AppResult<Campaign> {
    let counts = storage::campaign_recipients::stats(&state.db, ws, &stored.row.id).await?;
    let approval = approval::view(state, ws, &stored.row.id).await?;
    let stats = Stats::from_counts(&counts);
    let waiting = if stored.status() == Status::Paused {
        // A paused campaign holds everything not yet sent, queued in the outbox or not.
        (stats.queued > 0).then(|| Waiting {
            messages: stats.queued,
            until: String::new(),
            reason: "paused".into(),
        })
    } else {
        let (messages, until, reason) = storage::outbox::campaign_waiting(&state.db, ws, &stored.row.id).await?;
        // The server's clock (a test's fixed one), as the outbox uses when it sends.
        let now = state.clock.now_text();
        until.filter(|until| messages > 0 && *until > now).map(|until| Waiting {
            messages,
            until,
            reason: reason.unwrap_or_else(|| "waiting for its turn".into()),
        })
    };
    let r = stored.row;
    Ok(Campaign {
        id: r.id,
        workspace_id: r.workspace_id,
        name: r.name,
        channel: Channel::stored(&r.channel),
        template_id: r.template_id,
        segment: stored.segment,
        schedule: stored.schedule,
        status: Status::parse(&r.status),
        approval,
        stats,
        waiting,
        next_at: r.next_at,
        problem: r.problem,
        created_at: r.created_at,
        updated_at: r.updated_at,
    })
}

pub async fn list(state: &AppState, actor: &Actor, ws: &WorkspaceAccess) -> AppResult<Vec<Campaign>> {
    actor.require(Scope::ReadCampaigns)?;
    let mut out = Vec::new();
    for row in storage::campaigns::list(&state.db, ws).await? {
        out.push(answer(state, ws, Stored::from_row(row)?).await?);
    }
    Ok(out)
}

pub async fn get(state: &AppState, actor: &Actor, ws: &WorkspaceAccess, id: &CampaignId) -> AppResult<Campaign> {
    actor.require(Scope::ReadCampaigns)?;
    let stored = load(state, ws, id).await?;
    answer(state, ws, stored).await
}

/// Marks a decision as seen by the workspace (someone opened the campaign's page).
pub async fn mark_seen(state: &AppState, ws: &WorkspaceAccess, id: &CampaignId) -> AppResult<()> {
    let mut tx = storage::db::begin_write(&state.db).await?;
    storage::campaign_approvals::mark_seen(&mut tx, ws, id.as_str(), &crate::clock::now_text()).await?;
    tx.commit().await?;
    Ok(())
}

fn check_name(raw: &str) -> AppResult<String> {
    let name = raw.trim();
    if name.is_empty() {
        return Err(AppError::invalid("name", "give the campaign a name"));
    }
    if name.chars().count() > 200 || name.contains(['\r', '\n']) {
        return Err(AppError::invalid(
            "name",
            "a name is one line of at most 200 characters",
        ));
    }
    Ok(name.to_string())
}

fn check_channel(raw: &str) -> AppResult<Channel> {
    Channel::parse(raw).ok_or_else(|| AppError::invalid("channel", "channel is email or text"))
}

async fn check_template(
    state: &AppState,
    actor: &Actor,
    ws: &WorkspaceAccess,
    channel: Channel,
    raw: &str,
) -> AppResult<Option<String>> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(None);
    }
    let missing = || AppError::invalid("template_id", "there is no template with this id in this workspace");
    let id = TemplateId::parse(raw).ok_or_else(missing)?;
    let found = template::get(state, actor, ws, &id).await.map_err(|e| match e {
        AppError::NotFound => missing(),
        other => other,
    })?;
    if found.channel() != channel {
        return Err(AppError::invalid(
            "template_id",
            format!(
                "this is {} template; a {} campaign needs a {} template",
                if found.channel() == Channel::Email {
                    "an email"
                } else {
                    "a text"
                },
                channel.as_str(),
                channel.as_str()
            ),
        ));
    }
    Ok(Some(found.id))
}

/// Checks a schedule: a time that reads as RFC 3339 (stored in UTC), a yearly date field.
fn check_schedule(schedule: &Schedule, fields: &FieldSet) -> AppResult<Schedule> {
    match schedule {
        Schedule::Now => Ok(Schedule::Now),
        Schedule::At { at } => {
            let t = crate::clock::parse(at.trim()).ok_or_else(|| {
                AppError::invalid(
                    "schedule.at",
                    "a time like 2026-12-24T09:00:00-08:00 (RFC 3339, with its offset)",
                )
            })?;
            Ok(Schedule::At {
                at: crate::clock::format(t),
            })
        }
        Schedule::Yearly { field, time } => {
            let mut bad = Invalids::default();
            let field = field.trim();
            match fields.type_of(field) {
                Some(FieldType::Date) => {}
                Some(_) => {
                    bad.check::<()>(Err(AppError::invalid(
                        "schedule.field",
                        format!("{field} is not a date field; a yearly campaign goes on a date such as a birthday"),
                    )))?;
                }
                None => {
                    bad.check::<()>(Err(AppError::invalid(
                        "schedule.field",
                        format!("there is no custom field named {field:?} here"),
                    )))?;
                }
            }
            bad.check(TimeOfDay::parse(time).map_err(|m| AppError::invalid("schedule.time", m)))?;
            bad.finish()?;
            Ok(Schedule::Yearly {
                field: field.to_string(),
                time: time.trim().to_string(),
            })
        }
    }
}

/// A new draft campaign.
pub async fn create(
    state: &AppState,
    actor: &Actor,
    ws: &WorkspaceAccess,
    input: CampaignInput,
) -> AppResult<Campaign> {
    actor.require(Scope::WriteCampaigns)?;
    ws.require_editor()?;
    let fields = field_definition::applicable(&state.db, ws).await?;
    let mut bad = Invalids::default();
    let name = bad.check(check_name(input.name.as_deref().unwrap_or("")))?;
    let channel = bad.check(check_channel(input.channel.as_deref().unwrap_or("")))?;
    let template = match channel {
        Some(c) => bad.check(check_template(state, actor, ws, c, input.template_id.as_deref().unwrap_or("")).await)?,
        None => None,
    };
    let segment = bad.check(segment::check(state, ws, &fields, &input.segment.unwrap_or_default()).await)?;
    let schedule = bad.check(check_schedule(&input.schedule.unwrap_or(Schedule::Now), &fields))?;
    bad.finish()?;
    let (Some(name), Some(channel), Some(template), Some(segment), Some(schedule)) =
        (name, channel, template, segment, schedule)
    else {
        unreachable!("every part was checked");
    };
    let now = crate::clock::now_text();
    let row = storage::campaigns::Row {
        id: CampaignId::generate().to_string(),
        workspace_id: ws.id().to_string(),
        name,
        channel: channel.as_str().into(),
        template_id: template,
        segment: serde_json::to_string(&segment).map_err(anyhow::Error::from)?,
        schedule: serde_json::to_string(&schedule).map_err(anyhow::Error::from)?,
        status: Status::Draft.as_str().into(),
        snapshot: None,
        next_at: None,
        problem: None,
        created_by: Some(actor.user_id.to_string()),
        created_at: now.clone(),
        updated_at: now,
    };
    let mut tx = storage::db::begin_write(&state.db).await?;
    storage::campaigns::insert(&mut tx, ws, &row).await?;
    audit::in_workspace(&mut tx, actor, ws.id(), "campaign.create", "campaign", &row.id).await?;
    tx.commit().await?;
    answer(state, ws, Stored::from_row(row)?).await
}

/// Changes a campaign that has not started sending. Changing what it sends, to whom or when
/// voids a submission or approval and returns it to draft (what was approved is what goes);
/// a new name alone does not.
pub async fn update(
    state: &AppState,
    actor: &Actor,
    ws: &WorkspaceAccess,
    id: &CampaignId,
    input: CampaignInput,
) -> AppResult<Campaign> {
    actor.require(Scope::WriteCampaigns)?;
    ws.require_editor()?;
    let stored = load(state, ws, id).await?;
    if !stored.status().editable() {
        return Err(AppError::conflict(format!(
            "a campaign that is {} cannot be changed; start a new one from it (\"Use as a new campaign\")",
            stored.status().label().to_lowercase()
        )));
    }
    let fields = field_definition::applicable(&state.db, ws).await?;
    let mut bad = Invalids::default();
    let mut row = stored.row.clone();
    if let Some(name) = &input.name {
        row.name = bad.check(check_name(name))?.unwrap_or(row.name);
    }
    let channel = match &input.channel {
        Some(c) => bad.check(check_channel(c))?,
        None => Channel::parse(&row.channel),
    };
    if let Some(c) = channel {
        row.channel = c.as_str().into();
        let template = input
            .template_id
            .clone()
            .or_else(|| row.template_id.clone())
            .unwrap_or_default();
        if input.template_id.is_some() || input.channel.is_some() {
            row.template_id = bad
                .check(check_template(state, actor, ws, c, &template).await)?
                .flatten();
        }
    }
    let mut segment = stored.segment.clone();
    if let Some(s) = &input.segment
        && let Some(checked) = bad.check(segment::check(state, ws, &fields, s).await)?
    {
        segment = checked;
    }
    let mut schedule = stored.schedule.clone();
    if let Some(s) = &input.schedule
        && let Some(checked) = bad.check(check_schedule(s, &fields))?
    {
        schedule = checked;
    }
    bad.finish()?;
    let substance = row.channel != stored.row.channel
        || row.template_id != stored.row.template_id
        || segment != stored.segment
        || schedule != stored.schedule;
    row.segment = serde_json::to_string(&segment).map_err(anyhow::Error::from)?;
    row.schedule = serde_json::to_string(&schedule).map_err(anyhow::Error::from)?;
    let mut tx = storage::db::begin_write(&state.db).await?;
    if substance && stored.status() != Status::Draft {
        let voided = storage::campaign_approvals::void(&mut tx, ws, &row.id).await?;
        row.status = Status::Draft.as_str().into();
        row.snapshot = None;
        row.next_at = None;
        if voided > 0 {
            audit::in_workspace(&mut tx, actor, ws.id(), "campaign.approval_void", "campaign", &row.id).await?;
        }
    }
    storage::campaigns::update(&mut tx, ws, &row).await?;
    audit::in_workspace(&mut tx, actor, ws.id(), "campaign.update", "campaign", &row.id).await?;
    tx.commit().await?;
    get(state, actor, ws, id).await
}

/// Removes a campaign that is not on its way (cancel a scheduled or sending one first). The
/// messages it sent stay on each contact's timeline.
pub async fn delete(state: &AppState, actor: &Actor, ws: &WorkspaceAccess, id: &CampaignId) -> AppResult<()> {
    actor.require(Scope::WriteCampaigns)?;
    ws.require_editor()?;
    let stored = load(state, ws, id).await?;
    if matches!(stored.status(), Status::Scheduled | Status::Sending | Status::Paused) {
        return Err(AppError::conflict(
            "this campaign is on its way; cancel it before deleting it",
        ));
    }
    let mut tx = storage::db::begin_write(&state.db).await?;
    storage::campaigns::delete(&mut tx, ws, id.as_str()).await?;
    audit::in_workspace(&mut tx, actor, ws.id(), "campaign.delete", "campaign", id.as_str()).await?;
    tx.commit().await?;
    Ok(())
}

/// What a live count shows while the campaign is edited: who the segment reaches on the
/// channel, and who will be skipped. A yearly campaign counts the contacts with a date.
pub async fn audience(
    state: &AppState,
    actor: &Actor,
    ws: &WorkspaceAccess,
    channel: &str,
    segment: &Segment,
    schedule: Option<&Schedule>,
) -> AppResult<segment::Audience> {
    actor.require(Scope::ReadCampaigns)?;
    let channel = check_channel(channel)?;
    let fields = field_definition::applicable(&state.db, ws).await?;
    let mut q = segment::query(state, ws, &fields, segment).await?;
    if let Some(Schedule::Yearly { field, .. }) = schedule
        && fields.type_of(field) == Some(FieldType::Date)
    {
        q.has_value = Some(field.clone());
    }
    segment::audience(state, ws, &q, channel.as_str()).await
}

/// One page of a campaign's per-recipient log.
#[derive(Debug, Clone)]
pub struct Recipient {
    pub contact_id: String,
    pub name: String,
    /// `""` for a one-off campaign; the year for a yearly one.
    pub occurrence: String,
    pub address: Option<String>,
    /// `queued`, `sent`, `delivered`, `opened`, `clicked`, `failed`, `bounced`, `unknown`,
    /// `skipped` or `cancelled`.
    pub status: String,
    /// Why it was skipped: `suppressed`, `no_address` or `render_error`.
    pub reason: Option<String>,
    pub detail: Option<String>,
    pub communication_id: Option<String>,
}

/// The statuses a filter of the log stands for.
pub fn filter_statuses(filter: &str) -> AppResult<&'static [&'static str]> {
    Ok(match filter.trim() {
        "" | "all" => &[],
        "queued" => &["pending", "queued"],
        "sent" => &["sent", "delivered", "opened", "clicked"],
        "delivered" => &["delivered", "opened", "clicked"],
        "opened" => &["opened", "clicked"],
        "failed" => &["failed", "bounced"],
        "unknown" => &["unknown"],
        "skipped" => &["skipped"],
        "cancelled" => &["cancelled"],
        _ => {
            return Err(AppError::invalid(
                "status",
                "status is queued, sent, delivered, opened, failed, unknown, skipped or cancelled",
            ));
        }
    })
}

pub async fn recipients(
    state: &AppState,
    actor: &Actor,
    ws: &WorkspaceAccess,
    id: &CampaignId,
    status: &str,
    cursor: Option<&str>,
    limit: u32,
) -> AppResult<super::page::Page<Recipient>> {
    actor.require(Scope::ReadCampaigns)?;
    let statuses = filter_statuses(status)?;
    load(state, ws, id).await?;
    let after = match cursor.map(str::trim).filter(|c| !c.is_empty()) {
        Some(c) => Some(
            c.split_once('~')
                .ok_or_else(|| AppError::invalid("cursor", "this cursor is not valid"))?,
        ),
        None => None,
    };
    let limit = limit.clamp(1, super::page::MAX_LIMIT);
    let mut rows =
        storage::campaign_recipients::page(&state.db, ws, id.as_str(), statuses, after, i64::from(limit) + 1).await?;
    let more = rows.len() > limit as usize;
    rows.truncate(limit as usize);
    let next_cursor = more
        .then(|| rows.last().map(|r| format!("{}~{}", r.occurrence, r.contact_id)))
        .flatten();
    let items = rows
        .into_iter()
        .map(|r| {
            let name = [r.first_name.as_deref(), r.last_name.as_deref()]
                .into_iter()
                .flatten()
                .filter(|s| !s.trim().is_empty())
                .collect::<Vec<_>>()
                .join(" ");
            Recipient {
                contact_id: r.contact_id,
                name: if name.is_empty() { "(no name)".into() } else { name },
                occurrence: r.occurrence,
                address: r.address,
                status: match r.status.as_str() {
                    "pending" => "queued".into(),
                    s => s.into(),
                },
                reason: r.reason,
                detail: r.detail,
                communication_id: r.communication_id,
            }
        })
        .collect();
    Ok(super::page::Page { items, next_cursor })
}
