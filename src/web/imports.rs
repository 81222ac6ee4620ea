//! `/workspaces/{ws}/imports`: upload → preview and mapping → progress → report, and history.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Multipart, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum_extra::extract::Form;

use super::chrome::Chrome;
use super::error::PageError;
use super::flash;
use super::forms::Pairs;
use crate::auth::workspace::Editor;
use crate::domain::actor::Actor;
use crate::domain::field::FieldType;
use crate::domain::field_definition::{self, FieldDefinition};
use crate::domain::ids::{ImportId, WorkspaceId};
use crate::domain::import::job::{self, ImportView};
use crate::domain::import::mapping::{Mapping, NewFields, OnDuplicate, OnProblem, Target};
use crate::domain::import::preview::ColumnProblems;
use crate::domain::import::revert;
use crate::domain::workspace::WorkspaceAccess;
use crate::error::AppError;
use crate::state::AppState;
use crate::web::extract::{PagePath, PageWs};

#[derive(Template, WebTemplate)]
#[template(path = "imports/index.html")]
struct IndexPage {
    chrome: Chrome,
    ws: WorkspaceAccess,
    imports: Vec<ImportView>,
    error: Option<String>,
    can_edit: bool,
    max_mb: u64,
}

async fn index_page(
    state: &AppState,
    actor: &Actor,
    ws: &WorkspaceAccess,
    chrome: Chrome,
    error: Option<String>,
) -> Result<Response, PageError> {
    let chrome = chrome.in_section("imports");
    let imports = job::list(&state.db, &state.imports, actor, ws).await?;
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let can_edit = ws.require_editor().is_ok();
    let page = IndexPage {
        chrome,
        ws: ws.clone(),
        imports,
        error,
        can_edit,
        max_mb: state.config.max_upload_mb,
    };
    Ok((status, page).into_response())
}

pub async fn index(
    State(state): State<AppState>,
    PageWs { actor, ws, chrome, .. }: PageWs,
) -> Result<Response, PageError> {
    index_page(&state, &actor, &ws, chrome, None).await
}

/// The upload: kept as a draft until the person has checked the mapping.
pub async fn upload(
    State(state): State<AppState>,
    PageWs { actor, ws, chrome, .. }: PageWs<Editor>,
    multipart: Multipart,
) -> Result<Response, PageError> {
    let chrome = chrome.in_section("imports");
    let result = async {
        let upload = crate::upload::read(multipart, &state.imports.uploads).await?;
        job::create(&state.db, &state.imports, &actor, &ws, upload, true).await
    }
    .await;
    match result {
        Ok(view) => Ok(
            axum::response::Redirect::to(&format!("/workspaces/{}/imports/{}/map", ws.id(), view.id)).into_response(),
        ),
        Err(AppError::Invalid { message, .. }) => index_page(&state, &actor, &ws, chrome, Some(message)).await,
        Err(e) => Err(e.into()),
    }
}

/// One column of the mapping step.
pub struct ColumnChoice {
    pub index: usize,
    pub name: String,
    pub samples: Vec<String>,
    /// The selected option's value: `skip`, `base:<field>`, `field:<name>` or `new`.
    pub selected: String,
    pub new_name: String,
    pub new_type: String,
    /// The values the chosen mapping cannot read in this column.
    pub problems: Option<ColumnProblems>,
    /// Skipped as noise for a CRM (phonetic names, Telex…): one choice takes it in.
    pub noise: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "imports/map.html")]
struct MapPage {
    chrome: Chrome,
    ws: WorkspaceAccess,
    import: ImportView,
    columns: Vec<ColumnChoice>,
    fields: Vec<FieldDefinition>,
    types: Vec<(&'static str, &'static str)>,
    rows_total: usize,
    /// The custom fields these choices would make.
    fields_to_create: Vec<String>,
    /// The mapping shown: stored with the draft, or being tried.
    mapping: Mapping,
    problems_total: u64,
    error: Option<String>,
}

