//! A file as a table: a header row and data rows of text, whatever the format. CSV is parsed
//! here (delimiter detected: comma, semicolon or tab; quotes, doubled quotes and line breaks
//! inside quotes; rows shorter or longer than the header are padded or kept, never fatal).

use crate::error::{AppError, AppResult};

/// More columns than any real contact export has (Outlook's is 92).
pub const MAX_COLUMNS: usize = 500;

#[derive(Debug, Clone)]
pub struct Table {
    pub columns: Vec<String>,
    /// Each row as long as `columns` (extra cells past the header are dropped and counted).
    pub rows: Vec<Row>,
}

#[derive(Debug, Clone)]
pub struct Row {
    /// The file line the row starts on (line 1 is the header).
    pub line: u64,
    pub cells: Vec<String>,
    /// Cells beyond the header that had text in them.
    pub extra: usize,
}

/// The delimiter that splits the header line into the most columns, outside quotes.
pub fn detect_delimiter(text: &str) -> u8 {
    let header = first_record(text);
    let count = |d: char| {
        let mut quoted = false;
        header
            .chars()
            .filter(|c| {
                if *c == '"' {
                    quoted = !quoted;
                }
                !quoted && *c == d
            })
            .count()
    };
    [b',', b';', b'\t']
        .into_iter()
        .max_by_key(|d| count(*d as char))
        .unwrap_or(b',')
}

/// The header record's text: up to the first line break outside quotes.
fn first_record(text: &str) -> &str {
    let mut quoted = false;
    for (i, c) in text.char_indices() {
        match c {
            '"' => quoted = !quoted,
            '\n' | '\r' if !quoted => return &text[..i],
            _ => {}
        }
    }
    text
}

/// The line each record starts on (1-based), with the csv parser's rules: line breaks inside
/// quotes belong to the field, and blank lines are no record.
fn record_start_lines(text: &str) -> Vec<u64> {
    let mut starts = Vec::new();
    let mut line = 1u64;
    let mut quoted = false;
    let mut at_record_start = true;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' => quoted = !quoted,
            '\r' | '\n' if !quoted => {
                if c == '\r' && chars.peek() == Some(&'\n') {
                    chars.next();
                }
                line += 1;
                at_record_start = true;
                continue;
            }
            '\n' => line += 1,
            '\r' if chars.peek() != Some(&'\n') => line += 1,
            _ => {}
        }
        if at_record_start {
            starts.push(line);
            at_record_start = false;
        }
    }
    starts
}

pub fn parse_csv(text: &str, delimiter: u8) -> AppResult<Table> {
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut records = reader.records();
    let header = match records.next() {
        Some(Ok(h)) => h,
        Some(Err(e)) => return Err(AppError::invalid("file", format!("the header row cannot be read: {e}"))),
        None => return Err(AppError::invalid("file", "the file is empty")),
    };
    let columns: Vec<String> = header.iter().map(|h| h.trim().to_string()).collect();
    if columns.len() > MAX_COLUMNS {
        return Err(AppError::invalid(
            "file",
            format!(
                "the file has {} columns; pi-crm reads at most {MAX_COLUMNS}",
                columns.len()
            ),
        ));
    }
    if columns.iter().all(String::is_empty) {
        return Err(AppError::invalid(
            "file",
            "the first row should name the columns, but it is empty",
        ));
    }
    // Line numbers are counted here rather than taken from csv's positions, which count
    // differently for CR LF and LF files; people count the header as line 1.
    let starts = record_start_lines(text);
    let mut rows = Vec::new();
    let mut record_index = 0;
    for record in records {
        record_index += 1;
        let record = record.map_err(|e| {
            let line = e.position().map(|p| p.line()).unwrap_or(0);
            AppError::invalid("file", format!("line {line} cannot be read: {e}"))
        })?;
        if record.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        let line = starts.get(record_index).copied().unwrap_or(0);
        let mut cells: Vec<String> = record.iter().map(|c| super::cells::restore(c).to_string()).collect();
        let extra = cells
            .iter()
            .skip(columns.len())
            .filter(|c| !c.trim().is_empty())
            .count();
        cells.resize(columns.len(), String::new());
        rows.push(Row { line, cells, extra });
    }
    Ok(Table { columns, rows })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delimiters_quotes_and_ragged_rows() {
        assert_eq!(detect_delimiter("a;b;\"c,d,e\"\n1;2;3"), b';');
        assert_eq!(detect_delimiter("a\tb\tc"), b'\t');
        assert_eq!(detect_delimiter("\"x;y\",b,c\n"), b',');
        let t = parse_csv(
            "Name,Notes\r\nAda,\"line one\nline \"\"two\"\"\"\r\nBob\r\nCy,n,EXTRA\r\n",
            b',',
        )
        .unwrap();
        assert_eq!(t.columns, ["Name", "Notes"]);
        assert_eq!(t.rows.len(), 3);
        assert_eq!(t.rows[0].cells[1], "line one\nline \"two\"");
        assert_eq!(t.rows[0].line, 2);
        assert_eq!(t.rows[1].cells, ["Bob", ""], "a short row is padded");
        assert_eq!(t.rows[2].extra, 1, "a long row keeps its count of extra cells");
        assert_eq!(t.rows[2].line, 5);
        let wide = (0..10_000).map(|i| format!("c{i}")).collect::<Vec<_>>().join(",");
        assert!(parse_csv(&wide, b',').is_err());
    }
}
