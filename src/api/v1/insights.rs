//! `/api/v1/insights` (SPEC §9.2): the caller's insights across their workspaces (or one), and
//! dismissing one.

use axum::Json;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use serde::Serialize;
use utoipa::ToSchema;

use crate::api::error::{ApiResult, ErrorBody};
use crate::api::extract::{ApiCaller, ApiPath};
use crate::api::shapes;
use crate::api::shapes::insights::Insight;
use crate::domain::ids::InsightId;
use crate::domain::insights::{self, InsightQuery};
use crate::domain::page::Page;
use crate::state::AppState;

#[derive(Serialize, ToSchema)]
pub struct InsightPage {
    pub items: Vec<Insight>,
    pub next_cursor: Option<String>,
}

/// Open insights, computed facts first (confidence 1.0), then AI ideas; newest first.
#[utoipa::path(get, path = "/api/v1/insights", tag = "insights", params(("workspace_id" = Option<String>, Query, description = "One workspace only."), ("dismissed" = Option<bool>, Query, description = "Dismissed ones too.")),
    responses((status = 200, body = InsightPage), (status = 404, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    ApiCaller(actor): ApiCaller,
    Query(query): Query<InsightQuery>,
) -> ApiResult<Json<Page<Insight>>> {
    Ok(Json(Page {
        items: shapes::all(insights::list(&state, &actor, &query, 500).await?),
        next_cursor: None,
    }))
}

#[utoipa::path(post, path = "/api/v1/insights/{id}/dismiss", tag = "insights",
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn dismiss(
    State(state): State<AppState>,
    ApiCaller(actor): ApiCaller,
    ApiPath(id): ApiPath<InsightId>,
) -> ApiResult<StatusCode> {
    insights::dismiss(&state, &actor, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
