//! `/workspaces/{ws}/inbox`: texts from numbers no contact has, with "create contact".

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use axum::response::Response;
use axum_extra::extract::Form;
use serde::Deserialize;

use super::chrome::Chrome;
use super::error::PageError;
use super::extract::{PagePath, PageWs};
use super::flash;
use crate::auth::workspace::Editor;
use crate::domain::contact::ContactInput;
use crate::domain::ids::{InboxMessageId, WorkspaceId};
use crate::domain::messaging::inbound::{self, InboxMessage};
use crate::domain::page::PageRequest;
use crate::domain::workspace::WorkspaceAccess;
use crate::error::AppError;
use crate::state::AppState;

#[derive(Template, WebTemplate)]
#[template(path = "workspaces/inbox.html")]
struct InboxPage {
    chrome: Chrome,
    ws: WorkspaceAccess,
    messages: Vec<InboxMessage>,
    can_edit: bool,
}

impl InboxPage {
    fn phone(&self, e164: &str) -> String {
        crate::domain::phone::display(e164)
    }
}

pub async fn page(
    State(state): State<AppState>,
    PageWs { actor, ws, chrome, .. }: PageWs,
) -> Result<Response, PageError> {
    let page = inbound::inbox(
        &state.db,
        &actor,
        &ws,
        &PageRequest {
            limit: Some(200),
            cursor: None,
        },
    )
    .await?;
    Ok(axum::response::IntoResponse::into_response(InboxPage {
        chrome: chrome.in_section("inbox"),
        can_edit: ws.can_edit(),
        messages: page.items,
        ws,
    }))
}

#[derive(Deserialize)]
pub struct NewContactForm {
    #[serde(default)]
    first_name: String,
    #[serde(default)]
    last_name: String,
}

pub async fn create_contact(
    State(state): State<AppState>,
    PageWs { actor, ws, .. }: PageWs<Editor>,
    PagePath((_, id)): PagePath<(WorkspaceId, InboxMessageId)>,
    Form(form): Form<NewContactForm>,
) -> Result<Response, PageError> {
    let input = ContactInput {
        first_name: Some(Some(form.first_name)),
        last_name: Some(Some(form.last_name)),
        ..ContactInput::default()
    };
    let region = &state.config.default_phone_region;
    match inbound::create_contact_from(&state.db, region, &actor, &ws, &id, input).await {
        Ok(contact) => Ok(flash::redirect(
            &state,
            &format!("/workspaces/{}/contacts/{contact}#timeline", ws.id()),
            "success",
            "Contact created; their texts are on the timeline.",
        )),
        Err(e @ (AppError::Invalid { .. } | AppError::InvalidMany(_) | AppError::Conflict { .. })) => {
            Ok(flash::redirect(
                &state,
                &format!("/workspaces/{}/inbox", ws.id()),
                "error",
                &e.public_message(),
            ))
        }
        Err(e) => Err(e.into()),
    }
}
