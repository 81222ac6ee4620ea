//! `/api/v1/workspaces` and its members.

use axum::Json;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::api::error::{ApiResult, ErrorBody};
use crate::api::extract::{ApiCaller, ApiJson, ApiPath, ApiWs};
use crate::api::shapes::account::Member;
use crate::api::shapes::campaigns::{Approval, QuietHours, SettingsInput};
use crate::api::shapes::enums::Role;
use crate::auth::workspace::Owner;
use crate::domain::campaign::settings::{self, CampaignSettings};
use crate::domain::ids::{UserId, WorkspaceId};
use crate::domain::page::{Page, PageRequest};
use crate::domain::workspace::{self, WorkspaceAccess};
use crate::state::AppState;

#[derive(Serialize, ToSchema)]
pub struct Workspace {
    pub id: String,
    pub name: String,
    /// The caller's role.
    pub role: Role,
    /// Its own IANA time zone; `null`: the server's `timezone`.
    pub timezone: Option<String>,
    /// Campaign settings: in the answer for one workspace, not in the list.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub approval: Option<Approval>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quiet_hours: Option<QuietHours>,
    /// Texts a campaign may send in a day.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub daily_text_limit: Option<u32>,
}

impl From<WorkspaceAccess> for Workspace {
    fn from(w: WorkspaceAccess) -> Self {
        Workspace {
            id: w.id().to_string(),
            name: w.name().to_string(),
            role: w.role().into(),
            timezone: w.timezone().map(str::to_string),
            approval: None,
            quiet_hours: None,
            daily_text_limit: None,
        }
    }
}

