use std::collections::{BTreeMap, BTreeSet};

use sqlx::{SqliteConnection, SqlitePool};

use super::lists::ContactList;
use crate::clock;
use crate::model::access::WorkspaceAccess;
use crate::model::ids::ContactId;

/// A contact's own columns, as a statement returns them, or as one element of
/// `contacts_as_json`'s array (serde reads a JSON array into a struct by position).
#[derive(sqlx::FromRow, serde::Deserialize)]
pub struct BaseRow {
    pub id: String,
    pub workspace_id: String,
    pub created_on: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub primary_email: Option<String>,
    pub primary_phone: Option<String>,
    pub company: Option<String>,
}

impl From<BaseRow> for ContactRecord {
    fn from(r: BaseRow) -> Self {
        ContactRecord {
            id: r.id,
            workspace_id: r.workspace_id,
            created_on: r.created_on,
            base: BaseFields {
                first_name: r.first_name,
                last_name: r.last_name,
                primary_email: r.primary_email,
                primary_phone: r.primary_phone,
                company: r.company,
            },
            custom: BTreeMap::new(),
            lists: Vec::new(),
        }
    }
}

pub const BASE_COLUMNS: [&str; 8] = [
    "id",
    "workspace_id",
    "created_on",
    "first_name",
    "last_name",
    "primary_email",
    "primary_phone",
    "company",
];

/// The contacts a statement `select` finds (it returns `BASE_COLUMNS`), in its order, with
/// their custom values and lists, read as one row: a JSON array holding, for each contact,
/// `[[its columns…], {field: value…}, [[list id, name, is_primary, position]…]]`.
///
/// - One row: sqlx hands each row from SQLite's thread to the request's task on its own,
///   copying each value twice on the way; a page of a hundred contacts read as rows (and their
///   values and lists as more rows) cost more than the statements did.
/// - The array is joined from pieces SQLite's JSON functions wrote, so nothing is escaped twice
///   or parsed again.
/// - An aggregate over a subquery with `ORDER BY … LIMIT` keeps its order and its limit
///   (SQLite never flattens one into the other), so values and lists are read for the rows
///   kept, never for every row a search sorted.
/// - Values and memberships need no workspace check of their own: `select` checks the
///   contacts, and foreign keys hold values and memberships to their contact's workspace
///   (`(contact_id, workspace_id)`, migration 0006).
///
/// `values`: the custom values to read — all of them, or only the named fields' (a list page
/// shows a few columns; reading and parsing the rest was a tenth of its time).
pub fn contacts_as_json(select: &str, values: Values) -> String {
    format!("{}{select}{PAGE_END}", page_start(values))
}

/// Which custom values `contacts_as_json` reads.
#[derive(Clone, Copy)]
pub enum Values<'a> {
    All,
    /// These fields' (names as `domain::field` allows them).
    Only(&'a [String]),
}

impl Values<'_> {
    /// The JSON object of one contact's values, for `page_start`.
    fn object(self) -> String {
        let all = "(SELECT json_group_object(v.field_name, v.field_value)
                      FROM custom_fields v WHERE v.contact_id = page.id";
        match self {
            Values::All => format!("{all})"),
            Values::Only([]) => "'{}'".to_string(),
            // Written into the statement rather than bound: the statement's own binds follow
            // in the subquery. Quotes are doubled, though field names hold none.
            Values::Only(names) => {
                let quoted: Vec<String> = names.iter().map(|n| format!("'{}'", n.replace('\'', "''"))).collect();
                format!("{all} AND v.field_name IN ({}))", quoted.join(", "))
            }
        }
    }
}

/// `contacts_as_json` up to where its subquery begins (for a `QueryBuilder` that writes the
/// subquery itself, then `PAGE_END`).
fn page_start(values: Values) -> String {
    format!(
        "SELECT '[' || group_concat('[' || json_array({}) || ','
                  || {}
                  || ',' || (SELECT json_group_array(json_array(l.id, l.name, l.is_primary, l.position))
                        FROM contact_list_assignments a JOIN contact_lists l ON l.id = a.list_id
                       WHERE a.contact_id = page.id)
                  || ']', ',') || ']'
           FROM (",
        BASE_COLUMNS.map(|c| format!("page.{c}")).join(", "),
        values.object()
    )
}

const PAGE_END: &str = ") AS page";

