//! Settings → Custom fields: your global fields, or one workspace's. Add, edit, delete (with a
//! warning: values stay, shown as orphans on contacts until re-defined or removed).

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum_extra::extract::Form;
use serde::Deserialize;
use serde_json::Value;

use super::chrome::{Chrome, CurrentUser};
use super::error::PageError;
use super::flash;
use super::forms::{FormErrors, checkbox};
use crate::domain::actor::Actor;
use crate::domain::field::FieldType;
use crate::domain::field_definition::{self, DefinitionInput, FieldDefinition, Home};
use crate::domain::ids::FieldDefinitionId;
use crate::domain::workspace::{self, WorkspaceAccess};
use crate::error::AppError;
use crate::state::AppState;
use crate::web::extract::PagePath;

#[derive(Deserialize, Default)]
pub struct ScopeQuery {
    #[serde(default)]
    scope: String,
    #[serde(default)]
    field_name: String,
}

/// `global`, or a workspace the person can reach.
async fn scope_of(state: &AppState, actor: &Actor, scope: &str) -> Result<Option<WorkspaceAccess>, PageError> {
    match scope {
        "" | "global" => Ok(None),
        ws => Ok(Some(workspace::resolve_text(&state.db, actor, ws).await?)),
    }
}

fn home(ws: &Option<WorkspaceAccess>) -> Home<'_> {
    match ws {
        Some(w) => Home::Workspace(w),
        None => Home::Global,
    }
}

fn scope_param(ws: &Option<WorkspaceAccess>) -> String {
    ws.as_ref()
        .map(|w| w.id().to_string())
        .unwrap_or_else(|| "global".into())
}

/// What the add/edit form shows, and what it sends.
#[derive(Default, Deserialize)]
#[serde(default)]
pub struct DefinitionForm {
    pub field_name: String,
    pub label: String,
    pub field_type: String,
    #[serde(deserialize_with = "checkbox")]
    pub is_required: bool,
    pub default_value: String,
    pub options: String,
    #[serde(deserialize_with = "checkbox")]
    pub is_tracked: bool,
    #[serde(deserialize_with = "checkbox")]
    pub is_follow_up: bool,
}

impl DefinitionForm {
    fn of(d: &FieldDefinition) -> DefinitionForm {
        DefinitionForm {
            field_name: d.field_name.clone(),
            label: d.label.clone(),
            field_type: d.field_type.as_str().into(),
            is_required: d.is_required,
            default_value: d.default_value.clone().unwrap_or_default(),
            options: d.options.join("\n"),
            is_tracked: d.is_tracked,
            is_follow_up: d.is_follow_up,
        }
    }

    fn input(&self) -> DefinitionInput {
        DefinitionInput {
            field_name: Some(self.field_name.clone()),
            label: Some(self.label.clone()),
            field_type: Some(self.field_type.clone()),
            is_required: Some(self.is_required),
            default_value: Some(Value::String(self.default_value.clone())),
            options: Some(self.options.lines().map(str::to_string).collect()),
            is_tracked: Some(self.is_tracked),
            is_follow_up: Some(self.is_follow_up),
        }
    }
}

pub struct TypeOption {
    pub value: &'static str,
    pub label: &'static str,
}

fn type_options() -> Vec<TypeOption> {
    FieldType::ALL
        .iter()
        .map(|t| TypeOption {
            value: t.as_str(),
            label: t.label(),
        })
        .collect()
}

#[derive(Template, WebTemplate)]
#[template(path = "settings/fields.html")]
struct FieldsPage {
    chrome: Chrome,
    tab: &'static str,
    scope: String,
    scope_name: String,
    definitions: Vec<FieldDefinition>,
    types: Vec<TypeOption>,
    form: DefinitionForm,
    errors: FormErrors,
    can_edit: bool,
}

impl FieldsPage {
    fn type_label(&self, d: &FieldDefinition) -> &'static str {
        d.field_type.label()
    }

    /// A new field's name and type can be chosen.
    fn form_locked(&self) -> bool {
        false
    }
}

async fn fields_page(
    state: &AppState,
    user: &CurrentUser,
    chrome: Chrome,
    scope: &str,
    form: DefinitionForm,
    errors: FormErrors,
) -> Result<Response, PageError> {
    let actor = user.actor();
    let ws = scope_of(state, &actor, scope).await?;
    let definitions = match &ws {
        Some(w) => field_definition::applicable(&state.db, w).await?.0,
        None => field_definition::list_global(&state.db, &actor).await?,
    };
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let page = FieldsPage {
        chrome: match &ws {
            Some(w) => chrome.in_section("settings").with_workspace(w),
            None => chrome.in_section("settings"),
        },
        tab: "fields",
        scope: scope_param(&ws),
        scope_name: ws
            .as_ref()
            .map(|w| w.name().to_string())
            .unwrap_or_else(|| "All my workspaces".into()),
        can_edit: ws.as_ref().is_none_or(|w| w.require_editor().is_ok()),
        definitions,
        types: type_options(),
        form,
        errors,
    };
    Ok((status, page).into_response())
}

pub async fn page(
    State(state): State<AppState>,
    user: CurrentUser,
    chrome: Chrome,
    Query(q): Query<ScopeQuery>,
) -> Result<Response, PageError> {
    let form = DefinitionForm {
        field_name: q.field_name.clone(),
        field_type: "text".into(),
        ..Default::default()
    };
    fields_page(&state, &user, chrome, &q.scope, form, FormErrors::none()).await
}

