//! The dry run (SPEC §6): what a file holds, the mapping pi-crm suggests for it, and — read
//! through with that mapping — the values an import would have to leave empty, by column, so
//! the mapping page can say "3 birthdays could not be read" before anything is written.

use super::mapping::{self, Mapping, OnProblem};
use super::plan::{self, Parsed};
use super::source::Source;
use crate::domain::field_definition::FieldSet;
use crate::domain::workspace::WorkspaceAccess;
use crate::error::AppResult;

/// How many rows a preview shows.
pub const SAMPLE_ROWS: usize = 5;
/// Values shown per column with problems.
const EXAMPLES: usize = 3;

#[derive(Debug)]
pub struct Preview {
    /// `csv` or `vcf`.
    pub format: String,
    pub encoding: String,
    /// `,`, `;` or a tab; `null` for vCard.
    pub delimiter: Option<String>,
    pub columns: Vec<String>,
    /// The mapping the counts below are for: the one given, else the suggested one.
    pub suggested_mapping: Mapping,
    pub sample_rows: Vec<Vec<String>>,
    /// Data rows in the file (not counting the header).
    pub rows_total: usize,
    /// Per column, the values that mapping cannot read (they would be left empty).
    pub problems: Vec<ColumnProblems>,
    pub problems_total: u64,
    /// The custom fields the import would make, by name.
    pub fields_to_create: Vec<String>,
    /// Columns with values that the mapping skips as noise for a CRM (`mapping::is_noise`).
    pub noise: Vec<String>,
}

/// The values of one column that cannot be read as its field's type.
#[derive(Debug, Clone)]
pub struct ColumnProblems {
    pub column: String,
    pub count: u64,
    /// The first few such values, each once.
    pub examples: Vec<String>,
    /// Why the first of them cannot be read.
    pub message: String,
}

/// Where a preview is for: the workspace's fields (existing fields are recognised by name)
/// and the workspace itself; without them, only what the file itself says.
pub struct PreviewFor<'a> {
    pub fields: &'a FieldSet,
    pub ws: Option<&'a WorkspaceAccess>,
    /// The mapping to count problems with; `None`: the suggested one.
    pub mapping: Option<Mapping>,
    pub region: &'a str,
}

/// Reads the source twice: once to describe it and suggest a mapping, once to parse every row
/// with that mapping. A mapping that cannot work is a 422, as it would be for the import.
pub fn preview_of(source: &Source, target: PreviewFor<'_>) -> AppResult<Preview> {
    let scan = source.scan(SAMPLE_ROWS)?;
    let mapping = match target.mapping {
        Some(m) => m,
        None => mapping::suggest_for(&scan, Some(target.fields)),
    };
    let (columns, new_fields) = plan::resolve_columns(&scan.columns, &mapping, target.fields, target.ws)?;
    let noise = scan
        .columns
        .iter()
        .zip(&scan.seen)
        .filter(|(c, seen)| {
            seen.filled > 0
                && mapping::is_noise(c)
                && mapping.columns.get(*c).is_none_or(|t| *t == mapping::Target::skip())
        })
        .map(|(c, _)| c.clone())
        .collect();
    let (headers, rows) = source.rows()?;
    let mut problems: Vec<ColumnProblems> = Vec::new();
    let mut total = 0;
    for row in rows {
        let found = match plan::parse_row(row?, &headers, &columns, target.region, OnProblem::SkipCell) {
            Parsed::Contact(p) => p.problems,
            Parsed::Unreadable { problems, .. } => problems,
            Parsed::Empty | Parsed::Invalid(_) => Vec::new(),
        };
        for p in found {
            total += 1;
            let column = p.column.unwrap_or_default();
            let at = match problems.iter().position(|c| c.column == column) {
                Some(i) => i,
                None => {
                    problems.push(ColumnProblems {
                        column,
                        count: 0,
                        examples: Vec::new(),
                        message: p.message,
                    });
                    problems.len() - 1
                }
            };
            let c = &mut problems[at];
            c.count += 1;
            if c.examples.len() < EXAMPLES && !c.examples.contains(&p.value) {
                c.examples.push(p.value);
            }
        }
    }
    Ok(Preview {
        format: source.format_name().into(),
        encoding: source.encoding().into(),
        delimiter: source.delimiter().map(|d| d.to_string()),
        suggested_mapping: mapping,
        sample_rows: scan.samples,
        rows_total: scan.rows as usize,
        columns: scan.columns,
        problems,
        problems_total: total,
        fields_to_create: new_fields.into_iter().map(|d| d.field_name).collect(),
        noise,
    })
}

/// The preview of bytes on their own: no workspace, US conventions (tests and tools).
pub fn preview(bytes: &[u8]) -> AppResult<Preview> {
    let fields = FieldSet::default();
    preview_of(
        &Source::from_bytes(bytes)?,
        PreviewFor {
            fields: &fields,
            ws: None,
            mapping: None,
            region: "US",
        },
    )
}
