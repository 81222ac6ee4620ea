//! Loan Factory's approval queue (SPEC §10). `submit` freezes a snapshot — the template's words
//! as they are now, the segment, the schedule, a sample rendered for one recipient — and emails
//! the reviewer a personal link (unguessable, 30 days, one decision). The reviewer decides on
//! `/review/{token}` without an account; the owner may record a decision that came by phone or
//! mail instead, marked as recorded by them. Every step is in `campaign_approvals` and the
//! audit log; what is sent later is the approved snapshot, whatever happens to the template.

use askama::Template as _;
use serde::{Deserialize, Serialize};

use super::segment::{self, Audience, Segment};
use super::{Campaign, Schedule, Status, Stored, settings};
use crate::auth::tokens;
use crate::domain::actor::{Actor, Scope};
use crate::domain::audit;
use crate::domain::ids::{ApprovalId, CampaignId, TemplateId, UserId, WorkspaceId};
use crate::domain::messaging::outbox::{self, Notice, Purpose};
use crate::domain::template::{self, Filler};
use crate::domain::workspace::{self, WorkspaceAccess};
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use crate::storage;

/// How long a review link works.
pub const VALID_FOR: jiff::SignedDuration = jiff::SignedDuration::from_hours(24 * 30);
const NOTES_MAX: usize = 4000;

/// Where a submission stands. `void` ones (replaced by a later submission, or by a change to
/// the campaign) are never shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApprovalStatus {
    Pending,
    Approved,
    Rejected,
    Void,
}

impl ApprovalStatus {
    /// The `status` column, whose CHECK allows only these.
    fn stored(text: &str) -> ApprovalStatus {
        match text {
            "approved" => ApprovalStatus::Approved,
            "rejected" => ApprovalStatus::Rejected,
            "void" => ApprovalStatus::Void,
            _ => ApprovalStatus::Pending,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ApprovalStatus::Pending => "pending",
            ApprovalStatus::Approved => "approved",
            ApprovalStatus::Rejected => "rejected",
            ApprovalStatus::Void => "void",
        }
    }
}

/// Pages compare a status with its name (`a.status == "approved"`).
impl PartialEq<&str> for ApprovalStatus {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl LinkEmail {
    pub fn as_str(self) -> &'static str {
        match self {
            LinkEmail::Sending => "sending",
            LinkEmail::Sent => "sent",
            LinkEmail::Failed => "failed",
            LinkEmail::Unknown => "unknown",
        }
    }
}

impl PartialEq<&str> for LinkEmail {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

/// How the email with the reviewer's link went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkEmail {
    /// Waiting in the outbox, or on its way.
    Sending,
    Sent,
    Failed,
    /// It may not have been sent.
    Unknown,
}

impl LinkEmail {
    fn of(state: outbox::State) -> LinkEmail {
        match state {
            outbox::State::Pending | outbox::State::Sending => LinkEmail::Sending,
            outbox::State::Sent => LinkEmail::Sent,
            outbox::State::Failed => LinkEmail::Failed,
            outbox::State::Unknown => LinkEmail::Unknown,
        }
    }
}

/// The latest submission, as a campaign answers it.
#[derive(Debug, Clone)]
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
    /// A decision nobody of the workspace has opened yet (the dashboard announces it).
    pub unseen: bool,
}

