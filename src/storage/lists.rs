use sqlx::{SqliteConnection, SqlitePool};

use crate::clock;
use crate::model::access::WorkspaceAccess;
use crate::model::ids::{ContactId, ListId};

#[derive(sqlx::FromRow)]
struct Row {
    id: String,
    name: String,
    is_primary: bool,
    position: i64,
}

impl From<Row> for ContactList {
    fn from(r: Row) -> Self {
        ContactList {
            id: r.id,
            name: r.name,
            is_primary: r.is_primary,
            position: r.position,
        }
    }
}

pub async fn all<'e>(db: impl sqlx::SqliteExecutor<'e>, ws: &WorkspaceAccess) -> Result<Vec<ContactList>, sqlx::Error> {
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT id, name, is_primary, position FROM contact_lists WHERE workspace_id = ?
         ORDER BY is_primary DESC, position, name COLLATE NOCASE",
    )
    .bind(ws.id())
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(Into::into).collect())
}

pub async fn find(db: &SqlitePool, ws: &WorkspaceAccess, id: &ListId) -> Result<Option<ContactList>, sqlx::Error> {
    let row: Option<Row> =
        sqlx::query_as("SELECT id, name, is_primary, position FROM contact_lists WHERE workspace_id = ? AND id = ?")
            .bind(ws.id())
            .bind(id)
            .fetch_optional(db)
            .await?;
    Ok(row.map(Into::into))
}

pub async fn find_by_name(
    conn: &mut SqliteConnection,
    ws: &WorkspaceAccess,
    name: &str,
) -> Result<Option<ContactList>, sqlx::Error> {
    let row: Option<Row> =
        sqlx::query_as("SELECT id, name, is_primary, position FROM contact_lists WHERE workspace_id = ? AND name = ?")
            .bind(ws.id())
            .bind(name)
            .fetch_optional(conn)
            .await?;
    Ok(row.map(Into::into))
}

pub async fn next_position(conn: &mut SqliteConnection, ws: &WorkspaceAccess) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT COALESCE(MAX(position), -1) + 1 FROM contact_lists WHERE workspace_id = ?")
        .bind(ws.id())
        .fetch_one(conn)
        .await
}

pub async fn insert(conn: &mut SqliteConnection, ws: &WorkspaceAccess, list: &ContactList) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO contact_lists (id, workspace_id, name, is_primary, position, created_at) VALUES (?, ?, ?, ?, ?, ?)",
    )
    .bind(&list.id)
    .bind(ws.id())
    .bind(&list.name)
    .bind(list.is_primary)
    .bind(list.position)
    .bind(clock::now_text())
    .execute(conn)
    .await?;
    Ok(())
}

/// Also copies `is_primary` onto the assignments, where the one-stage index enforces it.
pub async fn update(conn: &mut SqliteConnection, ws: &WorkspaceAccess, list: &ContactList) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE contact_lists SET name = ?, is_primary = ?, position = ? WHERE id = ? AND workspace_id = ?")
        .bind(&list.name)
        .bind(list.is_primary)
        .bind(list.position)
        .bind(&list.id)
        .bind(ws.id())
        .execute(&mut *conn)
        .await?;
    sqlx::query("UPDATE contact_list_assignments SET is_primary = ? WHERE list_id = ? AND workspace_id = ?")
        .bind(list.is_primary)
        .bind(&list.id)
        .bind(ws.id())
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn delete(conn: &mut SqliteConnection, ws: &WorkspaceAccess, id: &str) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM contact_lists WHERE id = ? AND workspace_id = ?")
        .bind(id)
        .bind(ws.id())
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn is_member(
    conn: &mut SqliteConnection,
    ws: &WorkspaceAccess,
    contact: &ContactId,
    list: &str,
) -> Result<bool, sqlx::Error> {
    let found: Option<i64> = sqlx::query_scalar(
        "SELECT 1 FROM contact_list_assignments WHERE contact_id = ? AND list_id = ? AND workspace_id = ?",
    )
    .bind(contact)
    .bind(list)
    .bind(ws.id())
    .fetch_optional(conn)
    .await?;
    Ok(found.is_some())
}

