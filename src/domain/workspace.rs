//! Workspaces and explicit sharing. `resolve` is the one door to workspace data: it answers
//! 404 for a workspace the caller neither owns nor was given, so existence is never revealed.

use sqlx::SqlitePool;

use super::actor::{Actor, Scope};
use super::audit;
use super::ids::{UserId, WorkspaceId};
use super::user::Email;
use crate::error::{AppError, AppResult, on_unique};
pub use crate::model::access::{Role, WorkspaceAccess};
use crate::storage;
pub use crate::storage::workspaces::Member;

/// The access a membership row proves.
fn from_row(row: storage::workspaces::AccessRow) -> WorkspaceAccess {
    WorkspaceAccess::after_membership_check(row.id, row.name, &row.role, row.timezone)
}

/// The one door: the workspace `id` as `actor` may reach it, or 404 — whether it does not
/// exist or belongs to someone else, the answer is the same.
pub async fn resolve<'e>(
    db: impl sqlx::SqliteExecutor<'e>,
    actor: &Actor,
    id: &WorkspaceId,
) -> AppResult<WorkspaceAccess> {
    if actor.pinned_workspace().is_some_and(|pinned| pinned != id) {
        return Err(AppError::NotFound);
    }
    storage::workspaces::access(db, &actor.user_id, id)
        .await?
        .map(from_row)
        .ok_or(AppError::NotFound)
}

/// pi-crm's own work on a workspace, with no person behind it: a job's pump, a webhook whose
/// signature is then checked against the workspace's secret, a review or unsubscribe link
/// whose token was checked. A person's request never holds one: it goes through `resolve`.
/// `tests/api/isolation.rs::only_jobs_webhooks_and_links_act_as_the_system` keeps the places
/// that make one to those.
pub struct System(());

impl System {
    pub fn acting() -> System {
        System(())
    }
}

/// The workspace as its owner reaches it, for the system's work on it (`System`). Also gives
/// the owner, who such work acts as.
pub async fn for_system(
    _system: &System,
    db: &SqlitePool,
    id: &WorkspaceId,
) -> AppResult<Option<(WorkspaceAccess, UserId)>> {
    let Some(owner) = storage::workspaces::owner_by_id(db, id).await? else {
        return Ok(None);
    };
    let access = storage::workspaces::access(db, &owner, id).await?.map(from_row);
    Ok(access.map(|a| (a, owner)))
}

/// Who owns a workspace the caller already reached: whom pi-crm's own work in it acts as.
pub async fn owner(db: &SqlitePool, ws: &WorkspaceAccess) -> AppResult<UserId> {
    storage::workspaces::owner_of(db, ws).await?.ok_or(AppError::NotFound)
}

/// `resolve` for an id still in text (a CLI argument, a form field): malformed is 404 too.
pub async fn resolve_text<'e>(
    db: impl sqlx::SqliteExecutor<'e>,
    actor: &Actor,
    id: &str,
) -> AppResult<WorkspaceAccess> {
    let id = WorkspaceId::parse(id).ok_or(AppError::NotFound)?;
    resolve(db, actor, &id).await
}

/// The workspace named `id` among `reachable` — accesses already resolved for this caller
/// (`list`'s answer) — or 404, as `resolve_text` would answer.
pub fn among(reachable: &[WorkspaceAccess], id: &str) -> AppResult<WorkspaceAccess> {
    let id = WorkspaceId::parse(id).ok_or(AppError::NotFound)?;
    reachable
        .iter()
        .find(|w| w.id() == &id)
        .cloned()
        .ok_or(AppError::NotFound)
}

pub async fn list(db: &SqlitePool, actor: &Actor) -> AppResult<Vec<WorkspaceAccess>> {
    let mut all: Vec<WorkspaceAccess> = storage::workspaces::list_for_user(db, &actor.user_id)
        .await?
        .into_iter()
        .map(from_row)
        .collect();
    if let Some(pinned) = actor.pinned_workspace() {
        all.retain(|w| w.id() == pinned);
    }
    Ok(all)
}