pub(crate) async fn view(state: &AppState, ws: &WorkspaceAccess, campaign: &str) -> AppResult<Option<ApprovalView>> {
    let Some(r) = storage::campaign_approvals::latest(&state.db, ws, campaign).await? else {
        return Ok(None);
    };
    let status = ApprovalStatus::stored(&r.status);
    if status == ApprovalStatus::Void {
        return Ok(None);
    }
    let unseen = r.decided_at.is_some() && r.seen_at.is_none();
    // Submissions made before the outbox carried review links have no row: they were sent.
    let (email, email_error) = match storage::outbox::for_approval(&state.db, ws, &r.id).await? {
        Some((state, error)) => (
            LinkEmail::of(outbox::State::parse(&state).unwrap_or(outbox::State::Unknown)),
            error,
        ),
        None => (LinkEmail::Sent, None),
    };
    Ok(Some(ApprovalView {
        unseen,
        email,
        email_error,
        status,
        reviewer_email: r.reviewer_email,
        reviewer_name: r.reviewer_name,
        submitted_at: r.created_at,
        expires_at: r.expires_at,
        decided_by: r.decided_by,
        decided_at: r.decided_at,
        notes: r.notes,
        recorded_by: r.recorded_by.and(r.recorded_by_name),
    }))
}

/// A message as one recipient would get it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Sample {
    pub contact: String,
    pub subject: String,
    pub body_html: Option<String>,
    pub body_text: String,
}

/// What was submitted (or scheduled without review), and so what is sent.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Snapshot {
    pub template_id: String,
    pub template_name: String,
    pub channel: String,
    pub subject: String,
    pub preheader: String,
    pub body: String,
    pub segment: Segment,
    pub segment_words: Vec<String>,
    pub schedule: Schedule,
    pub schedule_words: String,
    pub sample: Option<Sample>,
    pub audience: Audience,
    pub frozen_at: String,
}

impl Snapshot {
    pub fn source(&self) -> crate::domain::template::render::Source<'_> {
        crate::domain::template::render::Source {
            channel: crate::domain::messaging::Channel::parse(&self.channel)
                .unwrap_or(crate::domain::messaging::Channel::Email),
            subject: &self.subject,
            preheader: &self.preheader,
            body: &self.body,
        }
    }
}

/// Freezes what the campaign would send now. It needs a template that still fills in.
pub(crate) async fn freeze(
    state: &AppState,
    actor: &Actor,
    ws: &WorkspaceAccess,
    stored: &Stored,
) -> AppResult<Snapshot> {
    let template_id = stored
        .row
        .template_id
        .as_deref()
        .and_then(TemplateId::parse)
        .ok_or_else(|| AppError::invalid("template_id", "choose the template this campaign sends first"))?;
    let t = template::get(state, actor, ws, &template_id)
        .await
        .map_err(|_| AppError::invalid("template_id", "the campaign's template was deleted; choose another"))?;
    let filler = Filler::for_source(state, actor, ws, &t.source()).await?;
    let mut counted = segment::query(state, ws, filler.fields(), &stored.segment).await?;
    if let Schedule::Yearly { field, .. } = &stored.schedule {
        counted.has_value = Some(field.clone());
    }
    let audience = segment::audience(state, ws, &counted, &stored.row.channel).await?;
    // The reviewer is outside the house: the sample is filled in for the fictional sample
    // contact, never a real one (their name, data, or a working unsubscribe link).
    let sample_contact = template::sample_contact(filler.fields());
    let rendered = filler.fill(state, &sample_contact)?;
    let tz = ws.time_zone(&state.config)?;
    Ok(Snapshot {
        template_id: t.id.clone(),
        template_name: t.name.clone(),
        channel: t.channel.to_string(),
        subject: t.subject.clone(),
        preheader: t.preheader.clone(),
        body: t.body.clone(),
        segment: stored.segment.clone(),
        segment_words: segment::describe(state, ws, &stored.segment).await?,
        schedule: stored.schedule.clone(),
        schedule_words: super::sending::schedule_words(&stored.schedule, &tz),
        sample: Some(Sample {
            contact: sample_contact.display_name(),
            subject: rendered.subject,
            body_html: rendered.body_html,
            body_text: rendered.body_text,
        }),
        audience,
        frozen_at: crate::clock::now_text(),
    })
}

#[derive(askama::Template)]
#[template(path = "emails/campaign_review.html")]
struct ReviewEmail<'a> {
    s: &'a Snapshot,
    campaign: &'a str,
    workspace: &'a str,
    submitter: &'a str,
    reviewer: Option<&'a str>,
    link: &'a str,
    expires: &'a str,
}

