use sqlx::{SqliteConnection, SqlitePool};

use crate::clock;
use crate::model::access::WorkspaceAccess;
use crate::model::ids::{UserId, WorkspaceId};

/// A membership as stored. Only `domain::workspace` turns it into a `WorkspaceAccess`.
#[derive(sqlx::FromRow)]
pub struct AccessRow {
    pub id: WorkspaceId,
    pub name: String,
    pub role: String,
    pub timezone: Option<String>,
}

/// The caller's role in one workspace, or nothing when they have none.
macro_rules! access_sql {
    () => {
        "
    SELECT w.id, w.name, 'owner' AS role, w.timezone FROM workspaces w WHERE w.user_id = ?1
    UNION ALL
    SELECT w.id, w.name, m.role, w.timezone FROM workspaces w
      JOIN workspace_members m ON m.workspace_id = w.id WHERE m.user_id = ?1"
    };
}

pub async fn access<'e>(
    db: impl sqlx::SqliteExecutor<'e>,
    user: &UserId,
    ws: &WorkspaceId,
) -> Result<Option<AccessRow>, sqlx::Error> {
    sqlx::query_as(concat!("SELECT * FROM (", access_sql!(), ") WHERE id = ?2"))
        .bind(user)
        .bind(ws)
        .fetch_optional(db)
        .await
}

pub async fn list_for_user(db: &SqlitePool, user: &UserId) -> Result<Vec<AccessRow>, sqlx::Error> {
    sqlx::query_as(concat!(
        "SELECT * FROM (",
        access_sql!(),
        ") ORDER BY name COLLATE NOCASE, id"
    ))
    .bind(user)
    .fetch_all(db)
    .await
}

pub async fn insert(conn: &mut SqliteConnection, owner: &UserId, name: &str) -> Result<WorkspaceId, sqlx::Error> {
    let id = WorkspaceId::generate();
    sqlx::query("INSERT INTO workspaces (id, user_id, name, created_at) VALUES (?, ?, ?, ?)")
        .bind(&id)
        .bind(owner)
        .bind(name)
        .bind(clock::now_text())
        .execute(conn)
        .await?;
    Ok(id)
}

pub async fn rename(conn: &mut SqliteConnection, ws: &WorkspaceAccess, name: &str) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE workspaces SET name = ? WHERE id = ?")
        .bind(name)
        .bind(ws.id())
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn set_timezone(
    conn: &mut SqliteConnection,
    ws: &WorkspaceAccess,
    tz: Option<&str>,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE workspaces SET timezone = ? WHERE id = ?")
        .bind(tz)
        .bind(ws.id())
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn delete(conn: &mut SqliteConnection, ws: &WorkspaceAccess) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM workspaces WHERE id = ?")
        .bind(ws.id())
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn owner_of(db: &SqlitePool, ws: &WorkspaceAccess) -> Result<Option<UserId>, sqlx::Error> {
    sqlx::query_scalar("SELECT user_id FROM workspaces WHERE id = ?")
        .bind(ws.id())
        .fetch_optional(db)
        .await
}

pub async fn members(db: &SqlitePool, ws: &WorkspaceAccess) -> Result<Vec<Member>, sqlx::Error> {
    sqlx::query_as(
        "SELECT u.id AS user_id, u.email, u.name, 'owner' AS role
           FROM workspaces w JOIN users u ON u.id = w.user_id WHERE w.id = ?1
         UNION ALL
         SELECT * FROM (SELECT u.id AS user_id, u.email, u.name, m.role
           FROM workspace_members m JOIN users u ON u.id = m.user_id
          WHERE m.workspace_id = ?1 ORDER BY u.email)",
    )
    .bind(ws.id())
    .fetch_all(db)
    .await
}

/// Adds a member or changes their role; true when the row is new.
pub async fn upsert_member(
    conn: &mut SqliteConnection,
    ws: &WorkspaceAccess,
    user: &UserId,
    role: &str,
) -> Result<bool, sqlx::Error> {
    let existed: Option<String> =
        sqlx::query_scalar("SELECT role FROM workspace_members WHERE workspace_id = ? AND user_id = ?")
            .bind(ws.id())
            .bind(user)
            .fetch_optional(&mut *conn)
            .await?;
    sqlx::query(
        "INSERT INTO workspace_members (workspace_id, user_id, role, added_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (workspace_id, user_id) DO UPDATE SET role = excluded.role",
    )
    .bind(ws.id())
    .bind(user)
    .bind(role)
    .bind(clock::now_text())
    .execute(conn)
    .await?;
    Ok(existed.is_none())
}

pub async fn delete_member(
    conn: &mut SqliteConnection,
    ws: &WorkspaceAccess,
    user: &UserId,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("DELETE FROM workspace_members WHERE workspace_id = ? AND user_id = ?")
        .bind(ws.id())
        .bind(user)
        .execute(conn)
        .await?;
    Ok(done.rows_affected() > 0)
}

/// The owner of a workspace named by id alone: only `domain::workspace::for_system` asks.
pub async fn owner_by_id(db: &SqlitePool, ws: &WorkspaceId) -> Result<Option<UserId>, sqlx::Error> {
    sqlx::query_scalar("SELECT user_id FROM workspaces WHERE id = ?")
        .bind(ws)
        .fetch_optional(db)
        .await
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Member {
    pub user_id: String,
    pub email: String,
    pub name: String,
    pub role: String,
}