pub async fn stage_of(
    conn: &mut SqliteConnection,
    ws: &WorkspaceAccess,
    contact: &ContactId,
) -> Result<Option<ContactList>, sqlx::Error> {
    let row: Option<Row> = sqlx::query_as(
        "SELECT l.id, l.name, l.is_primary, l.position FROM contact_list_assignments a
           JOIN contact_lists l ON l.id = a.list_id AND l.workspace_id = a.workspace_id
          WHERE a.contact_id = ? AND a.workspace_id = ? AND a.is_primary = 1",
    )
    .bind(contact)
    .bind(ws.id())
    .fetch_optional(conn)
    .await?;
    Ok(row.map(Into::into))
}

pub async fn leave_stage(
    conn: &mut SqliteConnection,
    ws: &WorkspaceAccess,
    contact: &ContactId,
) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM contact_list_assignments WHERE contact_id = ? AND workspace_id = ? AND is_primary = 1")
        .bind(contact)
        .bind(ws.id())
        .execute(conn)
        .await?;
    Ok(())
}

/// The ids and names of the lists (not pipeline stages) a contact is on.
pub async fn labels_of(
    conn: &mut SqliteConnection,
    ws: &WorkspaceAccess,
    contact: &ContactId,
) -> Result<Vec<(String, String)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT l.id, l.name FROM contact_list_assignments a
           JOIN contact_lists l ON l.id = a.list_id AND l.workspace_id = a.workspace_id
          WHERE a.contact_id = ? AND a.workspace_id = ? AND a.is_primary = 0",
    )
    .bind(contact)
    .bind(ws.id())
    .fetch_all(conn)
    .await
}

/// The workspace's list named `name` that no contact is on: its id.
pub async fn empty_named(
    conn: &mut SqliteConnection,
    ws: &WorkspaceAccess,
    name: &str,
) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT id FROM contact_lists l WHERE workspace_id = ? AND name = ? AND is_primary = 0
            AND NOT EXISTS (SELECT 1 FROM contact_list_assignments a WHERE a.list_id = l.id)",
    )
    .bind(ws.id())
    .bind(name)
    .fetch_optional(conn)
    .await
}

pub async fn assign(
    conn: &mut SqliteConnection,
    ws: &WorkspaceAccess,
    contact: &ContactId,
    list: &ContactList,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT OR IGNORE INTO contact_list_assignments (contact_id, list_id, workspace_id, is_primary, assigned_at)
         VALUES (?, ?, ?, ?, ?)",
    )
    .bind(contact)
    .bind(&list.id)
    .bind(ws.id())
    .bind(list.is_primary)
    .bind(clock::now_text())
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn unassign(
    conn: &mut SqliteConnection,
    ws: &WorkspaceAccess,
    contact: &ContactId,
    list: &str,
) -> Result<bool, sqlx::Error> {
    let done =
        sqlx::query("DELETE FROM contact_list_assignments WHERE contact_id = ? AND list_id = ? AND workspace_id = ?")
            .bind(contact)
            .bind(list)
            .bind(ws.id())
            .execute(conn)
            .await?;
    Ok(done.rows_affected() > 0)
}

/// How many contacts each list of the workspace holds, in one statement (no query per list).
pub async fn member_counts(db: &SqlitePool, ws: &WorkspaceAccess) -> Result<Vec<(String, i64)>, sqlx::Error> {
    sqlx::query_as("SELECT list_id, COUNT(*) FROM contact_list_assignments WHERE workspace_id = ? GROUP BY list_id")
        .bind(ws.id())
        .fetch_all(db)
        .await
}

#[derive(Debug, Clone, PartialEq)]
pub struct ContactList {
    pub id: String,
    pub name: String,
    pub is_primary: bool,
    /// Order of stages on the pipeline board.
    pub position: i64,
}
