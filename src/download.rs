//! Streamed file downloads, for both faces: exports, and an import's problem rows.

use axum::body::Body;
use axum::http::header;
use axum::response::{IntoResponse, Response};

use crate::domain::export::Export;
use crate::domain::import::problem_rows::ProblemRowsCsv;

/// `Borrowers 2026!` → `Borrowers-2026`: a filename any browser and shell takes as is.
fn safe_name(name: &str) -> String {
    let mut cleaned = String::new();
    for c in name.chars() {
        let c = if c.is_ascii_alphanumeric() || c == '_' { c } else { '-' };
        if !(c == '-' && cleaned.ends_with('-')) {
            cleaned.push(c);
        }
    }
    let trimmed = cleaned.trim_matches('-');
    if trimmed.is_empty() {
        "contacts".into()
    } else {
        trimmed.chars().take(60).collect()
    }
}

pub fn export(export: Export, workspace_name: &str) -> Response {
    let format = export.format();
    let filename = format!(
        "{}-{}.{}",
        safe_name(workspace_name),
        crate::clock::now_text().get(..10).unwrap_or("export"),
        format.extension()
    );
    attachment(format.content_type(), &filename, Body::from_stream(export.stream()))
}

/// The audit log, as a CSV.
pub fn audit_log(csv: crate::domain::audit_export::AuditCsv) -> Response {
    let filename = format!(
        "pi-crm-audit-{}.csv",
        crate::clock::now_text().get(..10).unwrap_or("log")
    );
    attachment("text/csv; charset=utf-8", &filename, Body::from_stream(csv.stream()))
}

/// The rows of an import that had a problem, as a CSV.
pub fn problem_rows(csv: ProblemRowsCsv) -> Response {
    let filename = format!("{}.csv", safe_name(csv.filename.trim_end_matches(".csv")));
    attachment("text/csv; charset=utf-8", &filename, Body::from_stream(csv.stream()))
}

/// A backup file, read in 64 KiB pieces (it can be hundreds of megabytes).
pub fn backup(filename: &str, file: tokio::fs::File) -> Response {
    use tokio::io::AsyncReadExt;
    let chunks = futures_util::stream::unfold(Some(file), |file| async move {
        let mut file = file?;
        let mut buf = vec![0u8; 64 * 1024];
        match file.read(&mut buf).await {
            Ok(0) => None,
            Ok(n) => {
                buf.truncate(n);
                Some((Ok::<_, std::io::Error>(axum::body::Bytes::from(buf)), Some(file)))
            }
            // Said once; the body ends there and the client sees a broken download.
            Err(e) => Some((Err(e), None)),
        }
    });
    attachment("application/vnd.sqlite3", filename, Body::from_stream(chunks))
}

fn attachment(content_type: &str, filename: &str, body: Body) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type.to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{filename}\""),
            ),
            (header::CACHE_CONTROL, "no-store".to_string()),
        ],
        body,
    )
        .into_response()
}
