//! Custom field definitions, and lists (tags and pipeline stages).

use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use super::enums::FieldType;
use crate::domain::{field_definition, list};

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FieldDefinition {
    pub id: String,
    /// `null`: user-global.
    pub workspace_id: Option<String>,
    pub field_name: String,
    pub label: String,
    pub field_type: FieldType,
    pub is_required: bool,
    pub default_value: Option<String>,
    pub options: Vec<String>,
    /// Changes to this field are logged on the contact's timeline.
    pub is_tracked: bool,
    /// A `date`/`datetime` whose values are due dates (the dashboard's follow-ups).
    pub is_follow_up: bool,
}

impl From<field_definition::FieldDefinition> for FieldDefinition {
    fn from(d: field_definition::FieldDefinition) -> Self {
        FieldDefinition {
            id: d.id,
            workspace_id: d.workspace_id,
            field_name: d.field_name,
            label: d.label,
            field_type: d.field_type.into(),
            is_required: d.is_required,
            default_value: d.default_value,
            options: d.options,
            is_tracked: d.is_tracked,
            is_follow_up: d.is_follow_up,
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct DefinitionInput {
    /// Lower-case letters, digits and underscores, starting with a letter; not a base field.
    #[schema(pattern = "^[a-z][a-z0-9_]{0,63}$")]
    pub field_name: Option<String>,
    pub label: Option<String>,
    #[schema(value_type = Option<FieldType>)]
    pub field_type: Option<String>,
    pub is_required: Option<bool>,
    /// JSON `null` clears it.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<Object>)]
    pub default_value: Option<Value>,
    pub options: Option<Vec<String>>,
    pub is_tracked: Option<bool>,
    /// Only for `date` and `datetime` fields.
    pub is_follow_up: Option<bool>,
}

/// A key that is there, even as `null` (`Some(Value::Null)`: clear it), unlike one left out.
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(d).map(Some)
}

impl From<DefinitionInput> for field_definition::DefinitionInput {
    fn from(i: DefinitionInput) -> Self {
        field_definition::DefinitionInput {
            field_name: i.field_name,
            label: i.label,
            field_type: i.field_type,
            is_required: i.is_required,
            default_value: i.default_value,
            options: i.options,
            is_tracked: i.is_tracked,
            is_follow_up: i.is_follow_up,
        }
    }
}

/// A tag, or (`is_primary`) a pipeline stage.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ContactList {
    pub id: String,
    pub name: String,
    pub is_primary: bool,
    /// Order of stages on the pipeline board.
    pub position: i64,
}

impl From<list::ContactList> for ContactList {
    fn from(l: list::ContactList) -> Self {
        ContactList {
            id: l.id,
            name: l.name,
            is_primary: l.is_primary,
            position: l.position,
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct ListInput {
    /// 1 to 80 characters, no control characters.
    #[schema(
        max_length = 80,
        pattern = "^[^\\x00-\\x1f\\x7f-\\x9f]*[^\\s\\x00-\\x1f\\x7f-\\x9f][^\\x00-\\x1f\\x7f-\\x9f]*$"
    )]
    pub name: Option<String>,
    pub is_primary: Option<bool>,
    pub position: Option<i64>,
}

impl From<ListInput> for list::ListInput {
    fn from(i: ListInput) -> Self {
        list::ListInput {
            name: i.name,
            is_primary: i.is_primary,
            position: i.position,
        }
    }
}
