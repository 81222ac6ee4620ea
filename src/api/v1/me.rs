//! `/api/v1/me`: the caller's own profile (SPEC §5).

use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use utoipa::ToSchema;

use crate::api::error::{ApiResult, ErrorBody};
use crate::api::extract::{ApiCaller, ApiJson};
use crate::api::shapes::account::Me;
use crate::domain::actor::Scope;
use crate::domain::user;
use crate::state::AppState;

/// Who the key (or session) belongs to. Any valid key may ask.
#[utoipa::path(get, path = "/api/v1/me", tag = "me", responses((status = 200, body = Me), (status = 401, body = ErrorBody)))]
pub async fn get(State(state): State<AppState>, ApiCaller(actor): ApiCaller) -> ApiResult<Json<Me>> {
    Ok(Json(user::me(&state.db, &actor).await?.into()))
}

#[derive(Deserialize, ToSchema)]
pub struct MeInput {
    pub name: Option<String>,
    /// An IANA zone such as `America/Los_Angeles`; empty: the workspace's, else the server's.
    pub timezone: Option<String>,
    /// Email addresses are changed by the CLI only; naming one here is refused, so it is not
    /// part of the documented input.
    #[schema(ignore)]
    pub email: Option<String>,
}

/// Changes the caller's name or time zone (scope `manage:workspaces` for a key).
#[utoipa::path(patch, path = "/api/v1/me", tag = "me", request_body = MeInput,
    responses((status = 200, body = Me), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    ApiCaller(actor): ApiCaller,
    ApiJson(input): ApiJson<MeInput>,
) -> ApiResult<Json<Me>> {
    actor.require(Scope::ManageWorkspaces)?;
    let (name, zone, email) = (input.name.as_deref(), input.timezone.as_deref(), input.email.as_deref());
    Ok(Json(
        user::update_me(&state.db, &actor, name, zone, email).await?.into(),
    ))
}
