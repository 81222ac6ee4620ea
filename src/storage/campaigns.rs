//! The `campaigns` table: a campaign's settings, its status, and the snapshot that is sent.

use sqlx::{SqliteConnection, SqlitePool};

use crate::model::access::WorkspaceAccess;
use crate::model::ids::CampaignId;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Row {
    pub id: String,
    pub workspace_id: String,
    pub name: String,
    pub channel: String,
    pub template_id: Option<String>,
    pub segment: String,
    pub schedule: String,
    pub status: String,
    pub snapshot: Option<String>,
    pub next_at: Option<String>,
    pub problem: Option<String>,
    pub created_by: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

const COLUMNS: &str = "id, workspace_id, name, channel, template_id, segment, schedule, status, snapshot, next_at,
                       problem, created_by, created_at, updated_at";

pub async fn insert(conn: &mut SqliteConnection, ws: &WorkspaceAccess, r: &Row) -> Result<(), sqlx::Error> {
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "INSERT INTO campaigns ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    )))
    .bind(&r.id)
    .bind(ws.id())
    .bind(&r.name)
    .bind(&r.channel)
    .bind(&r.template_id)
    .bind(&r.segment)
    .bind(&r.schedule)
    .bind(&r.status)
    .bind(&r.snapshot)
    .bind(&r.next_at)
    .bind(&r.problem)
    .bind(&r.created_by)
    .bind(&r.created_at)
    .bind(&r.updated_at)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn find<'e>(
    db: impl sqlx::SqliteExecutor<'e>,
    ws: &WorkspaceAccess,
    id: &CampaignId,
) -> Result<Option<Row>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM campaigns WHERE workspace_id = ? AND id = ?"
    )))
    .bind(ws.id())
    .bind(id)
    .fetch_optional(db)
    .await
}

/// The workspace's campaigns, newest first.
pub async fn list(db: &SqlitePool, ws: &WorkspaceAccess) -> Result<Vec<Row>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM campaigns WHERE workspace_id = ? ORDER BY id DESC"
    )))
    .bind(ws.id())
    .fetch_all(db)
    .await
}

/// Writes every changeable column; `updated_at` is now.
pub async fn update(conn: &mut SqliteConnection, ws: &WorkspaceAccess, r: &Row) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE campaigns SET name = ?, channel = ?, template_id = ?, segment = ?, schedule = ?, status = ?,
                snapshot = ?, next_at = ?, updated_at = ?
          WHERE workspace_id = ? AND id = ?",
    )
    .bind(&r.name)
    .bind(&r.channel)
    .bind(&r.template_id)
    .bind(&r.segment)
    .bind(&r.schedule)
    .bind(&r.status)
    .bind(&r.snapshot)
    .bind(&r.next_at)
    .bind(crate::clock::now_text())
    .bind(ws.id())
    .bind(&r.id)
    .execute(conn)
    .await?;
    Ok(())
}

/// Moves the campaign to `to` only from one of `from` (so two requests racing cannot both
/// move it); whether it moved.
pub async fn transition(
    conn: &mut SqliteConnection,
    ws: &WorkspaceAccess,
    id: &str,
    from: &[&str],
    to: &str,
) -> Result<bool, sqlx::Error> {
    let mut q = sqlx::QueryBuilder::new("UPDATE campaigns SET status = ");
    q.push_bind(to);
    q.push(", updated_at = ");
    q.push_bind(crate::clock::now_text());
    q.push(" WHERE workspace_id = ");
    q.push_bind(ws.id().clone());
    q.push(" AND id = ");
    q.push_bind(id.to_string());
    q.push(" AND status IN ");
    super::db::push_list(&mut q, from);
    Ok(q.build().execute(conn).await?.rows_affected() == 1)
}

pub async fn set_next_at(
    conn: &mut SqliteConnection,
    ws: &WorkspaceAccess,
    id: &str,
    next_at: Option<&str>,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE campaigns SET next_at = ? WHERE workspace_id = ? AND id = ?")
        .bind(next_at)
        .bind(ws.id())
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Records why the campaign cannot go on (or that it can again: `None`).
pub async fn set_problem(
    conn: &mut SqliteConnection,
    ws: &WorkspaceAccess,
    id: &str,
    problem: Option<&str>,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE campaigns SET problem = ? WHERE workspace_id = ? AND id = ?")
        .bind(problem)
        .bind(ws.id())
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn delete(conn: &mut SqliteConnection, ws: &WorkspaceAccess, id: &str) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM campaigns WHERE workspace_id = ? AND id = ?")
        .bind(ws.id())
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Campaigns the scheduler must look at, in every workspace: scheduled ones whose time came,
/// ones sending, and any with recipients resolved but not yet queued (a fan-out cut short).
pub async fn due(db: &SqlitePool, now: &str) -> Result<Vec<(String, String)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT workspace_id, id FROM campaigns
          WHERE (status IN ('scheduled', 'sending') AND next_at <= ?) OR status = 'sending'
             OR (status = 'scheduled' AND EXISTS (SELECT 1 FROM campaign_recipients r
                                                  WHERE r.campaign_id = campaigns.id AND r.state = 'pending'))
          ORDER BY id",
    )
    .bind(now)
    .fetch_all(db)
    .await
}

/// A one-off campaign whose every recipient is settled (nothing resolved but unqueued, nothing
/// waiting or in flight in the outbox) is `sent`; whether it just became so.
pub async fn finish_if_done(conn: &mut SqliteConnection, ws: &WorkspaceAccess, id: &str) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE campaigns SET status = 'sent', updated_at = ?1
          WHERE id = ?2 AND workspace_id = ?3 AND status = 'sending'
            AND NOT EXISTS (SELECT 1 FROM campaign_recipients WHERE campaign_id = ?2 AND state = 'pending')
            AND NOT EXISTS (SELECT 1 FROM outbox WHERE campaign_id = ?2 AND state IN ('pending', 'sending'))",
    )
    .bind(crate::clock::now_text())
    .bind(id)
    .bind(ws.id())
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}