/// Reads what a `contacts_as_json` statement returned (`None`: it found nobody).
pub fn contacts_from_json(text: Option<&str>) -> Result<Vec<ContactRecord>, sqlx::Error> {
    type Found = (BaseRow, BTreeMap<String, String>, Vec<(String, String, i64, i64)>);
    let found: Vec<Found> = serde_json::from_str(text.unwrap_or("[]"))
        .map_err(|e| sqlx::Error::Decode(format!("a page of contacts: {e}").into()))?;
    Ok(found
        .into_iter()
        .map(|(row, custom, lists)| {
            let mut record = ContactRecord::from(row);
            record.custom = custom;
            record.lists = lists
                .into_iter()
                .map(|(id, name, is_primary, position)| ContactList {
                    id,
                    name,
                    is_primary: is_primary != 0,
                    position,
                })
                .collect();
            sort_lists(&mut record.lists);
            record
        })
        .collect())
}

pub async fn insert(conn: &mut SqliteConnection, ws: &WorkspaceAccess, c: &ContactRecord) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO base_contacts (id, workspace_id, created_on, first_name, last_name, primary_email, primary_phone, company)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(&c.id)
    .bind(ws.id())
    .bind(&c.created_on)
    .bind(&c.base.first_name)
    .bind(&c.base.last_name)
    .bind(&c.base.primary_email)
    .bind(&c.base.primary_phone)
    .bind(&c.base.company)
    .execute(&mut *conn)
    .await?;
    let now = clock::now_text();
    for (name, value) in &c.custom {
        sqlx::query(
            "INSERT INTO custom_fields (contact_id, workspace_id, field_name, field_value, updated_at) VALUES (?, ?, ?, ?, ?)",
        )
        .bind(&c.id)
        .bind(ws.id())
        .bind(name)
        .bind(value)
        .bind(&now)
        .execute(&mut *conn)
        .await?;
    }
    refresh_search(conn, ws, &c.id).await
}

/// A contact's search document (for `contact_search`), from `base_contacts c`: names, email,
/// phone, company and every custom value. One definition for every statement that writes one.
#[macro_export]
#[doc(hidden)]
macro_rules! search_document_sql {
    () => {
        "coalesce(c.first_name, '') || ' ' || coalesce(c.last_name, '') || ' ' || coalesce(c.primary_email, '')
         || ' ' || coalesce(c.primary_phone, '') || ' ' || coalesce(c.company, '') || ' ' ||
         coalesce((SELECT group_concat(v.field_value, ' ') FROM custom_fields v WHERE v.contact_id = c.id), '') || ' ' ||
         coalesce((SELECT group_concat(json_extract(g.content, '$.body'), ' ') FROM communication_logs g
                    WHERE g.contact_id = c.id AND g.type IN ('note', 'call')), '')"
    };
}

/// Rebuilds every search document of a workspace in one statement (after bulk loads).
pub async fn rebuild_search(conn: &mut SqliteConnection, ws: &WorkspaceAccess) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM contact_search WHERE rowid IN (SELECT rowid FROM base_contacts WHERE workspace_id = ?)")
        .bind(ws.id())
        .execute(&mut *conn)
        .await?;
    sqlx::query(concat!(
        "INSERT INTO contact_search (rowid, body) SELECT c.rowid, ",
        search_document_sql!(),
        " FROM base_contacts c WHERE c.workspace_id = ?"
    ))
    .bind(ws.id())
    .execute(conn)
    .await?;
    Ok(())
}

/// Adds the search documents of new contacts (an import's, a transaction at a time).
pub async fn add_search_documents(
    conn: &mut SqliteConnection,
    ws: &WorkspaceAccess,
    ids: &[&str],
) -> Result<(), sqlx::Error> {
    if ids.is_empty() {
        return Ok(());
    }
    sqlx::query(concat!(
        "INSERT INTO contact_search (rowid, body) SELECT c.rowid, ",
        search_document_sql!(),
        " FROM base_contacts c WHERE c.id IN (SELECT value FROM json_each(?)) AND c.workspace_id = ?"
    ))
    .bind(serde_json::to_string(ids).expect("text serialises"))
    .bind(ws.id())
    .execute(conn)
    .await?;
    Ok(())
}

