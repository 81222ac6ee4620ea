//! A contact as a phone's vCard and back (SPEC §16): 3.0 by default (iOS), 4.0 when asked.
//!
//! - The base fields are `N`/`FN`, `EMAIL` and `TEL` marked preferred, `ORG`.
//! - A custom field whose type and name fit a standard property is that property, so the phone
//!   shows it: a birthday is `BDAY` (a year-less one `--MMDD` in 4.0, Apple's
//!   `X-APPLE-OMIT-YEAR` in 3.0), emails, phones and websites are more `EMAIL`/`TEL`/`URL`
//!   lines naming their field in `X-PICRM-FIELD`.
//! - Every other field is `X-PICRM-{NAME}` with its type (`X-PICRM-LOAN-AMOUNT;TYPE=number`);
//!   DAVx5 and iOS keep properties they do not know and give them back unchanged.
//! - Lists are `CATEGORIES`; what a phone sent that pi-crm has no field for is kept and served
//!   back as it came (`Kept::extra`), so a sync never deletes what the phone knows.

use std::collections::BTreeMap;

use super::super::contact::ContactRecord;
use super::super::export::{escape, fold};
use super::super::field::FieldType;
use super::super::field_definition::FieldSet;
use super::super::import::vcard::{LogicalLines, Property, parse_property};
use crate::error::{AppError, AppResult};
use crate::storage::dav::Kept;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    V3,
    V4,
}

impl Version {
    pub fn as_str(self) -> &'static str {
        match self {
            Version::V3 => "3.0",
            Version::V4 => "4.0",
        }
    }
}

/// The parameter that names the custom field an `EMAIL`, `TEL` or `URL` line holds.
const FIELD_PARAM: &str = "X-PICRM-FIELD";
/// The prefix of the properties every other custom field is written as.
const FIELD_PREFIX: &str = "X-PICRM-";
/// The year Apple writes into a year-less birthday, flagged by `X-APPLE-OMIT-YEAR`.
const APPLE_NO_YEAR: &str = "1604";

/// The standard property a custom field is shown as, when its type and name fit one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Standard {
    Bday,
    Anniversary,
    Note,
    Title,
    Nickname,
    Email,
    Tel,
    Url,
}

impl Standard {
    /// Properties a card has one of: only the first field that fits takes it.
    fn is_single(self) -> bool {
        !matches!(self, Standard::Email | Standard::Tel | Standard::Url)
    }
}

fn standard_of(name: &str, field_type: FieldType) -> Option<Standard> {
    use FieldType as T;
    Some(match (field_type, name) {
        (T::Date, "birthday" | "bday" | "date_of_birth" | "dob") => Standard::Bday,
        (T::Date, "anniversary" | "wedding_anniversary") => Standard::Anniversary,
        (T::Text | T::LongText, "notes" | "note") => Standard::Note,
        (T::Text, "title" | "job_title") => Standard::Title,
        (T::Text, "nickname") => Standard::Nickname,
        (T::Email, _) => Standard::Email,
        (T::Phone, _) => Standard::Tel,
        (T::Url, _) => Standard::Url,
        _ => return None,
    })
}

/// Which fields of a workspace are shown as which standard property, in definition order.
fn standards(fields: &FieldSet) -> Vec<(String, Standard)> {
    let mut taken = Vec::new();
    let mut out = Vec::new();
    for def in &fields.0 {
        if let Some(s) = standard_of(&def.field_name, def.field_type) {
            if s.is_single() && taken.contains(&s) {
                continue;
            }
            taken.push(s);
            out.push((def.field_name.clone(), s));
        }
    }
    out
}

fn property_name_of(field: &str) -> String {
    format!("{FIELD_PREFIX}{}", field.to_ascii_uppercase().replace('_', "-"))
}

fn field_of_property(property: &str) -> Option<String> {
    let rest = property.strip_prefix(FIELD_PREFIX)?;
    (rest != "FIELD").then(|| rest.to_ascii_lowercase().replace('-', "_"))
}

