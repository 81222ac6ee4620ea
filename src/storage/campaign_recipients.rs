//! `campaign_recipients`: one row per contact, campaign and occurrence. A row is `pending`
//! until the fan-out queues its message (`queued`, in the same transaction as the outbox row)
//! or records why it was `skipped`; after that its status is its timeline entry's.
//! (`AssertSqlSafe` below joins constant SQL only; every value is bound.)

use sqlx::{SqliteConnection, SqlitePool};

use crate::model::access::WorkspaceAccess;

/// A recipient's status as people read it: the message's once queued (kept on the row by the
/// triggers of migration 0021).
const STATUS: &str = "CASE r.state WHEN 'queued' THEN coalesce(r.message_status, 'queued') ELSE r.state END";

/// Up to `limit` recipients still to be queued, in a stable order.
pub async fn pending(
    db: &SqlitePool,
    ws: &WorkspaceAccess,
    campaign: &str,
    limit: i64,
) -> Result<Vec<(String, String)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT occurrence, contact_id FROM campaign_recipients
          WHERE campaign_id = ? AND workspace_id = ? AND state = 'pending'
          ORDER BY occurrence, contact_id LIMIT ?",
    )
    .bind(campaign)
    .bind(ws.id())
    .bind(limit)
    .fetch_all(db)
    .await
}

/// Takes a batch of pending recipients for this runner, in one statement: the ones it gets
/// back are its own (another runner, or a cancel, may have taken the rest meanwhile). They are
/// `queued` until `settle` says what became of each, in the same transaction.
pub async fn claim(
    conn: &mut SqliteConnection,
    ws: &WorkspaceAccess,
    campaign: &str,
    keys: &[(String, String)],
) -> Result<std::collections::HashSet<(String, String)>, sqlx::Error> {
    if keys.is_empty() {
        return Ok(Default::default());
    }
    let mut q = sqlx::QueryBuilder::new("UPDATE campaign_recipients SET state = 'queued' WHERE campaign_id = ");
    q.push_bind(campaign.to_string());
    q.push(" AND workspace_id = ");
    q.push_bind(ws.id().clone());
    q.push(" AND state = 'pending' AND (occurrence, contact_id) IN (VALUES ");
    let mut sep = q.separated(", ");
    for (occurrence, contact) in keys {
        sep.push("(");
        sep.push_bind_unseparated(occurrence.clone());
        sep.push_unseparated(", ");
        sep.push_bind_unseparated(contact.clone());
        sep.push_unseparated(")");
    }
    q.push(") RETURNING occurrence, contact_id");
    let rows: Vec<(String, String)> = q.build_query_as().fetch_all(conn).await?;
    Ok(rows.into_iter().collect())
}

/// What became of a claimed recipient: `queued` with its timeline entry, or `skipped` /
/// `cancelled` with the reason.
pub struct Settled<'a> {
    pub state: &'a str,
    pub reason: Option<&'a str>,
    pub detail: Option<&'a str>,
    pub address: Option<&'a str>,
    pub communication: Option<&'a str>,
}

pub async fn settle(
    conn: &mut SqliteConnection,
    ws: &WorkspaceAccess,
    campaign: &str,
    occurrence: &str,
    contact: &str,
    s: &Settled<'_>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE campaign_recipients SET state = ?, reason = ?, detail = ?, address = ?, communication_id = ?,
                message_status = CASE WHEN ? IS NULL THEN NULL ELSE 'queued' END
          WHERE campaign_id = ? AND workspace_id = ? AND occurrence = ? AND contact_id = ?",
    )
    .bind(s.state)
    .bind(s.reason)
    .bind(s.detail)
    .bind(s.address)
    .bind(s.communication)
    .bind(s.communication)
    .bind(campaign)
    .bind(ws.id())
    .bind(occurrence)
    .bind(contact)
    .execute(conn)
    .await?;
    Ok(())
}

/// Counts by status, and by reason for the skipped.
pub async fn stats(
    db: &SqlitePool,
    ws: &WorkspaceAccess,
    campaign: &str,
) -> Result<Vec<(String, Option<String>, i64)>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {STATUS} AS status, r.reason, count(*) FROM campaign_recipients r
          WHERE r.campaign_id = ? AND r.workspace_id = ?
          GROUP BY 1, 2"
    )))
    .bind(campaign)
    .bind(ws.id())
    .fetch_all(db)
    .await
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Row {
    pub occurrence: String,
    pub contact_id: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub address: Option<String>,
    pub status: String,
    pub reason: Option<String>,
    pub detail: Option<String>,
    pub communication_id: Option<String>,
    pub created_at: String,
}

/// One page of the per-recipient log, newest occurrence first (newest contacts first within it); `statuses` (empty: all) filters
/// by the status as people read it; `after` is the last row's `(occurrence, contact_id)`.
pub async fn page(
    db: &SqlitePool,
    ws: &WorkspaceAccess,
    campaign: &str,
    statuses: &[&str],
    after: Option<(&str, &str)>,
    limit: i64,
) -> Result<Vec<Row>, sqlx::Error> {
    let mut q = sqlx::QueryBuilder::new(format!(
        "SELECT r.occurrence, r.contact_id, c.first_name, c.last_name, r.address, {STATUS} AS status, r.reason,
                r.detail, r.communication_id, r.created_at
           FROM campaign_recipients r
           LEFT JOIN contacts c ON c.id = r.contact_id AND c.workspace_id = r.workspace_id
          WHERE r.campaign_id = "
    ));
    q.push_bind(campaign.to_string());
    q.push(" AND r.workspace_id = ");
    q.push_bind(ws.id().clone());
    if !statuses.is_empty() {
        q.push(format!(" AND {STATUS} IN "));
        super::db::push_list(&mut q, statuses);
    }
    if let Some((occurrence, contact)) = after {
        q.push(" AND (r.occurrence, r.contact_id) < (");
        q.push_bind(occurrence.to_string());
        q.push(", ");
        q.push_bind(contact.to_string());
        q.push(")");
    }
    // The primary key walked backwards: a page costs its rows, not the campaign's size.
    q.push(" ORDER BY r.occurrence DESC, r.contact_id DESC LIMIT ");
    q.push_bind(limit);
    q.build_query_as().fetch_all(db).await
}

/// Drops what a cancelled campaign has not sent: recipients not yet queued, and queued ones
/// whose message still waits in the outbox (their timeline entries go with them, so nobody's
/// timeline says "queued" for a message that will never leave). Messages in flight finish.
pub async fn cancel(conn: &mut SqliteConnection, ws: &WorkspaceAccess, campaign: &str) -> Result<u64, sqlx::Error> {
    let dropped = sqlx::query(
        "UPDATE campaign_recipients SET state = 'cancelled'
          WHERE campaign_id = ?1 AND workspace_id = ?2
            AND (state = 'pending'
                 OR communication_id IN (SELECT communication_id FROM outbox
                                          WHERE campaign_id = ?1 AND workspace_id = ?2 AND state = 'pending'))",
    )
    .bind(campaign)
    .bind(ws.id())
    .execute(&mut *conn)
    .await?
    .rows_affected();
    sqlx::query(
        "DELETE FROM communication_logs WHERE workspace_id = ?2 AND id IN
            (SELECT communication_id FROM outbox WHERE campaign_id = ?1 AND workspace_id = ?2 AND state = 'pending')",
    )
    .bind(campaign)
    .bind(ws.id())
    .execute(&mut *conn)
    .await?;
    Ok(dropped)
}
