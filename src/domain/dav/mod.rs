//! CardDAV (SPEC §16): a person's workspaces as address books, each contact a vCard with an
//! ETag, and the changes since a sync token. The HTTP and XML are `crate::dav`'s; the rules
//! are here, once.

pub mod card;
pub mod write;

use std::collections::HashMap;

use sqlx::SqlitePool;

use super::actor::{Actor, Scope};
use super::contact::ContactRecord;
use super::field_definition::{self, FieldSet};
use super::ids::ContactId;
use super::search::{self, After, ContactQuery, Sort};
use super::workspace::{self, WorkspaceAccess};
use crate::error::{AppError, AppResult};
use crate::storage;
use crate::storage::dav::Kept;
pub use card::Version;

/// The address books a caller reaches: one per workspace.
pub async fn address_books(db: &SqlitePool, actor: &Actor) -> AppResult<Vec<WorkspaceAccess>> {
    actor.require(Scope::Dav)?;
    workspace::list(db, actor).await
}

/// One address book, or 404 when it is not the caller's to reach.
pub async fn address_book(db: &SqlitePool, actor: &Actor, id: &str) -> AppResult<WorkspaceAccess> {
    actor.require(Scope::Dav)?;
    workspace::resolve_text(db, actor, id).await
}

/// A sync token: the number of the newest change a client has seen (migration 0033).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SyncToken(pub i64);

const TOKEN_PREFIX: &str = "http://pi-crm.invalid/sync/";

impl SyncToken {
    pub fn uri(self) -> String {
        format!("{TOKEN_PREFIX}{}", self.0)
    }

    /// A token this server handed out; anything else (or one from the future) is `None`, and
    /// the client starts over (RFC 6578 `valid-sync-token`).
    pub fn parse(text: &str, latest: SyncToken) -> Option<SyncToken> {
        let n: i64 = text.trim().strip_prefix(TOKEN_PREFIX)?.parse().ok()?;
        (0..=latest.0).contains(&n).then_some(SyncToken(n))
    }
}

/// The token of this moment; also the collection's CTag (it moves with every change).
pub async fn latest(db: &SqlitePool) -> AppResult<SyncToken> {
    Ok(SyncToken(storage::dav::latest_change(db).await?))
}

/// One card: the name of its resource, its ETag and, when asked for, its text.
#[derive(Debug, Clone)]
pub struct Entry {
    pub name: String,
    pub etag: String,
    pub card: Option<String>,
}

/// What cards in one workspace are written with: its fields and the kept lines of its cards.
pub struct Cards {
    fields: FieldSet,
    kept: HashMap<String, Kept>,
    version: Option<Version>,
}

impl Cards {
    pub async fn of(db: &SqlitePool, ws: &WorkspaceAccess, version: Option<Version>) -> AppResult<Cards> {
        Ok(Cards {
            fields: field_definition::applicable(db, ws).await?,
            kept: storage::dav::all_kept(db, ws).await?,
            version,
        })
    }

    fn entry(&self, c: &ContactRecord) -> Entry {
        let kept = self.kept.get(&c.id);
        Entry {
            name: kept.map(|k| k.name.clone()).unwrap_or_else(|| default_name(&c.id)),
            etag: card::etag(c, &self.fields, kept),
            card: self.version.map(|v| card::render(c, &self.fields, kept, v)),
        }
    }
}

const PAGE: u32 = 500;

/// Every card of an address book, oldest contact first, a page of contacts at a time.
pub async fn all(
    db: &SqlitePool,
    actor: &Actor,
    ws: &WorkspaceAccess,
    version: Option<Version>,
) -> AppResult<Vec<Entry>> {
    actor.require(Scope::Dav)?;
    let cards = Cards::of(db, ws, version).await?;
    let mut out = Vec::new();
    let mut after = None;
    loop {
        let mut query = ContactQuery::newest(PAGE);
        query.sort = Sort::Oldest;
        query.after = after;
        let page = search::run(db, actor, ws, &query).await?;
        out.extend(page.items.iter().map(|c| cards.entry(c)));
        match (&page.next_cursor, page.items.last()) {
            (Some(_), Some(last)) => after = Some(After::Id(last.id.clone())),
            _ => return Ok(out),
        }
    }
}

/// The resource name of a contact no phone named: `{id}.vcf`.
pub fn default_name(contact_id: &str) -> String {
    format!("{contact_id}{}", storage::dav::CARD_SUFFIX)
}

