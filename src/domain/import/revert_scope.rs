//! What reverting an import would remove, said before it is done: the contacts it added (with
//! a few names), the contacts it put back as they were, and the fields and lists it made that
//! go with it when nothing else uses them. The confirmation page shows it; the revert itself is
//! `job::revert`.

use sqlx::SqlitePool;

use crate::domain::actor::Actor;
use crate::domain::ids::ImportId;
use crate::domain::workspace::WorkspaceAccess;
use crate::error::AppResult;
use crate::storage;

pub struct RevertScope {
    pub filename: String,
    /// Contacts it added that are still here: they are deleted.
    pub removes: i64,
    /// A few of their names, newest last.
    pub names: Vec<String>,
    /// Contacts it updated: put back as they were.
    pub restores: i64,
    /// Fields it made: deleted unless something else holds a value in them after the revert.
    pub fields: Vec<String>,
    /// Lists it made: deleted once empty.
    pub lists: Vec<String>,
}

pub async fn of(db: &SqlitePool, actor: &Actor, ws: &WorkspaceAccess, id: &ImportId) -> AppResult<RevertScope> {
    let row = super::job::revertible(db, actor, ws, id).await?;
    let report = super::job::stored_report(&row).unwrap_or_default();
    let (removes, restores, names) = storage::imports::revert_scope(db, ws, id.as_str()).await?;
    Ok(RevertScope {
        filename: row.filename,
        removes,
        names,
        restores,
        fields: report.fields_created,
        lists: report.lists_created,
    })
}
