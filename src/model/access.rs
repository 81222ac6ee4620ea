//! The proof of access to a workspace, and the roles in one.

use serde::{Deserialize, Serialize};

use super::ids::WorkspaceId;
use crate::error::{AppError, AppResult};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
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
/// `domain::workspace` makes one (`resolve`, `list`, `create`, `for_system`), after the
/// membership check, so holding it is proof of access: every storage function on workspace
/// data takes one, and the compiler refuses a query scoped by an id that was merely parsed.
/// (`isolation::only_the_workspace_domain_cuts_an_access` keeps the maker to that module.)
#[derive(Debug, Clone, Serialize)]
pub struct WorkspaceAccess {
    id: WorkspaceId,
    name: String,
    role: Role,
    /// Its own IANA time zone; `None`: the server's.
    timezone: Option<String>,
}

impl WorkspaceAccess {
    /// For `domain::workspace` alone, once the membership check found the caller's role.
    pub(crate) fn after_membership_check(
        id: WorkspaceId,
        name: String,
        role: &str,
        timezone: Option<String>,
    ) -> WorkspaceAccess {
        WorkspaceAccess {
            id,
            name,
            // A role the schema's CHECK does not know cannot be stored; read it as the least.
            role: Role::parse(role).unwrap_or(Role::Viewer),
            timezone,
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
