//! `/api/v1/keys`: needs `manage:keys` (or a browser session).

use axum::Json;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::api::error::{ApiResult, ErrorBody};
use crate::api::extract::{ApiCaller, ApiJson, ApiPath};
use crate::api::shapes::account::ApiKeyView;
use crate::domain::api_key::{self, NewKey};
use crate::domain::ids::ApiKeyId;
use crate::domain::page::{Page, PageRequest};
use crate::state::AppState;

#[derive(Deserialize, ToSchema)]
pub struct KeyInput {
    #[serde(default)]
    pub description: String,
    /// At least one of `read:contacts`, `write:contacts`, `read:templates`, `write:templates`,
    /// `read:campaigns`, `write:campaigns`, `send:messages`, `execute:ai-workflow`, `read:audit`,
    /// `manage:keys`, `manage:workspaces`, or `dav` (an app password for a phone's CardDAV
    /// account, which opens `/dav/` only).
    #[schema(min_items = 1)]
    pub scopes: Vec<String>,
    #[schema(value_type = Option<crate::model::ids::WorkspaceId>)]
    pub workspace_id: Option<String>,
    /// `YYYY-MM-DD` (valid through that day, UTC) or an RFC 3339 time.
    pub expires_at: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct CreatedKey {
    #[serde(flatten)]
    pub view: ApiKeyView,
    /// The key itself. Shown this once; only its SHA-256 is kept.
    pub key: String,
}

#[derive(Serialize, ToSchema)]
pub struct KeyList {
    pub items: Vec<ApiKeyView>,
    pub next_cursor: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/keys", tag = "keys", request_body = KeyInput,
    responses((status = 201, body = CreatedKey), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    ApiCaller(actor): ApiCaller,
    ApiJson(input): ApiJson<KeyInput>,
) -> ApiResult<Response> {
    let created = api_key::create(
        &state.db,
        &actor,
        NewKey {
            description: input.description,
            scopes: input.scopes,
            workspace_id: input.workspace_id,
            expires_at: input.expires_at,
        },
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedKey {
            view: created.view.into(),
            key: created.key,
        }),
    )
        .into_response())
}

/// Keys that are not revoked, oldest first.
#[utoipa::path(get, path = "/api/v1/keys", tag = "keys",
    params(("limit" = Option<u32>, Query), ("cursor" = Option<String>, Query)),
    responses((status = 200, body = KeyList), (status = 403, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    ApiCaller(actor): ApiCaller,
    Query(page): Query<PageRequest>,
) -> ApiResult<Json<Page<ApiKeyView>>> {
    let spec = page.parse()?;
    let mut keys = api_key::list(&state.db, &actor).await?;
    keys.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(Json(Page::slice(keys, &spec, |k| k.id.clone()).map(ApiKeyView::from)))
}

#[utoipa::path(delete, path = "/api/v1/keys/{id}", tag = "keys",
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn revoke(
    State(state): State<AppState>,
    ApiCaller(actor): ApiCaller,
    ApiPath(id): ApiPath<ApiKeyId>,
) -> ApiResult<StatusCode> {
    api_key::revoke(&state.db, &actor, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
