//! vCard 2.1, 3.0 and 4.0 into a table, one row per card: folded lines, escapes,
//! quoted-printable with charsets, grouped properties (`item1.EMAIL`), several EMAIL/TEL/ADR/URL,
//! `tel:` URIs, stray lines before the first card. Photos and keys are skipped, never fatal.

use std::io::BufRead;

use super::table::Row;
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
pub struct Card {
    line: u64,
    first: String,
    last: String,
    /// N's further parts: middle names, prefix (Dr.), suffix (Jr.).
    middle: String,
    prefix: String,
    suffix: String,
    full: String,
    /// Apple's `X-ABShowAs:COMPANY`: the card is a business, its FN the company's name.
    is_company: bool,
    org: String,
    title: String,
    nickname: String,
    birthday: String,
    notes: Vec<String>,
    emails: Vec<String>,
    /// Each number with what its `TYPE` says it is (`PHONE_KINDS`).
    phones: Vec<(usize, String)>,
    addresses: Vec<String>,
    /// Addresses whose `TYPE` says work: a column of their own, as Outlook's business address.
    work_addresses: Vec<String>,
    urls: Vec<String>,
    /// pi-crm's own custom fields (`X-PI-CRM-LOAN_AMOUNT`), by column: `loan_amount [number]`
    /// when the card says the type, else the field's name.
    custom: Vec<(String, String)>,
    /// What other programs write that pi-crm has no base field for, kept as columns of their
    /// own: `ANNIVERSARY`, `CATEGORIES` and `PHOTO` (an address, or a note that one was there).
    anniversary: String,
    categories: Vec<String>,
    photo: String,
}

/// One content line: its name (upper-case, group dropped), parameters and raw value.
pub(crate) struct Property {
    pub(crate) name: String,
    pub(crate) params: Vec<(String, String)>,
    value: String,
}

/// Longest logical line kept. Longer ones are photos, sounds or keys folded over thousands of
/// lines; they are skipped whole instead of gathered in memory.
const MAX_LINE: usize = 256 * 1024;

/// The file's logical lines, read as they come: folded lines (a line starting with a space or
/// tab continues the one before) and quoted-printable soft breaks (`=` at the end of a line)
/// are joined, and each logical line keeps the number of the line it starts on.
pub(crate) struct LogicalLines<R> {
    reader: R,
    /// The logical line being gathered, its first line's number, and whether it grew too long.
    pending: Option<(u64, String, bool)>,
    qp_continues: bool,
    number: u64,
    raw: String,
    failed: bool,
}

impl<R: BufRead> LogicalLines<R> {
    pub(crate) fn new(reader: R) -> Self {
        LogicalLines {
            reader,
            pending: None,
            qp_continues: false,
            number: 0,
            raw: String::new(),
            failed: false,
        }
    }

    fn extend(&mut self, tail: &str) {
        if let Some((_, line, too_long)) = self.pending.as_mut() {
            if line.len() + tail.len() > MAX_LINE {
                *too_long = true;
            } else if !*too_long {
                line.push_str(tail);
            }
            self.qp_continues = is_qp(line) && line.ends_with('=');
            if self.qp_continues && !*too_long {
                line.pop();
            }
        }
    }
}

impl<R: BufRead> Iterator for LogicalLines<R> {
    type Item = AppResult<(u64, String)>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if self.failed {
                return None;
            }
            self.raw.clear();
            let read = match self.reader.read_line(&mut self.raw) {
                Ok(n) => n,
                Err(e) => {
                    self.failed = true;
                    return Some(Err(super::decode::read_error(e)));
                }
            };
            if read == 0 {
                let (number, line, too_long) = self.pending.take()?;
                if too_long {
                    return None;
                }
                return Some(Ok((number, line)));
            }
            self.number += 1;
            let raw = std::mem::take(&mut self.raw);
            let mut line = raw.strip_suffix('\n').unwrap_or(&raw);
            line = line.strip_suffix('\r').unwrap_or(line);
            if self.number == 1 {
                line = line.trim_start_matches('\u{feff}');
            }
            let continues = self.pending.is_some() && (self.qp_continues || line.starts_with([' ', '\t']));
            if continues {
                let tail = if self.qp_continues { line } else { &line[1..] };
                self.extend(tail);
                self.raw = raw;
                continue;
            }
            if line.trim().is_empty() {
                self.qp_continues = false;
                self.raw = raw;
                continue;
            }
            let started = (self.number, line.to_string(), false);
            self.qp_continues = false;
            let done = self.pending.replace(started);
            // A soft break on the new line's own end is noted as if it had been extended.
            self.extend("");
            self.raw = raw;
            match done {
                Some((_, _, true)) | None => continue,
                Some((number, line, false)) => return Some(Ok((number, line))),
            }
        }
    }
}

