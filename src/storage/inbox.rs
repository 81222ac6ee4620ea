use sqlx::{SqliteConnection, SqlitePool};

use crate::model::access::WorkspaceAccess;
use crate::model::page::PageSpec;

pub async fn insert(conn: &mut SqliteConnection, ws: &WorkspaceAccess, m: &InboxMessage) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO inbox_messages (id, workspace_id, from_number, to_number, body, provider_message_id, received_at)
         VALUES (?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(&m.id)
    .bind(ws.id())
    .bind(&m.from)
    .bind(&m.to)
    .bind(&m.body)
    .bind(&m.provider_message_id)
    .bind(&m.received_at)
    .execute(conn)
    .await?;
    Ok(())
}

const COLUMNS: &str = "id, from_number AS \"from\", to_number AS \"to\", body, provider_message_id, received_at";

pub async fn page(db: &SqlitePool, ws: &WorkspaceAccess, spec: &PageSpec) -> Result<Vec<InboxMessage>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM inbox_messages
          WHERE workspace_id = ? AND (? IS NULL OR id < ?) ORDER BY id DESC LIMIT ?"
    )))
    .bind(ws.id())
    .bind(&spec.after)
    .bind(&spec.after)
    .bind(spec.fetch())
    .fetch_all(db)
    .await
}

pub async fn find(
    conn: &mut SqliteConnection,
    ws: &WorkspaceAccess,
    id: &str,
) -> Result<Option<InboxMessage>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM inbox_messages WHERE workspace_id = ? AND id = ?"
    )))
    .bind(ws.id())
    .bind(id)
    .fetch_optional(conn)
    .await
}

/// Every message from one number, oldest first, taken out of the inbox.
pub async fn take_from(
    conn: &mut SqliteConnection,
    ws: &WorkspaceAccess,
    number: &str,
) -> Result<Vec<InboxMessage>, sqlx::Error> {
    let mut taken: Vec<InboxMessage> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "DELETE FROM inbox_messages WHERE workspace_id = ? AND from_number = ? RETURNING {COLUMNS}"
    )))
    .bind(ws.id())
    .bind(number)
    .fetch_all(conn)
    .await?;
    taken.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(taken)
}

pub async fn count(db: &SqlitePool, ws: &WorkspaceAccess) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT count(*) FROM inbox_messages WHERE workspace_id = ?")
        .bind(ws.id())
        .fetch_one(db)
        .await
}

/// Contacts of the workspace reached at `number`: by primary phone, or a phone custom field.
pub async fn contacts_with_number(
    conn: &mut SqliteConnection,
    ws: &WorkspaceAccess,
    number: &str,
    phone_fields: &[String],
) -> Result<Vec<String>, sqlx::Error> {
    let fields = serde_json::to_string(phone_fields).expect("names serialise");
    sqlx::query_scalar(
        "SELECT id FROM contacts WHERE workspace_id = ?1 AND primary_phone = ?2
         UNION
         SELECT contact_id FROM custom_fields v
          WHERE workspace_id = ?1 AND field_name IN (SELECT value FROM json_each(?3)) AND field_value = ?2
            AND EXISTS (SELECT 1 FROM contacts c WHERE c.id = v.contact_id)
         ORDER BY 1",
    )
    .bind(ws.id())
    .bind(number)
    .bind(fields)
    .fetch_all(conn)
    .await
}

/// A text from a number no contact has.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct InboxMessage {
    pub id: String,
    pub from: String,
    pub to: Option<String>,
    pub body: String,
    pub provider_message_id: Option<String>,
    pub received_at: String,
}