/// The review link, under `public_url` only: never built from a request's `Host`, which the
/// person submitting controls (a link to their own server would hand them the reviewer's
/// token).
pub fn review_link(public_url: &str, token: &str) -> String {
    format!("{}/review/{token}", public_url.trim_end_matches('/'))
}

/// A link a campaign hands someone outside the house, made under `public_url` only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutsiderLink {
    /// The reviewer's link, sent when the campaign is submitted.
    Review,
    /// The one-click unsubscribe link every campaign email carries.
    Unsubscribe,
}

impl OutsiderLink {
    /// Why it cannot be made yet (409 `public_url_required`).
    pub fn required(self) -> AppError {
        let what = match self {
            OutsiderLink::Review => "the reviewer's link",
            OutsiderLink::Unsubscribe => "an email campaign's unsubscribe link",
        };
        AppError::refused(
            "public_url_required",
            format!(
                "{what} needs pi-crm's public address, which people outside your home network can open: \
                 set public_url and restart pi-crm (Settings → Reach from outside, and docs/deploy.md, say how)"
            ),
        )
    }
}

/// The outsider link the campaign's next step (submitting it for review, or sending it) would
/// need and cannot have, pi-crm having no public address: what its page warns about before the
/// button, and why `submit` and `schedule` refuse.
pub fn link_missing(state: &AppState, c: &Campaign, approval_required: bool) -> Option<OutsiderLink> {
    let next_step_pending = matches!(
        c.status(),
        Status::Draft | Status::Rejected | Status::PendingApproval | Status::Approved
    );
    if state.config.public_url.is_some() || !next_step_pending {
        return None;
    }
    if approval_required {
        Some(OutsiderLink::Review)
    } else if c.channel == crate::domain::messaging::Channel::Email {
        Some(OutsiderLink::Unsubscribe)
    } else {
        None
    }
}

/// True when the campaign's emails go without one-click unsubscribe because `public_url` is
/// plain http (RFC 8058 §3.1 requires https): they still offer the link and a mail to the
/// sender, and the campaign page says why.
pub fn without_one_click(state: &AppState, c: &Campaign) -> bool {
    c.channel == crate::domain::messaging::Channel::Email
        && state
            .config
            .public_url
            .as_deref()
            .is_some_and(|u| u.starts_with("http://"))
}

