//! The `invites` table.

use sqlx::{SqliteConnection, SqlitePool};

use crate::model::ids::UserId;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct InviteRow {
    pub id: String,
    pub email: String,
    pub invited_by: String,
    pub workspace_id: Option<String>,
    pub workspace_name: Option<String>,
    pub role: Option<String>,
    pub created_at: String,
    pub expires_at: String,
    pub accepted_at: Option<String>,
    pub revoked_at: Option<String>,
}

macro_rules! columns {
    () => {
        "i.id, i.email, i.invited_by, i.workspace_id, w.name AS workspace_name, i.role, i.created_at, i.expires_at,
         i.accepted_at, i.revoked_at
         FROM invites i LEFT JOIN workspaces w ON w.id = i.workspace_id"
    };
}

pub struct NewInvite<'a> {
    pub id: &'a str,
    pub token_hash: &'a str,
    pub email: &'a str,
    pub invited_by: &'a UserId,
    pub workspace_id: Option<&'a str>,
    pub role: Option<&'a str>,
    pub created_at: &'a str,
    pub expires_at: &'a str,
}

pub async fn insert(conn: &mut SqliteConnection, n: &NewInvite<'_>) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO invites (id, token_hash, email, invited_by, workspace_id, role, created_at, expires_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(n.id)
    .bind(n.token_hash)
    .bind(n.email)
    .bind(n.invited_by)
    .bind(n.workspace_id)
    .bind(n.role)
    .bind(n.created_at)
    .bind(n.expires_at)
    .execute(conn)
    .await?;
    Ok(())
}

/// The invites a person made, newest first.
pub async fn by_inviter(db: &SqlitePool, user: &UserId) -> Result<Vec<InviteRow>, sqlx::Error> {
    sqlx::query_as(concat!(
        "SELECT ",
        columns!(),
        " WHERE i.invited_by = ? ORDER BY i.id DESC LIMIT 100"
    ))
    .bind(user)
    .fetch_all(db)
    .await
}

/// An invite that can still be used: not accepted, not revoked, not expired at `now`.
pub async fn open_by_token(db: &SqlitePool, token_hash: &str, now: &str) -> Result<Option<InviteRow>, sqlx::Error> {
    sqlx::query_as(concat!(
        "SELECT ",
        columns!(),
        " WHERE i.token_hash = ? AND i.accepted_at IS NULL AND i.revoked_at IS NULL AND i.expires_at > ?"
    ))
    .bind(token_hash)
    .bind(now)
    .fetch_optional(db)
    .await
}

/// Uses an open invite, once: the caller that gets the row has it.
pub async fn take(conn: &mut SqliteConnection, token_hash: &str, now: &str) -> Result<Option<InviteRow>, sqlx::Error> {
    let id: Option<String> = sqlx::query_scalar(
        "UPDATE invites SET accepted_at = ?2
          WHERE token_hash = ?1 AND accepted_at IS NULL AND revoked_at IS NULL AND expires_at > ?2
         RETURNING id",
    )
    .bind(token_hash)
    .bind(now)
    .fetch_optional(&mut *conn)
    .await?;
    let Some(id) = id else { return Ok(None) };
    sqlx::query_as(concat!("SELECT ", columns!(), " WHERE i.id = ?"))
        .bind(id)
        .fetch_optional(conn)
        .await
}

pub async fn set_accepted_user(conn: &mut SqliteConnection, id: &str, user: &UserId) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE invites SET accepted_user = ? WHERE id = ?")
        .bind(user)
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Revokes the inviter's own open invite; false when there is none by that id.
pub async fn revoke(conn: &mut SqliteConnection, user: &UserId, id: &str, now: &str) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE invites SET revoked_at = ? WHERE id = ? AND invited_by = ? AND accepted_at IS NULL AND revoked_at IS NULL",
    )
    .bind(now)
    .bind(id)
    .bind(user)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// Revokes the inviter's open invites to `email` (a new one replaces them).
pub async fn revoke_open_to(
    conn: &mut SqliteConnection,
    user: &UserId,
    email: &str,
    now: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE invites SET revoked_at = ? WHERE invited_by = ? AND email = ? AND accepted_at IS NULL AND revoked_at IS NULL",
    )
    .bind(now)
    .bind(user)
    .bind(email)
    .execute(conn)
    .await?;
    Ok(())
}
