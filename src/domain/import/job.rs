//! An import as a durable job: created (or drafted, in the UI's two steps) from a file kept on
//! disk, queued, run by the worker, and revertible afterwards. The file is read as it is
//! written: a thread parses it a chunk at a time while the chunk before is being written, so
//! neither it nor its contacts are ever held whole.
//!
//! A run writes each chunk in a short transaction of its own and lets other writers go between
//! them, so people keep working beside a million-row import (SPEC §11.2). It stays all or
//! nothing as people see it: its contacts are hidden (`storage::imports::hide`) until its last
//! transaction shows them all and applies the duplicates it kept; a run that fails has what it
//! wrote deleted while still hidden, and one whose process died is found by its lapsed claim
//! (`recover`), cleaned up the same way, and run again.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Mutex;

use sqlx::{SqliteConnection, SqlitePool};
use tokio::sync::Notify;

use super::mapping::Mapping;
use super::plan::{self, Parsed, Report, RowError};
use super::source::Source;
use super::write::Writer;
use crate::clock;
use crate::domain::actor::{Actor, Scope, Via};
use crate::domain::audit;
use crate::domain::field_definition;
use crate::domain::ids::{ImportId, UserId, WorkspaceId};
use crate::domain::workspace::{self, WorkspaceAccess};
use crate::error::{AppError, AppResult};
use crate::storage;
use crate::storage::imports::{Claim, ImportRow, SearchIndexUse};
use crate::storage::upload_files::{self, UploadFile};

/// Rows parsed ahead of the writer; one chunk may wait, so memory holds about a thousand rows.
const CHUNK_ROWS: usize = 500;
/// A file with this many bad rows has said enough.
const MAX_ERRORS: usize = 1000;

/// Running imports' progress (rows handled so far), where upload files wait, and the bell
/// that wakes the worker. Progress lives in memory: a write per chunk would cost every run
/// for a figure only the process running it needs.
pub struct Jobs {
    progress: Mutex<HashMap<String, u64>>,
    pub wake: Notify,
    pub uploads: PathBuf,
}

impl Jobs {
    /// A copy of `file` where uploads wait for their import (`pi-crm import`).
    pub fn copy_upload(&self, file: &std::path::Path) -> std::io::Result<UploadFile> {
        UploadFile::copy_from(&self.uploads, file)
    }

    pub fn new(uploads: PathBuf) -> Jobs {
        Jobs {
            progress: Mutex::default(),
            wake: Notify::new(),
            uploads,
        }
    }

    fn set(&self, id: &str, done: u64) {
        self.progress
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(id.to_string(), done);
    }

    fn get(&self, id: &str) -> Option<u64> {
        self.progress.lock().unwrap_or_else(|p| p.into_inner()).get(id).copied()
    }

    fn clear(&self, id: &str) {
        self.progress.lock().unwrap_or_else(|p| p.into_inner()).remove(id);
    }

    /// The file an import waits with, if it is still there.
    fn file(&self, id: &str) -> Option<PathBuf> {
        Some(upload_files::path_for(&self.uploads, id)).filter(|p| p.exists())
    }
}

/// A file as uploaded, with what came beside it.
pub struct Upload {
    pub filename: String,
    pub file: UploadFile,
    pub mapping: Option<Mapping>,
    pub on_duplicate: Option<String>,
}

/// Runs file reading off the async threads: it is CPU work and blocking reads.
pub async fn blocking<T: Send + 'static>(work: impl FnOnce() -> AppResult<T> + Send + 'static) -> AppResult<T> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| AppError::Internal(e.into()))?
}

#[derive(Debug, Clone)]
pub struct Progress {
    pub rows_done: u64,
    pub rows_total: u64,
}

#[derive(Debug, Clone)]
pub struct ImportView {
    pub id: String,
    /// draft, queued, running, done, failed or reverted.
    pub status: String,
    pub filename: String,
    pub format: String,
    pub encoding: String,
    pub created_at: String,
    pub finished_at: Option<String>,
    pub progress: Progress,
    pub report: Report,
    pub mapping: Option<Mapping>,
}