pub fn parse_name(raw: &str) -> AppResult<String> {
    let name = raw.trim();
    if name.is_empty() {
        return Err(AppError::invalid("name", "a workspace needs a name"));
    }
    if name.chars().count() > 80 {
        return Err(AppError::invalid("name", "a workspace name is at most 80 characters"));
    }
    if name.chars().any(char::is_control) {
        return Err(AppError::invalid(
            "name",
            "a workspace name cannot hold control characters",
        ));
    }
    Ok(name.to_string())
}

fn name_taken(e: sqlx::Error) -> AppError {
    on_unique("workspaces.user_id", || {
        AppError::conflict("you already have a workspace with this name")
    })(e)
}

pub async fn create(db: &SqlitePool, actor: &Actor, name: &str) -> AppResult<WorkspaceAccess> {
    actor.require(Scope::ManageWorkspaces)?;
    if actor.pinned_workspace().is_some() {
        return Err(AppError::forbidden(
            "a key pinned to one workspace cannot create others",
        ));
    }
    let name = parse_name(name)?;
    let mut tx = storage::db::begin_write(db).await?;
    let id = storage::workspaces::insert(&mut tx, &actor.user_id, &name)
        .await
        .map_err(name_taken)?;
    audit::record(
        &mut tx,
        actor,
        "workspace.create",
        "workspace",
        Some(id.as_str()),
        Some(&id),
    )
    .await?;
    tx.commit().await?;
    Ok(WorkspaceAccess::after_membership_check(
        id,
        name,
        Role::Owner.as_str(),
        None,
    ))
}

/// Sets the workspace's own time zone (an IANA name like `America/Los_Angeles`), or goes back
/// to the server's with an empty one. Owner only.
pub async fn set_timezone(
    db: &SqlitePool,
    actor: &Actor,
    ws: &WorkspaceAccess,
    name: &str,
) -> AppResult<WorkspaceAccess> {
    update(db, actor, ws, None, Some(name)).await
}

/// A time zone as typed: `None` for "the server's" (empty), else its IANA name as the zone
/// database spells it (`america/los_angeles` → `America/Los_Angeles`).
pub fn parse_timezone(name: &str) -> AppResult<Option<String>> {
    let name = name.trim();
    if name.is_empty() {
        return Ok(None);
    }
    let zone = jiff::tz::TimeZone::get(name).map_err(|_| {
        AppError::invalid(
            "timezone",
            format!("{name:?} is not a time zone; use a name like America/Los_Angeles or Europe/Berlin"),
        )
    })?;
    Ok(Some(zone.iana_name().unwrap_or(name).to_string()))
}

/// Every IANA time zone name pi-crm knows, for the choice on the workspace page.
pub fn time_zone_names() -> Vec<String> {
    let mut names: Vec<String> = jiff::tz::db().available().map(|n| n.as_str().to_string()).collect();
    names.sort();
    names
}

pub async fn rename(db: &SqlitePool, actor: &Actor, ws: &WorkspaceAccess, name: &str) -> AppResult<WorkspaceAccess> {
    update(db, actor, ws, Some(name), None).await
}

