use sqlx::SqliteConnection;

use crate::model::access::WorkspaceAccess;

/// Records a webhook delivery; false when it was applied before (a provider's retry).
pub async fn first_time(
    conn: &mut SqliteConnection,
    ws: &WorkspaceAccess,
    provider: &str,
    key: &str,
    now: &str,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "INSERT INTO webhook_events (workspace_id, provider, event_key, received_at) VALUES (?, ?, ?, ?)
         ON CONFLICT DO NOTHING",
    )
    .bind(ws.id())
    .bind(provider)
    .bind(key)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// Forgets deliveries older than `before`: providers stop retrying within a day or two.
pub async fn forget_before(conn: &mut SqliteConnection, before: &str) -> Result<u64, sqlx::Error> {
    let done = sqlx::query("DELETE FROM webhook_events WHERE received_at < ?")
        .bind(before)
        .execute(conn)
        .await?;
    Ok(done.rows_affected())
}