impl Workspace {
    fn with_settings(w: WorkspaceAccess, settings: CampaignSettings) -> Workspace {
        Workspace {
            approval: Some(settings.approval.into()),
            quiet_hours: Some(settings.quiet_hours.into()),
            daily_text_limit: Some(settings.daily_text_limit),
            ..Workspace::from(w)
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct WorkspaceList {
    pub items: Vec<Workspace>,
    pub next_cursor: Option<String>,
}

#[derive(Deserialize, ToSchema)]
pub struct WorkspaceInput {
    /// Required to create; optional to change.
    #[serde(default)]
    #[schema(pattern = "\\S")]
    pub name: Option<String>,
    /// An IANA zone (`America/Los_Angeles`); `""` goes back to the server's.
    #[serde(default)]
    pub timezone: Option<String>,
    /// `approval`, `quiet_hours`, `daily_text_limit` (owner; SPEC §10).
    #[serde(flatten)]
    pub campaigns: SettingsInput,
}

#[derive(Deserialize, ToSchema)]
pub struct MemberInput {
    pub email: String,
    #[schema(pattern = "^(editor|viewer)$")]
    pub role: String,
}

#[derive(Serialize, ToSchema)]
pub struct MemberList {
    pub items: Vec<Member>,
    pub next_cursor: Option<String>,
}

/// Workspaces the caller can reach (any valid key may list them).
#[utoipa::path(get, path = "/api/v1/workspaces", tag = "workspaces",
    params(("limit" = Option<u32>, Query), ("cursor" = Option<String>, Query)),
    responses((status = 200, body = WorkspaceList), (status = 401, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    ApiCaller(actor): ApiCaller,
    Query(page): Query<PageRequest>,
) -> ApiResult<Json<Page<Workspace>>> {
    let spec = page.parse()?;
    let mut all = workspace::list(&state.db, &actor).await?;
    all.sort_by(|a, b| a.id().cmp(b.id()));
    Ok(Json(
        Page::slice(all, &spec, |w| w.id().to_string()).map(Workspace::from),
    ))
}

#[utoipa::path(post, path = "/api/v1/workspaces", tag = "workspaces", request_body = WorkspaceInput,
    responses((status = 201, body = Workspace), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    ApiCaller(actor): ApiCaller,
    ApiJson(input): ApiJson<WorkspaceInput>,
) -> ApiResult<Response> {
    let ws = workspace::create(&state.db, &actor, input.name.as_deref().unwrap_or_default()).await?;
    Ok((StatusCode::CREATED, Json(Workspace::from(ws))).into_response())
}

#[utoipa::path(get, path = "/api/v1/workspaces/{ws}", tag = "workspaces",
    responses((status = 200, body = Workspace), (status = 404, body = ErrorBody)))]
pub async fn get(State(state): State<AppState>, ApiWs { ws, .. }: ApiWs) -> ApiResult<Json<Workspace>> {
    let settings = settings::load(&state.db, &ws).await?;
    Ok(Json(Workspace::with_settings(ws, settings)))
}

#[utoipa::path(patch, path = "/api/v1/workspaces/{ws}", tag = "workspaces", request_body = WorkspaceInput,
    responses((status = 200, body = Workspace), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn rename(
    State(state): State<AppState>,
    ApiWs { actor, ws, .. }: ApiWs<Owner>,
    ApiJson(input): ApiJson<WorkspaceInput>,
) -> ApiResult<Json<Workspace>> {
    // Every part is checked before any is written: a bad setting changes no name.
    let campaigns = settings::SettingsInput::from(input.campaigns);
    let given = !campaigns.is_empty();
    if given {
        settings::apply(&settings::load(&state.db, &ws).await?, &campaigns)?;
    }
    let ws = if input.name.is_some() || input.timezone.is_some() || !given {
        workspace::update(&state.db, &actor, &ws, input.name.as_deref(), input.timezone.as_deref()).await?
    } else {
        ws
    };
    let settings = if given {
        settings::update(&state.db, &actor, &ws, &campaigns).await?
    } else {
        settings::load(&state.db, &ws).await?
    };
    Ok(Json(Workspace::with_settings(ws, settings)))
}

#[utoipa::path(delete, path = "/api/v1/workspaces/{ws}", tag = "workspaces",
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn delete(State(state): State<AppState>, ApiWs { actor, ws, .. }: ApiWs<Owner>) -> ApiResult<StatusCode> {
    workspace::delete(&state.db, &actor, &ws).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Everyone with access, the owner first.
#[utoipa::path(get, path = "/api/v1/workspaces/{ws}/members", tag = "workspaces",
    responses((status = 200, body = MemberList), (status = 404, body = ErrorBody)))]
pub async fn members(State(state): State<AppState>, ApiWs { ws, .. }: ApiWs) -> ApiResult<Json<Page<Member>>> {
    let items = workspace::members(&state.db, &ws).await?;
    Ok(Json(Page {
        items: crate::api::shapes::all(items),
        next_cursor: None,
    }))
}

/// Shares the workspace with an existing user (201), or changes their role (200).
#[utoipa::path(post, path = "/api/v1/workspaces/{ws}/members", tag = "workspaces", request_body = MemberInput,
    responses((status = 201, body = Member), (status = 200, body = Member), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn add_member(
    State(state): State<AppState>,
    ApiWs { actor, ws, .. }: ApiWs<Owner>,
    ApiJson(input): ApiJson<MemberInput>,
) -> ApiResult<Response> {
    let (member, added) = workspace::add_member(&state.db, &actor, &ws, &input.email, &input.role).await?;
    let status = if added { StatusCode::CREATED } else { StatusCode::OK };
    Ok((status, Json(Member::from(member))).into_response())
}

#[utoipa::path(delete, path = "/api/v1/workspaces/{ws}/members/{user_id}", tag = "workspaces",
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn remove_member(
    State(state): State<AppState>,
    ApiWs { actor, ws, .. }: ApiWs,
    ApiPath((_, user_id)): ApiPath<(WorkspaceId, UserId)>,
) -> ApiResult<StatusCode> {
    workspace::remove_member(&state.db, &actor, &ws, &user_id).await?;
    Ok(StatusCode::NO_CONTENT)
}
