use sqlx::SqlitePool;

use crate::domain::workspace::WorkspaceAccess;

/// One page of pairs `(a, b, reason)` of contacts that may be the same person, `a < b`, in
/// `(a, b)` order after `after`. Bounded work, whatever the data:
/// - namesakes (same first name, last name and company) pair as a chain, each contact with the
///   next one of its name found through `base_contacts_same_person` with one seek: a thousand
///   "John Smith, Acme" make 999 pairs (merging along the chain folds them all), never
///   half a million;
/// - a custom email or phone value pairs with the contact whose primary email or phone it is,
///   through `custom_fields_lookup` and the contacts' unique indexes.
pub async fn pairs(
    db: &SqlitePool,
    ws: &WorkspaceAccess,
    after: Option<(&str, &str)>,
    limit: i64,
) -> Result<Vec<(String, String, String)>, sqlx::Error> {
    let (after_a, after_b) = after.unwrap_or(("", ""));
    sqlx::query_as(
        "WITH typed AS (
            SELECT field_name, field_type FROM custom_field_definitions
             WHERE field_type IN ('email', 'phone')
               AND (workspace_id = ?1
                    OR (workspace_id IS NULL AND user_id = (SELECT user_id FROM workspaces WHERE id = ?1)))
         ),
         namesakes AS (
            SELECT x.id AS a,
                   (SELECT y.id FROM base_contacts y
                     WHERE y.workspace_id = x.workspace_id
                       AND lower(coalesce(y.last_name, '')) = lower(coalesce(x.last_name, ''))
                       AND lower(coalesce(y.first_name, '')) = lower(coalesce(x.first_name, ''))
                       AND lower(coalesce(y.company, '')) = lower(coalesce(x.company, ''))
                       AND y.id > x.id
                     ORDER BY lower(coalesce(y.last_name, '')), lower(coalesce(y.first_name, '')),
                              lower(coalesce(y.company, '')), y.id
                     LIMIT 1) AS b
              FROM base_contacts x
             WHERE x.workspace_id = ?1 AND x.id >= ?2 AND coalesce(x.first_name, x.last_name) IS NOT NULL
         )
         SELECT a, b, reason FROM (
            SELECT a, b, 'same name and company' AS reason FROM namesakes WHERE b IS NOT NULL
            UNION
            SELECT min(c.id, v.contact_id) AS a, max(c.id, v.contact_id) AS b, 'shared email'
              FROM custom_fields v JOIN base_contacts c
                ON c.workspace_id = v.workspace_id AND c.primary_email = v.field_value AND c.id <> v.contact_id
             WHERE v.workspace_id = ?1 AND v.field_name IN (SELECT field_name FROM typed WHERE field_type = 'email')
            UNION
            SELECT min(c.id, v.contact_id), max(c.id, v.contact_id), 'shared phone number'
              FROM custom_fields v JOIN base_contacts c
                ON c.workspace_id = v.workspace_id AND c.primary_phone = v.field_value AND c.id <> v.contact_id
             WHERE v.workspace_id = ?1 AND v.field_name IN (SELECT field_name FROM typed WHERE field_type = 'phone')
         ) WHERE (a, b) > (?2, ?3) ORDER BY a, b LIMIT ?4",
    )
    .bind(ws.id())
    .bind(after_a)
    .bind(after_b)
    .bind(limit)
    .fetch_all(db)
    .await
}