/// Submits the campaign for review: freezes the snapshot and queues the reviewer's email with
/// their link, through the workspace's email provider, in the same transaction. How that
/// email goes shows on the campaign (`ApprovalView::email`).
pub async fn submit(state: &AppState, actor: &Actor, ws: &WorkspaceAccess, id: &CampaignId) -> AppResult<Campaign> {
    actor.require(Scope::WriteCampaigns)?;
    ws.require_editor()?;
    let Some(public_url) = state.config.public_url.as_deref() else {
        return Err(OutsiderLink::Review.required());
    };
    let stored = super::load(state, ws, id).await?;
    if !matches!(
        stored.status(),
        Status::Draft | Status::Rejected | Status::PendingApproval
    ) {
        return Err(AppError::conflict(format!(
            "a campaign that is {} cannot be submitted for review",
            stored.status().label().to_lowercase()
        )));
    }
    let config = settings::load(&state.db, ws).await?;
    let Some(reviewer_email) = config.approval.reviewer_email.clone() else {
        return Err(AppError::refused(
            "no_reviewer",
            "this workspace has no reviewer yet; its owner sets one under Settings → Campaigns",
        ));
    };
    if !crate::domain::messaging::providers::configured(state, ws).await?.0 {
        return Err(AppError::refused(
            "provider_not_configured",
            "the reviewer's link is sent by email: this workspace needs an email provider first (Settings → Providers)",
        ));
    }
    let snapshot = freeze(state, actor, ws, &stored).await?;
    let token = tokens::random_hex(32);
    let expires = state.clock.now() + VALID_FOR;
    let me = crate::domain::user::me(&state.db, actor).await?;
    let link = review_link(public_url, &token);
    let tz = ws.time_zone(&state.config)?;
    let expires_words = super::sending::instant_words(expires, &tz);
    let html = ReviewEmail {
        s: &snapshot,
        campaign: &stored.row.name,
        workspace: ws.name(),
        submitter: &me.name,
        reviewer: config.approval.reviewer_name.as_deref(),
        link: &link,
        expires: &expires_words,
    }
    .render()
    .map_err(anyhow::Error::from)?;
    let now = state.clock.now_text();
    let snapshot_json = serde_json::to_string(&snapshot).map_err(anyhow::Error::from)?;
    let approval_id = ApprovalId::generate();
    // The approval row and the email that carries its link commit together: the reviewer never
    // holds a link to nothing, and the outbox sends it (retried while nothing went out).
    let mut tx = storage::db::begin_write(&state.db).await?;
    storage::campaign_approvals::void(&mut tx, ws, id.as_str()).await?;
    storage::campaign_approvals::insert(
        &mut tx,
        ws,
        &storage::campaign_approvals::NewApproval {
            id: approval_id.as_str(),
            campaign_id: id.as_str(),
            token_hash: &tokens::sha256_hex(&token),
            snapshot: &snapshot_json,
            reviewer_email: &reviewer_email,
            reviewer_name: config.approval.reviewer_name.as_deref(),
            submitted_by: actor.user_id.as_str(),
            now: &now,
            expires_at: &crate::clock::format(expires),
        },
    )
    .await?;
    outbox::queue_notice(
        &mut tx,
        ws,
        Purpose::Review,
        Some(approval_id.as_str()),
        Notice {
            to: &reviewer_email,
            subject: format!("Please review: {} ({})", stored.row.name, ws.name()),
            text: template::plain::from_html(&html),
            html,
        },
        &now,
    )
    .await?;
    let mut row = stored.row.clone();
    row.status = Status::PendingApproval.as_str().into();
    row.snapshot = Some(snapshot_json);
    row.next_at = None;
    storage::campaigns::update(&mut tx, ws, &row).await?;
    audit::in_workspace_with(
        &mut tx,
        actor,
        ws.id(),
        "campaign.submit",
        "campaign",
        id.as_str(),
        &serde_json::json!({"approval_id": approval_id.as_str(), "reviewer_email": reviewer_email}),
    )
    .await?;
    tx.commit().await?;
    state.outbox.notify_one();
    super::get(state, actor, ws, id).await
}

/// A decision the owner records (it came by phone or mail).
#[derive(Debug, Default, Clone)]
pub struct DecisionInput {
    /// Who decided (the reviewer's name).
    pub decided_by: Option<String>,
    pub notes: Option<String>,
}

fn check_decision(decided_by: Option<&str>, notes: Option<&str>) -> AppResult<(String, Option<String>)> {
    let mut bad = crate::error::Invalids::default();
    let name = decided_by.unwrap_or("").trim();
    if name.is_empty() {
        bad.check::<()>(Err(AppError::invalid(
            "decided_by",
            "write the name of the person who decided",
        )))?;
    } else if name.chars().count() > 100 || name.contains(['\r', '\n']) {
        bad.check::<()>(Err(AppError::invalid(
            "decided_by",
            "a name is one line of at most 100 characters",
        )))?;
    }
    let notes = notes.map(str::trim).filter(|n| !n.is_empty());
    if notes.is_some_and(|n| n.chars().count() > NOTES_MAX) {
        bad.check::<()>(Err(AppError::invalid(
            "notes",
            format!("notes are at most {NOTES_MAX} characters"),
        )))?;
    }
    bad.finish()?;
    Ok((name.to_string(), notes.map(str::to_string)))
}

