//! vCard 2.1, 3.0 and 4.0 into a table, one row per card: folded lines, escapes,
//! quoted-printable with charsets, grouped properties (`item1.EMAIL`), several EMAIL/TEL/ADR/URL,
//! `tel:` URIs, stray lines before the first card. Photos and keys are skipped, never fatal.

use super::table::{Row, Table};
use crate::error::{AppError, AppResult};

/// True when the text is meant as vCard: a `BEGIN:V…` line near the top or an `END:VCARD`
/// anywhere. A damaged card is then refused as a vCard rather than read as a one-column CSV.
pub fn looks_like_vcard(text: &str) -> bool {
    text.lines()
        .take(20)
        .any(|l| l.trim().to_ascii_uppercase().starts_with("BEGIN:V"))
        || text.to_ascii_uppercase().contains("END:VCARD")
}

#[derive(Default)]
struct Card {
    line: u64,
    first: String,
    last: String,
    full: String,
    org: String,
    title: String,
    nickname: String,
    birthday: String,
    notes: Vec<String>,
    emails: Vec<String>,
    phones: Vec<String>,
    addresses: Vec<String>,
    urls: Vec<String>,
    /// pi-crm's own custom fields (`X-PI-CRM-LOAN_AMOUNT`), by field name.
    custom: Vec<(String, String)>,
}

struct Property {
    name: String,
    params: Vec<(String, String)>,
    value: String,
}

/// Joins folded lines (a line starting with a space or tab continues the previous one) and
/// quoted-printable soft breaks (`=` at the end of a line), keeping each logical line's number.
fn unfold(text: &str) -> Vec<(u64, String)> {
    let mut out: Vec<(u64, String)> = Vec::new();
    let mut qp_continues = false;
    for (i, raw) in text.split('\n').enumerate() {
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        if let Some(last) = out.last_mut() {
            if qp_continues {
                last.1.pop();
                last.1.push_str(line);
                qp_continues = is_qp(&last.1) && last.1.ends_with('=');
                continue;
            }
            if line.starts_with(' ') || line.starts_with('\t') {
                last.1.push_str(&line[1..]);
                qp_continues = is_qp(&last.1) && last.1.ends_with('=');
                continue;
            }
        }
        if line.trim().is_empty() {
            qp_continues = false;
            continue;
        }
        out.push((i as u64 + 1, line.to_string()));
        qp_continues = is_qp(line) && line.ends_with('=');
    }
    out
}

fn is_qp(line: &str) -> bool {
    let head = line.split(':').next().unwrap_or("").to_ascii_uppercase();
    head.contains("QUOTED-PRINTABLE")
}

/// Splits `item1.TEL;TYPE=work,voice;PREF=1:+1 555` into its parts.
fn parse_property(line: &str) -> Option<Property> {
    let mut quoted = false;
    let colon = line.char_indices().find(|(_, c)| {
        if *c == '"' {
            quoted = !quoted;
        }
        *c == ':' && !quoted
    })?;
    let (head, value) = (&line[..colon.0], &line[colon.0 + 1..]);
    let mut parts = head.split(';');
    let name = parts.next()?.rsplit('.').next()?.trim().to_ascii_uppercase();
    let params = parts
        .map(|p| match p.split_once('=') {
            Some((k, v)) => (k.trim().to_ascii_uppercase(), v.trim().trim_matches('"').to_string()),
            // vCard 2.1 bare parameters: `TEL;WORK;VOICE`, `;QUOTED-PRINTABLE`.
            None => (bare_param_name(p.trim()), p.trim().to_string()),
        })
        .collect();
    Some(Property {
        name,
        params,
        value: value.to_string(),
    })
}

fn bare_param_name(value: &str) -> String {
    match value.to_ascii_uppercase().as_str() {
        "QUOTED-PRINTABLE" | "BASE64" | "B" | "8BIT" | "7BIT" => "ENCODING".into(),
        _ => "TYPE".into(),
    }
}