impl MapPage {
    fn is(&self, a: &str, b: &str) -> bool {
        a == b
    }

    /// Whether a column's current choice is `prefix:value`.
    fn chosen(&self, c: &ColumnChoice, prefix: &str, value: &str) -> bool {
        c.selected.strip_prefix(prefix).and_then(|r| r.strip_prefix(':')) == Some(value)
    }

    fn policy_is(&self, policy: &str) -> bool {
        let name = match self.mapping.on_duplicate {
            OnDuplicate::Skip => "skip",
            OnDuplicate::Update => "update",
            OnDuplicate::Merge => "merge",
        };
        name == policy
    }

    fn keeps_new_as_note(&self) -> bool {
        self.mapping.new_fields == NewFields::Note
    }

    fn stops_on_problems(&self) -> bool {
        self.mapping.on_problem == OnProblem::Stop
    }

    /// The base fields, then a whole name to split into first and last.
    fn base_choices(&self) -> Vec<(&'static str, &'static str)> {
        let mut choices = super::contacts::views::BASE_LABELS.to_vec();
        choices.push((crate::domain::import::mapping::FULL_NAME, "Whole name (split)"));
        choices.push((crate::domain::import::mapping::LISTS, "Lists (one per label)"));
        choices
    }
}

/// The mapping step, with the mapping stored with the draft, or with `trying`: the choices
/// the person made on the page, checked again or refused.
async fn map_page(
    state: &AppState,
    actor: &Actor,
    ws: &WorkspaceAccess,
    chrome: Chrome,
    id: &ImportId,
    trying: Option<Mapping>,
    error: Option<String>,
) -> Result<Response, PageError> {
    let chrome = chrome.in_section("imports");
    let import = job::get(&state.db, &state.imports, actor, ws, id).await?;
    if import.status != "draft" {
        return Ok(
            axum::response::Redirect::to(&format!("/workspaces/{}/imports/{}", ws.id(), import.id)).into_response(),
        );
    }
    let region = &state.config.default_phone_region;
    // A mapping that cannot work is shown as chosen, with the error, and no counts.
    let preview = match job::draft_preview(&state.db, &state.imports, actor, ws, id, trying.clone(), region).await {
        Err(AppError::Invalid { .. }) if trying.is_some() => {
            let mut preview = job::draft_preview(&state.db, &state.imports, actor, ws, id, None, region).await?;
            preview.problems.clear();
            preview.problems_total = 0;
            preview
        }
        other => other?,
    };
    let fields = field_definition::applicable(&state.db, ws).await?;
    let mapping = trying.unwrap_or_else(|| preview.suggested_mapping.clone());
    let columns = preview
        .columns
        .iter()
        .enumerate()
        .map(|(index, name)| {
            let samples = preview
                .sample_rows
                .iter()
                .map(|r| r.get(index).cloned().unwrap_or_default())
                .filter(|s| !s.is_empty())
                .take(3)
                .collect();
            let (selected, new_name, new_type) = match mapping.columns.get(name) {
                Some(Target::Field(f)) if f != "skip" => (
                    format!("base:{f}"),
                    crate::domain::import::mapping::field_name_of(name),
                    "text".into(),
                ),
                Some(Target::Custom { custom, field_type }) if fields.get(custom).is_some() => {
                    (format!("field:{custom}"), custom.clone(), field_type.clone())
                }
                Some(Target::Custom { custom, field_type }) => ("new".into(), custom.clone(), field_type.clone()),
                _ => (
                    "skip".into(),
                    crate::domain::import::mapping::field_name_of(name),
                    "text".into(),
                ),
            };
            ColumnChoice {
                index,
                name: name.clone(),
                samples,
                selected,
                new_name,
                new_type,
                problems: preview.problems.iter().find(|p| p.column == *name).cloned(),
                noise: preview.noise.contains(name),
            }
        })
        .collect();
    let types = FieldType::ALL
        .iter()
        .filter(|t| **t != FieldType::Select)
        .map(|t| (t.as_str(), t.label()))
        .collect();
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let page = MapPage {
        chrome,
        ws: ws.clone(),
        import,
        columns,
        fields: fields.0,
        types,
        rows_total: preview.rows_total,
        fields_to_create: preview.fields_to_create.clone(),
        problems_total: preview.problems_total,
        mapping,
        error,
    };
    Ok((status, page).into_response())
}

