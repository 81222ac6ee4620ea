//! `/workspaces/{ws}/lists`: pipeline stages (in board order) and tags.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum_extra::extract::Form;
use serde::Deserialize;

use super::chrome::Chrome;
use super::error::PageError;
use super::flash;
use super::forms::FormErrors;
use crate::auth::workspace::Editor;
use crate::domain::actor::Actor;
use crate::domain::ids::{ListId, WorkspaceId};
use crate::domain::list::{self, ContactList, ListInput};
use crate::domain::workspace::WorkspaceAccess;
use crate::state::AppState;
use crate::web::extract::{PagePath, PageWs};

pub struct ListRow {
    pub list: ContactList,
    pub members: i64,
}

pub struct ListSection {
    pub title: &'static str,
    pub stages: bool,
    pub rows: Vec<ListRow>,
}

#[derive(Template, WebTemplate)]
#[template(path = "lists.html")]
struct ListsPage {
    chrome: Chrome,
    ws: WorkspaceAccess,
    sections: [ListSection; 2],
    can_edit: bool,
    errors: FormErrors,
    new_name: String,
}

async fn render(
    state: &AppState,
    actor: &Actor,
    ws: &WorkspaceAccess,
    chrome: Chrome,
    errors: FormErrors,
    new_name: String,
) -> Result<Response, PageError> {
    let chrome = chrome.in_section("lists");
    let mut stages = Vec::new();
    let mut tags = Vec::new();
    for (l, members) in list::all_with_counts(&state.db, actor, ws).await? {
        let row = ListRow { list: l, members };
        if row.list.is_primary {
            stages.push(row)
        } else {
            tags.push(row)
        }
    }
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let can_edit = ws.require_editor().is_ok();
    let sections = [
        ListSection {
            title: "Pipeline stages",
            stages: true,
            rows: stages,
        },
        ListSection {
            title: "Lists (tags)",
            stages: false,
            rows: tags,
        },
    ];
    Ok((
        status,
        ListsPage {
            chrome,
            ws: ws.clone(),
            sections,
            can_edit,
            errors,
            new_name,
        },
    )
        .into_response())
}

pub async fn page(
    State(state): State<AppState>,
    PageWs { actor, ws, chrome, .. }: PageWs,
) -> Result<Response, PageError> {
    render(&state, &actor, &ws, chrome, FormErrors::none(), String::new()).await
}

#[derive(Deserialize)]
pub struct NewList {
    #[serde(default)]
    name: String,
    #[serde(default)]
    kind: String,
}

pub async fn create(
    State(state): State<AppState>,
    PageWs { actor, ws, chrome, .. }: PageWs<Editor>,
    Form(form): Form<NewList>,
) -> Result<Response, PageError> {
    let chrome = chrome.in_section("lists");
    let input = ListInput {
        name: Some(form.name.clone()),
        is_primary: Some(form.kind == "stage"),
        position: None,
    };
    match list::create(&state.db, &actor, &ws, input).await {
        Ok(l) => Ok(flash::redirect(
            &state,
            &format!("/workspaces/{}/lists", ws.id()),
            "success",
            &format!("“{}” created.", l.name),
        )),
        Err(e) => {
            render(
                &state,
                &actor,
                &ws,
                chrome,
                FormErrors::from_error_on(e, "name")?,
                form.name,
            )
            .await
        }
    }
}

#[derive(Deserialize)]
pub struct EditList {
    name: Option<String>,
    position: Option<i64>,
}

pub async fn update(
    State(state): State<AppState>,
    PageWs { actor, ws, chrome, .. }: PageWs<Editor>,
    PagePath((_, id)): PagePath<(WorkspaceId, ListId)>,
    Form(form): Form<EditList>,
) -> Result<Response, PageError> {
    let chrome = chrome.in_section("lists");
    let input = ListInput {
        name: form.name,
        is_primary: None,
        position: form.position,
    };
    match list::update(&state.db, &actor, &ws, &id, input).await {
        Ok(_) => Ok(flash::redirect(
            &state,
            &format!("/workspaces/{}/lists", ws.id()),
            "success",
            "List saved.",
        )),
        Err(e) => {
            render(
                &state,
                &actor,
                &ws,
                chrome,
                FormErrors::from_error_on(e, "rename")?,
                String::new(),
            )
            .await
        }
    }
}

pub async fn delete(
    State(state): State<AppState>,
    PageWs { actor, ws, .. }: PageWs<Editor>,
    PagePath((_, id)): PagePath<(WorkspaceId, ListId)>,
) -> Result<Response, PageError> {
    let l = list::find(&state.db, &ws, &id).await?;
    list::delete(&state.db, &actor, &ws, &id).await?;
    Ok(flash::redirect(
        &state,
        &format!("/workspaces/{}/lists", ws.id()),
        "success",
        &format!("“{}” deleted.", l.name),
    ))
}

/// "Use mortgage stages" on a new workspace: the six stages of a loan, added at once.
pub async fn add_mortgage_stages(
    State(state): State<AppState>,
    PageWs { actor, ws, .. }: PageWs<Editor>,
) -> Result<Response, PageError> {
    let added = list::add_stages(&state.db, &actor, &ws, &list::MORTGAGE_STAGES).await?;
    let message = match added.len() {
        0 => "This workspace already has those stages.".to_string(),
        n => format!("{n} pipeline stages added: Lead to Closed."),
    };
    Ok(flash::redirect(
        &state,
        &format!("/workspaces/{}/pipeline", ws.id()),
        "success",
        &message,
    ))
}
