//! Turning rows and a mapping into contacts, before anything is written: the mapping checked
//! against the file's columns and the fields that exist (and the custom fields it asks to
//! create), every row parsed for its fields' types (errors by line and column), and the rule
//! that combines a duplicate into the contact it repeats.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::mapping::{Mapping, OnDuplicate, OnProblem, Target, split_multi};
use super::table::Row;
use crate::domain::contact::{BaseFields, parse_base};
use crate::domain::field::{BASE_FIELDS, FieldType, parse_field_name};
use crate::domain::field_definition::{FieldDefinition, FieldSet, humanise};
use crate::domain::ids::FieldDefinitionId;
use crate::domain::workspace::WorkspaceAccess;
use crate::error::{AppError, AppResult};

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RowError {
    /// Line in the file (line 1 is the header); for vCard, the card's BEGIN line.
    pub line: u64,
    pub column: Option<String>,
    pub message: String,
}

/// A cell that could not be read, left empty on its contact (or a row left out for want of
/// anything usable), reported instead of sinking the file.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Problem {
    pub line: u64,
    pub column: Option<String>,
    pub value: String,
    pub message: String,
}

/// Problems kept in a report; beyond them only `problems_total` counts.
pub const MAX_PROBLEMS: usize = 1000;

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Report {
    pub created: u64,
    pub updated: u64,
    pub duplicates: u64,
    pub skipped: u64,
    /// The first `MAX_PROBLEMS` problems, in file order.
    #[serde(default)]
    pub problems: Vec<Problem>,
    #[serde(default)]
    pub problems_total: u64,
    /// Rows that had a problem: `GET …/imports/{id}/problems.csv` has them, as they were.
    #[serde(default)]
    pub problem_rows: u64,
    /// What stopped the file: with `on_problem: stop`, or a file that cannot be read.
    pub errors: Vec<RowError>,
    /// The custom fields the import made (its revert deletes those it leaves empty).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fields_created: Vec<String>,
    /// The fields its revert deleted, because nothing held a value in them any more.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fields_removed: Vec<String>,
    /// The lists the import made for its group names (its revert deletes those left empty).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub lists_created: Vec<String>,
    /// The lists its revert deleted, because no contact was on them any more.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub lists_removed: Vec<String>,
}

impl Report {
    pub fn add_problems(&mut self, problems: impl IntoIterator<Item = Problem>) {
        for p in problems {
            self.problems_total += 1;
            if self.problems.len() < MAX_PROBLEMS {
                self.problems.push(p);
            }
        }
    }
}

/// One contact to write.
#[derive(Debug, Clone)]
pub struct Planned {
    pub line: u64,
    pub base: BaseFields,
    pub custom: BTreeMap<String, String>,
    /// Cells of the row left out because they could not be read.
    pub problems: Vec<Problem>,
    /// The row as read, for the problem rows' download.
    pub cells: Vec<String>,
    /// The lists the contact is to be on, by name.
    pub lists: Vec<String>,
    /// `column: value` lines of the columns kept as a note rather than as fields.
    pub note: Vec<String>,
}

impl Planned {
    /// A contact with these values, nothing yet wrong with it, on no list and with no note.
    pub fn of(line: u64, base: BaseFields, custom: BTreeMap<String, String>, cells: Vec<String>) -> Planned {
        Planned {
            line,
            base,
            custom,
            problems: Vec::new(),
            cells,
            lists: Vec::new(),
            note: Vec::new(),
        }
    }

    /// What was wrong with the row's cells, in a sentence for the problem rows' download.
    pub fn problem_text(&self) -> String {
        describe(&self.problems)
    }
}

