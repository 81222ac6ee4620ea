//! The contacts list's columns: which custom fields each person sees there, per workspace
//! (issue 13's column chooser). A personal view — a viewer chooses their own too — and never
//! a field the workspace does not define: a field deleted since simply stops showing.

use std::sync::Arc;

use super::actor::{Actor, Scope};
use super::field_definition::{self, FieldDefinition, FieldSet};
use super::list::{self, ContactList};
use super::stats_cache::AsOf;
use super::workspace::WorkspaceAccess;
use crate::error::{AppError, AppResult};
use crate::storage;

/// Shown when nobody chose: the first few fields.
const DEFAULT_COLUMNS: usize = 3;
/// More than this does not fit a laptop's width beside the base columns.
pub const MOST_COLUMNS: usize = 6;

/// The fields the person shows, in their order.
pub async fn columns<'f>(
    db: &sqlx::SqlitePool,
    actor: &Actor,
    ws: &WorkspaceAccess,
    fields: &'f FieldSet,
) -> AppResult<Vec<&'f FieldDefinition>> {
    actor.require(Scope::ReadContacts)?;
    let chosen: Option<Vec<String>> = storage::list_columns::get(db, &actor.user_id, ws)
        .await?
        .and_then(|json| serde_json::from_str(&json).ok());
    Ok(match chosen {
        Some(names) => names.iter().filter_map(|n| fields.get(n)).collect(),
        None => fields.0.iter().take(DEFAULT_COLUMNS).collect(),
    })
}

/// What the contacts page reads besides its rows: the workspace's fields, its lists and the
/// person's columns. Kept (`StatsCache`) until the database changes, as a page is read far
/// more often than these are changed: three statements fewer on every page.
pub struct PageSetting {
    pub fields: FieldSet,
    pub lists: Vec<ContactList>,
    /// The columns' field names, in order (each one of `fields`).
    columns: Vec<String>,
}

impl PageSetting {
    /// The fields the person shows, in their order.
    pub fn columns(&self) -> Vec<&FieldDefinition> {
        self.columns.iter().filter_map(|n| self.fields.get(n)).collect()
    }
}

pub async fn page_setting(
    db: &sqlx::SqlitePool,
    as_of: &AsOf<'_>,
    actor: &Actor,
    ws: &WorkspaceAccess,
) -> AppResult<Arc<PageSetting>> {
    actor.require(Scope::ReadContacts)?;
    let key = format!("contacts page {} {}", actor.user_id, ws.id());
    as_of
        .get_or(key, || async {
            let fields = field_definition::applicable(db, ws).await?;
            let lists = list::all(db, actor, ws).await?;
            let columns = columns(db, actor, ws, &fields)
                .await?
                .into_iter()
                .map(|d| d.field_name.clone())
                .collect();
            Ok(Arc::new(PageSetting { fields, lists, columns }))
        })
        .await
}

/// Keeps the person's choice: field names, in order; each must be a field of the workspace.
pub async fn choose(
    db: &sqlx::SqlitePool,
    actor: &Actor,
    ws: &WorkspaceAccess,
    fields: &FieldSet,
    names: &[String],
) -> AppResult<()> {
    actor.require(Scope::ReadContacts)?;
    let mut chosen: Vec<&str> = Vec::new();
    for name in names.iter().map(|n| n.trim()).filter(|n| !n.is_empty()) {
        if fields.get(name).is_none() {
            return Err(AppError::invalid(
                "columns",
                format!("no custom field named {name} here"),
            ));
        }
        if !chosen.contains(&name) {
            chosen.push(name);
        }
    }
    if chosen.len() > MOST_COLUMNS {
        return Err(AppError::invalid(
            "columns",
            format!("choose at most {MOST_COLUMNS} columns"),
        ));
    }
    let json = serde_json::to_string(&chosen).map_err(|e| AppError::Internal(e.into()))?;
    storage::list_columns::set(db, &actor.user_id, ws, &json).await?;
    Ok(())
}
