//! `/workspaces/{ws}/pipeline`: a column per stage with its count and money sum; each card
//! says how long it has been in its stage. Cards are dragged between columns on a laptop; each
//! also moves with a select and a button (the keyboard's way, and the phone's: htmx swaps the
//! board in place; without script the form posts and the page reloads). On a phone one stage
//! shows at a time, chosen from a row of stage chips, so nothing scrolls sideways.

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
    /// The workspace's money field on this contact ("350,000"), when it has one.
    pub value: Option<String>,
    /// Whole days in this stage.
    pub days: Option<i64>,
}

impl Card {
    /// "today", "1 day", "12 days".
    pub fn in_stage(&self) -> Option<String> {
        self.days.map(|d| match d {
            0 => "today".into(),
            1 => "1 day".into(),
            d => format!("{d} days"),
        })
    }
}

pub struct Column {
    pub stage: ContactList,
    pub cards: Vec<Card>,
    pub total: i64,
    /// The sum of the money field over the whole stage ("1,250,000"), when there is one.
    pub value: Option<String>,
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
    /// The money field's label ("Loan amount"), when the workspace has one.
    value_label: Option<String>,
    /// The stage a phone shows (the others are one tap away).
    shown: String,
}

#[derive(Deserialize)]
pub struct BoardQuery {
    /// The contact a move just put in a new column.
    moved: Option<String>,
    /// The stage to show on a phone.
    stage: Option<String>,
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
    let fields = crate::domain::field_definition::applicable(&state.db, &ws).await?;
    let sums = crate::domain::today::pipeline(&state, &ws, &fields).await?;
    let mut pages = Vec::with_capacity(stages.len());
    for (stage, _) in &stages {
        let mut q = ContactQuery::newest(PER_COLUMN);
        q.sort = Sort::Name;
        q.list = ListId::parse(&stage.id);
        pages.push(search::run(&state.db, &actor, &ws, &q).await?.items);
    }
    // How long each card shown has been in its stage: one read for the whole board.
    let shown_ids: Vec<String> = pages.iter().flatten().map(|c| c.id.clone()).collect();
    let days = crate::domain::today::days_in_stage(&state, &ws, &shown_ids).await?;
    let value_field = sums.as_ref().and_then(|p| p.value_field.clone());
    let mut columns = Vec::with_capacity(stages.len());
    for (i, ((stage, total), page)) in stages.iter().zip(pages).enumerate() {
        let cards = page
            .iter()
            .map(|c| Card {
                id: c.id.clone(),
                name: c.display_name(),
                company: c.base.company.clone().unwrap_or_default(),
                value: value_field
                    .as_ref()
                    .and_then(|f| c.custom.get(f))
                    .map(|v| crate::domain::field::readable(crate::domain::field::FieldType::Number, v)),
                days: days.get(&c.id).copied(),
            })
            .collect();
        let value = sums.as_ref().and_then(|p| {
            let s = p.stages.iter().find(|s| s.id == stage.id)?;
            p.value_label.as_ref().map(|_| s.value_text())
        });
        columns.push(Column {
            stage: stage.clone(),
            cards,
            total: *total,
            value,
            next: stages.get(i + 1).map(|(s, _)| s.id.clone()),
        });
    }
    let shown = query
        .stage
        .filter(|id| columns.iter().any(|c| &c.stage.id == id))
        .or_else(|| columns.iter().find(|c| c.total > 0).map(|c| c.stage.id.clone()))
        .or_else(|| columns.first().map(|c| c.stage.id.clone()))
        .unwrap_or_default();
    let moved = query.moved.and_then(|id| {
        columns.iter().find_map(|col| {
            col.cards.iter().find(|c| c.id == id).map(|c| Moved {
                id: c.id.clone(),
                name: c.name.clone(),
                stage: col.stage.name.clone(),
            })
        })
    });
    let value_label = sums.and_then(|p| p.value_label);
    let can_edit = ws.require_editor().is_ok();
    Ok(BoardPage {
        chrome,
        ws,
        columns,
        stages: stages.into_iter().map(|(l, _)| l).collect(),
        can_edit,
        moved,
        value_label,
        shown,
    }
    .into_response())
}

#[derive(Deserialize)]
pub struct MoveForm {
    #[serde(default)]
    contact_id: String,
    #[serde(default)]
    stage: String,
    /// The stage the phone was showing, to come back to it.
    #[serde(default)]
    shown: String,
}

pub async fn move_card(
    State(state): State<AppState>,
    PageWs { actor, ws, .. }: PageWs<Editor>,
    Form(form): Form<MoveForm>,
) -> Result<Response, PageError> {
    let contact = ContactId::found(&form.contact_id)?;
    list::add_contact(&state.db, &actor, &ws, &contact, &ListId::found(&form.stage)?).await?;
    // The board says what moved, inside itself, so htmx's swap of the board carries it.
    let shown = ListId::parse(form.shown.trim())
        .map(|s| format!("&stage={s}"))
        .unwrap_or_default();
    Ok(
        axum::response::Redirect::to(&format!("/workspaces/{}/pipeline?moved={contact}{shown}", ws.id()))
            .into_response(),
    )
}