/// The report kept on an import's row, once it has one.
pub(super) fn stored_report(row: &ImportRow) -> Option<Report> {
    row.report.as_deref().and_then(|r| serde_json::from_str(r).ok())
}

fn view(row: ImportRow, jobs: &Jobs) -> ImportView {
    let report = stored_report(&row).unwrap_or_default();
    let total = row.rows_total.max(0) as u64;
    let done = match row.status.as_str() {
        "done" | "failed" | "reverted" => total,
        "running" => jobs.get(&row.id).unwrap_or(0).min(total),
        _ => 0,
    };
    ImportView {
        mapping: row.mapping.as_deref().and_then(|m| serde_json::from_str(m).ok()),
        id: row.id,
        status: row.status,
        filename: row.filename,
        format: row.format,
        encoding: row.encoding,
        created_at: row.created_at,
        finished_at: row.finished_at,
        progress: Progress {
            rows_done: done,
            rows_total: total,
        },
        report,
    }
}

/// Takes an uploaded file: reads it through (a file that cannot be read is refused now, with
/// the reason), checks the mapping (the suggested one when none is given), and queues the
/// import — or keeps it as a draft for the UI's mapping step.
pub async fn create(
    db: &SqlitePool,
    jobs: &Jobs,
    actor: &Actor,
    ws: &WorkspaceAccess,
    upload: Upload,
    draft: bool,
) -> AppResult<ImportView> {
    actor.require(Scope::WriteContacts)?;
    ws.require_editor()?;
    let path = upload.file.path().to_path_buf();
    let (source, scan) = blocking(move || {
        let source = Source::from_file(path)?;
        let scan = source.scan(0)?;
        Ok((source, scan))
    })
    .await?;
    let fields = field_definition::applicable(db, ws).await?;
    let mapping = super::mapping_for(&scan, &fields, upload.mapping, upload.on_duplicate.as_deref())?;
    plan::check_mapping(&scan.columns, &mapping, &fields, ws)?;
    let id = ImportId::generate();
    let mapping_json = serde_json::to_string(&mapping).expect("a mapping serialises");
    let name: String = upload.filename.chars().filter(|c| !c.is_control()).take(200).collect();
    let mut tx = storage::db::begin_write(db).await?;
    storage::imports::insert(
        &mut tx,
        &storage::imports::NewImport {
            id: &id,
            workspace: ws,
            user: &actor.user_id,
            filename: if name.is_empty() { "upload" } else { &name },
            format: source.format_name(),
            encoding: source.encoding(),
            status: if draft { "draft" } else { "queued" },
            mapping: Some(&mapping_json),
            rows_total: scan.rows as i64,
            via: actor.via.as_str(),
        },
    )
    .await?;
    audit::in_workspace(&mut tx, actor, ws.id(), "import.create", "import", id.as_str()).await?;
    upload
        .file
        .keep_for(&jobs.uploads, &id)
        .map_err(|e| AppError::Internal(e.into()))?;
    if let Err(e) = tx.commit().await {
        upload_files::remove(&jobs.uploads, id.as_str());
        return Err(e.into());
    }
    jobs.wake.notify_one();
    get(db, jobs, actor, ws, &id).await
}

/// Queues a draft with the mapping the person chose.
pub async fn start(
    db: &SqlitePool,
    jobs: &Jobs,
    actor: &Actor,
    ws: &WorkspaceAccess,
    id: &ImportId,
    mapping: Mapping,
) -> AppResult<ImportView> {
    actor.require(Scope::WriteContacts)?;
    ws.require_editor()?;
    let row = find(db, ws, id).await?;
    if row.status != "draft" {
        return Err(AppError::conflict("this import has already been started"));
    }
    let path = jobs.file(&row.id).ok_or(AppError::NotFound)?;
    let columns = blocking(move || Ok(Source::from_file(path)?.rows()?.0)).await?;
    let fields = field_definition::applicable(db, ws).await?;
    plan::check_mapping(&columns, &mapping, &fields, ws)?;
    let mut tx = storage::db::begin_write(db).await?;
    let json = serde_json::to_string(&mapping).expect("a mapping serialises");
    if !storage::imports::set_mapping_and_queue(&mut tx, ws, &row.id, &json).await? {
        return Err(AppError::conflict("this import has already been started"));
    }
    audit::in_workspace(&mut tx, actor, ws.id(), "import.start", "import", &row.id).await?;
    tx.commit().await?;
    jobs.wake.notify_one();
    get(db, jobs, actor, ws, id).await
}

