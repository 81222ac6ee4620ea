//! `/workspaces/{ws}/contacts…`: the list with search and filters, the detail page, the forms.

pub mod bulk;
pub mod merge;
pub mod messages;
pub mod timeline;
pub mod views;

use std::sync::Arc;

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum_extra::extract::Form;
use serde_json::{Map, Value};

use self::views::{ContactRow, FieldDisplay, FieldInput};
use super::chrome::Chrome;
use super::error::PageError;
use super::flash;
use super::forms::{FormErrors, Pairs};
use crate::auth::workspace::Editor;
use crate::domain::actor::Actor;
use crate::domain::comms::{self, Communication};
use crate::domain::contact::{self, ContactInput, ContactRecord};
use crate::domain::field_definition::{self, FieldDefinition};
use crate::domain::ids::{ContactId, WorkspaceId};
use crate::domain::list::{self, ContactList};
use crate::domain::list_view::{self, PageSetting};
use crate::domain::search::{self, Params};
use crate::domain::workspace::WorkspaceAccess;
use crate::error::AppError;
use crate::state::AppState;
use crate::web::extract::{PagePath, PageWs};

/// Reads a contact form (`first_name`…, `cf.<field>`) into the same input the API takes.
/// Every field is sent, so an empty one clears its value.
pub fn contact_input(pairs: &[(String, String)]) -> ContactInput {
    let mut input = ContactInput::default();
    let mut custom = Map::new();
    for (key, value) in pairs {
        let v = Some(Some(value.clone()));
        match key.as_str() {
            "first_name" => input.first_name = v,
            "last_name" => input.last_name = v,
            "primary_email" => input.primary_email = v,
            "primary_phone" => input.primary_phone = v,
            "company" => input.company = v,
            k => {
                if let Some(name) = k.strip_prefix("cf.") {
                    let value = if value.trim().is_empty() {
                        Value::Null
                    } else {
                        Value::String(value.clone())
                    };
                    custom.insert(name.to_string(), value);
                }
            }
        }
    }
    input.custom_fields = custom;
    input
}

#[derive(Template, WebTemplate)]
#[template(path = "contacts/list.html")]
struct ListPage {
    chrome: Chrome,
    ws: WorkspaceAccess,
    rows: Vec<ContactRow>,
    /// The workspace's fields and lists (kept between pages, so shared rather than copied).
    setting: Arc<PageSetting>,
    q: String,
    list: String,
    sort: String,
    filter_field: String,
    filter_op: String,
    filter_value: String,
    error: Option<String>,
    next_url: Option<String>,
    first_url: Option<String>,
    can_edit: bool,
    /// Where this page starts in the whole result (0 on the first page).
    at: usize,
    /// The query string as sent, for the column headers' sort links.
    query: Params,
    total: Option<crate::domain::search::Count>,
}

impl ListPage {
    fn is(&self, a: &str, b: &str) -> bool {
        a == b
    }

    /// A workspace without a pipeline yet is offered the mortgage stages.
    fn has_stages(&self) -> bool {
        self.lists().iter().any(|l| l.is_primary)
    }

    fn lists(&self) -> &[ContactList] {
        &self.setting.lists
    }

    fn fields(&self) -> &[FieldDefinition] {
        &self.setting.fields.0
    }

    /// The custom fields shown as columns, in order.
    fn columns(&self) -> Vec<&FieldDefinition> {
        self.setting.columns()
    }

    /// The link a column header sorts by: `name`, or a field ascending, then descending.
    fn sort_link(&self, key: &str) -> String {
        let next = match key {
            "name" => "name".to_string(),
            field if self.sort == format!("field.{field}") => format!("-field.{field}"),
            field => format!("field.{field}"),
        };
        let mut q = form_urlencoded::Serializer::new(String::new());
        for (k, v) in self
            .query
            .iter()
            .filter(|(k, _)| !matches!(k.as_str(), "cursor" | "at" | "sort"))
        {
            q.append_pair(k, v);
        }
        q.append_pair("sort", &next);
        format!("/workspaces/{}/contacts?{}", self.ws.id(), q.finish())
    }

