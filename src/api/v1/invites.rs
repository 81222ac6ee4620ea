//! `/api/v1/invites`: household invites (SPEC §5), scope `manage:workspaces`.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::api::error::{ApiResult, ErrorBody};
use crate::api::extract::{ApiCaller, ApiJson, ApiPath};
use crate::domain::invite::{self, Invite};
use crate::domain::workspace;
use crate::state::AppState;

#[derive(Deserialize, ToSchema)]
pub struct InviteInput {
    pub email: String,
    /// One of your workspaces to share with them when they join.
    #[schema(value_type = Option<crate::model::ids::WorkspaceId>)]
    pub workspace_id: Option<String>,
    /// `editor` (the default) or `viewer`.
    #[schema(pattern = "^(editor|viewer)$")]
    pub role: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct MadeInvite {
    pub id: String,
    /// The one-time link (7 days); shown this once.
    pub link: String,
    #[schema(value_type = Object)]
    pub invite: Invite,
}

#[derive(Serialize, ToSchema)]
pub struct InvitePage {
    #[schema(value_type = Vec<Object>)]
    pub items: Vec<Invite>,
    pub next_cursor: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/invites", tag = "invites", request_body = InviteInput,
    responses((status = 201, body = MadeInvite), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    ApiCaller(actor): ApiCaller,
    ApiJson(input): ApiJson<InviteInput>,
) -> ApiResult<Response> {
    let ws = match input.workspace_id.as_deref().map(str::trim).filter(|w| !w.is_empty()) {
        Some(id) => Some(workspace::resolve_text(&state.db, &actor, id).await?),
        None => None,
    };
    let role = input.role.as_deref().unwrap_or_default();
    let made = invite::create(&state.db, &actor, &input.email, ws.as_ref().map(|w| (w, role))).await?;
    let link = invite::link(state.config.public_url.as_deref(), &made.token);
    let body = MadeInvite {
        id: made.invite.id.clone(),
        link,
        invite: made.invite,
    };
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

#[utoipa::path(get, path = "/api/v1/invites", tag = "invites",
    responses((status = 200, body = InvitePage), (status = 403, body = ErrorBody)))]
pub async fn list(State(state): State<AppState>, ApiCaller(actor): ApiCaller) -> ApiResult<Json<InvitePage>> {
    Ok(Json(InvitePage {
        items: invite::list(&state.db, &actor).await?,
        next_cursor: None,
    }))
}

#[utoipa::path(delete, path = "/api/v1/invites/{id}", tag = "invites",
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn revoke(
    State(state): State<AppState>,
    ApiCaller(actor): ApiCaller,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<StatusCode> {
    invite::revoke(&state.db, &actor, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
