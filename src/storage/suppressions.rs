use sqlx::{SqliteConnection, SqlitePool};

use crate::model::access::WorkspaceAccess;
use crate::model::ids::SuppressionId;
use crate::model::page::PageSpec;

/// Adds the address unless it is there already, or widens a `marketing` entry to `all` (a
/// bounce after an unsubscribe); true when it was added or widened.
pub async fn insert(conn: &mut SqliteConnection, ws: &WorkspaceAccess, s: &Suppression) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "INSERT INTO suppressions (id, workspace_id, channel, address, reason, scope, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (workspace_id, channel, address) DO UPDATE
            SET scope = excluded.scope, reason = excluded.reason, created_at = excluded.created_at
          WHERE suppressions.scope = 'marketing' AND excluded.scope = 'all'",
    )
    .bind(&s.id)
    .bind(ws.id())
    .bind(s.channel.as_str())
    .bind(&s.address)
    .bind(&s.reason)
    .bind(s.scope.as_str())
    .bind(&s.created_at)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() > 0)
}

pub async fn find(
    conn: &mut SqliteConnection,
    ws: &WorkspaceAccess,
    channel: &str,
    address: &str,
) -> Result<Option<Suppression>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, channel, address, reason, scope, created_at FROM suppressions
          WHERE workspace_id = ? AND channel = ? AND address = ?",
    )
    .bind(ws.id())
    .bind(channel)
    .bind(address)
    .fetch_optional(conn)
    .await
}

pub async fn page(db: &SqlitePool, ws: &WorkspaceAccess, spec: &PageSpec) -> Result<Vec<Suppression>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, channel, address, reason, scope, created_at FROM suppressions
          WHERE workspace_id = ? AND (? IS NULL OR id < ?) ORDER BY id DESC LIMIT ?",
    )
    .bind(ws.id())
    .bind(&spec.after)
    .bind(&spec.after)
    .bind(spec.fetch())
    .fetch_all(db)
    .await
}

pub async fn delete(
    conn: &mut SqliteConnection,
    ws: &WorkspaceAccess,
    id: &SuppressionId,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("DELETE FROM suppressions WHERE id = ? AND workspace_id = ?")
        .bind(id)
        .bind(ws.id())
        .execute(conn)
        .await?;
    Ok(done.rows_affected() > 0)
}

/// Lifts a STOP (START, UNSTOP, YES): only suppressions the number itself asked for.
pub async fn delete_stop(conn: &mut SqliteConnection, ws: &WorkspaceAccess, number: &str) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "DELETE FROM suppressions WHERE workspace_id = ? AND channel = 'text' AND address = ? AND reason = 'stop'",
    )
    .bind(ws.id())
    .bind(number)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// Which of `addresses` are suppressed on `channel` in the workspace.
pub async fn among(
    db: &SqlitePool,
    ws: &WorkspaceAccess,
    channel: &str,
    addresses: &[String],
) -> Result<std::collections::HashSet<String>, sqlx::Error> {
    if addresses.is_empty() {
        return Ok(Default::default());
    }
    let mut q = sqlx::QueryBuilder::new("SELECT address FROM suppressions WHERE workspace_id = ");
    q.push_bind(ws.id().clone());
    q.push(" AND channel = ");
    q.push_bind(channel.to_string());
    q.push(" AND address IN ");
    super::db::push_list(&mut q, addresses);
    let found: Vec<String> = q.build_query_scalar().fetch_all(db).await?;
    Ok(found.into_iter().collect())
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Suppression {
    pub id: String,
    #[sqlx(try_from = "String")]
    pub channel: crate::model::channel::Channel,
    pub address: String,
    pub reason: String,
    /// `marketing`: campaigns skip the address, one-to-one messages go; `all`: nothing goes.
    #[sqlx(try_from = "String")]
    pub scope: crate::model::suppression::SuppressionScope,
    pub created_at: String,
}
