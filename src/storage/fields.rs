use sqlx::{SqliteConnection, SqlitePool};

use crate::clock;
use crate::model::access::WorkspaceAccess;
use crate::model::ids::{FieldDefinitionId, UserId};
use crate::model::query::FieldType;

#[derive(sqlx::FromRow)]
struct Row {
    id: String,
    workspace_id: Option<String>,
    field_name: String,
    label: String,
    field_type: String,
    is_required: bool,
    default_value: Option<String>,
    options: Option<String>,
    is_tracked: bool,
    is_follow_up: bool,
}

impl From<Row> for FieldDefinition {
    fn from(r: Row) -> Self {
        FieldDefinition {
            id: r.id,
            workspace_id: r.workspace_id,
            field_name: r.field_name,
            label: r.label,
            field_type: FieldType::parse(&r.field_type).unwrap_or(FieldType::Text),
            is_required: r.is_required,
            default_value: r.default_value,
            options: r
                .options
                .and_then(|o| serde_json::from_str(&o).ok())
                .unwrap_or_default(),
            is_tracked: r.is_tracked,
            is_follow_up: r.is_follow_up,
        }
    }
}

macro_rules! columns {
    () => {
        "id, workspace_id, field_name, label, field_type, is_required, default_value, options, is_tracked, is_follow_up, created_at"
    };
}

pub async fn applicable(db: &SqlitePool, ws: &WorkspaceAccess) -> Result<Vec<FieldDefinition>, sqlx::Error> {
    let rows: Vec<Row> = sqlx::query_as(concat!(
        "SELECT * FROM (SELECT ",
        columns!(),
        " FROM custom_field_definitions WHERE workspace_id = ?1
         UNION ALL
         SELECT ",
        columns!(),
        " FROM custom_field_definitions
          WHERE workspace_id IS NULL
            AND user_id = (SELECT user_id FROM workspaces WHERE id = ?1)
            AND field_name NOT IN (SELECT field_name FROM custom_field_definitions WHERE workspace_id = ?1))
         ORDER BY created_at, id"
    ))
    .bind(ws.id())
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(Into::into).collect())
}

/// `applicable` for the workspace of a template shared with `user`, read through the share:
/// nothing when it is not shared with them.
pub async fn applicable_through_share(
    db: &SqlitePool,
    user: &UserId,
    template: &crate::model::ids::TemplateId,
) -> Result<Vec<FieldDefinition>, sqlx::Error> {
    let rows: Vec<Row> = sqlx::query_as(concat!(
        "WITH home AS (SELECT t.workspace_id AS id FROM template_shares s JOIN templates t ON t.id = s.template_id
                        WHERE s.user_id = ?1 AND s.template_id = ?2)
         SELECT * FROM (SELECT ",
        columns!(),
        " FROM custom_field_definitions WHERE workspace_id = (SELECT id FROM home)
         UNION ALL
         SELECT ",
        columns!(),
        " FROM custom_field_definitions
          WHERE workspace_id IS NULL
            AND user_id = (SELECT user_id FROM workspaces WHERE id = (SELECT id FROM home))
            AND field_name NOT IN (SELECT field_name FROM custom_field_definitions
                                    WHERE workspace_id = (SELECT id FROM home)))
         ORDER BY created_at, id"
    ))
    .bind(user)
    .bind(template)
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(Into::into).collect())
}

pub async fn list_global(db: &SqlitePool, user: &UserId) -> Result<Vec<FieldDefinition>, sqlx::Error> {
    let rows: Vec<Row> = sqlx::query_as(concat!(
        "SELECT ",
        columns!(),
        " FROM custom_field_definitions WHERE workspace_id IS NULL AND user_id = ? ORDER BY created_at, id"
    ))
    .bind(user)
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(Into::into).collect())
}

pub async fn find_global(
    db: &SqlitePool,
    user: &UserId,
    id: &FieldDefinitionId,
) -> Result<Option<FieldDefinition>, sqlx::Error> {
    let row: Option<Row> = sqlx::query_as(concat!(
        "SELECT ",
        columns!(),
        " FROM custom_field_definitions WHERE id = ? AND user_id = ? AND workspace_id IS NULL"
    ))
    .bind(id)
    .bind(user)
    .fetch_optional(db)
    .await?;
    Ok(row.map(Into::into))
}

