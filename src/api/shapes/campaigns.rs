//! A campaign, its segment and schedule, its approval, its recipients, and a workspace's
//! campaign settings.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use super::enums::{ApprovalStatus, CampaignStatus, Channel, LinkEmail};
use super::opt;
use crate::domain::campaign::{self, approval, fan_out, segment, settings};

/// Who a campaign goes to: contacts on any of `lists_any`, on none of `lists_none`, whose
/// custom fields meet every condition.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct Segment {
    #[serde(default)]
    pub lists_any: Vec<String>,
    #[serde(default)]
    pub lists_none: Vec<String>,
    #[serde(default)]
    pub conditions: Vec<Condition>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Condition {
    /// A custom field's name.
    pub field: String,
    /// `eq` (the default), `ne`, `gt`, `gte`, `lt`, `lte` or `contains`.
    #[serde(default = "eq")]
    pub op: String,
    #[schema(value_type = Object)]
    pub value: Value,
}

fn eq() -> String {
    "eq".into()
}

impl From<segment::Segment> for Segment {
    fn from(s: segment::Segment) -> Self {
        let condition = |c: segment::Condition| Condition {
            field: c.field,
            op: c.op,
            value: c.value,
        };
        Segment {
            lists_any: s.lists_any,
            lists_none: s.lists_none,
            conditions: s.conditions.into_iter().map(condition).collect(),
        }
    }
}

impl From<Segment> for segment::Segment {
    fn from(s: Segment) -> Self {
        let condition = |c: Condition| segment::Condition {
            field: c.field,
            op: c.op,
            value: c.value,
        };
        segment::Segment {
            lists_any: s.lists_any,
            lists_none: s.lists_none,
            conditions: s.conditions.into_iter().map(condition).collect(),
        }
    }
}

/// How many contacts a segment reaches on a channel, and who of them will be skipped.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
pub struct Audience {
    pub contacts: i64,
    pub no_address: i64,
    pub suppressed: i64,
    /// The ones a message will go to.
    pub reachable: i64,
}

impl From<segment::Audience> for Audience {
    fn from(a: segment::Audience) -> Self {
        Audience {
            contacts: a.contacts,
            no_address: a.no_address,
            suppressed: a.suppressed,
            reachable: a.reachable,
        }
    }
}

/// When it goes.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
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

impl From<campaign::Schedule> for Schedule {
    fn from(s: campaign::Schedule) -> Self {
        match s {
            campaign::Schedule::Now => Schedule::Now,
            campaign::Schedule::At { at } => Schedule::At { at },
            campaign::Schedule::Yearly { field, time } => Schedule::Yearly { field, time },
        }
    }
}

