//! What contact pages show: typed inputs for forms and typed values for reading, built from a
//! contact and the field definitions that apply. Rendering stays in askama (auto-escaped).

use crate::domain::contact::ContactRecord;
use crate::domain::field::FieldType;
use crate::domain::field_definition::{FieldDefinition, FieldSet};
use crate::domain::phone;
use crate::web::forms::FormErrors;

/// One input of the contact form.
pub struct FieldInput {
    /// The form field's name: a base field name or `cf.<field_name>`.
    pub key: String,
    pub id: String,
    pub label: String,
    /// text, textarea, number, date, datetime-local, select, bool, email, tel, url, json
    pub kind: &'static str,
    pub value: String,
    pub options: Vec<String>,
    pub required: bool,
    pub error: Option<String>,
}

fn input_kind(t: FieldType) -> &'static str {
    match t {
        FieldType::Text => "text",
        FieldType::LongText => "textarea",
        FieldType::Number => "number",
        FieldType::Date => "date",
        FieldType::Datetime => "datetime-local",
        FieldType::Boolean => "bool",
        FieldType::Email => "email",
        FieldType::Phone => "tel",
        FieldType::Url => "url",
        FieldType::Select => "select",
        FieldType::Json => "json",
    }
}

/// A stored value as its input shows it (datetime-local has no zone and no seconds).
fn input_value(t: FieldType, stored: &str) -> String {
    match t {
        FieldType::Datetime => stored.get(..16).unwrap_or(stored).to_string(),
        _ => stored.to_string(),
    }
}

/// The base fields as people read them, for every page that lists them.
pub const BASE_LABELS: [(&str, &str); 5] = [
    ("first_name", "First name"),
    ("last_name", "Last name"),
    ("primary_email", "Email"),
    ("primary_phone", "Phone"),
    ("company", "Company"),
];

fn base_input_kind(name: &str) -> &'static str {
    match name {
        "primary_email" => "email",
        "primary_phone" => "tel",
        _ => "text",
    }
}

/// A stored value as people read it: a base field (phones formatted) or a custom one by its
/// definition (kept as stored when the definition is gone).
pub fn readable(name: &str, stored: &str, fields: &FieldSet) -> String {
    match fields.get(name) {
        _ if name == "primary_phone" => phone::display(stored),
        Some(def) => display_value(def, stored).text,
        None => stored.to_string(),
    }
}

/// The form's inputs: the six base fields, then every custom field that applies. `submitted`
/// holds what the person typed when the form comes back with errors.
pub fn form_inputs(
    contact: Option<&ContactRecord>,
    fields: &FieldSet,
    submitted: Option<&[(String, String)]>,
    errors: &FormErrors,
) -> (Vec<FieldInput>, Vec<FieldInput>) {
    let typed = |key: &str| submitted.and_then(|s| s.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone()));
    let base = BASE_LABELS
        .iter()
        .map(|(name, label)| FieldInput {
            key: name.to_string(),
            id: format!("f-{name}"),
            label: label.to_string(),
            kind: base_input_kind(name),
            value: typed(name)
                .or_else(|| contact.and_then(|c| c.base.get(name).cloned()))
                .map(|v| {
                    if *name == "primary_phone" && submitted.is_none() {
                        phone::display(&v)
                    } else {
                        v
                    }
                })
                .unwrap_or_default(),
            options: Vec::new(),
            required: false,
            error: errors.get(name).map(str::to_string),
        })
        .collect();
    let custom = fields
        .0
        .iter()
        .map(|def| {
            let key = format!("cf.{}", def.field_name);
            let stored = match contact {
                Some(c) => c.custom.get(&def.field_name).cloned(),
                None => def.default_value.clone(),
            };
            FieldInput {
                id: format!("f-cf-{}", def.field_name),
                label: def.label.clone(),
                kind: input_kind(def.field_type),
                value: typed(&key)
                    .or_else(|| stored.map(|v| input_value(def.field_type, &v)))
                    .unwrap_or_default(),
                options: def.options.clone(),
                required: def.is_required,
                error: errors
                    .get(&format!("custom_fields.{}", def.field_name))
                    .map(str::to_string),
                key,
            }
        })
        .collect();
    (base, custom)
}

/// One custom value as the detail page shows it.
pub struct FieldDisplay {
    pub name: String,
    pub label: String,
    pub text: String,
    /// A safe link target (http(s), mailto:, tel:) when the value is one.
    pub href: Option<String>,
    pub multiline: bool,
    pub monospace: bool,
}

pub fn display_value(def: &FieldDefinition, stored: &str) -> FieldDisplay {
    let text = crate::domain::field::readable(def.field_type, stored);
    let href = match def.field_type {
        FieldType::Url => web_link(stored),
        FieldType::Email => Some(format!("mailto:{stored}")),
        FieldType::Phone => Some(format!("tel:{stored}")),
        _ => None,
    };
    FieldDisplay {
        name: def.field_name.clone(),
        label: def.label.clone(),
        text,
        href,
        multiline: def.field_type == FieldType::LongText,
        monospace: def.field_type == FieldType::Json,
    }
}

/// A stored url becomes a link only when it is `http(s)`. Values are checked when written, but
/// a field's type can change after (a workspace field shadowing a global one, then deleted),
/// so a `javascript:` text must never reach an `href` however it was stored.
fn web_link(stored: &str) -> Option<String> {
    let url = url::Url::parse(stored).ok()?;
    matches!(url.scheme(), "http" | "https").then(|| url.to_string())
}

/// The contact's custom values split into those with a definition and orphans.
pub fn custom_values(contact: &ContactRecord, fields: &FieldSet) -> (Vec<FieldDisplay>, Vec<(String, String)>) {
    let mut shown = Vec::new();
    for def in &fields.0 {
        if let Some(v) = contact.custom.get(&def.field_name) {
            shown.push(display_value(def, v));
        }
    }
    let orphans = contact
        .custom
        .iter()
        .filter(|(k, _)| fields.get(k).is_none())
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    (shown, orphans)
}

/// A row of the contact list.
pub struct ContactRow {
    pub id: String,
    pub name: String,
    pub email: String,
    pub phone: String,
    pub company: String,
    pub stage: String,
    pub columns: Vec<String>,
    /// Replies from the contact nobody has seen yet.
    pub new_replies: i64,
}

pub fn row(c: &ContactRecord, columns: &[&FieldDefinition]) -> ContactRow {
    ContactRow {
        id: c.id.clone(),
        name: c.display_name(),
        email: c.base.primary_email.clone().unwrap_or_default(),
        phone: c.base.primary_phone.as_deref().map(phone::display).unwrap_or_default(),
        company: c.base.company.clone().unwrap_or_default(),
        stage: c.stage().map(|l| l.name.clone()).unwrap_or_default(),
        new_replies: 0,
        columns: columns
            .iter()
            .map(|d| {
                c.custom
                    .get(&d.field_name)
                    .map(|v| crate::domain::field::readable(d.field_type, v))
                    .unwrap_or_default()
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_web_addresses_become_links_whatever_was_stored() {
        assert_eq!(
            web_link("https://example.com/a?b=1").as_deref(),
            Some("https://example.com/a?b=1")
        );
        assert_eq!(web_link("http://example.com").as_deref(), Some("http://example.com/"));
        for hostile in [
            "javascript:alert(1)",
            "JavaScript:alert(1)",
            " javascript:alert(1)",
            "data:text/html,<b>",
            "vbscript:x",
            "//evil.example",
            "not a url",
        ] {
            assert_eq!(web_link(hostile), None, "{hostile}");
        }
    }
}