impl Property {
    fn param(&self, name: &str) -> Option<&str> {
        self.params.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    /// The value as text: quoted-printable and charset decoded. Escapes are left for
    /// `components`/`text`, which know where `;` separates parts.
    fn raw_text(&self) -> String {
        let encoding = self.param("ENCODING").unwrap_or("").to_ascii_uppercase();
        if encoding != "QUOTED-PRINTABLE" {
            return self.value.clone();
        }
        let bytes = decode_qp(&self.value);
        let charset = self.param("CHARSET").unwrap_or("UTF-8");
        let encoding = encoding_rs::Encoding::for_label(charset.as_bytes()).unwrap_or(encoding_rs::UTF_8);
        encoding.decode_without_bom_handling(&bytes).0.into_owned()
    }

    fn text(&self) -> String {
        unescape(&self.raw_text())
    }

    /// Structured values (N, ADR, ORG): split on unescaped `;`.
    fn components(&self) -> Vec<String> {
        let raw = self.raw_text();
        let mut parts = Vec::new();
        let mut current = String::new();
        let mut chars = raw.chars();
        while let Some(c) = chars.next() {
            match c {
                '\\' => {
                    if let Some(next) = chars.next() {
                        current.push('\\');
                        current.push(next);
                    }
                }
                ';' => parts.push(unescape(&std::mem::take(&mut current))),
                c => current.push(c),
            }
        }
        parts.push(unescape(&current));
        parts
    }

    fn is_binary(&self) -> bool {
        matches!(
            self.param("ENCODING").map(str::to_ascii_uppercase).as_deref(),
            Some("B" | "BASE64")
        ) || self.value.starts_with("data:")
    }
}

fn decode_qp(text: &str) -> Vec<u8> {
    let hex = |b: u8| (b as char).to_digit(16).map(|d| d as u8);
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'=' {
            if let (Some(&h), Some(&l)) = (bytes.get(i + 1), bytes.get(i + 2))
                && let (Some(h), Some(l)) = (hex(h), hex(l))
            {
                out.push(h * 16 + l);
                i += 3;
                continue;
            }
            if i == bytes.len() - 1 {
                break; // a soft line break left at the very end
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    out
}

fn unescape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some('n' | 'N') => out.push('\n'),
                Some(other) => out.push(other),
                None => {}
            }
        } else {
            out.push(c);
        }
    }
    out.trim().to_string()
}

fn apply(card: &mut Card, p: &Property) {
    if p.is_binary() {
        return;
    }
    match p.name.as_str() {
        "N" => {
            let parts = p.components();
            card.last = parts.first().cloned().unwrap_or_default();
            card.first = parts.get(1).cloned().unwrap_or_default();
        }
        "FN" if card.full.is_empty() => card.full = p.text(),
        "ORG" if card.org.is_empty() => {
            card.org = p.components().into_iter().find(|s| !s.is_empty()).unwrap_or_default()
        }
        "TITLE" if card.title.is_empty() => card.title = p.text(),
        "NICKNAME" if card.nickname.is_empty() => card.nickname = p.text(),
        "BDAY" if card.birthday.is_empty() => card.birthday = normalise_date(&p.text()),
        "NOTE" => card.notes.push(p.text()),
        "EMAIL" => push_value(&mut card.emails, p.text().trim_start_matches("mailto:").to_string()),
        "TEL" => push_value(&mut card.phones, p.text().trim_start_matches("tel:").to_string()),
        "ADR" => {
            let parts: Vec<String> = p.components().into_iter().filter(|s| !s.is_empty()).collect();
            push_value(&mut card.addresses, parts.join(", "));
        }
        "URL" => push_value(&mut card.urls, p.text()),
        other => {
            if let Some(field) = other.strip_prefix(crate::domain::export::VCARD_EXTENSION) {
                card.custom.push((field.to_ascii_lowercase(), p.text()));
            }
        }
    }
}

fn push_value(list: &mut Vec<String>, value: String) {
    let value = value.trim().to_string();
    if !value.is_empty() && !list.contains(&value) {
        list.push(value);
    }
}

/// `19800322` → `1980-03-22`; other forms (`1980-03-22`, `--0203`, text) are kept as written.
fn normalise_date(text: &str) -> String {
    let t = text.trim();
    let t = t.split('T').next().unwrap_or(t);
    if t.len() == 8 && t.bytes().all(|b| b.is_ascii_digit()) {
        return format!("{}-{}-{}", &t[..4], &t[4..6], &t[6..]);
    }
    t.to_string()
}

