use sqlx::{SqliteConnection, SqlitePool};

use crate::clock;
use crate::model::access::WorkspaceAccess;
use crate::model::ids::{ImportId, UserId};
use crate::storage::paused_triggers::{self, Paused};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ImportRow {
    pub id: String,
    pub workspace_id: String,
    pub user_id: Option<String>,
    pub filename: String,
    pub format: String,
    pub encoding: String,
    pub status: String,
    pub mapping: Option<String>,
    pub rows_total: i64,
    pub report: Option<String>,
    pub via: String,
    pub created_at: String,
    pub finished_at: Option<String>,
    /// Until when a running import's run holds it (migration 0025).
    pub lease_until: Option<String>,
}

macro_rules! columns {
    () => {
        "id, workspace_id, user_id, filename, format, encoding, status, mapping, rows_total, report, via, created_at, finished_at, lease_until"
    };
}

pub struct NewImport<'a> {
    pub id: &'a ImportId,
    pub workspace: &'a WorkspaceAccess,
    pub user: &'a UserId,
    pub filename: &'a str,
    pub format: &'a str,
    pub encoding: &'a str,
    pub status: &'a str,
    pub mapping: Option<&'a str>,
    pub rows_total: i64,
    pub via: &'a str,
}

pub async fn insert(conn: &mut SqliteConnection, n: &NewImport<'_>) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO imports (id, workspace_id, user_id, filename, format, encoding, status, mapping, rows_total, via, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(n.id)
    .bind(n.workspace.id())
    .bind(n.user)
    .bind(n.filename)
    .bind(n.format)
    .bind(n.encoding)
    .bind(n.status)
    .bind(n.mapping)
    .bind(n.rows_total)
    .bind(n.via)
    .bind(clock::now_text())
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn find(db: &SqlitePool, ws: &WorkspaceAccess, id: &ImportId) -> Result<Option<ImportRow>, sqlx::Error> {
    sqlx::query_as(concat!(
        "SELECT ",
        columns!(),
        " FROM imports WHERE id = ? AND workspace_id = ?"
    ))
    .bind(id)
    .bind(ws.id())
    .fetch_optional(db)
    .await
}

pub async fn list(db: &SqlitePool, ws: &WorkspaceAccess, limit: i64) -> Result<Vec<ImportRow>, sqlx::Error> {
    sqlx::query_as(concat!(
        "SELECT ",
        columns!(),
        " FROM imports WHERE workspace_id = ? AND status <> 'draft' ORDER BY id DESC LIMIT ?"
    ))
    .bind(ws.id())
    .bind(limit)
    .fetch_all(db)
    .await
}

/// Imports whose file is still needed: drafts and those waiting or running.
pub async fn waiting_ids(db: &SqlitePool) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT id FROM imports WHERE status IN ('draft', 'queued', 'running')")
        .fetch_all(db)
        .await
}

