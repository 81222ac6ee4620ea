//! `/workspaces/{ws}/pipeline`: a column per stage; each card moves with a select and a button
//! (htmx swaps the board in place; without script the form posts and the page reloads), so it
//! works on a phone where dragging does not.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum_extra::extract::Form;
use serde::Deserialize;

use super::chrome::Chrome;
use super::error::PageError;
use crate::auth::workspace::Editor;
use crate::domain::ids::{ContactId, ListId};
use crate::domain::list::{self, ContactList};
use crate::domain::search::{self, ContactQuery, Sort};
use crate::domain::workspace::WorkspaceAccess;
use crate::state::AppState;
use crate::web::extract::PageWs;

/// Cards shown per column; the column links to the full list beyond that.
const PER_COLUMN: u32 = 50;

pub struct Card {
    pub id: String,
    pub name: String,
    pub company: String,
}

pub struct Column {
    pub stage: ContactList,
    pub cards: Vec<Card>,
    pub total: i64,
    /// The stage after this one: what a card's "Move" offers first (forward, never back).
    pub next: Option<String>,
}

/// The card just moved, said where a screen reader hears it and kept in focus.
pub struct Moved {
    pub id: String,
    pub name: String,
    pub stage: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "pipeline.html")]
struct BoardPage {
    chrome: Chrome,
    ws: WorkspaceAccess,
    columns: Vec<Column>,
    stages: Vec<ContactList>,
    can_edit: bool,
    moved: Option<Moved>,
}

#[derive(Deserialize)]
pub struct BoardQuery {
    /// The contact a move just put in a new column.
    moved: Option<String>,
}

pub async fn board(
    State(state): State<AppState>,
    PageWs { actor, ws, chrome, .. }: PageWs,
    axum::extract::Query(query): axum::extract::Query<BoardQuery>,
) -> Result<Response, PageError> {
    let chrome = chrome.in_section("pipeline");
    let stages: Vec<(ContactList, i64)> = list::all_with_counts(&state.db, &actor, &ws)
        .await?
        .into_iter()
        .filter(|(l, _)| l.is_primary)
        .collect();
    let mut columns = Vec::with_capacity(stages.len());
    for (i, (stage, total)) in stages.iter().enumerate() {
        let mut q = ContactQuery::newest(PER_COLUMN);
        q.sort = Sort::Name;
        q.list = ListId::parse(&stage.id);
        let page = search::run(&state.db, &actor, &ws, &q).await?;
        let cards = page
            .items
            .iter()
            .map(|c| Card {
                id: c.id.clone(),
                name: c.display_name(),
                company: c.base.company.clone().unwrap_or_default(),
            })
            .collect();
        columns.push(Column {
            stage: stage.clone(),
            cards,
            total: *total,
            next: stages.get(i + 1).map(|(s, _)| s.id.clone()),
        });
    }
    let moved = query.moved.and_then(|id| {
        columns.iter().find_map(|col| {
            col.cards.iter().find(|c| c.id == id).map(|c| Moved {
                id: c.id.clone(),
                name: c.name.clone(),
                stage: col.stage.name.clone(),
            })
        })
    });
    let can_edit = ws.require_editor().is_ok();
    Ok(BoardPage {
        chrome,
        ws,
        columns,
        stages: stages.into_iter().map(|(l, _)| l).collect(),
        can_edit,
        moved,
    }
    .into_response())
}

#[derive(Deserialize)]
pub struct MoveForm {
    #[serde(default)]
    contact_id: String,
    #[serde(default)]
    stage: String,
}

pub async fn move_card(
    State(state): State<AppState>,
    PageWs { actor, ws, .. }: PageWs<Editor>,
    Form(form): Form<MoveForm>,
) -> Result<Response, PageError> {
    let contact = ContactId::found(&form.contact_id)?;
    list::add_contact(&state.db, &actor, &ws, &contact, &ListId::found(&form.stage)?).await?;
    // The board says what moved, inside itself, so htmx's swap of the board carries it.
    Ok(axum::response::Redirect::to(&format!("/workspaces/{}/pipeline?moved={contact}", ws.id())).into_response())
}
