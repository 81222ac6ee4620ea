//! Replies not yet seen: timeline entries a contact sent (`status = 'received'`) whose
//! `read_at` is unset, found through the partial index `communication_logs_unread`.

use std::collections::HashMap;

use sqlx::{SqliteConnection, SqlitePool};

use crate::model::access::WorkspaceAccess;

/// How many unread replies each of `contacts` has (those with none are left out).
pub async fn unread_among(
    db: &SqlitePool,
    ws: &WorkspaceAccess,
    contacts: &[String],
) -> Result<HashMap<String, i64>, sqlx::Error> {
    if contacts.is_empty() {
        return Ok(HashMap::new());
    }
    let mut q = sqlx::QueryBuilder::new(
        "SELECT contact_id, COUNT(*) FROM communication_logs
          WHERE status = 'received' AND read_at IS NULL AND workspace_id = ",
    );
    q.push_bind(ws.id().to_string());
    q.push(" AND contact_id IN ");
    super::db::push_list(&mut q, contacts);
    q.push(" GROUP BY contact_id");
    let rows: Vec<(String, i64)> = q.build_query_as().fetch_all(db).await?;
    Ok(rows.into_iter().collect())
}

/// The ids of a contact's unread replies.
pub async fn unread_of(db: &SqlitePool, ws: &WorkspaceAccess, contact: &str) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT id FROM communication_logs
          WHERE workspace_id = ? AND contact_id = ? AND status = 'received' AND read_at IS NULL",
    )
    .bind(ws.id())
    .bind(contact)
    .fetch_all(db)
    .await
}

/// Marks these replies of the contact read; how many were unread.
pub async fn mark_read(
    conn: &mut SqliteConnection,
    ws: &WorkspaceAccess,
    contact: &str,
    ids: &[String],
    now: &str,
) -> Result<u64, sqlx::Error> {
    if ids.is_empty() {
        return Ok(0);
    }
    let mut q = sqlx::QueryBuilder::new("UPDATE communication_logs SET read_at = ");
    q.push_bind(now.to_string());
    q.push(" WHERE status = 'received' AND read_at IS NULL AND workspace_id = ");
    q.push_bind(ws.id().to_string());
    q.push(" AND contact_id = ");
    q.push_bind(contact.to_string());
    q.push(" AND id IN ");
    super::db::push_list(&mut q, ids);
    Ok(q.build().execute(conn).await?.rows_affected())
}

/// The workspace's unread replies, newest first: `(entry id, contact id, name, type, content
/// JSON, timestamp)`.
pub async fn unread(
    db: &SqlitePool,
    ws: &WorkspaceAccess,
    limit: i64,
) -> Result<Vec<(String, String, String, String, String, String)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT l.id, c.id, TRIM(COALESCE(c.first_name, '') || ' ' || COALESCE(c.last_name, '')), l.type, l.content, l.timestamp
           FROM communication_logs l JOIN contacts c ON c.id = l.contact_id
          WHERE l.workspace_id = ? AND l.status = 'received' AND l.read_at IS NULL
          ORDER BY l.timestamp DESC LIMIT ?",
    )
    .bind(ws.id())
    .bind(limit)
    .fetch_all(db)
    .await
}
