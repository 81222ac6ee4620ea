//! The rows of an import that had a problem, as a CSV to fix and import again (SPEC §11.2):
//! the file's own columns, as it had them, and a last column `problem` saying what was wrong.
//! Streamed a page at a time, like an export.

use axum::body::Bytes;
use futures_util::Stream;
use sqlx::SqlitePool;

use super::cells;
use crate::domain::actor::{Actor, Scope};
use crate::domain::ids::ImportId;
use crate::domain::workspace::WorkspaceAccess;
use crate::error::{AppError, AppResult};
use crate::storage;
use crate::storage::import_problems::ProblemRow;

/// The name of the column that says what was wrong; the importer skips it when it reads the
/// fixed file back.
pub const PROBLEM_COLUMN: &str = "problem";

const PAGE: u32 = 500;

/// A download about to stream: access checked, header known.
pub struct ProblemRowsCsv {
    db: SqlitePool,
    ws: WorkspaceAccess,
    import: String,
    columns: Vec<String>,
    /// `<the uploaded file's name>-problems.csv`
    pub filename: String,
}

pub async fn prepare(db: &SqlitePool, actor: &Actor, ws: &WorkspaceAccess, id: &ImportId) -> AppResult<ProblemRowsCsv> {
    actor.require(Scope::ReadContacts)?;
    let row = storage::imports::find(db, ws, id).await?.ok_or(AppError::NotFound)?;
    let columns = storage::import_problems::columns(db, ws, &row.id).await?;
    let stem = row
        .filename
        .rsplit_once('.')
        .map_or(row.filename.as_str(), |(stem, _)| stem);
    Ok(ProblemRowsCsv {
        db: db.clone(),
        ws: ws.clone(),
        import: row.id,
        columns,
        filename: format!("{stem}-problems.csv"),
    })
}

impl ProblemRowsCsv {
    /// The CSV, as chunks; a database error mid-way ends the stream with an error, so the
    /// download fails visibly instead of looking complete.
    pub fn stream(self) -> impl Stream<Item = Result<Bytes, std::io::Error>> + Send {
        futures_util::stream::try_unfold((self, None::<u64>), |(csv, after)| async move {
            let Some(after) = after else {
                let header = csv.columns.iter().map(String::as_str).chain([PROBLEM_COLUMN]);
                let header = cells::csv_rows([header]).map_err(std::io::Error::other)?;
                return Ok(Some((Bytes::from(header), (csv, Some(0)))));
            };
            if after == u64::MAX {
                return Ok(None);
            }
            let rows = storage::import_problems::page(&csv.db, &csv.ws, &csv.import, after, PAGE)
                .await
                .map_err(std::io::Error::other)?;
            let next = match rows.last() {
                Some(last) if rows.len() == PAGE as usize => last.line,
                _ => u64::MAX,
            };
            let chunk = render(&rows, csv.columns.len()).map_err(std::io::Error::other)?;
            Ok(Some((chunk, (csv, Some(next)))))
        })
    }
}

/// Rows padded (or cut) to the header's width, then their problem.
fn render(rows: &[ProblemRow], width: usize) -> Result<Bytes, csv::Error> {
    let lines = rows.iter().map(|row| {
        let cells = (0..width).map(|i| row.cells.get(i).cloned().unwrap_or_default());
        cells.chain([format!("line {}: {}", row.line, row.problem)])
    });
    Ok(Bytes::from(cells::csv_rows(lines)?))
}