/// Files of imports uploaded before they were kept on disk (one at a time): written out by
/// `write`, then cleared here.
pub async fn move_out_legacy_files(
    db: &SqlitePool,
    mut write: impl FnMut(&str, &[u8]) -> std::io::Result<()>,
) -> anyhow::Result<u64> {
    let mut moved = 0;
    loop {
        let next: Option<(String, Vec<u8>)> =
            sqlx::query_as("SELECT id, file FROM imports WHERE file IS NOT NULL LIMIT 1")
                .fetch_optional(db)
                .await?;
        let Some((id, file)) = next else { return Ok(moved) };
        write(&id, &file)?;
        let mut tx = super::db::begin_write(db).await?;
        sqlx::query("UPDATE imports SET file = NULL WHERE id = ?")
            .bind(&id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        moved += 1;
    }
}

/// Takes the oldest queued import, atomically, so two workers never run the same one, with a
/// claim that lasts until `lease_until` unless renewed (`renew`).
pub async fn claim_next(db: &SqlitePool, lease_until: &str) -> Result<Option<ImportRow>, sqlx::Error> {
    let mut tx = super::db::begin_write(db).await?;
    let claimed = sqlx::query_as(concat!(
        "UPDATE imports SET status = 'running', lease_until = ?
          WHERE id = (SELECT id FROM imports WHERE status = 'queued' ORDER BY id LIMIT 1)
         RETURNING ",
        columns!()
    ))
    .bind(lease_until)
    .fetch_optional(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(claimed)
}

/// What a claim on an import is for: a run holds it while the import is `running`, a revert
/// while it is still `done`.
#[derive(Clone, Copy)]
pub enum Claim {
    Run,
    Revert,
}

impl Claim {
    fn status(self) -> &'static str {
        match self {
            Claim::Run => "running",
            Claim::Revert => "done",
        }
    }
}

/// Extends a claim on an import from `held` (what its holder last wrote) to `until`, inside
/// the holder's transaction; false when the claim is no longer theirs (it lapsed and was taken
/// back: `lapsed_runs`, `marked_but_shown`), and the holder must stop.
pub async fn renew(
    conn: &mut SqliteConnection,
    id: &str,
    claim: Claim,
    held: &str,
    until: &str,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("UPDATE imports SET lease_until = ? WHERE id = ? AND status = ? AND lease_until = ?")
        .bind(until)
        .bind(id)
        .bind(claim.status())
        .bind(held)
        .execute(conn)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Running imports whose claim lapsed before `now`: their process died (or never renewed
/// them: imports claimed before claims existed).
pub async fn lapsed_runs(db: &SqlitePool, now: &str) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT id FROM imports WHERE status = 'running' AND (lease_until IS NULL OR lease_until < ?)")
        .bind(now)
        .fetch_all(db)
        .await
}

/// Claims a lapsed run (`now` as in `lapsed_runs`) until `until`, to clean it up; false when
/// it is no longer lapsed (someone else took it back first).
pub async fn take_lapsed(conn: &mut SqliteConnection, id: &str, now: &str, until: &str) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE imports SET lease_until = ?
          WHERE id = ? AND status = 'running' AND (lease_until IS NULL OR lease_until < ?)",
    )
    .bind(until)
    .bind(id)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Queues a run taken back (`take_lapsed`, claimed until `held`) to run again from the start.
pub async fn requeue(conn: &mut SqliteConnection, id: &str, held: &str) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE imports SET status = 'queued', lease_until = NULL WHERE id = ? AND status = 'running' AND lease_until = ?")
        .bind(id)
        .bind(held)
        .execute(conn)
        .await?;
    Ok(())
}

/// Sets aside, for one transaction that writes only contacts an import still hides (and their
/// values), the CardDAV journal's triggers on new contacts and values: they skip such rows,
/// but cost a trigger program per row to find that out (`storage::paused_triggers`). Once per
/// transaction: each pause changes the schema, and this connection prepares its statements
/// again after it.
pub async fn pause_journal(conn: &mut SqliteConnection) -> Result<Paused, sqlx::Error> {
    paused_triggers::pause(
        conn,
        &[
            paused_triggers::JOURNAL_NEW_CONTACTS,
            paused_triggers::JOURNAL_NEW_VALUES,
        ],
    )
    .await
}

/// Hides the contacts an import is about to write, until `reveal` (migration 0025).
pub async fn hide(conn: &mut SqliteConnection, id: &str) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT OR IGNORE INTO hidden_imports (import_id) VALUES (?)")
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Shows every contact an import wrote, at this transaction's commit.
pub async fn reveal(conn: &mut SqliteConnection, id: &str) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM hidden_imports WHERE import_id = ?")
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Deletes up to `limit` of the contacts a hidden import wrote (their values go with them,
/// by cascade, and their search documents, by trigger); returns how many.
pub async fn discard_some(conn: &mut SqliteConnection, id: &str, limit: i64) -> Result<u64, sqlx::Error> {
    let done = sqlx::query(
        "DELETE FROM base_contacts WHERE rowid IN
           (SELECT rowid FROM base_contacts WHERE import_pending = ?1 LIMIT ?2)
           AND ?1 IN (SELECT import_id FROM hidden_imports)",
    )
    .bind(id)
    .bind(limit)
    .execute(conn)
    .await?;
    Ok(done.rows_affected())
}

/// Forgets what a discarded run recorded of its rows: contacts made and changed, problem
/// rows, rows left for its end.
pub async fn forget_run(conn: &mut SqliteConnection, id: &str) -> Result<(), sqlx::Error> {
    for sql in [
        "DELETE FROM import_items WHERE import_id = ?",
        "DELETE FROM import_problem_rows WHERE import_id = ?",
        "DELETE FROM import_deferred_rows WHERE import_id = ?",
    ] {
        sqlx::query(sql).bind(id).execute(&mut *conn).await?;
    }
    Ok(())
}

/// Clears the import mark of up to `limit` contacts of an import people can see now (they
/// read the same either way; unmarked, a read need not ask whether the import is hidden);
/// returns how many. Marks a revert is making (its claim runs past `now`) stay.
pub async fn unmark_some(conn: &mut SqliteConnection, id: &str, limit: i64, now: &str) -> Result<u64, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE base_contacts SET import_pending = NULL WHERE rowid IN
           (SELECT rowid FROM base_contacts WHERE import_pending = ?1 LIMIT ?2)
           AND ?1 NOT IN (SELECT import_id FROM hidden_imports)
           AND ?1 NOT IN (SELECT id FROM imports WHERE status = 'done' AND lease_until >= ?3)",
    )
    .bind(id)
    .bind(limit)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(done.rows_affected())
}