/// Rewrites one contact's search document from its current fields and values.
pub async fn refresh_search(conn: &mut SqliteConnection, ws: &WorkspaceAccess, id: &str) -> Result<(), sqlx::Error> {
    sqlx::query(
        "DELETE FROM contact_search WHERE rowid = (SELECT rowid FROM base_contacts WHERE id = ? AND workspace_id = ?)",
    )
    .bind(id)
    .bind(ws.id())
    .execute(&mut *conn)
    .await?;
    sqlx::query(concat!(
        "INSERT INTO contact_search (rowid, body) SELECT c.rowid, ",
        search_document_sql!(),
        " FROM base_contacts c WHERE c.id = ? AND c.workspace_id = ?"
    ))
    .bind(id)
    .bind(ws.id())
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn update_base(
    conn: &mut SqliteConnection,
    ws: &WorkspaceAccess,
    c: &ContactRecord,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE base_contacts SET first_name = ?, last_name = ?, primary_email = ?, primary_phone = ?, company = ?
          WHERE id = ? AND workspace_id = ?",
    )
    .bind(&c.base.first_name)
    .bind(&c.base.last_name)
    .bind(&c.base.primary_email)
    .bind(&c.base.primary_phone)
    .bind(&c.base.company)
    .bind(&c.id)
    .bind(ws.id())
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn set_value(
    conn: &mut SqliteConnection,
    ws: &WorkspaceAccess,
    contact: &ContactId,
    name: &str,
    value: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO custom_fields (contact_id, workspace_id, field_name, field_value, updated_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (contact_id, field_name) DO UPDATE SET field_value = excluded.field_value, updated_at = excluded.updated_at",
    )
    .bind(contact)
    .bind(ws.id())
    .bind(name)
    .bind(value)
    .bind(clock::now_text())
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn delete_value(
    conn: &mut SqliteConnection,
    ws: &WorkspaceAccess,
    contact: &ContactId,
    name: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM custom_fields WHERE contact_id = ? AND field_name = ? AND +workspace_id = ?")
        .bind(contact)
        .bind(name)
        .bind(ws.id())
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn delete(conn: &mut SqliteConnection, ws: &WorkspaceAccess, id: &ContactId) -> Result<bool, sqlx::Error> {
    // Only a contact people can see: one an import is still writing is not there yet.
    let done = sqlx::query(
        "DELETE FROM base_contacts WHERE rowid = (SELECT rowid FROM contacts WHERE id = ? AND workspace_id = ?)",
    )
    .bind(id)
    .bind(ws.id())
    .execute(conn)
    .await?;
    Ok(done.rows_affected() > 0)
}

pub async fn exists(conn: &mut SqliteConnection, ws: &WorkspaceAccess, id: &ContactId) -> Result<bool, sqlx::Error> {
    let found: Option<i64> = sqlx::query_scalar("SELECT 1 FROM contacts WHERE id = ? AND workspace_id = ?")
        .bind(id)
        .bind(ws.id())
        .fetch_optional(conn)
        .await?;
    Ok(found.is_some())
}

/// Which contacts a look-up finds.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Seen {
    /// Those people can see (the `contacts` view).
    Visible,
    /// Also those written by imports that have not finished (`base_contacts`, migration
    /// 0025): what a running import checks its rows against, its own earlier rows among them.
    WithImports,
}

impl Seen {
    fn table(self) -> &'static str {
        match self {
            Seen::Visible => "contacts",
            Seen::WithImports => "base_contacts",
        }
    }
}

/// The contact whose primary email this is.
pub async fn id_by_email(
    conn: &mut SqliteConnection,
    ws: &WorkspaceAccess,
    email: &str,
    seen: Seen,
) -> Result<Option<String>, sqlx::Error> {
    let sql = format!(
        "SELECT id FROM {} WHERE workspace_id = ? AND primary_email = ?",
        seen.table()
    );
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
        .bind(ws.id())
        .bind(email)
        .fetch_optional(conn)
        .await
}

/// The contacts whose primary phone is one of `phones`, with their names: `(id, base)`,
/// oldest first. Phones may be shared, so each phone can name several contacts.
pub async fn holding_phones(
    conn: &mut SqliteConnection,
    ws: &WorkspaceAccess,
    phones: &[&str],
    seen: Seen,
) -> Result<Vec<(String, BaseFields)>, sqlx::Error> {
    if phones.is_empty() {
        return Ok(Vec::new());
    }
    let phones = serde_json::to_string(phones).expect("text serialises");
    type Row = (String, Option<String>, Option<String>, Option<String>);
    let sql = format!(
        "SELECT id, first_name, last_name, primary_phone FROM {}
          WHERE workspace_id = ? AND primary_phone IN (SELECT value FROM json_each(?))
          ORDER BY id",
        seen.table()
    );
    let rows: Vec<Row> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(ws.id())
        .bind(phones)
        .fetch_all(conn)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(id, first_name, last_name, primary_phone)| {
            let base = BaseFields {
                first_name,
                last_name,
                primary_phone,
                ..BaseFields::default()
            };
            (id, base)
        })
        .collect())
}

