//! Columns that are parts of one value, folded into the columns a person means, before any
//! mapping sees them: an address written over street, city, state and ZIP columns (Outlook's
//! `Home Street`…`Home Country/Region`, German `Straße privat`, French `Rue (domicile)`,
//! Yahoo's and Thunderbird's `Work City`, Google's `Address 1 - Street` beside its
//! `Address 1 - Formatted`) becomes one `Address`, `Work address` or `Other address` column;
//! Google's numbered phones, whose kind is in a `Phone N - Label` cell of each row, become the
//! same kind columns a vCard's numbers do (`Mobile phone`, `Home phone`, `Work phone`…).
//!
//! Without this, three exports of the same people make a dozen address fields and put a work
//! number in one file's `other_phone` and another's `work_phone`. A file with no such columns
//! passes through untouched; one that has them is still read in one pass.

use super::table::Row;

/// Where a folded column's value comes from.
#[derive(Debug, Clone, PartialEq)]
enum Part {
    /// Kept as it is.
    Plain,
    /// Part of an address of a fixed kind (Outlook's `Business City`).
    Address(AddressKind, AddressPart),
    /// Part of Google's numbered address `n`, whose kind its label cell says.
    NumberedAddress(u32, AddressPart),
    NumberedAddressLabel(u32),
    NumberedPhone(u32),
    NumberedPhoneLabel(u32),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AddressKind {
    Home,
    Work,
    Other,
}

impl AddressKind {
    fn column(self) -> &'static str {
        match self {
            AddressKind::Home => "Address",
            AddressKind::Work => "Work address",
            AddressKind::Other => "Other address",
        }
    }
}

/// The parts of an address, in the order they are written out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum AddressPart {
    Formatted,
    Street,
    PoBox,
    City,
    Region,
    Postal,
    Country,
}

/// The kind columns Google's numbers go to: the same names a vCard's `TEL;TYPE=…` gets
/// (`vcard::PHONE_KINDS`), so both land in the same fields.
const PHONE_COLUMNS: [&str; 6] = ["Mobile phone", "Home phone", "Work phone", "Phone", "Fax", "Pager"];

fn phone_column(label: &str) -> usize {
    let l = label.trim().trim_start_matches('*').trim().to_lowercase();
    let has = |w: &str| l.contains(w);
    if has("fax") {
        4
    } else if has("pager") {
        5
    } else if has("mobile") || has("cell") {
        0
    } else if has("work") || has("business") {
        2
    } else if has("home") {
        1
    } else {
        3
    }
}

fn is_work_label(label: &str) -> bool {
    let l = label.to_lowercase();
    l.contains("work") || l.contains("business")
}

/// `"Address 2 - City"` → `("address", 2, "city")`.
fn numbered(header: &str) -> Option<(String, u32, String)> {
    let (head, part) = header.split_once(" - ")?;
    let (kind, n) = head.trim().rsplit_once(' ')?;
    let n: u32 = n.parse().ok()?;
    Some((kind.trim().to_lowercase(), n, part.trim().to_lowercase()))
}

fn key(header: &str) -> String {
    header.to_lowercase().chars().filter(|c| c.is_alphanumeric()).collect()
}

/// What one part of an address a header names, by its words (after its kind's word).
fn address_part(k: &str) -> Option<AddressPart> {
    let has = |words: &[&str]| words.iter().any(|w| k.contains(w));
    Some(if has(&["formatted"]) {
        AddressPart::Formatted
    } else if has(&["pobox", "postfach", "boîtepostale", "boitepostale"]) {
        AddressPart::PoBox
    } else if has(&["bundesland", "kanton", "state", "province"]) {
        AddressPart::Region
    } else if has(&["country", "land", "pays"]) {
        AddressPart::Country
    } else if has(&["région", "region", "dép"]) {
        AddressPart::Region
    } else if has(&["postalcode", "postcode", "zip", "postleitzahl", "codepostal"]) {
        AddressPart::Postal
    } else if has(&["city", "ort", "ville", "town"]) {
        AddressPart::City
    } else if has(&["street", "straße", "strasse", "rue", "address", "adresse", "extended"]) {
        AddressPart::Street
    } else {
        return None;
    })
}