/// A date as the card writes it: `1980-03-22` (3.0) or `19800322` (4.0); a year-less
/// `--03-22` as Apple's flagged year (3.0) or `--0322` (4.0). The parameters come first.
fn date_value(stored: &str, version: Version) -> (String, String) {
    match (stored.strip_prefix("--"), version) {
        (Some(md), Version::V3) => (
            format!(";X-APPLE-OMIT-YEAR={APPLE_NO_YEAR}"),
            format!("{APPLE_NO_YEAR}-{md}"),
        ),
        (Some(md), Version::V4) => (String::new(), format!("--{}", md.replace('-', ""))),
        (None, Version::V3) => (String::new(), stored.to_string()),
        (None, Version::V4) => (String::new(), stored.replace('-', "")),
    }
}

/// A date a card wrote, as pi-crm stores it (`1980-03-22`, year-less `--03-22`).
fn stored_date(p: &Property) -> String {
    let text = p.text();
    let day = text.split('T').next().unwrap_or("").trim();
    let omitted = p.param("X-APPLE-OMIT-YEAR").is_some();
    let digits: String = day.chars().filter(char::is_ascii_digit).collect();
    if let Some(md) = day.strip_prefix("--") {
        let md: String = md.chars().filter(char::is_ascii_digit).collect();
        if md.len() == 4 {
            return format!("--{}-{}", &md[..2], &md[2..]);
        }
    }
    if digits.len() == 8 {
        let (y, m, d) = (&digits[..4], &digits[4..6], &digits[6..]);
        return if omitted || y == APPLE_NO_YEAR {
            format!("--{m}-{d}")
        } else {
            format!("{y}-{m}-{d}")
        };
    }
    day.to_string()
}

/// The contact's card. `kept` holds what a phone gave that pi-crm has no field for.
pub fn render(c: &ContactRecord, fields: &FieldSet, kept: Option<&Kept>, version: Version) -> String {
    let b = &c.base;
    let text = |v: &Option<String>| v.as_deref().map(escape).unwrap_or_default();
    let uid = kept.and_then(|k| k.uid.clone()).unwrap_or_else(|| c.id.clone());
    let mut lines = vec![
        "BEGIN:VCARD".to_string(),
        format!("VERSION:{}", version.as_str()),
        "PRODID:-//pi-crm//CardDAV//EN".to_string(),
        format!("UID:{}", escape(&uid)),
        format!("FN:{}", escape(&c.display_name())),
        format!("N:{};{};;;", text(&b.last_name), text(&b.first_name)),
    ];
    if let Some(o) = &b.company {
        lines.push(format!("ORG:{}", escape(o)));
    }
    let pref = |v3: &str| match version {
        Version::V3 => format!(";TYPE={v3}pref"),
        Version::V4 => ";PREF=1".to_string(),
    };
    if let Some(e) = &b.primary_email {
        lines.push(format!("EMAIL{}:{}", pref("INTERNET,"), escape(e)));
    }
    if let Some(p) = &b.primary_phone {
        lines.push(format!("TEL{}:{p}", pref("VOICE,")));
    }
    let standards = standards(fields);
    for (name, value) in &c.custom {
        let field_type = fields.type_of(name);
        let named = format!(";{FIELD_PARAM}={name}");
        let line = match standards.iter().find(|(n, _)| n == name).map(|(_, s)| s) {
            Some(Standard::Bday) => {
                let (params, v) = date_value(value, version);
                format!("BDAY{params}:{v}")
            }
            Some(Standard::Anniversary) => {
                let (params, v) = date_value(value, version);
                let property = match version {
                    Version::V3 => "X-ANNIVERSARY",
                    Version::V4 => "ANNIVERSARY",
                };
                format!("{property}{params}:{v}")
            }
            Some(Standard::Note) => format!("NOTE:{}", escape(value)),
            Some(Standard::Title) => format!("TITLE:{}", escape(value)),
            Some(Standard::Nickname) => format!("NICKNAME:{}", escape(value)),
            Some(Standard::Email) => {
                let internet = if version == Version::V3 { ";TYPE=INTERNET" } else { "" };
                format!("EMAIL{internet}{named}:{}", escape(value))
            }
            Some(Standard::Tel) => format!("TEL{named}:{value}"),
            Some(Standard::Url) => format!("URL{named}:{value}"),
            None => {
                let typed = field_type.map(|t| format!(";TYPE={}", t.as_str())).unwrap_or_default();
                format!("{}{typed}:{}", property_name_of(name), escape(value))
            }
        };
        lines.push(line);
    }
    if !c.lists.is_empty() {
        let names: Vec<String> = c.lists.iter().map(|l| escape(&l.name)).collect();
        lines.push(format!("CATEGORIES:{}", names.join(",")));
    }
    if let Some(extra) = kept.and_then(|k| k.extra.as_deref()) {
        lines.extend(extra.lines().filter(|l| !l.trim().is_empty()).map(str::to_string));
    }
    lines.push("END:VCARD".into());
    let mut out = String::new();
    for line in lines {
        fold(&line, &mut out);
    }
    out
}

