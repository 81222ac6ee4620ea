//! The API's JSON shapes: what `/api/v1` reads and answers, and what the OpenAPI document
//! describes. The domain's types stay plain Rust (some keep serde for what they store); each
//! shape here is made from a domain value (`From`) or made into one, so the wire format is
//! written down once, in this module, and a domain change the API would show does not compile
//! until its shape here says how it looks.

#[macro_use]
mod macros;

pub mod account;
pub mod ai;
pub mod campaigns;
pub mod contacts;
pub mod enums;
pub mod fields;
pub mod ids;
pub mod imports;
pub mod insights;
pub mod messaging;
pub mod templates;

/// `items` converted one by one: a list answer from the domain's values.
pub fn all<T, S: From<T>>(items: Vec<T>) -> Vec<S> {
    items.into_iter().map(S::from).collect()
}

/// The same, for an optional value.
pub fn opt<T, S: From<T>>(value: Option<T>) -> Option<S> {
    value.map(S::from)
}
