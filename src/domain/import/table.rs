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

/// No real contact row comes near this; a quote that never closes would otherwise swallow
/// the rest of the file into one field.
const MAX_RECORD_BYTES: usize = 4 * 1024 * 1024;

/// A CSV file's rows, read as they are asked for: the header first (`open`), then one row at
/// a time, so a file of any size is never held whole. Parsed with csv-core, fed by hand, so
/// each row's first line is counted here from the bytes themselves (line breaks inside quotes
/// too; CR LF, LF or CR endings; blank lines skipped), as people see them in an editor.
pub struct CsvRows<R> {
    input: std::io::BufReader<R>,
    core: csv_core::Reader,
    columns: usize,
    /// Line breaks seen so far, and whether the last byte was a CR (of a possible CR LF).
    line: u64,
    after_cr: bool,
    done: bool,
    out: Vec<u8>,
    ends: Vec<usize>,
}

impl<R: std::io::Read> CsvRows<R> {
    /// Reads the header row; refuses a file without one, or with more columns than any
    /// contact export has.
    pub fn open(input: R, delimiter: u8) -> AppResult<(Vec<String>, Self)> {
        let mut rows = CsvRows {
            input: std::io::BufReader::with_capacity(64 * 1024, input),
            core: csv_core::ReaderBuilder::new().delimiter(delimiter).build(),
            columns: 0,
            line: 1,
            after_cr: false,
            done: false,
            out: vec![0; 4096],
            ends: vec![0; 64],
        };
        let Some((_, header)) = rows.record()? else {
            return Err(AppError::invalid("file", "the file is empty"));
        };
        // A byte-order mark can survive decoding (a UTF-8 mark inside UTF-16 text, as some
        // exporters write); it is no part of the first column's name.
        let columns: Vec<String> = header
            .iter()
            .map(|h| h.trim_start_matches('\u{feff}').trim().to_string())
            .collect();
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
        rows.columns = columns.len();
        Ok((columns, rows))
    }

    /// Counts the line breaks in bytes the parser consumed; returns where the record's first
    /// byte is, when `start` (line breaks before a record belong to no record).
    fn count_lines(line: &mut u64, after_cr: &mut bool, bytes: &[u8], start: &mut Option<u64>) {
        for &b in bytes {
            match b {
                b'\n' if *after_cr => *after_cr = false,
                b'\n' => *line += 1,
                b'\r' => {
                    *line += 1;
                    *after_cr = true;
                }
                _ => {
                    *after_cr = false;
                    if start.is_none() {
                        *start = Some(*line);
                    }
                }
            }
        }
    }

    /// The next record with the line it starts on; `None` at the end of the file.
    fn record(&mut self) -> AppResult<Option<(u64, Vec<String>)>> {
        use csv_core::ReadRecordResult;
        use std::io::BufRead;
        if self.done {
            return Ok(None);
        }
        let (mut outlen, mut endlen) = (0, 0);
        let mut start: Option<u64> = None;
        loop {
            let input = self.input.fill_buf().map_err(super::decode::read_error)?;
            let (result, nin, nout, nend) =
                self.core
                    .read_record(input, &mut self.out[outlen..], &mut self.ends[endlen..]);
            Self::count_lines(&mut self.line, &mut self.after_cr, &input[..nin], &mut start);
            self.input.consume(nin);
            outlen += nout;
            endlen += nend;
            match result {
                ReadRecordResult::InputEmpty => {}
                ReadRecordResult::OutputFull => {
                    if self.out.len() >= MAX_RECORD_BYTES {
                        return Err(AppError::invalid(
                            "file",
                            format!(
                                "the row on line {} never ends (a quote that is not closed?)",
                                start.unwrap_or(self.line)
                            ),
                        ));
                    }
                    self.out.resize(self.out.len() * 2, 0);
                }
                ReadRecordResult::OutputEndsFull => self.ends.resize(self.ends.len() * 2, 0),
                ReadRecordResult::Record => {
                    let mut cells = Vec::with_capacity(endlen);
                    let mut from = 0;
                    for &end in &self.ends[..endlen] {
                        cells.push(String::from_utf8_lossy(&self.out[from..end]).into_owned());
                        from = end;
                    }
                    return Ok(Some((start.unwrap_or(self.line), cells)));
                }
                ReadRecordResult::End => {
                    self.done = true;
                    return Ok(None);
                }
            }
        }
    }
}

impl<R: std::io::Read> Iterator for CsvRows<R> {
    type Item = AppResult<Row>;

    fn next(&mut self) -> Option<AppResult<Row>> {
        loop {
            let (line, cells) = match self.record() {
                Ok(Some(record)) => record,
                Ok(None) => return None,
                Err(e) => {
                    self.done = true;
                    return Some(Err(e));
                }
            };
            if cells.iter().all(|c| c.trim().is_empty()) {
                continue;
            }
            let mut cells: Vec<String> = cells
                .into_iter()
                .map(|c| match super::cells::restore(&c) {
                    restored if restored.len() == c.len() => c,
                    restored => restored.to_string(),
                })
                .collect();
            let extra = cells.iter().skip(self.columns).filter(|c| !c.trim().is_empty()).count();
            cells.resize(self.columns, String::new());
            return Some(Ok(Row { line, cells, extra }));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reads a whole CSV text into a table.
    pub fn parse_csv(text: &str, delimiter: u8) -> AppResult<Table> {
        let (columns, rows) = CsvRows::open(text.as_bytes(), delimiter)?;
        let rows = rows.collect::<AppResult<Vec<Row>>>()?;
        Ok(Table { columns, rows })
    }

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
