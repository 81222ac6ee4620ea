//! The rows of an import that had a problem, kept as the file had them (`import_problem_rows`).

use sqlx::{SqliteConnection, SqlitePool};

use crate::model::access::WorkspaceAccess;

/// A row of the file that had a problem: its cells as read, and what was wrong.
#[derive(Debug, Clone)]
pub struct ProblemRow {
    pub line: u64,
    pub cells: Vec<String>,
    pub problem: String,
}

/// Rows per multi-row statement.
const BULK_ROWS: usize = 200;

/// Stores problem rows inside the import's transaction. A line met twice (a value that could
/// not be read, then the row left out) keeps both reasons.
pub async fn add(
    conn: &mut SqliteConnection,
    ws: &WorkspaceAccess,
    import: &str,
    rows: &[ProblemRow],
) -> Result<(), sqlx::Error> {
    for chunk in rows.chunks(BULK_ROWS) {
        let mut q =
            sqlx::QueryBuilder::new("INSERT INTO import_problem_rows (import_id, workspace_id, line, cells, problem) ");
        q.push_values(chunk, |mut b, r| {
            b.push_bind(import)
                .push_bind(ws.id().as_str())
                .push_bind(r.line as i64)
                .push_bind(serde_json::to_string(&r.cells).expect("text serialises"))
                .push_bind(&r.problem);
        });
        q.push(
            " ON CONFLICT (import_id, line) DO UPDATE
                SET problem = import_problem_rows.problem || '; ' || excluded.problem",
        );
        q.build().execute(&mut *conn).await?;
    }
    Ok(())
}

/// Records the file's header, for the problem rows' CSV.
pub async fn set_columns(
    conn: &mut SqliteConnection,
    ws: &WorkspaceAccess,
    import: &str,
    columns: &[String],
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE imports SET columns = ? WHERE id = ? AND workspace_id = ?")
        .bind(serde_json::to_string(columns).expect("text serialises"))
        .bind(import)
        .bind(ws.id())
        .execute(conn)
        .await?;
    Ok(())
}

/// The file's header as recorded (empty for an import that had no problem rows).
pub async fn columns(db: &SqlitePool, ws: &WorkspaceAccess, import: &str) -> Result<Vec<String>, sqlx::Error> {
    let json: Option<Option<String>> =
        sqlx::query_scalar("SELECT columns FROM imports WHERE id = ? AND workspace_id = ?")
            .bind(import)
            .bind(ws.id())
            .fetch_optional(db)
            .await?;
    Ok(json
        .flatten()
        .and_then(|j| serde_json::from_str(&j).ok())
        .unwrap_or_default())
}

/// A page of problem rows in file order, after line `after`.
pub async fn page(
    db: &SqlitePool,
    ws: &WorkspaceAccess,
    import: &str,
    after: u64,
    limit: u32,
) -> Result<Vec<ProblemRow>, sqlx::Error> {
    let rows: Vec<(i64, String, String)> = sqlx::query_as(
        "SELECT line, cells, problem FROM import_problem_rows
          WHERE import_id = ? AND workspace_id = ? AND line > ?
          ORDER BY line LIMIT ?",
    )
    .bind(import)
    .bind(ws.id())
    .bind(after as i64)
    .bind(limit)
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(line, cells, problem)| ProblemRow {
            line: line as u64,
            cells: serde_json::from_str(&cells).unwrap_or_default(),
            problem,
        })
        .collect())
}

/// How many rows of the import had a problem.
pub async fn count<'e>(
    db: impl sqlx::SqliteExecutor<'e>,
    ws: &WorkspaceAccess,
    import: &str,
) -> Result<u64, sqlx::Error> {
    let n: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM import_problem_rows WHERE import_id = ? AND workspace_id = ?")
            .bind(import)
            .bind(ws.id())
            .fetch_one(db)
            .await?;
    Ok(n as u64)
}
