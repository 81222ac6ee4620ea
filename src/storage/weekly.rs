//! The weekly summary: the week's numbers per workspace, and the record that makes it once.

use sqlx::{SqliteConnection, SqlitePool};

use crate::model::access::WorkspaceAccess;
use crate::model::ids::UserId;

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

/// Whether the user's summary for `week` was made already (sent, queued, or dashboard only).
pub async fn made(db: &SqlitePool, user: &UserId, week: &str) -> Result<bool, sqlx::Error> {
    let found: Option<i64> = sqlx::query_scalar("SELECT 1 FROM weekly_summaries WHERE user_id = ? AND week = ?")
        .bind(user)
        .bind(week)
        .fetch_optional(db)
        .await?;
    Ok(found.is_some())
}

/// Records the user's summary for `week` (in the caller's transaction): `sending` with its
/// outbox row, or `dashboard_only`. False when it was recorded before: it is made only once.
pub async fn record(
    conn: &mut SqliteConnection,
    user: &UserId,
    week: &str,
    state: &str,
    outbox_id: Option<&str>,
    now: &str,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "INSERT INTO weekly_summaries (user_id, week, state, at, outbox_id) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (user_id, week) DO NOTHING",
    )
    .bind(user)
    .bind(week)
    .bind(state)
    .bind(now)
    .bind(outbox_id)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// How the summary's outbox row ended (`sent`, `failed`).
pub async fn settle(
    conn: &mut SqliteConnection,
    outbox_id: &str,
    state: &str,
    detail: Option<&str>,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE weekly_summaries SET state = ?, detail = ? WHERE outbox_id = ?")
        .bind(state)
        .bind(detail)
        .bind(outbox_id)
        .execute(conn)
        .await?;
    Ok(())
}

/// How last week's summary went for the user, if it was made: `(week, state, detail)`.
pub async fn latest(db: &SqlitePool, user: &UserId) -> Result<Option<(String, String, Option<String>)>, sqlx::Error> {
    sqlx::query_as("SELECT week, state, detail FROM weekly_summaries WHERE user_id = ? ORDER BY week DESC LIMIT 1")
        .bind(user)
        .fetch_optional(db)
        .await
}
