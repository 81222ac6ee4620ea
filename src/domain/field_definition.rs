//! Custom field definitions: user-global (`workspace_id` NULL) or per workspace. A workspace's
//! fields are its own definitions plus its owner's globals, a workspace definition overriding a
//! global one of the same name. Another user's globals never apply.

use serde_json::Value;
use sqlx::{SqliteConnection, SqlitePool};

use super::actor::{Actor, Scope};
use super::audit;
use super::field::{FieldSpec, FieldType, parse_field_name};
use super::ids::{FieldDefinitionId, WorkspaceId};
use super::workspace::WorkspaceAccess;
use crate::error::{AppError, AppResult, on_unique};
use crate::storage;
pub use crate::storage::fields::FieldDefinition;

impl FieldDefinition {
    pub fn spec<'a>(&'a self, region: &'a str) -> FieldSpec<'a> {
        FieldSpec {
            name: &self.field_name,
            field_type: self.field_type,
            options: &self.options,
            phone_region: region,
        }
    }

    pub fn is_global(&self) -> bool {
        self.workspace_id.is_none()
    }
}

/// The definitions that apply in one workspace, in creation order.
#[derive(Debug, Clone, Default)]
pub struct FieldSet(pub Vec<FieldDefinition>);

impl FieldSet {
    pub fn get(&self, name: &str) -> Option<&FieldDefinition> {
        self.0.iter().find(|d| d.field_name == name)
    }

    pub fn type_of(&self, name: &str) -> Option<FieldType> {
        self.get(name).map(|d| d.field_type)
    }
}

pub async fn applicable(db: &SqlitePool, ws: &WorkspaceAccess) -> AppResult<FieldSet> {
    Ok(FieldSet(storage::fields::applicable(db, ws).await?))
}

/// The definitions that apply in a workspace, for a caller who asked to see them.
pub async fn list_in_workspace(db: &SqlitePool, actor: &Actor, ws: &WorkspaceAccess) -> AppResult<FieldSet> {
    actor.require(Scope::ReadContacts)?;
    applicable(db, ws).await
}

/// Where a definition lives.
#[derive(Clone, Copy)]
pub enum Home<'a> {
    Global,
    Workspace(&'a WorkspaceAccess),
}

impl<'a> Home<'a> {
    fn workspace_id(&self) -> Option<&'a WorkspaceId> {
        match self {
            Home::Global => None,
            Home::Workspace(ws) => Some(ws.id()),
        }
    }

    fn owner(self, actor: &'a Actor) -> storage::fields::Owner<'a> {
        match self {
            Home::Global => storage::fields::Owner::Global(&actor.user_id),
            Home::Workspace(ws) => storage::fields::Owner::Workspace(ws),
        }
    }

    fn check_write(&self, actor: &Actor) -> AppResult<()> {
        actor.require(Scope::WriteContacts)?;
        match self {
            Home::Global if actor.pinned_workspace().is_some() => Err(AppError::forbidden(
                "a key pinned to one workspace cannot change user-global fields",
            )),
            Home::Global => Ok(()),
            Home::Workspace(ws) => ws.require_editor(),
        }
    }
}

pub async fn list_global(db: &SqlitePool, actor: &Actor) -> AppResult<Vec<FieldDefinition>> {
    actor.require(Scope::ReadContacts)?;
    Ok(storage::fields::list_global(db, &actor.user_id).await?)
}

#[derive(Debug, Clone, Default)]
pub struct DefinitionInput {
    /// Lower-case letters, digits and underscores, starting with a letter; not a base field.
    pub field_name: Option<String>,
    pub label: Option<String>,
    pub field_type: Option<String>,
    pub is_required: Option<bool>,
    /// JSON `null` clears it.
    pub default_value: Option<Value>,
    pub options: Option<Vec<String>>,
    pub is_tracked: Option<bool>,
    /// Only for `date` and `datetime` fields.
    pub is_follow_up: Option<bool>,
}

