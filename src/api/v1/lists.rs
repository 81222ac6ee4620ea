//! `/api/v1/workspaces/{ws}/lists`: tags and pipeline stages.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use crate::api::error::{ApiResult, ErrorBody};
use crate::api::extract::{ApiJson, ApiPath, ApiWs};
use crate::api::shapes::{
    self,
    fields::{ContactList, ListInput},
};
use crate::auth::workspace::Editor;
use crate::domain::ids::{ListId, WorkspaceId};
use crate::domain::list;
use crate::domain::page::Page;
use crate::state::AppState;

#[derive(Serialize, ToSchema)]
pub struct ListPage {
    pub items: Vec<ContactList>,
    pub next_cursor: Option<String>,
}

/// Stages first (in board order), then tags by name.
#[utoipa::path(get, path = "/api/v1/workspaces/{ws}/lists", tag = "lists",
    responses((status = 200, body = ListPage), (status = 404, body = ErrorBody)))]
pub async fn all(State(state): State<AppState>, ApiWs { actor, ws, .. }: ApiWs) -> ApiResult<Json<Page<ContactList>>> {
    Ok(Json(Page {
        items: shapes::all(list::all(&state.db, &actor, &ws).await?),
        next_cursor: None,
    }))
}

#[utoipa::path(post, path = "/api/v1/workspaces/{ws}/lists", tag = "lists", request_body = ListInput,
    responses((status = 201, body = ContactList), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    ApiWs { actor, ws, .. }: ApiWs<Editor>,
    ApiJson(input): ApiJson<ListInput>,
) -> ApiResult<Response> {
    let created = list::create(&state.db, &actor, &ws, input.into()).await?;
    Ok((StatusCode::CREATED, Json(ContactList::from(created))).into_response())
}

#[utoipa::path(patch, path = "/api/v1/workspaces/{ws}/lists/{id}", tag = "lists", request_body = ListInput,
    responses((status = 200, body = ContactList), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    ApiWs { actor, ws, .. }: ApiWs<Editor>,
    ApiPath((_, id)): ApiPath<(WorkspaceId, ListId)>,
    ApiJson(input): ApiJson<ListInput>,
) -> ApiResult<Json<ContactList>> {
    Ok(Json(
        list::update(&state.db, &actor, &ws, &id, input.into()).await?.into(),
    ))
}

#[utoipa::path(delete, path = "/api/v1/workspaces/{ws}/lists/{id}", tag = "lists",
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    ApiWs { actor, ws, .. }: ApiWs<Editor>,
    ApiPath((_, id)): ApiPath<(WorkspaceId, ListId)>,
) -> ApiResult<StatusCode> {
    list::delete(&state.db, &actor, &ws, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
