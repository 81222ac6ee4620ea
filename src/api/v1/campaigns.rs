//! `/api/v1/workspaces/{ws}/campaigns` (SPEC §10): scopes `read:campaigns` and
//! `write:campaigns`; scheduling and resuming also need `send:messages`.

use axum::Json;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::api::error::{ApiResult, ErrorBody};
use crate::api::extract::{ApiJson, ApiPath, ApiWs};
use crate::api::shapes;
use crate::api::shapes::campaigns::{
    Audience, Campaign, CampaignInput, CampaignPreview, DecisionInput, Recipient, Schedule, Segment,
};
use crate::auth::workspace::{Editor, Owner};
use crate::domain::campaign::{self, approval, fan_out, sending};
use crate::domain::ids::{CampaignId, ContactId, WorkspaceId};
use crate::domain::page::{Page, PageRequest};
use crate::state::AppState;

#[derive(Serialize, ToSchema)]
pub struct CampaignPage {
    pub items: Vec<Campaign>,
    pub next_cursor: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct RecipientPage {
    pub items: Vec<Recipient>,
    pub next_cursor: Option<String>,
}

type CampaignPath = ApiPath<(WorkspaceId, CampaignId)>;

/// The workspace's campaigns, newest first.
#[utoipa::path(get, path = "/api/v1/workspaces/{ws}/campaigns", tag = "campaigns",
    responses((status = 200, body = CampaignPage), (status = 404, body = ErrorBody)))]
pub async fn list(State(state): State<AppState>, ApiWs { actor, ws, .. }: ApiWs) -> ApiResult<Json<Page<Campaign>>> {
    Ok(Json(Page {
        items: shapes::all(campaign::list(&state, &actor, &ws).await?),
        next_cursor: None,
    }))
}

