use sqlx::{SqliteConnection, SqlitePool};

use crate::clock;
use crate::domain::ids::{ContactId, ListId, WorkspaceId};
use crate::domain::list::ContactList;

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

pub async fn all(db: &SqlitePool, ws: &WorkspaceId) -> Result<Vec<ContactList>, sqlx::Error> {
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT id, name, is_primary, position FROM contact_lists WHERE workspace_id = ?
         ORDER BY is_primary DESC, position, name COLLATE NOCASE",
    )
    .bind(ws)
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(Into::into).collect())
}

pub async fn find(db: &SqlitePool, ws: &WorkspaceId, id: &ListId) -> Result<Option<ContactList>, sqlx::Error> {
    let row: Option<Row> =
        sqlx::query_as("SELECT id, name, is_primary, position FROM contact_lists WHERE workspace_id = ? AND id = ?")
            .bind(ws)
            .bind(id)
            .fetch_optional(db)
            .await?;
    Ok(row.map(Into::into))
}

pub async fn find_by_name(
    conn: &mut SqliteConnection,
    ws: &WorkspaceId,
    name: &str,
) -> Result<Option<ContactList>, sqlx::Error> {
    let row: Option<Row> =
        sqlx::query_as("SELECT id, name, is_primary, position FROM contact_lists WHERE workspace_id = ? AND name = ?")
            .bind(ws)
            .bind(name)
            .fetch_optional(conn)
            .await?;
    Ok(row.map(Into::into))
}

pub async fn next_position(conn: &mut SqliteConnection, ws: &WorkspaceId) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT COALESCE(MAX(position), -1) + 1 FROM contact_lists WHERE workspace_id = ?")
        .bind(ws)
        .fetch_one(conn)
        .await
}

pub async fn insert(conn: &mut SqliteConnection, ws: &WorkspaceId, list: &ContactList) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO contact_lists (id, workspace_id, name, is_primary, position, created_at) VALUES (?, ?, ?, ?, ?, ?)",
    )
    .bind(&list.id)
    .bind(ws)
    .bind(&list.name)
    .bind(list.is_primary)
    .bind(list.position)
    .bind(clock::now_text())
    .execute(conn)
    .await?;
    Ok(())
}

/// Also copies `is_primary` onto the assignments, where the one-stage index enforces it.
pub async fn update(conn: &mut SqliteConnection, list: &ContactList) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE contact_lists SET name = ?, is_primary = ?, position = ? WHERE id = ?")
        .bind(&list.name)
        .bind(list.is_primary)
        .bind(list.position)
        .bind(&list.id)
        .execute(&mut *conn)
        .await?;
    sqlx::query("UPDATE contact_list_assignments SET is_primary = ? WHERE list_id = ?")
        .bind(list.is_primary)
        .bind(&list.id)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn delete(conn: &mut SqliteConnection, id: &str) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM contact_lists WHERE id = ?")
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn is_member(conn: &mut SqliteConnection, contact: &ContactId, list: &str) -> Result<bool, sqlx::Error> {
    let found: Option<i64> =
        sqlx::query_scalar("SELECT 1 FROM contact_list_assignments WHERE contact_id = ? AND list_id = ?")
            .bind(contact)
            .bind(list)
            .fetch_optional(conn)
            .await?;
    Ok(found.is_some())
}

pub async fn stage_of(conn: &mut SqliteConnection, contact: &ContactId) -> Result<Option<ContactList>, sqlx::Error> {
    let row: Option<Row> = sqlx::query_as(
        "SELECT l.id, l.name, l.is_primary, l.position FROM contact_list_assignments a
           JOIN contact_lists l ON l.id = a.list_id WHERE a.contact_id = ? AND a.is_primary = 1",
    )
    .bind(contact)
    .fetch_optional(conn)
    .await?;
    Ok(row.map(Into::into))
}

pub async fn leave_stage(conn: &mut SqliteConnection, contact: &ContactId) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM contact_list_assignments WHERE contact_id = ? AND is_primary = 1")
        .bind(contact)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn assign(conn: &mut SqliteConnection, contact: &ContactId, list: &ContactList) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT OR IGNORE INTO contact_list_assignments (contact_id, list_id, is_primary, assigned_at) VALUES (?, ?, ?, ?)",
    )
    .bind(contact)
    .bind(&list.id)
    .bind(list.is_primary)
    .bind(clock::now_text())
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn unassign(conn: &mut SqliteConnection, contact: &ContactId, list: &str) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("DELETE FROM contact_list_assignments WHERE contact_id = ? AND list_id = ?")
        .bind(contact)
        .bind(list)
        .execute(conn)
        .await?;
    Ok(done.rows_affected() > 0)
}

/// The lists of many contacts at once (a page of the contact list).
pub async fn for_contacts(db: &SqlitePool, ids: &[String]) -> Result<Vec<(String, ContactList)>, sqlx::Error> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut q = sqlx::QueryBuilder::new(
        "SELECT a.contact_id, l.id, l.name, l.is_primary, l.position FROM contact_list_assignments a
           JOIN contact_lists l ON l.id = a.list_id WHERE a.contact_id IN (",
    );
    let mut sep = q.separated(", ");
    for id in ids {
        sep.push_bind(id.clone());
    }
    q.push(") ORDER BY l.is_primary DESC, l.position, l.name");
    let rows: Vec<(String, String, String, bool, i64)> = q.build_query_as().fetch_all(db).await?;
    Ok(rows
        .into_iter()
        .map(|(c, id, name, is_primary, position)| {
            (
                c,
                ContactList {
                    id,
                    name,
                    is_primary,
                    position,
                },
            )
        })
        .collect())
}

pub async fn count_members(db: &SqlitePool, list: &str) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT COUNT(*) FROM contact_list_assignments WHERE list_id = ?")
        .bind(list)
        .fetch_one(db)
        .await
}