/// An address part of a fixed kind: `Home City`, `Ort geschäftlich`, `Rue (bureau)`, `Work ZIP`.
fn kinded_address_part(header: &str) -> Option<(AddressKind, AddressPart)> {
    let k = key(header);
    let kind = if ["business", "work", "geschäftlich", "geschaftlich", "bureau"]
        .iter()
        .any(|w| k.contains(w))
    {
        AddressKind::Work
    } else if ["home", "privat", "domicile"].iter().any(|w| k.contains(w)) {
        AddressKind::Home
    } else if k.starts_with("other") || k.starts_with("weitere") || k.contains("autre") {
        AddressKind::Other
    } else {
        return None;
    };
    // A phone, fax or email of that place is no part of its address.
    let not_address = [
        "phone",
        "fax",
        "mail",
        "telefon",
        "téléphone",
        "télécopie",
        "web",
        "page",
        "pager",
    ];
    if not_address.iter().any(|w| k.contains(w)) {
        return None;
    }
    address_part(&k).map(|p| (kind, p))
}

fn part_of(header: &str) -> Part {
    if let Some((kind, n, part)) = numbered(header) {
        let label = part == "label" || part == "type";
        match kind.as_str() {
            "phone" if label => return Part::NumberedPhoneLabel(n),
            "phone" if part == "value" => return Part::NumberedPhone(n),
            "address" if label => return Part::NumberedAddressLabel(n),
            "address" => {
                if let Some(p) = address_part(&key(&part)) {
                    return Part::NumberedAddress(n, p);
                }
            }
            _ => {}
        }
    }
    match kinded_address_part(header) {
        Some((kind, p)) => Part::Address(kind, p),
        None => Part::Plain,
    }
}

/// One folded column of the output.
#[derive(Debug, Clone, PartialEq)]
enum Out {
    Plain(usize),
    Address(AddressKind),
    Phone(usize),
}

/// How a file's columns fold; `None` from `of` when nothing in it does.
#[derive(Debug, Clone)]
pub struct Grouped {
    parts: Vec<Part>,
    out: Vec<Out>,
}

impl Grouped {
    pub fn of(columns: &[String]) -> Option<Grouped> {
        let parts: Vec<Part> = columns.iter().map(|c| part_of(c)).collect();
        // Google's numbered groups fold only with their label column beside them; an
        // address's parts only when there are several (a lone `Home Address` is one already).
        let labelled_phones = parts.iter().any(|p| matches!(p, Part::NumberedPhoneLabel(_)));
        let labelled_addresses = parts.iter().any(|p| matches!(p, Part::NumberedAddressLabel(_)));
        let parts: Vec<Part> = parts
            .into_iter()
            .map(|p| match p {
                Part::NumberedPhone(_) | Part::NumberedPhoneLabel(_) if !labelled_phones => Part::Plain,
                Part::NumberedAddress(..) | Part::NumberedAddressLabel(_) if !labelled_addresses => Part::Plain,
                p => p,
            })
            .collect();
        let kinded = |kind: AddressKind| {
            parts
                .iter()
                .filter(|p| matches!(p, Part::Address(k, _) if *k == kind))
                .count()
        };
        let parts: Vec<Part> = parts
            .iter()
            .map(|p| match p {
                Part::Address(kind, _) if kinded(*kind) < 2 => Part::Plain,
                p => p.clone(),
            })
            .collect();
        if parts.iter().all(|p| *p == Part::Plain) {
            return None;
        }
        let mut out: Vec<Out> = Vec::new();
        for (i, p) in parts.iter().enumerate() {
            let o = match p {
                Part::Plain => Out::Plain(i),
                Part::Address(kind, _) => Out::Address(*kind),
                Part::NumberedAddress(..) | Part::NumberedAddressLabel(_) => {
                    // Google's numbered addresses go where their labels say, row by row.
                    for kind in [AddressKind::Home, AddressKind::Work] {
                        if !out.contains(&Out::Address(kind)) {
                            out.push(Out::Address(kind));
                        }
                    }
                    continue;
                }
                Part::NumberedPhone(_) | Part::NumberedPhoneLabel(_) => {
                    if !out.contains(&Out::Phone(0)) {
                        out.extend((0..PHONE_COLUMNS.len()).map(Out::Phone));
                    }
                    continue;
                }
            };
            if !out.contains(&o) {
                out.push(o);
            }
        }
        Some(Grouped { parts, out })
    }

