//! Workspaces and explicit sharing. `resolve` is the one door to workspace data: it answers
//! 404 for a workspace the caller neither owns nor was given, so existence is never revealed.

use serde::{Deserialize, Serialize};
use sqlx::SqlitePool;

use super::actor::{Actor, Scope};
use super::audit;
use super::ids::{UserId, WorkspaceId};
use super::user::Email;
use crate::error::{AppError, AppResult, on_unique};
use crate::storage;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Viewer,
    Editor,
    Owner,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Editor => "editor",
            Role::Owner => "owner",
        }
    }

    pub fn parse(text: &str) -> Option<Role> {
        match text {
            "viewer" => Some(Role::Viewer),
            "editor" => Some(Role::Editor),
            "owner" => Some(Role::Owner),
            _ => None,
        }
    }
}

/// A workspace the caller may reach, with their role in it. Its fields are private and only
/// this module makes one (`resolve`, `list`, `create`), after the membership check, so holding
/// it is proof of access: every storage function on workspace data takes one, and the compiler
/// refuses a query scoped by an id that was merely parsed.
#[derive(Debug, Clone, Serialize)]
pub struct WorkspaceAccess {
    id: WorkspaceId,
    name: String,
    role: Role,
    /// Its own IANA time zone; `None`: the server's.
    timezone: Option<String>,
}

impl WorkspaceAccess {
    fn from_row(row: storage::workspaces::AccessRow) -> WorkspaceAccess {
        WorkspaceAccess {
            id: row.id,
            name: row.name,
            // A role the schema's CHECK does not know cannot be stored; read it as the least.
            role: Role::parse(&row.role).unwrap_or(Role::Viewer),
            timezone: row.timezone,
        }
    }

    /// The workspace's own time zone name, if it has one.
    pub fn timezone(&self) -> Option<&str> {
        self.timezone.as_deref()
    }

    /// The zone that decides "today" here: its own, else the server's.
    pub fn time_zone(&self, config: &crate::config::Config) -> anyhow::Result<jiff::tz::TimeZone> {
        match &self.timezone {
            Some(name) => jiff::tz::TimeZone::get(name).map_err(|e| anyhow::anyhow!("{name}: {e}")),
            None => config.time_zone(),
        }
    }

    pub fn id(&self) -> &WorkspaceId {
        &self.id
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn role(&self) -> Role {
        self.role
    }

    pub fn is_owner(&self) -> bool {
        self.role == Role::Owner
    }

    pub fn can_edit(&self) -> bool {
        self.role >= Role::Editor
    }

    /// 403 unless the caller's role is at least `needed`.
    pub fn require_role(&self, needed: Role) -> AppResult<()> {
        match needed {
            Role::Viewer => Ok(()),
            Role::Editor => self.require_editor(),
            Role::Owner => self.require_owner("do this"),
        }
    }

    pub fn require_editor(&self) -> AppResult<()> {
        if self.role >= Role::Editor {
            Ok(())
        } else {
            Err(AppError::forbidden("viewers of this workspace cannot change it"))
        }
    }

    pub fn require_owner(&self, what: &str) -> AppResult<()> {
        if self.role == Role::Owner {
            Ok(())
        } else {
            Err(AppError::forbidden(format!("only the workspace's owner can {what}")))
        }
    }
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
        .map(WorkspaceAccess::from_row)
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
    let access = storage::workspaces::access(db, &owner, id)
        .await?
        .map(WorkspaceAccess::from_row);
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
    reachable.iter().find(|w| w.id == id).cloned().ok_or(AppError::NotFound)
}

pub async fn list(db: &SqlitePool, actor: &Actor) -> AppResult<Vec<WorkspaceAccess>> {
    let mut all: Vec<WorkspaceAccess> = storage::workspaces::list_for_user(db, &actor.user_id)
        .await?
        .into_iter()
        .map(WorkspaceAccess::from_row)
        .collect();
    if let Some(pinned) = actor.pinned_workspace() {
        all.retain(|w| w.id == *pinned);
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
    Ok(WorkspaceAccess {
        id,
        name,
        role: Role::Owner,
        timezone: None,
    })
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
    let mut after = ws.clone();
    if let Some(name) = name {
        storage::workspaces::rename(&mut tx, ws, &name)
            .await
            .map_err(name_taken)?;
        audit::in_workspace(&mut tx, actor, &ws.id, "workspace.rename", "workspace", ws.id.as_str()).await?;
        after.name = name;
    }
    if let Some(timezone) = timezone {
        storage::workspaces::set_timezone(&mut tx, ws, timezone.as_deref()).await?;
        audit::in_workspace(
            &mut tx,
            actor,
            &ws.id,
            "workspace.timezone",
            "workspace",
            ws.id.as_str(),
        )
        .await?;
        after.timezone = timezone;
    }
    tx.commit().await?;
    Ok(after)
}

pub async fn delete(db: &SqlitePool, actor: &Actor, ws: &WorkspaceAccess) -> AppResult<()> {
    actor.require(Scope::ManageWorkspaces)?;
    ws.require_owner("delete it")?;
    let mut tx = storage::db::begin_write(db).await?;
    storage::workspaces::delete(&mut tx, ws).await?;
    audit::in_workspace(&mut tx, actor, &ws.id, "workspace.delete", "workspace", ws.id.as_str()).await?;
    tx.commit().await?;
    Ok(())
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Member {
    pub user_id: String,
    pub email: String,
    pub name: String,
    pub role: String,
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
    audit::in_workspace(&mut tx, actor, &ws.id, action, "user", user.id.as_str()).await?;
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
        &ws.id,
        "workspace.member_remove",
        "user",
        user_id.as_str(),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
