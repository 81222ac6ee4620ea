//! Field errors for re-rendered forms: the domain's `Invalid{field}` lands beside its input.

use std::collections::HashMap;

use serde::{Deserialize, Deserializer};

use crate::error::AppError;

/// An HTML checkbox: sent (with any value) when ticked, absent when not; pair with
/// `#[serde(default)]`.
pub fn checkbox<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    String::deserialize(d).map(|_| true)
}

/// A form whose names are data (custom fields, `prefer.<field>`, `t.<column>`), read in order
/// with repeated names kept; the CSRF token, checked by the layer, is left out.
#[derive(Debug, Default)]
pub struct Pairs(pub Vec<(String, String)>);

impl<'de> Deserialize<'de> for Pairs {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let all = Vec::<(String, String)>::deserialize(d)?;
        Ok(Pairs(all.into_iter().filter(|(k, _)| k != "csrf_token").collect()))
    }
}

impl Pairs {
    /// The first value sent under `name`, or "".
    pub fn first(&self, name: &str) -> &str {
        self.0.iter().find(|(k, _)| k == name).map_or("", |(_, v)| v.as_str())
    }
}

#[derive(Debug, Default)]
pub struct FormErrors {
    fields: HashMap<String, String>,
    general: Option<String>,
}

impl FormErrors {
    pub fn none() -> FormErrors {
        FormErrors::default()
    }

    pub fn general_message(message: impl Into<String>) -> FormErrors {
        FormErrors {
            general: Some(message.into()),
            ..FormErrors::default()
        }
    }

    pub fn field(field: &str, message: impl Into<String>) -> FormErrors {
        let mut fields = HashMap::new();
        fields.insert(field.to_string(), message.into());
        FormErrors { fields, general: None }
    }

    /// Splits an error into what a form can show. Anything that is not a user's mistake
    /// (internal, not found, forbidden…) is returned for the error page instead.
    pub fn from_error(e: AppError) -> Result<FormErrors, AppError> {
        match e {
            AppError::Invalid { field, message } => Ok(FormErrors::field(&field, message)),
            AppError::InvalidMany(all) => {
                let mut errors = FormErrors::none();
                for (field, message) in all {
                    errors.fields.entry(field).or_insert(message);
                }
                Ok(errors)
            }
            AppError::Conflict { message, .. } | AppError::Refused { message, .. } => {
                Ok(FormErrors::general_message(message))
            }
            other => Err(other),
        }
    }

    /// The same errors with each field named `prefix` + name: for a page with two forms
    /// that share an input name (the note's and the message's `body`).
    pub fn prefixed(self, prefix: &str) -> FormErrors {
        FormErrors {
            fields: self
                .fields
                .into_iter()
                .map(|(k, v)| (format!("{prefix}{k}"), v))
                .collect(),
            general: self.general,
        }
    }

    /// Like `from_error`, but a conflict is shown on `field`.
    pub fn from_error_on(e: AppError, conflict_field: &str) -> Result<FormErrors, AppError> {
        match e {
            AppError::Conflict { message, .. } => Ok(FormErrors::field(conflict_field, message)),
            other => FormErrors::from_error(other),
        }
    }

    pub fn get(&self, field: &str) -> Option<&str> {
        self.fields.get(field).map(String::as_str)
    }

    pub fn has(&self, field: &str) -> bool {
        self.fields.contains_key(field)
    }

    /// A message that belongs to no single field, or a field message whose form has no such input.
    pub fn general(&self) -> Option<&str> {
        self.general.as_deref()
    }

    pub fn is_empty(&self) -> bool {
        self.fields.is_empty() && self.general.is_none()
    }

    /// Every field message, by field name: for a form that lists them above itself.
    pub fn all(&self) -> Vec<(String, String)> {
        let mut all: Vec<(String, String)> = self.fields.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        all.sort();
        all
    }
}