/// Imports that still mark contacts although nobody hides them (a run stopped while clearing
/// its marks, or a revert stopped while marking them): one seek per import. A finished import
/// whose revert holds it still (its claim runs past `now`) is left to the revert.
pub async fn marked_but_shown(db: &SqlitePool, now: &str) -> Result<Vec<String>, sqlx::Error> {
    let mut found = Vec::new();
    let mut after = String::new();
    loop {
        let next: Option<String> =
            sqlx::query_scalar("SELECT min(import_pending) FROM base_contacts WHERE import_pending > ?")
                .bind(&after)
                .fetch_one(db)
                .await?;
        let Some(next) = next else { return Ok(found) };
        let hidden: Option<i64> = sqlx::query_scalar(
            "SELECT 1 FROM hidden_imports WHERE import_id = ?1
             UNION ALL
             SELECT 1 FROM imports WHERE id = ?1 AND status = 'done' AND lease_until >= ?2",
        )
        .bind(&next)
        .bind(now)
        .fetch_optional(db)
        .await?;
        if hidden.is_none() {
            found.push(next.clone());
        }
        after = next;
    }
}

/// Claims a finished import for its revert until `until`, unless another revert holds it (a
/// claim that runs past `now`); false then, or when it is no longer a finished import.
pub async fn claim_revert(
    conn: &mut SqliteConnection,
    ws: &WorkspaceAccess,
    id: &str,
    now: &str,
    until: &str,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE imports SET lease_until = ?
          WHERE id = ? AND workspace_id = ? AND status = 'done' AND (lease_until IS NULL OR lease_until < ?)",
    )
    .bind(until)
    .bind(id)
    .bind(ws.id())
    .bind(now)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Marks with the import's id up to `limit` of the contacts it created that are still here and
/// unmarked, in id order after `after`: once the import is hidden, they are out of every view
/// at once (`hide`). Returns the last id marked (`None`: none were left).
pub async fn mark_created_some(
    conn: &mut SqliteConnection,
    ws: &WorkspaceAccess,
    import: &str,
    after: &str,
    limit: i64,
) -> Result<Option<String>, sqlx::Error> {
    let last: Option<String> = sqlx::query_scalar(
        "SELECT max(contact_id) FROM (SELECT contact_id FROM import_items
          WHERE import_id = ? AND workspace_id = ? AND action = 'created' AND contact_id > ?
          ORDER BY contact_id LIMIT ?)",
    )
    .bind(import)
    .bind(ws.id())
    .bind(after)
    .bind(limit)
    .fetch_one(&mut *conn)
    .await?;
    let Some(last) = last else { return Ok(None) };
    sqlx::query(
        "UPDATE base_contacts SET import_pending = ?1 WHERE workspace_id = ?2 AND id IN
           (SELECT contact_id FROM import_items WHERE import_id = ?1 AND action = 'created'
              AND contact_id > ?3 AND contact_id <= ?4)",
    )
    .bind(import)
    .bind(ws.id())
    .bind(after)
    .bind(&last)
    .execute(&mut *conn)
    .await?;
    Ok(Some(last))
}

/// Reverted imports whose contacts are still hidden, not yet all deleted (a revert stopped
/// half-way).
pub async fn reverted_but_hidden(db: &SqlitePool) -> Result<Vec<ImportRow>, sqlx::Error> {
    sqlx::query_as(concat!(
        "SELECT ",
        columns!(),
        " FROM imports WHERE status = 'reverted' AND id IN (SELECT import_id FROM hidden_imports)"
    ))
    .fetch_all(db)
    .await
}