    /// The column names after folding, `original` being the file's own.
    pub fn columns(&self, original: &[String]) -> Vec<String> {
        self.out
            .iter()
            .map(|o| match o {
                Out::Plain(i) => original[*i].clone(),
                Out::Address(kind) => kind.column().to_string(),
                Out::Phone(k) => PHONE_COLUMNS[*k].to_string(),
            })
            .collect()
    }

    /// One row folded: each address written out from its parts (or its formatted text), each
    /// number under the kind its label names; several of a kind part with Google's ` ::: `,
    /// which the importer reads as further values.
    pub fn row(&self, row: Row) -> Row {
        let cell = |i: usize| row.cells.get(i).map(|c| c.trim()).unwrap_or_default();
        let label_of = |want: &Part| self.parts.iter().position(|p| p == want).map(cell).unwrap_or_default();
        let mut addresses: Vec<(AddressKind, Vec<(AddressPart, &str)>)> = Vec::new();
        let mut numbered: Vec<(u32, Vec<(AddressPart, &str)>)> = Vec::new();
        let mut phones: [Vec<&str>; PHONE_COLUMNS.len()] = Default::default();
        for (i, p) in self.parts.iter().enumerate() {
            let value = cell(i);
            if value.is_empty() {
                continue;
            }
            match p {
                Part::Address(kind, part) => match addresses.iter_mut().find(|(k, _)| k == kind) {
                    Some((_, parts)) => parts.push((*part, value)),
                    None => addresses.push((*kind, vec![(*part, value)])),
                },
                Part::NumberedAddress(n, part) => match numbered.iter_mut().find(|(m, _)| m == n) {
                    Some((_, parts)) => parts.push((*part, value)),
                    None => numbered.push((*n, vec![(*part, value)])),
                },
                Part::NumberedPhone(n) => {
                    phones[phone_column(label_of(&Part::NumberedPhoneLabel(*n)))].push(value);
                }
                Part::Plain | Part::NumberedAddressLabel(_) | Part::NumberedPhoneLabel(_) => {}
            }
        }
        for (n, parts) in numbered {
            let kind = if is_work_label(label_of(&Part::NumberedAddressLabel(n))) {
                AddressKind::Work
            } else {
                AddressKind::Home
            };
            // A second address of a kind is a further value of its column.
            addresses.push((kind, parts));
        }
        let cells = self
            .out
            .iter()
            .map(|o| match o {
                Out::Plain(i) => row.cells.get(*i).cloned().unwrap_or_default(),
                Out::Address(kind) => addresses
                    .iter()
                    .filter(|(k, _)| k == kind)
                    .map(|(_, parts)| write_address(parts))
                    .filter(|a| !a.is_empty())
                    .collect::<Vec<_>>()
                    .join(super::mapping::MULTI_SEPARATOR),
                Out::Phone(k) => phones[*k].join(super::mapping::MULTI_SEPARATOR),
            })
            .collect();
        Row {
            line: row.line,
            cells,
            extra: row.extra,
        }
    }
}

