//! Contacts, their lists and their timeline, under `/api/v1/workspaces/{ws}/contacts`.

use axum::Json;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::api::error::{ApiResult, ErrorBody};
use crate::api::extract::{ApiJson, ApiPath, ApiWs};
use crate::api::shapes::contacts::{Communication, CommunicationInput, Contact, ContactInput, MergeInput, nullable};
use crate::auth::workspace::Editor;
use crate::domain::ids::{CommunicationId, ContactId, ListId, WorkspaceId};
use crate::domain::page::{Page, PageRequest};
use crate::domain::workspace::WorkspaceAccess;
use crate::domain::{comms, contact, field_definition, merge};
use crate::domain::{list, search};
use crate::state::AppState;

#[derive(Serialize, ToSchema)]
pub struct ContactPage {
    pub items: Vec<Contact>,
    pub next_cursor: Option<String>,
}

async fn contact_json(
    state: &AppState,
    ws: &WorkspaceAccess,
    record: contact::ContactRecord,
) -> ApiResult<Json<Contact>> {
    let fields = field_definition::applicable(&state.db, ws).await?;
    Ok(Json(Contact::new(record, &fields)))
}

/// Search and list. `q`, `list`, `field.NAME=VALUE`, `field.NAME.(eq|ne|gt|gte|lt|lte|contains)=VALUE`,
/// `sort` (created, oldest, name, `field.NAME` or `-field.NAME`: by a custom field, numbers as
/// numbers, contacts without a value last), `limit`, `cursor`.
#[utoipa::path(get, path = "/api/v1/workspaces/{ws}/contacts", tag = "contacts",
    params(("q" = Option<String>, Query), ("list" = Option<String>, Query, description = "list id or name"),
           ("sort" = Option<String>, Query, description = "created (newest first), oldest, name, field.NAME or -field.NAME"), ("limit" = Option<u32>, Query), ("cursor" = Option<String>, Query)),
    responses((status = 200, body = ContactPage), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    ApiWs { actor, ws, .. }: ApiWs,
    Query(params): Query<search::Params>,
) -> ApiResult<Json<Page<Contact>>> {
    let (page, fields) = search::search(&state.db, &actor, &ws, &state.config.default_phone_region, &params).await?;
    Ok(Json(page.map(|c| Contact::new(c, &fields))))
}

#[utoipa::path(post, path = "/api/v1/workspaces/{ws}/contacts", tag = "contacts", request_body = ContactInput,
    responses((status = 201, body = Contact), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    ApiWs { actor, ws, .. }: ApiWs<Editor>,
    ApiJson(input): ApiJson<ContactInput>,
) -> ApiResult<Response> {
    let record = contact::create(&state.db, &actor, &ws, &state.config.default_phone_region, input.into()).await?;
    Ok((StatusCode::CREATED, contact_json(&state, &ws, record).await?).into_response())
}

#[utoipa::path(get, path = "/api/v1/workspaces/{ws}/contacts/{id}", tag = "contacts",
    responses((status = 200, body = Contact), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    ApiWs { actor, ws, .. }: ApiWs,
    ApiPath((_, id)): ApiPath<(WorkspaceId, ContactId)>,
) -> ApiResult<Json<Contact>> {
    let record = contact::get(&state.db, &actor, &ws, &id).await?;
    contact_json(&state, &ws, record).await
}

#[utoipa::path(patch, path = "/api/v1/workspaces/{ws}/contacts/{id}", tag = "contacts", request_body = ContactInput,
    responses((status = 200, body = Contact), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    ApiWs { actor, ws, .. }: ApiWs<Editor>,
    ApiPath((_, id)): ApiPath<(WorkspaceId, ContactId)>,
    ApiJson(input): ApiJson<ContactInput>,
) -> ApiResult<Json<Contact>> {
    let record = contact::update(
        &state.db,
        &actor,
        &ws,
        &state.config.default_phone_region,
        &id,
        input.into(),
    )
    .await?;
    contact_json(&state, &ws, record).await
}

