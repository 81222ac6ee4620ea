//! Importing contacts from files. This first part reads: any CSV or vCard a person's address
//! book gave them becomes a table, with its encoding and delimiter detected and its columns
//! recognised (`preview`, the dry run of SPEC §6).

pub mod cells;
pub mod decode;
pub mod grouped;
pub mod job;
pub mod mapping;
pub mod names;
pub mod plan;
pub mod preview;
pub mod problem_rows;
pub mod revert;
pub mod revert_scope;
pub mod source;
pub mod steps;
pub mod table;
pub mod turns;
pub mod vcard;
pub mod write;

use self::mapping::Mapping;
use self::source::Source;
use self::table::Table;
use crate::domain::field_definition::FieldSet;
use crate::error::AppResult;

pub use self::preview::{Preview, preview, preview_of};

/// A file read whole and understood (tests and small inputs; imports stream from a `Source`).
pub struct ReadFile {
    pub format: &'static str,
    pub encoding: &'static str,
    pub delimiter: Option<char>,
    pub table: Table,
}

pub fn read(bytes: &[u8]) -> AppResult<ReadFile> {
    let source = Source::from_bytes(bytes)?;
    let (columns, rows) = source.rows()?;
    Ok(ReadFile {
        format: source.format_name(),
        encoding: source.encoding(),
        delimiter: source.delimiter(),
        table: Table {
            columns,
            rows: rows.collect::<AppResult<_>>()?,
        },
    })
}

/// The mapping an import runs with: the one given, or the suggested one for the file's
/// columns, with the duplicate policy overridden when one is named (`on_duplicate` beside the
/// mapping).
pub fn mapping_for(
    scan: &source::Scan,
    fields: &FieldSet,
    given: Option<Mapping>,
    policy: Option<&str>,
) -> AppResult<Mapping> {
    let mut mapping = given.unwrap_or_else(|| mapping::suggest_for(scan, Some(fields)));
    if let Some(policy) = policy.map(str::trim).filter(|p| !p.is_empty()) {
        mapping.on_duplicate = mapping::OnDuplicate::parse(policy)
            .ok_or_else(|| crate::error::AppError::invalid("on_duplicate", "on_duplicate is skip, update or merge"))?;
    }
    Ok(mapping)
}