/// A strong ETag for the card: a digest of what it says (the 3.0 form, whatever the client
/// asked for), so it changes with any change to the contact, its values, lists or kept lines.
pub fn etag(c: &ContactRecord, fields: &FieldSet, kept: Option<&Kept>) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(render(c, fields, kept, Version::V3).as_bytes());
    format!("\"{}\"", hex::encode(&digest[..12]))
}

/// What a phone's card says, read against the workspace's fields: base fields, custom values
/// (as text for their field to parse), categories, and the lines pi-crm keeps as they came.
#[derive(Debug, Default, PartialEq)]
pub struct PhoneCard {
    pub uid: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub company: Option<String>,
    /// Candidates for the primary email and phone, preferred first, each with its line.
    pub emails: Vec<(String, String)>,
    pub phones: Vec<(String, String)>,
    /// Custom values by field, each with the line it came from (kept if the value is refused).
    pub custom: BTreeMap<String, (String, String)>,
    /// `None` when the card has no `CATEGORIES` at all (the phone may not keep them).
    pub categories: Option<Vec<String>>,
    pub extra: Vec<String>,
}

impl PhoneCard {
    /// The fields that show as a standard property: a card without one means it was removed.
    pub fn standard_fields(fields: &FieldSet) -> Vec<String> {
        standards(fields).into_iter().map(|(name, _)| name).collect()
    }
}

fn is_preferred(p: &Property) -> bool {
    p.has_type("pref") || p.param("PREF").is_some_and(|v| v.trim() == "1")
}

