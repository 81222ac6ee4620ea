//! `/api/v1/audit`: needs `read:audit`.

use axum::Json;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use crate::api::error::{ApiResult, ErrorBody};
use crate::api::extract::ApiCaller;
use crate::api::shapes::account::AuditEntry;
use crate::domain::audit::{self, Filter};
use crate::error::AppError;
use crate::state::AppState;

#[derive(Serialize, ToSchema)]
pub struct AuditList {
    pub items: Vec<AuditEntry>,
    pub next_cursor: Option<String>,
}

/// The caller's own actions and everything done in workspaces they own, newest first; with
/// `format=csv`, all of it (as filtered) as a CSV download.
#[utoipa::path(get, path = "/api/v1/audit", tag = "audit",
    params(("workspace_id" = Option<String>, Query), ("user_id" = Option<String>, Query, description = "who did it"),
           ("format" = Option<String>, Query, description = "json (default) or csv: the whole filtered log as a download"),
           ("action" = Option<String>, Query), ("entity_type" = Option<String>, Query), ("entity_id" = Option<String>, Query),
           ("via" = Option<String>, Query, description = "ui, api, cli or job"),
           ("since" = Option<String>, Query, description = "date or RFC 3339"), ("until" = Option<String>, Query),
           ("limit" = Option<u32>, Query), ("cursor" = Option<String>, Query)),
    responses((status = 200, body = AuditList), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    ApiCaller(actor): ApiCaller,
    Query(filter): Query<Filter>,
) -> ApiResult<Response> {
    match filter.format.as_deref().map(str::trim) {
        None | Some("" | "json") => {
            let page = audit::list(&state.db, &actor, &filter).await?;
            Ok(Json(page.map(AuditEntry::from)).into_response())
        }
        Some("csv") => {
            let csv = crate::domain::audit_export::prepare(&state.db, &actor, filter).await?;
            Ok(crate::download::audit_log(csv))
        }
        Some(other) => Err(AppError::invalid("format", format!("{other:?} is not json or csv")).into()),
    }
}
