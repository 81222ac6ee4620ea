//! An uploaded file as a source of rows, read again on every pass instead of being held: its
//! encoding, format (CSV or vCard) and delimiter are settled once, by `open`; `rows` then
//! reads it from the start as often as needed — to check it at upload, to show a preview, to
//! run the import — with only a chunk of it in memory at a time.

use std::io::{BufReader, Read};
use std::path::PathBuf;
use std::sync::Arc;

use super::decode::{self, DecodeReader, Detected};
use super::grouped::Grouped;
use super::table::{self, CsvRows, Row};
use super::vcard;
use crate::error::{AppError, AppResult};

/// Decoded text enough to tell a vCard from a CSV and to count a CSV header's delimiters.
const HEAD: u64 = 64 * 1024;

enum Origin {
    File(PathBuf),
    Bytes(Arc<[u8]>),
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Format {
    Csv { delimiter: u8 },
    Vcard,
}

pub struct Source {
    origin: Origin,
    detected: Detected,
    pub format: Format,
}

/// Rows as they are read; each may be an error that ends the file.
pub type Rows = Box<dyn Iterator<Item = AppResult<Row>> + Send>;

impl Source {
    pub fn from_file(path: PathBuf) -> AppResult<Source> {
        Self::open(Origin::File(path))
    }

    pub fn from_bytes(bytes: &[u8]) -> AppResult<Source> {
        Self::open(Origin::Bytes(bytes.into()))
    }

    fn open(origin: Origin) -> AppResult<Source> {
        let detected = decode::detect(raw(&origin)?)?;
        let mut source = Source {
            origin,
            detected,
            format: Format::Vcard,
        };
        let mut head = Vec::new();
        source
            .text()?
            .take(HEAD)
            .read_to_end(&mut head)
            .map_err(decode::read_error)?;
        // The head may end inside a character; that is no matter for sniffing.
        let head = String::from_utf8_lossy(&head);
        if !vcard::looks_like_vcard(&head) {
            source.format = Format::Csv {
                delimiter: table::detect_delimiter(head.trim_start_matches('\u{feff}')),
            };
        }
        Ok(source)
    }

    pub fn encoding(&self) -> &'static str {
        self.detected.name()
    }

    pub fn format_name(&self) -> &'static str {
        match self.format {
            Format::Csv { .. } => "csv",
            Format::Vcard => "vcf",
        }
    }

    pub fn delimiter(&self) -> Option<char> {
        match self.format {
            Format::Csv { delimiter } => Some(delimiter as char),
            Format::Vcard => None,
        }
    }

    /// The file as UTF-8, from its first character (after any byte-order mark).
    fn text(&self) -> AppResult<DecodeReader<Box<dyn Read + Send>>> {
        let mut raw = raw(&self.origin)?;
        std::io::copy(&mut (&mut raw).take(self.detected.bom_len as u64), &mut std::io::sink())
            .map_err(anyhow::Error::from)?;
        Ok(DecodeReader::new(raw, self.detected.encoding))
    }

    /// The column names and the rows, read from the start of the file. A CSV streams; a
    /// vCard is read twice, since its columns are the union of every card's properties.
    pub fn rows(&self) -> AppResult<(Vec<String>, Rows)> {
        let text = self.text()?;
        match self.format {
            Format::Csv { delimiter } => {
                let (columns, rows) = CsvRows::open(text, delimiter)?;
                // An address over several columns, Google's labelled numbers: folded into
                // the columns a person means, row by row.
                Ok(match Grouped::of(&columns) {
                    Some(grouped) => (
                        grouped.columns(&columns),
                        Box::new(rows.map(move |row| row.map(|r| grouped.row(r)))),
                    ),
                    None => (columns, Box::new(rows)),
                })
            }
            Format::Vcard => {
                // Two passes over the file on disk: the first gathers the columns, the second
                // turns each card into a row as it is read. No card is held beyond its own.
                let mut shape = vcard::Shape::default();
                for card in vcard::cards(BufReader::new(text)) {
                    shape.add(&card?);
                }
                let columns = shape.columns();
                let rows = vcard::cards(BufReader::new(self.text()?)).map(move |card| card.map(|c| shape.row(c)));
                Ok((columns, Box::new(rows)))
            }
        }
    }

    /// Reads the whole file once: its columns, the first `samples` rows, and how many rows it
    /// has. Any error in it (bad text, broken quoting) is found here.
    pub fn scan(&self, samples: usize) -> AppResult<Scan> {
        let (columns, rows) = self.rows()?;
        let mut scan = Scan {
            seen: vec![ColumnSeen::default(); columns.len()],
            columns,
            samples: Vec::new(),
            rows: 0,
        };
        for row in rows {
            let row = row?;
            for (seen, cell) in scan.seen.iter_mut().zip(&row.cells) {
                seen.note(cell);
            }
            if scan.samples.len() < samples {
                scan.samples.push(row.cells);
            }
            scan.rows += 1;
        }
        Ok(scan)
    }
}

pub struct Scan {
    pub columns: Vec<String>,
    pub samples: Vec<Vec<String>>,
    pub rows: u64,
    /// Per column: how many cells hold text, and the first few of them (to infer a type).
    pub seen: Vec<ColumnSeen>,
}

/// Examples kept per column for type inference.
const EXAMPLES: usize = 50;

#[derive(Debug, Clone, Default)]
pub struct ColumnSeen {
    pub filled: u64,
    pub examples: Vec<String>,
}

impl ColumnSeen {
    fn note(&mut self, cell: &str) {
        let cell = cell.trim();
        if cell.is_empty() {
            return;
        }
        self.filled += 1;
        if self.examples.len() < EXAMPLES {
            self.examples.push(cell.chars().take(300).collect());
        }
    }
}

fn raw(origin: &Origin) -> AppResult<Box<dyn Read + Send>> {
    Ok(match origin {
        Origin::File(path) => Box::new(std::io::BufReader::with_capacity(
            64 * 1024,
            std::fs::File::open(path)
                .map_err(|e| AppError::Internal(anyhow::anyhow!("cannot open the upload: {e}")))?,
        )),
        Origin::Bytes(bytes) => Box::new(std::io::Cursor::new(bytes.clone())),
    })
}