fn is_qp(line: &str) -> bool {
    let head = line.split(':').next().unwrap_or("").to_ascii_uppercase();
    head.contains("QUOTED-PRINTABLE")
}

/// Splits `item1.TEL;TYPE=work,voice;PREF=1:+1 555` into its parts.
pub(crate) fn parse_property(line: &str) -> Option<Property> {
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
    /// What its `TYPE` parameters say, lower-cased (`TYPE=WORK,VOICE` and `type=work;type=voice`).
    pub(crate) fn types(&self) -> Vec<String> {
        self.params
            .iter()
            .filter(|(k, _)| k == "TYPE")
            .flat_map(|(_, v)| v.split(',').map(|t| t.trim().to_ascii_lowercase()).collect::<Vec<_>>())
            .collect()
    }

    pub(crate) fn has_type(&self, name: &str) -> bool {
        self.types().iter().any(|t| t == name)
    }

    pub(crate) fn param(&self, name: &str) -> Option<&str> {
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

    pub(crate) fn text(&self) -> String {
        unescape(&self.raw_text())
    }

    /// Structured values (N, ADR, ORG): split on unescaped `;`.
    pub(crate) fn components(&self) -> Vec<String> {
        self.components_on(';')
    }

    /// The value split on an unescaped `separator` (`,` for CATEGORIES' list).
    pub(crate) fn components_on(&self, separator: char) -> Vec<String> {
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
                c if c == separator => parts.push(unescape(&std::mem::take(&mut current))),
                c => current.push(c),
            }
        }
        parts.push(unescape(&current));
        parts
    }

    pub(crate) fn is_binary(&self) -> bool {
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
    if p.name == "PHOTO" && card.photo.is_empty() {
        // An embedded picture is not imported, but the column says it was there.
        card.photo = if p.is_binary() {
            "a photo in the vCard (pi-crm keeps no photos)".into()
        } else {
            p.text()
        };
        return;
    }
    if p.is_binary() {
        return;
    }
    match p.name.as_str() {
        "N" => {
            let parts = p.components();
            let part = |i: usize| parts.get(i).cloned().unwrap_or_default();
            card.last = part(0);
            card.first = part(1);
            card.middle = part(2);
            card.prefix = part(3);
            card.suffix = part(4);
        }
        "X-ABSHOWAS" => card.is_company = p.text().eq_ignore_ascii_case("COMPANY"),
        "FN" if card.full.is_empty() => card.full = p.text(),
        "ORG" if card.org.is_empty() => {
            card.org = p.components().into_iter().find(|s| !s.is_empty()).unwrap_or_default()
        }
        "TITLE" if card.title.is_empty() => card.title = p.text(),
        "NICKNAME" if card.nickname.is_empty() => card.nickname = p.text(),
        "BDAY" if card.birthday.is_empty() => card.birthday = normalise_date(&p.text()),
        "NOTE" => card.notes.push(p.text()),
        "EMAIL" => push_value(&mut card.emails, p.text().trim_start_matches("mailto:").to_string()),
        "TEL" => {
            let number = p.text().trim_start_matches("tel:").trim().to_string();
            if !number.is_empty() && !card.phones.iter().any(|(_, n)| *n == number) {
                card.phones.push((phone_kind(p), number));
            }
        }
        "ADR" => {
            use super::grouped::{AddressPart as A, write_address};
            // PO box; extended address; street; locality; region; postal code; country.
            let c = p.components();
            let part = |i: usize| c.get(i).map(String::as_str).unwrap_or_default();
            let written = write_address(&[
                (A::Street, part(2)),
                (A::Street, part(1)),
                (A::PoBox, part(0)),
                (A::City, part(3)),
                (A::Region, part(4)),
                (A::Postal, part(5)),
                (A::Country, part(6)),
            ]);
            let work = p.has_type("work");
            push_value(
                if work {
                    &mut card.work_addresses
                } else {
                    &mut card.addresses
                },
                written,
            );
        }
        "URL" => push_value(&mut card.urls, p.text()),
        "ANNIVERSARY" | "X-ANNIVERSARY" if card.anniversary.is_empty() => card.anniversary = normalise_date(&p.text()),
        "CATEGORIES" => {
            for category in p.components_on(',') {
                push_value(&mut card.categories, category);
            }
        }
        other => {
            use crate::domain::export::{VCARD_EXTENSION, VCARD_TYPE_PARAM, typed_header};
            if let Some(field) = other.strip_prefix(VCARD_EXTENSION) {
                let name = field.to_ascii_lowercase();
                let typed = p
                    .param(VCARD_TYPE_PARAM)
                    .and_then(crate::model::query::FieldType::parse);
                let column = match typed {
                    Some(t) => typed_header(&name, t),
                    None => name,
                };
                card.custom.push((column, p.text()));
            }
        }
    }
}

