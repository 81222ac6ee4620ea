use sqlx::SqlitePool;

use crate::domain::workspace::WorkspaceAccess;

/// Up to `limit` pairs `(a, b, reason)` of contacts that may be the same person, `a < b`.
/// Every branch starts from an index: names through `base_contacts_by_name`, shared values
/// from the email- and phone-typed custom fields into the unique email/phone indexes.
pub async fn pairs(
    db: &SqlitePool,
    ws: &WorkspaceAccess,
    limit: i64,
) -> Result<Vec<(String, String, String)>, sqlx::Error> {
    sqlx::query_as(
        "WITH typed AS (
            SELECT field_name, field_type FROM custom_field_definitions
             WHERE field_type IN ('email', 'phone')
               AND (workspace_id = ?1
                    OR (workspace_id IS NULL AND user_id = (SELECT user_id FROM workspaces WHERE id = ?1)))
         )
         SELECT a, b, reason FROM (
            SELECT x.id AS a, y.id AS b, 'same name and company' AS reason
              FROM base_contacts x JOIN base_contacts y
                ON y.workspace_id = x.workspace_id
               AND lower(coalesce(y.last_name, '')) = lower(coalesce(x.last_name, ''))
               AND lower(coalesce(y.first_name, '')) = lower(coalesce(x.first_name, ''))
               AND lower(coalesce(y.company, '')) = lower(coalesce(x.company, ''))
               AND x.id < y.id
             WHERE x.workspace_id = ?1 AND coalesce(x.first_name, x.last_name) IS NOT NULL
            UNION
            SELECT min(c.id, v.contact_id), max(c.id, v.contact_id), 'shared email'
              FROM custom_fields v JOIN base_contacts c
                ON c.workspace_id = v.workspace_id AND c.primary_email = v.field_value AND c.id <> v.contact_id
             WHERE v.workspace_id = ?1 AND v.field_name IN (SELECT field_name FROM typed WHERE field_type = 'email')
            UNION
            SELECT min(c.id, v.contact_id), max(c.id, v.contact_id), 'shared phone number'
              FROM custom_fields v JOIN base_contacts c
                ON c.workspace_id = v.workspace_id AND c.primary_phone = v.field_value AND c.id <> v.contact_id
             WHERE v.workspace_id = ?1 AND v.field_name IN (SELECT field_name FROM typed WHERE field_type = 'phone')
         ) ORDER BY a, b LIMIT ?2",
    )
    .bind(ws.id())
    .bind(limit)
    .fetch_all(db)
    .await
}
