//! Who a campaign goes to: contacts in any of some lists, in none of others, matching
//! custom-field conditions with the contact search's operators (SPEC §10). An empty segment
//! is every contact of the workspace.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::domain::field_definition::FieldSet;
use crate::domain::ids::ListId;
use crate::domain::list;
use crate::domain::search;
use crate::domain::workspace::WorkspaceAccess;
use crate::error::{AppError, AppResult, Invalids};
pub use crate::model::query::SegmentQuery;
use crate::state::AppState;
use crate::storage;

const MAX_LISTS: usize = 50;
const MAX_CONDITIONS: usize = 10;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Segment {
    #[serde(default)]
    pub lists_any: Vec<String>,
    #[serde(default)]
    pub lists_none: Vec<String>,
    #[serde(default)]
    pub conditions: Vec<Condition>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Condition {
    /// A custom field's name.
    pub field: String,
    /// `eq` (the default), `ne`, `gt`, `gte`, `lt`, `lte` or `contains`.
    #[serde(default = "eq")]
    pub op: String,
    pub value: Value,
}

fn eq() -> String {
    "eq".into()
}

impl Condition {
    fn value_text(&self) -> String {
        match &self.value {
            Value::String(s) => s.clone(),
            Value::Null => String::new(),
            other => other.to_string(),
        }
    }
}

/// Checks every list and condition (all mistakes at once) and trims what was given.
pub async fn check(state: &AppState, ws: &WorkspaceAccess, fields: &FieldSet, segment: &Segment) -> AppResult<Segment> {
    query(state, ws, fields, segment).await?;
    let clean = |ids: &[String]| ids.iter().map(|i| i.trim().to_string()).collect::<Vec<_>>();
    Ok(Segment {
        lists_any: clean(&segment.lists_any),
        lists_none: clean(&segment.lists_none),
        conditions: segment
            .conditions
            .iter()
            .map(|c| Condition {
                field: c.field.trim().to_string(),
                op: c.op.trim().to_string(),
                value: Value::String(c.value_text().trim().to_string()),
            })
            .collect(),
    })
}

/// The segment as a query; a list of another workspace, an unknown field or a value the
/// field cannot hold is a 422 naming its place.
pub async fn query(
    state: &AppState,
    ws: &WorkspaceAccess,
    fields: &FieldSet,
    segment: &Segment,
) -> AppResult<SegmentQuery> {
    let mut bad = Invalids::default();
    let mut out = SegmentQuery::default();
    if segment.lists_any.len() + segment.lists_none.len() > MAX_LISTS {
        return Err(AppError::invalid("segment", format!("at most {MAX_LISTS} lists")));
    }
    if segment.conditions.len() > MAX_CONDITIONS {
        return Err(AppError::invalid(
            "segment.conditions",
            format!("at most {MAX_CONDITIONS} conditions"),
        ));
    }
    for (name, ids, into) in [
        ("lists_any", &segment.lists_any, &mut out.lists_any),
        ("lists_none", &segment.lists_none, &mut out.lists_none),
    ] {
        for (i, id) in ids.iter().enumerate() {
            let field = format!("segment.{name}[{i}]");
            let found = match ListId::parse(id.trim()) {
                Some(id) => list::find(&state.db, ws, &id).await.ok().map(|_| id),
                None => None,
            };
            match found {
                Some(id) => into.push(id),
                None => {
                    bad.check::<()>(Err(AppError::invalid(
                        &field,
                        "there is no such list in this workspace",
                    )))?;
                }
            }
        }
    }
    for (i, c) in segment.conditions.iter().enumerate() {
        let field = format!("segment.conditions[{i}]");
        let parsed = search::condition(
            &c.field,
            &c.op,
            &c.value_text(),
            fields,
            &state.config.default_phone_region,
        )
        .map_err(|e| match e {
            AppError::Invalid { message, .. } => AppError::invalid(&field, message),
            other => other,
        });
        if let Some(f) = bad.check(parsed)? {
            out.filters.push(f);
        }
    }
    bad.finish()?;
    Ok(out)
}

/// How many contacts a segment reaches on a channel, and who of them will be skipped.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Audience {
    pub contacts: i64,
    pub no_address: i64,
    pub suppressed: i64,
    /// The ones a message will go to.
    pub reachable: i64,
}

pub async fn audience(state: &AppState, ws: &WorkspaceAccess, q: &SegmentQuery, channel: &str) -> AppResult<Audience> {
    let (contacts, no_address, suppressed) = storage::segments::audience(&state.db, ws, q, channel).await?;
    Ok(Audience {
        contacts,
        no_address,
        suppressed,
        reachable: contacts - no_address - suppressed,
    })
}

/// The segment in words, for the campaign page and the reviewer ("In Lead or Application;
/// not in Closed; loan_amount ≥ 250000").
pub async fn describe(state: &AppState, ws: &WorkspaceAccess, segment: &Segment) -> AppResult<Vec<String>> {
    let lists = storage::lists::all(&state.db, ws).await?;
    let name_of = |id: &String| {
        lists
            .iter()
            .find(|l| &l.id == id)
            .map(|l| l.name.clone())
            .unwrap_or_else(|| "a deleted list".into())
    };
    let mut out = Vec::new();
    if !segment.lists_any.is_empty() {
        let names: Vec<String> = segment.lists_any.iter().map(name_of).collect();
        out.push(format!("In {}", names.join(" or ")));
    }
    if !segment.lists_none.is_empty() {
        let names: Vec<String> = segment.lists_none.iter().map(name_of).collect();
        out.push(format!("Not in {}", names.join(" or ")));
    }
    for c in &segment.conditions {
        let op = match c.op.as_str() {
            "ne" => "is not",
            "gt" => ">",
            "gte" => "≥",
            "lt" => "<",
            "lte" => "≤",
            "contains" => "contains",
            _ => "is",
        };
        out.push(format!("{} {op} {}", c.field, c.value_text()));
    }
    if out.is_empty() {
        out.push("Every contact in the workspace".into());
    }
    Ok(out)
}