/// Only a date can be due.
fn check_follow_up(def: &FieldDefinition) -> AppResult<()> {
    if def.is_follow_up && !matches!(def.field_type, FieldType::Date | FieldType::Datetime) {
        return Err(AppError::invalid(
            "is_follow_up",
            "only a date or date-time field can be a follow-up field",
        ));
    }
    Ok(())
}

/// Distinguishes "absent" (None) from "null" (Some(Null)) for PATCH.
fn parse_label(raw: &str) -> AppResult<String> {
    let label = raw.trim();
    if label.is_empty() || label.chars().count() > 100 || label.chars().any(char::is_control) {
        return Err(AppError::invalid("label", "a label is 1 to 100 characters"));
    }
    Ok(label.to_string())
}

fn parse_options(field_type: FieldType, options: Option<Vec<String>>) -> AppResult<Vec<String>> {
    let options: Vec<String> = options
        .unwrap_or_default()
        .into_iter()
        .map(|o| o.trim().to_string())
        .filter(|o| !o.is_empty())
        .collect();
    if field_type != FieldType::Select {
        if !options.is_empty() {
            return Err(AppError::invalid("options", "only a choice field has options"));
        }
        return Ok(options);
    }
    if options.is_empty() {
        return Err(AppError::invalid("options", "a choice field needs at least one option"));
    }
    if options.len() > 200 || options.iter().any(|o| o.chars().count() > 100) {
        return Err(AppError::invalid(
            "options",
            "at most 200 options of at most 100 characters",
        ));
    }
    let mut seen = std::collections::HashSet::new();
    if let Some(dup) = options.iter().find(|o| !seen.insert(o.to_lowercase())) {
        return Err(AppError::invalid("options", format!("{dup:?} is listed twice")));
    }
    Ok(options)
}

fn parse_default(spec: &FieldSpec<'_>, value: Option<&Value>) -> AppResult<Option<String>> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(v) => spec.parse_json(v).map(Some).map_err(|e| match e {
            AppError::Invalid { message, .. } => AppError::invalid("default_value", message),
            other => other,
        }),
    }
}

pub async fn create(
    db: &SqlitePool,
    actor: &Actor,
    home: Home<'_>,
    region: &str,
    input: DefinitionInput,
) -> AppResult<FieldDefinition> {
    home.check_write(actor)?;
    let field_name = parse_field_name(input.field_name.as_deref().unwrap_or(""))?;
    let label = match input.label.as_deref().map(str::trim).filter(|l| !l.is_empty()) {
        Some(l) => parse_label(l)?,
        None => humanise(&field_name),
    };
    let field_type = input
        .field_type
        .as_deref()
        .map(|t| {
            FieldType::parse(t.trim()).ok_or_else(|| AppError::invalid("field_type", format!("unknown type {t:?}")))
        })
        .transpose()?
        .unwrap_or(FieldType::Text);
    let options = parse_options(field_type, input.options)?;
    let mut def = FieldDefinition {
        id: FieldDefinitionId::generate().to_string(),
        workspace_id: home.workspace_id().map(|w| w.to_string()),
        field_name,
        label,
        field_type,
        is_required: input.is_required.unwrap_or(false),
        default_value: None,
        options,
        is_tracked: input.is_tracked.unwrap_or(false),
        is_follow_up: input.is_follow_up.unwrap_or(false),
    };
    check_follow_up(&def)?;
    def.default_value = parse_default(&def.spec(region), input.default_value.as_ref())?;
    let mut tx = storage::db::begin_write(db).await?;
    insert(&mut tx, actor, home, &def).await?;
    tx.commit().await?;
    Ok(def)
}

/// Stores a new definition, audited, inside the caller's transaction (a field made in
/// settings, or one an import's mapping asks for). A name taken meanwhile is a 409.
pub async fn insert(
    conn: &mut SqliteConnection,
    actor: &Actor,
    home: Home<'_>,
    def: &FieldDefinition,
) -> AppResult<()> {
    storage::fields::insert(&mut *conn, &actor.user_id, def)
        .await
        .map_err(on_unique("custom_field_definitions", || {
            AppError::conflict(format!("a field named {} exists already here", def.field_name))
        }))?;
    audit::record(
        conn,
        actor,
        "custom_field.create",
        "custom_field_definition",
        Some(&def.id),
        home.workspace_id(),
    )
    .await
}

