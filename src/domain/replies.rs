//! Replies a contact sent that nobody has seen yet (issue 34): a badge on the contact list
//! and the contact page, a "Replies" list on the dashboard. Opening the contact's page is
//! seeing them: they are marked read then, for the whole workspace (a household shares one
//! inbox per workspace).

use std::collections::HashMap;

use super::actor::{Actor, Scope};
use super::comms::Kind;
use super::workspace::WorkspaceAccess;
use crate::error::AppResult;
use crate::state::AppState;
use crate::storage;

/// One unread reply, for the dashboard.
pub struct Reply {
    pub workspace: WorkspaceAccess,
    pub contact_id: String,
    pub name: String,
    /// "Text" or "Email".
    pub kind: String,
    pub summary: String,
    pub timestamp: String,
}

/// Replies on the dashboard, at most.
const SHOWN: i64 = 10;

/// How many unread replies each of `contacts` has (none: not in the map).
pub async fn unread_among(
    state: &AppState,
    actor: &Actor,
    ws: &WorkspaceAccess,
    contacts: &[String],
) -> AppResult<HashMap<String, i64>> {
    actor.require(Scope::ReadContacts)?;
    Ok(storage::replies::unread_among(&state.db, ws, contacts).await?)
}

/// The contact's unread replies' ids, marked read as the person sees them on the page: the
/// page shows them as new this once.
pub async fn seen(state: &AppState, actor: &Actor, ws: &WorkspaceAccess, contact: &str) -> AppResult<Vec<String>> {
    actor.require(Scope::ReadContacts)?;
    let ids = storage::replies::unread_of(&state.db, ws, contact).await?;
    if !ids.is_empty() {
        let mut tx = storage::db::begin_write(&state.db).await?;
        storage::replies::mark_read(&mut tx, ws, contact, &ids, &state.clock.now_text()).await?;
        tx.commit().await?;
    }
    Ok(ids)
}

/// Unread replies across the person's workspaces, newest first.
pub async fn for_dashboard(state: &AppState, actor: &Actor, workspaces: &[WorkspaceAccess]) -> AppResult<Vec<Reply>> {
    if !actor.has_scope(Scope::ReadContacts) {
        return Ok(Vec::new());
    }
    let mut out = Vec::new();
    for ws in workspaces {
        for (_, contact_id, name, kind, content, timestamp) in storage::replies::unread(&state.db, ws, SHOWN).await? {
            let content = serde_json::from_str(&content).unwrap_or_default();
            out.push(Reply {
                workspace: ws.clone(),
                contact_id,
                name: if name.trim().is_empty() {
                    "A contact without a name".into()
                } else {
                    name
                },
                kind: Kind::parse(&kind).map_or("Reply", |k| k.label()).to_string(),
                summary: super::comms::summary_of(&kind, &content),
                timestamp,
            });
        }
    }
    out.sort_by(|a, b| b.timestamp.cmp(&a.timestamp));
    out.truncate(SHOWN as usize);
    Ok(out)
}