/// The dry run: what an upload holds and what the import would make of it (the workspace's
/// fields, the mapping given or suggested), with nothing kept.
pub async fn preview_upload(
    db: &SqlitePool,
    actor: &Actor,
    ws: &WorkspaceAccess,
    upload: &Upload,
    region: &str,
) -> AppResult<super::Preview> {
    actor.require(Scope::WriteContacts)?;
    let fields = field_definition::applicable(db, ws).await?;
    let mapping = upload.mapping.clone();
    preview_file(upload.file.path().to_path_buf(), fields, ws, mapping, region).await
}

async fn preview_file(
    path: PathBuf,
    fields: field_definition::FieldSet,
    ws: &WorkspaceAccess,
    mapping: Option<Mapping>,
    region: &str,
) -> AppResult<super::Preview> {
    let ws = ws.clone();
    let region = region.to_string();
    blocking(move || {
        let target = super::preview::PreviewFor {
            fields: &fields,
            ws: Some(&ws),
            mapping,
            region: &region,
        };
        super::preview_of(&Source::from_file(path)?, target)
    })
    .await
}

async fn find(db: &SqlitePool, ws: &WorkspaceAccess, id: &ImportId) -> AppResult<ImportRow> {
    storage::imports::find(db, ws, id).await?.ok_or(AppError::NotFound)
}

pub async fn get(
    db: &SqlitePool,
    jobs: &Jobs,
    actor: &Actor,
    ws: &WorkspaceAccess,
    id: &ImportId,
) -> AppResult<ImportView> {
    actor.require(Scope::ReadContacts)?;
    Ok(view(find(db, ws, id).await?, jobs))
}

pub async fn list(db: &SqlitePool, jobs: &Jobs, actor: &Actor, ws: &WorkspaceAccess) -> AppResult<Vec<ImportView>> {
    actor.require(Scope::ReadContacts)?;
    Ok(storage::imports::list(db, ws, 100)
        .await?
        .into_iter()
        .map(|r| view(r, jobs))
        .collect())
}

/// The draft's file, read again, for the mapping step: with the mapping chosen so far (the
/// one stored with the draft, or `mapping` when the person is trying another).
pub async fn draft_preview(
    db: &SqlitePool,
    jobs: &Jobs,
    actor: &Actor,
    ws: &WorkspaceAccess,
    id: &ImportId,
    mapping: Option<Mapping>,
    region: &str,
) -> AppResult<super::Preview> {
    actor.require(Scope::WriteContacts)?;
    let row = find(db, ws, id).await?;
    let fields = field_definition::applicable(db, ws).await?;
    let mapping = mapping.or_else(|| row.mapping.as_deref().and_then(|m| serde_json::from_str(m).ok()));
    let path = jobs.file(&row.id).ok_or(AppError::NotFound)?;
    preview_file(path, fields, ws, mapping, region).await
}