/// Marks a revert done as people see it (its contacts hidden in the same transaction), and
/// lets go of its claim.
pub async fn set_reverted(conn: &mut SqliteConnection, ws: &WorkspaceAccess, id: &str) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE imports SET status = 'reverted', lease_until = NULL WHERE id = ? AND workspace_id = ?")
        .bind(id)
        .bind(ws.id())
        .execute(conn)
        .await?;
    Ok(())
}

/// Keeps a row an import writes only when it finishes (`import_deferred_rows`).
pub async fn defer_row(
    conn: &mut SqliteConnection,
    ws: &WorkspaceAccess,
    import: &str,
    seq: i64,
    row: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO import_deferred_rows (import_id, seq, workspace_id, row) VALUES (?, ?, ?, ?)")
        .bind(import)
        .bind(seq)
        .bind(ws.id())
        .bind(row)
        .execute(conn)
        .await?;
    Ok(())
}

/// The deferred rows after `after`, in their order, at most `limit`: `(seq, row)`.
pub async fn deferred_rows(
    conn: &mut SqliteConnection,
    ws: &WorkspaceAccess,
    import: &str,
    after: i64,
    limit: i64,
) -> Result<Vec<(i64, String)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT seq, row FROM import_deferred_rows WHERE import_id = ? AND workspace_id = ? AND seq > ?
          ORDER BY seq LIMIT ?",
    )
    .bind(import)
    .bind(ws.id())
    .bind(after)
    .bind(limit)
    .fetch_all(conn)
    .await
}

/// Uploads whose mapping step was never finished keep their file only for a day.
pub async fn delete_stale_drafts(db: &SqlitePool) -> Result<u64, sqlx::Error> {
    let mut tx = super::db::begin_write(db).await?;
    let cutoff = clock::text_from_now(-jiff::SignedDuration::from_hours(24));
    let done = sqlx::query("DELETE FROM imports WHERE status = 'draft' AND created_at < ?")
        .bind(cutoff)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(done.rows_affected())
}

pub async fn set_mapping_and_queue(
    conn: &mut SqliteConnection,
    ws: &WorkspaceAccess,
    id: &str,
    mapping: &str,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE imports SET mapping = ?, status = 'queued' WHERE id = ? AND workspace_id = ? AND status = 'draft'",
    )
    .bind(mapping)
    .bind(id)
    .bind(ws.id())
    .execute(conn)
    .await?;
    Ok(done.rows_affected() > 0)
}

pub async fn finish(
    conn: &mut SqliteConnection,
    ws: &WorkspaceAccess,
    id: &str,
    status: &str,
    report: &str,
) -> Result<(), sqlx::Error> {
    close(conn, ws.id().as_str(), id, status, report).await
}

/// Closes a claimed import that could not run, inside the workspace its row names (the job may
/// no longer be able to resolve the person's access: that can be why it failed).
pub async fn finish_claimed(
    conn: &mut SqliteConnection,
    row: &ImportRow,
    status: &str,
    report: &str,
) -> Result<(), sqlx::Error> {
    close(conn, row.workspace_id.as_str(), &row.id, status, report).await
}

async fn close(
    conn: &mut SqliteConnection,
    workspace_id: &str,
    id: &str,
    status: &str,
    report: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE imports SET status = ?, report = ?, file = NULL, finished_at = ?, lease_until = NULL
          WHERE id = ? AND workspace_id = ?",
    )
    .bind(status)
    .bind(report)
    .bind(clock::now_text())
    .bind(id)
    .bind(workspace_id)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn set_status(
    conn: &mut SqliteConnection,
    ws: &WorkspaceAccess,
    id: &str,
    status: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE imports SET status = ? WHERE id = ? AND workspace_id = ?")
        .bind(status)
        .bind(id)
        .bind(ws.id())
        .execute(conn)
        .await?;
    Ok(())
}

/// Rewrites a finished import's report (a revert adds what it removed).
pub async fn set_report(
    conn: &mut SqliteConnection,
    ws: &WorkspaceAccess,
    id: &str,
    report: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE imports SET report = ? WHERE id = ? AND workspace_id = ?")
        .bind(report)
        .bind(id)
        .bind(ws.id())
        .execute(conn)
        .await?;
    Ok(())
}

