use sqlx::SqlitePool;

use crate::model::access::WorkspaceAccess;

/// The query of `pairs` (public for the test of its plan).
pub const PAIRS: &str = "WITH typed AS (
            SELECT field_name, field_type FROM custom_field_definitions
             WHERE field_type IN ('email', 'phone')
               AND (workspace_id = ?1
                    OR (workspace_id IS NULL AND user_id = (SELECT user_id FROM workspaces WHERE id = ?1)))
         ),
         -- Names, and numbers, that two or more contacts share: each one GROUP BY over its
         -- index (linear in contacts, whatever their names); then only their holders are
         -- chained, each with the next of its name or number. Contacts of an import still
         -- running are in the indexes but not in the chains (the row is read for the key
         -- anyway), so the chain joins the visible ones on either side of them.
         shared_names AS (
            SELECT person_key AS k FROM base_contacts
             WHERE workspace_id = ?1
               -- A key without a first or last name (a company alone) is nobody's name.
               AND substr(person_key, 1, 2) <> char(31) || char(31)
             GROUP BY person_key HAVING count(*) > 1
         ),
         name_chain AS (
            SELECT x.id AS a, lead(x.id) OVER (PARTITION BY x.person_key ORDER BY x.id) AS b
              FROM shared_names s CROSS JOIN base_contacts x
             WHERE x.workspace_id = ?1 AND x.person_key = s.k
               AND (x.import_pending IS NULL OR x.import_pending NOT IN (SELECT import_id FROM hidden_imports))
         ),
         shared_phones AS (
            SELECT primary_phone AS phone FROM base_contacts
             WHERE workspace_id = ?1 AND primary_phone IS NOT NULL
             GROUP BY primary_phone HAVING count(*) > 1
         ),
         phone_chain AS (
            SELECT x.id AS a, lead(x.id) OVER (PARTITION BY x.primary_phone ORDER BY x.id) AS b
              FROM shared_phones p CROSS JOIN base_contacts x
             WHERE x.workspace_id = ?1 AND x.primary_phone = p.phone
               AND (x.import_pending IS NULL OR x.import_pending NOT IN (SELECT import_id FROM hidden_imports))
         ),
         namesakes AS (
            SELECT a, b FROM name_chain WHERE b IS NOT NULL AND a >= ?2
         ),
         phone_sharers AS (
            SELECT a, b FROM phone_chain WHERE b IS NOT NULL AND a >= ?2
         )
         SELECT a, b, replace(group_concat(DISTINCT reason ORDER BY reason), ',', ' and ') FROM (
            SELECT a, b, 'same name and company' AS reason FROM namesakes WHERE b IS NOT NULL
            UNION ALL
            SELECT a, b, 'shared phone number' FROM phone_sharers WHERE b IS NOT NULL
            UNION ALL
            SELECT min(c.id, v.contact_id) AS a, max(c.id, v.contact_id) AS b, 'shared email'
              FROM custom_fields v JOIN contacts c
                ON c.workspace_id = v.workspace_id AND c.primary_email = v.field_value AND c.id <> v.contact_id
             WHERE v.workspace_id = ?1 AND v.field_name IN (SELECT field_name FROM typed WHERE field_type = 'email')
               -- Naming `c` holds this check until a value has found its contact: most values
               -- find none, and each check is a lookup (7 % of the query on 100k contacts).
               AND EXISTS (SELECT 1 FROM contacts z WHERE z.id = v.contact_id AND z.id <> c.id)
            UNION ALL
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
///   chain folds them all), never half a million. The names shared are found in one GROUP BY
///   over `base_contacts_same_person` (the generated `person_key`, migration 0034) and only
///   their holders are chained (issue 35: the old per-contact lookup sorted every later
///   namesake, quadratic in namesakes; a window over every contact cost 114 ms at 100k);
/// - contacts with the same primary phone (phones may be shared, SPEC §4) pair as a chain too,
///   found the same way through `base_contacts_phone`;
/// - a custom email value pairs with the contact whose primary email it is, and a custom
///   phone value with the first contact whose primary phone it is (the chain joins the rest),
///   through `custom_fields_lookup` and those indexes.
///
/// A pair found for several reasons is one pair, its reasons joined in alphabetical order (the
/// reasons are gathered without removing repeats, `UNION ALL`: the one grouping by pair does
/// that, where each `UNION` sorted every pair once more).
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
