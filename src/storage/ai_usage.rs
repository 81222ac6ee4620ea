//! Tokens each workspace spent on AI, per day (the day in the workspace's time zone).

use sqlx::SqlitePool;

use crate::model::access::WorkspaceAccess;

/// Tokens spent on `day`.
pub async fn spent(db: &SqlitePool, ws: &WorkspaceAccess, day: &str) -> Result<u64, sqlx::Error> {
    let n: Option<i64> = sqlx::query_scalar("SELECT tokens FROM ai_usage WHERE workspace_id = ? AND day = ?")
        .bind(ws.id())
        .bind(day)
        .fetch_optional(db)
        .await?;
    Ok(n.unwrap_or(0).max(0) as u64)
}

/// Adds one call's tokens to `day`.
pub async fn add(db: &SqlitePool, ws: &WorkspaceAccess, day: &str, tokens: u64) -> Result<(), sqlx::Error> {
    let mut tx = super::db::begin_write(db).await?;
    sqlx::query(
        "INSERT INTO ai_usage (workspace_id, day, tokens, calls) VALUES (?, ?, ?, 1)
         ON CONFLICT (workspace_id, day) DO UPDATE SET tokens = tokens + excluded.tokens, calls = calls + 1",
    )
    .bind(ws.id())
    .bind(day)
    .bind(tokens as i64)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}
