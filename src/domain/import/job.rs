//! An import as a durable job: created (or drafted, in the UI's two steps), queued, run by the
//! worker in one transaction — all or nothing per file — and revertible afterwards.

use std::collections::HashMap;
use std::sync::Mutex;

use serde::Serialize;
use sqlx::SqlitePool;
use tokio::sync::Notify;

use super::mapping::{self, Mapping};
use super::plan::{self, Report, RowError};
use crate::clock;
use crate::domain::actor::{Actor, Scope, Via};
use crate::domain::audit;
use crate::domain::contact::ContactRecord;
use crate::domain::field_definition;
use crate::domain::ids::{ContactId, ImportId, UserId, WorkspaceId};
use crate::domain::workspace::WorkspaceAccess;
use crate::error::{AppError, AppResult};
use crate::storage;
use crate::storage::imports::ImportRow;

/// Progress of running imports (rows handled so far), and the bell that wakes the worker.
/// Progress lives in memory: the import's own transaction holds SQLite's write lock.
#[derive(Default)]
pub struct Jobs {
    progress: Mutex<HashMap<String, u64>>,
    pub wake: Notify,
}

impl Jobs {
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
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Progress {
    pub rows_done: u64,
    pub rows_total: u64,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
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
    #[schema(value_type = Object)]
    pub mapping: Option<Mapping>,
}

fn view(row: ImportRow, jobs: &Jobs) -> ImportView {
    let report: Report = row
        .report
        .as_deref()
        .and_then(|r| serde_json::from_str(r).ok())
        .unwrap_or_default();
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

/// Takes an uploaded file: reads it (a file that cannot be read is refused now, with the
/// reason), checks the mapping (the suggested one when none is given), and queues the import
/// — or keeps it as a draft for the UI's mapping step.
#[allow(clippy::too_many_arguments)]
pub async fn create(
    db: &SqlitePool,
    jobs: &Jobs,
    actor: &Actor,
    ws: &WorkspaceAccess,
    filename: &str,
    bytes: &[u8],
    mapping: Option<Mapping>,
    draft: bool,
) -> AppResult<ImportView> {
    actor.require(Scope::WriteContacts)?;
    ws.require_editor()?;
    let file = super::read(bytes)?;
    let mapping = mapping.unwrap_or_else(|| mapping::suggest(&file.table.columns));
    let fields = field_definition::applicable(db, ws).await?;
    plan::check_mapping(&file.table, &mapping, &fields, ws)?;
    let id = ImportId::generate();
    let mapping_json = serde_json::to_string(&mapping).expect("a mapping serialises");
    let name: String = filename.chars().filter(|c| !c.is_control()).take(200).collect();
    let mut tx = db.begin().await?;
    storage::imports::insert(
        &mut tx,
        &storage::imports::NewImport {
            id: &id,
            workspace: &ws.id,
            user: &actor.user_id,
            filename: if name.is_empty() { "upload" } else { &name },
            format: file.format,
            encoding: file.encoding,
            status: if draft { "draft" } else { "queued" },
            mapping: Some(&mapping_json),
            file: bytes,
            rows_total: file.table.rows.len() as i64,
            via: actor.via.as_str(),
        },
    )
    .await?;
    audit::record(
        &mut tx,
        actor,
        "import.create",
        "import",
        Some(id.as_str()),
        Some(&ws.id),
    )
    .await?;
    tx.commit().await?;
    jobs.wake.notify_one();
    get(db, jobs, actor, ws, id.as_str()).await
}

/// Queues a draft with the mapping the person chose.
pub async fn start(
    db: &SqlitePool,
    jobs: &Jobs,
    actor: &Actor,
    ws: &WorkspaceAccess,
    id: &str,
    mapping: Mapping,
) -> AppResult<ImportView> {
    actor.require(Scope::WriteContacts)?;
    ws.require_editor()?;
    let row = find(db, ws, id).await?;
    if row.status != "draft" {
        return Err(AppError::conflict("this import has already been started"));
    }
    let bytes = storage::imports::file_of(db, &row.id)
        .await?
        .ok_or(AppError::NotFound)?;
    let file = super::read(&bytes)?;
    let fields = field_definition::applicable(db, ws).await?;
    plan::check_mapping(&file.table, &mapping, &fields, ws)?;
    let mut tx = db.begin().await?;
    let json = serde_json::to_string(&mapping).expect("a mapping serialises");
    if !storage::imports::set_mapping_and_queue(&mut tx, &row.id, &json).await? {
        return Err(AppError::conflict("this import has already been started"));
    }
    audit::record(&mut tx, actor, "import.start", "import", Some(&row.id), Some(&ws.id)).await?;
    tx.commit().await?;
    jobs.wake.notify_one();
    get(db, jobs, actor, ws, id).await
}

async fn find(db: &SqlitePool, ws: &WorkspaceAccess, id: &str) -> AppResult<ImportRow> {
    let id = ImportId::parse(id).ok_or(AppError::NotFound)?;
    storage::imports::find(db, &ws.id, &id).await?.ok_or(AppError::NotFound)
}

pub async fn get(db: &SqlitePool, jobs: &Jobs, actor: &Actor, ws: &WorkspaceAccess, id: &str) -> AppResult<ImportView> {
    actor.require(Scope::ReadContacts)?;
    Ok(view(find(db, ws, id).await?, jobs))
}

pub async fn list(db: &SqlitePool, jobs: &Jobs, actor: &Actor, ws: &WorkspaceAccess) -> AppResult<Vec<ImportView>> {
    actor.require(Scope::ReadContacts)?;
    Ok(storage::imports::list(db, &ws.id, 100)
        .await?
        .into_iter()
        .map(|r| view(r, jobs))
        .collect())
}

/// The draft's file, read again, for the mapping step.
pub async fn draft_preview(
    db: &SqlitePool,
    actor: &Actor,
    ws: &WorkspaceAccess,
    id: &str,
) -> AppResult<super::Preview> {
    actor.require(Scope::WriteContacts)?;
    let row = find(db, ws, id).await?;
    let bytes = storage::imports::file_of(db, &row.id)
        .await?
        .ok_or(AppError::NotFound)?;
    super::preview(&bytes)
}

/// Runs one claimed import to its end: `done` with everything written, or `failed` with every
/// bad row reported and nothing written.
pub async fn run(db: &SqlitePool, jobs: &Jobs, region: &str, row: ImportRow) -> AppResult<()> {
    let outcome = run_inner(db, jobs, region, &row).await;
    jobs.clear(&row.id);
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
    let mut conn = db.acquire().await?;
    storage::imports::finish(
        &mut conn,
        &row.id,
        status,
        &serde_json::to_string(&report).expect("serialises"),
    )
    .await?;
    Ok(())
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
    let ws = crate::domain::workspace::resolve(db, &actor, ws_id.as_str()).await?;
    ws.require_editor()?;
    let bytes = storage::imports::file_of(db, &row.id)
        .await?
        .ok_or(AppError::NotFound)?;
    let file = super::read(&bytes)?;
    let mapping: Mapping = row
        .mapping
        .as_deref()
        .and_then(|m| serde_json::from_str(m).ok())
        .unwrap_or_else(|| mapping::suggest(&file.table.columns));
    let fields = field_definition::applicable(db, &ws).await?;
    let total = file.table.rows.len() as u64;
    let plan = plan::plan(db, &ws, &file.table, &mapping, &fields, region, |checked| {
        jobs.set(&row.id, bar(total, checked, total, false))
    })
    .await?;
    if !plan.report.errors.is_empty() {
        return Ok(plan.report);
    }
    let plan::Plan {
        new_fields,
        creates,
        updates,
        report,
    } = plan;
    let mut tx = db.begin().await?;
    for def in &new_fields {
        storage::fields::insert(&mut tx, &actor.user_id, def).await?;
        audit::record(
            &mut tx,
            &actor,
            "custom_field.create",
            "custom_field_definition",
            Some(&def.id),
            Some(&ws.id),
        )
        .await?;
    }
    let now = clock::now_text();
    let to_write = creates.len() as u64;
    let mut written = 0;
    // Moved, not copied, a chunk at a time: each planned contact is freed once written.
    let mut creates = creates.into_iter();
    loop {
        let records: Vec<ContactRecord> = creates
            .by_ref()
            .take(200)
            .map(|p| ContactRecord {
                id: ContactId::generate().to_string(),
                workspace_id: ws.id.to_string(),
                created_on: now.clone(),
                base: p.base,
                custom: p.custom,
                lists: Vec::new(),
            })
            .collect();
        if records.is_empty() {
            break;
        }
        storage::contacts::insert_many(&mut tx, &records).await.map_err(|e| {
            if storage::db::is_unique_violation(&e, "base_contacts") {
                AppError::invalid(
                    "file",
                    "another contact took one of these emails or phone numbers while the import ran; run it again",
                )
            } else {
                e.into()
            }
        })?;
        storage::imports::add_items(&mut tx, &row.id, records.iter().map(|r| r.id.as_str()), "created").await?;
        written += records.len() as u64;
        jobs.set(&row.id, bar(total, written, to_write, true));
    }
    for (before, after) in &updates {
        let id = ContactId::parse(&after.id).ok_or(AppError::NotFound)?;
        storage::contacts::update_base(&mut tx, &ws.id, after).await?;
        for (name, value) in &after.custom {
            if before.custom.get(name) != Some(value) {
                storage::contacts::set_value(&mut tx, &ws.id, &id, name, value).await?;
            }
        }
        let snapshot = serde_json::json!({
            "first_name": before.base.first_name, "last_name": before.base.last_name,
            "primary_email": before.base.primary_email, "primary_phone": before.base.primary_phone,
            "company": before.base.company, "custom_fields": before.custom,
        });
        storage::imports::add_item(&mut tx, &row.id, &after.id, "updated", Some(&snapshot.to_string())).await?;
    }
    storage::imports::refresh_search(&mut tx, &row.id).await?;
    storage::imports::finish(
        &mut tx,
        &row.id,
        "done",
        &serde_json::to_string(&report).expect("serialises"),
    )
    .await?;
    audit::record(&mut tx, &actor, "import.run", "import", Some(&row.id), Some(&ws.id)).await?;
    tx.commit().await?;
    Ok(report)
}

/// Rows "done" for the progress bar: its first half is checking the rows, its second writing
/// them.
fn bar(total: u64, done: u64, of: u64, writing: bool) -> u64 {
    let half = (done * total / 2).checked_div(of).unwrap_or(total / 2);
    if writing { total / 2 + half } else { half }
}

/// Undoes an import: deletes the contacts it created and puts back the ones it updated.
pub async fn revert(
    db: &SqlitePool,
    jobs: &Jobs,
    actor: &Actor,
    ws: &WorkspaceAccess,
    id: &str,
) -> AppResult<ImportView> {
    actor.require(Scope::WriteContacts)?;
    ws.require_editor()?;
    let row = find(db, ws, id).await?;
    if row.status != "done" {
        return Err(AppError::conflict(format!(
            "only a finished import can be reverted; this one is {}",
            row.status
        )));
    }
    let mut tx = db.begin().await?;
    for (contact, action, before) in storage::imports::items(&mut tx, &row.id).await? {
        let Some(cid) = ContactId::parse(&contact) else {
            continue;
        };
        if action == "created" {
            storage::contacts::delete(&mut tx, &ws.id, &cid).await?;
            continue;
        }
        let Some(before) = before
            .as_deref()
            .and_then(|b| serde_json::from_str::<serde_json::Value>(b).ok())
        else {
            continue;
        };
        let text = |k: &str| before.get(k).and_then(|v| v.as_str()).map(str::to_string);
        let record = ContactRecord {
            id: contact.clone(),
            workspace_id: ws.id.to_string(),
            base: crate::domain::contact::BaseFields {
                first_name: text("first_name"),
                last_name: text("last_name"),
                primary_email: text("primary_email"),
                primary_phone: text("primary_phone"),
                company: text("company"),
            },
            ..ContactRecord::default()
        };
        storage::contacts::update_base(&mut tx, &ws.id, &record).await?;
        let old: std::collections::BTreeMap<String, String> = before
            .get("custom_fields")
            .cloned()
            .and_then(|v| serde_json::from_value(v).ok())
            .unwrap_or_default();
        let now = storage::contacts::values_of(&mut tx, &cid).await?;
        for name in now.keys().filter(|k| !old.contains_key(*k)) {
            storage::contacts::delete_value(&mut tx, &cid, name).await?;
        }
        for (name, value) in &old {
            storage::contacts::set_value(&mut tx, &ws.id, &cid, name, value).await?;
        }
        storage::contacts::refresh_search(&mut tx, &contact).await?;
    }
    storage::imports::set_status(&mut tx, &row.id, "reverted").await?;
    audit::record(&mut tx, actor, "import.revert", "import", Some(&row.id), Some(&ws.id)).await?;
    tx.commit().await?;
    get(db, jobs, actor, ws, id).await
}
