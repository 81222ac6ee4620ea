//! `/api/v1/workspaces/{ws}/imports`: upload (multipart `file`, optional `mapping` JSON and
//! `on_duplicate`), dry run, progress and report, revert.

use axum::Json;
use axum::extract::{Multipart, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::api::error::{ApiResult, ErrorBody};
use crate::api::extract::{ApiPath, ApiWs};
use crate::api::shapes;
use crate::api::shapes::imports::{ImportPreview, ImportView};
use crate::auth::workspace::Editor;
use crate::domain::ids::{ImportId, WorkspaceId};
use crate::domain::import::{job, revert};
use crate::domain::page::Page;
use crate::state::AppState;

#[derive(Deserialize)]
pub struct DryRun {
    #[serde(default)]
    dry_run: bool,
}

/// The upload's parts, as the OpenAPI document describes them.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct ImportUpload {
    /// The CSV or vCard file.
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
    /// How columns map to fields, as JSON (SPEC §11); the suggested mapping when left out.
    mapping: Option<String>,
    /// `skip`, `update` or `merge` for a row that matches a contact already there.
    on_duplicate: Option<String>,
}

/// Upload a CSV or vCard file. With `?dry_run=true`: the preview (format, encoding,
/// delimiter, columns, suggested mapping, sample rows, and the values that mapping — or the
/// `mapping` given — cannot read, counted by column) and nothing written. Otherwise the
/// import is queued: 202 with its id; follow it with `GET …/imports/{id}`.
#[utoipa::path(post, path = "/api/v1/workspaces/{ws}/imports", tag = "imports",
    params(("dry_run" = Option<bool>, Query)),
    request_body(content_type = "multipart/form-data", content = ImportUpload, description = "file, and optionally mapping (JSON, SPEC §11) and on_duplicate"),
    responses((status = 200, body = ImportPreview), (status = 202, body = ImportView), (status = 413, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    ApiWs { actor, ws, .. }: ApiWs<Editor>,
    Query(q): Query<DryRun>,
    multipart: Multipart,
) -> ApiResult<Response> {
    let upload = crate::upload::read(multipart, &state.imports.uploads).await?;
    if q.dry_run {
        let region = &state.config.default_phone_region;
        let preview = job::preview_upload(&state.db, &actor, &ws, &upload, region).await?;
        return Ok(Json(ImportPreview::from(preview)).into_response());
    }
    let view = job::create(&state.db, &state.imports, &actor, &ws, upload, false).await?;
    Ok((StatusCode::ACCEPTED, Json(ImportView::from(view))).into_response())
}

#[derive(Serialize, ToSchema)]
pub struct ImportList {
    pub items: Vec<ImportView>,
    pub next_cursor: Option<String>,
}

/// The workspace's imports, newest first (the last 100).
#[utoipa::path(get, path = "/api/v1/workspaces/{ws}/imports", tag = "imports",
    responses((status = 200, body = ImportList), (status = 404, body = ErrorBody)))]
pub async fn list(State(state): State<AppState>, ApiWs { actor, ws, .. }: ApiWs) -> ApiResult<Json<Page<ImportView>>> {
    Ok(Json(Page {
        items: shapes::all(job::list(&state.db, &state.imports, &actor, &ws).await?),
        next_cursor: None,
    }))
}

#[utoipa::path(get, path = "/api/v1/workspaces/{ws}/imports/{id}", tag = "imports",
    responses((status = 200, body = ImportView), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    ApiWs { actor, ws, .. }: ApiWs,
    ApiPath((_, id)): ApiPath<(WorkspaceId, ImportId)>,
) -> ApiResult<Json<ImportView>> {
    Ok(Json(
        job::get(&state.db, &state.imports, &actor, &ws, &id).await?.into(),
    ))
}

/// Removes what the import created and restores what it updated.
#[utoipa::path(post, path = "/api/v1/workspaces/{ws}/imports/{id}/revert", tag = "imports",
    responses((status = 200, body = ImportView), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn revert(
    State(state): State<AppState>,
    ApiWs { actor, ws, .. }: ApiWs<Editor>,
    ApiPath((_, id)): ApiPath<(WorkspaceId, ImportId)>,
) -> ApiResult<Json<ImportView>> {
    Ok(Json(
        revert::revert(&state.db, &state.imports, &actor, &ws, &id)
            .await?
            .into(),
    ))
}

/// The rows of the import that had a problem, as the file had them, with a last column
/// `problem` saying what was wrong: fix them and import the file again.
#[utoipa::path(get, path = "/api/v1/workspaces/{ws}/imports/{id}/problems.csv", tag = "imports",
    responses((status = 200, description = "the rows", content_type = "text/csv"), (status = 404, body = ErrorBody)))]
pub async fn problem_rows(
    State(state): State<AppState>,
    ApiWs { actor, ws, .. }: ApiWs,
    ApiPath((_, id)): ApiPath<(WorkspaceId, ImportId)>,
) -> ApiResult<Response> {
    let csv = crate::domain::import::problem_rows::prepare(&state.db, &actor, &ws, &id).await?;
    Ok(crate::download::problem_rows(csv))
}