/// The columns numbers go to, by what their `TYPE` says, in the order the mapping meets them:
/// a mobile is the first choice for the primary phone; a work line, a fax and a pager are
/// nobody's own number and become fields of their own (`mapping::suggest`). A number with no
/// type keeps the plain, numbered `Phone 1`, `Phone 2` columns.
const PHONE_KINDS: [&str; 6] = ["Mobile phone", "Home phone", "Phone", "Work phone", "Fax", "Pager"];
const MOBILE: usize = 0;
const HOME: usize = 1;
const UNTYPED_PHONE: usize = 2;
const WORK: usize = 3;
const FAX: usize = 4;
const PAGER: usize = 5;

fn phone_kind(p: &Property) -> usize {
    let types = p.types();
    let has = |names: &[&str]| types.iter().any(|t| names.contains(&t.as_str()));
    if has(&["fax"]) {
        FAX
    } else if has(&["pager"]) {
        PAGER
    } else if has(&["cell", "mobile", "iphone"]) {
        MOBILE
    } else if has(&["work"]) {
        WORK
    } else if has(&["home"]) {
        HOME
    } else {
        UNTYPED_PHONE
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

/// The cards of a vCard file, one at a time, as the file is read. A card left open at the end,
/// or a file without any, is an error at the end.
pub struct Cards<R> {
    lines: LogicalLines<R>,
    current: Option<Card>,
    found: bool,
    finished: bool,
}

pub fn cards<R: BufRead>(reader: R) -> Cards<R> {
    Cards {
        lines: LogicalLines::new(reader),
        current: None,
        found: false,
        finished: false,
    }
}

impl<R: BufRead> Iterator for Cards<R> {
    type Item = AppResult<Card>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.finished {
            return None;
        }
        for next in self.lines.by_ref() {
            let (line, content) = match next {
                Ok(next) => next,
                Err(e) => {
                    self.finished = true;
                    return Some(Err(e));
                }
            };
            let upper = content.trim().to_ascii_uppercase();
            if upper == "BEGIN:VCARD" {
                self.current = Some(Card {
                    line,
                    ..Card::default()
                });
                continue;
            }
            if upper == "END:VCARD" {
                if let Some(card) = self.current.take() {
                    self.found = true;
                    return Some(Ok(card));
                }
                continue;
            }
            if let (Some(card), Some(p)) = (self.current.as_mut(), parse_property(&content)) {
                apply(card, &p);
            }
        }
        self.finished = true;
        if let Some(card) = self.current.take() {
            return Some(Err(AppError::invalid(
                "file",
                format!("the vCard that starts on line {} has no END:VCARD", card.line),
            )));
        }
        if !self.found {
            return Some(Err(AppError::invalid(
                "file",
                "no vCard found: a vCard starts with BEGIN:VCARD and ends with END:VCARD",
            )));
        }
        None
    }
}

/// The columns a file's cards need: as many emails, phones, addresses and websites as the
/// fullest card has, and each of pi-crm's own custom fields that any card carries. Gathered in
/// a first pass over the file, so the second can turn each card into a row as it is read.
#[derive(Default)]
pub struct Shape {
    /// Whether any card has a middle name, a name prefix, a name suffix, an anniversary,
    /// categories, a photo.
    name_parts: [bool; 6],
    emails: usize,
    /// The most numbers of each kind (`PHONE_KINDS`) on one card.
    phones: [usize; 6],
    addresses: usize,
    work_addresses: usize,
    urls: usize,
    custom: Vec<String>,
}

/// N's further parts and what other programs add, each a column only when some card of the
/// file has it.
const NAME_PARTS: [&str; 6] = [
    "Middle name",
    "Name prefix",
    "Name suffix",
    "Anniversary",
    "Categories",
    "Photo",
];

const NAMED_COLUMNS: [&str; 8] = [
    "First name",
    "Last name",
    "Full name",
    "Organization",
    "Title",
    "Nickname",
    "Birthday",
    "Notes",
];

impl Shape {
    pub fn add(&mut self, card: &Card) {
        for (seen, part) in self.name_parts.iter_mut().zip([
            &card.middle,
            &card.prefix,
            &card.suffix,
            &card.anniversary,
            &card.categories.join(", "),
            &card.photo,
        ]) {
            *seen |= !part.is_empty();
        }
        self.emails = self.emails.max(card.emails.len());
        for (kind, most) in self.phones.iter_mut().enumerate() {
            *most = (*most).max(card.phones.iter().filter(|(k, _)| *k == kind).count());
        }
        self.addresses = self.addresses.max(card.addresses.len());
        self.work_addresses = self.work_addresses.max(card.work_addresses.len());
        self.urls = self.urls.max(card.urls.len());
        for (name, _) in &card.custom {
            if !self.custom.contains(name) {
                self.custom.push(name.clone());
            }
        }
    }

    pub fn columns(&self) -> Vec<String> {
        let mut columns: Vec<String> = NAMED_COLUMNS.map(String::from).to_vec();
        for (seen, label) in self.name_parts.iter().zip(NAME_PARTS) {
            if *seen {
                columns.push(label.to_string());
            }
        }
        columns.extend((1..=self.emails).map(|i| format!("Email {i}")));
        for (kind, (label, n)) in PHONE_KINDS.iter().zip(self.phones).enumerate() {
            match n {
                1 if kind != UNTYPED_PHONE => columns.push(label.to_string()),
                n => columns.extend((1..=n).map(|i| format!("{label} {i}"))),
            }
        }
        columns.extend((1..=self.addresses).map(|i| format!("Address {i}")));
        match self.work_addresses {
            1 => columns.push("Work address".into()),
            n => columns.extend((1..=n).map(|i| format!("Work address {i}"))),
        }
        columns.extend((1..=self.urls).map(|i| format!("Website {i}")));
        // pi-crm's own custom fields, one column each, named after the field.
        columns.extend(self.custom.iter().cloned());
        columns
    }

    pub fn row(&self, card: Card) -> Row {
        let pad = |list: Vec<String>, n: usize| {
            let mut list = list;
            list.resize(n, String::new());
            list
        };
        // A card without N (phones often export only FN) keeps its name as the first name,
        // unless the card is a business's, whose FN is its company's name.
        let first = if card.first.is_empty() && card.last.is_empty() && !card.is_company {
            card.full.clone()
        } else {
            card.first
        };
        let org = if card.org.is_empty() && card.is_company {
            card.full.clone()
        } else {
            card.org
        };
        let mut cells = vec![
            first,
            card.last,
            card.full,
            org,
            card.title,
            card.nickname,
            card.birthday,
            card.notes.join("\n\n"),
        ];
        for ((seen, _), part) in self.name_parts.iter().zip(NAME_PARTS).zip([
            card.middle,
            card.prefix,
            card.suffix,
            card.anniversary,
            card.categories.join(super::mapping::MULTI_SEPARATOR), // the importer parts group names on it
            card.photo,
        ]) {
            if *seen {
                cells.push(part);
            }
        }
        cells.extend(pad(card.emails, self.emails));
        for (kind, n) in self.phones.iter().enumerate() {
            let numbers = card
                .phones
                .iter()
                .filter(|(k, _)| *k == kind)
                .map(|(_, number)| number.clone())
                .collect();
            cells.extend(pad(numbers, *n));
        }
        cells.extend(pad(card.addresses, self.addresses));
        cells.extend(pad(card.work_addresses, self.work_addresses));
        cells.extend(pad(card.urls, self.urls));
        let mut custom = card.custom;
        cells.extend(self.custom.iter().map(|name| {
            custom
                .iter_mut()
                .find(|(k, _)| k == name)
                .map(|(_, v)| std::mem::take(v))
                .unwrap_or_default()
        }));
        Row {
            line: card.line,
            cells,
            extra: 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Table {
        columns: Vec<String>,
        rows: Vec<Row>,
    }

    /// Both passes over text in memory, as `Source::rows` makes them over a file.
    fn parse(text: &str) -> AppResult<Table> {
        let mut shape = Shape::default();
        for card in cards(text.as_bytes()) {
            shape.add(&card?);
        }
        let rows = cards(text.as_bytes())
            .map(|c| c.map(|c| shape.row(c)))
            .collect::<AppResult<_>>()?;
        Ok(Table {
            columns: shape.columns(),
            rows,
        })
    }

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
        assert_eq!(
            get("Work phone"),
            "+49 30 1234",
            "vCard 2.1's bare TYPE says where it rings"
        );
        assert_eq!(get("Notes"), "line one\nline two");
        assert_eq!(get("Photo"), "a photo in the vCard (pi-crm keeps no photos)");
        assert_eq!(get("Birthday"), "1980-03-22");
        assert_eq!(t.rows[0].line, 2);
        assert!(parse("BEGIN:VCAR\nFN:x\nEND:VCARD").is_err());
        assert!(parse("BEGIN:VCARD\nFN:x\n").is_err());
    }

    #[test]
    fn a_photo_folded_over_megabytes_is_skipped_and_the_card_kept() {
        let mut text = String::from("BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Ann Lee\r\nPHOTO;ENCODING=b;TYPE=JPEG:AAAA\r\n");
        for _ in 0..40_000 {
            text.push_str(" QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9wcXJzdHV2\r\n");
        }
        text.push_str("EMAIL:ann@example.com\r\nEND:VCARD\r\nBEGIN:VCARD\r\nFN:Bo\r\nEND:VCARD\r\n");
        let t = parse(&text).unwrap();
        assert_eq!(t.rows.len(), 2);
        assert_eq!(t.rows[0].cells[0], "Ann Lee");
        assert_eq!(t.rows[0].cells[8], "ann@example.com");
        assert_eq!(t.rows[1].line, 40_007);
    }

    #[test]
    fn columns_come_from_every_card_and_rows_are_padded_to_them() {
        let text = "BEGIN:VCARD\nFN:A\nEND:VCARD\nBEGIN:VCARD\nFN:B\nTEL:1\nTEL:2\nX-PI-CRM-LOAN:5\nEND:VCARD\n";
        let t = parse(text).unwrap();
        assert_eq!(t.columns[8..], ["Phone 1", "Phone 2", "loan"]);
        assert_eq!(t.rows[0].cells[8..], ["", "", ""]);
        assert_eq!(t.rows[1].cells[8..], ["1", "2", "5"]);
    }
}
