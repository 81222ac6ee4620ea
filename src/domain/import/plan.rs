//! Turning a table and a mapping into what an import will do, before anything is written:
//! every row parsed for its fields' types (errors by line and column), duplicates found inside
//! the file and against the workspace (by normalised email and phone) and handled by the
//! chosen policy, and the custom fields the mapping asks to create.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};
use sqlx::SqlitePool;

use super::mapping::{Mapping, OnDuplicate, Target, split_multi};
use super::table::Table;
use crate::domain::contact::{BaseFields, ContactRecord, parse_base};
use crate::domain::field::{BASE_FIELDS, FieldType, parse_field_name};
use crate::domain::field_definition::{FieldDefinition, FieldSet, humanise};
use crate::domain::ids::{ContactId, FieldDefinitionId};
use crate::domain::workspace::WorkspaceAccess;
use crate::error::{AppError, AppResult};
use crate::storage;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
pub struct RowError {
    /// Line in the file (line 1 is the header); for vCard, the card's BEGIN line.
    pub line: u64,
    pub column: Option<String>,
    pub message: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Report {
    pub created: u64,
    pub updated: u64,
    pub duplicates: u64,
    pub skipped: u64,
    pub errors: Vec<RowError>,
}

/// One contact to write.
#[derive(Debug, Clone)]
pub struct Planned {
    pub line: u64,
    pub base: BaseFields,
    pub custom: BTreeMap<String, String>,
}

pub struct Plan {
    pub new_fields: Vec<FieldDefinition>,
    pub creates: Vec<Planned>,
    /// Existing contacts and what they become.
    pub updates: Vec<(ContactRecord, ContactRecord)>,
    pub report: Report,
}

enum Column {
    Base(&'static str),
    Custom(FieldDefinition),
    Skip,
}

/// Checks the mapping against the file and the fields that exist; 422 for a mapping that
/// cannot work (unknown column, unknown target, two columns into one base field).
fn resolve_columns(
    table: &Table,
    mapping: &Mapping,
    fields: &FieldSet,
    ws: &WorkspaceAccess,
) -> AppResult<(Vec<Column>, Vec<FieldDefinition>)> {
    for name in mapping.columns.keys() {
        if !table.columns.contains(name) {
            return Err(AppError::invalid(
                "mapping",
                format!("the file has no column named {name:?}"),
            ));
        }
    }
    let mut used_base: Vec<&str> = Vec::new();
    let mut new_fields: Vec<FieldDefinition> = Vec::new();
    let mut columns = Vec::with_capacity(table.columns.len());
    for name in &table.columns {
        let column = match mapping.columns.get(name) {
            None => Column::Skip,
            Some(Target::Field(f)) if f == "skip" || f.is_empty() => Column::Skip,
            Some(Target::Field(f)) => {
                let base = BASE_FIELDS.iter().find(|b| **b == f.as_str()).ok_or_else(|| {
                    AppError::invalid(
                        "mapping",
                        format!("{f:?} is not a contact field; use a base field, {{\"custom\": …}} or \"skip\""),
                    )
                })?;
                if used_base.contains(base) {
                    return Err(AppError::invalid(
                        "mapping",
                        format!("two columns are mapped to {base}"),
                    ));
                }
                used_base.push(base);
                Column::Base(base)
            }
            Some(Target::Custom { custom, field_type }) => {
                let field_name = parse_field_name(custom).map_err(|e| AppError::invalid("mapping", e.to_string()))?;
                if let Some(def) = fields
                    .get(&field_name)
                    .or_else(|| new_fields.iter().find(|d| d.field_name == field_name))
                {
                    Column::Custom(def.clone())
                } else {
                    let t = FieldType::parse(field_type.trim())
                        .ok_or_else(|| AppError::invalid("mapping", format!("unknown field type {field_type:?}")))?;
                    if t == FieldType::Select {
                        return Err(AppError::invalid(
                            "mapping",
                            "a choice field needs its options; define it in settings first",
                        ));
                    }
                    let def = FieldDefinition {
                        id: FieldDefinitionId::generate().to_string(),
                        workspace_id: Some(ws.id.to_string()),
                        label: humanise(&field_name),
                        field_name,
                        field_type: t,
                        is_required: false,
                        default_value: None,
                        options: Vec::new(),
                        is_tracked: false,
                    };
                    new_fields.push(def.clone());
                    Column::Custom(def)
                }
            }
        };
        columns.push(column);
    }
    Ok((columns, new_fields))
}

/// Checks a mapping before an import is queued, so a mapping that cannot work is a 422 now
/// rather than a failed job later.
pub fn check_mapping(table: &Table, mapping: &Mapping, fields: &FieldSet, ws: &WorkspaceAccess) -> AppResult<()> {
    resolve_columns(table, mapping, fields, ws).map(|_| ())
}

/// Combines `from` into `into` by the duplicate policy: `update` overwrites with every value
/// `from` has; `merge` only fills what `into` lacks.
fn combine(into: &mut Planned, from: &Planned, policy: &OnDuplicate) {
    for name in BASE_FIELDS {
        if let Some(v) = from.base.get(name) {
            let empty = into.base.get(name).is_none();
            if *policy == OnDuplicate::Update || empty {
                into.base.set(name, Some(v.clone()));
            }
        }
    }
    for (k, v) in &from.custom {
        if *policy == OnDuplicate::Update || !into.custom.contains_key(k) {
            into.custom.insert(k.clone(), v.clone());
        }
    }
}

/// Parses one row; `None` when the row has nothing in any mapped column.
fn parse_row(
    row: &super::table::Row,
    table: &Table,
    columns: &[Column],
    region: &str,
    errors: &mut Vec<RowError>,
) -> Option<Planned> {
    let mut planned = Planned {
        line: row.line,
        base: BaseFields::default(),
        custom: BTreeMap::new(),
    };
    let mut any = false;
    for ((cell, column), header) in row.cells.iter().zip(columns).zip(&table.columns) {
        let values = split_multi(cell);
        if values.is_empty() {
            continue;
        }
        let error = |message: String| RowError {
            line: row.line,
            column: Some(header.clone()),
            message,
        };
        match column {
            Column::Skip => {}
            Column::Base(name) => {
                any = true;
                match parse_base(name, values[0], region) {
                    Ok(v) => planned.base.set(name, v),
                    Err(e) => errors.push(error(e.public_message())),
                }
            }
            Column::Custom(def) => {
                any = true;
                let text = match def.field_type {
                    FieldType::Text | FieldType::LongText => values.join(", "),
                    _ => values[0].to_string(),
                };
                match def.spec(region).parse_text(&text) {
                    Ok(v) if !v.is_empty() => {
                        planned.custom.insert(def.field_name.clone(), v);
                    }
                    Ok(_) => {}
                    Err(e) => errors.push(error(e.public_message())),
                }
            }
        }
    }
    any.then_some(planned)
}

pub async fn plan(
    db: &SqlitePool,
    ws: &WorkspaceAccess,
    table: &Table,
    mapping: &Mapping,
    fields: &FieldSet,
    region: &str,
    mut progress: impl FnMut(u64),
) -> AppResult<Plan> {
    let (columns, new_fields) = resolve_columns(table, mapping, fields, ws)?;
    let mut report = Report::default();
    let mut rows: Vec<Planned> = Vec::new();
    // Normalised email / phone → index in `rows`, for duplicates inside the file.
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut seen_phone: HashMap<String, usize> = HashMap::new();
    for (i, row) in table.rows.iter().enumerate() {
        if i % 1000 == 0 {
            progress(i as u64);
        }
        let before = report.errors.len();
        let Some(planned) = parse_row(row, table, &columns, region, &mut report.errors) else {
            report.skipped += 1;
            continue;
        };
        if report.errors.len() > before {
            continue;
        }
        // The same person: the same email; or, without an email, the same phone. Two rows
        // with different emails are different people, even when they share a (switchboard)
        // phone.
        let earlier = match (&planned.base.primary_email, &planned.base.primary_phone) {
            (Some(email), _) => seen.get(email).copied(),
            (None, Some(phone)) => seen_phone.get(phone).copied(),
            (None, None) => None,
        };
        let index = match earlier {
            Some(earlier) => {
                report.duplicates += 1;
                if mapping.on_duplicate == OnDuplicate::Skip {
                    report.skipped += 1;
                    continue;
                }
                combine(&mut rows[earlier], &planned, &mapping.on_duplicate);
                earlier
            }
            None => {
                rows.push(planned);
                rows.len() - 1
            }
        };
        if let Some(email) = rows[index].base.primary_email.clone() {
            seen.entry(email).or_insert(index);
        }
        if let Some(phone) = rows[index].base.primary_phone.clone() {
            seen_phone.entry(phone).or_insert(index);
        }
        if report.errors.len() > 1000 {
            break;
        }
    }

    // Against the workspace, by the same rule.
    let keys: Vec<String> = seen.keys().chain(seen_phone.keys()).cloned().collect();
    let existing = storage::contacts::ids_by_email_or_phone(db, &ws.id, &keys).await?;
    let mut creates = Vec::new();
    let mut updates: Vec<(ContactRecord, ContactRecord)> = Vec::new();
    let mut updated_ids: HashMap<String, usize> = HashMap::new();
    for planned in rows {
        let key = planned
            .base
            .primary_email
            .as_ref()
            .or(planned.base.primary_phone.as_ref());
        let Some(first) = key.and_then(|k| existing.get(k)) else {
            creates.push(planned);
            continue;
        };
        report.duplicates += 1;
        if mapping.on_duplicate == OnDuplicate::Skip {
            report.skipped += 1;
            continue;
        }
        let slot = match updated_ids.get(first) {
            Some(&i) => i,
            None => {
                let id = ContactId::parse(first).ok_or(AppError::NotFound)?;
                let record = storage::contacts::load(db, &ws.id, &id)
                    .await?
                    .ok_or(AppError::NotFound)?;
                updates.push((record.clone(), record));
                updated_ids.insert(first.clone(), updates.len() - 1);
                updates.len() - 1
            }
        };
        let target = &mut updates[slot].1;
        let mut as_planned = Planned {
            line: planned.line,
            base: target.base.clone(),
            custom: target.custom.clone(),
        };
        combine(&mut as_planned, &planned, &mapping.on_duplicate);
        target.base = as_planned.base;
        target.custom = as_planned.custom;
    }

    // A primary phone is unique in a workspace: two different people cannot both have it.
    let mut phone_owner: HashMap<String, (u64, Option<String>)> = HashMap::new();
    let owners = creates.iter().map(|p| (p.line, None, &p.base.primary_phone)).chain(
        updates
            .iter()
            .map(|(_, after)| (0, Some(after.id.clone()), &after.base.primary_phone)),
    );
    for (line, id, phone) in owners {
        let Some(phone) = phone else { continue };
        let holder = existing.get(phone).cloned();
        let clash_existing = holder.is_some() && holder != id;
        match phone_owner.get(phone) {
            Some((other_line, _)) => report.errors.push(RowError {
                line,
                column: None,
                message: format!(
                    "its phone number {phone} is also on line {other_line}, for someone else; a primary phone belongs to one contact, so map that column to a custom phone field"
                ),
            }),
            None if clash_existing => report.errors.push(RowError {
                line,
                column: None,
                message: format!("its phone number {phone} already belongs to another contact here"),
            }),
            None => {
                phone_owner.insert(phone.clone(), (line, id));
            }
        }
    }

    // New contacts get defaults, and must carry something and every required field.
    let all_fields: Vec<&FieldDefinition> = fields.0.iter().chain(new_fields.iter()).collect();
    for planned in &mut creates {
        for def in &all_fields {
            if let Some(d) = &def.default_value {
                planned
                    .custom
                    .entry(def.field_name.clone())
                    .or_insert_with(|| d.clone());
            }
        }
        let b = &planned.base;
        if b.first_name.is_none()
            && b.last_name.is_none()
            && b.primary_email.is_none()
            && b.primary_phone.is_none()
            && b.company.is_none()
        {
            report.errors.push(RowError {
                line: planned.line,
                column: None,
                message: "a contact needs at least a name, an email, a phone number or a company".into(),
            });
        }
        for def in all_fields.iter().filter(|d| d.is_required) {
            if !planned.custom.contains_key(&def.field_name) {
                report.errors.push(RowError {
                    line: planned.line,
                    column: None,
                    message: format!("{} is required", def.label),
                });
            }
        }
    }
    report.errors.sort_by_key(|e| e.line);
    report.created = creates.len() as u64;
    report.updated = updates
        .iter()
        .filter(|(before, after)| before.base != after.base || before.custom != after.custom)
        .count() as u64;
    updates.retain(|(before, after)| before.base != after.base || before.custom != after.custom);
    Ok(Plan {
        new_fields,
        creates,
        updates,
        report,
    })
}
