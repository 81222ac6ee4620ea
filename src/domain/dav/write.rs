//! A phone's writes: `PUT` of a card (new or changed) and `DELETE`, with the ETag preconditions
//! of RFC 7232 (a stale `If-Match` is 412, so an edit made on two sides is never overwritten
//! unseen). A card's values go through the same checks as every other face; a value pi-crm
//! cannot take (an email another contact has, a date that is no date) is kept as the line the
//! phone sent, never dropped. Each change is on the contact's timeline and in the audit log,
//! naming the phone.

use serde_json::{Map, Value, json};
use sqlx::{SqliteConnection, SqlitePool};

use super::card::{self, PhoneCard};
use super::found;
use crate::domain::actor::{Actor, Scope};
use crate::domain::comms;
use crate::domain::contact::{self, ContactInput, ContactRecord};
use crate::domain::field_definition::{self, FieldSet};
use crate::domain::ids::ContactId;
use crate::domain::list::{self, ContactList};
use crate::domain::workspace::WorkspaceAccess;
use crate::error::{AppError, AppResult};
use crate::storage;
use crate::storage::dav::Kept;

/// The preconditions a request carries.
#[derive(Debug, Default, Clone)]
pub struct Preconditions {
    /// `If-Match`: the ETags the client last saw (`*`: any existing card).
    pub if_match: Option<String>,
    /// `If-None-Match: *`: only create, never replace.
    pub if_none_match: Option<String>,
}

impl Preconditions {
    fn check(&self, current: Option<&str>) -> AppResult<()> {
        let listed = |header: &str, etag: &str| header.split(',').map(str::trim).any(|t| t == "*" || t == etag);
        if let Some(wanted) = &self.if_match
            && !current.is_some_and(|etag| listed(wanted, etag))
        {
            return Err(AppError::PreconditionFailed(
                "the card changed since you read it (If-Match); fetch it again".into(),
            ));
        }
        if let (Some(none), Some(etag)) = (&self.if_none_match, current)
            && listed(none, etag)
        {
            return Err(AppError::PreconditionFailed(
                "a card with this name exists already (If-None-Match)".into(),
            ));
        }
        Ok(())
    }
}

/// What a `PUT` did: the card's new ETag, and whether it made a new contact.
pub struct Stored {
    pub etag: String,
    pub created: bool,
}

/// The checks on a resource name a phone chose: a file name within the address book.
pub fn check_name(name: &str) -> AppResult<()> {
    let ok = !name.is_empty()
        && name.len() <= 200
        && !name.starts_with('.')
        && name.chars().all(|c| !c.is_control() && c != '/' && c != '\\');
    if ok {
        Ok(())
    } else {
        Err(AppError::BadRequest(
            "a card's name is 1 to 200 characters, without slashes".into(),
        ))
    }
}

/// Stores a phone's card at `name`: a new contact, or the one already there.
pub async fn put(
    db: &SqlitePool,
    actor: &Actor,
    ws: &WorkspaceAccess,
    region: &str,
    name: &str,
    body: &str,
    pre: &Preconditions,
) -> AppResult<Stored> {
    actor.require(Scope::Dav)?;
    ws.require_editor()?;
    check_name(name)?;
    let existing = found(db, ws, name).await?;
    pre.check(existing.as_ref().map(|f| f.etag.as_str()))?;
    let fields = match &existing {
        Some(f) => f.fields.clone(),
        None => field_definition::applicable(db, ws).await?,
    };
    let mut phone = card::parse(body, &fields)?;
    let before = existing.as_ref().map(|f| &f.contact);
    let (input, refused) = input_of(db, ws, region, &mut phone, &fields, before).await?;
    phone.extra.extend(refused);
    let kept = Kept {
        name: existing
            .as_ref()
            .and_then(|f| f.kept.as_ref().map(|k| k.name.clone()))
            .unwrap_or_else(|| name.to_string()),
        // A UID that is the contact's id is what pi-crm serves anyway: nothing to keep.
        uid: phone.uid.clone().filter(|u| Some(u) != before.map(|c| &c.id)),
        extra: Some(phone.extra.join("\n")).filter(|e| !e.is_empty()),
    };
    let device = actor.device().unwrap_or("a phone").to_string();
    // Every check before the write lock is taken.
    enum Change {
        Create(Box<ContactRecord>),
        Update(Box<contact::CheckedUpdate>),
    }
    let change = match before {
        None => Change::Create(Box::new(contact::check_create(db, actor, ws, region, input).await?)),
        Some(before) => {
            let id = ContactId::parse(&before.id).ok_or(AppError::NotFound)?;
            Change::Update(Box::new(
                contact::check_update(db, actor, ws, region, &id, input).await?,
            ))
        }
    };
    let kept_changed = existing.as_ref().is_none_or(|f| {
        let old = f.kept.clone().unwrap_or_default();
        (old.uid, old.extra) != (kept.uid.clone(), kept.extra.clone())
    });
    let before_lists = before.map(|c| c.lists.clone()).unwrap_or_default();
    let mut tx = storage::db::begin_write(db).await?;
    let (id, mut changed) = match &change {
        Change::Create(record) => {
            contact::insert_checked(&mut tx, actor, ws, record).await?;
            (record.id.clone(), true)
        }
        Change::Update(checked) => {
            let changed = checked.record.base != checked.before.base || !checked.changed.is_empty();
            if changed {
                contact::write_update(&mut tx, actor, ws, checked).await?;
            }
            (checked.record.id.clone(), changed)
        }
    };
    let contact_id = ContactId::parse(&id).ok_or(AppError::NotFound)?;
    if let Some(names) = &phone.categories {
        changed |= set_lists(&mut tx, actor, ws, &contact_id, names, &before_lists).await?;
    }
    if changed || kept_changed {
        storage::dav::keep(&mut tx, ws, &contact_id, &kept).await?;
        storage::dav::note_change(&mut tx, ws, &contact_id).await?;
        let message = if existing.is_none() {
            format!("Added from {device} (CardDAV)")
        } else {
            format!("Changed from {device} (CardDAV)")
        };
        let content = json!({"event": "carddav", "message": message, "device": device});
        comms::record(&mut tx, actor, ws, &contact_id, comms::Kind::System, content, None).await?;
    }
    tx.commit().await?;
    let etag = found(db, ws, name).await?.ok_or(AppError::NotFound)?.etag;
    Ok(Stored {
        etag,
        created: existing.is_none(),
    })
}

