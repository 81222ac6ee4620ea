//! Contact lists. Primary lists are pipeline stages: a contact is in at most one, and moving
//! it writes a `stage_change` entry on its timeline. Other lists are tags, any number.

use sqlx::{SqliteConnection, SqlitePool};

use super::actor::{Actor, Scope};
use super::ids::{ContactId, ListId};
use super::workspace::WorkspaceAccess;
use super::{audit, comms};
use crate::error::{AppError, AppResult, on_unique};
use crate::storage;
pub use crate::storage::lists::ContactList;

#[derive(Debug, Clone, Default)]
pub struct ListInput {
    /// 1 to 80 characters, no control characters.
    pub name: Option<String>,
    pub is_primary: Option<bool>,
    pub position: Option<i64>,
}

pub(crate) fn parse_name(raw: &str) -> AppResult<String> {
    let name = raw.trim();
    if name.is_empty() || name.chars().count() > 80 || name.chars().any(char::is_control) {
        return Err(AppError::invalid("name", "a list name is 1 to 80 characters"));
    }
    Ok(name.to_string())
}

fn name_taken(e: sqlx::Error) -> AppError {
    on_unique("contact_lists", || {
        AppError::conflict("this workspace already has a list with that name")
    })(e)
}

/// A loan officer's pipeline, offered on a new workspace.
pub const MORTGAGE_STAGES: [&str; 6] = [
    "Lead",
    "Pre-approved",
    "Application",
    "Underwriting",
    "Clear to close",
    "Closed",
];

/// Adds pipeline stages after the existing ones, in order, in one transaction; a name the
/// workspace already has is left as it is. Returns the stages added.
pub async fn add_stages(
    db: &SqlitePool,
    actor: &Actor,
    ws: &WorkspaceAccess,
    names: &[&str],
) -> AppResult<Vec<ContactList>> {
    actor.require(Scope::WriteContacts)?;
    ws.require_editor()?;
    // Read under the write lock: two presses at once add the stages once.
    let mut tx = storage::db::begin_write(db).await?;
    let existing: Vec<String> = storage::lists::all(&mut *tx, ws)
        .await?
        .into_iter()
        .map(|l| l.name.to_lowercase())
        .collect();
    let mut added = Vec::new();
    for name in names.iter().filter(|n| !existing.contains(&n.to_lowercase())) {
        let list = ContactList {
            id: ListId::generate().to_string(),
            name: parse_name(name)?,
            is_primary: true,
            position: storage::lists::next_position(&mut tx, ws).await?,
        };
        storage::lists::insert(&mut tx, ws, &list).await.map_err(name_taken)?;
        audit::in_workspace(&mut tx, actor, ws.id(), "list.create", "contact_list", &list.id).await?;
        added.push(list);
    }
    tx.commit().await?;
    Ok(added)
}

pub async fn all(db: &SqlitePool, actor: &Actor, ws: &WorkspaceAccess) -> AppResult<Vec<ContactList>> {
    actor.require(Scope::ReadContacts)?;
    Ok(storage::lists::all(db, ws).await?)
}

/// Every list with how many contacts it holds (counted in one statement).
pub async fn all_with_counts(
    db: &SqlitePool,
    actor: &Actor,
    ws: &WorkspaceAccess,
) -> AppResult<Vec<(ContactList, i64)>> {
    let lists = all(db, actor, ws).await?;
    let counts: std::collections::HashMap<String, i64> =
        storage::lists::member_counts(db, ws).await?.into_iter().collect();
    Ok(lists
        .into_iter()
        .map(|l| {
            let n = counts.get(&l.id).copied().unwrap_or(0);
            (l, n)
        })
        .collect())
}

pub async fn create(db: &SqlitePool, actor: &Actor, ws: &WorkspaceAccess, input: ListInput) -> AppResult<ContactList> {
    actor.require(Scope::WriteContacts)?;
    ws.require_editor()?;
    let name = parse_name(input.name.as_deref().unwrap_or(""))?;
    let is_primary = input.is_primary.unwrap_or(false);
    let mut tx = storage::db::begin_write(db).await?;
    let list = make(&mut tx, actor, ws, name, is_primary, input.position).await?;
    tx.commit().await?;
    Ok(list)
}

/// Makes a list whose name was checked (`parse_name`), with its audit entry, in the caller's
/// transaction: last on the board unless `position` says where.
pub(crate) async fn make(
    conn: &mut SqliteConnection,
    actor: &Actor,
    ws: &WorkspaceAccess,
    name: String,
    is_primary: bool,
    position: Option<i64>,
) -> AppResult<ContactList> {
    let position = match position {
        Some(p) => p,
        None => storage::lists::next_position(conn, ws).await?,
    };
    let list = ContactList {
        id: ListId::generate().to_string(),
        name,
        is_primary,
        position,
    };
    storage::lists::insert(conn, ws, &list).await.map_err(name_taken)?;
    audit::in_workspace(conn, actor, ws.id(), "list.create", "contact_list", &list.id).await?;
    Ok(list)
}

pub async fn find(db: &SqlitePool, ws: &WorkspaceAccess, id: &ListId) -> AppResult<ContactList> {
    storage::lists::find(db, ws, id).await?.ok_or(AppError::NotFound)
}