/// The owner records the reviewer's decision (`approve` or not), marked as recorded by them.
pub async fn record(
    state: &AppState,
    actor: &Actor,
    ws: &WorkspaceAccess,
    id: &CampaignId,
    approve: bool,
    input: DecisionInput,
) -> AppResult<Campaign> {
    actor.require(Scope::WriteCampaigns)?;
    ws.require_owner("record the reviewer's decision")?;
    let (decided_by, notes) = check_decision(input.decided_by.as_deref(), input.notes.as_deref())?;
    let stored = super::load(state, ws, id).await?;
    let open = storage::campaign_approvals::latest(&state.db, ws, id.as_str())
        .await?
        .filter(|a| a.status == "pending" && stored.status() == Status::PendingApproval)
        .ok_or_else(|| AppError::conflict("this campaign is not waiting for a decision; submit it for review first"))?;
    let mut tx = storage::db::begin_write(&state.db).await?;
    let actor_id = actor.user_id.to_string();
    apply(
        &mut tx,
        ws,
        &open.id,
        id.as_str(),
        approve,
        &decided_by,
        notes.as_deref(),
        Some(&actor_id),
    )
    .await?;
    audit::in_workspace_with(
        &mut tx,
        actor,
        ws.id(),
        if approve { "campaign.approve" } else { "campaign.reject" },
        "campaign",
        id.as_str(),
        &serde_json::json!({"approval_id": open.id, "decided_by": decided_by, "recorded": true}),
    )
    .await?;
    tx.commit().await?;
    super::get(state, actor, ws, id).await
}

/// Writes a decision on the submission and moves the campaign on, once.
#[allow(clippy::too_many_arguments)]
async fn apply(
    tx: &mut sqlx::SqliteConnection,
    ws: &WorkspaceAccess,
    approval: &str,
    campaign: &str,
    approve: bool,
    decided_by: &str,
    notes: Option<&str>,
    recorded_by: Option<&str>,
) -> AppResult<()> {
    let status = if approve { "approved" } else { "rejected" };
    let now = crate::clock::now_text();
    if !storage::campaign_approvals::decide(tx, ws, approval, status, decided_by, notes, recorded_by, &now).await? {
        return Err(AppError::conflict("this campaign was decided already"));
    }
    let to = if approve { Status::Approved } else { Status::Rejected };
    if !storage::campaigns::transition(tx, ws, campaign, &[Status::PendingApproval.as_str()], to.as_str()).await? {
        return Err(AppError::conflict("this campaign is no longer waiting for a decision"));
    }
    Ok(())
}

/// Where a review link stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkState {
    Open,
    Decided,
    /// The campaign changed after it was submitted: this snapshot will never be sent.
    Void,
    Expired,
}

/// What the reviewer's page shows.
pub struct Review {
    pub state: LinkState,
    pub campaign: String,
    pub workspace: String,
    pub snapshot: Snapshot,
    pub reviewer_name: Option<String>,
    pub submitted_by: String,
    pub submitted_at: String,
    pub expires_at: String,
    pub status: ApprovalStatus,
    pub decided_by: Option<String>,
    pub decided_at: Option<String>,
    pub notes: Option<String>,
    pub recorded: bool,
    /// The workspace's time zone, for the times on the page.
    pub zone: jiff::tz::TimeZone,
}

/// The submission a review link names, or 404 for a token that names none.
async fn found(state: &AppState, token: &str) -> AppResult<(storage::campaign_approvals::Row, WorkspaceAccess)> {
    let token = token.trim();
    if token.len() != 64 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(AppError::NotFound);
    }
    let row = storage::campaign_approvals::by_token_hash(&state.db, &tokens::sha256_hex(token))
        .await?
        .ok_or(AppError::NotFound)?;
    let ws_id = WorkspaceId::found(&row.workspace_id)?;
    // The token was the proof: it is unguessable, and names this workspace's approval row.
    let (ws, _) = workspace::for_system(&workspace::System::acting(), &state.db, &ws_id)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok((row, ws))
}