pub async fn find_in_workspace(
    db: &SqlitePool,
    ws: &WorkspaceAccess,
    id: &FieldDefinitionId,
) -> Result<Option<FieldDefinition>, sqlx::Error> {
    let row: Option<Row> = sqlx::query_as(concat!(
        "SELECT ",
        columns!(),
        " FROM custom_field_definitions WHERE id = ? AND workspace_id = ?"
    ))
    .bind(id)
    .bind(ws.id())
    .fetch_optional(db)
    .await?;
    Ok(row.map(Into::into))
}

fn options_json(def: &FieldDefinition) -> Option<String> {
    (!def.options.is_empty()).then(|| serde_json::to_string(&def.options).expect("strings serialise"))
}

pub async fn insert(conn: &mut SqliteConnection, owner: &UserId, def: &FieldDefinition) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO custom_field_definitions
           (id, user_id, workspace_id, field_name, label, field_type, is_required, default_value, options, is_tracked, is_follow_up, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(&def.id)
    .bind(owner)
    .bind(&def.workspace_id)
    .bind(&def.field_name)
    .bind(&def.label)
    .bind(def.field_type.as_str())
    .bind(def.is_required)
    .bind(&def.default_value)
    .bind(options_json(def))
    .bind(def.is_tracked)
    .bind(def.is_follow_up)
    .bind(clock::now_text())
    .execute(conn)
    .await?;
    Ok(())
}

/// Where a definition lives, as storage scopes it: the owner's global set or one workspace.
#[derive(Clone, Copy)]
pub enum Owner<'a> {
    Global(&'a UserId),
    Workspace(&'a WorkspaceAccess),
}

impl Owner<'_> {
    /// The clause that keeps a statement inside this home, and its one parameter.
    fn clause(&self) -> (&'static str, String) {
        match self {
            Owner::Global(user) => ("workspace_id IS NULL AND user_id = ?", user.to_string()),
            Owner::Workspace(ws) => ("workspace_id = ?", ws.id().to_string()),
        }
    }
}

pub async fn update(conn: &mut SqliteConnection, owner: Owner<'_>, def: &FieldDefinition) -> Result<(), sqlx::Error> {
    let (home, key) = owner.clause();
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "UPDATE custom_field_definitions
            SET label = ?, is_required = ?, default_value = ?, options = ?, is_tracked = ?, is_follow_up = ? WHERE id = ? AND {home}"
    )))
    .bind(&def.label)
    .bind(def.is_required)
    .bind(&def.default_value)
    .bind(options_json(def))
    .bind(def.is_tracked)
    .bind(def.is_follow_up)
    .bind(&def.id)
    .bind(key)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn delete(conn: &mut SqliteConnection, owner: Owner<'_>, id: &str) -> Result<(), sqlx::Error> {
    let (home, key) = owner.clause();
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "DELETE FROM custom_field_definitions WHERE id = ? AND {home}"
    )))
    .bind(id)
    .bind(key)
    .execute(conn)
    .await?;
    Ok(())
}

/// The workspace's own definition named `field_name`, and how many values it holds there.
pub async fn workspace_field_in_use(
    conn: &mut SqliteConnection,
    ws: &WorkspaceAccess,
    field_name: &str,
) -> Result<Option<(String, i64)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT d.id, (SELECT COUNT(*) FROM custom_fields v WHERE v.workspace_id = d.workspace_id
                                                           AND v.field_name = d.field_name)
           FROM custom_field_definitions d WHERE d.workspace_id = ? AND d.field_name = ?",
    )
    .bind(ws.id())
    .bind(field_name)
    .fetch_optional(conn)
    .await
}

pub async fn count_values_in(db: &SqlitePool, ws: &WorkspaceAccess, field_name: &str) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT COUNT(*) FROM custom_fields WHERE workspace_id = ? AND field_name = ?")
        .bind(ws.id())
        .bind(field_name)
        .fetch_one(db)
        .await
}

pub async fn count_values_for_owner(db: &SqlitePool, owner: &UserId, field_name: &str) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT COUNT(*) FROM custom_fields
          WHERE field_name = ? AND workspace_id IN (SELECT id FROM workspaces WHERE user_id = ?)",
    )
    .bind(field_name)
    .bind(owner)
    .fetch_one(db)
    .await
}

#[derive(Debug, Clone)]
pub struct FieldDefinition {
    pub id: String,
    /// `null`: user-global.
    pub workspace_id: Option<String>,
    pub field_name: String,
    pub label: String,
    pub field_type: FieldType,
    pub is_required: bool,
    pub default_value: Option<String>,
    pub options: Vec<String>,
    /// Changes to this field are logged on the contact's timeline.
    pub is_tracked: bool,
    /// A `date`/`datetime` whose values are due dates (the dashboard's follow-ups).
    pub is_follow_up: bool,
}