/// Records a contact an import changed, with its state before (to revert to) and its line.
pub async fn add_updated(
    conn: &mut SqliteConnection,
    ws: &WorkspaceAccess,
    import: &str,
    contact: &str,
    before: &str,
    line: u64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT OR IGNORE INTO import_items (import_id, workspace_id, contact_id, action, before, line)
         VALUES (?, ?, ?, 'updated', ?, ?)",
    )
    .bind(import)
    .bind(ws.id())
    .bind(contact)
    .bind(before)
    .bind(line as i64)
    .execute(conn)
    .await?;
    Ok(())
}

/// Records the contacts an import created, with the line each came from (one JSON array).
pub async fn add_created(
    conn: &mut SqliteConnection,
    ws: &WorkspaceAccess,
    import: &str,
    created: &[(&str, u64)],
) -> Result<(), sqlx::Error> {
    if created.is_empty() {
        return Ok(());
    }
    sqlx::query(
        "INSERT OR FAIL INTO import_items (import_id, workspace_id, contact_id, action, line)
         SELECT ?1, ?3, value ->> 0, 'created', value ->> 1 FROM json_each(?2)",
    )
    .bind(import)
    .bind(serde_json::to_string(created).expect("text serialises"))
    .bind(ws.id())
    .execute(conn)
    .await?;
    Ok(())
}

/// What an import did to one contact so far (`created` / `updated`) and from which line.
pub async fn item(
    conn: &mut SqliteConnection,
    ws: &WorkspaceAccess,
    import: &str,
    contact: &str,
) -> Result<Option<(String, Option<i64>)>, sqlx::Error> {
    sqlx::query_as("SELECT action, line FROM import_items WHERE import_id = ? AND contact_id = ? AND workspace_id = ?")
        .bind(import)
        .bind(contact)
        .bind(ws.id())
        .fetch_optional(conn)
        .await
}

/// The contacts an import updated, with the JSON of each as it was before.
pub async fn updated_items(
    conn: &mut SqliteConnection,
    ws: &WorkspaceAccess,
    import: &str,
) -> Result<Vec<(String, String)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT contact_id, before FROM import_items
          WHERE import_id = ? AND workspace_id = ? AND action = 'updated' AND before IS NOT NULL",
    )
    .bind(import)
    .bind(ws.id())
    .fetch_all(conn)
    .await
}

/// Writes the search documents of the contacts one import updated, in two statements.
/// FTS5 merges its index segments as they are written; for a bulk write that merging is most
/// of the work (2.5 s of 3.8 s for 100k contacts), so it is paused for these statements and
/// left to later writes, a little at a time. Searches over the extra segments measured the
/// same (0.7 ms against 0.4 ms after a full merge). The contacts an import creates get theirs
/// with each of its transactions (`storage::contacts::add_search_documents`): merging stays
/// on there, or every other writer's change would wait behind an ever longer list of segments.
pub async fn refresh_updated_search(
    conn: &mut SqliteConnection,
    ws: &WorkspaceAccess,
    import: &str,
) -> Result<(), sqlx::Error> {
    search_index_for(conn, SearchIndexUse::OneLongStatement).await?;
    sqlx::query(
        "DELETE FROM contact_search WHERE rowid IN
           (SELECT c.rowid FROM import_items i JOIN base_contacts c ON c.id = i.contact_id
             WHERE i.import_id = ? AND i.workspace_id = ? AND c.workspace_id = i.workspace_id AND i.action = 'updated')",
    )
    .bind(import)
    .bind(ws.id())
    .execute(&mut *conn)
    .await?;
    sqlx::query(concat!(
        "INSERT INTO contact_search (rowid, body) SELECT c.rowid, ",
        crate::search_document_sql!(),
        " FROM import_items i JOIN base_contacts c ON c.id = i.contact_id AND c.workspace_id = i.workspace_id
           WHERE i.import_id = ? AND i.workspace_id = ? AND i.action = 'updated'"
    ))
    .bind(import)
    .bind(ws.id())
    .execute(&mut *conn)
    .await?;
    search_index_for(conn, SearchIndexUse::Everyday).await
}

