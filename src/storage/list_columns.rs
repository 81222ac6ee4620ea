//! The custom fields a person shows as columns on a workspace's contacts list.

use sqlx::SqlitePool;

use crate::model::access::WorkspaceAccess;
use crate::model::ids::UserId;

/// The field names chosen (a JSON array), if any.
pub async fn get(db: &SqlitePool, user: &UserId, ws: &WorkspaceAccess) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT columns FROM contact_list_columns WHERE user_id = ? AND workspace_id = ?")
        .bind(user)
        .bind(ws.id())
        .fetch_optional(db)
        .await
}

pub async fn set(db: &SqlitePool, user: &UserId, ws: &WorkspaceAccess, columns: &str) -> Result<(), sqlx::Error> {
    let mut tx = super::db::begin_write(db).await?;
    sqlx::query(
        "INSERT INTO contact_list_columns (user_id, workspace_id, columns) VALUES (?, ?, ?)
         ON CONFLICT (user_id, workspace_id) DO UPDATE SET columns = excluded.columns",
    )
    .bind(user)
    .bind(ws.id())
    .bind(columns)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}
