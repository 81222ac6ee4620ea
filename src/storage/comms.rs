use sqlx::{SqliteConnection, SqlitePool};

use crate::model::access::WorkspaceAccess;
use crate::model::ids::{CommunicationId, ContactId, UserId};

#[derive(sqlx::FromRow)]
struct Row {
    id: String,
    contact_id: String,
    #[sqlx(rename = "type")]
    kind: String,
    content: String,
    status: Option<String>,
    timestamp: String,
    pinned: bool,
    author: Option<String>,
}

impl From<Row> for Communication {
    fn from(r: Row) -> Self {
        Communication {
            id: r.id,
            contact_id: r.contact_id,
            kind: r.kind,
            content: serde_json::from_str(&r.content).unwrap_or(serde_json::Value::Null),
            status: r.status,
            timestamp: r.timestamp,
            pinned: r.pinned,
            author: r.author,
        }
    }
}

pub async fn insert(
    conn: &mut SqliteConnection,
    ws: &WorkspaceAccess,
    user: Option<&UserId>,
    c: &Communication,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO communication_logs (id, workspace_id, contact_id, type, content, status, pinned, user_id, timestamp)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(&c.id)
    .bind(ws.id())
    .bind(&c.contact_id)
    .bind(&c.kind)
    .bind(c.content.to_string())
    .bind(&c.status)
    .bind(c.pinned)
    .bind(user)
    .bind(&c.timestamp)
    .execute(conn)
    .await?;
    Ok(())
}

/// A note's or call's content, by id, within its contact and workspace.
pub async fn written_content(
    conn: &mut SqliteConnection,
    ws: &WorkspaceAccess,
    contact: &ContactId,
    id: &CommunicationId,
) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT content FROM communication_logs
          WHERE id = ? AND contact_id = ? AND workspace_id = ? AND type IN ('note', 'call')",
    )
    .bind(id)
    .bind(contact)
    .bind(ws.id())
    .fetch_optional(conn)
    .await
}

pub async fn set_content(
    conn: &mut SqliteConnection,
    ws: &WorkspaceAccess,
    id: &CommunicationId,
    content: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE communication_logs SET content = ? WHERE id = ? AND workspace_id = ?")
        .bind(content)
        .bind(id)
        .bind(ws.id())
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn delete(
    conn: &mut SqliteConnection,
    ws: &WorkspaceAccess,
    id: &CommunicationId,
) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM communication_logs WHERE id = ? AND workspace_id = ?")
        .bind(id)
        .bind(ws.id())
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn set_pinned(
    conn: &mut SqliteConnection,
    ws: &WorkspaceAccess,
    contact: &ContactId,
    id: &CommunicationId,
    pinned: bool,
) -> Result<bool, sqlx::Error> {
    let done =
        sqlx::query("UPDATE communication_logs SET pinned = ? WHERE id = ? AND contact_id = ? AND workspace_id = ?")
            .bind(pinned)
            .bind(id)
            .bind(contact)
            .bind(ws.id())
            .execute(conn)
            .await?;
    Ok(done.rows_affected() > 0)
}

/// Pinned entries first, then the rest, each newest first.
pub async fn page(
    db: &SqlitePool,
    ws: &WorkspaceAccess,
    contact: &ContactId,
    after: Option<&TimelineCursor>,
    fetch: i64,
) -> Result<Vec<Communication>, sqlx::Error> {
    let base = "SELECT g.id, g.contact_id, g.type, g.content, g.status, g.timestamp, g.pinned, u.name AS author
                  FROM communication_logs g LEFT JOIN users u ON u.id = g.user_id
                 WHERE g.contact_id = ? AND g.workspace_id = ?";
    // After a pinned entry come the older pinned ones, then every unpinned one; after an
    // unpinned entry, only older unpinned ones.
    let (after_cursor, cursor) = match after {
        None => ("", None),
        Some(c) if c.pinned => (" AND ((g.pinned = 1 AND g.id < ?) OR g.pinned = 0)", Some(&c.id)),
        Some(c) => (" AND g.pinned = 0 AND g.id < ?", Some(&c.id)),
    };
    let mut q = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{base}{after_cursor} ORDER BY g.pinned DESC, g.id DESC LIMIT ?"
    )))
    .bind(contact)
    .bind(ws.id());
    if let Some(id) = cursor {
        q = q.bind(id);
    }
    let rows: Vec<Row> = q.bind(fetch).fetch_all(db).await?;
    Ok(rows.into_iter().map(Into::into).collect())
}

