//! The outbox table: written with its timeline entry, claimed by one statement, settled once.

use sqlx::{SqliteConnection, SqlitePool};

use crate::model::access::WorkspaceAccess;

pub struct NewRow<'a> {
    pub id: &'a str,
    /// `message`, `review` or `summary` (`domain::messaging::outbox::Purpose`).
    pub purpose: &'a str,
    /// A message's timeline entry.
    pub communication_id: Option<&'a str>,
    /// A review link's approval row.
    pub approval_id: Option<&'a str>,
    pub channel: &'a str,
    pub recipient: &'a str,
    pub message: &'a str,
    pub now: &'a str,
    /// The campaign it belongs to, if any.
    pub campaign_id: Option<&'a str>,
}

pub async fn insert(conn: &mut SqliteConnection, ws: &WorkspaceAccess, row: &NewRow<'_>) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO outbox (id, workspace_id, purpose, communication_id, approval_id, channel, recipient, message,
                             state, next_at, created_at, campaign_id)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?, ?)",
    )
    .bind(row.id)
    .bind(ws.id())
    .bind(row.purpose)
    .bind(row.communication_id)
    .bind(row.approval_id)
    .bind(row.channel)
    .bind(row.recipient)
    .bind(row.message)
    .bind(row.now)
    .bind(row.now)
    .bind(row.campaign_id)
    .execute(conn)
    .await?;
    Ok(())
}

/// A row the worker holds, with its lease.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Claimed {
    pub id: String,
    pub workspace_id: String,
    pub purpose: String,
    pub communication_id: Option<String>,
    pub channel: String,
    pub recipient: String,
    pub message: String,
    pub attempts: i64,
    pub campaign_id: Option<String>,
}

/// Claims up to `limit` due rows in one statement (so two workers never hold the same row),
/// oldest first, leased until `until`.
pub async fn claim(db: &SqlitePool, now: &str, until: &str, limit: i64) -> Result<Vec<Claimed>, sqlx::Error> {
    let mut tx = super::db::begin_write(db).await?;
    let mut rows: Vec<Claimed> = sqlx::query_as(
        "UPDATE outbox SET state = 'sending', lease_until = ?, attempts = attempts + 1
          WHERE id IN (SELECT id FROM outbox WHERE state = 'pending' AND next_at <= ? ORDER BY next_at, id LIMIT ?)
          RETURNING id, workspace_id, purpose, communication_id, channel, recipient, message, attempts, campaign_id",
    )
    .bind(until)
    .bind(now)
    .bind(limit)
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    rows.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(rows)
}

/// The workspaces with a row whose lease ran out: read first, so the write lock is taken only
/// when one did, and whatever settling them needs is looked up before it is.
pub async fn workspaces_with_lapsed_leases(db: &SqlitePool, now: &str) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT DISTINCT workspace_id FROM outbox WHERE state = 'sending' AND lease_until < ?")
        .bind(now)
        .fetch_all(db)
        .await
}

/// A row whose lease ran out, as `expire_leases` settles it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Lapsed {
    pub id: String,
    pub purpose: String,
    pub communication_id: Option<String>,
    pub campaign_id: Option<String>,
}

/// Rows of workspace `ws` whose lease ran out while `sending`: the process that held them
/// stopped mid-send, so they may have gone. They become `unknown`.
pub async fn expire_leases(
    conn: &mut SqliteConnection,
    ws: &WorkspaceAccess,
    now: &str,
    why: &str,
) -> Result<Vec<Lapsed>, sqlx::Error> {
    sqlx::query_as(
        "UPDATE outbox SET state = 'unknown', lease_until = NULL, finished_at = ?1, last_error = ?2
          WHERE state = 'sending' AND lease_until < ?1 AND workspace_id = ?3
          RETURNING id, purpose, communication_id, campaign_id",
    )
    .bind(now)
    .bind(why)
    .bind(ws.id())
    .fetch_all(conn)
    .await
}