/// A new draft campaign.
#[utoipa::path(post, path = "/api/v1/workspaces/{ws}/campaigns", tag = "campaigns", request_body = CampaignInput,
    responses((status = 201, body = Campaign), (status = 422, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    ApiWs { actor, ws, .. }: ApiWs<Editor>,
    ApiJson(input): ApiJson<CampaignInput>,
) -> ApiResult<Response> {
    let made = campaign::create(&state, &actor, &ws, input.into()).await?;
    Ok((StatusCode::CREATED, Json(Campaign::from(made))).into_response())
}

#[utoipa::path(get, path = "/api/v1/workspaces/{ws}/campaigns/{id}", tag = "campaigns",
    responses((status = 200, body = Campaign), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    ApiWs { actor, ws, .. }: ApiWs,
    ApiPath((_, id)): CampaignPath,
) -> ApiResult<Json<Campaign>> {
    Ok(Json(campaign::get(&state, &actor, &ws, &id).await?.into()))
}

/// Changes a campaign that has not started; changing its template, segment or schedule after
/// `submit` voids the approval and returns it to draft.
#[utoipa::path(patch, path = "/api/v1/workspaces/{ws}/campaigns/{id}", tag = "campaigns", request_body = CampaignInput,
    responses((status = 200, body = Campaign), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    ApiWs { actor, ws, .. }: ApiWs<Editor>,
    ApiPath((_, id)): CampaignPath,
    ApiJson(input): ApiJson<CampaignInput>,
) -> ApiResult<Json<Campaign>> {
    Ok(Json(
        campaign::update(&state, &actor, &ws, &id, input.into()).await?.into(),
    ))
}

#[utoipa::path(delete, path = "/api/v1/workspaces/{ws}/campaigns/{id}", tag = "campaigns",
    responses((status = 204), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    ApiWs { actor, ws, .. }: ApiWs<Editor>,
    ApiPath((_, id)): CampaignPath,
) -> ApiResult<StatusCode> {
    campaign::delete(&state, &actor, &ws, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Freezes the snapshot and queues the reviewer's email with their link (409 `no_reviewer`,
/// `provider_not_configured`, `public_url_required`); `approval.email` says how it goes.
#[utoipa::path(post, path = "/api/v1/workspaces/{ws}/campaigns/{id}/submit", tag = "campaigns",
    responses((status = 200, body = Campaign), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn submit(
    State(state): State<AppState>,
    ApiWs { actor, ws, .. }: ApiWs<Editor>,
    ApiPath((_, id)): CampaignPath,
) -> ApiResult<Json<Campaign>> {
    Ok(Json(approval::submit(&state, &actor, &ws, &id).await?.into()))
}

/// The owner records an approval that came by phone or mail (`{"decided_by", "notes"}`).
#[utoipa::path(post, path = "/api/v1/workspaces/{ws}/campaigns/{id}/approve", tag = "campaigns", request_body = DecisionInput,
    responses((status = 200, body = Campaign), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn approve(
    State(state): State<AppState>,
    ApiWs { actor, ws, .. }: ApiWs<Owner>,
    ApiPath((_, id)): CampaignPath,
    ApiJson(input): ApiJson<DecisionInput>,
) -> ApiResult<Json<Campaign>> {
    Ok(Json(
        approval::record(&state, &actor, &ws, &id, true, input.into())
            .await?
            .into(),
    ))
}

/// The owner records a rejection that came by phone or mail.
#[utoipa::path(post, path = "/api/v1/workspaces/{ws}/campaigns/{id}/reject", tag = "campaigns", request_body = DecisionInput,
    responses((status = 200, body = Campaign), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn reject(
    State(state): State<AppState>,
    ApiWs { actor, ws, .. }: ApiWs<Owner>,
    ApiPath((_, id)): CampaignPath,
    ApiJson(input): ApiJson<DecisionInput>,
) -> ApiResult<Json<Campaign>> {
    Ok(Json(
        approval::record(&state, &actor, &ws, &id, false, input.into())
            .await?
            .into(),
    ))
}

/// Schedules it (409 `approval_required` when the workspace requires approval and it has none).
#[utoipa::path(post, path = "/api/v1/workspaces/{ws}/campaigns/{id}/schedule", tag = "campaigns",
    responses((status = 200, body = Campaign), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn schedule(
    State(state): State<AppState>,
    ApiWs { actor, ws, .. }: ApiWs<Editor>,
    ApiPath((_, id)): CampaignPath,
) -> ApiResult<Json<Campaign>> {
    Ok(Json(sending::schedule(&state, &actor, &ws, &id).await?.into()))
}

#[utoipa::path(post, path = "/api/v1/workspaces/{ws}/campaigns/{id}/pause", tag = "campaigns",
    responses((status = 200, body = Campaign), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn pause(
    State(state): State<AppState>,
    ApiWs { actor, ws, .. }: ApiWs<Editor>,
    ApiPath((_, id)): CampaignPath,
) -> ApiResult<Json<Campaign>> {
    Ok(Json(sending::pause(&state, &actor, &ws, &id).await?.into()))
}

#[utoipa::path(post, path = "/api/v1/workspaces/{ws}/campaigns/{id}/resume", tag = "campaigns",
    responses((status = 200, body = Campaign), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn resume(
    State(state): State<AppState>,
    ApiWs { actor, ws, .. }: ApiWs<Editor>,
    ApiPath((_, id)): CampaignPath,
) -> ApiResult<Json<Campaign>> {
    Ok(Json(sending::resume(&state, &actor, &ws, &id).await?.into()))
}

#[utoipa::path(post, path = "/api/v1/workspaces/{ws}/campaigns/{id}/cancel", tag = "campaigns",
    responses((status = 200, body = Campaign), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn cancel(
    State(state): State<AppState>,
    ApiWs { actor, ws, .. }: ApiWs<Editor>,
    ApiPath((_, id)): CampaignPath,
) -> ApiResult<Json<Campaign>> {
    Ok(Json(sending::cancel(&state, &actor, &ws, &id).await?.into()))
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
pub struct RecipientQuery {
    #[param(value_type = Option<String>, pattern = "^(|all|queued|sent|delivered|opened|failed|unknown|skipped|cancelled)$")]
    pub status: Option<String>,
    pub cursor: Option<String>,
    pub limit: Option<u32>,
}

/// The per-recipient log.
#[utoipa::path(get, path = "/api/v1/workspaces/{ws}/campaigns/{id}/recipients", tag = "campaigns", params(RecipientQuery),
    responses((status = 200, body = RecipientPage), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn recipients(
    State(state): State<AppState>,
    ApiWs { actor, ws, .. }: ApiWs,
    ApiPath((_, id)): CampaignPath,
    Query(q): Query<RecipientQuery>,
) -> ApiResult<Json<Page<Recipient>>> {
    Ok(Json(
        campaign::recipients(
            &state,
            &actor,
            &ws,
            &id,
            q.status.as_deref().unwrap_or(""),
            q.cursor.as_deref(),
            PageRequest {
                limit: q.limit,
                cursor: None,
            }
            .limit()?,
        )
        .await?
        .map(Recipient::from),
    ))
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
pub struct PreviewQuery {
    /// A contact of the workspace; the segment's first contact when left out.
    pub contact_id: Option<String>,
}

/// The message as one recipient gets it (what is frozen, once submitted or scheduled).
#[utoipa::path(get, path = "/api/v1/workspaces/{ws}/campaigns/{id}/preview", tag = "campaigns", params(PreviewQuery),
    responses((status = 200, body = CampaignPreview), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn preview(
    State(state): State<AppState>,
    ApiWs { actor, ws, .. }: ApiWs,
    ApiPath((_, id)): CampaignPath,
    Query(q): Query<PreviewQuery>,
) -> ApiResult<Json<CampaignPreview>> {
    let contact = match q.contact_id.as_deref().map(str::trim).filter(|c| !c.is_empty()) {
        Some(c) => Some(ContactId::parse(c).ok_or_else(|| {
            crate::error::AppError::invalid("contact_id", "there is no contact with this id in this workspace")
        })?),
        None => None,
    };
    Ok(Json(
        fan_out::preview(&state, &actor, &ws, &id, contact.as_ref())
            .await?
            .into(),
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct AudienceInput {
    #[schema(value_type = crate::api::shapes::enums::Channel)]
    pub channel: String,
    #[serde(default)]
    pub segment: Segment,
    pub schedule: Option<Schedule>,
}

/// Who a segment reaches, and who of them would be skipped (the editor's live count).
#[utoipa::path(post, path = "/api/v1/workspaces/{ws}/campaigns/audience", tag = "campaigns", request_body = AudienceInput,
    responses((status = 200, body = Audience), (status = 422, body = ErrorBody)))]
pub async fn audience(
    State(state): State<AppState>,
    ApiWs { actor, ws, .. }: ApiWs,
    ApiJson(input): ApiJson<AudienceInput>,
) -> ApiResult<Json<Audience>> {
    let schedule = input.schedule.map(campaign::Schedule::from);
    Ok(Json(
        campaign::audience(
            &state,
            &actor,
            &ws,
            &input.channel,
            &input.segment.into(),
            schedule.as_ref(),
        )
        .await?
        .into(),
    ))
}