/// Runs one claimed import to its end: `done` with everything written, or `failed` with every
/// bad row reported and nothing written.
pub async fn run(db: &SqlitePool, jobs: &Jobs, region: &str, row: ImportRow) -> AppResult<()> {
    let outcome = run_inner(db, jobs, region, &row).await;
    jobs.clear(&row.id);
    upload_files::remove(&jobs.uploads, &row.id);
    let (status, report) = match outcome {
        Ok(report) if report.errors.is_empty() => return Ok(()),
        Ok(report) => ("failed", report),
        Err(e) => {
            e.log_if_internal();
            let message = match &e {
                AppError::Internal(_) => "the import stopped on an internal error; nothing was written".to_string(),
                other => other.public_message(),
            };
            (
                "failed",
                Report {
                    errors: vec![RowError {
                        line: 0,
                        column: None,
                        message,
                    }],
                    ..Report::default()
                },
            )
        }
    };
    discard(db, &row.id).await?;
    let mut tx = storage::db::begin_write(db).await?;
    // The person may have lost the workspace (that can be why it failed): the job closes its
    // own claimed row, inside the workspace that row names.
    storage::imports::finish_claimed(
        &mut tx,
        &row,
        status,
        &serde_json::to_string(&report).expect("serialises"),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// How long a run's claim lasts unless renewed; each of its transactions renews it. Longer
/// than a transaction can wait for the write lock (`storage::db::BULK_BUSY_TIMEOUT`), so a
/// live run never lapses; short enough that a run whose process died is taken up again soon
/// after a restart.
pub(super) const LEASE: jiff::SignedDuration = jiff::SignedDuration::from_secs(30);
/// Contacts unmarked per transaction when a run is finished: each such transaction stays short
/// (a few tens of ms), so other writers get in between.
const CLEANUP_BATCH: i64 = 2_000;
/// How long a run's transaction writes chunks before it commits and lets in the writers who
/// wait. Each commit writes out every page the transaction changed, and an import's rows
/// change pages all over the indexes (values by field and value, contacts by name, emails,
/// search): shorter transactions cost the import more in all, longer ones cost the others more
/// each time (`./scripts/bench busy`, a million rows: at 200 ms, writers beside it p99
/// 1.3–1.5 s and the import 112–156 s; at 100 ms, p99 0.87–1.0 s and 177–205 s).
const TRANSACTION_TIME: std::time::Duration = std::time::Duration::from_millis(100);
/// How long a run's transaction goes on while nobody in this process waits to write
/// (`storage::db::writers_waiting`): fewer commits, each page written once for many rows. A
/// writer of another process (a CLI command) is not counted: it waits about this long, well
/// inside its busy timeout.
const TRANSACTION_TIME_ALONE: std::time::Duration = std::time::Duration::from_secs(1);
/// Whether a run's transaction, open for `open_for`, commits now: after `TRANSACTION_TIME` when
/// someone waits to write, after `TRANSACTION_TIME_ALONE` in any case.
fn time_to_commit(open_for: std::time::Duration) -> bool {
    open_for >= TRANSACTION_TIME && (storage::db::writers_waiting() || open_for >= TRANSACTION_TIME_ALONE)
}

/// How often a run starts the write-ahead log over (`storage::db::restart_wal`). Each restart
/// copies every page the log holds into the database, and an import changes the same index
/// pages transaction after transaction: every 2 s, a 100k-row import alone spent 2.0–2.1 s
/// copying; every 6 s, 0.8–1.6 s, with the log at most three times as long (`./scripts/bench
/// imports`, docs/benchmarks.md, session 23).
pub(super) const WAL_RESTART_EVERY: std::time::Duration = std::time::Duration::from_secs(6);

/// Claims the oldest queued import for a run (`storage::imports::claim_next`).
pub async fn claim_next(db: &SqlitePool) -> AppResult<Option<ImportRow>> {
    Ok(storage::imports::claim_next(db, &clock::text_from_now(LEASE)).await?)
}

/// Deletes the contacts a run wrote while hidden (`delete_hidden`), and what it recorded of
/// them; then stops hiding the import (nothing of it is left to show).
async fn discard(db: &SqlitePool, id: &str) -> AppResult<()> {
    delete_hidden(&mut super::turns::Turns::open(db).await?, id).await?;
    let mut tx = storage::db::begin_write(db).await?;
    storage::imports::forget_run(&mut tx, id).await?;
    storage::imports::reveal(&mut tx, id).await?;
    tx.commit().await?;
    Ok(())
}

/// Deletes a hidden import's contacts, `DELETE_BATCH` to a statement, in turns with people's
/// writes (`super::turns`), until none is left. Their search documents go as an import writes
/// them (`SearchIndexUse::ManyTransactions`), and the last turn sets the index back for
/// everyday use.
pub(super) async fn delete_hidden(turns: &mut super::turns::Turns, id: &str) -> AppResult<()> {
    let (conn, _) = turns.within().await?;
    storage::imports::search_index_for(conn, SearchIndexUse::ManyTransactions).await?;
    loop {
        let (conn, _) = turns.within().await?;
        let done = storage::imports::discard_some(conn, id, DELETE_BATCH).await? == 0;
        if done {
            storage::imports::search_index_for(conn, SearchIndexUse::Everyday).await?;
        }
        turns.commit_if_due(done).await?;
        if done {
            return Ok(());
        }
    }
}

/// Contacts deleted per statement by `delete_hidden`: a statement of about 10–20 ms, so a
/// transaction ends close to its time.
const DELETE_BATCH: i64 = 100;

/// Clears a shown import's marks on its contacts, a batch at a time (migration 0025).
async fn unmark(db: &SqlitePool, id: &str) -> AppResult<()> {
    loop {
        let mut tx = storage::db::begin_write(db).await?;
        let cleared = storage::imports::unmark_some(&mut tx, id, CLEANUP_BATCH, &clock::now_text()).await?;
        tx.commit().await?;
        if cleared == 0 {
            return Ok(());
        }
    }
}

/// Takes back the runs whose process died (their claim lapsed): deletes what they wrote and
/// queues them again; finishes the reverts that stopped half-way; and clears the marks a
/// finished run, or a revert that stopped, left. At start-up, and by the worker
/// every few seconds (a run of another process may lapse at any time).
pub async fn recover(db: &SqlitePool) -> AppResult<usize> {
    let now = clock::now_text();
    let mut requeued = 0;
    for id in storage::imports::lapsed_runs(db, &now).await? {
        // The clean-up claims the run as a run would: nobody else takes it meanwhile, and a
        // clean-up that dies half-way lapses in turn. The import stays hidden throughout.
        let claim = clock::text_from_now(LEASE);
        let mut tx = storage::db::begin_write(db).await?;
        if !storage::imports::take_lapsed(&mut tx, &id, &now, &claim).await? {
            continue;
        }
        storage::imports::hide(&mut tx, &id).await?;
        tx.commit().await?;
        discard(db, &id).await?;
        let mut tx = storage::db::begin_write(db).await?;
        storage::imports::requeue(&mut tx, &id, &claim).await?;
        tx.commit().await?;
        requeued += 1;
    }
    super::revert::finish_stopped(db).await?;
    for id in storage::imports::marked_but_shown(db, &now).await? {
        unmark(db, &id).await?;
    }
    Ok(requeued)
}

async fn run_inner(db: &SqlitePool, jobs: &Jobs, region: &str, row: &ImportRow) -> AppResult<Report> {
    let ws_id = WorkspaceId::parse(&row.workspace_id).ok_or(AppError::NotFound)?;
    let user = row
        .user_id
        .as_deref()
        .and_then(UserId::parse)
        .ok_or(AppError::NotFound)?;
    // The worker acts for the person who started the import, through their current access.
    let actor = Actor::person(user, Via::Job);
    let ws = workspace::resolve(db, &actor, &ws_id).await?;
    ws.require_editor()?;
    let path = jobs
        .file(&row.id)
        .ok_or_else(|| AppError::invalid("file", "the uploaded file is gone; upload it again"))?;
    let (headers, rows) = blocking(move || Source::from_file(path)?.rows()).await?;
    let mapping: Mapping = row
        .mapping
        .as_deref()
        .and_then(|m| serde_json::from_str(m).ok())
        .unwrap_or_else(|| super::mapping::suggest(&headers));
    let fields = field_definition::applicable(db, &ws).await?;
    let (columns, new_fields) = plan::resolve_columns(&headers, &mapping, &fields, Some(&ws))?;
    let all_fields: Vec<&field_definition::FieldDefinition> = fields.0.iter().chain(new_fields.iter()).collect();
    let mut writer = Writer::new(
        &row.id,
        &ws,
        mapping.on_duplicate.clone(),
        mapping.on_problem,
        &all_fields,
    );

    let (mut chunks, reader) = spawn_reader(rows, headers.clone(), columns, region.to_string(), mapping.on_problem);

    // Every row the import writes points at its workspace, its person, or a contact it made
    // itself. Their access is checked again in each transaction, once it holds the write lock,
    // so nobody can take the workspace or the person away before that commit, and the rows
    // need no key checks.
    let mut conn = storage::db::bulk_writer(db).await?;
    storage::contacts::open_value_stage(&mut conn).await?;
    let mut run = Run {
        id: &row.id,
        actor: &actor,
        ws: &ws_id,
        claim: row.lease_until.clone().unwrap_or_default(),
        turn: None,
    };
    run.begin(&mut conn).await?;
    storage::imports::hide(&mut conn, &row.id).await?;
    storage::imports::search_index_for(&mut conn, SearchIndexUse::ManyTransactions).await?;
    run.commit(&mut conn).await?;
    let mut done = 0u64;
    let mut wal_restarted = std::time::Instant::now();
    let mut open: Option<std::time::Instant> = None;
    let mut waited = std::time::Instant::now();
    while let Some(chunk) = chunks.recv().await {
        writer.steps.add("waiting for the reader", waited);
        let chunk = chunk?;
        done += chunk.len() as u64;
        let began = match open {
            Some(began) => began,
            None => {
                let t = std::time::Instant::now();
                run.begin(&mut conn).await?;
                writer.begin(&mut conn).await?;
                writer.steps.add("begin (waiting for the write lock)", t);
                *open.insert(std::time::Instant::now())
            }
        };
        writer.write(&mut conn, chunk).await?;
        if writer.report.errors.len() >= MAX_ERRORS {
            break;
        }
        // The transaction lasts until its staged values are written too (`before_commit`).
        if !time_to_commit(began.elapsed() + writer.still_to_write()) {
            waited = std::time::Instant::now();
            continue;
        }
        run.commit_rows(&mut conn, &mut writer).await?;
        open = None;
        jobs.set(&row.id, done);
        if wal_restarted.elapsed() >= WAL_RESTART_EVERY {
            let t = std::time::Instant::now();
            storage::db::restart_wal(&mut conn).await?;
            writer.steps.add("WAL restart", t);
            wal_restarted = std::time::Instant::now();
        }
        waited = std::time::Instant::now();
    }
    if open.is_some() {
        run.commit_rows(&mut conn, &mut writer).await?;
    }
    drop(chunks);
    reader.await.map_err(|e| AppError::Internal(e.into()))?;
    if !writer.report.errors.is_empty() {
        // The caller deletes what was written.
        let mut report = writer.report;
        report.errors.sort_by_key(|e| e.line);
        report.errors.truncate(MAX_ERRORS);
        return Ok(report);
    }
    // The last transaction: the new fields, every contact shown at once, the kept duplicates
    // applied to the contacts they duplicate.
    let last = std::time::Instant::now();
    run.begin(&mut conn).await?;
    for def in &new_fields {
        field_definition::insert(&mut conn, &actor, field_definition::Home::Workspace(&ws), def).await?;
    }
    storage::imports::reveal(&mut conn, &row.id).await?;
    let steps = std::mem::take(&mut writer.steps);
    let mut report = writer.finish(&mut conn, &headers).await?;
    report.fields_created = new_fields.iter().map(|d| d.field_name.clone()).collect();
    // The run's way of merging the search index ends with it (a failed run's, in `discard`).
    storage::imports::search_index_for(&mut conn, SearchIndexUse::Everyday).await?;
    storage::imports::finish(
        &mut conn,
        &ws,
        &row.id,
        "done",
        &serde_json::to_string(&report).expect("serialises"),
    )
    .await?;
    audit::in_workspace(&mut conn, &actor, ws.id(), "import.run", "import", &row.id).await?;
    run.commit(&mut conn).await?;
    let mut steps = steps;
    steps.add("last transaction (show, duplicates, lists)", last);
    tracing::info!(import = %row.id, rows = done, %steps, "import written");
    drop(conn);
    unmark(db, &row.id).await?;
    Ok(report)
}

/// One run of an import: what each of its transactions checks as it begins.
struct Run<'a> {
    id: &'a str,
    actor: &'a Actor,
    ws: &'a WorkspaceId,
    /// Until when the run holds its claim, as last written (`storage::imports::renew`).
    claim: String,
    /// The run's turn at the write lock while one of its transactions is open
    /// (`storage::db::bulk_turn`).
    turn: Option<tokio::sync::RwLockWriteGuard<'static, ()>>,
}

impl Run<'_> {
    /// Begins one of the run's transactions: the write lock taken, the claim renewed (a run
    /// that lost it stops: it was taken for dead and is being cleaned up), the person's access
    /// to the workspace checked again. Plain statements rather than sqlx's guard, which would
    /// hold the connection between chunks; a run that stops half-way drops its connection,
    /// which is closed (`storage::db::own_connection`), and SQLite rolls the transaction back.
    async fn begin(&mut self, conn: &mut SqliteConnection) -> AppResult<()> {
        self.turn = Some(storage::db::begin_bulk(conn).await?);
        let until = clock::text_from_now(LEASE);
        if !storage::imports::renew(conn, self.id, Claim::Run, &self.claim, &until).await? {
            return Err(AppError::Internal(anyhow::anyhow!(
                "import {} lost its claim: it was taken for dead",
                self.id
            )));
        }
        self.claim = until;
        workspace::resolve(&mut *conn, self.actor, self.ws)
            .await?
            .require_editor()?;
        Ok(())
    }

    /// Commits a transaction of rows, with what `writer` writes once per transaction.
    async fn commit_rows(&mut self, conn: &mut SqliteConnection, writer: &mut Writer) -> AppResult<()> {
        writer.before_commit(conn).await?;
        let t = std::time::Instant::now();
        self.commit(conn).await?;
        writer.steps.add("commit", t);
        Ok(())
    }

    /// Commits, and lets the writers who waited meanwhile go first.
    async fn commit(&mut self, conn: &mut SqliteConnection) -> AppResult<()> {
        sqlx::query("COMMIT").execute(conn).await?;
        self.turn = None;
        Ok(())
    }
}

