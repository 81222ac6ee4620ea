use sqlx::{SqliteConnection, SqlitePool};

use crate::model::access::WorkspaceAccess;

#[derive(sqlx::FromRow)]
pub struct Row {
    pub kind: String,
    pub settings: String,
    pub secrets: Vec<u8>,
}

pub async fn get(db: &SqlitePool, ws: &WorkspaceAccess, channel: &str) -> Result<Option<Row>, sqlx::Error> {
    sqlx::query_as("SELECT kind, settings, secrets FROM provider_settings WHERE workspace_id = ? AND channel = ?")
        .bind(ws.id())
        .bind(channel)
        .fetch_optional(db)
        .await
}

pub async fn put(
    conn: &mut SqliteConnection,
    ws: &WorkspaceAccess,
    channel: &str,
    row: &Row,
    now: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO provider_settings (workspace_id, channel, kind, settings, secrets, updated_at)
         VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (workspace_id, channel) DO UPDATE
            SET kind = excluded.kind, settings = excluded.settings, secrets = excluded.secrets,
                updated_at = excluded.updated_at",
    )
    .bind(ws.id())
    .bind(channel)
    .bind(&row.kind)
    .bind(&row.settings)
    .bind(&row.secrets)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn delete(conn: &mut SqliteConnection, ws: &WorkspaceAccess, channel: &str) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("DELETE FROM provider_settings WHERE workspace_id = ? AND channel = ?")
        .bind(ws.id())
        .bind(channel)
        .execute(conn)
        .await?;
    Ok(done.rows_affected() > 0)
}