pub async fn map(
    State(state): State<AppState>,
    PageWs { actor, ws, chrome, .. }: PageWs,
    PagePath((_, id)): PagePath<(WorkspaceId, ImportId)>,
) -> Result<Response, PageError> {
    map_page(&state, &actor, &ws, chrome, &id, None, None).await
}

/// Reads the mapping form: `c.N` (column name), `t.N` (target), `n.N`/`y.N` (new field name
/// and type), `on_duplicate` and the `on_problem` checkbox.
fn mapping_from_form(form: &Pairs) -> Result<Mapping, AppError> {
    let get = |k: &str| form.first(k).to_string();
    let mut columns = std::collections::BTreeMap::new();
    for (key, name) in form.0.iter().filter(|(k, _)| k.starts_with("c.")) {
        let i = &key[2..];
        let target = get(&format!("t.{i}"));
        let t = match target.as_str() {
            "" | "skip" => Target::skip(),
            "new" => Target::Custom {
                custom: get(&format!("n.{i}")).trim().to_string(),
                field_type: get(&format!("y.{i}")),
            },
            other => match (other.strip_prefix("base:"), other.strip_prefix("field:")) {
                (Some(base), _) => Target::Field(base.to_string()),
                (_, Some(field)) => Target::Custom {
                    custom: field.to_string(),
                    field_type: "text".into(),
                },
                _ => {
                    return Err(AppError::invalid(
                        "mapping",
                        format!("{other:?} is not a choice on this page"),
                    ));
                }
            },
        };
        columns.insert(name.clone(), t);
    }
    let on_duplicate = OnDuplicate::parse(&get("on_duplicate")).unwrap_or(OnDuplicate::Skip);
    let on_problem = if get("on_problem") == "stop" {
        OnProblem::Stop
    } else {
        OnProblem::SkipCell
    };
    let new_fields = if get("new_fields") == "note" {
        NewFields::Note
    } else {
        NewFields::Create
    };
    Ok(Mapping {
        columns,
        on_duplicate,
        on_problem,
        new_fields,
    })
}

pub async fn start(
    State(state): State<AppState>,
    PageWs { actor, ws, chrome, .. }: PageWs<Editor>,
    PagePath((_, id)): PagePath<(WorkspaceId, ImportId)>,
    Form(form): Form<Pairs>,
) -> Result<Response, PageError> {
    let chrome = chrome.in_section("imports");
    let result = match mapping_from_form(&form) {
        Ok(mapping) => job::start(&state.db, &state.imports, &actor, &ws, &id, mapping.clone())
            .await
            .map_err(|e| (e, Some(mapping))),
        Err(e) => Err((e, None)),
    };
    match result {
        Ok(view) => {
            Ok(axum::response::Redirect::to(&format!("/workspaces/{}/imports/{}", ws.id(), view.id)).into_response())
        }
        Err((AppError::Invalid { message, .. }, trying)) => {
            map_page(&state, &actor, &ws, chrome, &id, trying, Some(message)).await
        }
        Err((e, _)) => Err(e.into()),
    }
}

/// "Check these choices": the mapping page again, its counts for the columns as chosen.
pub async fn check(
    State(state): State<AppState>,
    PageWs { actor, ws, chrome, .. }: PageWs<Editor>,
    PagePath((_, id)): PagePath<(WorkspaceId, ImportId)>,
    Form(form): Form<Pairs>,
) -> Result<Response, PageError> {
    let chrome = chrome.in_section("imports");
    match mapping_from_form(&form) {
        Ok(mapping) => map_page(&state, &actor, &ws, chrome, &id, Some(mapping), None).await,
        Err(AppError::Invalid { message, .. }) => map_page(&state, &actor, &ws, chrome, &id, None, Some(message)).await,
        Err(e) => Err(e.into()),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "imports/show.html")]
