//! `/api/v1/audit`: needs `read:audit`.

use axum::Json;
use axum::extract::{Query, State};
use serde::Serialize;
use utoipa::ToSchema;

use crate::api::error::{ApiResult, ErrorBody};
use crate::api::extract::ApiCaller;
use crate::domain::audit::{self, Entry, Filter};
use crate::domain::page::Page;
use crate::state::AppState;

#[derive(Serialize, ToSchema)]
pub struct AuditList {
    pub items: Vec<Entry>,
    pub next_cursor: Option<String>,
}

/// The caller's own actions and everything done in workspaces they own, newest first.
#[utoipa::path(get, path = "/api/v1/audit", tag = "audit",
    params(("action" = Option<String>, Query), ("entity_type" = Option<String>, Query), ("entity_id" = Option<String>, Query),
           ("via" = Option<String>, Query, description = "ui, api, cli or job"),
           ("since" = Option<String>, Query, description = "date or RFC 3339"), ("until" = Option<String>, Query),
           ("limit" = Option<u32>, Query), ("cursor" = Option<String>, Query)),
    responses((status = 200, body = AuditList), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    ApiCaller(actor): ApiCaller,
    Query(filter): Query<Filter>,
) -> ApiResult<Json<Page<Entry>>> {
    Ok(Json(audit::list(&state.db, &actor, &filter).await?))
}