/// The import `id` of `ws`, if `actor` may revert it now: a finished import, and an editor.
pub(super) async fn revertible(
    db: &SqlitePool,
    actor: &Actor,
    ws: &WorkspaceAccess,
    id: &ImportId,
) -> AppResult<ImportRow> {
    actor.require(Scope::WriteContacts)?;
    ws.require_editor()?;
    let row = find(db, ws, id).await?;
    if row.status != "done" {
        return Err(AppError::conflict(format!(
            "only a finished import can be reverted; this one is {}",
            row.status
        )));
    }
    Ok(row)
}

/// The reader: parses rows on a blocking thread, a chunk at a time, while the writer writes
/// the chunk before; it stops at the first error it sends, or when the writer hangs up.
fn spawn_reader(
    rows: super::source::Rows,
    headers: Vec<String>,
    columns: Vec<plan::Column>,
    region: String,
    on_problem: super::mapping::OnProblem,
) -> (
    tokio::sync::mpsc::Receiver<AppResult<Vec<Parsed>>>,
    tokio::task::JoinHandle<()>,
) {
    let (sender, chunks) = tokio::sync::mpsc::channel(1);
    let reader = tokio::task::spawn_blocking(move || {
        let mut chunk = Vec::with_capacity(CHUNK_ROWS);
        for row in rows {
            let parsed = match row {
                Ok(row) => plan::parse_row(row, &headers, &columns, &region, on_problem),
                Err(e) => {
                    let _ = sender.blocking_send(Err(e));
                    return;
                }
            };
            chunk.push(parsed);
            if chunk.len() == CHUNK_ROWS && sender.blocking_send(Ok(std::mem::take(&mut chunk))).is_err() {
                return;
            }
        }
        if !chunk.is_empty() {
            let _ = sender.blocking_send(Ok(chunk));
        }
    });
    (chunks, reader)
}
