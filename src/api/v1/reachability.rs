//! `/api/v1/reachability`: can outsiders reach pi-crm at its `public_url` (SPEC §8.5)? Any
//! signed-in person or key may ask and check; one check runs at a time.

use axum::Json;
use axum::extract::State;

use crate::api::error::{ApiResult, ErrorBody};
use crate::api::extract::ApiCaller;
use crate::api::shapes::account::Check;
use crate::domain::reachability;
use crate::state::AppState;

/// The last check's result (`checked_at` null before the first).
#[utoipa::path(get, path = "/api/v1/reachability", tag = "reachability",
    responses((status = 200, body = Check), (status = 401, body = ErrorBody)))]
pub async fn last(State(state): State<AppState>, ApiCaller(_): ApiCaller) -> ApiResult<Json<Check>> {
    Ok(Json(reachability::current(&state).await?.into()))
}

/// Fetches `{public_url}/healthz` with a one-time code this instance must echo, keeps the
/// result and answers it. An address that does not answer is `reachable: false` with a
/// `detail` saying why, not an error.
#[utoipa::path(post, path = "/api/v1/reachability/check", tag = "reachability",
    responses((status = 200, body = Check), (status = 401, body = ErrorBody)))]
pub async fn check(State(state): State<AppState>, ApiCaller(_): ApiCaller) -> ApiResult<Json<Check>> {
    Ok(Json(reachability::check(&state).await?.into()))
}