/// Renames, reorders, or turns a tag into a stage (or back). Turning a tag into a stage is
/// refused when some contact would then be in two stages.
pub async fn update(
    db: &SqlitePool,
    actor: &Actor,
    ws: &WorkspaceAccess,
    id: &ListId,
    input: ListInput,
) -> AppResult<ContactList> {
    let mut list = find(db, ws, id).await?;
    actor.require(Scope::WriteContacts)?;
    ws.require_editor()?;
    if let Some(name) = input.name.as_deref() {
        list.name = parse_name(name)?;
    }
    if let Some(p) = input.position {
        list.position = p;
    }
    let becomes_stage = input.is_primary == Some(true) && !list.is_primary;
    if let Some(p) = input.is_primary {
        list.is_primary = p;
    }
    let mut tx = storage::db::begin_write(db).await?;
    storage::lists::update(&mut tx, ws, &list).await.map_err(|e| {
        if becomes_stage && crate::error::is_unique_violation(&e, "contact_list_assignments") {
            AppError::conflict("some contacts in this list are already in another stage")
        } else {
            name_taken(e)
        }
    })?;
    audit::in_workspace(&mut tx, actor, ws.id(), "list.update", "contact_list", &list.id).await?;
    tx.commit().await?;
    Ok(list)
}

pub async fn delete(db: &SqlitePool, actor: &Actor, ws: &WorkspaceAccess, id: &ListId) -> AppResult<()> {
    let list = find(db, ws, id).await?;
    actor.require(Scope::WriteContacts)?;
    ws.require_editor()?;
    let mut tx = storage::db::begin_write(db).await?;
    storage::lists::delete(&mut tx, ws, &list.id).await?;
    audit::in_workspace(&mut tx, actor, ws.id(), "list.delete", "contact_list", &list.id).await?;
    tx.commit().await?;
    Ok(())
}

/// The checks before changing a contact's lists: the scope, the role, the list and the contact
/// (both in this workspace, else 404), and the transaction the change happens in.
async fn open_membership<'a>(
    db: &'a SqlitePool,
    actor: &Actor,
    ws: &WorkspaceAccess,
    contact: &ContactId,
    list_id: &ListId,
) -> AppResult<(ContactList, sqlx::Transaction<'a, sqlx::Sqlite>)> {
    actor.require(Scope::WriteContacts)?;
    ws.require_editor()?;
    let list = find(db, ws, list_id).await?;
    let mut tx = storage::db::begin_write(db).await?;
    if !storage::contacts::exists(&mut tx, ws, contact).await? {
        return Err(AppError::NotFound);
    }
    Ok((list, tx))
}

/// Puts a contact in a list. For a stage this is a move: it leaves its current stage, and the
/// move is logged on its timeline. Adding to a list it is already in changes nothing.
pub async fn add_contact(
    db: &SqlitePool,
    actor: &Actor,
    ws: &WorkspaceAccess,
    contact: &ContactId,
    list_id: &ListId,
) -> AppResult<()> {
    let (list, mut tx) = open_membership(db, actor, ws, contact, list_id).await?;
    if join(&mut tx, actor, ws, contact, &list).await? {
        tx.commit().await?;
    }
    Ok(())
}

/// Puts a contact the caller checked exists in `list`, inside the caller's transaction:
/// false when it was there already.
pub(crate) async fn join(
    conn: &mut SqliteConnection,
    actor: &Actor,
    ws: &WorkspaceAccess,
    contact: &ContactId,
    list: &ContactList,
) -> AppResult<bool> {
    if storage::lists::is_member(conn, ws, contact, &list.id).await? {
        return Ok(false);
    }
    if list.is_primary {
        let from = storage::lists::stage_of(conn, ws, contact).await?;
        storage::lists::leave_stage(conn, ws, contact).await?;
        storage::lists::assign(conn, ws, contact, list).await?;
        log_stage_change(conn, actor, ws, contact, from.as_ref(), Some(list)).await?;
    } else {
        storage::lists::assign(conn, ws, contact, list).await?;
    }
    audit::in_workspace(conn, actor, ws.id(), "list.add_contact", "contact", contact.as_str()).await?;
    Ok(true)
}

pub async fn remove_contact(
    db: &SqlitePool,
    actor: &Actor,
    ws: &WorkspaceAccess,
    contact: &ContactId,
    list_id: &ListId,
) -> AppResult<()> {
    let (list, mut tx) = open_membership(db, actor, ws, contact, list_id).await?;
    if !leave(&mut tx, actor, ws, contact, &list).await? {
        return Err(AppError::NotFound);
    }
    tx.commit().await?;
    Ok(())
}

/// Takes a contact the caller checked exists out of `list`, inside the caller's transaction
/// (a stage's leaving on the timeline): false when it was not in it.
pub(crate) async fn leave(
    conn: &mut SqliteConnection,
    actor: &Actor,
    ws: &WorkspaceAccess,
    contact: &ContactId,
    list: &ContactList,
) -> AppResult<bool> {
    if !storage::lists::unassign(conn, ws, contact, &list.id).await? {
        return Ok(false);
    }
    if list.is_primary {
        log_stage_change(conn, actor, ws, contact, Some(list), None).await?;
    }
    audit::in_workspace(conn, actor, ws.id(), "list.remove_contact", "contact", contact.as_str()).await?;
    Ok(true)
}

async fn log_stage_change(
    conn: &mut SqliteConnection,
    actor: &Actor,
    ws: &WorkspaceAccess,
    contact: &ContactId,
    from: Option<&ContactList>,
    to: Option<&ContactList>,
) -> AppResult<()> {
    let content = serde_json::json!({
        "from": from.map(|l| serde_json::json!({"id": l.id, "name": l.name})),
        "to": to.map(|l| serde_json::json!({"id": l.id, "name": l.name})),
    });
    comms::record(conn, actor, ws, contact, comms::Kind::StageChange, content, None).await?;
    Ok(())
}