pub fn parse(text: &str) -> AppResult<Table> {
    let mut cards = Vec::new();
    let mut current: Option<Card> = None;
    for (line, content) in unfold(text) {
        let upper = content.trim().to_ascii_uppercase();
        if upper == "BEGIN:VCARD" {
            current = Some(Card {
                line,
                ..Card::default()
            });
            continue;
        }
        if upper == "END:VCARD" {
            if let Some(card) = current.take() {
                cards.push(card);
            }
            continue;
        }
        if let (Some(card), Some(p)) = (current.as_mut(), parse_property(&content)) {
            apply(card, &p);
        }
    }
    if let Some(card) = current {
        return Err(AppError::invalid(
            "file",
            format!("the vCard that starts on line {} has no END:VCARD", card.line),
        ));
    }
    if cards.is_empty() {
        return Err(AppError::invalid(
            "file",
            "no vCard found: a vCard starts with BEGIN:VCARD and ends with END:VCARD",
        ));
    }
    Ok(to_table(cards))
}

fn to_table(cards: Vec<Card>) -> Table {
    let most = |f: fn(&Card) -> usize| cards.iter().map(f).max().unwrap_or(0);
    let (emails, phones, addresses, urls) = (
        most(|c| c.emails.len()),
        most(|c| c.phones.len()),
        most(|c| c.addresses.len()),
        most(|c| c.urls.len()),
    );
    let mut columns: Vec<String> = [
        "First name",
        "Last name",
        "Full name",
        "Organization",
        "Title",
        "Nickname",
        "Birthday",
        "Notes",
    ]
    .map(String::from)
    .to_vec();
    for (label, n) in [
        ("Email", emails),
        ("Phone", phones),
        ("Address", addresses),
        ("Website", urls),
    ] {
        columns.extend((1..=n).map(|i| format!("{label} {i}")));
    }
    // pi-crm's own custom fields, one column each, named after the field.
    let mut custom_names: Vec<String> = Vec::new();
    for (name, _) in cards.iter().flat_map(|c| &c.custom) {
        if !custom_names.contains(name) {
            custom_names.push(name.clone());
        }
    }
    columns.extend(custom_names.iter().cloned());
    let rows = cards
        .into_iter()
        .map(|c| {
            let pad = |list: &[String], n: usize| {
                (0..n)
                    .map(|i| list.get(i).cloned().unwrap_or_default())
                    .collect::<Vec<_>>()
            };
            // A card without N (phones often export only FN) keeps its name as the first name.
            let first = if c.first.is_empty() && c.last.is_empty() {
                c.full.clone()
            } else {
                c.first.clone()
            };
            let mut cells = vec![
                first,
                c.last.clone(),
                c.full.clone(),
                c.org.clone(),
                c.title.clone(),
                c.nickname.clone(),
                c.birthday.clone(),
                c.notes.join("\n\n"),
            ];
            cells.extend(pad(&c.emails, emails));
            cells.extend(pad(&c.phones, phones));
            cells.extend(pad(&c.addresses, addresses));
            cells.extend(pad(&c.urls, urls));
            cells.extend(custom_names.iter().map(|n| {
                c.custom
                    .iter()
                    .find(|(k, _)| k == n)
                    .map(|(_, v)| v.clone())
                    .unwrap_or_default()
            }));
            Row {
                line: c.line,
                cells,
                extra: 0,
            }
        })
        .collect();
    Table { columns, rows }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folding_escapes_quoted_printable_and_groups() {
        let text = "junk before\r\nBEGIN:VCARD\r\nVERSION:2.1\r\nN;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:M=C3=BCller;J=\r\n=C3=B6rg\r\nFN:J\\, M\r\nitem1.EMAIL;type=INTERNET:jm@example.com\r\nTEL;WORK;VOICE:+49 30 1234\r\nNOTE:line one\\nline\r\n  two\r\nPHOTO;ENCODING=BASE64:AAAA\r\nBDAY:19800322\r\nEND:VCARD\r\n";
        let t = parse(text).unwrap();
        assert_eq!(t.rows.len(), 1);
        let get = |col: &str| t.rows[0].cells[t.columns.iter().position(|c| c == col).unwrap()].clone();
        assert_eq!(get("First name"), "Jörg");
        assert_eq!(get("Last name"), "Müller");
        assert_eq!(get("Full name"), "J, M");
        assert_eq!(get("Email 1"), "jm@example.com");
        assert_eq!(get("Phone 1"), "+49 30 1234");
        assert_eq!(get("Notes"), "line one\nline two");
        assert_eq!(get("Birthday"), "1980-03-22");
        assert_eq!(t.rows[0].line, 2);
        assert!(parse("BEGIN:VCAR\nFN:x\nEND:VCARD").is_err());
        assert!(parse("BEGIN:VCARD\nFN:x\n").is_err());
    }
}