/// An address as people write it on an envelope: its formatted text when the file has one,
/// else `street, PO box` / the place / `country`, each line only when it has something.
pub fn write_address(parts: &[(AddressPart, &str)]) -> String {
    if let Some((_, formatted)) = parts
        .iter()
        .find(|(p, v)| *p == AddressPart::Formatted && !v.trim().is_empty())
    {
        return formatted.trim().to_string();
    }
    let of = |want: AddressPart| -> Vec<&str> {
        parts
            .iter()
            .filter(|(p, v)| *p == want && !v.trim().is_empty())
            .map(|(_, v)| v.trim())
            .collect()
    };
    let mut street = of(AddressPart::Street);
    street.extend(of(AddressPart::PoBox));
    // `City, ST 94105` where a region is written (the US, Canada, Australia); `22763 Hamburg`
    // where none is (most of Europe).
    let (city, region, postal) = (
        of(AddressPart::City).join(" "),
        of(AddressPart::Region).join(" "),
        of(AddressPart::Postal).join(" "),
    );
    let join = |parts: &[&str], by: &str| {
        parts
            .iter()
            .filter(|p| !p.is_empty())
            .copied()
            .collect::<Vec<_>>()
            .join(by)
    };
    let place = if region.is_empty() {
        join(&[&postal, &city], " ")
    } else {
        join(&[&city, &join(&[&region, &postal], " ")], ", ")
    };
    [street.join(", "), place, of(AddressPart::Country).join(" ")]
        .into_iter()
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fold(header: &str, cells: &[&str]) -> (Vec<String>, Vec<String>) {
        let columns: Vec<String> = header.split(',').map(str::to_string).collect();
        let grouped = Grouped::of(&columns).expect("folds");
        let row = grouped.row(Row {
            line: 2,
            cells: cells.iter().map(|c| c.to_string()).collect(),
            extra: 0,
        });
        (grouped.columns(&columns), row.cells)
    }

    #[test]
    fn outlooks_address_parts_become_one_address_per_kind() {
        let (columns, cells) = fold(
            "First Name,Home Street,Home City,Home State,Home Postal Code,Business Street,Business City,Business Postal Code,Business Country/Region,Home Phone",
            &[
                "Linda",
                "12 Oak Ave",
                "Palo Alto",
                "CA",
                "02139",
                "Pickhuben 2",
                "Hamburg",
                "20457",
                "Deutschland",
                "555",
            ],
        );
        assert_eq!(columns, ["First Name", "Address", "Work address", "Home Phone"]);
        assert_eq!(
            cells,
            [
                "Linda",
                "12 Oak Ave\nPalo Alto, CA 02139",
                "Pickhuben 2\n20457 Hamburg\nDeutschland",
                "555"
            ]
        );
    }

    #[test]
    fn googles_numbered_values_go_where_each_rows_labels_say() {
        let header = "Name,Phone 1 - Label,Phone 1 - Value,Phone 2 - Label,Phone 2 - Value,Address 1 - Label,Address 1 - Formatted,Address 1 - City";
        let (columns, cells) = fold(
            header,
            &[
                "Maria",
                "Work",
                "111",
                "* Mobile",
                "222 ::: 333",
                "Work",
                "1 Post St\nSF",
                "SF",
            ],
        );
        assert_eq!(
            columns,
            [
                "Name",
                "Mobile phone",
                "Home phone",
                "Work phone",
                "Phone",
                "Fax",
                "Pager",
                "Address",
                "Work address"
            ]
        );
        assert_eq!(
            cells,
            ["Maria", "222 ::: 333", "", "111", "", "", "", "", "1 Post St\nSF"]
        );
        // No formatted text: the parts are written out.
        let (_, cells) = fold(header, &["Wei", "Main", "444", "", "", "", "", "Oakland"]);
        assert_eq!(cells, ["Wei", "", "", "", "444", "", "", "Oakland", ""]);
    }

    #[test]
    fn files_without_parted_values_are_left_alone() {
        let columns: Vec<String> = ["Name", "Home Address", "Phone 1 - Value", "Work Phone"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert!(Grouped::of(&columns).is_none(), "one address column, unlabelled phones");
    }
}
