//! A contact, its input, a merge, and its timeline's entries.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

use super::enums::Side;
use crate::domain::{comms, contact, field, field_definition::FieldSet, merge};

/// A contact as SPEC §6 shows it: custom values keep their type (numbers, booleans, JSON).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Contact {
    pub id: String,
    pub workspace_id: String,
    pub created_on: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub primary_email: Option<String>,
    pub primary_phone: Option<String>,
    pub company: Option<String>,
    #[schema(value_type = Object)]
    pub custom_fields: Map<String, Value>,
    pub lists: Vec<ListRef>,
}

/// A list the contact is on; `is_primary` marks a pipeline stage.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ListRef {
    pub id: String,
    pub name: String,
    pub is_primary: bool,
}

impl Contact {
    /// The record as the API shows it, its custom values typed by the workspace's `fields`.
    pub fn new(record: contact::ContactRecord, fields: &FieldSet) -> Contact {
        let base = record.base;
        Contact {
            id: record.id,
            workspace_id: record.workspace_id,
            created_on: record.created_on,
            first_name: base.first_name,
            last_name: base.last_name,
            primary_email: base.primary_email,
            primary_phone: base.primary_phone,
            company: base.company,
            custom_fields: record
                .custom
                .iter()
                .map(|(k, v)| (k.clone(), field::to_json(fields.type_of(k), v)))
                .collect(),
            lists: record
                .lists
                .into_iter()
                .map(|l| ListRef {
                    id: l.id,
                    name: l.name,
                    is_primary: l.is_primary,
                })
                .collect(),
        }
    }
}

/// Input for create and update. For update, an absent base field is left alone and `null`
/// (or "") clears it; in `custom_fields`, `null` removes a value (orphans included).
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContactInput {
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub first_name: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub last_name: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub primary_email: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub primary_phone: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub company: Option<Option<String>>,
    #[serde(default)]
    #[schema(value_type = Object)]
    pub custom_fields: Map<String, Value>,
}

/// A field that may be absent (`None`: leave it), `null` (`Some(None)`: clear it) or a value.
pub fn nullable<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

impl From<ContactInput> for contact::ContactInput {
    fn from(i: ContactInput) -> Self {
        contact::ContactInput {
            first_name: i.first_name,
            last_name: i.last_name,
            primary_email: i.primary_email,
            primary_phone: i.primary_phone,
            company: i.company,
            custom_fields: i.custom_fields,
        }
    }
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct MergeInput {
    pub other_id: String,
    /// For each field where both have different values: `this` (the default) or `other`.
    #[serde(default)]
    pub prefer: BTreeMap<String, Side>,
}

impl From<MergeInput> for merge::MergeInput {
    fn from(i: MergeInput) -> Self {
        merge::MergeInput {
            other_id: i.other_id,
            prefer: i.prefer.into_iter().map(|(k, side)| (k, side.into())).collect(),
        }
    }
}

/// An entry on a contact's timeline.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Communication {
    pub id: String,
    pub contact_id: String,
    #[serde(rename = "type")]
    pub kind: String,
    #[schema(value_type = Object)]
    pub content: Value,
    pub status: Option<String>,
    pub timestamp: String,
    pub pinned: bool,
    /// Who wrote it (their name); `null` for pi-crm itself or a removed account.
    pub author: Option<String>,
}

impl From<comms::Communication> for Communication {
    fn from(c: comms::Communication) -> Self {
        Communication {
            id: c.id,
            contact_id: c.contact_id,
            kind: c.kind,
            content: c.content,
            status: c.status,
            timestamp: c.timestamp,
            pinned: c.pinned,
            author: c.author,
        }
    }
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct CommunicationInput {
    #[serde(rename = "type")]
    #[schema(pattern = "^(email|text|call|ai|stage_change|note|system)$")]
    pub kind: String,
    /// A JSON object; notes and calls need a non-empty `body`.
    #[schema(value_type = Object)]
    pub content: Value,
    pub status: Option<String>,
    #[serde(default)]
    pub pinned: bool,
}

impl From<CommunicationInput> for comms::CommunicationInput {
    fn from(i: CommunicationInput) -> Self {
        comms::CommunicationInput {
            kind: i.kind,
            content: i.content,
            status: i.status,
            pinned: i.pinned,
        }
    }
}
