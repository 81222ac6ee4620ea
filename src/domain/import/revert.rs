//! Reverting a finished import (SPEC §11.2): the contacts it created are deleted, the ones it
//! updated put back as they were, and the fields and lists it made go if nothing else uses
//! them.
//!
//! All at once as people see it, yet no write lock held for long: a revert of 100k contacts in
//! one transaction held it for 6–8 s, and every Save meanwhile failed once its busy timeout ran
//! out. So a revert goes in steps, each a short transaction of its own:
//! 1. it claims the import (a second revert is refused meanwhile) and marks the contacts it
//!    created with the import's id, in turns with people's writes (`super::turns`) — still
//!    shown, as marks are only read for a hidden import;
//! 2. one transaction hides them all (`storage::imports::hide`), puts back the updated ones
//!    and calls the import reverted: that commit is the revert, as people see it;
//! 3. the hidden contacts are deleted, in turns again, then the import is shown again (it has
//!    nothing left) and what it made is removed if empty.
//!
//! Its work runs as a task of its own, so a request given up half-way does not stop it; the
//! request answers once step 3 is done, or `ANSWER_WITHIN` after step 2 (step 3 goes on). A
//! process that dies in step 1 leaves marks under a lapsed claim, which `job::recover` clears
//! (the revert did not happen); one that dies in step 3 leaves a reverted import hidden, whose
//! contacts `job::recover` deletes.

use sqlx::{SqliteConnection, SqlitePool};

use super::job::{ImportView, Jobs, LEASE, delete_hidden, get, revertible, stored_report};
use super::turns::Turns;
use super::write::Before;
use crate::clock;
use crate::domain::actor::{Actor, Via};
use crate::domain::audit;
use crate::domain::contact::ContactRecord;
use crate::domain::ids::{ContactId, ImportId, UserId, WorkspaceId};
use crate::domain::workspace::{self, WorkspaceAccess};
use crate::error::{AppError, AppResult};
use crate::storage;
use crate::storage::imports::{Claim, ImportRow};

/// Contacts marked per statement: a statement of about 10 ms.
const MARK_BATCH: i64 = 250;

/// Undoes an import: deletes the contacts it created and puts back the ones it updated.
pub async fn revert(
    db: &SqlitePool,
    jobs: &Jobs,
    actor: &Actor,
    ws: &WorkspaceAccess,
    id: &ImportId,
) -> AppResult<ImportView> {
    let row = revertible(db, actor, ws, id).await?;
    let (hidden, gone) = tokio::sync::oneshot::channel();
    let work = {
        let (db, actor, ws) = (db.clone(), actor.clone(), ws.clone());
        tokio::spawn(async move { revert_row(&db, &actor, &ws, &row, hidden).await })
    };
    if gone.await.is_err() {
        // It stopped before hiding anything: the person hears why.
        work.await.map_err(|e| AppError::Internal(e.into()))??;
        return Err(AppError::Internal(anyhow::anyhow!("a revert stopped without a reason")));
    }
    match tokio::time::timeout(ANSWER_WITHIN, work).await {
        Ok(Ok(Err(e))) => e.log_if_internal(),
        Ok(Err(e)) => tracing::error!(error = %e, "a revert's deletions stopped; recovery finishes them"),
        Ok(Ok(Ok(()))) | Err(_) => {}
    }
    get(db, jobs, actor, ws, id).await
}

/// How long a revert's request waits for its deletions once its contacts are out of view: a
/// small import's revert answers with everything done; a big one answers once it is done as
/// people see it, well inside a connection's idle timeout (60 s: a 100k revert takes 40–55 s
/// on a 2-core VM), and goes on deleting.
const ANSWER_WITHIN: std::time::Duration = std::time::Duration::from_secs(20);

/// Imports whose hidden contacts this process is deleting now, so recovery leaves them alone.
static FINISHING: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());

/// Holds an import in `FINISHING` while it lives.
struct Finishing(String);

impl Finishing {
    /// `None` when this process is finishing it already.
    fn take(id: &str) -> Option<Finishing> {
        let mut ids = FINISHING.lock().unwrap_or_else(|e| e.into_inner());
        if ids.iter().any(|i| i == id) {
            return None;
        }
        ids.push(id.to_string());
        Some(Finishing(id.to_string()))
    }
}

impl Drop for Finishing {
    fn drop(&mut self) {
        FINISHING
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|i| *i != self.0);
    }
}

/// The revert's three steps; `hidden` is told when its contacts are out of view.
async fn revert_row(
    db: &SqlitePool,
    actor: &Actor,
    ws: &WorkspaceAccess,
    row: &ImportRow,
    hidden: tokio::sync::oneshot::Sender<()>,
) -> AppResult<()> {
    let mut claim = clock::text_from_now(LEASE);
    let mut tx = storage::db::begin_write(db).await?;
    if !storage::imports::claim_revert(&mut tx, ws, &row.id, &clock::now_text(), &claim).await? {
        return Err(AppError::conflict("this import is being reverted already"));
    }
    tx.commit().await?;
    let mut turns = Turns::open(db).await?;
    let mut after = String::new();
    loop {
        let (conn, began) = turns.within().await?;
        if began {
            renew(conn, &row.id, &mut claim).await?;
        }
        let last = storage::imports::mark_created_some(conn, ws, &row.id, &after, MARK_BATCH).await?;
        turns.commit_if_due(last.is_none()).await?;
        match last {
            Some(last) => after = last,
            None => break,
        }
    }
    let mut tx = storage::db::begin_write(db).await?;
    renew(&mut tx, &row.id, &mut claim).await?;
    storage::imports::hide(&mut tx, &row.id).await?;
    storage::imports::delete_kept_notes(&mut tx, ws, &row.id).await?;
    put_back_updated(&mut tx, ws, row).await?;
    storage::imports::set_reverted(&mut tx, ws, &row.id).await?;
    audit::in_workspace(&mut tx, actor, ws.id(), "import.revert", "import", &row.id).await?;
    let finishing = Finishing::take(&row.id);
    tx.commit().await?;
    let _ = hidden.send(());
    if finishing.is_none() {
        return Ok(());
    }
    finish(db, &mut turns, Some((actor, ws)), row).await
}

