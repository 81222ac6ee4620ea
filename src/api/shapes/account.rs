//! The caller, workspace members, API keys, the audit log, backups and reachability.

use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::{api_key, audit, reachability, user, workspace};

/// The caller's own profile.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Me {
    pub id: String,
    pub name: String,
    pub email: String,
    /// The IANA zone every time is shown in for this person; `null`: the workspace's, else
    /// the server's.
    pub timezone: Option<String>,
}

impl From<user::Me> for Me {
    fn from(m: user::Me) -> Self {
        Me {
            id: m.id,
            name: m.name,
            email: m.email,
            timezone: m.timezone,
        }
    }
}

/// Someone with access to a workspace.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Member {
    pub user_id: String,
    pub email: String,
    pub name: String,
    /// `owner`, `editor` or `viewer`.
    pub role: String,
}

impl From<workspace::Member> for Member {
    fn from(m: workspace::Member) -> Self {
        Member {
            user_id: m.user_id,
            email: m.email,
            name: m.name,
            role: m.role,
        }
    }
}

/// An API key as its owner sees it (never the key itself, past its creation).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ApiKeyView {
    pub id: String,
    pub prefix: String,
    pub description: String,
    pub scopes: Vec<String>,
    pub workspace_id: Option<String>,
    pub expires_at: Option<String>,
    pub created_at: String,
    pub last_used_at: Option<String>,
}

impl From<api_key::ApiKeyView> for ApiKeyView {
    fn from(k: api_key::ApiKeyView) -> Self {
        ApiKeyView {
            id: k.id,
            prefix: k.prefix,
            description: k.description,
            scopes: k.scopes,
            workspace_id: k.workspace_id,
            expires_at: k.expires_at,
            created_at: k.created_at,
            last_used_at: k.last_used_at,
        }
    }
}

/// One line of the audit log.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AuditEntry {
    pub id: String,
    pub user_id: Option<String>,
    pub workspace_id: Option<String>,
    pub action: String,
    pub entity_type: String,
    pub entity_id: Option<String>,
    /// `ui`, `api`, `cli` or `job`.
    pub via: String,
    pub timestamp: String,
}

impl From<audit::Entry> for AuditEntry {
    fn from(e: audit::Entry) -> Self {
        AuditEntry {
            id: e.id,
            user_id: e.user_id,
            workspace_id: e.workspace_id,
            action: e.action,
            entity_type: e.entity_type,
            entity_id: e.entity_id,
            via: e.via,
            timestamp: e.timestamp,
        }
    }
}

/// A backup in the backup directory.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Backup {
    pub file: String,
    /// When it was made, UTC.
    pub created_at: String,
    pub size: u64,
    /// It passed `PRAGMA integrity_check` and has not changed since.
    pub verified: bool,
    /// The other directories it was copied to (and checked there).
    pub copied_to: Vec<String>,
}

impl From<crate::backup::Backup> for Backup {
    fn from(b: crate::backup::Backup) -> Self {
        Backup {
            file: b.file,
            created_at: b.created_at,
            size: b.size,
            verified: b.verified,
            copied_to: b.copied_to,
        }
    }
}

/// Whether outsiders reach pi-crm at its `public_url`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Check {
    /// The address checked; null when none is configured.
    pub public_url: Option<String>,
    pub reachable: bool,
    /// Whether `public_url` is https (needed for one-click unsubscribe, RFC 8058).
    pub https: bool,
    /// When; null before the first check.
    pub checked_at: Option<String>,
    /// What was found, in a sentence a person can act on.
    pub detail: String,
}

impl From<reachability::Check> for Check {
    fn from(c: reachability::Check) -> Self {
        Check {
            public_url: c.public_url,
            reachable: c.reachable,
            https: c.https,
            checked_at: c.checked_at,
            detail: c.detail,
        }
    }
}