/// Changes the workspace's name and/or time zone (owner only): both are checked before
/// either is written, and both are written in one transaction, so a bad one changes nothing.
pub async fn update(
    db: &SqlitePool,
    actor: &Actor,
    ws: &WorkspaceAccess,
    name: Option<&str>,
    timezone: Option<&str>,
) -> AppResult<WorkspaceAccess> {
    actor.require(Scope::ManageWorkspaces)?;
    ws.require_owner("change it")?;
    if name.is_none() && timezone.is_none() {
        return Err(AppError::invalid("name", "send a name or a timezone to change"));
    }
    let name = name.map(parse_name).transpose()?;
    let timezone = timezone.map(parse_timezone).transpose()?;
    let mut tx = storage::db::begin_write(db).await?;
    let (mut new_name, mut new_zone) = (ws.name().to_string(), ws.timezone().map(str::to_string));
    if let Some(name) = name {
        storage::workspaces::rename(&mut tx, ws, &name)
            .await
            .map_err(name_taken)?;
        audit::in_workspace(
            &mut tx,
            actor,
            ws.id(),
            "workspace.rename",
            "workspace",
            ws.id().as_str(),
        )
        .await?;
        new_name = name;
    }
    if let Some(timezone) = timezone {
        storage::workspaces::set_timezone(&mut tx, ws, timezone.as_deref()).await?;
        audit::in_workspace(
            &mut tx,
            actor,
            ws.id(),
            "workspace.timezone",
            "workspace",
            ws.id().as_str(),
        )
        .await?;
        new_zone = timezone;
    }
    tx.commit().await?;
    Ok(WorkspaceAccess::after_membership_check(
        ws.id().clone(),
        new_name,
        ws.role().as_str(),
        new_zone,
    ))
}

pub async fn delete(db: &SqlitePool, actor: &Actor, ws: &WorkspaceAccess) -> AppResult<()> {
    actor.require(Scope::ManageWorkspaces)?;
    ws.require_owner("delete it")?;
    let mut tx = storage::db::begin_write(db).await?;
    storage::workspaces::delete(&mut tx, ws).await?;
    audit::in_workspace(
        &mut tx,
        actor,
        ws.id(),
        "workspace.delete",
        "workspace",
        ws.id().as_str(),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Everyone with access, the owner first. Any member may see who else is in.
pub async fn members(db: &SqlitePool, ws: &WorkspaceAccess) -> AppResult<Vec<Member>> {
    Ok(storage::workspaces::members(db, ws).await?)
}

/// Shares the workspace with an existing user, or changes their role. True when newly added.
pub async fn add_member(
    db: &SqlitePool,
    actor: &Actor,
    ws: &WorkspaceAccess,
    email: &str,
    role: &str,
) -> AppResult<(Member, bool)> {
    actor.require(Scope::ManageWorkspaces)?;
    ws.require_owner("share it")?;
    let role = match Role::parse(role.trim()) {
        Some(r @ (Role::Editor | Role::Viewer)) => r,
        _ => return Err(AppError::invalid("role", "role is editor or viewer")),
    };
    let email = Email::parse(email, "email")?;
    let user = storage::users::find_by_email(db, email.as_str())
        .await?
        .ok_or_else(|| AppError::invalid("email", "no pi-crm account has this email"))?;
    if user.id == actor.user_id || storage::workspaces::owner_of(db, ws).await?.as_ref() == Some(&user.id) {
        return Err(AppError::invalid("email", "the owner already has full access"));
    }
    let mut tx = storage::db::begin_write(db).await?;
    let added = storage::workspaces::upsert_member(&mut tx, ws, &user.id, role.as_str()).await?;
    let action = if added {
        "workspace.member_add"
    } else {
        "workspace.member_role"
    };
    audit::in_workspace(&mut tx, actor, ws.id(), action, "user", user.id.as_str()).await?;
    tx.commit().await?;
    let member = Member {
        user_id: user.id.to_string(),
        email: user.email,
        name: user.name,
        role: role.as_str().into(),
    };
    Ok((member, added))
}

/// The owner removes anyone; a member may remove themself (leave). 404 for a non-member.
pub async fn remove_member(db: &SqlitePool, actor: &Actor, ws: &WorkspaceAccess, user_id: &UserId) -> AppResult<()> {
    actor.require(Scope::ManageWorkspaces)?;
    if *user_id != actor.user_id {
        ws.require_owner("remove its members")?;
    }
    let mut tx = storage::db::begin_write(db).await?;
    if !storage::workspaces::delete_member(&mut tx, ws, user_id).await? {
        return Err(AppError::NotFound);
    }
    audit::in_workspace(
        &mut tx,
        actor,
        ws.id(),
        "workspace.member_remove",
        "user",
        user_id.as_str(),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
