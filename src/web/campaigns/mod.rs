//! `/workspaces/{ws}/campaigns` (SPEC §10): the list, the editor (segment, schedule, template,
//! with a live count of who it reaches), and the campaign's page with its approval, progress,
//! per-recipient log and actions (`show`).

pub mod show;

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum_extra::extract::Form;
use serde_json::Value;

use super::chrome::Chrome;
use super::error::PageError;
use super::flash;
use super::forms::{FormErrors, Pairs};
use crate::auth::workspace::Editor;
use crate::domain::actor::Actor;
use crate::domain::campaign::segment::{Condition, Segment};
use crate::domain::campaign::{self, Campaign, CampaignInput, Schedule, Status};
use crate::domain::field::FieldType;
use crate::domain::field_definition;
use crate::domain::ids::{CampaignId, WorkspaceId};
use crate::domain::list::{self, ContactList};
use crate::domain::template::{self, ListQuery, Template as MessageTemplate};
use crate::domain::workspace::WorkspaceAccess;
use crate::state::AppState;
use crate::web::extract::{PagePath, PageWs};

#[derive(Template, WebTemplate)]
#[template(path = "campaigns/list.html")]
struct ListPage {
    chrome: Chrome,
    ws: WorkspaceAccess,
    items: Vec<Campaign>,
    can_edit: bool,
}

pub async fn list(
    State(state): State<AppState>,
    PageWs { actor, ws, chrome, .. }: PageWs,
) -> Result<Response, PageError> {
    let items = campaign::list(&state, &actor, &ws).await?;
    Ok(ListPage {
        chrome: chrome.in_section("campaigns"),
        can_edit: ws.can_edit(),
        ws,
        items,
    }
    .into_response())
}

/// Rows of conditions the editor offers.
const CONDITION_ROWS: usize = 3;

/// The editor's form, as typed.
#[derive(Debug, Clone, Default)]
pub struct CampaignForm {
    pub name: String,
    pub channel: String,
    pub template_id: String,
    pub lists_any: Vec<String>,
    pub lists_none: Vec<String>,
    /// `(field, op, value)` per row.
    pub conditions: Vec<(String, String, String)>,
    pub schedule_kind: String,
    /// `YYYY-MM-DDTHH:MM` in the workspace's zone (a `datetime-local` input).
    pub at_local: String,
    pub yearly_field: String,
    pub yearly_time: String,
}

impl CampaignForm {
    fn from_pairs(p: &Pairs) -> CampaignForm {
        let all =
            |name: &str| -> Vec<String> { p.0.iter().filter(|(k, _)| k == name).map(|(_, v)| v.clone()).collect() };
        let conditions = (0..CONDITION_ROWS)
            .map(|i| {
                (
                    p.first(&format!("cond_field_{i}")).to_string(),
                    p.first(&format!("cond_op_{i}")).to_string(),
                    p.first(&format!("cond_value_{i}")).to_string(),
                )
            })
            .collect();
        CampaignForm {
            name: p.first("name").to_string(),
            channel: p.first("channel").to_string(),
            template_id: p.first("template_id").to_string(),
            lists_any: all("lists_any"),
            lists_none: all("lists_none"),
            conditions,
            schedule_kind: p.first("schedule_kind").to_string(),
            at_local: p.first("at_local").to_string(),
            yearly_field: p.first("yearly_field").to_string(),
            yearly_time: p.first("yearly_time").to_string(),
        }
    }

