//! The audit trail: every mutation, from every face, written in the same transaction as the
//! change it describes, so there is never a change without its record.

use sqlx::{SqliteConnection, SqlitePool};

use super::actor::{Actor, Via};
use super::ids::{AuditId, WorkspaceId};
use super::page::{Page, PageRequest};
use crate::clock;
use crate::error::{AppError, AppResult};
use crate::storage;
pub use crate::storage::audit::{Entry, NewEntry};

/// Records a mutation of one object inside a workspace: most entries.
pub async fn in_workspace(
    conn: &mut SqliteConnection,
    actor: &Actor,
    ws: &WorkspaceId,
    action: &str,
    entity_type: &str,
    entity_id: &str,
) -> AppResult<()> {
    record(conn, actor, action, entity_type, Some(entity_id), Some(ws)).await
}

/// Like `in_workspace`, keeping what the change replaced (`details`, JSON): the history.
pub async fn in_workspace_with(
    conn: &mut SqliteConnection,
    actor: &Actor,
    ws: &WorkspaceId,
    action: &str,
    entity_type: &str,
    entity_id: &str,
    details: &serde_json::Value,
) -> AppResult<()> {
    let details = details.to_string();
    write(
        conn,
        actor,
        action,
        entity_type,
        Some(entity_id),
        Some(ws),
        Some(&details),
    )
    .await
}

/// Records what someone without an account did through a link of theirs (a reviewer's
/// decision): no user, and `details` names them.
pub async fn by_outsider(
    conn: &mut SqliteConnection,
    ws: &WorkspaceId,
    action: &str,
    entity_type: &str,
    entity_id: &str,
    details: &serde_json::Value,
) -> AppResult<()> {
    let details = details.to_string();
    let entry = NewEntry {
        id: AuditId::generate(),
        user_id: None,
        workspace_id: Some(ws.as_str()),
        action,
        entity_type,
        entity_id: Some(entity_id),
        via: Via::Ui.as_str(),
        timestamp: clock::now_text(),
        details: Some(&details),
    };
    storage::audit::insert(conn, &entry).await?;
    Ok(())
}

pub async fn record(
    conn: &mut SqliteConnection,
    actor: &Actor,
    action: &str,
    entity_type: &str,
    entity_id: Option<&str>,
    workspace: Option<&WorkspaceId>,
) -> AppResult<()> {
    write(conn, actor, action, entity_type, entity_id, workspace, None).await
}

async fn write(
    conn: &mut SqliteConnection,
    actor: &Actor,
    action: &str,
    entity_type: &str,
    entity_id: Option<&str>,
    workspace: Option<&WorkspaceId>,
    details: Option<&str>,
) -> AppResult<()> {
    // A phone's change (CardDAV) says which phone, whatever the entry.
    let from_device = actor
        .device()
        .filter(|_| details.is_none())
        .map(|device| serde_json::json!({"through": "carddav", "device": device}).to_string());
    let details = details.or(from_device.as_deref());
    let entry = NewEntry {
        id: AuditId::generate(),
        user_id: Some(actor.user_id.as_str()),
        workspace_id: workspace.map(WorkspaceId::as_str),
        action,
        entity_type,
        entity_id,
        via: actor.via.as_str(),
        timestamp: clock::now_text(),
        details,
    };
    storage::audit::insert(conn, &entry).await?;
    Ok(())
}

/// Filters a person may apply; every one optional.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct Filter {
    /// Entries of one workspace.
    pub workspace_id: Option<String>,
    /// Entries of what one person did.
    pub user_id: Option<String>,
    pub action: Option<String>,
    pub entity_type: Option<String>,
    pub entity_id: Option<String>,
    pub via: Option<String>,
    pub since: Option<String>,
    pub until: Option<String>,
    // Not `#[serde(flatten)]`ed from `PageRequest`: flattening breaks numbers in query strings.
    pub limit: Option<u32>,
    pub cursor: Option<String>,
    /// `csv` for the download (`GET /api/v1/audit?format=csv`); JSON otherwise.
    pub format: Option<String>,
}

/// What the actor may see: their own actions and everything done in workspaces they own
/// (a key pinned to a workspace sees that workspace's entries only).
pub async fn list(db: &SqlitePool, actor: &Actor, filter: &Filter) -> AppResult<Page<Entry>> {
    actor.require(super::actor::Scope::ReadAudit)?;
    let spec = PageRequest {
        limit: filter.limit,
        cursor: filter.cursor.clone(),
    }
    .parse()?;
    let clean = |v: &Option<String>| {
        v.as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    if let Some(via) = clean(&filter.via)
        && Via::parse(&via).is_none()
    {
        return Err(AppError::invalid("via", "via is one of ui, api, cli, job"));
    }
    for (name, value) in [("since", &filter.since), ("until", &filter.until)] {
        if let Some(v) = clean(value)
            && clock::parse(&v).is_none()
            && v.parse::<jiff::civil::Date>().is_err()
        {
            return Err(AppError::invalid(name, "use a date (2026-11-26) or an RFC 3339 time"));
        }
    }
    let query = storage::audit::Query {
        user_id: actor.user_id.clone(),
        pinned: actor.pinned_workspace().cloned(),
        action: clean(&filter.action),
        workspace: clean(&filter.workspace_id),
        by_user: clean(&filter.user_id),
        entity_type: clean(&filter.entity_type),
        entity_id: clean(&filter.entity_id),
        via: clean(&filter.via),
        since: clean(&filter.since),
        // A bare date means "through the end of that day".
        until: clean(&filter.until).map(|u| if u.len() == 10 { format!("{u}T23:59:59Z") } else { u }),
    };
    let rows = storage::audit::list(db, &query, &spec).await?;
    Ok(Page::from_rows(rows, &spec, |e| e.id.clone()))
}