struct ShowPage {
    chrome: Chrome,
    ws: WorkspaceAccess,
    import: ImportView,
    can_edit: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "imports/progress.html")]
struct ProgressBlock {
    ws: WorkspaceAccess,
    import: ImportView,
    can_edit: bool,
}

impl ShowPage {
    fn percent(&self) -> u64 {
        percent(&self.import)
    }
}

impl ProgressBlock {
    fn percent(&self) -> u64 {
        percent(&self.import)
    }
}

fn percent(i: &ImportView) -> u64 {
    (i.progress.rows_done * 100)
        .checked_div(i.progress.rows_total)
        .unwrap_or(if i.status == "done" { 100 } else { 0 })
}

pub async fn show(
    State(state): State<AppState>,
    PageWs { actor, ws, chrome, .. }: PageWs,
    PagePath((_, id)): PagePath<(WorkspaceId, ImportId)>,
) -> Result<Response, PageError> {
    let chrome = chrome.in_section("imports");
    let import = job::get(&state.db, &state.imports, &actor, &ws, &id).await?;
    let can_edit = ws.require_editor().is_ok();
    Ok(ShowPage {
        chrome,
        ws: ws.clone(),
        import,
        can_edit,
    }
    .into_response())
}

/// The progress block alone, for htmx to poll while the import runs.
pub async fn progress(
    State(state): State<AppState>,
    PageWs { actor, ws, .. }: PageWs,
    PagePath((_, id)): PagePath<(WorkspaceId, ImportId)>,
) -> Result<Response, PageError> {
    let import = job::get(&state.db, &state.imports, &actor, &ws, &id).await?;
    let can_edit = ws.require_editor().is_ok();
    Ok(ProgressBlock {
        ws: ws.clone(),
        import,
        can_edit,
    }
    .into_response())
}

/// `GET …/imports/{id}/revert`: what the revert would remove, to confirm first.
#[derive(Template, WebTemplate)]
#[template(path = "imports/revert.html")]
struct RevertPage {
    chrome: Chrome,
    ws: WorkspaceAccess,
    id: String,
    scope: crate::domain::import::revert_scope::RevertScope,
}

pub async fn confirm_revert(
    State(state): State<AppState>,
    PageWs { actor, ws, chrome, .. }: PageWs<Editor>,
    PagePath((_, id)): PagePath<(WorkspaceId, ImportId)>,
) -> Result<Response, PageError> {
    let scope = crate::domain::import::revert_scope::of(&state.db, &actor, &ws, &id).await?;
    Ok(RevertPage {
        chrome: chrome.in_section("imports"),
        ws: ws.clone(),
        id: id.to_string(),
        scope,
    }
    .into_response())
}

pub async fn revert(
    State(state): State<AppState>,
    PageWs { actor, ws, .. }: PageWs<Editor>,
    PagePath((_, id)): PagePath<(WorkspaceId, ImportId)>,
) -> Result<Response, PageError> {
    revert::revert(&state.db, &state.imports, &actor, &ws, &id).await?;
    let url = format!("/workspaces/{}/imports/{id}", ws.id());
    Ok(flash::redirect(
        &state,
        &url,
        "success",
        "Import reverted: its new contacts are gone and updated ones are as they were.",
    ))
}

/// The rows that had a problem, as a CSV to fix and import again.
pub async fn problem_rows(
    State(state): State<AppState>,
    PageWs { actor, ws, .. }: PageWs,
    PagePath((_, id)): PagePath<(WorkspaceId, ImportId)>,
) -> Result<Response, PageError> {
    let csv = crate::domain::import::problem_rows::prepare(&state.db, &actor, &ws, &id).await?;
    Ok(crate::download::problem_rows(csv))
}
