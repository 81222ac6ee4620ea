//! `/api/v1/workspaces/{ws}/ai/…` (SPEC §9.2): the wizard's template drafts and personal
//! messages (scope `execute:ai-workflow`), and today's token use.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use crate::api::error::{ApiResult, ErrorBody};
use crate::api::extract::{ApiJson, ApiWs};
use crate::api::shapes::ai::{Draft, PersonalInput, Usage, WizardInput, WorkflowInput};
use crate::api::shapes::campaigns::Campaign;
use crate::api::shapes::templates::Template;
use crate::auth::workspace::{Editor, Owner};
use crate::domain::ai;
use crate::state::AppState;

/// Drafts a template with the workspace's AI from the wizard's answers; it is saved marked
/// `ai_generated`, to edit before use.
#[utoipa::path(post, path = "/api/v1/workspaces/{ws}/ai/templates", tag = "ai", request_body = WizardInput,
    responses((status = 201, body = Template), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody),
              (status = 429, body = ErrorBody), (status = 502, body = ErrorBody)))]
pub async fn draft_template(
    State(state): State<AppState>,
    ApiWs { actor, ws, .. }: ApiWs<Editor>,
    ApiJson(input): ApiJson<WizardInput>,
) -> ApiResult<Response> {
    let created = ai::draft_template(&state, &actor, &ws, &input.into()).await?;
    Ok((StatusCode::CREATED, Json(Template::from(created))).into_response())
}

#[derive(Serialize, ToSchema)]
pub struct PromptView {
    /// Exactly what would be sent to the model.
    pub prompt: String,
}

/// The prompt the wizard's answers make, without sending it.
#[utoipa::path(post, path = "/api/v1/workspaces/{ws}/ai/templates/prompt", tag = "ai", request_body = WizardInput,
    responses((status = 200, body = PromptView), (status = 422, body = ErrorBody)))]
pub async fn prompt(
    State(state): State<AppState>,
    ApiWs { actor, ws, .. }: ApiWs<Editor>,
    ApiJson(input): ApiJson<WizardInput>,
) -> ApiResult<Json<PromptView>> {
    Ok(Json(PromptView {
        prompt: ai::wizard_prompt(&state, &actor, &ws, &input.into()).await?.as_text(),
    }))
}

/// A personal message for one contact, to edit and send; logged as `ai` on their timeline.
#[utoipa::path(post, path = "/api/v1/workspaces/{ws}/ai/messages", tag = "ai", request_body = PersonalInput,
    responses((status = 200, body = Draft), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
              (status = 422, body = ErrorBody), (status = 429, body = ErrorBody), (status = 502, body = ErrorBody)))]
pub async fn message(
    State(state): State<AppState>,
    ApiWs { actor, ws, .. }: ApiWs<Editor>,
    ApiJson(input): ApiJson<PersonalInput>,
) -> ApiResult<Json<Draft>> {
    Ok(Json(
        ai::personal_message(&state, &actor, &ws, &input.into()).await?.into(),
    ))
}

/// Tokens spent today against the daily limit (owner; 404 without an AI provider).
#[utoipa::path(get, path = "/api/v1/workspaces/{ws}/ai/usage", tag = "ai",
    responses((status = 200, body = Usage), (status = 404, body = ErrorBody)))]
pub async fn usage(State(state): State<AppState>, ApiWs { actor, ws, .. }: ApiWs<Owner>) -> ApiResult<Json<Usage>> {
    ai::usage(&state, &actor, &ws)
        .await?
        .map(|u| Json(Usage::from(u)))
        .ok_or(crate::error::AppError::NotFound.into())
}

/// `request_approval` (submits a campaign for review, as `…/campaigns/{id}/submit`) or
/// `draft_campaign` (the model names a draft campaign for a template and a goal).
#[utoipa::path(post, path = "/api/v1/workspaces/{ws}/ai/workflows", tag = "ai", request_body = WorkflowInput,
    responses((status = 200, body = Campaign), (status = 201, body = Campaign), (status = 409, body = ErrorBody),
              (status = 422, body = ErrorBody), (status = 429, body = ErrorBody), (status = 502, body = ErrorBody)))]
pub async fn workflow(
    State(state): State<AppState>,
    ApiWs { actor, ws, .. }: ApiWs<Editor>,
    ApiJson(input): ApiJson<WorkflowInput>,
) -> ApiResult<Response> {
    let done = ai::workflow(&state, &actor, &ws, &input.into()).await?;
    let status = if done.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(Campaign::from(done.campaign))).into_response())
}
