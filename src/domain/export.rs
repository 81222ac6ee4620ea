//! Taking everything out: CSV (base fields, then one column per custom field, UTF-8, formulas
//! neutralised) or vCard 4.0. Streamed a page of 500 contacts at a time, so 100k contacts
//! never sit in memory at once. Both read back through the importer to the same data.

use axum::body::Bytes;
use futures_util::Stream;
use sqlx::SqlitePool;

use super::actor::{Actor, Scope};
use super::contact::ContactRecord;
use super::field::{BASE_FIELDS, FieldType};
use super::field_definition::{self, FieldSet};
use super::import::cells;
use super::search::{self, After, ContactQuery, Sort};
use super::workspace::WorkspaceAccess;
use crate::error::{AppError, AppResult};

const PAGE: u32 = 500;
/// vCard properties for custom fields: `X-PI-CRM-LOAN_AMOUNT;X-PI-CRM-TYPE=number:350000`.
pub const VCARD_EXTENSION: &str = "X-PI-CRM-";
/// The parameter that carries a custom field's type in a vCard.
pub const VCARD_TYPE_PARAM: &str = "X-PI-CRM-TYPE";

/// A custom field's column in pi-crm's own export: its name, then its type in brackets
/// (`loan_amount [number]`), so an import into any workspace makes the same field again.
pub fn typed_header(name: &str, field_type: FieldType) -> String {
    format!("{name} [{}]", field_type.as_str())
}

/// The field a column of pi-crm's own export stands for (`typed_header` read back).
pub fn parse_typed_header(header: &str) -> Option<(String, FieldType)> {
    let (name, rest) = header.trim().split_once(" [")?;
    let field_type = FieldType::parse(rest.strip_suffix(']')?)?;
    let name = super::field::parse_field_name(name).ok()?;
    Some((name, field_type))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    Vcf,
}

impl Format {
    pub fn parse(text: &str) -> AppResult<Format> {
        match text.trim() {
            "" | "csv" => Ok(Format::Csv),
            "vcf" | "vcard" => Ok(Format::Vcf),
            other => Err(AppError::invalid("format", format!("{other:?} is not csv or vcf"))),
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Format::Csv => "text/csv; charset=utf-8",
            Format::Vcf => "text/vcard; charset=utf-8",
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Vcf => "vcf",
        }
    }
}

/// Where the stream is: the header, a page after some contact, or the end.
enum Step {
    Header,
    Page(Option<After>),
    Done,
}

/// An export about to stream: access checked, field definitions loaded.
pub struct Export {
    db: SqlitePool,
    actor: Actor,
    ws: WorkspaceAccess,
    fields: FieldSet,
    format: Format,
    /// A selection from the contacts list, else the whole workspace.
    only: Option<Vec<String>>,
}

pub async fn prepare(db: &SqlitePool, actor: &Actor, ws: &WorkspaceAccess, format: Format) -> AppResult<Export> {
    actor.require(Scope::ReadContacts)?;
    let fields = field_definition::applicable(db, ws).await?;
    Ok(Export {
        db: db.clone(),
        actor: actor.clone(),
        ws: ws.clone(),
        fields,
        format,
        only: None,
    })
}

impl Export {
    pub fn format(&self) -> Format {
        self.format
    }

    /// Only these contacts (ids not in the workspace are simply not found).
    pub fn only(mut self, ids: &[super::ids::ContactId]) -> Export {
        self.only = Some(ids.iter().map(|id| id.to_string()).collect());
        self
    }

    /// The file, as chunks. A database error mid-way ends the stream with an error, so the
    /// download fails visibly instead of looking complete.
    pub fn stream(self) -> impl Stream<Item = Result<Bytes, std::io::Error>> + Send {
        futures_util::stream::try_unfold((self, Step::Header), |(export, step)| async move {
            let after = match step {
                Step::Done => return Ok(None),
                Step::Header => {
                    let header = Bytes::from(export.header());
                    return Ok(Some((header, (export, Step::Page(None)))));
                }
                Step::Page(after) => after,
            };
            let mut query = ContactQuery::newest(PAGE);
            query.sort = Sort::Oldest;
            query.after = after;
            query.only = export.only.clone();
            let page = search::run(&export.db, &export.actor, &export.ws, &query)
                .await
                .map_err(|e| std::io::Error::other(e.to_string()))?;
            let next = match (&page.next_cursor, page.items.last()) {
                (Some(_), Some(last)) => Step::Page(Some(After::Id(last.id.clone()))),
                _ => Step::Done,
            };
            let chunk = export.render(&page.items).map_err(std::io::Error::other)?;
            Ok(Some((Bytes::from(chunk), (export, next))))
        })
    }