    fn of(c: &Campaign, tz: &jiff::tz::TimeZone) -> CampaignForm {
        let mut conditions: Vec<(String, String, String)> = c
            .segment
            .conditions
            .iter()
            .map(|x| {
                let value = match &x.value {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                (x.field.clone(), x.op.clone(), value)
            })
            .collect();
        conditions.resize(CONDITION_ROWS.max(conditions.len()), Default::default());
        let (kind, at_local, yearly_field, yearly_time) = match &c.schedule {
            Schedule::Now => ("now", String::new(), String::new(), "09:00".to_string()),
            Schedule::At { at } => (
                "at",
                crate::clock::parse(at)
                    .map(|t| t.to_zoned(tz.clone()).strftime("%Y-%m-%dT%H:%M").to_string())
                    .unwrap_or_default(),
                String::new(),
                "09:00".to_string(),
            ),
            Schedule::Yearly { field, time } => ("yearly", String::new(), field.clone(), time.clone()),
        };
        CampaignForm {
            name: c.name.clone(),
            channel: c.channel.to_string(),
            template_id: c.template_id.clone().unwrap_or_default(),
            lists_any: c.segment.lists_any.clone(),
            lists_none: c.segment.lists_none.clone(),
            conditions,
            schedule_kind: kind.into(),
            at_local,
            yearly_field,
            yearly_time,
        }
    }

    /// The segment the form describes (empty condition rows left out).
    pub fn segment(&self) -> Segment {
        Segment {
            lists_any: self.lists_any.clone(),
            lists_none: self.lists_none.clone(),
            conditions: self
                .conditions
                .iter()
                .filter(|(f, _, v)| !f.trim().is_empty() || !v.trim().is_empty())
                .map(|(f, op, v)| Condition {
                    field: f.clone(),
                    op: op.clone(),
                    value: Value::String(v.clone()),
                })
                .collect(),
        }
    }

    /// The schedule; a local time is read in the workspace's zone (one that does not read
    /// is passed on as typed, for the domain to refuse with its reason).
    pub fn schedule(&self, tz: &jiff::tz::TimeZone) -> Schedule {
        match self.schedule_kind.as_str() {
            "at" => {
                let at = jiff::civil::DateTime::strptime("%Y-%m-%dT%H:%M", self.at_local.trim())
                    .ok()
                    .and_then(|local| local.to_zoned(tz.clone()).ok())
                    .map(|z| z.timestamp().to_string())
                    .unwrap_or_else(|| self.at_local.clone());
                Schedule::At { at }
            }
            "yearly" => Schedule::Yearly {
                field: self.yearly_field.clone(),
                time: self.yearly_time.clone(),
            },
            _ => Schedule::Now,
        }
    }

    fn input(&self, tz: &jiff::tz::TimeZone) -> CampaignInput {
        CampaignInput {
            name: Some(self.name.clone()),
            channel: Some(self.channel.clone()),
            template_id: Some(self.template_id.clone()),
            segment: Some(self.segment()),
            schedule: Some(self.schedule(tz)),
        }
    }

    pub fn has_list(&self, which: &str, id: &str) -> bool {
        let lists = if which == "any" {
            &self.lists_any
        } else {
            &self.lists_none
        };
        lists.iter().any(|l| l == id)
    }

    pub fn is_text(&self) -> bool {
        self.channel == "text"
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "campaigns/edit.html")]
struct EditPage {
    chrome: Chrome,
    ws: WorkspaceAccess,
    id: Option<String>,
    form: CampaignForm,
    errors: FormErrors,
    templates: Vec<MessageTemplate>,
    lists: Vec<ContactList>,
    /// Every custom field (for conditions) and the date fields (for yearly campaigns).
    fields: Vec<(String, String)>,
    date_fields: Vec<(String, String)>,
    zone: String,
    /// The change voids a submission or an approval.
    voids: bool,
}

/// What the editor shows: a new campaign (`id` none) or one being changed.
struct Editing {
    id: Option<String>,
    form: CampaignForm,
    /// Saving a change voids a submission or an approval.
    voids: bool,
}

async fn editor(
    state: &AppState,
    actor: &Actor,
    ws: WorkspaceAccess,
    chrome: Chrome,
    editing: Editing,
    errors: FormErrors,
) -> Result<Response, PageError> {
    let Editing { id, form, voids } = editing;
    let templates = template::list(state, actor, &ws, &ListQuery::default()).await?;
    let lists = list::all(&state.db, actor, &ws).await?;
    let defs = field_definition::applicable(&state.db, &ws).await?;
    let fields = defs.0.iter().map(|d| (d.field_name.clone(), d.label.clone())).collect();
    let date_fields = defs
        .0
        .iter()
        .filter(|d| d.field_type == FieldType::Date)
        .map(|d| (d.field_name.clone(), d.label.clone()))
        .collect();
    let zone = ws
        .time_zone(&state.config)
        .ok()
        .and_then(|tz| tz.iana_name().map(str::to_string))
        .unwrap_or_else(|| "UTC".into());
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    Ok((
        status,
        EditPage {
            chrome: chrome.in_section("campaigns"),
            ws,
            id,
            form,
            errors,
            templates,
            lists,
            fields,
            date_fields,
            zone,
            voids,
        },
    )
        .into_response())
}

#[derive(serde::Deserialize, Default)]
pub struct NewParams {
    /// A campaign of the workspace to start from ("Send again as a new campaign").
    #[serde(default)]
    from: String,
}

pub async fn new_page(
    State(state): State<AppState>,
    PageWs { actor, ws, chrome, .. }: PageWs<Editor>,
    axum::extract::Query(params): axum::extract::Query<NewParams>,
) -> Result<Response, PageError> {
    let form = match CampaignId::parse(params.from.trim()) {
        // A copy of another campaign's settings: its template, segment and schedule, a new name.
        Some(from) => {
            let c = campaign::get(&state, &actor, &ws, &from).await?;
            let tz = ws.time_zone(&state.config)?;
            let mut form = CampaignForm::of(&c, &tz);
            form.name = format!("Copy of {}", c.name).chars().take(200).collect();
            form
        }
        None => CampaignForm {
            channel: "email".into(),
            schedule_kind: "now".into(),
            yearly_time: "09:00".into(),
            conditions: vec![Default::default(); CONDITION_ROWS],
            ..CampaignForm::default()
        },
    };
    let editing = Editing {
        id: None,
        form,
        voids: false,
    };
    editor(&state, &actor, ws, chrome, editing, FormErrors::none()).await
}

pub async fn create(
    State(state): State<AppState>,
    PageWs { actor, ws, chrome, .. }: PageWs<Editor>,
    Form(pairs): Form<Pairs>,
) -> Result<Response, PageError> {
    let form = CampaignForm::from_pairs(&pairs);
    let tz = ws.time_zone(&state.config)?;
    match campaign::create(&state, &actor, &ws, form.input(&tz)).await {
        Ok(c) => Ok(flash::redirect(
            &state,
            &format!("/workspaces/{}/campaigns/{}", ws.id(), c.id),
            "success",
            "Campaign saved as a draft.",
        )),
        Err(e) => {
            let errors = FormErrors::from_error(e)?;
            let editing = Editing {
                id: None,
                form,
                voids: false,
            };
            editor(&state, &actor, ws, chrome, editing, errors).await
        }
    }
}

pub async fn edit_page(
    State(state): State<AppState>,
    PageWs { actor, ws, chrome, .. }: PageWs<Editor>,
    PagePath((_, id)): PagePath<(WorkspaceId, CampaignId)>,
) -> Result<Response, PageError> {
    let c = campaign::get(&state, &actor, &ws, &id).await?;
    let tz = ws.time_zone(&state.config)?;
    let voids = !matches!(c.status(), Status::Draft);
    let editing = Editing {
        id: Some(c.id.clone()),
        form: CampaignForm::of(&c, &tz),
        voids,
    };
    editor(&state, &actor, ws, chrome, editing, FormErrors::none()).await
}

pub async fn update(
    State(state): State<AppState>,
    PageWs { actor, ws, chrome, .. }: PageWs<Editor>,
    PagePath((_, id)): PagePath<(WorkspaceId, CampaignId)>,
    Form(pairs): Form<Pairs>,
) -> Result<Response, PageError> {
    let form = CampaignForm::from_pairs(&pairs);
    let tz = ws.time_zone(&state.config)?;
    match campaign::update(&state, &actor, &ws, &id, form.input(&tz)).await {
        Ok(c) => Ok(flash::redirect(
            &state,
            &format!("/workspaces/{}/campaigns/{}", ws.id(), c.id),
            "success",
            if c.status() == Status::Draft {
                "Campaign saved. It is a draft until it is submitted or scheduled."
            } else {
                "Campaign saved."
            },
        )),
        Err(e) => {
            let errors = FormErrors::from_error(e)?;
            let editing = Editing {
                id: Some(id.to_string()),
                form,
                voids: false,
            };
            editor(&state, &actor, ws, chrome, editing, errors).await
        }
    }
}

/// The live count beside the segment: posted by the editor as it changes (htmx).
pub async fn audience(
    State(state): State<AppState>,
    PageWs { actor, ws, .. }: PageWs,
    Form(pairs): Form<Pairs>,
) -> Result<Response, PageError> {
    let form = CampaignForm::from_pairs(&pairs);
    let tz = ws.time_zone(&state.config)?;
    let schedule = form.schedule(&tz);
    let html = match campaign::audience(&state, &actor, &ws, &form.channel, &form.segment(), Some(&schedule)).await {
        Ok(a) => {
            let skipped = a.no_address + a.suppressed;
            let people = |n: i64| if n == 1 { "person" } else { "people" };
            let mut line = format!("<strong>{}</strong> {} will get it", a.reachable, people(a.reachable));
            if skipped > 0 {
                line.push_str(&format!(
                    "; {skipped} will be skipped ({} unsubscribed, {} without {})",
                    a.suppressed,
                    a.no_address,
                    if form.is_text() {
                        "a phone number"
                    } else {
                        "an email address"
                    }
                ));
            }
            if schedule.is_yearly() {
                line.push_str(" — counting everyone with a date; each gets it on their day");
            }
            line.push('.');
            line
        }
        Err(e) => match FormErrors::from_error(e) {
            Ok(errors) => format!(
                "<span class=\"text-red-700\">{}</span>",
                crate::domain::template::render::html_escape(
                    &errors
                        .all()
                        .into_iter()
                        .map(|(_, m)| m)
                        .chain(errors.general().map(str::to_string))
                        .collect::<Vec<_>>()
                        .join("; ")
                )
            ),
            Err(e) => return Err(e.into()),
        },
    };
    Ok(([("content-type", "text/html; charset=utf-8")], html).into_response())
}
