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

/// Reserves `estimate` tokens on `day` for a call about to be made, when the day's spending
/// (with the other calls' reservations) is still under `limit`: in one write transaction, so
/// calls made at once see each other's reservations. False when the budget is spent.
pub async fn reserve(
    db: &SqlitePool,
    ws: &WorkspaceAccess,
    day: &str,
    estimate: u64,
    limit: u64,
) -> Result<bool, sqlx::Error> {
    let mut tx = super::db::begin_write(db).await?;
    let spent: Option<i64> = sqlx::query_scalar("SELECT tokens FROM ai_usage WHERE workspace_id = ? AND day = ?")
        .bind(ws.id())
        .bind(day)
        .fetch_optional(&mut *tx)
        .await?;
    if spent.unwrap_or(0).max(0) as u64 >= limit {
        return Ok(false);
    }
    sqlx::query(
        "INSERT INTO ai_usage (workspace_id, day, tokens, calls) VALUES (?, ?, ?, 1)
         ON CONFLICT (workspace_id, day) DO UPDATE SET tokens = tokens + excluded.tokens, calls = calls + 1",
    )
    .bind(ws.id())
    .bind(day)
    .bind(estimate as i64)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(true)
}

/// Replaces a call's reservation with what it spent (0 when it failed before an answer).
pub async fn settle(
    db: &SqlitePool,
    ws: &WorkspaceAccess,
    day: &str,
    reserved: u64,
    spent: u64,
) -> Result<(), sqlx::Error> {
    let mut tx = super::db::begin_write(db).await?;
    sqlx::query("UPDATE ai_usage SET tokens = max(0, tokens - ? + ?) WHERE workspace_id = ? AND day = ?")
        .bind(reserved as i64)
        .bind(spent as i64)
        .bind(ws.id())
        .bind(day)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}
