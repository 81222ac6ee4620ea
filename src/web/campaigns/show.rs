//! A campaign's page: its status, approval, progress while it sends (refreshed by htmx), the
//! message as a chosen recipient gets it (a sandboxed frame), the per-recipient log, and the
//! actions its status allows. Every action is a form with the CSRF token.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use axum_extra::extract::Form;
use serde::Deserialize;

use crate::auth::workspace::Editor;
use crate::domain::campaign::approval::{self, DecisionInput};
use crate::domain::campaign::{self, Campaign, Recipient, Status, fan_out, sending};
use crate::domain::ids::{CampaignId, ContactId, WorkspaceId};
use crate::domain::template::render::Rendered;
use crate::domain::workspace::WorkspaceAccess;
use crate::error::AppError;
use crate::state::AppState;
use crate::web::chrome::Chrome;
use crate::web::error::PageError;
use crate::web::extract::{PagePath, PageWs};
use crate::web::flash;

/// The log's filters, as tabs.
const FILTERS: &[(&str, &str)] = &[
    ("", "All"),
    ("queued", "Waiting"),
    ("sent", "Sent"),
    ("delivered", "Delivered"),
    ("opened", "Opened"),
    ("failed", "Failed"),
    ("unknown", "Unknown"),
    ("skipped", "Skipped"),
    ("cancelled", "Cancelled"),
];

#[derive(Template, WebTemplate)]
#[template(path = "campaigns/show.html")]
struct ShowPage {
    chrome: Chrome,
    ws: WorkspaceAccess,
    c: Campaign,
    template_name: Option<String>,
    segment_words: Vec<String>,
    schedule_words: String,
    recipients: Vec<Recipient>,
    next_cursor: Option<String>,
    filter: String,
    filters: &'static [(&'static str, &'static str)],
    /// Contacts to preview the message for.
    sample_contacts: Vec<(String, String)>,
    preview_contact: String,
    can_edit: bool,
    is_owner: bool,
    approval_required: bool,
    /// The link for outsiders the next step would need and cannot have (no `public_url`): the
    /// page says so before the button.
    link_missing: Option<approval::OutsiderLink>,
    /// Its emails go without one-click unsubscribe (an http public address).
    without_one_click: bool,
}

impl ShowPage {
    fn status(&self) -> Status {
        self.c.status()
    }

    fn live(&self) -> bool {
        matches!(self.status(), Status::Sending | Status::Scheduled) || self.c.stats.queued > 0
    }

    fn percent(&self) -> i64 {
        let total = self.c.stats.recipients.max(1);
        (self.c.stats.settled() * 100 / total).clamp(0, 100)
    }

    fn reason_label(&self, r: &Recipient) -> String {
        match (r.status.as_str(), r.reason.as_deref()) {
            ("skipped", Some("suppressed")) => "Skipped: unsubscribed".into(),
            ("skipped", Some("no_address")) => "Skipped: no address".into(),
            ("skipped", _) => format!("Skipped: {}", r.detail.clone().unwrap_or_default()),
            ("queued", _) => "Waiting".into(),
            ("unknown", _) => "May not have been sent".into(),
            (s, _) => {
                let mut chars = s.chars();
                chars
                    .next()
                    .map(|f| f.to_uppercase().collect::<String>() + chars.as_str())
                    .unwrap_or_default()
            }
        }
    }
}

#[derive(Deserialize, Default)]
pub struct ShowParams {
    #[serde(default)]
    status: String,
    #[serde(default)]
    cursor: String,
    #[serde(default)]
    contact: String,
    /// A preview's "load images" (`1`).
    #[serde(default)]
    images: String,
}

pub async fn page(
    State(state): State<AppState>,
    PageWs { actor, ws, chrome, .. }: PageWs,
    PagePath((_, id)): PagePath<(WorkspaceId, CampaignId)>,
    Query(params): Query<ShowParams>,
) -> Result<Response, PageError> {
    let c = campaign::get(&state, &actor, &ws, &id).await?;
    // Opening the page is seeing the decision (the dashboard stops announcing it).
    if c.approval.as_ref().is_some_and(|a| a.unseen) && ws.can_edit() {
        campaign::mark_seen(&state, &ws, &id).await?;
    }
    let filter = if campaign::filter_statuses(&params.status).is_ok() {
        params.status.clone()
    } else {
        String::new()
    };
    let log = campaign::recipients(&state, &actor, &ws, &id, &filter, Some(&params.cursor), 50).await?;
    let template_name = match c.template_id.as_deref().and_then(crate::domain::ids::TemplateId::parse) {
        Some(t) => crate::domain::template::get(&state, &actor, &ws, &t)
            .await
            .ok()
            .map(|t| t.name),
        None => None,
    };
    let tz = ws.time_zone(&state.config)?;
    let segment_words = campaign::segment::describe(&state, &ws, &c.segment).await?;
    let schedule_words = sending::schedule_words(&c.schedule, &tz);
    // Anyone in the log shown can be previewed (no second walk of the recipients).
    let sample_contacts = log
        .items
        .iter()
        .filter(|r| r.status != "skipped" || r.reason.as_deref() == Some("suppressed"))
        .take(20)
        .map(|r| (r.contact_id.clone(), r.name.clone()))
        .collect();
    let approval_required = campaign::settings::load(&state.db, &ws).await?.approval.required;
    let link_missing = approval::link_missing(&state, &c, approval_required);
    let without_one_click = approval::without_one_click(&state, &c);
    Ok(ShowPage {
        chrome: chrome.in_section("campaigns"),
        can_edit: ws.can_edit(),
        is_owner: ws.is_owner(),
        ws,
        c,
        template_name,
        segment_words,
        schedule_words,
        recipients: log.items,
        next_cursor: log.next_cursor,
        filter,
        filters: FILTERS,
        sample_contacts,
        preview_contact: params.contact,
        approval_required,
        without_one_click,
        link_missing,
    }
    .into_response())
}

