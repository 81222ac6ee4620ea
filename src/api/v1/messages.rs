//! Sending to a contact (`POST …/contacts/{id}/messages`, scope `send:messages`), sending
//! again, and the suppression list.

use axum::Json;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use crate::api::error::{ApiResult, ErrorBody};
use crate::api::extract::{ApiJson, ApiPath, ApiWs};
use crate::api::shapes::contacts::ContactInput;
use crate::api::shapes::messaging::{InboxMessage, MessageInput, Queued, Suppression, SuppressionInput};
use crate::auth::workspace::Editor;
use crate::domain::ids::{CommunicationId, ContactId, SuppressionId, WorkspaceId};
use crate::domain::messaging::{inbound, send, suppression};
use crate::domain::page::PageRequest;
use crate::state::AppState;

/// Queues an email or a text; it appears on the timeline as `queued` at once.
#[utoipa::path(post, path = "/api/v1/workspaces/{ws}/contacts/{id}/messages", tag = "messages",
    request_body = MessageInput,
    responses((status = 202, body = Queued), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
              (status = 422, body = ErrorBody)))]
pub async fn send(
    State(state): State<AppState>,
    ApiWs { actor, ws, .. }: ApiWs<Editor>,
    ApiPath((_, id)): ApiPath<(WorkspaceId, ContactId)>,
    ApiJson(input): ApiJson<MessageInput>,
) -> ApiResult<Response> {
    let queued = send::send(&state, &actor, &ws, &id, input.into()).await?;
    Ok((StatusCode::ACCEPTED, Json(Queued::from(queued))).into_response())
}

/// Queues once more a message that failed or may not have been sent.
#[utoipa::path(post, path = "/api/v1/workspaces/{ws}/contacts/{id}/communications/{entry}/send-again", tag = "messages",
    responses((status = 202), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn send_again(
    State(state): State<AppState>,
    ApiWs { actor, ws, .. }: ApiWs<Editor>,
    ApiPath((_, id, entry)): ApiPath<(WorkspaceId, ContactId, CommunicationId)>,
) -> ApiResult<StatusCode> {
    send::send_again(&state, &actor, &ws, &id, &entry).await?;
    Ok(StatusCode::ACCEPTED)
}

#[derive(Serialize, ToSchema)]
pub struct SuppressionPage {
    pub items: Vec<Suppression>,
    pub next_cursor: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/workspaces/{ws}/suppressions", tag = "messages",
    responses((status = 200, body = SuppressionPage), (status = 404, body = ErrorBody)))]
pub async fn suppressions(
    State(state): State<AppState>,
    ApiWs { actor, ws, .. }: ApiWs,
    Query(page): Query<PageRequest>,
) -> ApiResult<Response> {
    let page = suppression::list(&state.db, &actor, &ws, &page).await?;
    Ok(Json(page.map(Suppression::from)).into_response())
}

/// Adds an address or number by hand (201), or answers the entry already there (200).
#[utoipa::path(post, path = "/api/v1/workspaces/{ws}/suppressions", tag = "messages",
    request_body = SuppressionInput,
    responses((status = 201, body = Suppression), (status = 200, body = Suppression), (status = 422, body = ErrorBody)))]
pub async fn suppress(
    State(state): State<AppState>,
    ApiWs { actor, ws, .. }: ApiWs<Editor>,
    ApiJson(input): ApiJson<SuppressionInput>,
) -> ApiResult<Response> {
    let (entry, added) =
        suppression::add(&state.db, &state.config.default_phone_region, &actor, &ws, input.into()).await?;
    let status = if added { StatusCode::CREATED } else { StatusCode::OK };
    Ok((status, Json(Suppression::from(entry))).into_response())
}

#[utoipa::path(delete, path = "/api/v1/workspaces/{ws}/suppressions/{id}", tag = "messages",
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn unsuppress(
    State(state): State<AppState>,
    ApiWs { actor, ws, .. }: ApiWs<Editor>,
    ApiPath((_, id)): ApiPath<(WorkspaceId, SuppressionId)>,
) -> ApiResult<StatusCode> {
    suppression::remove(&state.db, &actor, &ws, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize, ToSchema)]
pub struct InboxPage {
    pub items: Vec<InboxMessage>,
    pub next_cursor: Option<String>,
}

/// Texts from numbers no contact has (the unknown senders), newest first.
#[utoipa::path(get, path = "/api/v1/workspaces/{ws}/inbox", tag = "messages",
    responses((status = 200, body = InboxPage), (status = 404, body = ErrorBody)))]
pub async fn inbox(
    State(state): State<AppState>,
    ApiWs { actor, ws, .. }: ApiWs,
    Query(page): Query<PageRequest>,
) -> ApiResult<Response> {
    let page = inbound::inbox(&state.db, &actor, &ws, &page).await?;
    Ok(Json(page.map(InboxMessage::from)).into_response())
}

/// Makes a contact of an unknown sender (the body is a contact; its phone is the sender's);
/// the sender's texts move onto the new contact's timeline.
#[utoipa::path(post, path = "/api/v1/workspaces/{ws}/inbox/{id}/contact", tag = "messages",
    request_body = ContactInput,
    responses((status = 201), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn inbox_to_contact(
    State(state): State<AppState>,
    ApiWs { actor, ws, .. }: ApiWs<Editor>,
    ApiPath((_, id)): ApiPath<(WorkspaceId, crate::domain::ids::InboxMessageId)>,
    ApiJson(input): ApiJson<ContactInput>,
) -> ApiResult<Response> {
    let region = &state.config.default_phone_region;
    let contact = inbound::create_contact_from(&state.db, region, &actor, &ws, &id, input.into()).await?;
    Ok((StatusCode::CREATED, Json(serde_json::json!({"contact_id": contact}))).into_response())
}
