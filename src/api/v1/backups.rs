//! `/api/v1/backups`: the backups in the backup directory (any signed-in user or key).

use axum::Json;
use axum::extract::State;
use serde::Serialize;
use utoipa::ToSchema;

use crate::api::error::{ApiResult, ErrorBody};
use crate::api::extract::ApiCaller;
use crate::api::shapes::{self, account::Backup};
use crate::error::AppError;
use crate::state::AppState;

#[derive(Serialize, ToSchema)]
pub struct BackupList {
    pub items: Vec<Backup>,
    pub next_cursor: Option<String>,
}

/// Every backup in the backup directory, newest first: `verified` when it passed its check
/// and has not changed since.
#[utoipa::path(get, path = "/api/v1/backups", tag = "backups",
    responses((status = 200, body = BackupList), (status = 401, body = ErrorBody)))]
pub async fn list(State(state): State<AppState>, ApiCaller(_): ApiCaller) -> ApiResult<Json<BackupList>> {
    let dir = state.config.backup_dir();
    let items = crate::backup::list_in(dir).await.map_err(AppError::Internal)?;
    Ok(Json(BackupList {
        items: shapes::all(items),
        next_cursor: None,
    }))
}
