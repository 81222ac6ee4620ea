//! `/api/v1/workspaces/{ws}/providers`: which services carry the workspace's email and texts
//! (owner only; secrets write-only).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::Value;
use utoipa::ToSchema;

use crate::api::error::{ApiResult, ErrorBody};
use crate::api::extract::{ApiJson, ApiPath, ApiWs, optional_json};
use crate::api::shapes::messaging::{ProvidersView, TestResult};
use crate::auth::workspace::Owner;
use crate::domain::ids::WorkspaceId;
use crate::domain::messaging::providers::{self, Service};
use crate::state::AppState;

#[utoipa::path(get, path = "/api/v1/workspaces/{ws}/providers", tag = "providers",
    responses((status = 200, body = ProvidersView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn view(
    State(state): State<AppState>,
    ApiWs { actor, ws, .. }: ApiWs<Owner>,
) -> ApiResult<Json<ProvidersView>> {
    Ok(Json(providers::view(&state, &actor, &ws).await?.into()))
}

/// Sets the email (`mailgun`, `smtp`, `graph`, `gmail`) or text (`twilio`) provider; a secret
/// left out keeps the stored one.
#[utoipa::path(put, path = "/api/v1/workspaces/{ws}/providers/{channel}", tag = "providers",
    request_body = Object,
    responses((status = 200, body = Object), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn put(
    State(state): State<AppState>,
    ApiWs { actor, ws, .. }: ApiWs<Owner>,
    ApiPath((_, channel)): ApiPath<(WorkspaceId, String)>,
    ApiJson(body): ApiJson<Value>,
) -> ApiResult<Json<Value>> {
    let channel = Service::from_path(&channel)?;
    Ok(Json(providers::put(&state, &actor, &ws, channel, body).await?))
}

#[utoipa::path(delete, path = "/api/v1/workspaces/{ws}/providers/{channel}", tag = "providers",
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    ApiWs { actor, ws, .. }: ApiWs<Owner>,
    ApiPath((_, channel)): ApiPath<(WorkspaceId, String)>,
) -> ApiResult<StatusCode> {
    providers::delete(&state, &actor, &ws, Service::from_path(&channel)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema, Default)]
pub struct TestInput {
    /// Where the test goes: an email address (default: your own) or a phone number.
    pub to: Option<String>,
}

/// Sends one test message now; a refusal answers 502 with the provider's own words.
#[utoipa::path(post, path = "/api/v1/workspaces/{ws}/providers/{channel}/test", tag = "providers",
    request_body = Option<TestInput>,
    responses((status = 200, body = TestResult), (status = 502, body = TestResult), (status = 409, body = ErrorBody)))]
pub async fn test(
    State(state): State<AppState>,
    ApiWs { actor, ws, .. }: ApiWs<Owner>,
    ApiPath((_, channel)): ApiPath<(WorkspaceId, String)>,
    body: axum::body::Bytes,
) -> ApiResult<Response> {
    // The body is optional: none sends email to the owner's own address.
    let input: TestInput = optional_json(&body)?;
    let result = providers::test_send(&state, &actor, &ws, Service::from_path(&channel)?, input.to.as_deref()).await?;
    let status = if result.ok {
        StatusCode::OK
    } else {
        StatusCode::BAD_GATEWAY
    };
    Ok((status, Json(TestResult::from(result))).into_response())
}

#[derive(serde::Serialize, ToSchema)]
pub struct ConsentLink {
    /// Open it, approve, then paste the address the browser lands on into `gmail/link`.
    pub url: String,
}

/// Starts linking the Gmail provider's Google account (installed-app OAuth with PKCE).
#[utoipa::path(post, path = "/api/v1/workspaces/{ws}/providers/email/gmail/consent", tag = "providers",
    responses((status = 200, body = ConsentLink), (status = 409, body = ErrorBody)))]
pub async fn gmail_consent(
    State(state): State<AppState>,
    ApiWs { actor, ws, .. }: ApiWs<Owner>,
) -> ApiResult<Json<ConsentLink>> {
    Ok(Json(ConsentLink {
        url: providers::gmail_consent(&state, &actor, &ws).await?,
    }))
}

#[derive(Deserialize, ToSchema)]
pub struct LinkInput {
    /// The `http://127.0.0.1…` address Google's consent page sent the browser to.
    pub redirect_url: String,
}

/// Finishes the link: trades the pasted address's code for a refresh token (kept sealed).
#[utoipa::path(post, path = "/api/v1/workspaces/{ws}/providers/email/gmail/link", tag = "providers",
    request_body = LinkInput,
    responses((status = 200, body = Object), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn gmail_link(
    State(state): State<AppState>,
    ApiWs { actor, ws, .. }: ApiWs<Owner>,
    ApiJson(input): ApiJson<LinkInput>,
) -> ApiResult<Json<ProvidersView>> {
    providers::gmail_link(&state, &actor, &ws, &input.redirect_url).await?;
    Ok(Json(providers::view(&state, &actor, &ws).await?.into()))
}