pub async fn create(
    State(state): State<AppState>,
    user: CurrentUser,
    chrome: Chrome,
    Query(q): Query<ScopeQuery>,
    Form(form): Form<DefinitionForm>,
) -> Result<Response, PageError> {
    let actor = user.actor();
    let ws = scope_of(&state, &actor, &q.scope).await?;
    match field_definition::create(
        &state.db,
        &actor,
        home(&ws),
        &state.config.default_phone_region,
        form.input(),
    )
    .await
    {
        Ok(d) => {
            let url = format!("/settings/fields?scope={}", scope_param(&ws));
            Ok(flash::redirect(
                &state,
                &url,
                "success",
                &format!("Field “{}” added.", d.label),
            ))
        }
        Err(e) => {
            let errors = FormErrors::from_error_on(e, "field_name")?;
            fields_page(&state, &user, chrome, &q.scope, form, errors).await
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "settings/field_edit.html")]
struct EditPage {
    chrome: Chrome,
    tab: &'static str,
    scope: String,
    def: FieldDefinition,
    form: DefinitionForm,
    errors: FormErrors,
    values: i64,
    confirm_delete: bool,
    types: Vec<TypeOption>,
}

impl EditPage {
    /// An existing field's name and type are fixed.
    fn form_locked(&self) -> bool {
        true
    }
}

async fn find(
    state: &AppState,
    actor: &Actor,
    ws: &Option<WorkspaceAccess>,
    id: &FieldDefinitionId,
) -> Result<FieldDefinition, PageError> {
    let all = match ws {
        Some(w) => field_definition::applicable(&state.db, w).await?.0,
        None => field_definition::list_global(&state.db, actor).await?,
    };
    // In a workspace's view only its own definitions are edited here; globals are edited globally.
    all.into_iter()
        .find(|d| d.id == id.as_str() && d.workspace_id == ws.as_ref().map(|w| w.id().to_string()))
        .ok_or(PageError(AppError::NotFound))
}

/// Which face of the edit page to show.
struct EditView {
    form: Option<DefinitionForm>,
    errors: FormErrors,
    confirm_delete: bool,
}

impl EditView {
    /// The page as first shown: the edit form, or the delete confirmation.
    fn showing(confirm_delete: bool) -> EditView {
        EditView {
            form: None,
            errors: FormErrors::none(),
            confirm_delete,
        }
    }
}

async fn edit_page(
    state: &AppState,
    user: &CurrentUser,
    chrome: Chrome,
    scope: &str,
    id: &FieldDefinitionId,
    view: EditView,
) -> Result<Response, PageError> {
    let EditView {
        form,
        errors,
        confirm_delete,
    } = view;
    let actor = user.actor();
    let ws = scope_of(state, &actor, scope).await?;
    let def = find(state, &actor, &ws, id).await?;
    let values = field_definition::value_count(&state.db, &actor, home(&ws), &def).await?;
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let page = EditPage {
        chrome: chrome.in_section("settings"),
        tab: "fields",
        scope: scope_param(&ws),
        form: form.unwrap_or_else(|| DefinitionForm::of(&def)),
        def,
        errors,
        values,
        confirm_delete,
        types: type_options(),
    };
    Ok((status, page).into_response())
}

pub async fn edit(
    State(state): State<AppState>,
    user: CurrentUser,
    chrome: Chrome,
    PagePath(id): PagePath<FieldDefinitionId>,
    Query(q): Query<ScopeQuery>,
) -> Result<Response, PageError> {
    edit_page(&state, &user, chrome, &q.scope, &id, EditView::showing(false)).await
}

pub async fn update(
    State(state): State<AppState>,
    user: CurrentUser,
    chrome: Chrome,
    PagePath(id): PagePath<FieldDefinitionId>,
    Query(q): Query<ScopeQuery>,
    Form(form): Form<DefinitionForm>,
) -> Result<Response, PageError> {
    let actor = user.actor();
    let ws = scope_of(&state, &actor, &q.scope).await?;
    find(&state, &actor, &ws, &id).await?;
    let mut input = form.input();
    input.field_name = None;
    input.field_type = None;
    match field_definition::update(
        &state.db,
        &actor,
        home(&ws),
        &state.config.default_phone_region,
        &id,
        input,
    )
    .await
    {
        Ok(d) => {
            let url = format!("/settings/fields?scope={}", scope_param(&ws));
            Ok(flash::redirect(
                &state,
                &url,
                "success",
                &format!("Field “{}” saved.", d.label),
            ))
        }
        Err(e) => {
            let errors = FormErrors::from_error(e)?;
            edit_page(
                &state,
                &user,
                chrome,
                &q.scope,
                &id,
                EditView {
                    form: Some(form),
                    errors,
                    confirm_delete: false,
                },
            )
            .await
        }
    }
}

pub async fn delete_page(
    State(state): State<AppState>,
    user: CurrentUser,
    chrome: Chrome,
    PagePath(id): PagePath<FieldDefinitionId>,
    Query(q): Query<ScopeQuery>,
) -> Result<Response, PageError> {
    edit_page(&state, &user, chrome, &q.scope, &id, EditView::showing(true)).await
}

pub async fn delete(
    State(state): State<AppState>,
    user: CurrentUser,
    PagePath(id): PagePath<FieldDefinitionId>,
    Query(q): Query<ScopeQuery>,
) -> Result<Response, PageError> {
    let actor = user.actor();
    let ws = scope_of(&state, &actor, &q.scope).await?;
    find(&state, &actor, &ws, &id).await?;
    let def = field_definition::delete(&state.db, &actor, home(&ws), &id).await?;
    let url = format!("/settings/fields?scope={}", scope_param(&ws));
    let message = format!(
        "Field “{}” deleted. Its values are kept on contacts until you remove them.",
        def.label
    );
    Ok(flash::redirect(&state, &url, "success", &message))
}