/// One contact with its custom values and lists, in a single statement: a `GET contact` is
/// the hottest path, and every statement costs a round trip to SQLite's connection thread.
/// Every part is kept inside the workspace, and a contact outside it has no `c` row, so then
/// nothing is returned.
pub async fn load<'e>(
    db: impl sqlx::SqliteExecutor<'e>,
    ws: &WorkspaceAccess,
    id: &ContactId,
) -> Result<Option<ContactRecord>, sqlx::Error> {
    type Row = (
        String,
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
        i64,
        i64,
    );
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT 'c', id, workspace_id, created_on, first_name, last_name, primary_email, primary_phone, company, 0, 0
           FROM contacts WHERE id = ?1 AND workspace_id = ?2
         UNION ALL
         SELECT 'v', field_name, field_value, NULL, NULL, NULL, NULL, NULL, NULL, 0, 0
           FROM custom_fields WHERE contact_id = ?1 AND +workspace_id = ?2
         UNION ALL
         SELECT 'l', l.id, l.name, NULL, NULL, NULL, NULL, NULL, NULL, l.is_primary, l.position
           FROM contact_list_assignments a JOIN contact_lists l ON l.id = a.list_id AND l.workspace_id = a.workspace_id
          WHERE a.contact_id = ?1 AND a.workspace_id = ?2",
    )
    .bind(id)
    .bind(ws.id())
    .fetch_all(db)
    .await?;
    let mut record: Option<ContactRecord> = None;
    let mut values = Vec::new();
    let mut lists = Vec::new();
    for (kind, a, b, created_on, first_name, last_name, primary_email, primary_phone, company, n1, n2) in rows {
        match kind.as_str() {
            "c" => {
                record = Some(ContactRecord::from(BaseRow {
                    id: a.unwrap_or_default(),
                    workspace_id: b.unwrap_or_default(),
                    created_on: created_on.unwrap_or_default(),
                    first_name,
                    last_name,
                    primary_email,
                    primary_phone,
                    company,
                }))
            }
            "v" => values.push((a.unwrap_or_default(), b.unwrap_or_default())),
            _ => lists.push(ContactList {
                id: a.unwrap_or_default(),
                name: b.unwrap_or_default(),
                is_primary: n1 != 0,
                position: n2,
            }),
        }
    }
    let Some(mut record) = record else { return Ok(None) };
    record.custom.extend(values);
    sort_lists(&mut lists);
    record.lists = lists;
    Ok(Some(record))
}

/// A contact's lists as every page shows them: its stage first, then by position and name.
fn sort_lists(lists: &mut [ContactList]) {
    lists.sort_by(|x, y| {
        y.is_primary
            .cmp(&x.is_primary)
            .then(x.position.cmp(&y.position))
            .then(x.name.cmp(&y.name))
    });
}

/// Every custom value of one contact (for merging).
pub async fn values_of(
    conn: &mut SqliteConnection,
    ws: &WorkspaceAccess,
    id: &ContactId,
) -> Result<BTreeMap<String, String>, sqlx::Error> {
    let rows: Vec<(String, String)> =
        sqlx::query_as("SELECT field_name, field_value FROM custom_fields WHERE contact_id = ? AND +workspace_id = ?")
            .bind(id)
            .bind(ws.id())
            .fetch_all(conn)
            .await?;
    Ok(rows.into_iter().collect())
}

/// A contact an import creates.
pub struct NewContact<'a> {
    pub id: &'a str,
    pub base: &'a BaseFields,
}