/// "Birthday: … ; Mobile Phone: …": problems of one row, each with its column.
pub fn describe(problems: &[Problem]) -> String {
    problems
        .iter()
        .map(|p| match &p.column {
            Some(c) => format!("{c}: {}", p.message),
            None => p.message.clone(),
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// A row as read: nothing in any mapped column, bad values (when they stop the file), a
/// contact, or a row with nothing readable left (its problems say why).
pub enum Parsed {
    Empty,
    Invalid(Vec<RowError>),
    Contact(Planned),
    Unreadable { cells: Vec<String>, problems: Vec<Problem> },
}

pub enum Column {
    Base(&'static str),
    /// Whole names, split into `first_name` and `last_name`.
    FullName,
    /// Group names, each a list the contact is on.
    Lists,
    /// A column whose field the mapping chose not to make: its values go in a note.
    Note,
    Custom(FieldDefinition),
    Skip,
}

/// Checks the mapping against the file and the fields that exist; 422 for a mapping that
/// cannot work (unknown column, unknown target, two columns into one base field). New fields
/// belong to `ws` (a preview without a workspace makes them only to read values with).
pub fn resolve_columns(
    file_columns: &[String],
    mapping: &Mapping,
    fields: &FieldSet,
    ws: Option<&WorkspaceAccess>,
) -> AppResult<(Vec<Column>, Vec<FieldDefinition>)> {
    for name in mapping.columns.keys() {
        if !file_columns.contains(name) {
            return Err(AppError::invalid(
                "mapping",
                format!("the file has no column named {name:?}"),
            ));
        }
    }
    let mut used_base: Vec<&str> = Vec::new();
    let mut new_fields: Vec<FieldDefinition> = Vec::new();
    let mut columns = Vec::with_capacity(file_columns.len());
    for name in file_columns {
        let column = match mapping.columns.get(name) {
            None => Column::Skip,
            Some(Target::Field(f)) if f == "skip" || f.is_empty() => Column::Skip,
            Some(Target::Field(f)) if f == super::mapping::FULL_NAME => Column::FullName,
            Some(Target::Field(f)) if f == super::mapping::LISTS => Column::Lists,
            Some(Target::Field(f)) => {
                let base = BASE_FIELDS.iter().find(|b| **b == f.as_str()).ok_or_else(|| {
                    AppError::invalid(
                        "mapping",
                        format!(
                    "{f:?} is not a contact field; use a base field, \"full_name\", {{\"custom\": …}} or \"skip\""
                ),
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
                } else if mapping.new_fields == super::mapping::NewFields::Note {
                    Column::Note
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
                        workspace_id: ws.map(|w| w.id().to_string()),
                        label: humanise(&field_name),
                        field_name,
                        field_type: t,
                        is_required: false,
                        default_value: None,
                        options: Vec::new(),
                        is_tracked: false,
                        is_follow_up: false,
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
pub fn check_mapping(
    file_columns: &[String],
    mapping: &Mapping,
    fields: &FieldSet,
    ws: &WorkspaceAccess,
) -> AppResult<()> {
    resolve_columns(file_columns, mapping, fields, Some(ws)).map(|_| ())
}

/// Combines `from` into `into` by the duplicate policy: `update` overwrites with every value
/// `from` has; `merge` only fills what `into` lacks.
pub fn combine(into: &mut Planned, from: &Planned, policy: &OnDuplicate) {
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

/// A row without a number in the primary phone's column takes its first further personal
/// number (`other_phone`, `phone_3`, …) as the primary: "the mobile, else the first personal
/// one" holds per contact, not only per column.
fn promote_phone(planned: &mut Planned, columns: &[Column]) {
    if planned.base.primary_phone.is_some() || !columns.iter().any(|c| matches!(c, Column::Base("primary_phone"))) {
        return;
    }
    let first = columns.iter().find_map(|c| match c {
        Column::Custom(def)
            if def.field_type == FieldType::Phone
                && super::mapping::is_personal_phone_field(&def.field_name)
                && planned.custom.contains_key(&def.field_name) =>
        {
            Some(def.field_name.clone())
        }
        _ => None,
    });
    if let Some(name) = first {
        planned.base.primary_phone = planned.custom.remove(&name);
    }
}

/// Each further value of a multi-value cell goes to a field of its kind that the row leaves
/// empty (a second email to `alternate_email`, a second phone to `other_phone`…), the
/// person's own extra fields first; one with nowhere to go, or that cannot be read, is a
/// problem: reported, and kept on a new contact's timeline. Never dropped unseen.
fn place_further_values(
    planned: &mut Planned,
    further: Vec<(&String, FieldType, &str)>,
    columns: &[Column],
    region: &str,
    line: u64,
) {
    for (header, field_type, value) in further {
        // A second company or name has no field of its kind: it is reported, not guessed into
        // some text field.
        let spillable = !matches!(field_type, FieldType::Text | FieldType::LongText);
        let free = columns
            .iter()
            .filter(|_| spillable)
            .filter_map(|c| match c {
                Column::Custom(def)
                    if def.field_type == field_type && !planned.custom.contains_key(&def.field_name) =>
                {
                    Some(def)
                }
                _ => None,
            })
            .min_by_key(|def| {
                let extra =
                    def.field_name == "alternate_email" || super::mapping::is_personal_phone_field(&def.field_name);
                !extra
            });
        let problem = |message: String| Problem {
            line,
            column: Some(header.clone()),
            value: value.chars().take(200).collect(),
            message,
        };
        match free {
            Some(def) => match def.spec(region).parse_text(value) {
                Ok(v) if !v.is_empty() => {
                    planned.custom.insert(def.field_name.clone(), v);
                }
                Ok(_) => {}
                Err(e) => planned.problems.push(problem(e.public_message())),
            },
            None => planned.problems.push(problem(
                "a further value in this cell, with no field of its kind left to take it".into(),
            )),
        }
    }
}

/// Parses one row against the resolved columns (`headers` names them in errors). A cell that
/// cannot be read is a problem: left out (`SkipCell`) or an error that stops the file (`Stop`).
pub fn parse_row(row: Row, headers: &[String], columns: &[Column], region: &str, on_problem: OnProblem) -> Parsed {
    let mut planned = Planned::of(row.line, BaseFields::default(), BTreeMap::new(), Vec::new());
    let mut errors = Vec::new();
    let mut any = false;
    // A cell's further values (Google's `a ::: b`) where one value goes: placed once every
    // column has been read (`place_further_values`).
    let mut further: Vec<(&String, FieldType, &str)> = Vec::new();
    for ((cell, column), header) in row.cells.iter().zip(columns).zip(headers) {
        if matches!(column, Column::Skip) {
            continue;
        }
        let values = split_multi(cell);
        if values.is_empty() {
            continue;
        }
        any = true;
        let single_type = match column {
            Column::Base("primary_email") => Some(FieldType::Email),
            Column::Base("primary_phone") => Some(FieldType::Phone),
            Column::Base(_) | Column::FullName => Some(FieldType::Text),
            Column::Custom(def) if !matches!(def.field_type, FieldType::Text | FieldType::LongText) => {
                Some(def.field_type)
            }
            _ => None,
        };
        if let Some(t) = single_type {
            further.extend(values.iter().skip(1).map(|v| (header, t, *v)));
        }
        let error = |message: String| RowError {
            line: row.line,
            column: Some(header.clone()),
            message,
        };
        let problem = |message: String| Problem {
            line: row.line,
            column: Some(header.clone()),
            value: cell.trim().chars().take(200).collect(),
            message,
        };
        match column {
            Column::Skip => {}
            Column::Base(name) => match parse_base(name, values[0], region) {
                Ok(v) => planned.base.set(name, v),
                Err(e) if on_problem == OnProblem::SkipCell => planned.problems.push(problem(e.public_message())),
                Err(e) => errors.push(error(e.public_message())),
            },
            Column::Note => planned.note.push(format!("{header}: {}", cell.trim())),
            Column::Lists => {
                for name in super::mapping::group_names(cell) {
                    if !planned.lists.contains(&name) {
                        planned.lists.push(name);
                    }
                }
            }
            Column::FullName => {
                let (first, last) = super::names::split(values[0]);
                for (name, part) in [("first_name", first), ("last_name", last)] {
                    if part.is_empty() || planned.base.get(name).is_some() {
                        continue;
                    }
                    match parse_base(name, &part, region) {
                        Ok(v) => planned.base.set(name, v),
                        Err(e) if on_problem == OnProblem::SkipCell => {
                            planned.problems.push(problem(e.public_message()))
                        }
                        Err(e) => errors.push(error(e.public_message())),
                    }
                }
            }
            Column::Custom(def) => {
                let text = match def.field_type {
                    FieldType::Text | FieldType::LongText => values.join(", "),
                    _ => values[0].to_string(),
                };
                match def.spec(region).parse_text(&text) {
                    Ok(v) if !v.is_empty() => {
                        planned.custom.insert(def.field_name.clone(), v);
                    }
                    Ok(_) => {}
                    Err(e) if on_problem == OnProblem::SkipCell => planned.problems.push(problem(e.public_message())),
                    Err(e) => errors.push(error(e.public_message())),
                }
            }
        }
    }
    place_further_values(&mut planned, further, columns, region, row.line);
    promote_phone(&mut planned, columns);
    planned.cells = row.cells;
    let readable =
        !planned.base.is_empty() || !planned.custom.is_empty() || !planned.lists.is_empty() || !planned.note.is_empty();
    if !errors.is_empty() {
        Parsed::Invalid(errors)
    } else if !readable && !planned.problems.is_empty() {
        Parsed::Unreadable {
            cells: planned.cells,
            problems: planned.problems,
        }
    } else if any {
        Parsed::Contact(planned)
    } else {
        Parsed::Empty
    }
}
