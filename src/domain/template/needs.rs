//! The custom fields a shared template names that the workspace it is copied into lacks. A
//! template from Monalisa that says `{{ custom.closing_date }}` cannot be copied into a
//! workspace without that field; rather than a dead end, pi-crm offers to make the fields there
//! as the sharer has them (same name, label, type, choices, tracking and follow-up), read
//! through the share — nothing else of her workspace is visible.

use std::collections::BTreeSet;

use super::Template;
use super::render::Compiled;
use crate::domain::actor::Actor;
use crate::domain::field::{FieldType, parse_field_name};
use crate::domain::field_definition::{self, FieldDefinition, FieldSet};
use crate::domain::ids::{FieldDefinitionId, TemplateId};
use crate::domain::workspace::WorkspaceAccess;
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use crate::storage;

/// The definitions to make in `target` for `original` (shared with the caller) to work there,
/// in the order the template names them; empty when it already works.
pub async fn fields_to_make(
    state: &AppState,
    actor: &Actor,
    original: &Template,
    target: &WorkspaceAccess,
) -> AppResult<Vec<FieldDefinition>> {
    let compiled = Compiled::new(&original.source()).map_err(AppError::InvalidMany)?;
    let have: BTreeSet<String> = field_definition::applicable(&state.db, target)
        .await?
        .0
        .into_iter()
        .map(|d| d.field_name)
        .collect();
    let missing = compiled.missing_custom_fields(&have);
    if missing.is_empty() {
        return Ok(Vec::new());
    }
    let id = TemplateId::found(&original.id)?;
    let theirs = FieldSet(storage::fields::applicable_through_share(&state.db, &actor.user_id, &id).await?);
    missing
        .iter()
        .map(|name| like_theirs(name, theirs.get(name), target))
        .collect()
}

/// A new workspace field named `name`, modelled on the sharer's definition when there is one
/// (a template may name a field its own workspace lacks too: then plain text).
fn like_theirs(name: &str, theirs: Option<&FieldDefinition>, target: &WorkspaceAccess) -> AppResult<FieldDefinition> {
    let field_name = parse_field_name(name)?;
    Ok(FieldDefinition {
        id: FieldDefinitionId::generate().to_string(),
        workspace_id: Some(target.id().to_string()),
        label: theirs.map_or_else(|| field_definition::humanise(&field_name), |d| d.label.clone()),
        field_name,
        field_type: theirs.map_or(FieldType::Text, |d| d.field_type),
        is_required: false,
        default_value: None,
        options: theirs.map(|d| d.options.clone()).unwrap_or_default(),
        is_tracked: theirs.is_some_and(|d| d.is_tracked),
        is_follow_up: theirs.is_some_and(|d| d.is_follow_up),
    })
}

/// "Loan amount (Number), Closing date (Date)": the fields, as the offer names them.
pub fn describe(fields: &[FieldDefinition]) -> String {
    fields
        .iter()
        .map(|d| format!("{} ({})", d.label, d.field_type.label()))
        .collect::<Vec<_>>()
        .join(", ")
}
