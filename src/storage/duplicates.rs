use sqlx::SqlitePool;

use crate::model::access::WorkspaceAccess;

/// One page of pairs `(a, b, reason)` of contacts that may be the same person, `a < b`, in
/// `(a, b)` order after `after`. Bounded work, whatever the data:
/// - namesakes (same first name, last name and company) pair as a chain, each contact with the
///   next one of its name found through `base_contacts_same_person` with one seek: a thousand
///   "John Smith, Acme" make 999 pairs (merging along the chain folds them all), never
///   half a million;
/// - contacts with the same primary phone (phones may be shared, SPEC §4) pair as a chain too,
///   through `base_contacts_phone`;
/// - a custom email value pairs with the contact whose primary email it is, and a custom
///   phone value with the first contact whose primary phone it is (the chain joins the rest),
///   through `custom_fields_lookup` and those indexes.
///
/// A pair found for several reasons is one pair, its reasons joined.
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
                   (SELECT y.id FROM contacts y
                     WHERE y.workspace_id = x.workspace_id
                       AND lower(coalesce(y.last_name, '')) = lower(coalesce(x.last_name, ''))
                       AND lower(coalesce(y.first_name, '')) = lower(coalesce(x.first_name, ''))
                       AND lower(coalesce(y.company, '')) = lower(coalesce(x.company, ''))
                       AND y.id > x.id
                     ORDER BY lower(coalesce(y.last_name, '')), lower(coalesce(y.first_name, '')),
                              lower(coalesce(y.company, '')), y.id
                     LIMIT 1) AS b
              FROM contacts x
             WHERE x.workspace_id = ?1 AND x.id >= ?2 AND coalesce(x.first_name, x.last_name) IS NOT NULL
         ),
         phone_sharers AS (
            SELECT x.id AS a,
                   (SELECT y.id FROM contacts y
                     WHERE y.workspace_id = x.workspace_id AND y.primary_phone = x.primary_phone AND y.id > x.id
                     ORDER BY y.id LIMIT 1) AS b
              FROM contacts x
             WHERE x.workspace_id = ?1 AND x.id >= ?2 AND x.primary_phone IS NOT NULL
         )
         SELECT a, b, group_concat(reason, ' and ') FROM (
            SELECT a, b, 'same name and company' AS reason FROM namesakes WHERE b IS NOT NULL
            UNION
            SELECT a, b, 'shared phone number' FROM phone_sharers WHERE b IS NOT NULL
            UNION
            SELECT min(c.id, v.contact_id) AS a, max(c.id, v.contact_id) AS b, 'shared email'
              FROM custom_fields v JOIN contacts c
                ON c.workspace_id = v.workspace_id AND c.primary_email = v.field_value AND c.id <> v.contact_id
             WHERE v.workspace_id = ?1 AND v.field_name IN (SELECT field_name FROM typed WHERE field_type = 'email')
               AND EXISTS (SELECT 1 FROM contacts z WHERE z.id = v.contact_id)
            UNION
            SELECT min(c.id, v.contact_id), max(c.id, v.contact_id), 'shared phone number'
              FROM custom_fields v JOIN contacts c
                ON c.id = (SELECT h.id FROM contacts h
                            WHERE h.workspace_id = v.workspace_id AND h.primary_phone = v.field_value
                              AND h.id <> v.contact_id
                            ORDER BY h.id LIMIT 1)
             WHERE v.workspace_id = ?1 AND v.field_name IN (SELECT field_name FROM typed WHERE field_type = 'phone')
               AND EXISTS (SELECT 1 FROM contacts z WHERE z.id = v.contact_id)
         ) WHERE (a, b) > (?2, ?3) GROUP BY a, b ORDER BY a, b LIMIT ?4",
    )
    .bind(ws.id())
    .bind(after_a)
    .bind(after_b)
    .bind(limit)
    .fetch_all(db)
    .await
}