/// Moves a merged contact's history to the survivor.
pub async fn reassign(
    conn: &mut SqliteConnection,
    ws: &WorkspaceAccess,
    from: &ContactId,
    to: &ContactId,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE communication_logs SET contact_id = ? WHERE contact_id = ? AND workspace_id = ?")
        .bind(to)
        .bind(from)
        .bind(ws.id())
        .execute(conn)
        .await?;
    Ok(())
}

/// Moves a message's status to `status` if it is now one of `from` (the domain's rule,
/// `MessageStatus::reachable_from`); true when it changed. A status nothing may reach (`from`
/// empty) changes nothing.
pub async fn advance_status(
    conn: &mut SqliteConnection,
    ws: &WorkspaceAccess,
    id: &str,
    status: &str,
    from: &[&str],
) -> Result<bool, sqlx::Error> {
    if from.is_empty() {
        return Ok(false);
    }
    let mut q = sqlx::QueryBuilder::new("UPDATE communication_logs SET status = ");
    q.push_bind(status);
    q.push(" WHERE id = ").push_bind(id);
    q.push(" AND workspace_id = ").push_bind(ws.id());
    q.push(" AND coalesce(status, 'queued') IN ");
    super::db::push_list(&mut q, from);
    let done = q.build().execute(conn).await?;
    Ok(done.rows_affected() > 0)
}

/// Sets a message's status whatever it was ("send again" puts it back to `queued`).
pub async fn set_status(
    conn: &mut SqliteConnection,
    ws: &WorkspaceAccess,
    id: &str,
    status: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE communication_logs SET status = ? WHERE id = ? AND workspace_id = ?")
        .bind(status)
        .bind(id)
        .bind(ws.id())
        .execute(conn)
        .await?;
    Ok(())
}

/// Sets one key of an entry's content (`provider_message_id`, `error`); `None` removes it.
pub async fn set_content_key(
    conn: &mut SqliteConnection,
    ws: &WorkspaceAccess,
    id: &str,
    key: &str,
    value: Option<&str>,
) -> Result<(), sqlx::Error> {
    let path = format!("$.{key}");
    let sql = if value.is_some() {
        "UPDATE communication_logs SET content = json_set(content, ?, ?) WHERE id = ? AND workspace_id = ?"
    } else {
        "UPDATE communication_logs SET content = json_remove(content, ?) WHERE id = ? AND workspace_id = ?"
    };
    let mut q = sqlx::query(sql).bind(path);
    if let Some(v) = value {
        q = q.bind(v);
    }
    q.bind(id).bind(ws.id()).execute(conn).await?;
    Ok(())
}

/// A message entry of a contact: its kind and status (for "send again").
pub async fn message_state(
    conn: &mut SqliteConnection,
    ws: &WorkspaceAccess,
    contact: &ContactId,
    id: &CommunicationId,
) -> Result<Option<(String, Option<String>)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT type, status FROM communication_logs
          WHERE id = ? AND contact_id = ? AND workspace_id = ? AND type IN ('email', 'text')",
    )
    .bind(id)
    .bind(contact)
    .bind(ws.id())
    .fetch_optional(conn)
    .await
}

/// Messages that failed, bounced or may not have been sent, newest first.
pub async fn trouble(db: &SqlitePool, ws: &WorkspaceAccess, limit: i64) -> Result<Vec<Trouble>, sqlx::Error> {
    sqlx::query_as(
        "SELECT g.id, g.contact_id, trim(coalesce(c.first_name, '') || ' ' || coalesce(c.last_name, '')) AS name,
                c.primary_email AS email, g.type AS kind, g.status,
                coalesce(json_extract(g.content, '$.subject'), json_extract(g.content, '$.body'), '') AS what,
                json_extract(g.content, '$.error') AS error, g.timestamp
           FROM communication_logs g JOIN contacts c ON c.id = g.contact_id
          WHERE g.workspace_id = ? AND g.status IN ('failed', 'unknown', 'bounced')
          ORDER BY g.id DESC LIMIT ?",
    )
    .bind(ws.id())
    .bind(limit)
    .fetch_all(db)
    .await
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Trouble {
    pub id: String,
    pub contact_id: String,
    pub name: String,
    pub email: Option<String>,
    pub kind: String,
    pub status: String,
    pub what: String,
    pub error: Option<String>,
    pub timestamp: String,
}

#[derive(Debug, Clone)]
pub struct Communication {
    pub id: String,
    pub contact_id: String,
    pub kind: String,
    pub content: serde_json::Value,
    pub status: Option<String>,
    pub timestamp: String,
    pub pinned: bool,
    /// Who wrote it (their name); `null` for pi-crm itself or a removed account.
    pub author: Option<String>,
}

/// Where a page of the timeline starts: after an entry that was pinned or not.
pub struct TimelineCursor {
    pub pinned: bool,
    pub id: String,
}
