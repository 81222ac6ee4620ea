//! The detail page's small forms: stage and tags, notes and calls, pins, orphan removal.

use axum::extract::State;
use axum::response::Response;
use axum_extra::extract::Form;
use serde::Deserialize;
use serde_json::json;

use super::show_contact;
use crate::auth::workspace::Editor;
use crate::domain::comms::{self, CommunicationInput};
use crate::domain::contact::{self, ContactInput};
use crate::domain::ids::{CommunicationId, ContactId, ListId, WorkspaceId};
use crate::domain::list;
use crate::domain::workspace::WorkspaceAccess;
use crate::error::AppError;
use crate::state::AppState;
use crate::web::error::PageError;
use crate::web::extract::{PagePath, PageWs};
use crate::web::flash;
use crate::web::forms::FormErrors;

fn contact_url(ws: &WorkspaceAccess, id: &ContactId) -> String {
    format!("/workspaces/{}/contacts/{id}", ws.id())
}

#[derive(Deserialize)]
pub struct StageForm {
    #[serde(default)]
    stage: String,
}

/// Moves the contact to a stage, or out of the pipeline when `stage` is empty.
pub async fn set_stage(
    State(state): State<AppState>,
    PageWs { actor, ws, .. }: PageWs<Editor>,
    PagePath((_, id)): PagePath<(WorkspaceId, ContactId)>,
    Form(form): Form<StageForm>,
) -> Result<Response, PageError> {
    let c = contact::get(&state.db, &actor, &ws, &id).await?;
    match (form.stage.trim(), c.stage()) {
        ("", Some(current)) => list::remove_contact(&state.db, &actor, &ws, &id, &ListId::found(&current.id)?).await?,
        ("", None) => {}
        (stage, _) => list::add_contact(&state.db, &actor, &ws, &id, &ListId::found(stage)?).await?,
    }
    Ok(flash::redirect(
        &state,
        &contact_url(&ws, &id),
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
    PageWs { actor, ws, .. }: PageWs<Editor>,
    PagePath((_, id)): PagePath<(WorkspaceId, ContactId)>,
    Form(form): Form<TagForm>,
) -> Result<Response, PageError> {
    let cid = id.clone();
    list::add_contact(&state.db, &actor, &ws, &cid, &ListId::found(&form.list_id)?).await?;
    Ok(flash::redirect(
        &state,
        &contact_url(&ws, &id),
        "success",
        "Added to the list.",
    ))
}

pub async fn remove_tag(
    State(state): State<AppState>,
    PageWs { actor, ws, .. }: PageWs<Editor>,
    PagePath((_, id, list_id)): PagePath<(WorkspaceId, ContactId, ListId)>,
) -> Result<Response, PageError> {
    let cid = id.clone();
    list::remove_contact(&state.db, &actor, &ws, &cid, &list_id).await?;
    Ok(flash::redirect(
        &state,
        &contact_url(&ws, &id),
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
    /// "Follow up on": a day from the date input, or empty.
    #[serde(default)]
    follow_up_on: String,
}

/// Adds a note or a logged call to the timeline.
pub async fn add_entry(
    State(state): State<AppState>,
    PageWs { actor, ws, chrome, .. }: PageWs<Editor>,
    PagePath((_, id)): PagePath<(WorkspaceId, ContactId)>,
    Form(form): Form<EntryForm>,
) -> Result<Response, PageError> {
    let chrome = chrome.in_section("contacts");
    let cid = id.clone();
    let kind = if form.kind == "call" { "call" } else { "note" };
    let mut content = json!({"body": form.body.trim()});
    if !form.follow_up_on.trim().is_empty() {
        content["follow_up_on"] = json!(form.follow_up_on.trim());
    }
    let input = CommunicationInput {
        kind: kind.into(),
        content,
        status: None,
        pinned: form.pinned.is_some(),
    };
    match comms::add(&state.db, &actor, &ws, &cid, input).await {
        Ok(_) => {
            let message = if kind == "call" { "Call logged." } else { "Note added." };
            Ok(flash::redirect(
                &state,
                &format!("{}#timeline", contact_url(&ws, &id)),
                "success",
                message,
            ))
        }
        Err(AppError::Invalid { field, message }) => {
            let errors = if field == "content.follow_up_on" {
                FormErrors::field("follow_up_on", &message)
            } else {
                FormErrors::field("body", "write something first")
            };
            show_contact(
                &state,
                &actor,
                &ws,
                chrome,
                &id,
                None,
                super::Redraw {
                    errors,
                    ..Default::default()
                },
            )
            .await
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
    PageWs { actor, ws, .. }: PageWs<Editor>,
    PagePath((_, id, entry)): PagePath<(WorkspaceId, ContactId, CommunicationId)>,
    Form(form): Form<PinForm>,
) -> Result<Response, PageError> {
    let cid = id.clone();
    let pinned = form.pinned == "true";
    comms::set_pinned(&state.db, &actor, &ws, &cid, &entry, pinned).await?;
    let message = if pinned { "Pinned to the top." } else { "Unpinned." };
    Ok(flash::redirect(
        &state,
        &format!("{}#timeline", contact_url(&ws, &id)),
        "success",
        message,
    ))
}

/// Removes a value whose field definition is gone (an orphan).
pub async fn remove_value(
    State(state): State<AppState>,
    PageWs { actor, ws, .. }: PageWs<Editor>,
    PagePath((_, id, name)): PagePath<(WorkspaceId, ContactId, String)>,
) -> Result<Response, PageError> {
    let mut input = ContactInput::default();
    input.custom_fields.insert(name.clone(), serde_json::Value::Null);
    contact::update(&state.db, &actor, &ws, &state.config.default_phone_region, &id, input).await?;
    Ok(flash::redirect(
        &state,
        &contact_url(&ws, &id),
        "success",
        &format!("Removed the {name} value."),
    ))
}

#[derive(Deserialize)]
pub struct EditEntryForm {
    #[serde(default)]
    body: String,
}

/// Changes a note's or call's text (the old text stays in the audit log).
pub async fn edit_entry(
    State(state): State<AppState>,
    PageWs { actor, ws, .. }: PageWs<Editor>,
    PagePath((_, id, entry)): PagePath<(WorkspaceId, ContactId, CommunicationId)>,
    Form(form): Form<EditEntryForm>,
) -> Result<Response, PageError> {
    let url = format!("{}#timeline", contact_url(&ws, &id));
    match comms::edit_text(&state.db, &actor, &ws, &id, &entry, &form.body).await {
        Ok(()) => Ok(flash::redirect(&state, &url, "success", "Saved.")),
        Err(AppError::Invalid { message, .. }) => Ok(flash::redirect(&state, &url, "error", &message)),
        Err(e) => Err(e.into()),
    }
}

/// Deletes a note or call.
pub async fn delete_entry(
    State(state): State<AppState>,
    PageWs { actor, ws, .. }: PageWs<Editor>,
    PagePath((_, id, entry)): PagePath<(WorkspaceId, ContactId, CommunicationId)>,
) -> Result<Response, PageError> {
    comms::delete_written(&state.db, &actor, &ws, &id, &entry).await?;
    Ok(flash::redirect(
        &state,
        &format!("{}#timeline", contact_url(&ws, &id)),
        "success",
        "Deleted. Its text stays in the audit log.",
    ))
}

#[derive(Deserialize)]
pub struct FollowUpForm {
    /// Set when the follow-up is done; otherwise `follow_up_on` is the new day (empty: none).
    #[serde(default)]
    done: Option<String>,
    #[serde(default)]
    follow_up_on: String,
    /// `dashboard` to go back to the dashboard's follow-ups; else the contact's timeline.
    #[serde(default)]
    back: String,
}

/// Marks a note's or call's follow-up done, or gives it another day.
pub async fn follow_up(
    State(state): State<AppState>,
    PageWs { actor, ws, .. }: PageWs<Editor>,
    PagePath((_, id, entry)): PagePath<(WorkspaceId, ContactId, CommunicationId)>,
    Form(form): Form<FollowUpForm>,
) -> Result<Response, PageError> {
    let url = if form.back == "dashboard" {
        "/#follow-ups".to_string()
    } else {
        format!("{}#timeline", contact_url(&ws, &id))
    };
    let day = form.follow_up_on.trim();
    let (change, said) = match (form.done.is_some(), day) {
        (true, _) => (comms::FollowUpChange::Done, "Follow-up done."),
        (false, "") => (comms::FollowUpChange::On(None), "Follow-up removed."),
        (false, day) => (comms::FollowUpChange::On(Some(day.to_string())), "Follow-up day saved."),
    };
    match comms::set_follow_up(&state.db, &actor, &ws, &id, &entry, change).await {
        Ok(()) => Ok(flash::redirect(&state, &url, "success", said)),
        Err(AppError::Invalid { message, .. }) => Ok(flash::redirect(&state, &url, "error", &message)),
        Err(e) => Err(e.into()),
    }
}
