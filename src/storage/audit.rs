use sqlx::{QueryBuilder, Sqlite, SqliteConnection, SqlitePool};

use crate::model::ids::{UserId, WorkspaceId};
use crate::model::page::PageSpec;

pub async fn insert(conn: &mut SqliteConnection, e: &NewEntry<'_>) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO audit_logs (id, user_id, workspace_id, action, entity_type, entity_id, via, timestamp, details)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(&e.id)
    .bind(e.user_id)
    .bind(e.workspace_id)
    .bind(e.action)
    .bind(e.entity_type)
    .bind(e.entity_id)
    .bind(e.via)
    .bind(&e.timestamp)
    .bind(e.details)
    .execute(conn)
    .await?;
    Ok(())
}

pub struct Query {
    pub user_id: UserId,
    pub pinned: Option<WorkspaceId>,
    pub workspace: Option<String>,
    pub by_user: Option<String>,
    pub action: Option<String>,
    pub entity_type: Option<String>,
    pub entity_id: Option<String>,
    pub via: Option<String>,
    pub since: Option<String>,
    pub until: Option<String>,
}

/// Newest first. Every value is bound, never spliced into the SQL text.
pub async fn list(db: &SqlitePool, q: &Query, page: &PageSpec) -> Result<Vec<Entry>, sqlx::Error> {
    let mut sql: QueryBuilder<Sqlite> = QueryBuilder::new(
        "SELECT id, user_id, workspace_id, action, entity_type, entity_id, via, timestamp FROM audit_logs WHERE ",
    );
    match &q.pinned {
        Some(ws) => {
            sql.push("workspace_id = ").push_bind(ws.as_str().to_string());
            sql.push(" AND workspace_id IN (SELECT id FROM workspaces WHERE user_id = ")
                .push_bind(q.user_id.as_str().to_string())
                .push(")");
        }
        None => {
            sql.push("(user_id = ").push_bind(q.user_id.as_str().to_string());
            sql.push(" OR workspace_id IN (SELECT id FROM workspaces WHERE user_id = ")
                .push_bind(q.user_id.as_str().to_string())
                .push("))");
        }
    }
    let exact = [
        ("workspace_id", &q.workspace),
        ("user_id", &q.by_user),
        ("action", &q.action),
        ("entity_type", &q.entity_type),
        ("entity_id", &q.entity_id),
        ("via", &q.via),
    ];
    for (column, value) in exact {
        if let Some(v) = value {
            sql.push(format_args!(" AND {column} = ")).push_bind(v.clone());
        }
    }
    if let Some(since) = &q.since {
        sql.push(" AND timestamp >= ").push_bind(since.clone());
    }
    if let Some(until) = &q.until {
        sql.push(" AND timestamp <= ").push_bind(until.clone());
    }
    if let Some(after) = &page.after {
        sql.push(" AND id < ").push_bind(after.clone());
    }
    sql.push(" ORDER BY id DESC LIMIT ").push_bind(page.fetch());
    sql.build_query_as().fetch_all(db).await
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Entry {
    pub id: String,
    pub user_id: Option<String>,
    pub workspace_id: Option<String>,
    pub action: String,
    pub entity_type: String,
    pub entity_id: Option<String>,
    pub via: String,
    pub timestamp: String,
}

pub struct NewEntry<'a> {
    pub id: crate::model::ids::AuditId,
    pub user_id: Option<&'a str>,
    pub workspace_id: Option<&'a str>,
    pub action: &'a str,
    pub entity_type: &'a str,
    pub entity_id: Option<&'a str>,
    pub via: &'a str,
    pub timestamp: String,
    pub details: Option<&'a str>,
}