/// Settles a claimed row: `sent`, `failed` or `unknown`. False when it was not leased (a
/// lease that ran out, settled by `expire_leases` meanwhile).
pub async fn settle(
    conn: &mut SqliteConnection,
    id: &str,
    state: &'static str,
    provider_id: Option<&str>,
    error: Option<&str>,
    now: &str,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE outbox SET state = ?, provider_message_id = coalesce(?, provider_message_id), last_error = ?,
                lease_until = NULL, finished_at = ?
          WHERE id = ? AND state = 'sending'",
    )
    .bind(state)
    .bind(provider_id)
    .bind(error)
    .bind(now)
    .bind(id)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Gives a claimed row back to the queue for `next_at`. `counts` is false when nothing was
/// tried (a rate limit), so the attempt is not spent.
pub async fn requeue(
    conn: &mut SqliteConnection,
    id: &str,
    next_at: &str,
    error: Option<&str>,
    counts: bool,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE outbox SET state = 'pending', lease_until = NULL, next_at = ?, last_error = coalesce(?, last_error),
                attempts = attempts - ?
          WHERE id = ? AND state = 'sending'",
    )
    .bind(next_at)
    .bind(error)
    .bind(if counts { 0 } else { 1 })
    .bind(id)
    .execute(conn)
    .await?;
    Ok(())
}

/// When the worker next has something to do: a pending row falls due, or a lease runs out.
pub async fn next_wake(db: &SqlitePool) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT min(at) FROM (SELECT min(next_at) AS at FROM outbox WHERE state = 'pending'
                              UNION ALL SELECT min(lease_until) FROM outbox WHERE state = 'sending')",
    )
    .fetch_one(db)
    .await
}

/// The timeline entry a webhook's event is about: by our outbox id (exact, and what we put in
/// the message), else by the provider's id for it.
pub async fn communication_for(
    conn: &mut SqliteConnection,
    ws: &WorkspaceAccess,
    outbox_id: Option<&str>,
    provider_id: Option<&str>,
) -> Result<Option<(String, String)>, sqlx::Error> {
    if let Some(id) = outbox_id {
        let found = sqlx::query_as(
            "SELECT id, communication_id FROM outbox WHERE id = ? AND workspace_id = ? AND communication_id IS NOT NULL",
        )
            .bind(id)
            .bind(ws.id())
            .fetch_optional(&mut *conn)
            .await?;
        if found.is_some() {
            return Ok(found);
        }
    }
    let Some(provider_id) = provider_id else {
        return Ok(None);
    };
    sqlx::query_as(
        "SELECT id, communication_id FROM outbox
          WHERE workspace_id = ? AND provider_message_id = ? AND communication_id IS NOT NULL ORDER BY id DESC LIMIT 1",
    )
    .bind(ws.id())
    .bind(provider_id)
    .fetch_optional(conn)
    .await
}

/// A later event proved an `unknown` row went out: it is `sent` after all (and keeps the
/// provider's id when the create answer was lost).
pub async fn confirm_sent(conn: &mut SqliteConnection, id: &str, provider_id: Option<&str>) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE outbox SET state = 'sent', provider_message_id = coalesce(provider_message_id, ?)
          WHERE id = ? AND state IN ('unknown', 'sending')",
    )
    .bind(provider_id)
    .bind(id)
    .execute(conn)
    .await?;
    Ok(())
}

/// The last outbox row of a timeline entry: what "send again" repeats.
#[allow(clippy::type_complexity)]
pub async fn last_for_communication(
    conn: &mut SqliteConnection,
    ws: &WorkspaceAccess,
    communication_id: &str,
) -> Result<Option<(String, String, String, String, Option<String>)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT state, channel, recipient, message, campaign_id FROM outbox
          WHERE workspace_id = ? AND communication_id = ? ORDER BY id DESC LIMIT 1",
    )
    .bind(ws.id())
    .bind(communication_id)
    .fetch_optional(conn)
    .await
}

/// When a paused campaign's waiting messages fall due: never, until it resumes.
pub const HELD: &str = "9999-12-31T23:59:59Z";