/// Renews the revert's claim, or stops: it lapsed, and its marks are being cleared.
async fn renew(tx: &mut SqliteConnection, id: &str, claim: &mut String) -> AppResult<()> {
    let until = clock::text_from_now(LEASE);
    if !storage::imports::renew(tx, id, Claim::Revert, claim, &until).await? {
        return Err(AppError::conflict(
            "this revert took too long and was given up; try again",
        ));
    }
    *claim = until;
    Ok(())
}

/// Step 3: deletes the hidden contacts, then shows the import again and removes what it made
/// that is empty now (`by`: who reverted it, when still known).
async fn finish(
    db: &SqlitePool,
    turns: &mut Turns,
    by: Option<(&Actor, &WorkspaceAccess)>,
    row: &ImportRow,
) -> AppResult<()> {
    delete_hidden(turns, &row.id).await?;
    let mut tx = storage::db::begin_write(db).await?;
    storage::imports::reveal(&mut tx, &row.id).await?;
    if let Some((actor, ws)) = by {
        remove_what_it_made(&mut tx, actor, ws, row).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Finishes the reverts a dying process left half-way (their contacts hidden, not all deleted),
/// for `job::recover`; what they made is removed for the person who started the import, while
/// they can still edit its workspace.
pub(super) async fn finish_stopped(db: &SqlitePool) -> AppResult<()> {
    for row in storage::imports::reverted_but_hidden(db).await? {
        let Some(_finishing) = Finishing::take(&row.id) else {
            continue;
        };
        let actor = row
            .user_id
            .as_deref()
            .and_then(UserId::parse)
            .map(|u| Actor::person(u, Via::Job));
        let ws = match (&actor, WorkspaceId::parse(&row.workspace_id)) {
            (Some(actor), Some(ws)) => workspace::resolve(db, actor, &ws)
                .await
                .ok()
                .filter(|ws| ws.require_editor().is_ok()),
            _ => None,
        };
        let mut turns = Turns::open(db).await?;
        finish(db, &mut turns, actor.as_ref().zip(ws.as_ref()), &row).await?;
    }
    Ok(())
}

/// Puts back the contacts the import updated, as they were before it.
async fn put_back_updated(tx: &mut SqliteConnection, ws: &WorkspaceAccess, row: &ImportRow) -> AppResult<()> {
    for (contact, before) in storage::imports::updated_items(&mut *tx, ws, &row.id).await? {
        let (Some(cid), Ok(before)) = (ContactId::parse(&contact), serde_json::from_str::<Before>(&before)) else {
            continue;
        };
        let record = ContactRecord {
            id: contact.clone(),
            base: before.base,
            ..ContactRecord::default()
        };
        storage::contacts::update_base(&mut *tx, ws, &record).await?;
        let old = before.custom_fields;
        let now = storage::contacts::values_of(&mut *tx, ws, &cid).await?;
        for name in now.keys().filter(|k| !old.contains_key(*k)) {
            storage::contacts::delete_value(&mut *tx, ws, &cid, name).await?;
        }
        for (name, value) in &old {
            storage::contacts::set_value(&mut *tx, ws, &cid, name, value).await?;
        }
        // The lists it joined the contact to (the ones it made go below, once empty).
        if let Some(lists) = before.lists {
            for (list, _) in storage::lists::labels_of(&mut *tx, ws, &cid).await? {
                if !lists.contains(&list) {
                    storage::lists::unassign(&mut *tx, ws, &cid, &list).await?;
                }
            }
        }
        storage::contacts::refresh_search(&mut *tx, ws, &contact).await?;
    }
    Ok(())
}

/// The fields and lists the import made that hold nothing once it is undone go with it (SPEC
/// §11.2: a reverted import leaves the workspace as tidy as it found it); one someone has used
/// since stays. The report says which went.
async fn remove_what_it_made(
    tx: &mut SqliteConnection,
    actor: &Actor,
    ws: &WorkspaceAccess,
    row: &storage::imports::ImportRow,
) -> AppResult<()> {
    let Some(mut report) = stored_report(row) else {
        return Ok(());
    };
    for name in &report.fields_created {
        if let Some((id, 0)) = storage::fields::workspace_field_in_use(&mut *tx, ws, name).await? {
            storage::fields::delete(&mut *tx, storage::fields::Owner::Workspace(ws), &id).await?;
            audit::in_workspace(
                &mut *tx,
                actor,
                ws.id(),
                "custom_field.delete",
                "custom_field_definition",
                &id,
            )
            .await?;
            report.fields_removed.push(name.clone());
        }
    }
    for name in &report.lists_created {
        if let Some(id) = storage::lists::empty_named(&mut *tx, ws, name).await? {
            storage::lists::delete(&mut *tx, ws, &id).await?;
            audit::in_workspace(&mut *tx, actor, ws.id(), "list.delete", "contact_list", &id).await?;
            report.lists_removed.push(name.clone());
        }
    }
    if !report.fields_removed.is_empty() || !report.lists_removed.is_empty() {
        let text = serde_json::to_string(&report).expect("serialises");
        storage::imports::set_report(&mut *tx, ws, &row.id, &text).await?;
    }
    Ok(())
}
