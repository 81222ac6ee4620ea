//! One-time password reset links (issue 34): only the token's SHA-256 is stored.

use sqlx::{SqliteConnection, SqlitePool};

use crate::model::ids::UserId;

pub struct NewReset<'a> {
    pub id: &'a str,
    pub token_hash: &'a str,
    pub user_id: &'a UserId,
    pub made_by: Option<&'a UserId>,
    pub created_at: &'a str,
    pub expires_at: &'a str,
}

pub async fn insert(conn: &mut SqliteConnection, r: &NewReset<'_>) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO password_resets (id, token_hash, user_id, made_by, created_at, expires_at)
         VALUES (?, ?, ?, ?, ?, ?)",
    )
    .bind(r.id)
    .bind(r.token_hash)
    .bind(r.user_id)
    .bind(r.made_by)
    .bind(r.created_at)
    .bind(r.expires_at)
    .execute(conn)
    .await?;
    Ok(())
}

/// The person a link that still works (unused, not expired at `now`) is for: `(reset id,
/// user id, email)`.
pub async fn open(
    db: &SqlitePool,
    token_hash: &str,
    now: &str,
) -> Result<Option<(String, String, String)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT r.id, u.id, u.email FROM password_resets r JOIN users u ON u.id = r.user_id
          WHERE r.token_hash = ? AND r.used_at IS NULL AND r.expires_at > ?",
    )
    .bind(token_hash)
    .bind(now)
    .fetch_optional(db)
    .await
}

/// Uses the link once: true when it was still open (a second use finds it used).
pub async fn use_once(conn: &mut SqliteConnection, id: &str, now: &str) -> Result<bool, sqlx::Error> {
    let done =
        sqlx::query("UPDATE password_resets SET used_at = ? WHERE id = ? AND used_at IS NULL AND expires_at > ?")
            .bind(now)
            .bind(id)
            .bind(now)
            .execute(conn)
            .await?;
    Ok(done.rows_affected() > 0)
}

/// Every other open link of the person ends with the one used (or a new one made).
pub async fn close_others(conn: &mut SqliteConnection, user: &str, now: &str) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE password_resets SET used_at = ? WHERE user_id = ? AND used_at IS NULL")
        .bind(now)
        .bind(user)
        .execute(conn)
        .await?;
    Ok(())
}

/// Whether `inviter` invited `user` (an accepted invite): who may make them a reset link.
pub async fn invited(db: &SqlitePool, inviter: &UserId, user: &str) -> Result<bool, sqlx::Error> {
    let found: Option<i64> =
        sqlx::query_scalar("SELECT 1 FROM invites WHERE invited_by = ? AND accepted_user = ? LIMIT 1")
            .bind(inviter)
            .bind(user)
            .fetch_optional(db)
            .await?;
    Ok(found.is_some())
}

/// The people `inviter` brought in, who may get a reset link from them: `(user id, name, email)`.
pub async fn invited_people(db: &SqlitePool, inviter: &UserId) -> Result<Vec<(String, String, String)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT DISTINCT u.id, u.name, u.email FROM invites i JOIN users u ON u.id = i.accepted_user
          WHERE i.invited_by = ? ORDER BY u.name",
    )
    .bind(inviter)
    .fetch_all(db)
    .await
}

/// The first workspace the person can reach that has an email provider: owned ones first,
/// then shared, oldest first. Its provider sends their reset link.
pub async fn sending_workspace(db: &SqlitePool, user: &str) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT w.id FROM workspaces w
          WHERE (w.user_id = ?1 OR EXISTS (SELECT 1 FROM workspace_members m WHERE m.workspace_id = w.id AND m.user_id = ?1))
            AND EXISTS (SELECT 1 FROM provider_settings p WHERE p.workspace_id = w.id AND p.channel = 'email')
          ORDER BY (w.user_id = ?1) DESC, w.created_at, w.id LIMIT 1",
    )
    .bind(user)
    .fetch_optional(db)
    .await
}

/// Links emailed to the person (not made by someone for them) since `since`.
pub async fn emailed_since(db: &SqlitePool, user: &UserId, since: &str) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT COUNT(*) FROM password_resets WHERE user_id = ? AND made_by IS NULL AND created_at >= ?")
        .bind(user)
        .bind(since)
        .fetch_one(db)
        .await
}