/// The contact input a card stands for, and the lines whose values pi-crm refused (kept as
/// they came). Base fields are all set (absent clears them); custom fields the card shows as
/// standard properties follow the card; `X-PICRM-…` fields a card lacks are left alone, since
/// a phone that dropped them could not have meant to clear them.
async fn input_of(
    db: &SqlitePool,
    ws: &WorkspaceAccess,
    region: &str,
    phone: &mut PhoneCard,
    fields: &FieldSet,
    existing: Option<&ContactRecord>,
) -> AppResult<(ContactInput, Vec<String>)> {
    let this = existing.map(|c| c.id.as_str());
    let mut refused = Vec::new();
    let mut input = ContactInput {
        first_name: Some(phone.first_name.clone().map(|n| clip(&n, 100))),
        last_name: Some(phone.last_name.clone().map(|n| clip(&n, 100))),
        company: Some(phone.company.clone().map(|n| clip(&n, 200))),
        ..ContactInput::default()
    };
    // The first candidate that reads and is nobody else's; the others are kept.
    let mut email = None;
    for (value, line) in std::mem::take(&mut phone.emails) {
        let usable = email.is_none()
            && contact::parse_base("primary_email", &value, region).is_ok()
            && !taken_by_another(db, ws, &value, this).await?;
        if usable {
            email = Some(value);
        } else {
            refused.push(line);
        }
    }
    let mut number = None;
    for (value, line) in std::mem::take(&mut phone.phones) {
        if number.is_none() && contact::parse_base("primary_phone", &value, region).is_ok() {
            number = Some(value);
        } else {
            refused.push(line);
        }
    }
    input.primary_email = Some(email);
    input.primary_phone = Some(number);
    let mut custom = Map::new();
    for (name, (value, line)) in std::mem::take(&mut phone.custom) {
        let Some(def) = fields.get(&name) else {
            refused.push(line);
            continue;
        };
        match def.spec(region).parse_json(&Value::String(value.clone())) {
            Ok(_) => {
                custom.insert(name, Value::String(value));
            }
            Err(_) => refused.push(line),
        }
    }
    if let Some(before) = existing {
        for name in PhoneCard::standard_fields(fields) {
            if before.custom.contains_key(&name) && !custom.contains_key(&name) {
                custom.insert(name, Value::Null);
            }
        }
    }
    input.custom_fields = custom;
    Ok((input, refused))
}

fn clip(text: &str, max: usize) -> String {
    text.chars().filter(|c| !c.is_control()).take(max).collect()
}

async fn taken_by_another(db: &SqlitePool, ws: &WorkspaceAccess, email: &str, this: Option<&str>) -> AppResult<bool> {
    let mut conn = db.acquire().await?;
    let lower = email.trim().to_lowercase();
    let holder = storage::contacts::id_by_email(&mut conn, ws, &lower, storage::contacts::Seen::WithImports).await?;
    Ok(holder.is_some_and(|h| Some(h.as_str()) != this))
}

/// Makes the contact's tags the card's categories: tags named are joined (made when new), tags
/// not named are left. A stage named moves the contact there; a stage is never left because a
/// phone did not name it. True when anything changed.
async fn set_lists(
    conn: &mut SqliteConnection,
    actor: &Actor,
    ws: &WorkspaceAccess,
    contact: &ContactId,
    names: &[String],
    before: &[ContactList],
) -> AppResult<bool> {
    let all = storage::lists::all(&mut *conn, ws).await?;
    let mut changed = false;
    for name in names {
        let list = match all.iter().find(|l| l.name.eq_ignore_ascii_case(name.trim())) {
            Some(l) => l.clone(),
            None => {
                let Ok(name) = list::parse_name(name) else {
                    continue;
                };
                list::make(conn, actor, ws, name, false, None).await?
            }
        };
        changed |= list::join(conn, actor, ws, contact, &list).await?;
    }
    for list in before.iter().filter(|l| !l.is_primary) {
        if !names.iter().any(|n| n.trim().eq_ignore_ascii_case(&list.name)) {
            changed |= list::leave(conn, actor, ws, contact, list).await?;
        }
    }
    Ok(changed)
}

/// Deletes the card at `name` (and so its contact), when the precondition holds.
pub async fn delete(
    db: &SqlitePool,
    actor: &Actor,
    ws: &WorkspaceAccess,
    name: &str,
    pre: &Preconditions,
) -> AppResult<()> {
    actor.require(Scope::Dav)?;
    ws.require_editor()?;
    let f = found(db, ws, name).await?.ok_or(AppError::NotFound)?;
    pre.check(Some(&f.etag))?;
    let id = ContactId::parse(&f.contact.id).ok_or(AppError::NotFound)?;
    contact::delete(db, actor, ws, &id).await
}
