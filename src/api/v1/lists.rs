//! `/api/v1/workspaces/{ws}/lists`: tags and pipeline stages.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use crate::api::error::{ApiResult, ErrorBody};
use crate::api::extract::{ApiCaller, ApiJson};
use crate::domain::list::{self, ContactList, ListInput};
use crate::domain::page::Page;
use crate::domain::workspace;
use crate::state::AppState;

#[derive(Serialize, ToSchema)]
pub struct ListPage {
    pub items: Vec<ContactList>,
    pub next_cursor: Option<String>,
}

/// Stages first (in board order), then tags by name.
#[utoipa::path(get, path = "/api/v1/workspaces/{ws}/lists", tag = "lists",
    responses((status = 200, body = ListPage), (status = 404, body = ErrorBody)))]
pub async fn all(
    State(state): State<AppState>,
    ApiCaller(actor): ApiCaller,
    Path(ws): Path<String>,
) -> ApiResult<Json<Page<ContactList>>> {
    let ws = workspace::resolve(&state.db, &actor, &ws).await?;
    Ok(Json(Page {
        items: list::all(&state.db, &actor, &ws).await?,
        next_cursor: None,
    }))
}

#[utoipa::path(post, path = "/api/v1/workspaces/{ws}/lists", tag = "lists", request_body = ListInput,
    responses((status = 201, body = ContactList), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    ApiCaller(actor): ApiCaller,
    Path(ws): Path<String>,
    ApiJson(input): ApiJson<ListInput>,
) -> ApiResult<Response> {
    let ws = workspace::resolve(&state.db, &actor, &ws).await?;
    let created = list::create(&state.db, &actor, &ws, input).await?;
    Ok((StatusCode::CREATED, Json(created)).into_response())
}

#[utoipa::path(patch, path = "/api/v1/workspaces/{ws}/lists/{id}", tag = "lists", request_body = ListInput,
    responses((status = 200, body = ContactList), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    ApiCaller(actor): ApiCaller,
    Path((ws, id)): Path<(String, String)>,
    ApiJson(input): ApiJson<ListInput>,
) -> ApiResult<Json<ContactList>> {
    let ws = workspace::resolve(&state.db, &actor, &ws).await?;
    Ok(Json(list::update(&state.db, &actor, &ws, &id, input).await?))
}

#[utoipa::path(delete, path = "/api/v1/workspaces/{ws}/lists/{id}", tag = "lists",
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    ApiCaller(actor): ApiCaller,
    Path((ws, id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let ws = workspace::resolve(&state.db, &actor, &ws).await?;
    list::delete(&state.db, &actor, &ws, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
