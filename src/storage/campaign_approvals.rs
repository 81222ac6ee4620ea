//! `campaign_approvals`: every submission of a campaign for review, and its one decision.
//! The review link's token is looked up by its SHA-256 (the reviewer has no account: the
//! token is their authority, so this lookup is not scoped by a workspace access).

use sqlx::{SqliteConnection, SqlitePool};

use crate::model::access::WorkspaceAccess;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Row {
    pub id: String,
    pub campaign_id: String,
    pub workspace_id: String,
    pub snapshot: String,
    pub status: String,
    pub reviewer_email: String,
    pub reviewer_name: Option<String>,
    pub submitted_by: Option<String>,
    pub created_at: String,
    pub expires_at: String,
    pub decided_by: Option<String>,
    pub decided_at: Option<String>,
    pub notes: Option<String>,
    pub recorded_by: Option<String>,
    /// The name of the person who recorded the decision, when one did.
    pub recorded_by_name: Option<String>,
    pub seen_at: Option<String>,
    pub campaign_name: Option<String>,
}

const SELECT: &str = "SELECT a.id, a.campaign_id, a.workspace_id, a.snapshot, a.status, a.reviewer_email,
        a.reviewer_name, a.submitted_by, a.created_at, a.expires_at, a.decided_by, a.decided_at, a.notes,
        a.recorded_by, u.name AS recorded_by_name, a.seen_at, c.name AS campaign_name
   FROM campaign_approvals a LEFT JOIN users u ON u.id = a.recorded_by
   LEFT JOIN campaigns c ON c.id = a.campaign_id";

pub struct NewApproval<'a> {
    pub id: &'a str,
    pub campaign_id: &'a str,
    pub token_hash: &'a str,
    pub snapshot: &'a str,
    pub reviewer_email: &'a str,
    pub reviewer_name: Option<&'a str>,
    pub submitted_by: &'a str,
    pub now: &'a str,
    pub expires_at: &'a str,
}

pub async fn insert(conn: &mut SqliteConnection, ws: &WorkspaceAccess, a: &NewApproval<'_>) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO campaign_approvals (id, campaign_id, workspace_id, token_hash, snapshot, status, reviewer_email,
                                         reviewer_name, submitted_by, created_at, expires_at)
         VALUES (?, ?, ?, ?, ?, 'pending', ?, ?, ?, ?, ?)",
    )
    .bind(a.id)
    .bind(a.campaign_id)
    .bind(ws.id())
    .bind(a.token_hash)
    .bind(a.snapshot)
    .bind(a.reviewer_email)
    .bind(a.reviewer_name)
    .bind(a.submitted_by)
    .bind(a.now)
    .bind(a.expires_at)
    .execute(conn)
    .await?;
    Ok(())
}

/// The campaign's latest submission.
pub async fn latest<'e>(
    db: impl sqlx::SqliteExecutor<'e>,
    ws: &WorkspaceAccess,
    campaign: &str,
) -> Result<Option<Row>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{SELECT} WHERE a.workspace_id = ? AND a.campaign_id = ? ORDER BY a.id DESC LIMIT 1"
    )))
    .bind(ws.id())
    .bind(campaign)
    .fetch_optional(db)
    .await
}

/// The submission a review link names.
pub async fn by_token_hash(db: &SqlitePool, hash: &str) -> Result<Option<Row>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!("{SELECT} WHERE a.token_hash = ?")))
        .bind(hash)
        .fetch_optional(db)
        .await
}

/// Records the one decision on a pending submission; false when it was decided (or voided)
/// already.
#[allow(clippy::too_many_arguments)]
pub async fn decide(
    conn: &mut SqliteConnection,
    ws: &WorkspaceAccess,
    id: &str,
    status: &str,
    decided_by: &str,
    notes: Option<&str>,
    recorded_by: Option<&str>,
    now: &str,
) -> Result<bool, sqlx::Error> {
    Ok(sqlx::query(
        "UPDATE campaign_approvals SET status = ?, decided_by = ?, decided_at = ?, notes = ?, recorded_by = ?
          WHERE workspace_id = ? AND id = ? AND status = 'pending'",
    )
    .bind(status)
    .bind(decided_by)
    .bind(now)
    .bind(notes)
    .bind(recorded_by)
    .bind(ws.id())
    .bind(id)
    .execute(conn)
    .await?
    .rows_affected()
        == 1)
}

/// Voids the campaign's open submission or approval (the campaign was changed after it).
pub async fn void(conn: &mut SqliteConnection, ws: &WorkspaceAccess, campaign: &str) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query(
        "UPDATE campaign_approvals SET status = 'void'
          WHERE workspace_id = ? AND campaign_id = ? AND status IN ('pending', 'approved')",
    )
    .bind(ws.id())
    .bind(campaign)
    .execute(conn)
    .await?
    .rows_affected())
}

/// Submissions of the workspace waiting for a decision, and decisions nobody has looked at
/// yet (the dashboard), newest first.
pub async fn open_or_unseen(db: &SqlitePool, ws: &WorkspaceAccess, limit: i64) -> Result<Vec<Row>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{SELECT} WHERE a.workspace_id = ?
            AND (a.status = 'pending' OR (a.status IN ('approved', 'rejected') AND a.seen_at IS NULL))
          ORDER BY a.id DESC LIMIT ?"
    )))
    .bind(ws.id())
    .bind(limit)
    .fetch_all(db)
    .await
}

/// Someone of the workspace opened the campaign after its decision.
pub async fn mark_seen(
    conn: &mut SqliteConnection,
    ws: &WorkspaceAccess,
    campaign: &str,
    now: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE campaign_approvals SET seen_at = ?
          WHERE workspace_id = ? AND campaign_id = ? AND status IN ('approved', 'rejected') AND seen_at IS NULL",
    )
    .bind(now)
    .bind(ws.id())
    .bind(campaign)
    .execute(conn)
    .await?;
    Ok(())
}
