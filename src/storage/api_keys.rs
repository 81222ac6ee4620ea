use sqlx::{SqliteConnection, SqlitePool};

use crate::clock;
use crate::model::ids::{ApiKeyId, UserId, WorkspaceId};

pub struct NewRow {
    pub id: ApiKeyId,
    pub user_id: UserId,
    pub prefix: String,
    pub key_hash: String,
    pub description: String,
    pub scopes: String,
    pub workspace_id: Option<WorkspaceId>,
    pub created_at: String,
    pub expires_at: Option<String>,
}

pub async fn insert(conn: &mut SqliteConnection, row: &NewRow) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO api_keys (id, user_id, prefix, key_hash, description, scopes, workspace_id, created_at, expires_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(&row.id)
    .bind(&row.user_id)
    .bind(&row.prefix)
    .bind(&row.key_hash)
    .bind(&row.description)
    .bind(&row.scopes)
    .bind(&row.workspace_id)
    .bind(&row.created_at)
    .bind(&row.expires_at)
    .execute(conn)
    .await?;
    Ok(())
}

#[derive(sqlx::FromRow)]
struct ViewRow {
    id: String,
    prefix: String,
    description: String,
    scopes: String,
    workspace_id: Option<String>,
    expires_at: Option<String>,
    created_at: String,
    last_used_at: Option<String>,
}

impl From<ViewRow> for ApiKeyView {
    fn from(r: ViewRow) -> Self {
        ApiKeyView {
            id: r.id,
            prefix: r.prefix,
            description: r.description,
            scopes: serde_json::from_str(&r.scopes).unwrap_or_default(),
            workspace_id: r.workspace_id,
            expires_at: r.expires_at,
            created_at: r.created_at,
            last_used_at: r.last_used_at,
        }
    }
}

macro_rules! view_columns {
    () => {
        "id, prefix, description, scopes, workspace_id, expires_at, created_at, last_used_at"
    };
}

pub async fn list_for_user(db: &SqlitePool, user: &UserId) -> Result<Vec<ApiKeyView>, sqlx::Error> {
    let rows: Vec<ViewRow> = sqlx::query_as(concat!(
        "SELECT ",
        view_columns!(),
        " FROM api_keys WHERE user_id = ? AND revoked_at IS NULL ORDER BY id DESC"
    ))
    .bind(user)
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(Into::into).collect())
}

pub async fn find_for_user(db: &SqlitePool, user: &UserId, id: &ApiKeyId) -> Result<Option<ApiKeyView>, sqlx::Error> {
    let row: Option<ViewRow> = sqlx::query_as(concat!(
        "SELECT ",
        view_columns!(),
        " FROM api_keys WHERE user_id = ? AND id = ? AND revoked_at IS NULL"
    ))
    .bind(user)
    .bind(id)
    .fetch_optional(db)
    .await?;
    Ok(row.map(Into::into))
}

pub async fn revoke(conn: &mut SqliteConnection, user: &UserId, id: &ApiKeyId) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE api_keys SET revoked_at = ? WHERE id = ? AND user_id = ?")
        .bind(clock::now_text())
        .bind(id)
        .bind(user)
        .execute(conn)
        .await?;
    Ok(())
}

pub struct ActiveKey {
    pub id: ApiKeyId,
    pub user_id: UserId,
    pub scopes: Vec<String>,
    pub workspace_id: Option<WorkspaceId>,
    pub expires_at: Option<String>,
    pub last_used_at: Option<String>,
    pub description: String,
}

pub async fn find_active_by_hash(db: &SqlitePool, hash: &str) -> Result<Option<ActiveKey>, sqlx::Error> {
    type Row = (
        ApiKeyId,
        UserId,
        String,
        Option<WorkspaceId>,
        Option<String>,
        Option<String>,
        String,
    );
    let row: Option<Row> = sqlx::query_as(
        "SELECT id, user_id, scopes, workspace_id, expires_at, last_used_at, description FROM api_keys
         WHERE key_hash = ? AND revoked_at IS NULL",
    )
    .bind(hash)
    .fetch_optional(db)
    .await?;
    Ok(row.map(
        |(id, user_id, scopes, workspace_id, expires_at, last_used_at, description)| ActiveKey {
            id,
            user_id,
            scopes: serde_json::from_str(&scopes).unwrap_or_default(),
            workspace_id,
            expires_at,
            last_used_at,
            description,
        },
    ))
}

/// Records when each key was last used (never moving a time backwards).
pub async fn touch_all(
    conn: &mut SqliteConnection,
    used: &std::collections::HashMap<ApiKeyId, String>,
) -> Result<(), sqlx::Error> {
    for (id, at) in used {
        sqlx::query("UPDATE api_keys SET last_used_at = ?2 WHERE id = ?1 AND coalesce(last_used_at, '') < ?2")
            .bind(id)
            .bind(at)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// Whose key this is, while it is not revoked (the CLI revokes on an operator's word).
pub async fn owner_of(db: &SqlitePool, id: &ApiKeyId) -> Result<Option<UserId>, sqlx::Error> {
    sqlx::query_scalar("SELECT user_id FROM api_keys WHERE id = ? AND revoked_at IS NULL")
        .bind(id)
        .fetch_optional(db)
        .await
}

#[derive(Debug, Clone)]
pub struct ApiKeyView {
    pub id: String,
    pub prefix: String,
    pub description: String,
    pub scopes: Vec<String>,
    pub workspace_id: Option<String>,
    pub expires_at: Option<String>,
    pub created_at: String,
    pub last_used_at: Option<String>,
}
