//! Merging from the UI: pick the duplicate, see both side by side, choose per conflicting
//! field; and the "possible duplicates" page.

use std::collections::{BTreeMap, BTreeSet};

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use axum_extra::extract::Form;
use serde::Deserialize;

use super::views;
use crate::auth::workspace::Editor;
use crate::domain::contact::{self, ContactRecord};
use crate::domain::field_definition::{self, FieldSet};
use crate::domain::ids::{ContactId, WorkspaceId};
use crate::domain::merge::{self, MergeInput, Side};
use crate::domain::page::PageRequest;
use crate::domain::search::{self, ContactQuery};
use crate::domain::workspace::WorkspaceAccess;
use crate::state::AppState;
use crate::web::chrome::Chrome;
use crate::web::error::PageError;
use crate::web::extract::{PagePath, PageWs};
use crate::web::flash;
use crate::web::forms::Pairs;

/// One row of the side-by-side comparison.
pub struct CompareRow {
    pub field: String,
    pub label: String,
    pub this: String,
    pub other: String,
    /// Both have a value and they differ: the person chooses.
    pub conflict: bool,
}

fn compare(this: &ContactRecord, other: &ContactRecord, fields: &FieldSet) -> Vec<CompareRow> {
    let row = |field: &str, label: String, a: Option<&String>, b: Option<&String>| CompareRow {
        conflict: a.is_some() && b.is_some() && a != b,
        this: a.map(|v| views::readable(field, v, fields)).unwrap_or_default(),
        other: b.map(|v| views::readable(field, v, fields)).unwrap_or_default(),
        field: field.to_string(),
        label,
    };
    let mut rows: Vec<CompareRow> = views::BASE_LABELS
        .iter()
        .map(|(f, label)| row(f, label.to_string(), this.base.get(f), other.base.get(f)))
        .collect();
    let names: BTreeSet<&String> = this.custom.keys().chain(other.custom.keys()).collect();
    for n in names {
        let label = fields.get(n).map(|d| d.label.clone()).unwrap_or_else(|| n.clone());
        rows.push(row(n, label, this.custom.get(n), other.custom.get(n)));
    }
    let stage = |c: &ContactRecord| c.stage().map(|l| l.name.clone());
    let (a, b) = (stage(this), stage(other));
    rows.push(CompareRow {
        conflict: a.is_some() && b.is_some() && a != b,
        this: a.unwrap_or_default(),
        other: b.unwrap_or_default(),
        field: "stage".into(),
        label: "Pipeline stage".into(),
    });
    rows
}

#[derive(Template, WebTemplate)]
#[template(path = "contacts/merge.html")]
struct MergePage {
    chrome: Chrome,
    ws: WorkspaceAccess,
    this: ContactRecord,
    this_name: String,
    other: Option<ContactRecord>,
    other_name: String,
    rows: Vec<CompareRow>,
    q: String,
    candidates: Vec<(String, String, String)>,
}

#[derive(Deserialize)]
pub struct MergeQuery {
    other: Option<String>,
    q: Option<String>,
}

pub async fn merge_page(
    State(state): State<AppState>,
    PageWs { actor, ws, chrome, .. }: PageWs<Editor>,
    PagePath((_, id)): PagePath<(WorkspaceId, ContactId)>,
    Query(query): Query<MergeQuery>,
) -> Result<Response, PageError> {
    let chrome = chrome.in_section("contacts");
    let this = contact::get(&state.db, &actor, &ws, &id).await?;
    let fields = field_definition::applicable(&state.db, &ws).await?;
    let other = match query.other.as_deref().filter(|o| !o.is_empty() && *o != this.id) {
        Some(o) => Some(contact::get(&state.db, &actor, &ws, &ContactId::found(o)?).await?),
        None => None,
    };
    let q = query.q.clone().unwrap_or_else(|| this.display_name());
    let mut candidates = Vec::new();
    if other.is_none() {
        let mut search = ContactQuery::newest(20);
        search.words = q.split_whitespace().take(8).map(str::to_string).collect();
        for c in search::run(&state.db, &actor, &ws, &search).await?.items {
            if c.id != this.id {
                let detail = [c.base.company.clone(), c.base.primary_email.clone()]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join(" · ");
                candidates.push((c.id.clone(), c.display_name(), detail));
            }
        }
    }
    let rows = other.as_ref().map(|o| compare(&this, o, &fields)).unwrap_or_default();
    let page = MergePage {
        chrome,
        this_name: this.display_name(),
        other_name: other.as_ref().map(ContactRecord::display_name).unwrap_or_default(),
        ws,
        this,
        other,
        rows,
        q,
        candidates,
    };
    Ok(page.into_response())
}

pub async fn merge(
    State(state): State<AppState>,
    PageWs { actor, ws, .. }: PageWs<Editor>,
    PagePath((_, id)): PagePath<(WorkspaceId, ContactId)>,
    Form(form): Form<Pairs>,
) -> Result<Response, PageError> {
    let other_id = form.first("other_id").to_string();
    let prefer: BTreeMap<String, Side> = form
        .0
        .iter()
        .filter_map(|(k, v)| {
            let field = k.strip_prefix("prefer.")?;
            Some((field.to_string(), if v == "other" { Side::Other } else { Side::This }))
        })
        .collect();
    let merged = merge::merge(&state.db, &actor, &ws, &id, MergeInput { other_id, prefer }).await?;
    let url = format!("/workspaces/{}/contacts/{}", ws.id(), merged.id);
    Ok(flash::redirect(
        &state,
        &url,
        "success",
        "Merged. Everything from the other contact is here now.",
    ))
}

pub struct DuplicateView {
    pub reason: String,
    pub a_id: String,
    pub a_name: String,
    pub a_detail: String,
    pub b_id: String,
    pub b_name: String,
    pub b_detail: String,
}

fn detail(c: &ContactRecord) -> String {
    [
        c.base.company.clone(),
        c.base.primary_email.clone(),
        c.base.primary_phone.clone(),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join(" · ")
}

#[derive(Template, WebTemplate)]
#[template(path = "contacts/duplicates.html")]
struct DuplicatesPage {
    chrome: Chrome,
    ws: WorkspaceAccess,
    pairs: Vec<DuplicateView>,
    /// The next page's cursor, when there is one.
    next: Option<String>,
}

pub async fn duplicates(
    State(state): State<AppState>,
    PageWs { actor, ws, chrome, .. }: PageWs,
    Query(page): Query<PageRequest>,
) -> Result<Response, PageError> {
    let chrome = chrome.in_section("contacts");
    let found = merge::possible_duplicates(&state, &actor, &ws, &page).await?;
    let next = found.next_cursor;
    let pairs = found
        .items
        .into_iter()
        .map(|p| DuplicateView {
            reason: p.reason,
            a_id: p.a.id.clone(),
            a_name: p.a.display_name(),
            a_detail: detail(&p.a),
            b_id: p.b.id.clone(),
            b_name: p.b.display_name(),
            b_detail: detail(&p.b),
        })
        .collect();
    Ok(DuplicatesPage {
        chrome,
        ws,
        pairs,
        next,
    }
    .into_response())
}
