//! An import: its dry run's preview, its progress and report.

use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use super::all;
use crate::domain::import::{self, job, mapping::Mapping, plan};

/// A mapping (SPEC §11) as JSON: the same format the upload's `mapping` part takes.
fn mapping_json(mapping: &Mapping) -> Value {
    serde_json::to_value(mapping).unwrap_or_default()
}

/// What a dry run found.
#[derive(Debug, Serialize, ToSchema)]
pub struct ImportPreview {
    /// `csv` or `vcf`.
    pub format: String,
    pub encoding: String,
    /// `,`, `;` or a tab; `null` for vCard.
    pub delimiter: Option<String>,
    pub columns: Vec<String>,
    /// The mapping the counts below are for: the one given, else the suggested one.
    #[schema(value_type = Object)]
    pub suggested_mapping: Value,
    pub sample_rows: Vec<Vec<String>>,
    /// Data rows in the file (not counting the header).
    pub rows_total: usize,
    /// Per column, the values that mapping cannot read (they would be left empty).
    pub problems: Vec<ColumnProblems>,
    pub problems_total: u64,
    /// The custom fields the import would make, by name.
    pub fields_to_create: Vec<String>,
    /// Columns with values that the mapping skips as noise for a CRM.
    pub noise: Vec<String>,
}

/// The values of one column that cannot be read as its field's type.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ColumnProblems {
    pub column: String,
    pub count: u64,
    /// The first few such values, each once.
    pub examples: Vec<String>,
    /// Why the first of them cannot be read.
    pub message: String,
}

impl From<import::Preview> for ImportPreview {
    fn from(p: import::Preview) -> Self {
        let column = |c: import::preview::ColumnProblems| ColumnProblems {
            column: c.column,
            count: c.count,
            examples: c.examples,
            message: c.message,
        };
        ImportPreview {
            format: p.format,
            encoding: p.encoding,
            delimiter: p.delimiter,
            columns: p.columns,
            suggested_mapping: mapping_json(&p.suggested_mapping),
            sample_rows: p.sample_rows,
            rows_total: p.rows_total,
            problems: p.problems.into_iter().map(column).collect(),
            problems_total: p.problems_total,
            fields_to_create: p.fields_to_create,
            noise: p.noise,
        }
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Progress {
    pub rows_done: u64,
    pub rows_total: u64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ImportView {
    pub id: String,
    /// draft, queued, running, done, failed or reverted.
    pub status: String,
    pub filename: String,
    pub format: String,
    pub encoding: String,
    pub created_at: String,
    pub finished_at: Option<String>,
    pub progress: Progress,
    pub report: Report,
    #[schema(value_type = Object)]
    pub mapping: Option<Value>,
}

impl From<job::ImportView> for ImportView {
    fn from(v: job::ImportView) -> Self {
        ImportView {
            id: v.id,
            status: v.status,
            filename: v.filename,
            format: v.format,
            encoding: v.encoding,
            created_at: v.created_at,
            finished_at: v.finished_at,
            progress: Progress {
                rows_done: v.progress.rows_done,
                rows_total: v.progress.rows_total,
            },
            report: v.report.into(),
            mapping: v.mapping.as_ref().map(mapping_json),
        }
    }
}

/// What an import did, and what it could not.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Report {
    pub created: u64,
    pub updated: u64,
    pub duplicates: u64,
    pub skipped: u64,
    /// The first problems, in file order.
    pub problems: Vec<Problem>,
    pub problems_total: u64,
    /// Rows that had a problem: `GET …/imports/{id}/problems.csv` has them, as they were.
    pub problem_rows: u64,
    /// What stopped the file: with `on_problem: stop`, or a file that cannot be read.
    pub errors: Vec<RowError>,
    /// The custom fields the import made (its revert deletes those it leaves empty).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fields_created: Vec<String>,
    /// The fields its revert deleted, because nothing held a value in them any more.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fields_removed: Vec<String>,
    /// The lists the import made for its group names (its revert deletes those left empty).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub lists_created: Vec<String>,
    /// The lists its revert deleted, because no contact was on them any more.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub lists_removed: Vec<String>,
}

/// A cell that could not be read, left empty on its contact (or a row left out for want of
/// anything usable), reported instead of sinking the file.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Problem {
    pub line: u64,
    pub column: Option<String>,
    pub value: String,
    pub message: String,
}

/// What stopped the file.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RowError {
    /// Line in the file (line 1 is the header); for vCard, the card's BEGIN line.
    pub line: u64,
    pub column: Option<String>,
    pub message: String,
}

impl From<plan::Problem> for Problem {
    fn from(p: plan::Problem) -> Self {
        Problem {
            line: p.line,
            column: p.column,
            value: p.value,
            message: p.message,
        }
    }
}

impl From<plan::RowError> for RowError {
    fn from(e: plan::RowError) -> Self {
        RowError {
            line: e.line,
            column: e.column,
            message: e.message,
        }
    }
}

impl From<plan::Report> for Report {
    fn from(r: plan::Report) -> Self {
        Report {
            created: r.created,
            updated: r.updated,
            duplicates: r.duplicates,
            skipped: r.skipped,
            problems: all(r.problems),
            problems_total: r.problems_total,
            problem_rows: r.problem_rows,
            errors: all(r.errors),
            fields_created: r.fields_created,
            fields_removed: r.fields_removed,
            lists_created: r.lists_created,
            lists_removed: r.lists_removed,
        }
    }
}
