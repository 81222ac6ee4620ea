//! Who is asking, how they came in, and what they may do. Every domain call takes an `Actor`.

use std::fmt;

use super::ids::{ApiKeyId, UserId, WorkspaceId};
use crate::error::AppError;

/// The face a mutation came through, recorded in the audit log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    Ui,
    Api,
    Cli,
    Job,
}

impl Via {
    pub fn as_str(self) -> &'static str {
        match self {
            Via::Ui => "ui",
            Via::Api => "api",
            Via::Cli => "cli",
            Via::Job => "job",
        }
    }

    pub fn parse(text: &str) -> Option<Via> {
        Some(match text {
            "ui" => Via::Ui,
            "api" => Via::Api,
            "cli" => Via::Cli,
            "job" => Via::Job,
            _ => return None,
        })
    }
}

macro_rules! scopes {
    ($($variant:ident => $name:literal),* $(,)?) => {
        /// API key scopes, exactly as SPEC §5 names them.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Scope { $($variant),* }

        impl Scope {
            pub const ALL: &'static [Scope] = &[$(Scope::$variant),*];

            pub fn as_str(self) -> &'static str {
                match self { $(Scope::$variant => $name),* }
            }

            pub fn parse(text: &str) -> Option<Scope> {
                match text { $($name => Some(Scope::$variant),)* _ => None }
            }
        }
    };
}

scopes! {
    ReadContacts => "read:contacts",
    WriteContacts => "write:contacts",
    ReadTemplates => "read:templates",
    WriteTemplates => "write:templates",
    ReadCampaigns => "read:campaigns",
    WriteCampaigns => "write:campaigns",
    SendMessages => "send:messages",
    ExecuteAiWorkflow => "execute:ai-workflow",
    ReadAudit => "read:audit",
    ManageKeys => "manage:keys",
    ManageWorkspaces => "manage:workspaces",
    // An app password for a phone's CardDAV account (SPEC §16): reads and writes contacts
    // through `/dav/` only, never the JSON API.
    Dav => "dav",
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Parses a list of scope names; an unknown one is a 422 naming it.
pub fn parse_scopes<S: AsRef<str>>(names: &[S], field: &str) -> Result<Vec<Scope>, AppError> {
    let mut scopes = Vec::new();
    for name in names {
        let name = name.as_ref().trim();
        let scope = Scope::parse(name).ok_or_else(|| AppError::invalid(field, format!("unknown scope {name:?}")))?;
        if !scopes.contains(&scope) {
            scopes.push(scope);
        }
    }
    if scopes.is_empty() {
        return Err(AppError::invalid(field, "choose at least one scope"));
    }
    scopes.sort();
    Ok(scopes)
}

/// What an API key limits its holder to. A person signed in through the browser has no limits
/// beyond their own memberships.
#[derive(Debug, Clone)]
pub struct KeyLimits {
    pub key_id: ApiKeyId,
    pub scopes: Vec<Scope>,
    pub pinned_workspace: Option<WorkspaceId>,
    /// The key's description when it came in as a phone's app password (CardDAV): the audit
    /// log and the timeline say which phone made a change ("Andy's iPhone").
    pub device: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Actor {
    pub user_id: UserId,
    pub via: Via,
    pub key: Option<KeyLimits>,
}

impl Actor {
    pub fn person(user_id: UserId, via: Via) -> Actor {
        Actor {
            user_id,
            via,
            key: None,
        }
    }

    pub fn has_scope(&self, scope: Scope) -> bool {
        self.key.as_ref().is_none_or(|k| k.scopes.contains(&scope))
    }

    /// 403 unless the caller holds `scope`.
    pub fn require(&self, scope: Scope) -> Result<(), AppError> {
        if self.has_scope(scope) {
            Ok(())
        } else {
            Err(AppError::forbidden(format!("this API key lacks the {scope} scope")))
        }
    }

    /// The phone a CardDAV change came from (`KeyLimits::device`).
    pub fn device(&self) -> Option<&str> {
        self.key.as_ref().and_then(|k| k.device.as_deref())
    }

    pub fn pinned_workspace(&self) -> Option<&WorkspaceId> {
        self.key.as_ref().and_then(|k| k.pinned_workspace.as_ref())
    }

    /// The scopes this caller may hand on to a key it creates: a key never mints a wider one.
    pub fn grantable_scopes(&self) -> &[Scope] {
        match &self.key {
            Some(k) => &k.scopes,
            None => Scope::ALL,
        }
    }
}
