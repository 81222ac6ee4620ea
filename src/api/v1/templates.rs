//! `/api/v1/workspaces/{ws}/templates` and `/api/v1/templates/shared` (SPEC §9.1): scopes
//! `read:templates` and `write:templates`.

use axum::Json;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::api::error::{ApiResult, ErrorBody};
use crate::api::extract::{ApiCaller, ApiJson, ApiPath, ApiWs, optional_json};
use crate::api::shapes;
use crate::api::shapes::templates::{Rendered, SharedTemplate, Template, TemplateInput};
use crate::auth::workspace::Editor;
use crate::domain::ids::{ContactId, TemplateId, WorkspaceId};
use crate::domain::messaging::Channel;
use crate::domain::page::Page;
use crate::domain::template::render::Source;
use crate::domain::template::{self, ListQuery};
use crate::error::AppError;
use crate::state::AppState;

#[derive(Serialize, ToSchema)]
pub struct TemplatePage {
    pub items: Vec<Template>,
    pub next_cursor: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct SharedPage {
    pub items: Vec<SharedTemplate>,
    pub next_cursor: Option<String>,
}

/// The workspace's templates by name; `q` searches name, subject and body.
#[utoipa::path(get, path = "/api/v1/workspaces/{ws}/templates", tag = "templates", params(("q" = Option<String>, Query, description = "Words in the name, subject or body."), ("favorites" = Option<bool>, Query, description = "Only the caller's favourites.")),
    responses((status = 200, body = TemplatePage), (status = 404, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    ApiWs { actor, ws, .. }: ApiWs,
    Query(query): Query<ListQuery>,
) -> ApiResult<Json<Page<Template>>> {
    Ok(Json(Page {
        items: shapes::all(template::list(&state, &actor, &ws, &query).await?),
        next_cursor: None,
    }))
}

/// A new template; its placeholders and syntax are checked (422 naming the part and line).
#[utoipa::path(post, path = "/api/v1/workspaces/{ws}/templates", tag = "templates", request_body = TemplateInput,
    responses((status = 201, body = Template), (status = 422, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    ApiWs { actor, ws, .. }: ApiWs<Editor>,
    ApiJson(input): ApiJson<TemplateInput>,
) -> ApiResult<Response> {
    let created = template::create(&state, &actor, &ws, input.into(), false).await?;
    Ok((StatusCode::CREATED, Json(Template::from(created))).into_response())
}

#[utoipa::path(get, path = "/api/v1/workspaces/{ws}/templates/{id}", tag = "templates",
    responses((status = 200, body = Template), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    ApiWs { actor, ws, .. }: ApiWs,
    ApiPath((_, id)): ApiPath<(WorkspaceId, TemplateId)>,
) -> ApiResult<Json<Template>> {
    Ok(Json(template::get(&state, &actor, &ws, &id).await?.into()))
}

#[utoipa::path(patch, path = "/api/v1/workspaces/{ws}/templates/{id}", tag = "templates", request_body = TemplateInput,
    responses((status = 200, body = Template), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    ApiWs { actor, ws, .. }: ApiWs<Editor>,
    ApiPath((_, id)): ApiPath<(WorkspaceId, TemplateId)>,
    ApiJson(input): ApiJson<TemplateInput>,
) -> ApiResult<Json<Template>> {
    Ok(Json(
        template::update(&state, &actor, &ws, &id, input.into()).await?.into(),
    ))
}

#[utoipa::path(delete, path = "/api/v1/workspaces/{ws}/templates/{id}", tag = "templates",
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    ApiWs { actor, ws, .. }: ApiWs<Editor>,
    ApiPath((_, id)): ApiPath<(WorkspaceId, TemplateId)>,
) -> ApiResult<StatusCode> {
    template::delete(&state, &actor, &ws, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema, Default)]
pub struct CopyInput {
    /// Where the copy goes (a workspace you edit); this one when left out.
    #[schema(value_type = Option<String>)]
    pub workspace_id: Option<WorkspaceId>,
}

#[utoipa::path(post, path = "/api/v1/workspaces/{ws}/templates/{id}/copy", tag = "templates", request_body = Option<CopyInput>,
    responses((status = 201, body = Template), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn copy(
    State(state): State<AppState>,
    ApiWs { actor, ws, .. }: ApiWs,
    ApiPath((_, id)): ApiPath<(WorkspaceId, TemplateId)>,
    body: axum::body::Bytes,
) -> ApiResult<Response> {
    let input: CopyInput = optional_json(&body)?;
    let copied = template::copy(&state, &actor, &ws, &id, input.workspace_id.as_ref()).await?;
    Ok((StatusCode::CREATED, Json(Template::from(copied))).into_response())
}

#[derive(Deserialize, ToSchema)]
pub struct ShareInput {
    /// The pi-crm account to show the template to.
    pub email: String,
}

/// Shows the template, read-only, to another person here (their "shared with me").
#[utoipa::path(post, path = "/api/v1/workspaces/{ws}/templates/{id}/share", tag = "templates", request_body = ShareInput,
    responses((status = 204), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn share(
    State(state): State<AppState>,
    ApiWs { actor, ws, .. }: ApiWs<Editor>,
    ApiPath((_, id)): ApiPath<(WorkspaceId, TemplateId)>,
    ApiJson(input): ApiJson<ShareInput>,
) -> ApiResult<StatusCode> {
    template::share(&state, &actor, &ws, &id, &input.email).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(put, path = "/api/v1/workspaces/{ws}/templates/{id}/favorite", tag = "templates",
    responses((status = 200, body = Template), (status = 404, body = ErrorBody)))]
pub async fn favorite(
    State(state): State<AppState>,
    ApiWs { actor, ws, .. }: ApiWs,
    ApiPath((_, id)): ApiPath<(WorkspaceId, TemplateId)>,
) -> ApiResult<Json<Template>> {
    Ok(Json(
        template::set_favorite(&state, &actor, &ws, &id, true).await?.into(),
    ))
}

#[utoipa::path(delete, path = "/api/v1/workspaces/{ws}/templates/{id}/favorite", tag = "templates",
    responses((status = 200, body = Template), (status = 404, body = ErrorBody)))]
pub async fn unfavorite(
    State(state): State<AppState>,
    ApiWs { actor, ws, .. }: ApiWs,
    ApiPath((_, id)): ApiPath<(WorkspaceId, TemplateId)>,
) -> ApiResult<Json<Template>> {
    Ok(Json(
        template::set_favorite(&state, &actor, &ws, &id, false).await?.into(),
    ))
}

#[derive(Deserialize, ToSchema, Default)]
pub struct PreviewInput {
    /// The contact to fill it in for; a sample contact when left out.
    pub contact_id: Option<ContactId>,
}

/// The template filled in for a contact: `{subject, body_html, body_text}`.
#[utoipa::path(post, path = "/api/v1/workspaces/{ws}/templates/{id}/preview", tag = "templates", request_body = Option<PreviewInput>,
    responses((status = 200, body = Rendered), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn preview(
    State(state): State<AppState>,
    ApiWs { actor, ws, .. }: ApiWs,
    ApiPath((_, id)): ApiPath<(WorkspaceId, TemplateId)>,
    body: axum::body::Bytes,
) -> ApiResult<Json<Rendered>> {
    let input: PreviewInput = optional_json(&body)?;
    Ok(Json(
        template::preview(&state, &actor, &ws, &id, input.contact_id.as_ref())
            .await?
            .into(),
    ))
}

#[derive(Deserialize, ToSchema)]
pub struct DraftPreviewInput {
    #[schema(value_type = crate::api::shapes::enums::Channel)]
    pub channel: String,
    pub subject: Option<String>,
    pub preheader: Option<String>,
    pub body: String,
    pub contact_id: Option<ContactId>,
}

/// A template not yet saved, filled in (the editor's live preview).
#[utoipa::path(post, path = "/api/v1/workspaces/{ws}/templates/preview", tag = "templates", request_body = DraftPreviewInput,
    responses((status = 200, body = Rendered), (status = 422, body = ErrorBody)))]
pub async fn preview_draft(
    State(state): State<AppState>,
    ApiWs { actor, ws, .. }: ApiWs,
    ApiJson(input): ApiJson<DraftPreviewInput>,
) -> ApiResult<Json<Rendered>> {
    let channel =
        Channel::parse(&input.channel).ok_or_else(|| AppError::invalid("channel", "channel is email or text"))?;
    let source = Source {
        channel,
        subject: input.subject.as_deref().unwrap_or(""),
        preheader: input.preheader.as_deref().unwrap_or(""),
        body: &input.body,
    };
    Ok(Json(
        template::preview_source(&state, &actor, &ws, &source, input.contact_id.as_ref())
            .await?
            .into(),
    ))
}

/// Templates other people shared with you (read-only; copy one to use it).
#[utoipa::path(get, path = "/api/v1/templates/shared", tag = "templates",
    responses((status = 200, body = SharedPage), (status = 401, body = ErrorBody)))]
