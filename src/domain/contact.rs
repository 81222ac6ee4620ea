//! Contacts: exactly six data fields (names, primary email and phone, company); everything
//! else is a typed custom field. Emails are lower-cased and unique per workspace (a duplicate
//! is a 409 naming the contact that has it); phones are E.164 and may be shared (SPEC §4).

use std::collections::BTreeMap;

use serde_json::{Map, Value};
use sqlx::{SqliteConnection, SqlitePool};

use super::actor::{Actor, Scope};
use super::field_definition::{self, FieldSet};
use super::ids::ContactId;
use super::list::ContactList;
use super::phone::Phone;
use super::user::Email;
use super::workspace::WorkspaceAccess;
use super::{audit, comms};
use crate::clock;
use crate::error::{AppError, AppResult, Invalids};
use crate::storage;
pub use crate::storage::contacts::{BaseFields, ContactRecord};

impl BaseFields {
    pub fn get(&self, name: &str) -> Option<&String> {
        match name {
            "first_name" => self.first_name.as_ref(),
            "last_name" => self.last_name.as_ref(),
            "primary_email" => self.primary_email.as_ref(),
            "primary_phone" => self.primary_phone.as_ref(),
            "company" => self.company.as_ref(),
            _ => None,
        }
    }

    pub fn set(&mut self, name: &str, value: Option<String>) {
        match name {
            "first_name" => self.first_name = value,
            "last_name" => self.last_name = value,
            "primary_email" => self.primary_email = value,
            "primary_phone" => self.primary_phone = value,
            "company" => self.company = value,
            _ => {}
        }
    }

    /// First and last name as one key that ignores case, accents and spacing: "José  García"
    /// and "jose garcia" are the same name. Two contacts without an email are the same person
    /// when they share a phone and this key (SPEC §4).
    pub fn name_key(&self) -> String {
        use unicode_normalization::UnicodeNormalization;
        let full = [self.first_name.as_deref(), self.last_name.as_deref()]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ");
        let plain: String = full
            .nfkd()
            .filter(|c| !unicode_normalization::char::is_combining_mark(*c))
            .collect::<String>()
            .to_lowercase();
        plain.split_whitespace().collect::<Vec<_>>().join(" ")
    }

    pub fn is_empty(&self) -> bool {
        self.first_name.is_none()
            && self.last_name.is_none()
            && self.primary_email.is_none()
            && self.primary_phone.is_none()
            && self.company.is_none()
    }
}

impl ContactRecord {
    /// "Ada Lovelace", or "Ada", or `None` without a first or last name.
    pub fn full_name(&self) -> Option<String> {
        let b = &self.base;
        let name = [b.first_name.as_deref(), b.last_name.as_deref()]
            .into_iter()
            .flatten()
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .collect::<Vec<_>>()
            .join(" ");
        (!name.is_empty()).then_some(name)
    }

    /// "Ada Lovelace", or the email, phone or company when there is no name.
    pub fn display_name(&self) -> String {
        let b = &self.base;
        let name = [b.first_name.as_deref(), b.last_name.as_deref()]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ");
        if !name.is_empty() {
            return name;
        }
        b.company
            .clone()
            .or_else(|| b.primary_email.clone())
            .or_else(|| b.primary_phone.clone())
            .unwrap_or_default()
    }

    pub fn stage(&self) -> Option<&ContactList> {
        self.lists.iter().find(|l| l.is_primary)
    }

    pub fn tags(&self) -> impl Iterator<Item = &ContactList> {
        self.lists.iter().filter(|l| !l.is_primary)
    }
}

/// Input for create and update. For update, `None` leaves a base field alone and `Some(None)`
/// (or an empty text) clears it; in `custom_fields`, `null` removes a value (orphans included).
#[derive(Debug, Clone, Default)]
pub struct ContactInput {
    pub first_name: Option<Option<String>>,
    pub last_name: Option<Option<String>>,
    pub primary_email: Option<Option<String>>,
    pub primary_phone: Option<Option<String>>,
    pub company: Option<Option<String>>,
    pub custom_fields: Map<String, Value>,
}