    fn header(&self) -> Vec<u8> {
        match self.format {
            Format::Csv => {
                let names = BASE_FIELDS
                    .iter()
                    .map(|s| s.to_string())
                    .chain(self.fields.0.iter().map(|d| typed_header(&d.field_name, d.field_type)));
                cells::csv_rows([names]).expect("writing to memory")
            }
            Format::Vcf => Vec::new(),
        }
    }

    fn render(&self, contacts: &[ContactRecord]) -> Result<Vec<u8>, String> {
        match self.format {
            Format::Csv => cells::csv_rows(contacts.iter().map(|c| {
                let base = BASE_FIELDS.iter().map(|n| c.base.get(n).cloned().unwrap_or_default());
                let custom = self
                    .fields
                    .0
                    .iter()
                    .map(|d| c.custom.get(&d.field_name).cloned().unwrap_or_default());
                base.chain(custom)
            }))
            .map_err(|e| e.to_string()),
            Format::Vcf => Ok(contacts
                .iter()
                .map(|c| vcard(c, &self.fields))
                .collect::<String>()
                .into_bytes()),
        }
    }
}

/// Escapes a vCard text value (RFC 6350 §3.4).
pub(crate) fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace(',', "\\,")
        .replace(';', "\\;")
        .replace("\r\n", "\\n")
        .replace(['\n', '\r'], "\\n")
}

/// Folds a content line at 75 octets, never inside a character, with CRLF line ends.
pub(crate) fn fold(line: &str, out: &mut String) {
    let mut width = 0;
    for ch in line.chars() {
        let len = ch.len_utf8();
        if width + len > 75 {
            out.push_str("\r\n ");
            width = 1;
        }
        out.push(ch);
        width += len;
    }
    out.push_str("\r\n");
}

fn vcard(c: &ContactRecord, fields: &FieldSet) -> String {
    let b = &c.base;
    let text = |v: &Option<String>| v.as_deref().map(escape).unwrap_or_default();
    let mut lines = vec![
        "BEGIN:VCARD".to_string(),
        "VERSION:4.0".to_string(),
        format!("FN:{}", escape(&c.display_name())),
        format!("N:{};{};;;", text(&b.last_name), text(&b.first_name)),
    ];
    if let Some(e) = &b.primary_email {
        lines.push(format!("EMAIL;PREF=1:{}", escape(e)));
    }
    if let Some(p) = &b.primary_phone {
        lines.push(format!("TEL;VALUE=uri;PREF=1:tel:{p}"));
    }
    if let Some(o) = &b.company {
        lines.push(format!("ORG:{}", escape(o)));
    }
    for (name, value) in &c.custom {
        let field_type = fields.type_of(name);
        // The standard property too, for every other program (phones show a birthday).
        match (name.as_str(), field_type) {
            ("birthday", Some(FieldType::Date)) => lines.push(format!("BDAY:{value}")),
            ("notes", Some(FieldType::LongText | FieldType::Text)) => lines.push(format!("NOTE:{}", escape(value))),
            _ => {}
        }
        let typed = field_type
            .map(|t| format!(";{VCARD_TYPE_PARAM}={}", t.as_str()))
            .unwrap_or_default();
        lines.push(format!(
            "{VCARD_EXTENSION}{}{typed}:{}",
            name.to_ascii_uppercase(),
            escape(value)
        ));
    }
    lines.push("END:VCARD".into());
    let mut out = String::new();
    for line in lines {
        fold(&line, &mut out);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folding_keeps_characters_whole() {
        let mut out = String::new();
        fold(&format!("NOTE:{}", "ü".repeat(60)), &mut out);
        assert!(out.split("\r\n").all(|l| l.len() <= 76), "{out}");
        let unfolded = out.replace("\r\n ", "");
        assert_eq!(unfolded.trim_end(), format!("NOTE:{}", "ü".repeat(60)));
        assert_eq!(escape("a,b;c\\d\ne"), "a\\,b\\;c\\\\d\\ne");
    }
}
