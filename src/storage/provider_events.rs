//! What the `provider-events` job reads and keeps: the workspaces with a provider it can poll,
//! where it left off in each (`provider_event_cursors`), and the texts still waiting for a
//! final status.

use sqlx::{SqliteConnection, SqlitePool};

use crate::model::access::WorkspaceAccess;

/// Workspaces with a Mailgun or Twilio provider (the two that can be polled).
pub async fn pollable_workspaces(db: &SqlitePool) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT DISTINCT workspace_id FROM provider_settings
          WHERE (channel = 'email' AND kind = 'mailgun') OR (channel = 'sms' AND kind = 'twilio')
          ORDER BY workspace_id",
    )
    .fetch_all(db)
    .await
}

/// Where polling `provider` left off in the workspace, and when it last polled.
pub async fn cursor(
    db: &SqlitePool,
    ws: &WorkspaceAccess,
    provider: &str,
) -> Result<Option<(String, String)>, sqlx::Error> {
    sqlx::query_as("SELECT position, updated_at FROM provider_event_cursors WHERE workspace_id = ? AND provider = ?")
        .bind(ws.id())
        .bind(provider)
        .fetch_optional(db)
        .await
}

pub async fn set_cursor(
    conn: &mut SqliteConnection,
    ws: &WorkspaceAccess,
    provider: &str,
    position: &str,
    now: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO provider_event_cursors (workspace_id, provider, position, updated_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (workspace_id, provider) DO UPDATE SET position = excluded.position, updated_at = excluded.updated_at",
    )
    .bind(ws.id())
    .bind(provider)
    .bind(position)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// Twilio ids of texts sent since `since` whose timeline entry has no final status yet, with
/// their outbox ids, oldest first.
pub async fn texts_awaiting_status(
    db: &SqlitePool,
    ws: &WorkspaceAccess,
    since: &str,
    limit: i64,
) -> Result<Vec<(String, String)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT o.provider_message_id, o.id FROM outbox o
           JOIN communication_logs c ON c.id = o.communication_id AND c.workspace_id = o.workspace_id
          WHERE o.workspace_id = ? AND o.channel = 'text' AND o.provider_message_id IS NOT NULL
            AND o.state IN ('sent', 'unknown') AND o.created_at >= ?
            AND COALESCE(c.status, '') NOT IN ('delivered', 'failed', 'bounced')
          ORDER BY o.created_at LIMIT ?",
    )
    .bind(ws.id())
    .bind(since)
    .bind(limit)
    .fetch_all(db)
    .await
}
