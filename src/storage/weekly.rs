//! The weekly summary: the week's numbers per workspace, and the claim that sends it once.

use sqlx::SqlitePool;

use crate::domain::ids::UserId;
use crate::domain::workspace::WorkspaceAccess;

/// `(contacts, new contacts, messages sent, messages received, failed)` made since the
/// UUIDv7 `since_id` (ids are ordered by creation time, so each count is one index range).
pub async fn numbers(
    db: &SqlitePool,
    ws: &WorkspaceAccess,
    since_id: &str,
) -> Result<(i64, i64, i64, i64, i64), sqlx::Error> {
    sqlx::query_as(
        "SELECT (SELECT COUNT(*) FROM contacts WHERE workspace_id = ?1),
                (SELECT COUNT(*) FROM contacts WHERE workspace_id = ?1 AND id >= ?2),
                COALESCE(SUM(status IN ('sent', 'delivered', 'opened', 'clicked')), 0),
                COALESCE(SUM(status = 'received'), 0),
                COALESCE(SUM(status IN ('failed', 'bounced', 'unknown')), 0)
           FROM communication_logs WHERE workspace_id = ?1 AND id >= ?2 AND status IS NOT NULL",
    )
    .bind(ws.id())
    .bind(since_id)
    .fetch_one(db)
    .await
}

/// Claims the user's summary for `week`: false when it was claimed before (sent, or being sent).
pub async fn claim(db: &SqlitePool, user: &UserId, week: &str, now: &str) -> Result<bool, sqlx::Error> {
    let mut tx = super::db::begin_write(db).await?;
    let done = sqlx::query(
        "INSERT INTO weekly_summaries (user_id, week, state, at) VALUES (?, ?, 'sending', ?)
         ON CONFLICT (user_id, week) DO NOTHING",
    )
    .bind(user)
    .bind(week)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(done.rows_affected() == 1)
}

/// Records how the send ended (`sent`, `failed`, `dashboard_only`).
pub async fn finish(
    db: &SqlitePool,
    user: &UserId,
    week: &str,
    state: &str,
    detail: Option<&str>,
) -> Result<(), sqlx::Error> {
    let mut tx = super::db::begin_write(db).await?;
    sqlx::query("UPDATE weekly_summaries SET state = ?, detail = ? WHERE user_id = ? AND week = ?")
        .bind(state)
        .bind(detail)
        .bind(user)
        .bind(week)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

/// Gives the claim back (nothing went out: the next run tries again).
pub async fn release(db: &SqlitePool, user: &UserId, week: &str) -> Result<(), sqlx::Error> {
    let mut tx = super::db::begin_write(db).await?;
    sqlx::query("DELETE FROM weekly_summaries WHERE user_id = ? AND week = ? AND state = 'sending'")
        .bind(user)
        .bind(week)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

/// How last week's summary went for the user, if it was made: `(week, state, detail)`.
pub async fn latest(db: &SqlitePool, user: &UserId) -> Result<Option<(String, String, Option<String>)>, sqlx::Error> {
    sqlx::query_as("SELECT week, state, detail FROM weekly_summaries WHERE user_id = ? ORDER BY week DESC LIMIT 1")
        .bind(user)
        .fetch_optional(db)
        .await
}
