//! Importing contacts from files. This first part reads: any CSV or vCard a person's address
//! book gave them becomes a table, with its encoding and delimiter detected and its columns
//! recognised (`preview`, the dry run of SPEC §6).

pub mod cells;
pub mod decode;
pub mod job;
pub mod mapping;
pub mod plan;
pub mod table;
pub mod vcard;

use serde::Serialize;

use self::mapping::Mapping;
use self::table::Table;
use crate::error::AppResult;

/// How many rows a preview shows.
pub const SAMPLE_ROWS: usize = 5;

/// A file read and understood.
pub struct ReadFile {
    pub format: &'static str,
    pub encoding: &'static str,
    pub delimiter: Option<char>,
    pub table: Table,
}

pub fn read(bytes: &[u8]) -> AppResult<ReadFile> {
    let decoded = decode::decode(bytes)?;
    let text = decoded.text.trim_start_matches('\u{feff}');
    if vcard::looks_like_vcard(text) {
        return Ok(ReadFile {
            format: "vcf",
            encoding: decoded.encoding,
            delimiter: None,
            table: vcard::parse(text)?,
        });
    }
    let delimiter = table::detect_delimiter(text);
    let table = table::parse_csv(text, delimiter)?;
    Ok(ReadFile {
        format: "csv",
        encoding: decoded.encoding,
        delimiter: Some(delimiter as char),
        table,
    })
}

/// The dry run's answer (SPEC §6).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Preview {
    /// `csv` or `vcf`.
    pub format: String,
    pub encoding: String,
    /// `,`, `;` or a tab; `null` for vCard.
    pub delimiter: Option<String>,
    pub columns: Vec<String>,
    #[schema(value_type = Object)]
    pub suggested_mapping: Mapping,
    pub sample_rows: Vec<Vec<String>>,
    /// Data rows in the file (not counting the header).
    pub rows_total: usize,
}

pub fn preview(bytes: &[u8]) -> AppResult<Preview> {
    let file = read(bytes)?;
    Ok(Preview {
        format: file.format.into(),
        encoding: file.encoding.into(),
        delimiter: file.delimiter.map(|d| d.to_string()),
        suggested_mapping: mapping::suggest(&file.table.columns),
        sample_rows: file
            .table
            .rows
            .iter()
            .take(SAMPLE_ROWS)
            .map(|r| r.cells.clone())
            .collect(),
        rows_total: file.table.rows.len(),
        columns: file.table.columns,
    })
}

/// The mapping an import runs with: the one given, or the suggested one for the file, with the
/// duplicate policy overridden when one is named (`on_duplicate` beside the mapping).
pub fn mapping_for(bytes: &[u8], given: Option<Mapping>, policy: Option<&str>) -> AppResult<Option<Mapping>> {
    let Some(policy) = policy.map(str::trim).filter(|p| !p.is_empty()) else {
        return Ok(given);
    };
    let policy = mapping::OnDuplicate::parse(policy)
        .ok_or_else(|| crate::error::AppError::invalid("on_duplicate", "on_duplicate is skip, update or merge"))?;
    let mut mapping = match given {
        Some(m) => m,
        None => mapping::suggest(&read(bytes)?.table.columns),
    };
    mapping.on_duplicate = policy;
    Ok(Some(mapping))
}
