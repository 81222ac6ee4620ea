//! Merging two contacts into one, and finding the pairs that may be the same person.
//! A merge is one transaction: the survivor takes the union of custom fields (the caller says
//! which side wins each conflict), the other's lists and timeline, and the other is deleted.

use std::collections::{BTreeMap, HashMap};

use sqlx::SqlitePool;

use super::actor::{Actor, Scope};
use super::contact::{self, ContactRecord};
use super::field::BASE_FIELDS;
use super::ids::ContactId;
use super::page::{Page, PageRequest, PageSpec};
use super::workspace::WorkspaceAccess;
use super::{audit, comms};
use crate::error::{AppError, AppResult};
use crate::storage;
use crate::storage::contacts::Values;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    This,
    Other,
}

#[derive(Debug, Clone)]
pub struct MergeInput {
    pub other_id: String,
    /// For each field where both have different values: `This` (the default) or `Other`.
    pub prefer: BTreeMap<String, Side>,
}

pub async fn merge(
    db: &SqlitePool,
    actor: &Actor,
    ws: &WorkspaceAccess,
    this_id: &ContactId,
    input: MergeInput,
) -> AppResult<ContactRecord> {
    actor.require(Scope::WriteContacts)?;
    ws.require_editor()?;
    // Both contacts are read under the write lock the merge then writes with, so an edit
    // made meanwhile is either merged or waits; it is never overwritten by a stale copy.
    let mut tx = storage::db::begin_write(db).await?;
    let this = storage::contacts::load(&mut *tx, ws, this_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let no_other = || AppError::invalid("other_id", "no such contact in this workspace");
    let other_id = ContactId::parse(input.other_id.trim()).ok_or_else(no_other)?;
    let other = storage::contacts::load(&mut *tx, ws, &other_id)
        .await?
        .ok_or_else(no_other)?;
    if this.id == other.id {
        return Err(AppError::invalid("other_id", "a contact cannot be merged with itself"));
    }
    let known: Vec<&str> = BASE_FIELDS
        .iter()
        .copied()
        .chain(this.custom.keys().map(String::as_str))
        .chain(other.custom.keys().map(String::as_str))
        .collect();
    if let Some(unknown) = input.prefer.keys().find(|k| !known.contains(&k.as_str())) {
        return Err(AppError::invalid(
            "prefer",
            format!("neither contact has a field named {unknown}"),
        ));
    }
    let prefer = |name: &str| input.prefer.get(name).copied().unwrap_or(Side::This);

    let mut merged = this.clone();
    for name in BASE_FIELDS {
        let chosen = match (this.base.get(name), other.base.get(name)) {
            (Some(a), Some(b)) => Some(if prefer(name) == Side::Other { b } else { a }),
            (a, b) => a.or(b),
        };
        merged.base.set(name, chosen.cloned());
    }
    for (name, value) in &other.custom {
        if !this.custom.contains_key(name) || prefer(name) == Side::Other {
            merged.custom.insert(name.clone(), value.clone());
        }
    }

    // The other contact's history and lists move first; deleting it then frees its email and
    // phone for the survivor.
    storage::comms::reassign(&mut tx, ws, &other_id, this_id).await?;
    let this_stage = storage::lists::stage_of(&mut tx, ws, this_id).await?;
    for list in &other.lists {
        let take_stage = list.is_primary && (this_stage.is_none() || prefer("stage") == Side::Other);
        if !list.is_primary || take_stage {
            if list.is_primary {
                storage::lists::leave_stage(&mut tx, ws, this_id).await?;
            }
            storage::lists::assign(&mut tx, ws, this_id, list).await?;
        }
    }
    storage::contacts::delete(&mut tx, ws, &other_id).await?;
    storage::contacts::update_base(&mut tx, ws, &merged).await?;
    for (name, value) in &merged.custom {
        if this.custom.get(name) != Some(value) {
            storage::contacts::set_value(&mut tx, ws, this_id, name, value).await?;
        }
    }
    let content = serde_json::json!({
        "event": "merge",
        "message": format!("Merged with {}", other.display_name()),
        "merged_contact": {
            "id": other.id,
            "first_name": other.base.first_name, "last_name": other.base.last_name,
            "primary_email": other.base.primary_email, "primary_phone": other.base.primary_phone,
            "company": other.base.company, "custom_fields": other.custom,
        },
    });
    storage::contacts::refresh_search(&mut tx, ws, &this.id).await?;
    comms::record(&mut tx, actor, ws, this_id, comms::Kind::System, content, None).await?;
    audit::in_workspace(&mut tx, actor, ws.id(), "contact.merge", "contact", &this.id).await?;
    audit::in_workspace(&mut tx, actor, ws.id(), "contact.delete", "contact", &other.id).await?;
    tx.commit().await?;
    contact::get(db, actor, ws, this_id).await
}

/// Two contacts that may be one person, and why.
#[derive(Debug, Clone)]
pub struct PossibleDuplicate {
    pub reason: String,
    pub a: ContactRecord,
    pub b: ContactRecord,
}

/// A page of pairs sharing a name and company, or where one's email or phone is the other's
/// custom email or phone value. The cursor is the last pair seen, `<a>_<b>`.
pub async fn possible_duplicates(
    state: &crate::state::AppState,
    actor: &Actor,
    ws: &WorkspaceAccess,
    request: &PageRequest,
) -> AppResult<Page<PossibleDuplicate>> {
    actor.require(Scope::ReadContacts)?;
    let spec = PageSpec {
        limit: request.limit()?,
        after: None,
    };
    let after = match request.cursor.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(c) => Some(
            c.split_once('_')
                .and_then(|(a, b)| Some((ContactId::parse(a)?, ContactId::parse(b)?)))
                .ok_or_else(|| AppError::invalid("cursor", "this cursor is not valid"))?,
        ),
    };
    let after = after.as_ref().map(|(a, b)| (a.as_str(), b.as_str()));
    // A page's pairs are kept until the next write to the database: the query walks every
    // contact's name once (about 0.1 s at 100k contacts), and people page back and forth.
    let db = &state.db;
    let key = format!(
        "duplicates:{}:{}:{}",
        ws.id(),
        after.map(|(a, b)| format!("{a}_{b}")).unwrap_or_default(),
        spec.fetch()
    );
    let pairs: Vec<(String, String, String)> = state
        .stats
        .get_or(db, key, || async {
            Ok(storage::duplicates::pairs(db, ws, after, spec.fetch()).await?)
        })
        .await?;
    // The page's contacts in one statement: a hundred loads, one round trip each to the
    // connection's thread, were most of a kept page's time (4.1–4.6 ms, now 0.7–1.1 ms).
    let mut ids: Vec<String> = pairs.iter().flat_map(|(a, b, _)| [a.clone(), b.clone()]).collect();
    ids.sort_unstable();
    ids.dedup();
    let found: HashMap<String, ContactRecord> = storage::contacts::load_many(db, ws, &ids, Values::All)
        .await?
        .into_iter()
        .map(|c| (c.id.clone(), c))
        .collect();
    let mut out = Vec::with_capacity(pairs.len());
    for (a, b, reason) in pairs {
        // A contact in two pairs of the page is in both (a chain: A-B, B-C).
        if let (Some(a), Some(b)) = (found.get(&a).cloned(), found.get(&b).cloned()) {
            out.push(PossibleDuplicate { reason, a, b });
        }
    }
    Ok(Page::from_rows(out, &spec, |p| format!("{}_{}", p.a.id, p.b.id)))
}
