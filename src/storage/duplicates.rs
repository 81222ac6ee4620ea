use sqlx::SqlitePool;

use crate::model::access::WorkspaceAccess;

/// The query of `pairs` (public for the test of its plan).
pub const PAIRS: &str = "WITH typed AS (
            SELECT field_name, field_type FROM custom_field_definitions
             WHERE field_type IN ('email', 'phone')
               AND (workspace_id = ?1
                    OR (workspace_id IS NULL AND user_id = (SELECT user_id FROM workspaces WHERE id = ?1)))
         ),
         -- Each contact with the next of its name, and of its number, in one pass over each
         -- index that reads no table row (linear in contacts, whatever their names). Contacts
         -- of an import still running are in the indexes: pairs that hold one are dropped
         -- below, through the view.
         name_chain AS (
            SELECT id AS a,
                   lead(id) OVER (PARTITION BY lower(coalesce(last_name, '')), lower(coalesce(first_name, '')),
                                               lower(coalesce(company, '')) ORDER BY id) AS b
              FROM base_contacts
             -- (Written against the indexed expressions, so the index alone answers it.)
             WHERE workspace_id = ?1
               AND NOT (lower(coalesce(last_name, '')) = '' AND lower(coalesce(first_name, '')) = '')
         ),
         -- Most numbers are one contact's: find the shared ones first (a covering pass that
         -- needs no window), then chain only their holders.
         shared_phones AS (
            SELECT primary_phone AS phone FROM base_contacts
             WHERE workspace_id = ?1 AND primary_phone IS NOT NULL
             GROUP BY primary_phone HAVING count(*) > 1
         ),
         phone_chain AS (
            SELECT x.id AS a, lead(x.id) OVER (PARTITION BY x.primary_phone ORDER BY x.id) AS b
              FROM shared_phones p CROSS JOIN base_contacts x
             WHERE x.workspace_id = ?1 AND x.primary_phone = p.phone
         ),
         namesakes AS (
            SELECT a, b FROM name_chain
             WHERE b IS NOT NULL AND a >= ?2
               AND EXISTS (SELECT 1 FROM contacts x WHERE x.id = a)
               AND EXISTS (SELECT 1 FROM contacts y WHERE y.id = b)
         ),
         phone_sharers AS (
            SELECT a, b FROM phone_chain
             WHERE b IS NOT NULL AND a >= ?2
               AND EXISTS (SELECT 1 FROM contacts x WHERE x.id = a)
               AND EXISTS (SELECT 1 FROM contacts y WHERE y.id = b)
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
         ) WHERE (a, b) > (?2, ?3) GROUP BY a, b ORDER BY a, b LIMIT ?4";

/// One page of pairs `(a, b, reason)` of contacts that may be the same person, `a < b`, in
/// `(a, b)` order after `after`. Bounded work, whatever the data:
/// - namesakes (same first name, last name and company) pair as a chain, each contact with the
///   next one of its name: a thousand "John Smith, Acme" make 999 pairs (merging along the
///   chain folds them all), never half a million. The chain is one pass over
///   `base_contacts_same_person` that reads no table row (issue 35: the old per-contact lookup
///   sorted every later namesake, quadratic in namesakes);
/// - contacts with the same primary phone (phones may be shared, SPEC §4) pair as a chain too,
///   found the same way through `base_contacts_phone`;
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
    sqlx::query_as(PAIRS)
        .bind(ws.id())
        .bind(after_a)
        .bind(after_b)
        .bind(limit)
        .fetch_all(db)
        .await
}
