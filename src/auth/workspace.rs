//! The shared half of the workspace extractors (DESIGN habit 5): the role a route needs, and
//! the workspace named by its `{ws}` path segment, resolved through the caller's memberships.
//! Each face wraps these in its own extractor (`api::extract::ApiWs`, `web::extract::PageWs`),
//! which differ only in how a refusal is rendered.

use axum::extract::{FromRequestParts, Path, RawPathParams};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use crate::domain::actor::Actor;
use crate::domain::workspace::{self, Role, WorkspaceAccess};
use crate::error::AppError;
use crate::state::AppState;

/// The least role a route needs in its workspace, as a type, so a handler's signature says it.
pub trait Needs: Send + Sync + 'static {
    const ROLE: Role;
}

/// Any member: viewers read.
pub struct Viewer;
/// Editors and the owner change contacts, lists and imports.
pub struct Editor;
/// Only the owner shares, renames or deletes.
pub struct Owner;

impl Needs for Viewer {
    const ROLE: Role = Role::Viewer;
}
impl Needs for Editor {
    const ROLE: Role = Role::Editor;
}
impl Needs for Owner {
    const ROLE: Role = Role::Owner;
}

/// The workspace of the request's `{ws}` segment as `actor` may reach it (404 otherwise, also
/// for a malformed id), checked for the role `R` (403 when the caller's is lower).
pub async fn from_path<R: Needs>(
    parts: &mut Parts,
    state: &AppState,
    actor: &Actor,
) -> Result<WorkspaceAccess, AppError> {
    let raw = path_segment(parts, state).await?;
    let ws = workspace::resolve_text(&state.db, actor, &raw).await?;
    ws.require_role(R::ROLE)?;
    Ok(ws)
}

/// `from_path` answered from the workspaces the caller was found to reach earlier in the same
/// request (a page's frame lists them for its menu), rather than asking the database again.
pub async fn from_path_among<R: Needs>(
    parts: &mut Parts,
    state: &AppState,
    reachable: &[WorkspaceAccess],
) -> Result<WorkspaceAccess, AppError> {
    let raw = path_segment(parts, state).await?;
    let ws = workspace::among(reachable, &raw)?;
    ws.require_role(R::ROLE)?;
    Ok(ws)
}

/// The route's `{ws}` segment as sent.
async fn path_segment(parts: &mut Parts, state: &AppState) -> Result<String, AppError> {
    let params = RawPathParams::from_request_parts(parts, state)
        .await
        .map_err(|_| AppError::NotFound)?;
    params
        .iter()
        .find(|(name, _)| *name == "ws")
        .map(|(_, value)| value.to_string())
        .ok_or(AppError::NotFound)
}

/// The ids of a route's path, typed (`(WorkspaceId, ContactId)`); a malformed one is 404, like
/// an id that names nothing, so a path never reveals more than "not found".
pub async fn path_ids<T: DeserializeOwned + Send>(parts: &mut Parts, state: &AppState) -> Result<T, AppError> {
    Path::<T>::from_request_parts(parts, state)
        .await
        .map(|Path(ids)| ids)
        .map_err(|_| AppError::NotFound)
}