/// What `contact_search` (FTS5) is being written for, which sets how it merges its segments.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum SearchIndexUse {
    /// FTS5's defaults: each write merges a little (automerge 4, crisismerge 16), a 1 MiB
    /// buffer of pending entries.
    Everyday,
    /// One long statement in one transaction (the search documents of the contacts an import
    /// updated, at its end): automatic merging off, and a 4 MiB buffer instead of 1 MiB, so a
    /// bulk write flushes a quarter as many segments. (It made the one-transaction revert of
    /// 100k contacts 4.2 s instead of 7.3: each deletion is an entry too.)
    OneLongStatement,
    /// An import's many short transactions (and a revert's deletions), with other people
    /// writing between them: merging only when a level holds 8 segments (FTS5's crisis merge),
    /// all 8 at once, instead of a little after every write, 4 at a time (at automerge 4,
    /// merging was 30 % of a 100k-row import's time; merging a bounded amount in each of the
    /// import's transactions instead was slower still, and slowed others more; automerge 8
    /// made every import transaction, which each writer waits for, longer: writers beside a
    /// 300k import p50 241–258 ms against 206–220). A crisis merge runs inside whichever write
    /// meets it and is the longest wait beside a million-row import: at 16 segments, writers'
    /// p99 was 1.0 s; at 8, 0.87 s. Merging never stops altogether: other writers' segments
    /// would pile up.
    ManyTransactions,
}

/// Sets `contact_search` up for `usage` (its settings are stored with the index: they hold for
/// every connection until set again).
pub async fn search_index_for(conn: &mut SqliteConnection, usage: SearchIndexUse) -> Result<(), sqlx::Error> {
    let (automerge, crisismerge, hashsize) = match usage {
        SearchIndexUse::Everyday => (4, 16, 1 << 20),
        SearchIndexUse::OneLongStatement => (0, 64, 4 << 20),
        SearchIndexUse::ManyTransactions => (0, 8, 1 << 20),
    };
    for (key, value) in [
        ("automerge", automerge),
        ("crisismerge", crisismerge),
        ("hashsize", hashsize),
    ] {
        sqlx::query("INSERT INTO contact_search (contact_search, rank) VALUES (?, ?)")
            .bind(key)
            .bind(value)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// What reverting `import` would touch now: the contacts it made that are still here, the ones
/// it updated, and the names of the first few it made (for the confirmation).
pub async fn revert_scope(
    db: &SqlitePool,
    ws: &WorkspaceAccess,
    import: &str,
) -> Result<(i64, i64, Vec<String>), sqlx::Error> {
    let (created, updated): (i64, i64) = sqlx::query_as(
        "SELECT count(*) FILTER (WHERE i.action = 'created'), count(*) FILTER (WHERE i.action = 'updated')
           FROM import_items i JOIN base_contacts c ON c.id = i.contact_id AND c.workspace_id = i.workspace_id
          WHERE i.import_id = ?1 AND i.workspace_id = ?2",
    )
    .bind(import)
    .bind(ws.id())
    .fetch_one(db)
    .await?;
    let names: Vec<(String, Option<String>, Option<String>)> = sqlx::query_as(
        "SELECT trim(coalesce(c.first_name, '') || ' ' || coalesce(c.last_name, '')), c.primary_email, c.company
           FROM import_items i JOIN base_contacts c ON c.id = i.contact_id AND c.workspace_id = i.workspace_id
          WHERE i.import_id = ?1 AND i.workspace_id = ?2 AND i.action = 'created'
          ORDER BY c.id LIMIT 5",
    )
    .bind(import)
    .bind(ws.id())
    .fetch_all(db)
    .await?;
    let names = names
        .into_iter()
        .map(|(name, email, company)| {
            [Some(name), email, company]
                .into_iter()
                .flatten()
                .find(|s| !s.trim().is_empty())
                .unwrap_or_else(|| "(no name)".into())
        })
        .collect();
    Ok((created, updated, names))
}

/// Deletes the notes `import` kept on contacts it did not create (their unread values and
/// columns kept as a note), for its revert; those on contacts it created go with them.
pub async fn delete_kept_notes(
    conn: &mut SqliteConnection,
    ws: &WorkspaceAccess,
    import: &str,
) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query(
        "DELETE FROM communication_logs
          WHERE workspace_id = ? AND type = 'note' AND json_extract(content, '$.import_id') = ?",
    )
    .bind(ws.id())
    .bind(import)
    .execute(conn)
    .await?
    .rows_affected())
}
