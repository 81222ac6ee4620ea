//! Recognising columns: the headers that Google (old and new), Outlook (English and German),
//! Thunderbird, Apple and plain files use, mapped to base fields or to custom fields with a
//! sensible type. The first email and phone column become primary; the rest become custom.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::source::Scan;
use crate::domain::export::parse_typed_header;
use crate::domain::field::FieldType;
use crate::domain::field_definition::FieldSet;

/// Where one column goes (SPEC §11 mapping JSON): a base field name, `"skip"`, or
/// `{"custom": "birthday", "type": "date"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Target {
    Field(String),
    Custom {
        custom: String,
        #[serde(rename = "type", default = "text_type")]
        field_type: String,
    },
}

fn text_type() -> String {
    "text".into()
}

impl Target {
    pub fn skip() -> Target {
        Target::Field("skip".into())
    }

    fn base(name: &str) -> Target {
        Target::Field(name.into())
    }

    fn custom(name: &str, t: FieldType) -> Target {
        Target::Custom {
            custom: name.into(),
            field_type: t.as_str().into(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum OnDuplicate {
    Skip,
    Update,
    Merge,
}

/// What a cell that cannot be read does (SPEC §11.2): by default it is left empty and
/// reported, and the rest of the row and file go in; `stop` keeps the file all-or-nothing.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum OnProblem {
    #[default]
    SkipCell,
    Stop,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Mapping {
    pub columns: BTreeMap<String, Target>,
    #[serde(default = "default_policy")]
    pub on_duplicate: OnDuplicate,
    #[serde(default)]
    pub on_problem: OnProblem,
    /// `"note"`: make none of the new fields the columns ask for; their values are kept as a
    /// note on each new contact's timeline instead. `"create"` (the default) makes them.
    #[serde(default, skip_serializing_if = "NewFields::is_create")]
    pub new_fields: NewFields,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NewFields {
    #[default]
    Create,
    Note,
}

impl NewFields {
    fn is_create(&self) -> bool {
        *self == NewFields::Create
    }
}

impl OnDuplicate {
    pub fn parse(text: &str) -> Option<OnDuplicate> {
        match text.trim() {
            "skip" => Some(OnDuplicate::Skip),
            "update" => Some(OnDuplicate::Update),
            "merge" => Some(OnDuplicate::Merge),
            _ => None,
        }
    }
}

fn default_policy() -> OnDuplicate {
    OnDuplicate::Skip
}

/// What a header means, before first/second occurrences are sorted out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Meaning {
    /// Group memberships: Google's Labels, Outlook's Categories, vCard CATEGORIES.
    Lists,
    First,
    Last,
    FullName,
    Email,
    Phone,
    Company,
    Custom(&'static str, FieldType),
    /// Outlook's bookkeeping about other columns (an email's type and display name,
    /// priority, sensitivity, initials): never a person's data.
    Bookkeeping,
}

/// `"E-mail 1 - Value"` → `"email1value"`; `"Straße geschäftlich"` keeps its letters.
fn key(header: &str) -> String {
    header.to_lowercase().chars().filter(|c| c.is_alphanumeric()).collect()
}

fn meaning(header: &str) -> Option<Meaning> {
    use FieldType as T;
    use Meaning::*;
    let k = key(header);
    let k = k.as_str();
    Some(match k {
        "firstname" | "givenname" | "first" | "vorname" | "prenom" | "prénom" | "nombre" | "ngiven" | "forename" => {
            First
        }
        "lastname" | "familyname" | "surname" | "last" | "nachname" | "nom" | "apellido" | "apellidos"
        | "nomdefamille" | "nfamily" => Last,
        "name" | "fullname" | "displayname" | "anzeigename" | "nameanzeigen" | "nfn" | "contact" | "contactname"
        | "kontakt" | "nombrecompleto" | "vollständigername" | "vollstandigername" => FullName,
        "company" | "organization" | "organisation" | "organizationname" | "organization1name" | "firma"
        | "companyname" | "org" | "orgname" | "société" | "societe" | "entreprise" => Company,
        // French Outlook's "Anniversaire" is the birthday; its wedding day has a longer name.
        "birthday" | "geburtstag" | "birthdate" | "dateofbirth" | "bday" | "anniversaire" => {
            Custom("birthday", T::Date)
        }
        "anniversary" | "jahrestag" | "anniversairedemariageoufête" | "anniversairedemariageoufete" => {
            Custom("anniversary", T::Date)
        }
        "anrede" | "nameprefix" | "prefix" => Custom("name_prefix", T::Text),
        "suffix" | "namesuffix" | "suffixe" => Custom("name_suffix", T::Text),
        "priority"
        | "priorität"
        | "priorité"
        | "sensitivity"
        | "vertraulichkeit"
        | "critèredediffusion"
        | "private"
        | "privat"
        | "privé"
        | "initials"
        | "initialen"
        | "initiales"
        | "internetfreebusy"
        | "internetfreigebucht"
        | "disponibilitéinternet"
        | "billinginformation"
        | "abrechnungsinformation"
        | "informationsfacturation"
        | "mileage"
        | "reisekilometer"
        | "kilométrage"
        | "directoryserver"
        | "verzeichnisserver"
        | "serveurdannuaire" => Bookkeeping,
        "notes" | "note" | "notizen" | "comments" => Custom("notes", T::LongText),
        "title" | "titre" | "jobtitle" | "organization1title" | "organizationtitle" | "position" | "funktion"
        | "fonction" | "role" => Custom("job_title", T::Text),
        "department" | "abteilung" | "organization1department" | "organizationdepartment" => {
            Custom("department", T::Text)
        }
        "nickname" | "spitzname" => Custom("nickname", T::Text),
        "middlename" | "additionalname" | "weiterevornamen" | "deuxièmeprénom" | "deuxiemeprenom" => {
            Custom("middle_name", T::Text)
        }
        "website" | "webpage" | "webpage1" | "website1value" | "webseite" | "websitehome" | "websitework" | "url"
        | "pageweb" | "personalwebsite" | "website1" => Custom("website", T::Url),
        // An address written over several columns arrives here folded into one (`grouped`).
        "address" | "address1formatted" | "homeaddress" | "address1" | "adresse" => Custom("address", T::LongText),
        "workaddress" | "businessaddress" => Custom("work_address", T::LongText),
        "otheraddress" => Custom("other_address", T::LongText),
        "groupmembership" | "categories" | "category" | "catégories" | "kategorien" | "labels" => Lists,
        // A picture (Google's photo address, a vCard's embedded one): pi-crm keeps no photos.
        "photo" => Bookkeeping,
        _ => {
            let emailish = k.contains("mail") || k.contains("messagerie") || k.contains("courriel");
            let about_an_email = ["type", "typ", "display", "angezeigt", "nomcomplet"]
                .iter()
                .any(|w| k.contains(w));
            if emailish && about_an_email {
                Bookkeeping
            } else if emailish && !k.contains("label") {
                Email
            } else if is_phone_key(k) {
                Phone
            } else {
                return None;
            }
        }
    })
}

/// Columns of known exports that hold nothing a CRM uses (SPEC §11.2, "a tidy workspace"):
/// phonetic and Yomi names, File As, Telex, ISDN, TTY/TDD, Callback, car and radio phones, a
/// photo. They are suggested as skipped, and the dry run lists them as noise, so one choice on
/// the mapping page takes any of them in.
pub fn is_noise(header: &str) -> bool {
    let k = key(header);
    const NOISE: [&str; 19] = [
        "phonetic",
        "yomi",
        "fileas",
        "speichernunter",
        "classersous",
        "telex",
        "isdn",
        "ttytdd",
        "hörbehinderte",
        "callback",
        "rückruf",
        "rappel",
        "carphone",
        "autotelefon",
        "téléphonevoiture",
        "telephonevoiture",
        "radiophone",
        "funktelefon",
        "radiotéléphone",
    ];
    k == "photo" || NOISE.iter().any(|w| k.contains(w))
}

/// A header that names a phone number's column: not its type or label column, and not
/// Google's "Phonetic First Name", which only starts like one.
fn is_phone_key(k: &str) -> bool {
    // "phone" also finds telephone and téléphone; "mobil" finds mobile.
    let phoneish = [
        "phone",
        "mobil",
        "cell",
        "telefon",
        "fax",
        "pager",
        "handy",
        "callback",
        "telex",
        "isdn",
        "ttytdd",
        "télécopie",
        "telecopie",
    ]
    .iter()
    .any(|w| k.contains(w))
        || k.starts_with("tel");
    phoneish && !k.contains("phonetic") && !k.contains("type") && !k.contains("label")
}

/// Numbers that are never anyone's own line, so never the primary phone: another person's
/// (an assistant's), a device's (pager, car, radio, telex, TTY), a switchboard's, a fax.
/// Each becomes a custom phone field named after its column.
fn is_not_personal(k: &str) -> bool {
    [
        "assistant",
        "assistent",
        "pager",
        "piepser",
        "car",
        "auto",
        "callback",
        "rückruf",
        "radio",
        "telex",
        "ttytdd",
        "isdn",
        "companymain",
        "hauptnummer",
        "telefonfirma",
        "téléphonesociété",
        "fax",
        "télécopie",
        "telecopie",
    ]
    .iter()
    .any(|w| k.contains(w))
}

/// The fields suggested for a person's further numbers (`other_phone`, `phone_3`, …): on a
/// row without the primary column's number, the first of them that has one is the primary
/// phone (`plan::parse_row`).
pub fn is_personal_phone_field(name: &str) -> bool {
    name == "other_phone"
        || name
            .strip_prefix("phone_")
            .is_some_and(|n| n == "more" || n.parse::<u32>().is_ok())
}

/// A mobile number's column: the first choice for the primary phone.
fn is_mobile(k: &str) -> bool {
    ["mobile", "mobil", "cell", "handy", "portable"]
        .iter()
        .any(|w| k.contains(w))
}

/// `"Assistant's Phone"` → `assistants_phone`, `"Télécopie bureau"` → `telecopie_bureau`: a
/// field name from a header, for every suggestion (`f_…` when it would not start with a letter).
pub fn field_name_of(header: &str) -> String {
    let mut name = String::new();
    for c in header.to_lowercase().chars() {
        // Field names are ASCII: the accents of French and German headers are taken off.
        let plain = match c {
            'à' | 'â' | 'á' => "a",
            'ä' => "ae",
            'ç' => "c",
            'é' | 'è' | 'ê' | 'ë' => "e",
            'î' | 'ï' | 'í' => "i",
            'ô' | 'ó' => "o",
            'ö' => "oe",
            'ù' | 'û' | 'ú' => "u",
            'ü' => "ue",
            'ß' => "ss",
            _ => "",
        };
        if !plain.is_empty() {
            name.push_str(plain);
        } else if c.is_ascii_alphanumeric() {
            name.push(c);
        } else if c != '\'' && c != '’' && !c.is_alphanumeric() && !name.ends_with('_') && !name.is_empty() {
            // Spaces and punctuation (`Land/Region`, `Telefon (privat)`) part words; an
            // apostrophe does not (`Assistant's Phone` → `assistants_phone`).
            name.push('_');
        }
    }
    let name = name.trim_end_matches('_').to_string();
    match name.chars().next() {
        Some(c) if c.is_ascii_alphabetic() => name,
        _ => format!("f_{name}"),
    }
}

/// The mapping target of a column that holds whole names: split into the first and last name
/// (`names::split`) on each row.
pub const FULL_NAME: &str = "full_name";

/// The mapping target of a column of group names (`Labels`, `Categories`): each becomes a list
/// the contact is on, made when the workspace has none of that name.
pub const LISTS: &str = "lists";

/// The lists a cell of group names stands for: Google's ` ::: ` and Outlook's `;` part them;
/// Google's system labels are no lists (`* myContacts`), except `* starred`, a "Starred" list.
pub fn group_names(cell: &str) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for part in split_multi(cell).into_iter().flat_map(|p| p.split(';')) {
        let part = part.trim();
        let name = match part.strip_prefix('*').map(str::trim) {
            Some(system) if system.eq_ignore_ascii_case("starred") => "Starred".to_string(),
            Some(_) => continue,
            None => part.to_string(),
        };
        let name: String = name.chars().filter(|c| !c.is_control()).take(80).collect();
        if !name.is_empty() && !names.iter().any(|n| n.eq_ignore_ascii_case(&name)) {
            names.push(name);
        }
    }
    names
}

/// The suggested mapping for a header row.
pub fn suggest(columns: &[String]) -> Mapping {
    suggest_filled(columns, &[])
}

/// The suggested mapping for a header row whose `empty` columns hold nothing: those take no
/// email's or phone's place (an empty `Primary Phone` does not make the home number
/// `phone_3`).
fn suggest_filled(columns: &[String], empty: &[bool]) -> Mapping {
    // Yahoo names its phone columns by place alone ("Home", "Work", "Other", "Primary"),
    // beside one it calls "Yahoo Phone".
    let yahoo = columns.iter().any(|c| key(c) == "yahoophone");
    let meanings: Vec<Option<Meaning>> = columns
        .iter()
        .enumerate()
        .map(|(i, c)| match key(c).as_str() {
            // pi-crm's own export names its field exactly (`suggest_for`).
            _ if parse_typed_header(c).is_some() => None,
            _ if is_noise(c) => None,
            "home" | "work" | "other" | "primary" if yahoo => Some(Meaning::Phone),
            _ => meaning(c).filter(|m| !(empty.get(i) == Some(&true) && matches!(m, Meaning::Phone | Meaning::Email))),
        })
        .collect();
    let has_split_name = meanings
        .iter()
        .any(|m| matches!(m, Some(Meaning::First | Meaning::Last)));
    // A hand-made "Name, Surname" sheet: "Name" is the first name.
    let has_first = meanings.iter().any(|m| matches!(m, Some(Meaning::First)));
    let mut taken: Vec<&str> = Vec::new();
    // Outlook has both "Title" (Mr., Ms.) and "Job Title" ("Titre" and "Fonction" in French):
    // then "Title" is the name's prefix.
    let title_is_prefix = columns
        .iter()
        .any(|c| matches!(key(c).as_str(), "jobtitle" | "fonction"));
    let mut emails = 0;
    let mut mapped = BTreeMap::new();
    // The primary phone is the mobile number, else the first personal one (SPEC §11.2).
    let personal = |(c, m): &(&String, &Option<Meaning>)| {
        matches!(m, Some(Meaning::Phone)) && !is_not_personal(&key(c)) && !is_work(c)
    };
    let candidates: Vec<(&String, &Option<Meaning>)> = columns.iter().zip(meanings.iter()).filter(personal).collect();
    let primary_phone = candidates
        .iter()
        .find(|(c, _)| is_mobile(&key(c)))
        .or(candidates.first())
        .map(|(c, _)| (*c).clone());
    let mut other_phones = 0;
    let mut phone_names: Vec<String> = Vec::new();
    for (column, m) in columns.iter().zip(meanings) {
        if column.is_empty() || mapped.contains_key(column) {
            continue;
        }
        let target = match m {
            Some(Meaning::First) if !taken.contains(&"first_name") => {
                taken.push("first_name");
                Target::base("first_name")
            }
            Some(Meaning::Last) if !taken.contains(&"last_name") => {
                taken.push("last_name");
                Target::base("last_name")
            }
            // "Name" beside a surname column (and no first-name column) is the first name.
            Some(Meaning::FullName)
                if has_split_name && !has_first && key(column) == "name" && !taken.contains(&"first_name") =>
            {
                taken.push("first_name");
                Target::base("first_name")
            }
            // A lone full-name column (no first/last columns) is split into both.
            Some(Meaning::FullName) if !has_split_name && !taken.contains(&"first_name") => {
                taken.push("first_name");
                taken.push("last_name");
                Target::base(FULL_NAME)
            }
            Some(Meaning::Company) if !taken.contains(&"company") => {
                taken.push("company");
                Target::base("company")
            }
            Some(Meaning::Email) => {
                emails += 1;
                match emails {
                    1 => Target::base("primary_email"),
                    2 => Target::custom("alternate_email", FieldType::Email),
                    n => Target::custom(leak_name("email", n), FieldType::Email),
                }
            }
            Some(Meaning::Phone) if primary_phone.as_ref() == Some(column) => Target::base("primary_phone"),
            // Work numbers are often a company's switchboard, shared by many contacts: a custom
            // field, like the numbers that are nobody's own line (`is_not_personal`).
            Some(Meaning::Phone)
                if is_work(column) && !is_not_personal(&key(column)) && !taken.contains(&"work_phone") =>
            {
                taken.push("work_phone");
                Target::custom("work_phone", FieldType::Phone)
            }
            Some(Meaning::Phone) if is_not_personal(&key(column)) || is_work(column) => {
                let name = field_name_of(column);
                if phone_names.contains(&name) {
                    Target::skip()
                } else {
                    phone_names.push(name.clone());
                    Target::Custom {
                        custom: name,
                        field_type: FieldType::Phone.as_str().into(),
                    }
                }
            }
            Some(Meaning::Phone) => {
                other_phones += 1;
                match other_phones {
                    1 => Target::custom("other_phone", FieldType::Phone),
                    n => Target::custom(leak_name("phone", n + 1), FieldType::Phone),
                }
            }
            Some(Meaning::Custom("job_title", _))
                if title_is_prefix && matches!(key(column).as_str(), "title" | "titre") =>
            {
                Target::custom("name_prefix", FieldType::Text)
            }
            Some(Meaning::Lists) if !taken.contains(&LISTS) => {
                taken.push(LISTS);
                Target::base(LISTS)
            }
            Some(Meaning::Custom(name, t)) if !taken.contains(&name) => {
                taken.push(name);
                Target::custom(name, t)
            }
            _ => Target::skip(),
        };
        mapped.insert(column.clone(), target);
    }
    Mapping {
        columns: mapped,
        on_duplicate: OnDuplicate::Skip,
        on_problem: OnProblem::SkipCell,
        new_fields: NewFields::Create,
    }
}

fn is_work(header: &str) -> bool {
    let k = key(header);
    [
        "work",
        "business",
        "geschäftlich",
        "geschaftlich",
        "office",
        "company",
        "büro",
        "bureau",
    ]
    .iter()
    .any(|w| k.contains(w))
}

/// `email_3`, `phone_4`…: field names for the third and later emails and phones.
fn leak_name(prefix: &str, n: usize) -> &'static str {
    const EMAILS: [&str; 8] = [
        "email_3", "email_4", "email_5", "email_6", "email_7", "email_8", "email_9", "email_10",
    ];
    const PHONES: [&str; 8] = [
        "phone_3", "phone_4", "phone_5", "phone_6", "phone_7", "phone_8", "phone_9", "phone_10",
    ];
    let list = if prefix == "email" { &EMAILS } else { &PHONES };
    list.get(n.saturating_sub(3))
        .copied()
        .unwrap_or(if prefix == "email" { "email_more" } else { "phone_more" })
}

/// The suggested mapping for a file read through (`Source::scan`): the header's meanings
/// (`suggest`), then each column that means nothing known — a custom field of the workspace
/// whose name or label it matches, ignoring case, spaces and punctuation (pi-crm's own export
/// into another workspace); else, when any of its cells holds text, a new custom field named
/// after it with the type its values suggest; else skipped. A `… Label` or `… Type` column
/// beside its `… Value` column only describes that one, and stays skipped.
pub fn suggest_for(scan: &Scan, fields: Option<&FieldSet>) -> Mapping {
    // A column with nothing in it makes no field (SPEC §11.2): vCard's Title, say, when no
    // card has one, or Outlook's Anniversary when every cell is its `0/0/00`.
    let empty: Vec<bool> = scan
        .seen
        .iter()
        .map(|seen| {
            seen.filled as usize == seen.examples.len()
                && seen.examples.iter().all(|e| crate::domain::dates::is_placeholder(e))
        })
        .collect();
    let mut mapping = suggest_filled(&scan.columns, &empty);
    claim_named_fields(&mut mapping, &scan.columns, fields);
    for (column, empty) in scan.columns.iter().zip(&empty) {
        if *empty && let Some(target @ Target::Custom { .. }) = mapping.columns.get_mut(column) {
            *target = Target::skip();
        }
    }
    let mut used: Vec<String> = mapping
        .columns
        .values()
        .filter_map(|t| match t {
            Target::Custom { custom, .. } => Some(custom.clone()),
            Target::Field(_) => None,
        })
        .collect();
    for (column, seen) in scan.columns.iter().zip(&scan.seen) {
        let decided = mapping.columns.get(column).is_some_and(|t| *t != Target::skip());
        if column.is_empty()
            || parse_typed_header(column).is_some()
            || is_noise(column)
            || decided
            || meaning(column).is_some()
            || describes_a_sibling(column, &scan.columns)
            || is_our_problem_column(column, &scan.columns)
        {
            continue;
        }
        let target = match existing_field(fields, &key(column)) {
            Some((name, t)) => Some((name, t)),
            None if seen.filled > 0 && !seen.examples.iter().all(|e| is_no_answer(e)) => {
                let name = field_name_of(column);
                let free = crate::domain::field::parse_field_name(&name).is_ok();
                free.then(|| (name, infer_type(column, &seen.examples)))
            }
            None => None,
        };
        if let Some((name, t)) = target.filter(|(name, _)| !used.contains(name)) {
            used.push(name.clone());
            mapping.columns.insert(
                column.clone(),
                Target::Custom {
                    custom: name,
                    field_type: t.as_str().into(),
                },
            );
        }
    }
    mapping
}

/// The workspace's field whose name or label is `k` (a header's `key`), with its type.
fn existing_field(fields: Option<&FieldSet>, k: &str) -> Option<(String, FieldType)> {
    fields?
        .0
        .iter()
        .find(|d| key(&d.field_name) == k || key(&d.label) == k)
        .map(|d| (d.field_name.clone(), d.field_type))
}

/// The columns that name a field exactly take it before any guess (SPEC §11.2):
/// - pi-crm's own export (`loan_amount [number]`): that field, with that type when the
///   workspace does not have it yet;
/// - a header that is an existing custom field's name or label (ignoring case, spaces and
///   punctuation): that field, where a guess would have made another (`work_email` is not an
///   `alternate_email` in a workspace that has `work_email`).
///
/// A guessed column that meant the same field then gives way (`Nickname` beside pi-crm's own
/// `nickname [text]`), so no field is filled twice.
fn claim_named_fields(mapping: &mut Mapping, columns: &[String], fields: Option<&FieldSet>) {
    let existing = |k: &str| existing_field(fields, k);
    let mut claimed: Vec<(String, String)> = Vec::new();
    for column in columns {
        let guessed_base = matches!(mapping.columns.get(column), Some(Target::Field(_)));
        let named = match parse_typed_header(column) {
            Some((name, t)) => Some(existing(&key(&name)).filter(|(n, _)| *n == name).unwrap_or((name, t))),
            None if !guessed_base => existing(&key(column)),
            None => None,
        };
        if let Some((name, t)) = named.filter(|(name, _)| !claimed.iter().any(|(_, n)| n == name)) {
            claimed.push((column.clone(), name.clone()));
            mapping.columns.insert(
                column.clone(),
                Target::Custom {
                    custom: name,
                    field_type: t.as_str().into(),
                },
            );
        }
    }
    for (column, target) in mapping.columns.iter_mut() {
        if let Target::Custom { custom, .. } = target
            && claimed.iter().any(|(c, n)| n == custom && c != column)
        {
            *target = Target::skip();
        }
    }
}

/// Outlook's "not said" in a column that otherwise says something (its Gender column holds it
/// for everyone who never set one): a column of nothing else holds no data.
fn is_no_answer(value: &str) -> bool {
    matches!(
        value.trim().to_lowercase().as_str(),
        "unspecified" | "keine angabe" | "nicht angegeben" | "non spécifié" | "non specifie" | "non précisé"
    )
}

/// The last column of a problem rows' download (`problem_rows`): what was wrong, not data.
fn is_our_problem_column(column: &str, columns: &[String]) -> bool {
    column == super::problem_rows::PROBLEM_COLUMN && columns.last().is_some_and(|last| last == column)
}

/// `Phone 1 - Label` beside `Phone 1 - Value`, `Address 1 - Type` beside `Address 1 -
/// Formatted`: a column about the other columns of its group.
fn describes_a_sibling(column: &str, columns: &[String]) -> bool {
    let lower = column.to_lowercase();
    ["label", "type"].iter().any(|suffix| {
        lower.strip_suffix(suffix).is_some_and(|stem| {
            !stem.trim().is_empty()
                && columns
                    .iter()
                    .any(|c| c != column && c.to_lowercase().starts_with(stem))
        })
    })
}

/// The type a column's values suggest: the narrowest that reads every example. Codes written
/// in digits (ZIP and postal codes, anything with a leading zero) stay text: as numbers they
/// would lose their zeros.
fn infer_type(header: &str, examples: &[String]) -> FieldType {
    // Exporters' "no date" (`0/0/00`) says nothing about the column's type.
    let examples: Vec<String> = examples
        .iter()
        .filter(|e| !crate::domain::dates::is_placeholder(e))
        .cloned()
        .collect();
    let examples = examples.as_slice();
    let k = key(header);
    let is_code = ["zip", "postal", "postcode", "plz", "postleitzahl", "code"]
        .iter()
        .any(|w| k.contains(w))
        || examples
            .iter()
            .any(|e| e.len() > 1 && e.starts_with('0') && !e.starts_with("0."));
    // A column is of a type when at least 80 % of its values read as it (SPEC §11.2): one
    // "TBD" among dates does not make a date column text. The rest are reported per cell and
    // kept on their contact's timeline.
    let all = |f: &dyn Fn(&str) -> bool| {
        let read = examples.iter().filter(|e| f(e)).count();
        !examples.is_empty() && read * 5 >= examples.len() * 4
    };
    let spec = |t| crate::domain::field::FieldSpec {
        name: "x",
        field_type: t,
        options: &[],
        phone_region: "US",
    };
    let reads_as = |t: FieldType| move |e: &str| spec(t).parse_text(e).is_ok_and(|v| !v.is_empty());
    if all(&|e: &str| matches!(e.to_ascii_lowercase().as_str(), "yes" | "no" | "true" | "false")) {
        FieldType::Boolean
    } else if !is_code && all(&reads_as(FieldType::Number)) {
        FieldType::Number
    } else if all(&|e: &str| e.contains(':') && reads_as(FieldType::Datetime)(e)) {
        FieldType::Datetime
    } else if all(&|e: &str| e.chars().any(|c| c.is_ascii_digit()) && reads_as(FieldType::Date)(e)) {
        FieldType::Date
    } else if all(&|e: &str| e.contains('@') && reads_as(FieldType::Email)(e)) {
        FieldType::Email
    } else if all(&|e: &str| e.starts_with("http") && reads_as(FieldType::Url)(e)) {
        FieldType::Url
    } else if examples.iter().any(|e| e.contains('\n') || e.chars().count() > 200) {
        FieldType::LongText
    } else {
        FieldType::Text
    }
}

/// What parts the values of Google's multi-value cells.
pub const MULTI_SEPARATOR: &str = " ::: ";

/// Google's multi-value cells: `home@x.com ::: work@x.com` → the first value (the rest are
/// kept by the importer as further values).
pub fn split_multi(cell: &str) -> Vec<&str> {
    cell.split(MULTI_SEPARATOR)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cols(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn recognises_common_exports() {
        let google = suggest(&cols(&[
            "Name",
            "Given Name",
            "Family Name",
            "Birthday",
            "E-mail 1 - Type",
            "E-mail 1 - Value",
            "E-mail 2 - Value",
            "Phone 1 - Type",
            "Phone 1 - Value",
            "Organization 1 - Name",
        ]));
        assert_eq!(google.columns["Given Name"], Target::base("first_name"));
        assert_eq!(google.columns["Family Name"], Target::base("last_name"));
        assert_eq!(google.columns["Name"], Target::skip());
        assert_eq!(google.columns["E-mail 1 - Type"], Target::skip());
        assert_eq!(google.columns["E-mail 1 - Value"], Target::base("primary_email"));
        assert_eq!(
            google.columns["E-mail 2 - Value"],
            Target::custom("alternate_email", FieldType::Email)
        );
        assert_eq!(google.columns["Phone 1 - Value"], Target::base("primary_phone"));
        assert_eq!(google.columns["Organization 1 - Name"], Target::base("company"));
        assert_eq!(google.columns["Birthday"], Target::custom("birthday", FieldType::Date));
        let outlook_de = suggest(&cols(&[
            "Vorname",
            "Nachname",
            "Firma",
            "E-Mail-Adresse",
            "Telefon geschäftlich",
            "Mobiltelefon",
        ]));
        assert_eq!(outlook_de.columns["Vorname"], Target::base("first_name"));
        assert_eq!(outlook_de.columns["E-Mail-Adresse"], Target::base("primary_email"));
        assert_eq!(
            outlook_de.columns["Telefon geschäftlich"],
            Target::custom("work_phone", FieldType::Phone)
        );
        assert_eq!(outlook_de.columns["Mobiltelefon"], Target::base("primary_phone"));
        assert_eq!(outlook_de.columns["Firma"], Target::base("company"));
        let plain = suggest(&cols(&["email", "phone", "name"]));
        assert_eq!(
            plain.columns["name"],
            Target::base(FULL_NAME),
            "a lone name column is split"
        );
        let json = serde_json::to_value(&google).unwrap();
        assert_eq!(
            json["columns"]["Birthday"],
            serde_json::json!({"custom": "birthday", "type": "date"})
        );
        assert_eq!(json["on_duplicate"], "skip");
        assert_eq!(split_multi("a@x.com ::: b@x.com"), ["a@x.com", "b@x.com"]);
    }

    #[test]
    fn only_a_persons_own_number_becomes_the_primary_phone() {
        // Google Contacts' current header: the phonetic name columns are no phones.
        let google = suggest(&cols(&[
            "First Name",
            "Phonetic First Name",
            "Phonetic Middle Name",
            "Phonetic Last Name",
            "Phone 1 - Label",
            "Phone 1 - Value",
            "Phone 2 - Label",
            "Phone 2 - Value",
        ]));
        assert_eq!(google.columns["Phonetic First Name"], Target::skip());
        assert_eq!(google.columns["Phone 1 - Label"], Target::skip());
        assert_eq!(google.columns["Phone 1 - Value"], Target::base("primary_phone"));
        assert_eq!(
            google.columns["Phone 2 - Value"],
            Target::custom("other_phone", FieldType::Phone)
        );
        // Outlook (English): the mobile is primary, whatever comes first.
        let outlook = suggest(&cols(&[
            "Assistant's Phone",
            "Business Fax",
            "Business Phone",
            "Callback",
            "Car Phone",
            "Company Main Phone",
            "Home Phone",
            "Mobile Phone",
            "Pager",
            "Radio Phone",
            "Telex",
        ]));
        assert_eq!(outlook.columns["Mobile Phone"], Target::base("primary_phone"));
        assert_eq!(
            outlook.columns["Assistant's Phone"],
            Target::custom("assistants_phone", FieldType::Phone)
        );
        assert_eq!(
            outlook.columns["Business Phone"],
            Target::custom("work_phone", FieldType::Phone)
        );
        assert_eq!(
            outlook.columns["Business Fax"],
            Target::custom("business_fax", FieldType::Phone)
        );
        // A car's, a radio's, a callback number and Telex are noise for a CRM: skipped.
        for noise in ["Car Phone", "Radio Phone", "Callback", "Telex"] {
            assert_eq!(outlook.columns[noise], Target::skip(), "{noise}");
            assert!(is_noise(noise), "{noise}");
        }
        for kept in ["Home Phone", "Pager", "Business Fax", "Photographer"] {
            assert!(!is_noise(kept), "{kept}");
        }
        assert_eq!(
            outlook.columns["Company Main Phone"],
            Target::custom("company_main_phone", FieldType::Phone)
        );
        assert_eq!(
            outlook.columns["Home Phone"],
            Target::custom("other_phone", FieldType::Phone)
        );
        assert_eq!(outlook.columns["Pager"], Target::custom("pager", FieldType::Phone));
        // Without a mobile, the first personal number; an assistant's never.
        let plain = suggest(&cols(&["Assistant's Phone", "Home Phone", "Other Phone"]));
        assert_eq!(plain.columns["Home Phone"], Target::base("primary_phone"));
        // French Outlook.
        let fr = suggest(&cols(&[
            "Prénom",
            "Téléphone domicile",
            "Tél. mobile",
            "Télécopie bureau",
        ]));
        assert_eq!(fr.columns["Prénom"], Target::base("first_name"));
        assert_eq!(fr.columns["Tél. mobile"], Target::base("primary_phone"));
        assert_eq!(
            fr.columns["Télécopie bureau"],
            Target::custom("telecopie_bureau", FieldType::Phone)
        );
    }
}