/// Holds a paused campaign's waiting messages (messages in flight finish).
pub async fn hold_campaign(
    conn: &mut SqliteConnection,
    ws: &WorkspaceAccess,
    campaign: &str,
) -> Result<u64, sqlx::Error> {
    Ok(
        sqlx::query("UPDATE outbox SET next_at = ? WHERE campaign_id = ? AND workspace_id = ? AND state = 'pending'")
            .bind(HELD)
            .bind(campaign)
            .bind(ws.id())
            .execute(conn)
            .await?
            .rows_affected(),
    )
}

/// Lets a resumed campaign's held messages go, in the order they were queued.
pub async fn release_campaign(
    conn: &mut SqliteConnection,
    ws: &WorkspaceAccess,
    campaign: &str,
    now: &str,
) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query(
        "UPDATE outbox SET next_at = ? WHERE campaign_id = ? AND workspace_id = ? AND state = 'pending' AND next_at = ?",
    )
    .bind(now)
    .bind(campaign)
    .bind(ws.id())
    .bind(HELD)
    .execute(conn)
    .await?
    .rows_affected())
}

/// Campaign texts of the workspace that left (or may have) since `since`, plus those in flight
/// that were queued before `id`: what counts against the daily text limit for row `id`, so
/// rows in flight together do not each count the others and all wait.
pub async fn campaign_texts_since(
    db: &SqlitePool,
    ws: &WorkspaceAccess,
    since: &str,
    id: &str,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT (SELECT count(*) FROM outbox WHERE workspace_id = ?1 AND campaign_id IS NOT NULL AND channel = 'text'
                   AND finished_at >= ?2 AND state IN ('sent', 'unknown'))
              + (SELECT count(*) FROM outbox WHERE workspace_id = ?1 AND campaign_id IS NOT NULL AND channel = 'text'
                   AND state = 'sending' AND id < ?3)",
    )
    .bind(ws.id())
    .bind(since)
    .bind(id)
    .fetch_one(db)
    .await
}

/// How many of a campaign's messages wait in the outbox, and the reason the first of them
/// waits when it is not just its turn (quiet hours, the daily limit, a retry).
pub async fn campaign_waiting(
    db: &SqlitePool,
    ws: &WorkspaceAccess,
    campaign: &str,
) -> Result<(i64, Option<String>, Option<String>), sqlx::Error> {
    sqlx::query_as(
        "SELECT count(*), min(next_at),
                (SELECT last_error FROM outbox WHERE campaign_id = ?1 AND workspace_id = ?2 AND state = 'pending'
                  ORDER BY next_at DESC LIMIT 1)
           FROM outbox WHERE campaign_id = ?1 AND workspace_id = ?2 AND state = 'pending'",
    )
    .bind(campaign)
    .bind(ws.id())
    .fetch_one(db)
    .await
}

/// Marketing texts of the workspace held past their turn (quiet hours, the daily limit; not a
/// pause): how many, when the first may go, and why.
pub async fn held_texts(
    db: &SqlitePool,
    ws: &WorkspaceAccess,
    now: &str,
) -> Result<(i64, Option<String>, Option<String>), sqlx::Error> {
    sqlx::query_as(
        "SELECT count(*), min(next_at), max(last_error) FROM outbox
          WHERE workspace_id = ? AND campaign_id IS NOT NULL AND channel = 'text' AND state = 'pending'
            AND next_at > ? AND next_at <> ?",
    )
    .bind(ws.id())
    .bind(now)
    .bind(HELD)
    .fetch_one(db)
    .await
}

/// How the reviewer's email of approval `approval` goes: `(state, last error)` of its row.
pub async fn for_approval(
    db: &SqlitePool,
    ws: &WorkspaceAccess,
    approval: &str,
) -> Result<Option<(String, Option<String>)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT state, last_error FROM outbox WHERE approval_id = ? AND workspace_id = ? ORDER BY id DESC LIMIT 1",
    )
    .bind(approval)
    .bind(ws.id())
    .fetch_optional(db)
    .await
}