/// Inserts many new contacts for an import, leaving out each one whose email is already taken
/// (by an earlier contact or an earlier row of the same statement): returns the ids of those
/// written; the caller deals with the others one by one. They are the import's (`import`):
/// nobody sees them while it is hidden (`storage::imports::hide`).
pub async fn insert_new(
    conn: &mut SqliteConnection,
    ws: &WorkspaceAccess,
    import: &str,
    created_on: &str,
    contacts: &[NewContact<'_>],
) -> Result<std::collections::HashSet<String>, sqlx::Error> {
    let mut written = std::collections::HashSet::with_capacity(contacts.len());
    // Statements of a few thousand parameters: fewer round trips than single rows, and each
    // prepared statement (kept in the connection's cache) stays small.
    for chunk in contacts.chunks(BULK_ROWS) {
        let mut q = with_workspace_and_time(ws, created_on);
        q.push(", i(import) AS (VALUES (")
            .push_bind(import)
            .push(")), batch AS (");
        q.push_values(chunk, |mut b, c| {
            b.push_bind(c.id)
                .push_bind(c.base.first_name.as_deref())
                .push_bind(c.base.last_name.as_deref())
                .push_bind(c.base.primary_email.as_deref())
                .push_bind(c.base.primary_phone.as_deref())
                .push_bind(c.base.company.as_deref());
        });
        q.push(
            ") INSERT OR FAIL INTO base_contacts
                 (id, workspace_id, created_on, first_name, last_name, primary_email, primary_phone, company, import_pending)
               SELECT b.column1, k.ws, k.at, b.column2, b.column3, b.column4, b.column5, b.column6, i.import
                 FROM batch b CROSS JOIN k CROSS JOIN i WHERE true ON CONFLICT DO NOTHING",
        );
        let inserted = q.build().execute(&mut *conn).await?.rows_affected();
        // Nearly always every row goes in. Only then is asking which ones did left out: the
        // ids are new, so those that exist now are those this statement wrote. (`RETURNING`
        // would hand back every id, a row at a time, from sqlx's worker thread.)
        if inserted == chunk.len() as u64 {
            written.extend(chunk.iter().map(|c| c.id.to_string()));
        } else {
            written.extend(existing(conn, chunk.iter().map(|c| c.id)).await?);
        }
    }
    Ok(written)
}

/// Which of `ids` name a contact, asked in one statement and answered in one row.
async fn existing(conn: &mut SqliteConnection, ids: impl Iterator<Item = &str>) -> Result<Vec<String>, sqlx::Error> {
    let ids = serde_json::to_string(&ids.collect::<Vec<_>>()).expect("text serialises");
    let found: String = sqlx::query_scalar(
        "SELECT json_group_array(id) FROM base_contacts WHERE id IN (SELECT value FROM json_each(?))",
    )
    .bind(ids)
    .fetch_one(conn)
    .await?;
    Ok(serde_json::from_str(&found).expect("SQLite writes a JSON array of text"))
}

/// The start of a bulk insert: the workspace and time every row shares, bound once as `k(ws, at)`
/// rather than once per row.
fn with_workspace_and_time(ws: &WorkspaceAccess, at: &str) -> sqlx::QueryBuilder<sqlx::Sqlite> {
    let mut q = sqlx::QueryBuilder::new("WITH k(ws, at) AS (VALUES (");
    q.push_bind(ws.id().as_str()).push(", ").push_bind(at).push("))");
    q
}

/// Rows per multi-row statement of a bulk write.
const BULK_ROWS: usize = 500;
/// Bound parameters a bulk statement stays under (SQLite allows 32,766, less a margin for the
/// statement's own).
const MAX_PARAMETERS: usize = 32_000;

/// Makes this connection's staging table for `stage_values`, once per import run (a bulk
/// writer's connection, closed after the run, takes the table with it).
pub async fn open_value_stage(conn: &mut SqliteConnection) -> Result<(), sqlx::Error> {
    sqlx::query(
        "CREATE TEMP TABLE IF NOT EXISTS staged_values (contact_id TEXT NOT NULL, field_name TEXT NOT NULL, field_value TEXT NOT NULL)",
    )
    .execute(&mut *conn)
    .await?;
    // Appended to and read once in order: a few pages of cache do (SQLite's default of 2 MB
    // for the temporary database was 2 MB more of an import's peak memory).
    sqlx::query("PRAGMA temp.cache_size = 32").execute(conn).await?;
    Ok(())
}

/// Stages the custom values of new contacts, `(contact id, field name → value)`, for
/// `fold_staged_values` to write before the transaction commits. Many contacts go to a
/// statement: each contact is one row of a VALUES list with a column per field name, which
/// the statement unfolds into a value per field (a fifth of the parameters of a row per value,
/// where the field name would repeat each time). The staging table is a temporary one of this
/// connection (`open_value_stage`), on disk (`storage::db::bulk_writer`): appending to it
/// touches no index.
pub async fn stage_values(
    conn: &mut SqliteConnection,
    contacts: &[(&str, &BTreeMap<String, String>)],
) -> Result<(), sqlx::Error> {
    let names: BTreeSet<&str> = contacts
        .iter()
        .flat_map(|(_, values)| values.keys().map(String::as_str))
        .collect();
    if names.is_empty() {
        return Ok(());
    }
    // A file may map hundreds of columns to fields: keep each statement within SQLite's
    // 32,766 parameters.
    let rows = (MAX_PARAMETERS / (names.len() + 1)).clamp(1, BULK_ROWS);
    for chunk in contacts.chunks(rows) {
        let mut q = sqlx::QueryBuilder::new("WITH f(i, name) AS (");
        q.push_values(names.iter().enumerate(), |mut b, (i, name)| {
            b.push(i.to_string()).push_bind(*name);
        });
        q.push("), batch AS (");
        q.push_values(chunk, |mut b, (id, values)| {
            b.push_bind(*id);
            for name in &names {
                b.push_bind(values.get(*name).map(String::as_str));
            }
        });
        q.push(
            ") INSERT INTO temp.staged_values (contact_id, field_name, field_value)
              SELECT * FROM (SELECT batch.column1, f.name, CASE f.i",
        );
        for i in 0..names.len() {
            q.push(format!(" WHEN {i} THEN batch.column{}", i + 2));
        }
        q.push(" END AS value FROM batch CROSS JOIN f) WHERE value IS NOT NULL");
        q.build().execute(&mut *conn).await?;
    }
    Ok(())
}

/// Writes the values `stage_values` staged on this connection into `ws` — all of contacts an
/// import has not shown yet — in one statement, in
/// the order of the index of values (`custom_fields_lookup`), and empties the stage. A
/// transaction's values in one sorted pass change each page of that index once, where a
/// sorted pass per 500 contacts came back to the same pages a dozen times per transaction,
/// and the index is larger than the page cache: 100k rows × 10 values took 11.4 s that way.
/// The new contacts' own rows, in the order of the table, are a few pages at its end.
pub async fn fold_staged_values(conn: &mut SqliteConnection, ws: &WorkspaceAccess) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT OR FAIL INTO custom_fields (contact_id, workspace_id, field_name, field_value, updated_at)
         SELECT contact_id, ?, field_name, field_value, ? FROM temp.staged_values ORDER BY 3, 4, 1",
    )
    .bind(ws.id())
    .bind(clock::now_text())
    .execute(&mut *conn)
    .await?;
    sqlx::query("DELETE FROM temp.staged_values")
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Contacts by id, with their custom values and lists (a campaign's batch, a page sorted by a
/// field), in no particular order; ids of another workspace, or deleted since, are simply
/// not found.
pub async fn load_many(
    db: &SqlitePool,
    ws: &WorkspaceAccess,
    ids: &[String],
    values: Values<'_>,
) -> Result<Vec<ContactRecord>, sqlx::Error> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut q = sqlx::QueryBuilder::new(format!(
        "{}SELECT {} FROM contacts WHERE workspace_id = ",
        page_start(values),
        BASE_COLUMNS.join(", ")
    ));
    q.push_bind(ws.id().clone());
    q.push(" AND id IN ");
    super::db::push_list(&mut q, ids);
    q.push(PAGE_END);
    let text: Option<String> = q.build_query_scalar().fetch_one(db).await?;
    contacts_from_json(text.as_deref())
}

#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct BaseFields {
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub primary_email: Option<String>,
    pub primary_phone: Option<String>,
    pub company: Option<String>,
}

/// A contact as stored: base fields, raw custom values, lists.
#[derive(Debug, Clone, Default)]
pub struct ContactRecord {
    pub id: String,
    pub workspace_id: String,
    pub created_on: String,
    pub base: BaseFields,
    /// Canonical stored text by field name, including orphans (values whose definition is gone).
    pub custom: BTreeMap<String, String>,
    pub lists: Vec<ContactList>,
}