async fn find(db: &SqlitePool, actor: &Actor, home: Home<'_>, id: &FieldDefinitionId) -> AppResult<FieldDefinition> {
    let found = match home {
        Home::Global => storage::fields::find_global(db, &actor.user_id, id).await?,
        Home::Workspace(ws) => storage::fields::find_in_workspace(db, ws, id).await?,
    };
    found.ok_or(AppError::NotFound)
}

/// Changes label, required, default, options or tracking. The name and type stay: values
/// already stored were parsed for that type.
pub async fn update(
    db: &SqlitePool,
    actor: &Actor,
    home: Home<'_>,
    region: &str,
    id: &FieldDefinitionId,
    input: DefinitionInput,
) -> AppResult<FieldDefinition> {
    let mut def = find(db, actor, home, id).await?;
    home.check_write(actor)?;
    if input.field_name.as_deref().is_some_and(|n| n.trim() != def.field_name) {
        return Err(AppError::invalid(
            "field_name",
            "a field's name cannot change; define a new field instead",
        ));
    }
    if input
        .field_type
        .as_deref()
        .is_some_and(|t| t.trim() != def.field_type.as_str())
    {
        return Err(AppError::invalid(
            "field_type",
            "a field's type cannot change; define a new field instead",
        ));
    }
    if let Some(label) = input.label.as_deref() {
        def.label = parse_label(label)?;
    }
    if let Some(r) = input.is_required {
        def.is_required = r;
    }
    if let Some(t) = input.is_tracked {
        def.is_tracked = t;
    }
    if let Some(f) = input.is_follow_up {
        def.is_follow_up = f;
        check_follow_up(&def)?;
    }
    if input.options.is_some() {
        def.options = parse_options(def.field_type, input.options)?;
    }
    if input.default_value.is_some() {
        def.default_value = parse_default(&def.spec(region), input.default_value.as_ref())?;
    }
    let mut tx = storage::db::begin_write(db).await?;
    storage::fields::update(&mut tx, home.owner(actor), &def).await?;
    audit::record(
        &mut tx,
        actor,
        "custom_field.update",
        "custom_field_definition",
        Some(&def.id),
        home.workspace_id(),
    )
    .await?;
    tx.commit().await?;
    Ok(def)
}

/// Deletes the definition; stored values stay, shown as orphans until re-defined or removed.
pub async fn delete(
    db: &SqlitePool,
    actor: &Actor,
    home: Home<'_>,
    id: &FieldDefinitionId,
) -> AppResult<FieldDefinition> {
    let def = find(db, actor, home, id).await?;
    home.check_write(actor)?;
    let mut tx = storage::db::begin_write(db).await?;
    storage::fields::delete(&mut tx, home.owner(actor), &def.id).await?;
    audit::record(
        &mut tx,
        actor,
        "custom_field.delete",
        "custom_field_definition",
        Some(&def.id),
        home.workspace_id(),
    )
    .await?;
    tx.commit().await?;
    Ok(def)
}

/// How many stored values a definition's name has where it applies (for the delete warning).
pub async fn value_count(db: &SqlitePool, actor: &Actor, home: Home<'_>, def: &FieldDefinition) -> AppResult<i64> {
    Ok(match home {
        Home::Workspace(ws) => storage::fields::count_values_in(db, ws, &def.field_name).await?,
        Home::Global => storage::fields::count_values_for_owner(db, &actor.user_id, &def.field_name).await?,
    })
}

/// `loan_amount` → `Loan amount`.
pub fn humanise(field_name: &str) -> String {
    let spaced = field_name.replace('_', " ");
    let mut chars = spaced.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}