/// The review page's content for `token`.
pub async fn review(state: &AppState, token: &str) -> AppResult<Review> {
    let (row, ws) = found(state, token).await?;
    let link_state = match row.status.as_str() {
        "pending" if row.expires_at <= state.clock.now_text() => LinkState::Expired,
        "pending" => LinkState::Open,
        "void" => LinkState::Void,
        _ => LinkState::Decided,
    };
    let submitted_by = match row.submitted_by.as_deref().and_then(UserId::parse) {
        Some(u) => storage::users::find(&state.db, &u)
            .await?
            .map(|u| u.name)
            .unwrap_or_else(|| "someone".into()),
        None => "someone".into(),
    };
    Ok(Review {
        state: link_state,
        campaign: row.campaign_name.clone().unwrap_or_else(|| "A deleted campaign".into()),
        workspace: ws.name().to_string(),
        snapshot: serde_json::from_str(&row.snapshot).map_err(anyhow::Error::from)?,
        reviewer_name: row.reviewer_name,
        submitted_by,
        submitted_at: row.created_at,
        expires_at: row.expires_at,
        status: ApprovalStatus::stored(&row.status),
        decided_by: row.decided_by,
        decided_at: row.decided_at,
        notes: row.notes,
        recorded: row.recorded_by.is_some(),
        zone: ws.time_zone(&state.config)?,
    })
}

/// The reviewer's decision through their link: once, before it expires, while the campaign
/// is as they saw it. The audit entry names them (they have no account).
pub async fn decide_by_link(state: &AppState, token: &str, approve: bool, name: &str, notes: &str) -> AppResult<()> {
    let (row, ws) = found(state, token).await?;
    match row.status.as_str() {
        "pending" if row.expires_at <= state.clock.now_text() => {
            return Err(AppError::refused(
                "link_expired",
                "this review link has expired; ask for the campaign to be submitted again",
            ));
        }
        "pending" => {}
        "void" => {
            return Err(AppError::refused(
                "link_void",
                "the campaign was changed after this link was sent; a new review request will follow",
            ));
        }
        _ => return Err(AppError::conflict("this campaign was decided already")),
    }
    let (decided_by, notes) = check_decision(Some(name), Some(notes))?;
    let mut tx = storage::db::begin_write(&state.db).await?;
    apply(
        &mut tx,
        &ws,
        &row.id,
        &row.campaign_id,
        approve,
        &decided_by,
        notes.as_deref(),
        None,
    )
    .await?;
    audit::by_outsider(
        &mut tx,
        ws.id(),
        if approve { "campaign.approve" } else { "campaign.reject" },
        "campaign",
        &row.campaign_id,
        &serde_json::json!({"approval_id": row.id, "decided_by": decided_by, "via": "review link",
                            "reviewer_email": row.reviewer_email}),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// An approval waiting, or a decision nobody has opened yet (the dashboard's first widget).
pub struct Waiting {
    pub workspace: WorkspaceAccess,
    pub campaign_id: String,
    pub campaign: String,
    pub status: ApprovalStatus,
    pub reviewer: String,
    pub at: String,
}

pub async fn waiting(state: &AppState, actor: &Actor, workspaces: &[WorkspaceAccess]) -> AppResult<Vec<Waiting>> {
    if !actor.has_scope(Scope::ReadCampaigns) {
        return Ok(Vec::new());
    }
    let mut out = Vec::new();
    for ws in workspaces {
        for r in storage::campaign_approvals::open_or_unseen(&state.db, ws, 10).await? {
            out.push(Waiting {
                workspace: ws.clone(),
                campaign_id: r.campaign_id,
                campaign: r.campaign_name.unwrap_or_default(),
                reviewer: r.decided_by.clone().or(r.reviewer_name).unwrap_or(r.reviewer_email),
                at: r.decided_at.unwrap_or(r.created_at),
                status: ApprovalStatus::stored(&r.status),
            });
        }
    }
    out.sort_by(|a, b| b.at.cmp(&a.at));
    Ok(out)
}