/// The contact a resource name stands for: a name a phone gave it, else `{id}.vcf`.
async fn contact_named(db: &SqlitePool, ws: &WorkspaceAccess, name: &str) -> AppResult<Option<ContactId>> {
    Ok(match storage::dav::contact_named(db, ws, name).await? {
        Some(id) => ContactId::parse(&id),
        None => name.strip_suffix(storage::dav::CARD_SUFFIX).and_then(ContactId::parse),
    })
}

/// The named cards, in the order asked; a name that is no card (any more) is `None`.
pub async fn some(
    db: &SqlitePool,
    actor: &Actor,
    ws: &WorkspaceAccess,
    names: &[String],
    version: Option<Version>,
) -> AppResult<Vec<(String, Option<Entry>)>> {
    actor.require(Scope::Dav)?;
    let cards = Cards::of(db, ws, version).await?;
    // The names phones gave, from the keepings already read: no query per name.
    let named: HashMap<&str, &str> = cards.kept.iter().map(|(id, k)| (k.name.as_str(), id.as_str())).collect();
    let ids: Vec<Option<String>> = names
        .iter()
        .map(|name| match named.get(name.as_str()) {
            Some(id) => Some(id.to_string()),
            None => name
                .strip_suffix(storage::dav::CARD_SUFFIX)
                .and_then(ContactId::parse)
                .map(|id| id.to_string()),
        })
        .collect();
    let found = load(db, actor, ws, ids.iter().flatten().cloned().collect()).await?;
    Ok(names
        .iter()
        .zip(ids)
        .map(|(name, id)| {
            let entry = id.and_then(|id| found.get(&id)).map(|c| cards.entry(c));
            (name.clone(), entry)
        })
        .collect())
}

/// These contacts (those still there), by id.
async fn load(
    db: &SqlitePool,
    actor: &Actor,
    ws: &WorkspaceAccess,
    ids: Vec<String>,
) -> AppResult<HashMap<String, ContactRecord>> {
    let mut found = HashMap::new();
    for chunk in ids.chunks(PAGE as usize) {
        let mut query = ContactQuery::newest(PAGE);
        query.only = Some(chunk.to_vec());
        for c in search::run(db, actor, ws, &query).await?.items {
            found.insert(c.id.clone(), c);
        }
    }
    Ok(found)
}

/// One card, with the contact it is of.
pub async fn one(
    db: &SqlitePool,
    actor: &Actor,
    ws: &WorkspaceAccess,
    name: &str,
    version: Version,
) -> AppResult<Entry> {
    actor.require(Scope::Dav)?;
    let id = contact_named(db, ws, name).await?.ok_or(AppError::NotFound)?;
    let contact = storage::contacts::load(db, ws, &id).await?.ok_or(AppError::NotFound)?;
    let fields = field_definition::applicable(db, ws).await?;
    let kept = storage::dav::kept_of(db, ws, contact.id.as_str()).await?;
    Ok(Entry {
        name: name.to_string(),
        etag: card::etag(&contact, &fields, kept.as_ref()),
        card: Some(card::render(&contact, &fields, kept.as_ref(), version)),
    })
}

/// What changed in an address book since a token (RFC 6578): the cards changed or added, the
/// names of those deleted, and the token to send next time.
pub struct Changes {
    pub changed: Vec<Entry>,
    pub deleted: Vec<String>,
    pub token: SyncToken,
}

/// Every card when `since` is `None` (a first sync), else the changes after it. The token is
/// read before the changes, so a change made meanwhile is sent again next time, never missed.
pub async fn changes(
    db: &SqlitePool,
    actor: &Actor,
    ws: &WorkspaceAccess,
    since: Option<SyncToken>,
    version: Option<Version>,
) -> AppResult<Changes> {
    actor.require(Scope::Dav)?;
    let token = latest(db).await?;
    let Some(since) = since else {
        return Ok(Changes {
            changed: all(db, actor, ws, version).await?,
            deleted: Vec::new(),
            token,
        });
    };
    let journal = storage::dav::changes_since(db, ws, since.0).await?;
    let ids = journal
        .iter()
        .filter(|c| !c.deleted)
        .map(|c| c.contact_id.clone())
        .collect();
    let found = load(db, actor, ws, ids).await?;
    let cards = Cards::of(db, ws, version).await?;
    let mut changes = Changes {
        changed: Vec::new(),
        deleted: Vec::new(),
        token,
    };
    for change in journal {
        match found.get(&change.contact_id) {
            Some(c) => changes.changed.push(cards.entry(c)),
            // Deleted, or gone since the journal was read.
            None => changes.deleted.push(change.name),
        }
    }
    Ok(changes)
}
