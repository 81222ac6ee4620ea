//! The dashboard's "Today": follow-up dates due, the pipeline per stage, recent activity.

use sqlx::SqlitePool;

use crate::model::access::WorkspaceAccess;

/// Follow-up values of `field` due on or before `until` (a `YYYY-MM-DD` or a date-time):
/// `(contact id, name, value)`, earliest first. Year-less dates are never due.
pub async fn due(
    db: &SqlitePool,
    ws: &WorkspaceAccess,
    field: &str,
    until: &str,
    limit: i64,
) -> Result<Vec<(String, String, String)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT c.id, TRIM(COALESCE(c.first_name, '') || ' ' || COALESCE(c.last_name, '')), v.field_value
           FROM custom_fields v JOIN contacts c ON c.id = v.contact_id
          WHERE v.workspace_id = ? AND v.field_name = ? AND v.field_value >= '0' AND v.field_value <= ?
          ORDER BY v.field_value LIMIT ?",
    )
    .bind(ws.id())
    .bind(field)
    .bind(until)
    .bind(limit)
    .fetch_all(db)
    .await
}

/// Each pipeline stage in board order: `(id, name, contacts, sum of `value_field`)`.
pub async fn stages(
    db: &SqlitePool,
    ws: &WorkspaceAccess,
    value_field: Option<&str>,
) -> Result<Vec<(String, String, i64, Option<f64>)>, sqlx::Error> {
    sqlx::query_as(
        // LEFT JOINs run in the order written: each stage's assignments by the list index,
        // then each contact's value by the primary key (contact_id, field_name).
        "SELECT l.id, l.name, COUNT(a.contact_id), SUM(CAST(v.field_value AS REAL))
           FROM contact_lists l
           LEFT JOIN contact_list_assignments a ON a.list_id = l.id
           LEFT JOIN custom_fields v ON v.contact_id = a.contact_id AND v.field_name = ?2
          WHERE l.workspace_id = ?1 AND l.is_primary = 1
          GROUP BY l.id ORDER BY l.position, l.name",
    )
    .bind(ws.id())
    .bind(value_field)
    .fetch_all(db)
    .await
}

/// The newest timeline entries: `(contact id, name, type, content, timestamp)`.
pub async fn recent(
    db: &SqlitePool,
    ws: &WorkspaceAccess,
    limit: i64,
) -> Result<Vec<(String, String, String, String, String)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT l.contact_id, TRIM(COALESCE(c.first_name, '') || ' ' || COALESCE(c.last_name, '')), l.type, l.content,
                l.timestamp
           FROM communication_logs l JOIN contacts c ON c.id = l.contact_id
          WHERE l.workspace_id = ? AND l.type <> 'system'
          ORDER BY l.id DESC LIMIT ?",
    )
    .bind(ws.id())
    .bind(limit)
    .fetch_all(db)
    .await
}

/// Open follow-ups of notes and calls due on or before `until` (`YYYY-MM-DD`), through the
/// partial index `communication_logs_follow_ups`: `(entry id, contact id, name, type, body,
/// follow-up day)`, earliest first.
pub async fn notes_due(
    db: &SqlitePool,
    ws: &WorkspaceAccess,
    until: &str,
    limit: i64,
) -> Result<Vec<(String, String, String, String, String, String)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT g.id, g.contact_id, TRIM(COALESCE(c.first_name, '') || ' ' || COALESCE(c.last_name, '')), g.type,
                COALESCE(json_extract(g.content, '$.body'), ''), json_extract(g.content, '$.follow_up_on')
           FROM communication_logs g JOIN contacts c ON c.id = g.contact_id
          WHERE g.workspace_id = ?1
            AND json_extract(g.content, '$.follow_up_on') IS NOT NULL
            AND json_extract(g.content, '$.follow_up_done') IS NULL
            AND json_extract(g.content, '$.follow_up_on') <= ?2
            AND g.type IN ('note', 'call')
          ORDER BY json_extract(g.content, '$.follow_up_on') LIMIT ?3",
    )
    .bind(ws.id())
    .bind(until)
    .bind(limit)
    .fetch_all(db)
    .await
}

/// When each of `contacts` entered its current stage (`assigned_at`), by contact id.
pub async fn in_stage_since(
    db: &SqlitePool,
    ws: &WorkspaceAccess,
    contacts: &[String],
) -> Result<Vec<(String, String)>, sqlx::Error> {
    if contacts.is_empty() {
        return Ok(Vec::new());
    }
    let mut q = sqlx::QueryBuilder::new(
        "SELECT contact_id, assigned_at FROM contact_list_assignments WHERE is_primary = 1 AND workspace_id = ",
    );
    q.push_bind(ws.id().clone());
    q.push(" AND contact_id IN ");
    super::db::push_list(&mut q, contacts);
    q.build_query_as().fetch_all(db).await
}

/// Values of the date `fields` whose month and day fall from `from` to `to` (`MM-DD`, `from` <=
/// `to`; a span over New Year is two calls): `(contact id, name, field, value)`. One range of
/// the `custom_fields_month_day` index, whose condition the query repeats so SQLite uses it.
pub async fn yearly_between(
    db: &SqlitePool,
    ws: &WorkspaceAccess,
    fields: &[String],
    from: &str,
    to: &str,
    limit: i64,
) -> Result<Vec<(String, String, String, String)>, sqlx::Error> {
    if fields.is_empty() {
        return Ok(Vec::new());
    }
    let mut q = sqlx::QueryBuilder::new(
        "SELECT c.id, TRIM(COALESCE(c.first_name, '') || ' ' || COALESCE(c.last_name, '')), v.field_name, v.field_value
           FROM custom_fields v JOIN contacts c ON c.id = v.contact_id
          WHERE v.workspace_id = ",
    );
    q.push_bind(ws.id().to_string());
    q.push(" AND v.field_value GLOB '*[0-9][0-9]-[0-9][0-9]' AND substr(v.field_value, -5) BETWEEN ");
    q.push_bind(from.to_string());
    q.push(" AND ");
    q.push_bind(to.to_string());
    q.push(" AND v.field_name IN ");
    super::db::push_list(&mut q, fields);
    q.push(" ORDER BY substr(v.field_value, -5) LIMIT ");
    q.push_bind(limit);
    q.build_query_as().fetch_all(db).await
}
