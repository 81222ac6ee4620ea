//! Custom field types and values: parse, don't validate. A value is turned into its canonical
//! text for its type once, on the way in; what is stored is always valid for its type.

use serde_json::Value;

use super::phone::Phone;
use super::user::Email;
use crate::error::{AppError, AppResult};
pub use crate::model::query::FieldType;

/// The six base fields (plus `id`); a custom field may not take one of these names.
pub const BASE_FIELDS: &[&str] = &["first_name", "last_name", "primary_email", "primary_phone", "company"];

impl FieldType {
    pub const ALL: &'static [FieldType] = &[
        FieldType::Text,
        FieldType::LongText,
        FieldType::Number,
        FieldType::Date,
        FieldType::Datetime,
        FieldType::Boolean,
        FieldType::Email,
        FieldType::Phone,
        FieldType::Url,
        FieldType::Select,
        FieldType::Json,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            FieldType::Text => "text",
            FieldType::LongText => "long_text",
            FieldType::Number => "number",
            FieldType::Date => "date",
            FieldType::Datetime => "datetime",
            FieldType::Boolean => "boolean",
            FieldType::Email => "email",
            FieldType::Phone => "phone",
            FieldType::Url => "url",
            FieldType::Select => "select",
            FieldType::Json => "json",
        }
    }

    pub fn parse(text: &str) -> Option<FieldType> {
        FieldType::ALL.iter().copied().find(|t| t.as_str() == text)
    }

    /// A word for people, used in the settings page.
    pub fn label(self) -> &'static str {
        match self {
            FieldType::Text => "Text",
            FieldType::LongText => "Long text",
            FieldType::Number => "Number",
            FieldType::Date => "Date",
            FieldType::Datetime => "Date and time",
            FieldType::Boolean => "Yes / no",
            FieldType::Email => "Email",
            FieldType::Phone => "Phone",
            FieldType::Url => "Link",
            FieldType::Select => "Choice",
            FieldType::Json => "JSON",
        }
    }

    /// Whether values compare as numbers (`CAST … AS REAL`) rather than as text.
    pub fn is_numeric(self) -> bool {
        self == FieldType::Number
    }
}

/// A field name: lower-case letters, digits and underscores, starting with a letter, at most
/// 64 characters, and not one of the base fields.
pub fn parse_field_name(raw: &str) -> AppResult<String> {
    let name = raw.trim();
    let ok = !name.is_empty()
        && name.len() <= 64
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if !ok {
        return Err(AppError::invalid(
            "field_name",
            "use lower-case letters, digits and underscores, starting with a letter (e.g. loan_amount)",
        ));
    }
    if BASE_FIELDS.contains(&name) || name == "id" {
        return Err(AppError::invalid(
            "field_name",
            format!("{name} is a base field already"),
        ));
    }
    Ok(name.to_string())
}

/// What a value needs to know about its field to be parsed.
pub struct FieldSpec<'a> {
    pub name: &'a str,
    pub field_type: FieldType,
    pub options: &'a [String],
    pub phone_region: &'a str,
}

const TEXT_MAX: usize = 1_000;
const LONG_TEXT_MAX: usize = 20_000;

