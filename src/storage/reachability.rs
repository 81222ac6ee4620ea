//! `reachability_checks`: the last answer of the reachability check (one row).

use sqlx::{SqliteConnection, SqlitePool};

use crate::model::access::WorkspaceAccess;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Row {
    pub public_url: Option<String>,
    pub reachable: bool,
    pub https: bool,
    pub checked_at: String,
    pub detail: String,
}

pub async fn last(db: &SqlitePool) -> Result<Option<Row>, sqlx::Error> {
    sqlx::query_as("SELECT public_url, reachable, https, checked_at, detail FROM reachability_checks WHERE id = 1")
        .fetch_optional(db)
        .await
}

pub async fn save(conn: &mut SqliteConnection, row: &Row) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO reachability_checks (id, public_url, reachable, https, checked_at, detail)
         VALUES (1, ?, ?, ?, ?, ?)
         ON CONFLICT (id) DO UPDATE SET public_url = excluded.public_url, reachable = excluded.reachable,
                https = excluded.https, checked_at = excluded.checked_at, detail = excluded.detail",
    )
    .bind(&row.public_url)
    .bind(row.reachable)
    .bind(row.https)
    .bind(&row.checked_at)
    .bind(&row.detail)
    .execute(conn)
    .await?;
    Ok(())
}

/// True when any of `workspaces` depends on outsiders reaching pi-crm: it has a campaign,
/// or a reviewer set for approvals.
pub async fn outsiders_needed(db: &SqlitePool, workspaces: &[WorkspaceAccess]) -> Result<bool, sqlx::Error> {
    let ids: Vec<&str> = workspaces.iter().map(|w| w.id().as_str()).collect();
    let ids = serde_json::to_string(&ids).unwrap_or_else(|_| "[]".into());
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM campaigns WHERE workspace_id IN (SELECT value FROM json_each(?1)))
             OR EXISTS (SELECT 1 FROM workspace_campaign_settings
                         WHERE reviewer_email IS NOT NULL AND workspace_id IN (SELECT value FROM json_each(?1)))",
    )
    .bind(ids)
    .fetch_one(db)
    .await
}
