//! The template library: templates of a workspace, each person's favourites, and shares.
//! (`AssertSqlSafe` below joins constant SQL only; every value is bound.)

use sqlx::{SqliteConnection, SqlitePool};

use crate::model::access::WorkspaceAccess;
use crate::model::ids::{TemplateId, UserId};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Row {
    pub id: String,
    pub workspace_id: String,
    pub name: String,
    pub channel: String,
    pub subject: String,
    pub preheader: String,
    pub body: String,
    pub ai_generated: bool,
    pub favorite: bool,
    pub created_at: String,
    pub updated_at: String,
}

/// The columns of `Row`, with `favorite` for the user bound first.
const SELECT: &str = "SELECT t.id, t.workspace_id, t.name, t.channel, t.subject, t.preheader, t.body,
        t.ai_generated, EXISTS (SELECT 1 FROM template_favorites f WHERE f.template_id = t.id AND f.user_id = ?)
        AS favorite, t.created_at, t.updated_at FROM templates t";

/// Templates of the workspace, by name; `q` looks in name, subject and body.
pub async fn list(
    db: &SqlitePool,
    ws: &WorkspaceAccess,
    user: &UserId,
    q: Option<&str>,
    favorites_only: bool,
) -> Result<Vec<Row>, sqlx::Error> {
    let pattern = q.map(|q| format!("%{}%", q.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")));
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{SELECT} WHERE t.workspace_id = ?
           AND (? IS NULL OR t.name LIKE ? ESCAPE '\\' OR t.subject LIKE ? ESCAPE '\\' OR t.body LIKE ? ESCAPE '\\')
           AND (? = 0 OR EXISTS (SELECT 1 FROM template_favorites f WHERE f.template_id = t.id AND f.user_id = ?))
         ORDER BY t.name COLLATE NOCASE, t.id"
    )))
    .bind(user)
    .bind(ws.id())
    .bind(&pattern)
    .bind(&pattern)
    .bind(&pattern)
    .bind(&pattern)
    .bind(favorites_only)
    .bind(user)
    .fetch_all(db)
    .await
}

pub async fn find<'e>(
    db: impl sqlx::SqliteExecutor<'e>,
    ws: &WorkspaceAccess,
    user: &UserId,
    id: &TemplateId,
) -> Result<Option<Row>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{SELECT} WHERE t.workspace_id = ? AND t.id = ?"
    )))
    .bind(user)
    .bind(ws.id())
    .bind(id)
    .fetch_optional(db)
    .await
}

pub struct New<'a> {
    pub id: &'a TemplateId,
    pub name: &'a str,
    pub channel: &'a str,
    pub subject: &'a str,
    pub preheader: &'a str,
    pub body: &'a str,
    pub ai_generated: bool,
    pub created_by: &'a UserId,
    pub now: &'a str,
}

pub async fn insert(conn: &mut SqliteConnection, ws: &WorkspaceAccess, t: &New<'_>) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO templates (id, workspace_id, name, channel, subject, preheader, body, ai_generated,
                                created_by, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(t.id)
    .bind(ws.id())
    .bind(t.name)
    .bind(t.channel)
    .bind(t.subject)
    .bind(t.preheader)
    .bind(t.body)
    .bind(t.ai_generated)
    .bind(t.created_by)
    .bind(t.now)
    .bind(t.now)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn update(conn: &mut SqliteConnection, ws: &WorkspaceAccess, t: &New<'_>) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE templates SET name = ?, channel = ?, subject = ?, preheader = ?, body = ?, updated_at = ?
         WHERE workspace_id = ? AND id = ?",
    )
    .bind(t.name)
    .bind(t.channel)
    .bind(t.subject)
    .bind(t.preheader)
    .bind(t.body)
    .bind(t.now)
    .bind(ws.id())
    .bind(t.id)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn delete(conn: &mut SqliteConnection, ws: &WorkspaceAccess, id: &TemplateId) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("DELETE FROM templates WHERE workspace_id = ? AND id = ?")
        .bind(ws.id())
        .bind(id)
        .execute(conn)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Marks or unmarks a favourite of `user` (the template was found in the workspace first).
/// Marks or unmarks a template of `ws` as one of `user`'s favourites; false when `ws` has no
/// such template.
pub async fn set_favorite(
    db: &SqlitePool,
    ws: &WorkspaceAccess,
    user: &UserId,
    id: &TemplateId,
    on: bool,
) -> Result<bool, sqlx::Error> {
    let mut tx = super::db::begin_write(db).await?;
    let found: Option<i64> = sqlx::query_scalar("SELECT 1 FROM templates WHERE id = ? AND workspace_id = ?")
        .bind(id)
        .bind(ws.id())
        .fetch_optional(&mut *tx)
        .await?;
    if found.is_none() {
        return Ok(false);
    }
    let sql = if on {
        "INSERT OR IGNORE INTO template_favorites (user_id, template_id) VALUES (?, ?)"
    } else {
        "DELETE FROM template_favorites WHERE user_id = ? AND template_id = ?"
    };
    sqlx::query(sql).bind(user).bind(id).execute(&mut *tx).await?;
    tx.commit().await?;
    Ok(true)
}

/// Shares a template of `ws` with `with`; false when `ws` has no such template.
pub async fn share(
    conn: &mut SqliteConnection,
    ws: &WorkspaceAccess,
    id: &TemplateId,
    with: &UserId,
    by: &UserId,
    now: &str,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "INSERT INTO template_shares (template_id, user_id, shared_by, shared_at)
         SELECT id, ?, ?, ? FROM templates WHERE id = ? AND workspace_id = ?
         ON CONFLICT (user_id, template_id) DO UPDATE SET shared_by = excluded.shared_by, shared_at = excluded.shared_at",
    )
    .bind(with)
    .bind(by)
    .bind(now)
    .bind(id)
    .bind(ws.id())
    .execute(conn)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// A template someone shared with the user, with who shared it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SharedRow {
    #[sqlx(flatten)]
    pub template: Row,
    pub shared_by_name: Option<String>,
    pub shared_at: String,
    pub workspace_name: String,
}

const SELECT_SHARED: &str = "SELECT t.id, t.workspace_id, t.name, t.channel, t.subject, t.preheader, t.body,
        t.ai_generated, 0 AS favorite, t.created_at, t.updated_at, u.name AS shared_by_name, s.shared_at,
        w.name AS workspace_name
        FROM template_shares s JOIN templates t ON t.id = s.template_id JOIN workspaces w ON w.id = t.workspace_id
        LEFT JOIN users u ON u.id = s.shared_by";

pub async fn shared_with(db: &SqlitePool, user: &UserId) -> Result<Vec<SharedRow>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{SELECT_SHARED} WHERE s.user_id = ? ORDER BY s.shared_at DESC, t.id"
    )))
    .bind(user)
    .fetch_all(db)
    .await
}

/// One template shared with `user`: `None` when it is not (the same 404 as for no template).
pub async fn shared_one(db: &SqlitePool, user: &UserId, id: &TemplateId) -> Result<Option<SharedRow>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{SELECT_SHARED} WHERE s.user_id = ? AND s.template_id = ?"
    )))
    .bind(user)
    .bind(id)
    .fetch_optional(db)
    .await
}