impl From<Schedule> for campaign::Schedule {
    fn from(s: Schedule) -> Self {
        match s {
            Schedule::Now => campaign::Schedule::Now,
            Schedule::At { at } => campaign::Schedule::At { at },
            Schedule::Yearly { field, time } => campaign::Schedule::Yearly { field, time },
        }
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Skipped {
    pub suppressed: i64,
    pub no_address: i64,
    pub render_error: i64,
}

/// Where its messages are. `sent` counts every message the provider took (delivered and
/// opened ones too), `delivered` those delivered or opened, `failed` failures and bounces.
#[derive(Debug, Clone, Serialize, ToSchema)]
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

impl From<campaign::Stats> for Stats {
    fn from(s: campaign::Stats) -> Self {
        Stats {
            recipients: s.recipients,
            queued: s.queued,
            sent: s.sent,
            delivered: s.delivered,
            opened: s.opened,
            failed: s.failed,
            unknown: s.unknown,
            cancelled: s.cancelled,
            skipped: Skipped {
                suppressed: s.skipped.suppressed,
                no_address: s.skipped.no_address,
                render_error: s.skipped.render_error,
            },
        }
    }
}

/// A campaign: what it sends, to whom, when, and how far it got.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Campaign {
    pub id: String,
    pub workspace_id: String,
    pub name: String,
    pub channel: Channel,
    pub template_id: Option<String>,
    pub segment: Segment,
    pub schedule: Schedule,
    pub status: CampaignStatus,
    pub approval: Option<ApprovalView>,
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

impl From<campaign::Campaign> for Campaign {
    fn from(c: campaign::Campaign) -> Self {
        Campaign {
            id: c.id,
            workspace_id: c.workspace_id,
            name: c.name,
            channel: c.channel.into(),
            template_id: c.template_id,
            segment: c.segment.into(),
            schedule: c.schedule.into(),
            status: c.status.into(),
            approval: opt(c.approval),
            stats: c.stats.into(),
            waiting: opt(c.waiting),
            next_at: c.next_at,
            problem: c.problem,
            created_at: c.created_at,
            updated_at: c.updated_at,
        }
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Waiting {
    pub messages: i64,
    /// When the first of them may go.
    pub until: String,
    pub reason: String,
}

impl From<campaign::Waiting> for Waiting {
    fn from(w: campaign::Waiting) -> Self {
        Waiting {
            messages: w.messages,
            until: w.until,
            reason: w.reason,
        }
    }
}

/// `POST` needs `name` and `channel`; `PATCH` takes any part.
#[derive(Debug, Default, Clone, Deserialize, ToSchema)]
pub struct CampaignInput {
    pub name: Option<String>,
    #[schema(value_type = Option<Channel>)]
    pub channel: Option<String>,
    /// `""` clears it.
    pub template_id: Option<String>,
    pub segment: Option<Segment>,
    pub schedule: Option<Schedule>,
}

impl From<CampaignInput> for campaign::CampaignInput {
    fn from(i: CampaignInput) -> Self {
        campaign::CampaignInput {
            name: i.name,
            channel: i.channel,
            template_id: i.template_id,
            segment: opt(i.segment),
            schedule: opt(i.schedule),
        }
    }
}

/// One contact's line in a campaign's log.
#[derive(Debug, Clone, Serialize, ToSchema)]
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

impl From<campaign::Recipient> for Recipient {
    fn from(r: campaign::Recipient) -> Self {
        Recipient {
            contact_id: r.contact_id,
            name: r.name,
            occurrence: r.occurrence,
            address: r.address,
            status: r.status,
            reason: r.reason,
            detail: r.detail,
            communication_id: r.communication_id,
        }
    }
}

/// The message as one recipient gets it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CampaignPreview {
    pub contact_id: Option<String>,
    pub contact_name: String,
    pub address: Option<String>,
    pub subject: String,
    pub body_html: Option<String>,
    pub body_text: String,
}

impl From<fan_out::Preview> for CampaignPreview {
    fn from(p: fan_out::Preview) -> Self {
        CampaignPreview {
            contact_id: p.contact_id,
            contact_name: p.contact_name,
            address: p.address,
            subject: p.subject,
            body_html: p.body_html,
            body_text: p.body_text,
        }
    }
}

/// A submitted campaign's approval.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ApprovalView {
    pub status: ApprovalStatus,
    pub reviewer_email: String,
    pub reviewer_name: Option<String>,
    pub submitted_at: String,
    pub expires_at: String,
    pub decided_by: Option<String>,
    pub decided_at: Option<String>,
    pub notes: Option<String>,
    /// Who of the workspace recorded a decision received by phone or mail; `null` when the
    /// reviewer decided through the link.
    pub recorded_by: Option<String>,
    /// How the email with the reviewer's link went.
    pub email: LinkEmail,
    /// Why it failed or may not have been sent.
    pub email_error: Option<String>,
}

impl From<approval::ApprovalView> for ApprovalView {
    fn from(a: approval::ApprovalView) -> Self {
        ApprovalView {
            status: a.status.into(),
            reviewer_email: a.reviewer_email,
            reviewer_name: a.reviewer_name,
            submitted_at: a.submitted_at,
            expires_at: a.expires_at,
            decided_by: a.decided_by,
            decided_at: a.decided_at,
            notes: a.notes,
            recorded_by: a.recorded_by,
            email: a.email.into(),
            email_error: a.email_error,
        }
    }
}

/// A decision that came by phone or mail, as the owner records it.
#[derive(Debug, Default, Clone, Deserialize, ToSchema)]
pub struct DecisionInput {
    /// Who decided (the reviewer's name).
    #[schema(pattern = "\\S")]
    pub decided_by: Option<String>,
    pub notes: Option<String>,
}

impl From<DecisionInput> for approval::DecisionInput {
    fn from(i: DecisionInput) -> Self {
        approval::DecisionInput {
            decided_by: i.decided_by,
            notes: i.notes,
        }
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Approval {
    pub required: bool,
    pub reviewer_email: Option<String>,
    pub reviewer_name: Option<String>,
}

impl From<settings::Approval> for Approval {
    fn from(a: settings::Approval) -> Self {
        Approval {
            required: a.required,
            reviewer_email: a.reviewer_email,
            reviewer_name: a.reviewer_name,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct QuietHours {
    /// `HH:MM` in the workspace's time zone; equal to `end`: no quiet hours.
    pub start: String,
    pub end: String,
}

impl From<settings::QuietHours> for QuietHours {
    fn from(q: settings::QuietHours) -> Self {
        QuietHours {
            start: q.start,
            end: q.end,
        }
    }
}

impl From<QuietHours> for settings::QuietHours {
    fn from(q: QuietHours) -> Self {
        settings::QuietHours {
            start: q.start,
            end: q.end,
        }
    }
}

/// What a workspace's owner may change of its campaign settings; absent parts stay.
#[derive(Debug, Default, Clone, Deserialize, ToSchema)]
pub struct SettingsInput {
    pub approval: Option<ApprovalInput>,
    pub quiet_hours: Option<QuietHours>,
    pub daily_text_limit: Option<u32>,
}

#[derive(Debug, Default, Clone, Deserialize, ToSchema)]
pub struct ApprovalInput {
    pub required: Option<bool>,
    pub reviewer_email: Option<String>,
    pub reviewer_name: Option<String>,
}

impl From<SettingsInput> for settings::SettingsInput {
    fn from(i: SettingsInput) -> Self {
        settings::SettingsInput {
            approval: i.approval.map(|a| settings::ApprovalInput {
                required: a.required,
                reviewer_email: a.reviewer_email,
                reviewer_name: a.reviewer_name,
            }),
            quiet_hours: opt(i.quiet_hours),
            daily_text_limit: i.daily_text_limit,
        }
    }
}