impl FieldSpec<'_> {
    fn bad(&self, why: impl Into<String>) -> AppError {
        AppError::invalid(&format!("custom_fields.{}", self.name), why.into())
    }

    /// Parses a JSON value into the canonical stored text. `null` is handled by the caller
    /// (it means "remove").
    pub fn parse_json(&self, value: &Value) -> AppResult<String> {
        match (self.field_type, value) {
            (FieldType::Json, v) => {
                let text = serde_json::to_string(v).expect("JSON serialises");
                if text.len() > LONG_TEXT_MAX {
                    return Err(self.bad(format!("at most {LONG_TEXT_MAX} characters of JSON")));
                }
                Ok(text)
            }
            (FieldType::Number, Value::Number(n)) => self.parse_text(&n.to_string()),
            (FieldType::Boolean, Value::Bool(b)) => Ok(b.to_string()),
            (_, Value::String(s)) => self.parse_text(s),
            (t, other) => Err(self.bad(format!(
                "expected {} but got {}",
                t.label().to_lowercase(),
                kind_of(other)
            ))),
        }
    }

    /// Parses typed text (a form input, a CSV cell) into the canonical stored text.
    pub fn parse_text(&self, raw: &str) -> AppResult<String> {
        let text = raw.trim();
        match self.field_type {
            FieldType::Text => {
                if text.chars().count() > TEXT_MAX {
                    return Err(self.bad(format!("at most {TEXT_MAX} characters")));
                }
                Ok(text.to_string())
            }
            FieldType::LongText => {
                // Keep inner line breaks; only the ends are trimmed.
                if raw.chars().count() > LONG_TEXT_MAX {
                    return Err(self.bad(format!("at most {LONG_TEXT_MAX} characters")));
                }
                // Windows line ends (Outlook's notes) are stored as plain `\n`.
                Ok(raw.trim_end().trim_start_matches(['\n', '\r']).replace("\r\n", "\n"))
            }
            FieldType::Number => {
                let n: f64 = plain_number(text)
                    .parse()
                    .map_err(|_| self.bad(format!("{text:?} is not a number")))?;
                if !n.is_finite() {
                    return Err(self.bad("the number must be finite"));
                }
                Ok(canonical_number(n))
            }
            // Empty for an exporter's "no date" placeholder (`0/0/00`): no value.
            FieldType::Date => super::dates::parse(text, self.phone_region)
                .map(Option::unwrap_or_default)
                .map_err(|e| self.bad(e)),
            FieldType::Datetime => {
                if let Some(t) = crate::clock::parse(text) {
                    return Ok(crate::clock::format(t));
                }
                // What a browser's datetime-local input sends, and what spreadsheets and CRM
                // exports write (`2024-03-12 09:15`): no zone, read as UTC.
                for fmt in [
                    "%Y-%m-%dT%H:%M",
                    "%Y-%m-%dT%H:%M:%S",
                    "%Y-%m-%d %H:%M",
                    "%Y-%m-%d %H:%M:%S",
                ] {
                    if let Ok(t) =
                        jiff::civil::DateTime::strptime(fmt, text).and_then(|t| t.to_zoned(jiff::tz::TimeZone::UTC))
                    {
                        return Ok(crate::clock::format(t.timestamp()));
                    }
                }
                Err(self.bad(format!("{text:?} is not a date and time like 2026-11-26T10:00:00Z")))
            }
            FieldType::Boolean => match text.to_ascii_lowercase().as_str() {
                "true" | "yes" | "y" | "1" | "on" => Ok("true".into()),
                "false" | "no" | "n" | "0" | "off" => Ok("false".into()),
                _ => Err(self.bad(format!("{text:?} is not yes or no"))),
            },
            FieldType::Email => {
                Email::parse(text, &format!("custom_fields.{}", self.name)).map(|e| e.as_str().to_string())
            }
            FieldType::Phone => {
                Phone::parse(text, self.phone_region, &format!("custom_fields.{}", self.name)).map(Phone::into_string)
            }
            FieldType::Url => {
                // `www.example.com`, as address books hold it, is a web address too.
                let url = url::Url::parse(text)
                    .or_else(|e| match e {
                        url::ParseError::RelativeUrlWithoutBase
                            if text.contains('.') && !text.contains(char::is_whitespace) =>
                        {
                            url::Url::parse(&format!("https://{text}"))
                        }
                        other => Err(other),
                    })
                    .map_err(|_| self.bad(format!("{text:?} is not a web address")))?;
                if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
                    return Err(self.bad("a web address starts with http:// or https://"));
                }
                if text.len() > 2_000 {
                    return Err(self.bad("at most 2000 characters"));
                }
                Ok(url.to_string())
            }
            FieldType::Select => self
                .options
                .iter()
                .find(|o| o.as_str() == text)
                .or_else(|| self.options.iter().find(|o| o.eq_ignore_ascii_case(text)))
                .cloned()
                .ok_or_else(|| self.bad(format!("{text:?} is not one of: {}", self.options.join(", ")))),
            FieldType::Json => {
                let v: Value = serde_json::from_str(text).map_err(|e| self.bad(format!("not valid JSON: {e}")))?;
                self.parse_json(&v)
            }
        }
    }
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "text",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// A number as spreadsheets write it, in Rust's syntax: a currency sign and spaces dropped;
/// `1,234,567.50` (US) and `1.234.567,50` (European) both become `1234567.50`. A lone comma
/// is a thousands separator before exactly three digits (`1,500`), else a decimal comma (`2,5`).
fn plain_number(text: &str) -> String {
    let kept: String = text
        .chars()
        .filter(|c| !matches!(c, '$' | '€' | '£' | '¥' | ' ' | '\u{a0}' | '\u{202f}' | '\''))
        .collect();
    let (last_dot, last_comma) = (kept.rfind('.'), kept.rfind(','));
    let decimal_comma = match (last_dot, last_comma) {
        (Some(d), Some(c)) => c > d,
        (None, Some(c)) => kept.matches(',').count() == 1 && kept.len() - c - 1 != 3,
        _ => false,
    };
    if decimal_comma {
        kept.replace('.', "").replace(',', ".")
    } else {
        kept.replace(',', "")
    }
}