pub async fn shared(
    State(state): State<AppState>,
    ApiCaller(actor): ApiCaller,
) -> ApiResult<Json<Page<SharedTemplate>>> {
    Ok(Json(Page {
        items: shapes::all(template::shared_with_me(&state, &actor).await?),
        next_cursor: None,
    }))
}

#[utoipa::path(get, path = "/api/v1/templates/shared/{id}", tag = "templates",
    responses((status = 200, body = SharedTemplate), (status = 404, body = ErrorBody)))]
pub async fn shared_one(
    State(state): State<AppState>,
    ApiCaller(actor): ApiCaller,
    ApiPath(id): ApiPath<TemplateId>,
) -> ApiResult<Json<SharedTemplate>> {
    Ok(Json(template::shared_one(&state, &actor, &id).await?.into()))
}

#[derive(Deserialize, ToSchema)]
pub struct CopySharedInput {
    /// One of your workspaces, where you edit (required).
    #[schema(value_type = String)]
    pub workspace_id: Option<WorkspaceId>,
    /// Make the custom fields the template names that the workspace lacks (as the sharer has
    /// them), in the same transaction as the copy. Without it such a copy is a 422 naming them.
    #[serde(default)]
    pub create_missing_fields: bool,
}

/// Copies a template shared with you into one of your workspaces.
#[utoipa::path(post, path = "/api/v1/templates/shared/{id}/copy", tag = "templates", request_body = CopySharedInput,
    responses((status = 201, body = Template), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn copy_shared(
    State(state): State<AppState>,
    ApiCaller(actor): ApiCaller,
    ApiPath(id): ApiPath<TemplateId>,
    ApiJson(input): ApiJson<CopySharedInput>,
) -> ApiResult<Response> {
    let copied = template::copy_shared(
        &state,
        &actor,
        &id,
        input.workspace_id.as_ref(),
        input.create_missing_fields,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(Template::from(copied))).into_response())
}