    /// `aria-sort` for a column header: how the list is sorted by it, if it is.
    fn sorted_by(&self, key: &str) -> &'static str {
        match key {
            "name" if self.sort == "name" => "ascending",
            field if self.sort == format!("field.{field}") => "ascending",
            field if self.sort == format!("-field.{field}") => "descending",
            _ => "none",
        }
    }

    /// Shown as a column now.
    fn is_column(&self, field: &str) -> bool {
        self.columns().iter().any(|d| d.field_name == field)
    }

    fn has_tags(&self) -> bool {
        self.lists().iter().any(|l| !l.is_primary)
    }

    /// "1–50 of 153", "51–100 of 10,000+".
    fn range_text(&self) -> String {
        let (from, to) = (self.at + 1, self.at + self.rows.len());
        match self.total {
            Some(t) => format!(
                "{from}–{to} of {}{}",
                crate::domain::field::group_digits(&t.n.to_string()),
                if t.more { "+" } else { "" }
            ),
            None => format!("{from}–{to}"),
        }
    }

    fn filtered(&self) -> bool {
        !(self.q.is_empty() && self.list.is_empty() && self.filter_value.is_empty())
    }
}

/// The list page's form sends one filter as `ff`/`fo`/`fv`; it becomes `field.NAME.OP=VALUE`.
fn search_params(raw: &[(String, String)]) -> Params {
    let get = |k: &str| {
        raw.iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.trim().to_string())
            .unwrap_or_default()
    };
    let mut params: Params = raw
        .iter()
        .filter(|(k, _)| !matches!(k.as_str(), "ff" | "fo" | "fv"))
        .cloned()
        .collect();
    let (field, op, value) = (get("ff"), get("fo"), get("fv"));
    if !field.is_empty() && !value.is_empty() {
        let op = if op.is_empty() { "eq".to_string() } else { op };
        params.push((format!("field.{field}.{op}"), value));
    }
    params
}