/// Whole numbers print without a decimal point; others in Rust's shortest round-trip form.
fn canonical_number(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 9.007_199_254_740_992e15 {
        format!("{}", n as i64)
    } else {
        format!("{n}")
    }
}

/// A stored value as it goes out in JSON: numbers, booleans and JSON keep their type.
pub fn to_json(field_type: Option<FieldType>, stored: &str) -> Value {
    match field_type {
        Some(FieldType::Number) => stored
            .parse::<f64>()
            .ok()
            .and_then(|n| {
                if n.fract() == 0.0 && n.abs() < 9.007_199_254_740_992e15 {
                    Some(Value::from(n as i64))
                } else {
                    serde_json::Number::from_f64(n).map(Value::Number)
                }
            })
            .unwrap_or_else(|| Value::String(stored.into())),
        Some(FieldType::Boolean) => match stored {
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            other => Value::String(other.into()),
        },
        Some(FieldType::Json) => serde_json::from_str(stored).unwrap_or_else(|_| Value::String(stored.into())),
        _ => Value::String(stored.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn spec(t: FieldType) -> FieldSpec<'static> {
        static OPTIONS: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
        FieldSpec {
            name: "f",
            field_type: t,
            options: OPTIONS.get_or_init(|| vec!["Lead".into(), "Closed".into()]),
            phone_region: "US",
        }
    }

    #[test]
    fn values_are_canonical_for_their_type() {
        assert_eq!(spec(FieldType::Number).parse_text("250,000").unwrap(), "250000");
        assert_eq!(spec(FieldType::Number).parse_json(&json!(3.5)).unwrap(), "3.5");
        assert!(spec(FieldType::Number).parse_text("lots").is_err());
        assert_eq!(spec(FieldType::Date).parse_text(" 1815-12-10 ").unwrap(), "1815-12-10");
        assert!(spec(FieldType::Date).parse_text("1815-02-30").is_err());
        assert_eq!(
            spec(FieldType::Datetime)
                .parse_text("2026-11-26T10:00:00+01:00")
                .unwrap(),
            "2026-11-26T09:00:00Z"
        );
        assert_eq!(
            spec(FieldType::Datetime).parse_text("2026-11-26T10:00").unwrap(),
            "2026-11-26T10:00:00Z"
        );
        assert_eq!(spec(FieldType::Boolean).parse_text("Yes").unwrap(), "true");
        assert_eq!(spec(FieldType::Boolean).parse_json(&json!(false)).unwrap(), "false");
        assert_eq!(
            spec(FieldType::Email).parse_text(" Ada@Example.COM ").unwrap(),
            "ada@example.com"
        );
        assert_eq!(
            spec(FieldType::Phone).parse_text("415 555 0187").unwrap(),
            "+14155550187"
        );
        assert_eq!(
            spec(FieldType::Url).parse_text("https://lf.example/loan/1").unwrap(),
            "https://lf.example/loan/1"
        );
        assert!(spec(FieldType::Url).parse_text("javascript:alert(1)").is_err());
        assert_eq!(spec(FieldType::Select).parse_text("lead").unwrap(), "Lead");
        assert!(spec(FieldType::Select).parse_text("Lost").is_err());
        assert_eq!(
            spec(FieldType::Json).parse_json(&json!({"a": [1, 2]})).unwrap(),
            "{\"a\":[1,2]}"
        );
        assert!(spec(FieldType::Text).parse_json(&json!(42)).is_err());
        let err = spec(FieldType::Date).parse_text("tomorrow").unwrap_err();
        assert_eq!(err.field(), Some("custom_fields.f"));
    }

    #[test]
    fn numbers_as_spreadsheets_write_them() {
        let n = |t: &str| spec(FieldType::Number).parse_text(t).unwrap();
        assert_eq!(n("$350,000.00"), "350000");
        assert_eq!(n("350.000,50 €"), "350000.5");
        assert_eq!(n("1,500"), "1500");
        assert_eq!(n("2,5"), "2.5");
        assert_eq!(n("-12.75"), "-12.75");
        assert_eq!(n("1 234 567"), "1234567");
        assert!(spec(FieldType::Number).parse_text("12 apples").is_err());
    }

    #[test]
    fn json_output_keeps_types() {
        assert_eq!(to_json(Some(FieldType::Number), "250000"), json!(250000));
        assert_eq!(to_json(Some(FieldType::Number), "3.5"), json!(3.5));
        assert_eq!(to_json(Some(FieldType::Boolean), "true"), json!(true));
        assert_eq!(to_json(None, "orphan"), json!("orphan"));
    }

    #[test]
    fn field_names_are_checked() {
        assert_eq!(parse_field_name("loan_amount").unwrap(), "loan_amount");
        assert!(parse_field_name("Loan Amount").is_err());
        assert!(parse_field_name("primary_email").is_err());
        assert!(parse_field_name("1st").is_err());
    }
}

/// A stored value as people read it, in pages and in filled-in templates: `1980-07-04` as
/// "July 4, 1980", `--07-04` as "July 4", numbers grouped, booleans as Yes/No, phones
/// formatted.
pub fn readable(field_type: FieldType, stored: &str) -> String {
    match field_type {
        FieldType::Boolean => (if stored == "true" { "Yes" } else { "No" }).to_string(),
        FieldType::Phone => super::phone::display(stored),
        FieldType::Date => super::dates::display(stored).unwrap_or_else(|| stored.to_string()),
        FieldType::Number => group_digits(stored),
        FieldType::Datetime => stored.replace('T', " ").replace('Z', " UTC"),
        _ => stored.to_string(),
    }
}

/// `350000.5` → `350,000.5`: big amounts (loans) read at a glance.
pub fn group_digits(number: &str) -> String {
    let (sign, rest) = number.strip_prefix('-').map(|r| ("-", r)).unwrap_or(("", number));
    let (int, frac) = rest.split_once('.').map(|(i, f)| (i, Some(f))).unwrap_or((rest, None));
    if !int.bytes().all(|b| b.is_ascii_digit()) {
        return number.to_string();
    }
    let mut grouped = String::new();
    for (i, ch) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(ch);
    }
    match frac {
        Some(f) => format!("{sign}{grouped}.{f}"),
        None => format!("{sign}{grouped}"),
    }
}

#[cfg(test)]
mod readable_tests {
    use super::{FieldType, group_digits, readable};

    #[test]
    fn numbers_are_grouped_and_dates_read_as_words() {
        assert_eq!(group_digits("350000"), "350,000");
        assert_eq!(group_digits("-1234567.25"), "-1,234,567.25");
        assert_eq!(group_digits("999"), "999");
        assert_eq!(group_digits("1e21"), "1e21");
        assert_eq!(readable(FieldType::Date, "1815-12-10"), "December 10, 1815");
        assert_eq!(readable(FieldType::Date, "--07-04"), "July 4");
        assert_eq!(readable(FieldType::Boolean, "true"), "Yes");
    }
}