impl ContactInput {
    fn base_patch(&self) -> [(&'static str, &Option<Option<String>>); 5] {
        [
            ("first_name", &self.first_name),
            ("last_name", &self.last_name),
            ("primary_email", &self.primary_email),
            ("primary_phone", &self.primary_phone),
            ("company", &self.company),
        ]
    }
}

/// Parses one base field's text. Empty means "no value".
pub fn parse_base(name: &str, raw: &str, region: &str) -> AppResult<Option<String>> {
    let text = raw.trim();
    if text.is_empty() {
        return Ok(None);
    }
    let limit = |max: usize| -> AppResult<Option<String>> {
        if text.chars().count() > max {
            return Err(AppError::invalid(name, format!("at most {max} characters")));
        }
        if text.chars().any(char::is_control) {
            return Err(AppError::invalid(name, "control characters are not allowed"));
        }
        Ok(Some(text.to_string()))
    };
    match name {
        "first_name" | "last_name" => limit(100),
        "company" => limit(200),
        "primary_email" => Email::parse(text, name).map(|e| Some(e.as_str().to_string())),
        "primary_phone" => Phone::parse(text, region, name).map(|p| Some(p.into_string())),
        _ => Err(AppError::invalid(name, "not a contact field")),
    }
}

/// Applies custom-field input to `values`. Returns the names whose value changed.
fn apply_custom(
    values: &mut BTreeMap<String, String>,
    input: &Map<String, Value>,
    fields: &FieldSet,
    region: &str,
) -> AppResult<Vec<String>> {
    let mut changed = Vec::new();
    let mut invalid = Invalids::default();
    for (name, value) in input {
        let field = format!("custom_fields.{name}");
        let unknown = || AppError::invalid(&field, format!("no custom field named {name} is defined here"));
        let new = match value {
            Value::Null => None,
            Value::String(s) if s.trim().is_empty() => None,
            v => {
                let parsed = match fields.get(name) {
                    Some(def) => def.spec(region).parse_json(v),
                    None => Err(unknown()),
                };
                match invalid.check(parsed)? {
                    Some(v) => Some(v),
                    // Left as it was; the error is reported with the others.
                    None => continue,
                }
            }
        };
        if new.is_none() && fields.get(name).is_none() && !values.contains_key(name) {
            invalid.check::<()>(Err(unknown()))?;
            continue;
        }
        let old = values.get(name).cloned();
        if old != new {
            changed.push(name.clone());
            match new {
                Some(v) => values.insert(name.clone(), v),
                None => values.remove(name),
            };
        }
    }
    invalid.finish()?;
    Ok(changed)
}

/// Every required field without a value (among `only`, when given) is an error; a field the
/// person typed into but that could not be read already has its own.
fn check_required(
    values: &BTreeMap<String, String>,
    fields: &FieldSet,
    only: Option<&[String]>,
    typed: &Map<String, Value>,
) -> AppResult<()> {
    let mut invalid = Invalids::default();
    for def in fields.0.iter().filter(|d| d.is_required) {
        let relevant = only.is_none_or(|names| names.contains(&def.field_name));
        let typed_badly = typed
            .get(&def.field_name)
            .is_some_and(|v| !v.is_null() && v.as_str().is_none_or(|s| !s.trim().is_empty()));
        if relevant && !typed_badly && !values.contains_key(&def.field_name) {
            invalid.check::<()>(Err(AppError::invalid(
                &format!("custom_fields.{}", def.field_name),
                format!("{} is required", def.label),
            )))?;
        }
    }
    invalid.finish()
}

fn require_something(base: &BaseFields) -> AppResult<()> {
    if base.is_empty() {
        return Err(AppError::invalid(
            "first_name",
            "a contact needs at least a name, an email, a phone number or a company",
        ));
    }
    Ok(())
}

/// Maps a unique violation on the email to a 409 naming the contact that has it.
async fn conflict_of(conn: &mut SqliteConnection, ws: &WorkspaceAccess, base: &BaseFields, e: sqlx::Error) -> AppError {
    if crate::error::is_unique_violation(&e, "base_contacts.primary_email")
        && let Some(email) = &base.primary_email
    {
        let existing = storage::contacts::id_by_email(conn, ws, email, storage::contacts::Seen::Visible)
            .await
            .ok()
            .flatten();
        // Nobody visible has it: a contact of an import still running does (migration 0025).
        let message = if existing.is_some() {
            "another contact in this workspace already has this email"
        } else {
            "a contact with this email is being imported into this workspace"
        };
        return AppError::Conflict {
            message: message.into(),
            existing_id: existing,
        };
    }
    e.into()
}

pub async fn create(
    db: &SqlitePool,
    actor: &Actor,
    ws: &WorkspaceAccess,
    region: &str,
    input: ContactInput,
) -> AppResult<ContactRecord> {
    let record = check_create(db, actor, ws, region, input).await?;
    let mut tx = storage::db::begin_write(db).await?;
    insert_checked(&mut tx, actor, ws, &record).await?;
    tx.commit().await?;
    Ok(record)
}

/// A new contact from `input`, checked (scope, role, every field) but not yet written: for a
/// face that writes more beside it in the same transaction (`insert_checked`).
pub async fn check_create(
    db: &SqlitePool,
    actor: &Actor,
    ws: &WorkspaceAccess,
    region: &str,
    input: ContactInput,
) -> AppResult<ContactRecord> {
    actor.require(Scope::WriteContacts)?;
    ws.require_editor()?;
    let fields = field_definition::applicable(db, ws).await?;
    let mut invalid = Invalids::default();
    let mut base = BaseFields::default();
    for (name, value) in input.base_patch() {
        if let Some(Some(text)) = value
            && let Some(parsed) = invalid.check(parse_base(name, text, region))?
        {
            base.set(name, parsed);
        }
    }
    // "Needs a name…" only when nothing was typed: a bad email alone says what is wrong.
    if invalid.is_empty() {
        invalid.check(require_something(&base))?;
    }
    let mut custom = BTreeMap::new();
    invalid.check(apply_custom(&mut custom, &input.custom_fields, &fields, region))?;
    for def in &fields.0 {
        if let Some(default) = &def.default_value
            && !input.custom_fields.contains_key(&def.field_name)
        {
            custom.insert(def.field_name.clone(), default.clone());
        }
    }
    invalid.check(check_required(&custom, &fields, None, &input.custom_fields))?;
    invalid.finish()?;
    Ok(ContactRecord {
        id: ContactId::generate().to_string(),
        workspace_id: ws.id().to_string(),
        created_on: clock::now_text(),
        base,
        custom,
        lists: Vec::new(),
    })
}

/// Writes a contact `check_create` made, with its audit entry, in the caller's transaction.
pub async fn insert_checked(
    conn: &mut SqliteConnection,
    actor: &Actor,
    ws: &WorkspaceAccess,
    record: &ContactRecord,
) -> AppResult<()> {
    if let Err(e) = storage::contacts::insert(conn, ws, record).await {
        return Err(conflict_of(conn, ws, &record.base, e).await);
    }
    audit::in_workspace(conn, actor, ws.id(), "contact.create", "contact", &record.id).await
}

pub async fn get(db: &SqlitePool, actor: &Actor, ws: &WorkspaceAccess, id: &ContactId) -> AppResult<ContactRecord> {
    actor.require(Scope::ReadContacts)?;
    storage::contacts::load(db, ws, id).await?.ok_or(AppError::NotFound)
}

pub async fn update(
    db: &SqlitePool,
    actor: &Actor,
    ws: &WorkspaceAccess,
    region: &str,
    id: &ContactId,
    input: ContactInput,
) -> AppResult<ContactRecord> {
    let checked = check_update(db, actor, ws, region, id, input).await?;
    let mut tx = storage::db::begin_write(db).await?;
    write_update(&mut tx, actor, ws, &checked).await?;
    tx.commit().await?;
    Ok(checked.record)
}

/// An update checked (scope, role, every field) against the contact as it was read, not yet
/// written: the contact before and after, and the custom fields that changed.
pub struct CheckedUpdate {
    pub before: ContactRecord,
    pub record: ContactRecord,
    pub changed: Vec<String>,
    fields: FieldSet,
}

pub async fn check_update(
    db: &SqlitePool,
    actor: &Actor,
    ws: &WorkspaceAccess,
    region: &str,
    id: &ContactId,
    input: ContactInput,
) -> AppResult<CheckedUpdate> {
    let mut record = get(db, actor, ws, id).await?;
    actor.require(Scope::WriteContacts)?;
    ws.require_editor()?;
    let fields = field_definition::applicable(db, ws).await?;
    let before = record.clone();
    let mut invalid = Invalids::default();
    for (name, value) in input.base_patch() {
        if let Some(v) = value {
            let parsed = match v {
                Some(text) => invalid.check(parse_base(name, text, region))?,
                None => Some(None),
            };
            if let Some(parsed) = parsed {
                record.base.set(name, parsed);
            }
        }
    }
    if invalid.is_empty() {
        invalid.check(require_something(&record.base))?;
    }
    let changed = invalid
        .check(apply_custom(&mut record.custom, &input.custom_fields, &fields, region))?
        .unwrap_or_default();
    invalid.check(check_required(
        &record.custom,
        &fields,
        Some(&changed),
        &input.custom_fields,
    ))?;
    invalid.finish()?;
    Ok(CheckedUpdate {
        before,
        record,
        changed,
        fields,
    })
}

/// Writes an update `check_update` made — values, tracked changes on the timeline, the search
/// document, the audit entry — in the caller's transaction.
pub async fn write_update(
    conn: &mut SqliteConnection,
    actor: &Actor,
    ws: &WorkspaceAccess,
    checked: &CheckedUpdate,
) -> AppResult<()> {
    let CheckedUpdate {
        before,
        record,
        changed,
        fields,
    } = checked;
    let contact_id = ContactId::parse(&record.id).ok_or(AppError::NotFound)?;
    if record.base != before.base
        && let Err(e) = storage::contacts::update_base(conn, ws, record).await
    {
        return Err(conflict_of(conn, ws, &record.base, e).await);
    }
    for name in changed {
        match record.custom.get(name) {
            Some(v) => storage::contacts::set_value(conn, ws, &contact_id, name, v).await?,
            None => storage::contacts::delete_value(conn, ws, &contact_id, name).await?,
        }
        if let Some(def) = fields.get(name).filter(|d| d.is_tracked) {
            let content = serde_json::json!({
                "event": "field_change",
                "field": name,
                "message": format!("{} changed from {} to {}", def.label,
                    before.custom.get(name).map(String::as_str).unwrap_or("nothing"),
                    record.custom.get(name).map(String::as_str).unwrap_or("nothing")),
                "from": before.custom.get(name),
                "to": record.custom.get(name),
            });
            comms::record(conn, actor, ws, &contact_id, comms::Kind::System, content, None).await?;
        }
    }
    storage::contacts::refresh_search(conn, ws, &record.id).await?;
    audit::in_workspace(conn, actor, ws.id(), "contact.update", "contact", &record.id).await
}

pub async fn delete(db: &SqlitePool, actor: &Actor, ws: &WorkspaceAccess, id: &ContactId) -> AppResult<()> {
    actor.require(Scope::WriteContacts)?;
    ws.require_editor()?;
    let mut tx = storage::db::begin_write(db).await?;
    if !storage::contacts::delete(&mut tx, ws, id).await? {
        return Err(AppError::NotFound);
    }
    audit::in_workspace(&mut tx, actor, ws.id(), "contact.delete", "contact", id.as_str()).await?;
    tx.commit().await?;
    Ok(())
}
