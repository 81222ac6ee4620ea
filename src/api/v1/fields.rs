//! Custom field definitions: user-global under `/api/v1/custom-fields`, per workspace under
//! `/api/v1/workspaces/{ws}/custom-fields` (whose list is every definition that applies there:
//! the workspace's own plus its owner's globals).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use crate::api::error::{ApiResult, ErrorBody};
use crate::api::extract::{ApiCaller, ApiJson, ApiPath, ApiWs};
use crate::api::shapes::fields::{DefinitionInput, FieldDefinition};
use crate::domain::field_definition::{self, Home};
use crate::domain::ids::{FieldDefinitionId, WorkspaceId};
use crate::domain::page::Page;
use crate::state::AppState;

#[derive(Serialize, ToSchema)]
pub struct DefinitionList {
    pub items: Vec<FieldDefinition>,
    pub next_cursor: Option<String>,
}

fn page(items: Vec<field_definition::FieldDefinition>) -> Json<Page<FieldDefinition>> {
    Json(Page {
        items: crate::api::shapes::all(items),
        next_cursor: None,
    })
}

fn created(def: field_definition::FieldDefinition) -> Response {
    (StatusCode::CREATED, Json(FieldDefinition::from(def))).into_response()
}

#[utoipa::path(get, path = "/api/v1/custom-fields", tag = "custom fields",
    responses((status = 200, body = DefinitionList)))]
pub async fn list_global(
    State(state): State<AppState>,
    ApiCaller(actor): ApiCaller,
) -> ApiResult<Json<Page<FieldDefinition>>> {
    Ok(page(field_definition::list_global(&state.db, &actor).await?))
}

#[utoipa::path(post, path = "/api/v1/custom-fields", tag = "custom fields", request_body = DefinitionInput,
    responses((status = 201, body = FieldDefinition), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_global(
    State(state): State<AppState>,
    ApiCaller(actor): ApiCaller,
    ApiJson(input): ApiJson<DefinitionInput>,
) -> ApiResult<Response> {
    let def = field_definition::create(
        &state.db,
        &actor,
        Home::Global,
        &state.config.default_phone_region,
        input.into(),
    )
    .await?;
    Ok(created(def))
}

#[utoipa::path(patch, path = "/api/v1/custom-fields/{id}", tag = "custom fields", request_body = DefinitionInput,
    responses((status = 200, body = FieldDefinition), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update_global(
    State(state): State<AppState>,
    ApiCaller(actor): ApiCaller,
    ApiPath(id): ApiPath<FieldDefinitionId>,
    ApiJson(input): ApiJson<DefinitionInput>,
) -> ApiResult<Json<FieldDefinition>> {
    let region = &state.config.default_phone_region;
    Ok(Json(
        field_definition::update(&state.db, &actor, Home::Global, region, &id, input.into())
            .await?
            .into(),
    ))
}

/// Deletes the definition; stored values are kept as orphans.
#[utoipa::path(delete, path = "/api/v1/custom-fields/{id}", tag = "custom fields",
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn delete_global(
    State(state): State<AppState>,
    ApiCaller(actor): ApiCaller,
    ApiPath(id): ApiPath<FieldDefinitionId>,
) -> ApiResult<StatusCode> {
    field_definition::delete(&state.db, &actor, Home::Global, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/v1/workspaces/{ws}/custom-fields", tag = "custom fields",
    responses((status = 200, body = DefinitionList), (status = 404, body = ErrorBody)))]
pub async fn list_workspace(
    State(state): State<AppState>,
    ApiWs { actor, ws, .. }: ApiWs,
) -> ApiResult<Json<Page<FieldDefinition>>> {
    Ok(page(
        field_definition::list_in_workspace(&state.db, &actor, &ws).await?.0,
    ))
}

#[utoipa::path(post, path = "/api/v1/workspaces/{ws}/custom-fields", tag = "custom fields", request_body = DefinitionInput,
    responses((status = 201, body = FieldDefinition), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_workspace(
    State(state): State<AppState>,
    ApiWs { actor, ws, .. }: ApiWs,
    ApiJson(input): ApiJson<DefinitionInput>,
) -> ApiResult<Response> {
    let region = &state.config.default_phone_region;
    Ok(created(
        field_definition::create(&state.db, &actor, Home::Workspace(&ws), region, input.into()).await?,
    ))
}

#[utoipa::path(patch, path = "/api/v1/workspaces/{ws}/custom-fields/{id}", tag = "custom fields", request_body = DefinitionInput,
    responses((status = 200, body = FieldDefinition), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update_workspace(
    State(state): State<AppState>,
    ApiWs { actor, ws, .. }: ApiWs,
    ApiPath((_, id)): ApiPath<(WorkspaceId, FieldDefinitionId)>,
    ApiJson(input): ApiJson<DefinitionInput>,
) -> ApiResult<Json<FieldDefinition>> {
    let region = &state.config.default_phone_region;
    Ok(Json(
        field_definition::update(&state.db, &actor, Home::Workspace(&ws), region, &id, input.into())
            .await?
            .into(),
    ))
}

#[utoipa::path(delete, path = "/api/v1/workspaces/{ws}/custom-fields/{id}", tag = "custom fields",
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn delete_workspace(
    State(state): State<AppState>,
    ApiWs { actor, ws, .. }: ApiWs,
    ApiPath((_, id)): ApiPath<(WorkspaceId, FieldDefinitionId)>,
) -> ApiResult<StatusCode> {
    field_definition::delete(&state.db, &actor, Home::Workspace(&ws), &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
