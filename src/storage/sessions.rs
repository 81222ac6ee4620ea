use sqlx::{SqliteConnection, SqlitePool};

use crate::clock;
use crate::model::ids::{SessionId, UserId};

pub async fn insert(
    conn: &mut SqliteConnection,
    user_id: &UserId,
    token_hash: &str,
    csrf_token: &str,
    ip: Option<&str>,
    user_agent: Option<&str>,
) -> Result<SessionId, sqlx::Error> {
    let id = SessionId::generate();
    let now = clock::now_text();
    sqlx::query(
        "INSERT INTO sessions (id, token_hash, user_id, csrf_token, created_at, last_seen_at, ip, user_agent)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(&id)
    .bind(token_hash)
    .bind(user_id)
    .bind(csrf_token)
    .bind(&now)
    .bind(&now)
    .bind(ip)
    .bind(user_agent)
    .execute(conn)
    .await?;
    Ok(id)
}

pub async fn find_by_token_hash(db: &SqlitePool, token_hash: &str) -> Result<Option<SignedIn>, sqlx::Error> {
    sqlx::query_as(
        "SELECT s.id, s.user_id, u.email AS user_email, u.name AS user_name, u.timezone AS user_timezone, s.csrf_token,
                s.created_at, s.last_seen_at
         FROM sessions s JOIN users u ON u.id = s.user_id
         WHERE s.token_hash = ?",
    )
    .bind(token_hash)
    .fetch_optional(db)
    .await
}

/// Records when each session was last seen (never moving a time backwards).
pub async fn touch_all(
    conn: &mut SqliteConnection,
    seen: &std::collections::HashMap<SessionId, String>,
) -> Result<(), sqlx::Error> {
    for (id, at) in seen {
        sqlx::query("UPDATE sessions SET last_seen_at = ?2 WHERE id = ?1 AND last_seen_at < ?2")
            .bind(id)
            .bind(at)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

pub async fn delete(conn: &mut SqliteConnection, id: &SessionId) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM sessions WHERE id = ?")
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Ends one of `user_id`'s sessions; false when they have no such session.
pub async fn delete_owned(conn: &mut SqliteConnection, user_id: &UserId, id: &SessionId) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("DELETE FROM sessions WHERE id = ? AND user_id = ?")
        .bind(id)
        .bind(user_id)
        .execute(conn)
        .await?;
    Ok(done.rows_affected() > 0)
}

pub async fn delete_all_for_user_except(
    conn: &mut SqliteConnection,
    user_id: &UserId,
    keep: Option<&SessionId>,
) -> Result<u64, sqlx::Error> {
    let keep = keep.map(SessionId::as_str).unwrap_or("");
    let done = sqlx::query("DELETE FROM sessions WHERE user_id = ? AND id <> ?")
        .bind(user_id)
        .bind(keep)
        .execute(conn)
        .await?;
    Ok(done.rows_affected())
}

pub async fn list_for_user(db: &SqlitePool, user_id: &UserId) -> Result<Vec<Listing>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, created_at, last_seen_at, ip, user_agent FROM sessions
         WHERE user_id = ? ORDER BY last_seen_at DESC",
    )
    .bind(user_id)
    .fetch_all(db)
    .await
}

/// Removes sessions past either timeout; `idle_before` and `created_before` are cut-off times.
pub async fn delete_expired(db: &SqlitePool, idle_before: &str, created_before: &str) -> Result<u64, sqlx::Error> {
    let mut tx = super::db::begin_write(db).await?;
    let done = sqlx::query("DELETE FROM sessions WHERE last_seen_at < ? OR created_at < ?")
        .bind(idle_before)
        .bind(created_before)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(done.rows_affected())
}

/// One of a person's sessions, as the settings page lists them.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Listing {
    pub id: SessionId,
    pub created_at: String,
    pub last_seen_at: String,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

/// A live session and the person behind it, as a request carries it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SignedIn {
    pub id: SessionId,
    pub user_id: UserId,
    pub user_email: String,
    pub user_name: String,
    /// Their own time zone, if they chose one.
    pub user_timezone: Option<String>,
    pub csrf_token: String,
    pub created_at: String,
    pub last_seen_at: String,
}
