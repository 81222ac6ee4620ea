//! `workspace_campaign_settings`: one row per workspace whose owner changed a default.

use sqlx::{SqliteConnection, SqlitePool};

use crate::model::access::WorkspaceAccess;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Row {
    pub approval_required: bool,
    pub reviewer_email: Option<String>,
    pub reviewer_name: Option<String>,
    pub quiet_start: String,
    pub quiet_end: String,
    pub daily_text_limit: i64,
}

pub async fn find(db: &SqlitePool, ws: &WorkspaceAccess) -> Result<Option<Row>, sqlx::Error> {
    sqlx::query_as(
        "SELECT approval_required, reviewer_email, reviewer_name, quiet_start, quiet_end, daily_text_limit
           FROM workspace_campaign_settings WHERE workspace_id = ?",
    )
    .bind(ws.id())
    .fetch_optional(db)
    .await
}

pub async fn save(conn: &mut SqliteConnection, ws: &WorkspaceAccess, row: &Row) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO workspace_campaign_settings
                (workspace_id, approval_required, reviewer_email, reviewer_name, quiet_start, quiet_end, daily_text_limit)
         VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (workspace_id) DO UPDATE SET approval_required = excluded.approval_required,
                reviewer_email = excluded.reviewer_email, reviewer_name = excluded.reviewer_name,
                quiet_start = excluded.quiet_start, quiet_end = excluded.quiet_end,
                daily_text_limit = excluded.daily_text_limit",
    )
    .bind(ws.id())
    .bind(row.approval_required)
    .bind(&row.reviewer_email)
    .bind(&row.reviewer_name)
    .bind(&row.quiet_start)
    .bind(&row.quiet_end)
    .bind(row.daily_text_limit)
    .execute(conn)
    .await?;
    Ok(())
}