/// Reads one card. Anything malformed is a 400 saying what; a property that cannot be placed
/// is kept whole.
pub fn parse(body: &str, fields: &FieldSet) -> AppResult<PhoneCard> {
    let lines: Vec<(u64, String)> = LogicalLines::new(body.as_bytes()).collect::<AppResult<_>>()?;
    let upper = |l: &str| l.trim().to_ascii_uppercase();
    let begins = lines.iter().filter(|(_, l)| upper(l) == "BEGIN:VCARD").count();
    let ends = lines.iter().filter(|(_, l)| upper(l) == "END:VCARD").count();
    if begins != 1 || ends != 1 {
        return Err(AppError::BadRequest(
            "send exactly one vCard, from BEGIN:VCARD to END:VCARD".into(),
        ));
    }
    let standards = standards(fields);
    let by_standard = |wanted: Standard| {
        standards
            .iter()
            .find(|(_, s)| *s == wanted)
            .map(|(name, _)| name.clone())
    };
    let mut card = PhoneCard::default();
    let mut full_name = None;
    let mut emails = Vec::new();
    let mut phones = Vec::new();
    let mut urls = Vec::new();
    for (_, line) in &lines {
        let Some(p) = parse_property(line) else {
            continue;
        };
        let keep = |card: &mut PhoneCard| card.extra.push(line.clone());
        let single = |card: &mut PhoneCard, s: Standard, value: String| match by_standard(s) {
            Some(field) if !card.custom.contains_key(&field) => {
                card.custom.insert(field, (value, line.clone()));
            }
            _ => card.extra.push(line.clone()),
        };
        match p.name.as_str() {
            "BEGIN" | "END" | "VERSION" | "PRODID" | "REV" => {}
            "UID" => card.uid = Some(p.text()).filter(|u| !u.is_empty()),
            "FN" => full_name = Some(p.text()).filter(|n| !n.is_empty()),
            "N" => {
                let parts = p.components();
                let part = |i: usize| parts.get(i).map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
                card.last_name = part(0);
                // A middle name stays with the first, as people say it.
                card.first_name = match (part(1), part(2)) {
                    (Some(f), Some(m)) => Some(format!("{f} {m}")),
                    (f, m) => f.or(m),
                };
                if part(3).is_some() || part(4).is_some() {
                    keep(&mut card);
                }
            }
            "ORG" => {
                card.company = p
                    .components()
                    .into_iter()
                    .map(|s| s.trim().to_string())
                    .find(|s| !s.is_empty())
            }
            "EMAIL" => emails.push((
                p.param(FIELD_PARAM).map(str::to_string),
                is_preferred(&p),
                p.text().trim_start_matches("mailto:").to_string(),
                line.clone(),
            )),
            "TEL" => phones.push((
                p.param(FIELD_PARAM).map(str::to_string),
                is_preferred(&p),
                p.text().trim_start_matches("tel:").to_string(),
                line.clone(),
            )),
            "URL" => urls.push((p.param(FIELD_PARAM).map(str::to_string), p.text(), line.clone())),
            "BDAY" => single(&mut card, Standard::Bday, stored_date(&p)),
            "ANNIVERSARY" | "X-ANNIVERSARY" => single(&mut card, Standard::Anniversary, stored_date(&p)),
            "NOTE" => single(&mut card, Standard::Note, p.text()),
            "TITLE" => single(&mut card, Standard::Title, p.text()),
            "NICKNAME" => single(&mut card, Standard::Nickname, p.text()),
            "CATEGORIES" => {
                let list = card.categories.get_or_insert_with(Vec::new);
                for name in p.components_on(',') {
                    if !name.is_empty() && !list.contains(&name) {
                        list.push(name);
                    }
                }
            }
            other => match field_of_property(other)
                .filter(|f| fields.get(f).is_some() && !standards.iter().any(|(n, _)| n == f))
            {
                Some(field) if !card.custom.contains_key(&field) => {
                    card.custom.insert(field, (p.text(), line.clone()));
                }
                _ => keep(&mut card),
            },
        }
    }
    if card.first_name.is_none()
        && card.last_name.is_none()
        && let Some(full) = full_name.filter(|f| Some(f) != card.company.as_ref())
    {
        match full.rsplit_once(' ') {
            Some((first, last)) => {
                card.first_name = Some(first.trim().to_string());
                card.last_name = Some(last.trim().to_string());
            }
            None => card.first_name = Some(full),
        }
    }
    place_repeated(&mut card, emails, Standard::Email, &standards, true);
    place_repeated(&mut card, phones, Standard::Tel, &standards, false);
    let urls = urls.into_iter().map(|(f, v, l)| (f, false, v, l)).collect();
    place_repeated(&mut card, urls, Standard::Url, &standards, false);
    Ok(card)
}

/// Emails, phones or websites: a line naming its field goes there; of the rest the preferred
/// (else the first) email and phone are candidates for the primary one, then the kind's fields
/// fill in definition order; what is left is kept.
fn place_repeated(
    card: &mut PhoneCard,
    lines: Vec<(Option<String>, bool, String, String)>,
    kind: Standard,
    standards: &[(String, Standard)],
    is_email: bool,
) {
    let mut free: Vec<String> = standards
        .iter()
        .filter(|(_, s)| *s == kind)
        .map(|(n, _)| n.clone())
        .collect();
    let mut loose = Vec::new();
    for (field, preferred, value, line) in lines {
        let value = value.trim().to_string();
        if value.is_empty() {
            continue;
        }
        match field.filter(|f| free.contains(f)) {
            Some(f) => {
                free.retain(|x| x != &f);
                card.custom.insert(f, (value, line));
            }
            None => loose.push((preferred, value, line)),
        }
    }
    // Preferred first, the order of the card otherwise.
    loose.sort_by_key(|(preferred, _, _)| !*preferred);
    let mut loose = loose.into_iter();
    if kind != Standard::Url
        && let Some((_, value, line)) = loose.next()
    {
        let primary = if is_email { &mut card.emails } else { &mut card.phones };
        primary.push((value, line));
    }
    for (_, value, line) in loose {
        match free.first().cloned() {
            Some(f) => {
                free.remove(0);
                card.custom.insert(f, (value, line));
            }
            None => card.extra.push(line),
        }
    }
}