#[utoipa::path(delete, path = "/api/v1/workspaces/{ws}/contacts/{id}", tag = "contacts",
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    ApiWs { actor, ws, .. }: ApiWs<Editor>,
    ApiPath((_, id)): ApiPath<(WorkspaceId, ContactId)>,
) -> ApiResult<StatusCode> {
    contact::delete(&state.db, &actor, &ws, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Merges `other_id` into this contact; the other is deleted.
#[utoipa::path(post, path = "/api/v1/workspaces/{ws}/contacts/{id}/merge", tag = "contacts", request_body = MergeInput,
    responses((status = 200, body = Contact), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn merge(
    State(state): State<AppState>,
    ApiWs { actor, ws, .. }: ApiWs<Editor>,
    ApiPath((_, id)): ApiPath<(WorkspaceId, ContactId)>,
    ApiJson(input): ApiJson<MergeInput>,
) -> ApiResult<Json<Contact>> {
    let record = merge::merge(&state.db, &actor, &ws, &id, input.into()).await?;
    contact_json(&state, &ws, record).await
}

#[derive(Serialize, ToSchema)]
pub struct DuplicatePair {
    pub reason: String,
    pub a: Contact,
    pub b: Contact,
}

#[derive(Serialize, ToSchema)]
pub struct DuplicateList {
    pub items: Vec<DuplicatePair>,
    pub next_cursor: Option<String>,
}

/// Pairs of contacts that may be the same person (same name and company, or one's email or
/// phone stored as the other's custom value).
#[utoipa::path(get, path = "/api/v1/workspaces/{ws}/duplicates", tag = "contacts",
    params(("limit" = Option<u32>, Query), ("cursor" = Option<String>, Query)),
    responses((status = 200, body = DuplicateList), (status = 404, body = ErrorBody)))]
pub async fn duplicates(
    State(state): State<AppState>,
    ApiWs { actor, ws, .. }: ApiWs,
    Query(page): Query<PageRequest>,
) -> ApiResult<Json<Page<DuplicatePair>>> {
    let fields = field_definition::applicable(&state.db, &ws).await?;
    let pairs = merge::possible_duplicates(&state, &actor, &ws, &page).await?;
    Ok(Json(pairs.map(|p| DuplicatePair {
        reason: p.reason,
        a: Contact::new(p.a, &fields),
        b: Contact::new(p.b, &fields),
    })))
}

/// Adds the contact to a list; for a pipeline stage this moves it there.
#[utoipa::path(put, path = "/api/v1/workspaces/{ws}/contacts/{id}/lists/{list_id}", tag = "contacts",
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn add_to_list(
    State(state): State<AppState>,
    ApiWs { actor, ws, .. }: ApiWs<Editor>,
    ApiPath((_, id, list_id)): ApiPath<(WorkspaceId, ContactId, ListId)>,
) -> ApiResult<StatusCode> {
    list::add_contact(&state.db, &actor, &ws, &id, &list_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(delete, path = "/api/v1/workspaces/{ws}/contacts/{id}/lists/{list_id}", tag = "contacts",
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn remove_from_list(
    State(state): State<AppState>,
    ApiWs { actor, ws, .. }: ApiWs<Editor>,
    ApiPath((_, id, list_id)): ApiPath<(WorkspaceId, ContactId, ListId)>,
) -> ApiResult<StatusCode> {
    list::remove_contact(&state.db, &actor, &ws, &id, &list_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
pub struct TimelineQuery {
    limit: Option<u32>,
    cursor: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct CommunicationPage {
    pub items: Vec<Communication>,
    pub next_cursor: Option<String>,
}

/// The contact's timeline: pinned entries first, then newest first.
#[utoipa::path(get, path = "/api/v1/workspaces/{ws}/contacts/{id}/communications", tag = "contacts",
    params(("limit" = Option<u32>, Query), ("cursor" = Option<String>, Query)),
    responses((status = 200, body = CommunicationPage), (status = 404, body = ErrorBody)))]
pub async fn communications(
    State(state): State<AppState>,
    ApiWs { actor, ws, .. }: ApiWs,
    ApiPath((_, id)): ApiPath<(WorkspaceId, ContactId)>,
    Query(q): Query<TimelineQuery>,
) -> ApiResult<Json<Page<Communication>>> {
    let page = comms::timeline(&state.db, &actor, &ws, &id, q.limit, q.cursor.as_deref()).await?;
    Ok(Json(page.map(Communication::from)))
}

/// Logs a note, a call, or an email or text that happened elsewhere.
#[utoipa::path(post, path = "/api/v1/workspaces/{ws}/contacts/{id}/communications", tag = "contacts",
    request_body = CommunicationInput,
    responses((status = 201, body = Communication), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn add_communication(
    State(state): State<AppState>,
    ApiWs { actor, ws, .. }: ApiWs<Editor>,
    ApiPath((_, id)): ApiPath<(WorkspaceId, ContactId)>,
    ApiJson(input): ApiJson<CommunicationInput>,
) -> ApiResult<Response> {
    let entry = comms::add(&state.db, &actor, &ws, &id, input.into()).await?;
    Ok((StatusCode::CREATED, Json(Communication::from(entry))).into_response())
}

#[derive(Deserialize, ToSchema)]
pub struct PinInput {
    /// Pin it to the top of the timeline, or unpin it.
    #[serde(default)]
    pub pinned: Option<bool>,
    /// A note's or call's new text (its old text stays in the audit log).
    #[serde(default)]
    pub body: Option<String>,
    /// A note's or call's follow-up day, `YYYY-MM-DD` (open again if it was done); `null`
    /// takes the follow-up away.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub follow_up_on: Option<Option<String>>,
    /// `true` marks the follow-up done (it leaves the dashboard); `false` opens it again.
    #[serde(default)]
    pub follow_up_done: Option<bool>,
}

/// Pins an entry to the top of the timeline or unpins it; changes a note's or call's text or
/// its follow-up (a day, none, or done).
#[utoipa::path(patch, path = "/api/v1/workspaces/{ws}/contacts/{id}/communications/{entry}", tag = "contacts",
    request_body = PinInput, responses((status = 204), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn pin_communication(
    State(state): State<AppState>,
    ApiWs { actor, ws, .. }: ApiWs<Editor>,
    ApiPath((_, id, entry)): ApiPath<(WorkspaceId, ContactId, CommunicationId)>,
    ApiJson(input): ApiJson<PinInput>,
) -> ApiResult<StatusCode> {
    if input.pinned.is_none() && input.body.is_none() && input.follow_up_on.is_none() && input.follow_up_done.is_none()
    {
        return Err(
            crate::error::AppError::invalid("pinned", "send pinned, body, follow_up_on or follow_up_done").into(),
        );
    }
    if let Some(body) = &input.body {
        comms::edit_text(&state.db, &actor, &ws, &id, &entry, body).await?;
    }
    if let Some(day) = input.follow_up_on {
        comms::set_follow_up(&state.db, &actor, &ws, &id, &entry, comms::FollowUpChange::On(day)).await?;
    }
    if let Some(done) = input.follow_up_done {
        let change = if done {
            comms::FollowUpChange::Done
        } else {
            comms::FollowUpChange::Reopen
        };
        comms::set_follow_up(&state.db, &actor, &ws, &id, &entry, change).await?;
    }
    if let Some(pinned) = input.pinned {
        comms::set_pinned(&state.db, &actor, &ws, &id, &entry, pinned).await?;
    }
    Ok(StatusCode::NO_CONTENT)
}

/// Deletes a note or call (other entries stay: they record what happened).
#[utoipa::path(delete, path = "/api/v1/workspaces/{ws}/contacts/{id}/communications/{entry}", tag = "contacts",
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn delete_communication(
    State(state): State<AppState>,
    ApiWs { actor, ws, .. }: ApiWs<Editor>,
    ApiPath((_, id, entry)): ApiPath<(WorkspaceId, ContactId, CommunicationId)>,
) -> ApiResult<StatusCode> {
    comms::delete_written(&state.db, &actor, &ws, &id, &entry).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
pub struct ExportQuery {
    #[serde(default)]
    format: String,
}

/// Every contact of the workspace as CSV (base fields, then one column per custom field) or
/// vCard 4.0, streamed.
#[utoipa::path(get, path = "/api/v1/workspaces/{ws}/export", tag = "contacts",
    params(("format" = Option<String>, Query, description = "csv (default) or vcf", pattern = "^(|csv|vcf)$")),
    responses((status = 200, description = "the file", content(("text/csv"), ("text/vcard"))), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn export(
    State(state): State<AppState>,
    ApiWs { actor, ws, .. }: ApiWs,
    Query(q): Query<ExportQuery>,
) -> ApiResult<Response> {
    let format = crate::domain::export::Format::parse(&q.format)?;
    let export = crate::domain::export::prepare(&state.db, &actor, &ws, format).await?;
    Ok(crate::download::export(export, ws.name()))
}