pub async fn list_page(
    State(state): State<AppState>,
    PageWs { actor, ws, chrome, .. }: PageWs,
    Query(raw): Query<Params>,
) -> Result<Response, PageError> {
    let chrome = chrome.in_section("contacts");
    let params = search_params(&raw);
    let as_of = state.stats.as_of(&state.db).await;
    let setting = list_view::page_setting(&state.db, &as_of, &actor, &ws).await?;
    let fields = &setting.fields;
    let region = &state.config.default_phone_region;
    let get = |k: &str| {
        raw.iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let shown = setting.columns();
    let (page, total, error) = match search::parse(&state.db, &ws, fields, region, &params).await {
        Ok(mut query) => {
            // The rows show these columns' values only.
            query.values = Some(shown.iter().map(|d| d.field_name.clone()).collect());
            (
                Some(search::run(&state.db, &actor, &ws, &query).await?),
                Some(search::kept_count(&state.db, &as_of, &actor, &ws, &query).await?),
                None,
            )
        }
        Err(AppError::Invalid { message, .. }) => (None, None, Some(message)),
        Err(e) => return Err(e.into()),
    };
    // `at` rides along in the next page's link; a hand-edited one only mislabels the range.
    let at: usize = get("at").parse().unwrap_or(0);
    let (mut rows, next_cursor): (Vec<views::ContactRow>, _) = match page {
        Some(p) => (p.items.iter().map(|c| views::row(c, &shown)).collect(), p.next_cursor),
        None => (Vec::new(), None),
    };
    let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
    let unread = crate::domain::replies::unread_among(&state, &actor, &ws, &ids).await?;
    for r in &mut rows {
        r.new_replies = unread.get(&r.id).copied().unwrap_or(0);
    }
    let base_query = |cursor: Option<&str>, start: usize| {
        let mut q = form_urlencoded::Serializer::new(String::new());
        for (k, v) in raw.iter().filter(|(k, _)| k != "cursor" && k != "at") {
            q.append_pair(k, v);
        }
        if let Some(c) = cursor {
            q.append_pair("cursor", c);
            q.append_pair("at", &start.to_string());
        }
        format!("/workspaces/{}/contacts?{}", ws.id(), q.finish())
    };
    let first_url = raw.iter().any(|(k, _)| k == "cursor").then(|| base_query(None, 0));
    let rows_len: usize = rows.len();
    let page = ListPage {
        next_url: next_cursor.as_deref().map(|c| base_query(Some(c), at + rows_len)),
        at,
        total,
        first_url,
        query: raw.clone(),
        rows,
        can_edit: ws.require_editor().is_ok(),
        chrome,
        setting: setting.clone(),
        q: get("q"),
        list: get("list"),
        sort: get("sort"),
        filter_field: get("ff"),
        filter_op: get("fo"),
        filter_value: get("fv"),
        error,
        ws,
    };
    Ok(page.into_response())
}

#[derive(Template, WebTemplate)]
#[template(path = "contacts/form.html")]
struct FormPage {
    chrome: Chrome,
    ws: WorkspaceAccess,
    contact_id: Option<String>,
    title: String,
    base: Vec<FieldInput>,
    custom: Vec<FieldInput>,
    errors: FormErrors,
    /// The contact that already has the email typed, after a conflict.
    existing: Option<String>,
}

async fn form_page(
    state: &AppState,
    chrome: Chrome,
    ws: WorkspaceAccess,
    contact: Option<&ContactRecord>,
    submitted: Option<&[(String, String)]>,
    (errors, existing): (FormErrors, Option<String>),
) -> Result<Response, PageError> {
    let fields = field_definition::applicable(&state.db, &ws).await?;
    let (base, custom) = views::form_inputs(contact, &fields, submitted, &errors);
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let page = FormPage {
        chrome,
        contact_id: contact.map(|c| c.id.clone()),
        title: contact
            .map(|c| format!("Edit {}", c.display_name()))
            .unwrap_or_else(|| "New contact".into()),
        ws,
        base,
        custom,
        errors,
        existing,
    };
    Ok((status, page).into_response())
}

pub async fn new_page(State(state): State<AppState>, PageWs { ws, chrome, .. }: PageWs) -> Result<Response, PageError> {
    let chrome = chrome.in_section("contacts");
    ws.require_editor()?;
    form_page(&state, chrome, ws, None, None, (FormErrors::none(), None)).await
}

/// A form error names its field; a conflict (duplicate email) links the contact.
fn form_errors(e: AppError, ws: &WorkspaceAccess) -> Result<(FormErrors, Option<String>), AppError> {
    match e {
        AppError::Conflict {
            message,
            existing_id: Some(id),
        } => Ok((
            FormErrors::general_message(message),
            Some(format!("/workspaces/{}/contacts/{id}", ws.id())),
        )),
        other => FormErrors::from_error(other).map(|f| (f, None)),
    }
}

pub async fn create(
    State(state): State<AppState>,
    PageWs { actor, ws, chrome, .. }: PageWs<Editor>,
    Form(Pairs(pairs)): Form<Pairs>,
) -> Result<Response, PageError> {
    let chrome = chrome.in_section("contacts");
    match contact::create(
        &state.db,
        &actor,
        &ws,
        &state.config.default_phone_region,
        contact_input(&pairs),
    )
    .await
    {
        Ok(c) => Ok(flash::redirect(
            &state,
            &format!("/workspaces/{}/contacts/{}", ws.id(), c.id),
            "success",
            "Contact added.",
        )),
        Err(e) => {
            let errors = form_errors(e, &ws)?;
            form_page(&state, chrome, ws, None, Some(&pairs), errors).await
        }
    }
}

pub async fn edit_page(
    State(state): State<AppState>,
    PageWs { actor, ws, chrome, .. }: PageWs,
    PagePath((_, id)): PagePath<(WorkspaceId, ContactId)>,
) -> Result<Response, PageError> {
    let chrome = chrome.in_section("contacts");
    let c = contact::get(&state.db, &actor, &ws, &id).await?;
    ws.require_editor()?;
    form_page(&state, chrome, ws, Some(&c), None, (FormErrors::none(), None)).await
}

pub async fn update(
    State(state): State<AppState>,
    PageWs { actor, ws, chrome, .. }: PageWs<Editor>,
    PagePath((_, id)): PagePath<(WorkspaceId, ContactId)>,
    Form(Pairs(pairs)): Form<Pairs>,
) -> Result<Response, PageError> {
    let chrome = chrome.in_section("contacts");
    let region = &state.config.default_phone_region;
    match contact::update(&state.db, &actor, &ws, region, &id, contact_input(&pairs)).await {
        Ok(c) => Ok(flash::redirect(
            &state,
            &format!("/workspaces/{}/contacts/{}", ws.id(), c.id),
            "success",
            "Saved.",
        )),
        Err(e) => {
            let errors = form_errors(e, &ws)?;
            let c = contact::get(&state.db, &actor, &ws, &id).await?;
            form_page(&state, chrome, ws, Some(&c), Some(&pairs), errors).await
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "contacts/show.html")]
struct ShowPage {
    chrome: Chrome,
    ws: WorkspaceAccess,
    c: ContactRecord,
    name: String,
    phone: String,
    values: Vec<FieldDisplay>,
    orphans: Vec<(String, String)>,
    stages: Vec<ContactList>,
    tags: Vec<ContactList>,
    timeline: Vec<Communication>,
    more_timeline: Option<String>,
    can_edit: bool,
    errors: FormErrors,
    send: messages::SendBox,
    /// A message on the page is still on its way: the timeline refreshes itself.
    pending: bool,
    /// Replies shown for the first time (marked read as the page is drawn).
    new_replies: Vec<String>,
}

impl ShowPage {
    fn in_list(&self, id: &str) -> bool {
        self.c.lists.iter().any(|l| l.id == id)
    }

    fn is_new(&self, entry: &str) -> bool {
        self.new_replies.iter().any(|id| id == entry)
    }
}

pub async fn show_contact(
    state: &AppState,
    actor: &Actor,
    ws: &WorkspaceAccess,
    chrome: Chrome,
    id: &ContactId,
    cursor: Option<&str>,
    redraw: Redraw,
) -> Result<Response, PageError> {
    let Redraw { errors, typed } = redraw;
    let chrome = chrome.in_section("contacts");
    let c = contact::get(&state.db, actor, ws, id).await?;
    let fields = field_definition::applicable(&state.db, ws).await?;
    let lists = list::all(&state.db, actor, ws).await?;
    let contact_id = ContactId::parse(&c.id).ok_or(AppError::NotFound)?;
    let timeline = comms::timeline(&state.db, actor, ws, &contact_id, Some(30), cursor).await?;
    let (values, orphans) = views::custom_values(&c, &fields);
    let (stages, tags) = lists.into_iter().partition(|l| l.is_primary);
    let send = messages::SendBox::for_contact(state, actor, ws, &c, typed).await?;
    let new_replies = crate::domain::replies::seen(state, actor, ws, &c.id).await?;
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let page = ShowPage {
        name: c.display_name(),
        phone: c
            .base
            .primary_phone
            .as_deref()
            .map(crate::domain::phone::display)
            .unwrap_or_default(),
        pending: timeline.items.iter().any(|e| e.is_pending()),
        more_timeline: timeline
            .next_cursor
            .map(|cur| format!("/workspaces/{}/contacts/{}?cursor={cur}#timeline", ws.id(), c.id)),
        timeline: timeline.items,
        can_edit: ws.require_editor().is_ok(),
        chrome,
        values,
        orphans,
        stages,
        tags,
        send,
        new_replies,
        c,
        ws: ws.clone(),
        errors,
    };
    Ok((status, page).into_response())
}

/// A form on the contact page that comes back with its errors, and what was typed in it.
#[derive(Default)]
pub struct Redraw {
    pub errors: FormErrors,
    pub typed: messages::Typed,
}

#[derive(serde::Deserialize)]
pub struct CursorQuery {
    cursor: Option<String>,
}

pub async fn show(
    State(state): State<AppState>,
    PageWs { actor, ws, chrome, .. }: PageWs,
    PagePath((_, id)): PagePath<(WorkspaceId, ContactId)>,
    Query(q): Query<CursorQuery>,
) -> Result<Response, PageError> {
    show_contact(&state, &actor, &ws, chrome, &id, q.cursor.as_deref(), Redraw::default()).await
}

#[derive(Template, WebTemplate)]
#[template(path = "contacts/delete.html")]
struct DeletePage {
    chrome: Chrome,
    ws: WorkspaceAccess,
    id: String,
    name: String,
}

pub async fn delete_page(
    State(state): State<AppState>,
    PageWs { actor, ws, chrome, .. }: PageWs,
    PagePath((_, id)): PagePath<(WorkspaceId, ContactId)>,
) -> Result<Response, PageError> {
    let chrome = chrome.in_section("contacts");
    let c = contact::get(&state.db, &actor, &ws, &id).await?;
    ws.require_editor()?;
    Ok(DeletePage {
        chrome,
        name: c.display_name(),
        id: c.id,
        ws,
    }
    .into_response())
}

pub async fn delete(
    State(state): State<AppState>,
    PageWs { actor, ws, .. }: PageWs<Editor>,
    PagePath((_, id)): PagePath<(WorkspaceId, ContactId)>,
) -> Result<Response, PageError> {
    let c = contact::get(&state.db, &actor, &ws, &id).await?;
    contact::delete(&state.db, &actor, &ws, &id).await?;
    let message = format!("{} deleted.", c.display_name());
    Ok(flash::redirect(
        &state,
        &format!("/workspaces/{}/contacts", ws.id()),
        "success",
        &message,
    ))
}

#[derive(serde::Deserialize)]
pub struct ExportQuery {
    #[serde(default)]
    format: String,
}

/// The export buttons: the same stream the API serves.
pub async fn export(
    State(state): State<AppState>,
    PageWs { actor, ws, .. }: PageWs,
    Query(q): Query<ExportQuery>,
) -> Result<Response, PageError> {
    let format = crate::domain::export::Format::parse(&q.format)?;
    let export = crate::domain::export::prepare(&state.db, &actor, &ws, format).await?;
    Ok(crate::download::export(export, ws.name()))
}

/// The column chooser: the custom fields this person shows on the list, in order.
pub async fn choose_columns(
    State(state): State<AppState>,
    PageWs { actor, ws, .. }: PageWs,
    Form(Pairs(pairs)): Form<Pairs>,
) -> Result<Response, PageError> {
    let fields = field_definition::applicable(&state.db, &ws).await?;
    let names: Vec<String> = pairs.into_iter().filter(|(k, _)| k == "cols").map(|(_, v)| v).collect();
    let url = format!("/workspaces/{}/contacts", ws.id());
    match crate::domain::list_view::choose(&state.db, &actor, &ws, &fields, &names).await {
        Ok(()) => Ok(flash::redirect(&state, &url, "success", "Columns saved.")),
        Err(AppError::Invalid { message, .. }) => Ok(flash::redirect(&state, &url, "error", &message)),
        Err(e) => Err(e.into()),
    }
}
