//! The detail page's small forms: stage and tags, notes and calls, pins, orphan removal.

use axum::Form;
use axum::extract::{Path, State};
use axum::response::Response;
use serde::Deserialize;
use serde_json::json;

use super::{open, show_contact};
use crate::domain::comms::{self, CommunicationInput};
use crate::domain::contact::{self, ContactInput};
use crate::domain::ids::ContactId;
use crate::domain::list;
use crate::error::AppError;
use crate::state::AppState;
use crate::web::chrome::{Chrome, CurrentUser};
use crate::web::error::PageError;
use crate::web::flash;
use crate::web::forms::FormErrors;

fn contact_url(ws: &str, id: &str) -> String {
    format!("/workspaces/{ws}/contacts/{id}")
}

fn contact_id(id: &str) -> Result<ContactId, PageError> {
    ContactId::parse(id).ok_or(PageError(AppError::NotFound))
}

#[derive(Deserialize)]
pub struct StageForm {
    #[serde(default)]
    stage: String,
}

/// Moves the contact to a stage, or out of the pipeline when `stage` is empty.
pub async fn set_stage(
    State(state): State<AppState>,
    user: CurrentUser,
    chrome: Chrome,
    Path((ws, id)): Path<(String, String)>,
    Form(form): Form<StageForm>,
) -> Result<Response, PageError> {
    let (actor, ws, _) = open(&state, &user, chrome, &ws, "contacts").await?;
    let c = contact::get(&state.db, &actor, &ws, &id).await?;
    let cid = contact_id(&c.id)?;
    match (form.stage.trim(), c.stage()) {
        ("", Some(current)) => list::remove_contact(&state.db, &actor, &ws, &cid, &current.id).await?,
        ("", None) => {}
        (stage, _) => list::add_contact(&state.db, &actor, &ws, &cid, stage).await?,
    }
    Ok(flash::redirect(
        &state,
        &contact_url(ws.id.as_str(), &c.id),
        "success",
        "Stage updated.",
    ))
}

#[derive(Deserialize)]
pub struct TagForm {
    #[serde(default)]
    list_id: String,
}

pub async fn add_tag(
    State(state): State<AppState>,
    user: CurrentUser,
    chrome: Chrome,
    Path((ws, id)): Path<(String, String)>,
    Form(form): Form<TagForm>,
) -> Result<Response, PageError> {
    let (actor, ws, _) = open(&state, &user, chrome, &ws, "contacts").await?;
    let cid = contact_id(&id)?;
    list::add_contact(&state.db, &actor, &ws, &cid, form.list_id.trim()).await?;
    Ok(flash::redirect(
        &state,
        &contact_url(ws.id.as_str(), &id),
        "success",
        "Added to the list.",
    ))
}

pub async fn remove_tag(
    State(state): State<AppState>,
    user: CurrentUser,
    chrome: Chrome,
    Path((ws, id, list_id)): Path<(String, String, String)>,
) -> Result<Response, PageError> {
    let (actor, ws, _) = open(&state, &user, chrome, &ws, "contacts").await?;
    let cid = contact_id(&id)?;
    list::remove_contact(&state.db, &actor, &ws, &cid, &list_id).await?;
    Ok(flash::redirect(
        &state,
        &contact_url(ws.id.as_str(), &id),
        "success",
        "Removed from the list.",
    ))
}

#[derive(Deserialize)]
pub struct EntryForm {
    #[serde(default)]
    kind: String,
    #[serde(default)]
    body: String,
    #[serde(default)]
    pinned: Option<String>,
}

/// Adds a note or a logged call to the timeline.
pub async fn add_entry(
    State(state): State<AppState>,
    user: CurrentUser,
    chrome: Chrome,
    Path((ws_text, id)): Path<(String, String)>,
    Form(form): Form<EntryForm>,
) -> Result<Response, PageError> {
    let (actor, ws, _) = open(&state, &user, chrome.clone(), &ws_text, "contacts").await?;
    let cid = contact_id(&id)?;
    let kind = if form.kind == "call" { "call" } else { "note" };
    let input = CommunicationInput {
        kind: kind.into(),
        content: json!({"body": form.body.trim()}),
        status: None,
        pinned: form.pinned.is_some(),
    };
    match comms::add(&state.db, &actor, &ws, &cid, input).await {
        Ok(_) => {
            let message = if kind == "call" { "Call logged." } else { "Note added." };
            Ok(flash::redirect(
                &state,
                &format!("{}#timeline", contact_url(ws.id.as_str(), &id)),
                "success",
                message,
            ))
        }
        Err(AppError::Invalid { .. }) => {
            let errors = FormErrors::field("body", "write something first");
            show_contact(&state, &user, chrome, &ws_text, &id, None, errors).await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
pub struct PinForm {
    #[serde(default)]
    pinned: String,
}

pub async fn pin(
    State(state): State<AppState>,
    user: CurrentUser,
    chrome: Chrome,
    Path((ws, id, entry)): Path<(String, String, String)>,
    Form(form): Form<PinForm>,
) -> Result<Response, PageError> {
    let (actor, ws, _) = open(&state, &user, chrome, &ws, "contacts").await?;
    let cid = contact_id(&id)?;
    let pinned = form.pinned == "true";
    comms::set_pinned(&state.db, &actor, &ws, &cid, &entry, pinned).await?;
    let message = if pinned { "Pinned to the top." } else { "Unpinned." };
    Ok(flash::redirect(
        &state,
        &format!("{}#timeline", contact_url(ws.id.as_str(), &id)),
        "success",
        message,
    ))
}

/// Removes a value whose field definition is gone (an orphan).
pub async fn remove_value(
    State(state): State<AppState>,
    user: CurrentUser,
    chrome: Chrome,
    Path((ws, id, name)): Path<(String, String, String)>,
) -> Result<Response, PageError> {
    let (actor, ws, _) = open(&state, &user, chrome, &ws, "contacts").await?;
    let mut input = ContactInput::default();
    input.custom_fields.insert(name.clone(), serde_json::Value::Null);
    contact::update(&state.db, &actor, &ws, &state.config.default_phone_region, &id, input).await?;
    Ok(flash::redirect(
        &state,
        &contact_url(ws.id.as_str(), &id),
        "success",
        &format!("Removed the {name} value."),
    ))
}
