//! What a read of contacts asks for, as the domain checks it and storage turns it into SQL:
//! a search with its filters and order, a campaign's segment, and the type a custom field's
//! values have (which decides how they compare). Plain data; the rules that make and check
//! them are the domain's (`domain::search`, `domain::campaign::segment`, `domain::field`).

use super::ids::ListId;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldType {
    Text,
    LongText,
    Number,
    Date,
    Datetime,
    Boolean,
    Email,
    Phone,
    Url,
    Select,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sort {
    Newest,
    Oldest,
    Name,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    Gt,
    Gte,
    Lt,
    Lte,
    Contains,
}

/// A comparison on one custom field, its value already parsed for the field's type.
#[derive(Debug, Clone)]
pub struct FieldFilter {
    pub name: String,
    pub op: Op,
    pub value: FilterValue,
}

#[derive(Debug, Clone)]
pub enum FilterValue {
    Text(String),
    Number(f64),
}

/// Where the next page starts: the sort key of the last contact seen.
#[derive(Debug, Clone)]
pub enum After {
    Id(String),
    Name {
        last: String,
        first: String,
        id: String,
    },
    /// Sorted by a field: the last value seen.
    Value {
        value: String,
        id: String,
    },
    /// Sorted by a field, among the contacts without a value (they come last).
    Unvalued {
        id: String,
    },
}

/// Sorting by a custom field (`sort=field.NAME`; `-field.NAME` for the largest or latest
/// first). Contacts without a value follow the rest, newest first.
#[derive(Debug, Clone)]
pub struct FieldSort {
    pub name: String,
    pub descending: bool,
    /// Compared as numbers, not as text (`9` before `10`).
    pub numeric: bool,
}

#[derive(Debug, Clone)]
pub struct ContactQuery {
    pub words: Vec<String>,
    pub list: Option<ListId>,
    pub filters: Vec<FieldFilter>,
    pub sort: Sort,
    pub limit: u32,
    pub after: Option<After>,
    /// When set, the order instead of `sort`.
    pub by_field: Option<FieldSort>,
    /// Only these contacts (a selection from the list's checkboxes), when set.
    pub only: Option<Vec<String>>,
    /// Only these fields' custom values are read, when set (a page showing a few columns);
    /// otherwise every value.
    pub values: Option<Vec<String>>,
}

/// A segment checked against the workspace, ready for SQL.
#[derive(Debug, Clone, Default)]
pub struct SegmentQuery {
    pub lists_any: Vec<ListId>,
    pub lists_none: Vec<ListId>,
    pub filters: Vec<FieldFilter>,
    /// Yearly campaigns, counting: contacts with any value in this date field.
    pub has_value: Option<String>,
    /// Yearly campaigns, sending: the date field and the month-days (`MM-DD`) that are today.
    pub on_days: Option<(String, Vec<String>)>,
}

/// The digits of a search term, when it looks like part of a phone number (so "(415) 555"
/// finds +1415555…).
pub fn search_digits(term: &str) -> Option<String> {
    let digits: String = term.chars().filter(char::is_ascii_digit).collect();
    let only_phone_chars = term.chars().all(|c| c.is_ascii_digit() || " +-().".contains(c));
    (digits.len() >= 3 && only_phone_chars).then_some(digits)
}
