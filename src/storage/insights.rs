//! Insights (SPEC §9.2): the facts the daily job reads, and the rows it keeps per person.

use sqlx::SqlitePool;

use crate::model::access::WorkspaceAccess;
use crate::model::ids::{InsightId, UserId};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Row {
    pub id: String,
    pub workspace_id: String,
    pub workspace_name: String,
    #[sqlx(rename = "type")]
    pub kind: String,
    pub content: String,
    pub confidence: f64,
    pub created_at: String,
    pub dismissed_at: Option<String>,
}

pub struct New<'a> {
    pub kind: &'a str,
    pub fact_key: &'a str,
    pub content: &'a str,
    pub confidence: f64,
}

/// Adds the fact for the user unless they already have it (dismissed or not): true when new.
pub async fn add(
    db: &SqlitePool,
    user: &UserId,
    ws: &WorkspaceAccess,
    fact: &New<'_>,
    now: &str,
) -> Result<bool, sqlx::Error> {
    let mut tx = super::db::begin_write(db).await?;
    let done = sqlx::query(
        "INSERT INTO ai_insights (id, user_id, workspace_id, type, fact_key, content, confidence, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (user_id, workspace_id, fact_key) DO NOTHING",
    )
    .bind(InsightId::generate())
    .bind(user)
    .bind(ws.id())
    .bind(fact.kind)
    .bind(fact.fact_key)
    .bind(fact.content)
    .bind(fact.confidence)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(done.rows_affected() == 1)
}

/// The user's insights, newest first; only open ones unless `dismissed`; one workspace or all.
pub async fn list(
    db: &SqlitePool,
    user: &UserId,
    ws: Option<&WorkspaceAccess>,
    dismissed: bool,
    limit: i64,
) -> Result<Vec<Row>, sqlx::Error> {
    sqlx::query_as(
        "SELECT i.id, i.workspace_id, w.name AS workspace_name, i.type, i.content, i.confidence, i.created_at,
                i.dismissed_at
           FROM ai_insights i JOIN workspaces w ON w.id = i.workspace_id
          WHERE i.user_id = ? AND (? IS NULL OR i.workspace_id = ?) AND (? OR i.dismissed_at IS NULL)
            AND (i.workspace_id IN (SELECT id FROM workspaces WHERE user_id = i.user_id)
                 OR i.workspace_id IN (SELECT workspace_id FROM workspace_members WHERE user_id = i.user_id))
          ORDER BY i.confidence DESC, i.created_at DESC, i.id DESC LIMIT ?",
    )
    .bind(user)
    .bind(ws.map(WorkspaceAccess::id))
    .bind(ws.map(WorkspaceAccess::id))
    .bind(dismissed)
    .bind(limit)
    .fetch_all(db)
    .await
}

/// Dismisses one of the user's own insights (in workspace `only`, when given): false when
/// they have no such insight.
pub async fn dismiss(
    db: &SqlitePool,
    user: &UserId,
    only: Option<&WorkspaceAccess>,
    id: &InsightId,
    now: &str,
) -> Result<bool, sqlx::Error> {
    let mut tx = super::db::begin_write(db).await?;
    let done = sqlx::query(
        "UPDATE ai_insights SET dismissed_at = COALESCE(dismissed_at, ?)
          WHERE id = ? AND user_id = ? AND (? IS NULL OR workspace_id = ?)",
    )
    .bind(now)
    .bind(id)
    .bind(user)
    .bind(only.map(WorkspaceAccess::id))
    .bind(only.map(WorkspaceAccess::id))
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(done.rows_affected() == 1)
}

/// A date value of a contact: `(contact id, name, field name, stored date)`.
pub async fn date_values(
    db: &SqlitePool,
    ws: &WorkspaceAccess,
    fields: &[String],
) -> Result<Vec<(String, String, String, String)>, sqlx::Error> {
    let mut all = Vec::new();
    for field in fields {
        let rows: Vec<(String, String, String, String)> = sqlx::query_as(
            "SELECT c.id, TRIM(COALESCE(c.first_name, '') || ' ' || COALESCE(c.last_name, '')), v.field_name, v.field_value
               FROM custom_fields v JOIN contacts c ON c.id = v.contact_id
              WHERE v.workspace_id = ? AND v.field_name = ?",
        )
        .bind(ws.id())
        .bind(field)
        .fetch_all(db)
        .await?;
        all.extend(rows);
    }
    Ok(all)
}

/// Contacts in a pipeline stage: `(id, name, stage, in stage since, last logged or created)`.
pub async fn in_stages(
    db: &SqlitePool,
    ws: &WorkspaceAccess,
) -> Result<Vec<(String, String, String, String, String)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT c.id, TRIM(COALESCE(c.first_name, '') || ' ' || COALESCE(c.last_name, '')), l.name, a.assigned_at,
                COALESCE((SELECT MAX(timestamp) FROM communication_logs WHERE contact_id = c.id AND type <> 'system'), c.created_on)
           FROM contact_list_assignments a
           JOIN contact_lists l ON l.id = a.list_id
           JOIN contacts c ON c.id = a.contact_id
          WHERE a.is_primary = 1 AND c.workspace_id = ?",
    )
    .bind(ws.id())
    .fetch_all(db)
    .await
}

/// Messages that failed, bounced or may not have gone since `since`: `(contact id, name)`.
pub async fn failed_since(
    db: &SqlitePool,
    ws: &WorkspaceAccess,
    since: &str,
) -> Result<Vec<(String, String)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT l.contact_id, TRIM(COALESCE(c.first_name, '') || ' ' || COALESCE(c.last_name, ''))
           FROM communication_logs l JOIN contacts c ON c.id = l.contact_id
          WHERE l.workspace_id = ? AND l.status IN ('failed', 'bounced', 'unknown') AND l.timestamp >= ?
          ORDER BY l.id",
    )
    .bind(ws.id())
    .bind(since)
    .fetch_all(db)
    .await
}

/// Per template since `since`: `(template id, name, sent, opened, replied)`. Opened counts
/// opens and clicks; replied counts messages whose contact wrote back within 7 days.
pub async fn template_results(
    db: &SqlitePool,
    ws: &WorkspaceAccess,
    since: &str,
) -> Result<Vec<(String, String, i64, i64, i64)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT t.id, t.name, COUNT(*),
                SUM(l.status IN ('opened', 'clicked')),
                SUM(EXISTS (SELECT 1 FROM communication_logs r WHERE r.contact_id = l.contact_id
                             AND r.status = 'received' AND r.timestamp > l.timestamp
                             AND r.timestamp <= strftime('%Y-%m-%dT%H:%M:%SZ', l.timestamp, '+7 days')))
           FROM communication_logs l JOIN templates t ON t.id = json_extract(l.content, '$.template_id')
          WHERE l.workspace_id = ? AND l.type IN ('email', 'text') AND l.timestamp >= ?
            AND l.status IN ('sent', 'delivered', 'opened', 'clicked')
          GROUP BY t.id",
    )
    .bind(ws.id())
    .bind(since)
    .fetch_all(db)
    .await
}