/// The message for one recipient, as its own sandboxed document.
pub async fn preview(
    State(state): State<AppState>,
    PageWs { actor, ws, .. }: PageWs,
    PagePath((_, id)): PagePath<(WorkspaceId, CampaignId)>,
    Query(params): Query<ShowParams>,
) -> Result<Response, PageError> {
    let contact = ContactId::parse(params.contact.trim());
    let c = campaign::get(&state, &actor, &ws, &id).await?;
    let channel = c.channel;
    let rendered = fan_out::preview(&state, &actor, &ws, &id, contact.as_ref())
        .await
        .map(|p| Rendered {
            subject: p.subject,
            body_html: p.body_html,
            body_text: p.body_text,
        });
    let query = format!(
        "contact={}",
        form_urlencoded::byte_serialize(params.contact.as_bytes()).collect::<String>()
    );
    let images = crate::web::templates::preview::Images::from_query(&params.images, &query);
    crate::web::templates::preview::document(channel, rendered, images)
}

#[derive(Deserialize, Default)]
pub struct ActionForm {
    #[serde(default)]
    decided_by: String,
    #[serde(default)]
    notes: String,
}

/// The buttons of the page: each answers with the page again and what happened.
pub async fn act(
    State(state): State<AppState>,
    PageWs { actor, ws, .. }: PageWs<Editor>,
    PagePath((_, id, action)): PagePath<(WorkspaceId, CampaignId, String)>,
    Form(form): Form<ActionForm>,
) -> Result<Response, PageError> {
    let back = format!("/workspaces/{}/campaigns/{id}", ws.id());
    let decision = || DecisionInput {
        decided_by: Some(form.decided_by.clone()),
        notes: Some(form.notes.clone()),
    };
    let done = match action.as_str() {
        "submit" => approval::submit(&state, &actor, &ws, &id).await.map(|c| {
            format!(
                "Sent for review to {}.",
                c.approval.map(|a| a.reviewer_email).unwrap_or_default()
            )
        }),
        "schedule" => sending::schedule(&state, &actor, &ws, &id).await.map(|c| {
            if c.status() == Status::Sending {
                "Sending now.".to_string()
            } else {
                "Scheduled.".to_string()
            }
        }),
        "pause" => sending::pause(&state, &actor, &ws, &id)
            .await
            .map(|_| "Paused: nothing more goes until you resume.".into()),
        "resume" => sending::resume(&state, &actor, &ws, &id)
            .await
            .map(|_| "Resumed.".into()),
        "cancel" => sending::cancel(&state, &actor, &ws, &id)
            .await
            .map(|_| "Cancelled: what had not gone will not go.".into()),
        "approve" => approval::record(&state, &actor, &ws, &id, true, decision())
            .await
            .map(|_| "The approval is recorded, marked as recorded by you.".into()),
        "reject" => approval::record(&state, &actor, &ws, &id, false, decision())
            .await
            .map(|_| "The rejection is recorded, marked as recorded by you.".into()),
        "delete" => match campaign::delete(&state, &actor, &ws, &id).await {
            Ok(()) => {
                return Ok(flash::redirect(
                    &state,
                    &format!("/workspaces/{}/campaigns", ws.id()),
                    "success",
                    "Campaign deleted. The messages it sent stay on each contact's timeline.",
                ));
            }
            Err(e) => Err(e),
        },
        _ => return Err(AppError::NotFound.into()),
    };
    Ok(match done {
        Ok(message) => flash::redirect(&state, &back, "success", &message),
        Err(
            e @ (AppError::Invalid { .. }
            | AppError::InvalidMany(_)
            | AppError::Conflict { .. }
            | AppError::Refused { .. }
            | AppError::Upstream { .. }),
        ) => flash::redirect(&state, &back, "error", &e.public_message()),
        Err(e) => return Err(e.into()),
    })
}
