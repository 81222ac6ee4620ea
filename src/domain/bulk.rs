//! Changes to several contacts at once, from the contacts list's checkboxes (issue 13): into a
//! stage or a list, or deleted. All of them or none: one transaction, and an id that is not a
//! contact of the workspace is a 404 that changes nothing.

use super::actor::{Actor, Scope};
use super::audit;
use super::contact::ContactRecord;
use super::ids::{ContactId, ListId};
use super::list;
use super::workspace::WorkspaceAccess;
use crate::error::{AppError, AppResult};
use crate::storage;

/// A page of the list holds 50; a selection is never larger than a few pages.
pub const MAX_SELECTED: usize = 200;

pub enum BulkAction {
    /// Into a stage (a move, logged on each timeline) or a list.
    AddTo(ListId),
    Delete,
}

/// The selection checked: not empty, not too large, each id once.
pub fn selection(ids: &[String]) -> AppResult<Vec<ContactId>> {
    let mut seen = std::collections::HashSet::new();
    let chosen: Vec<ContactId> = ids
        .iter()
        .filter(|id| seen.insert(id.as_str()))
        .map(|id| ContactId::found(id))
        .collect::<AppResult<_>>()?;
    if chosen.is_empty() {
        return Err(AppError::invalid("ids", "tick at least one contact first"));
    }
    if chosen.len() > MAX_SELECTED {
        return Err(AppError::invalid(
            "ids",
            format!("at most {MAX_SELECTED} contacts at once"),
        ));
    }
    Ok(chosen)
}

/// Applies `action` to every contact in `ids`; how many changed (one already in the list
/// does not count).
pub async fn apply(
    db: &sqlx::SqlitePool,
    actor: &Actor,
    ws: &WorkspaceAccess,
    ids: &[ContactId],
    action: &BulkAction,
) -> AppResult<usize> {
    actor.require(Scope::WriteContacts)?;
    ws.require_editor()?;
    let into = match action {
        BulkAction::AddTo(id) => Some(list::find(db, ws, id).await?),
        BulkAction::Delete => None,
    };
    let mut tx = storage::db::begin_write(db).await?;
    let mut changed = 0;
    for id in ids {
        let done = match &into {
            Some(list) => {
                if !storage::contacts::exists(&mut tx, ws, id).await? {
                    return Err(AppError::NotFound);
                }
                list::join(&mut tx, actor, ws, id, list).await?
            }
            None => {
                if !storage::contacts::delete(&mut tx, ws, id).await? {
                    return Err(AppError::NotFound);
                }
                audit::in_workspace(&mut tx, actor, ws.id(), "contact.delete", "contact", id.as_str()).await?;
                true
            }
        };
        changed += usize::from(done);
    }
    tx.commit().await?;
    Ok(changed)
}

/// The contacts a delete would remove, by name, for the page that asks first: every one must
/// be a contact of the workspace (else 404, as `apply` would say).
pub async fn to_delete(
    db: &sqlx::SqlitePool,
    actor: &Actor,
    ws: &WorkspaceAccess,
    ids: &[ContactId],
) -> AppResult<Vec<ContactRecord>> {
    actor.require(Scope::WriteContacts)?;
    ws.require_editor()?;
    let mut query = super::search::ContactQuery::newest(MAX_SELECTED as u32);
    query.sort = super::search::Sort::Name;
    query.only = Some(ids.iter().map(|id| id.to_string()).collect());
    let contacts = super::search::run(db, actor, ws, &query).await?.items;
    if contacts.len() != ids.len() {
        return Err(AppError::NotFound);
    }
    Ok(contacts)
}
