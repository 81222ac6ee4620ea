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

/// Contacts read (and cards written) at a time: an answer about 10,000 cards streams out a
/// page at a time instead of sitting in memory whole.
const PAGE: u32 = 500;

/// The resource name of a contact no phone named: `{id}.vcf`.
pub fn default_name(contact_id: &str) -> String {
    format!("{contact_id}{}", storage::dav::CARD_SUFFIX)
}

/// The contact a resource name stands for: the one a phone gave this name (`given`, from the
/// keepings), else the contact whose id the name is (`{id}.vcf`).
fn contact_of(name: &str, given: Option<&str>) -> Option<ContactId> {
    match given {
        Some(id) => ContactId::parse(id),
        None => name.strip_suffix(storage::dav::CARD_SUFFIX).and_then(ContactId::parse),
    }
}

/// A card as stored: its contact, what it is written with, and its ETag.
pub(crate) struct Found {
    pub contact: ContactRecord,
    pub fields: FieldSet,
    pub kept: Option<Kept>,
    pub etag: String,
}

/// The card at `name`, when there is one (a name whose contact was deleted is none).
pub(crate) async fn found(db: &SqlitePool, ws: &WorkspaceAccess, name: &str) -> AppResult<Option<Found>> {
    let given = storage::dav::contact_named(db, ws, name).await?;
    let Some(id) = contact_of(name, given.as_deref()) else {
        return Ok(None);
    };
    let Some(contact) = storage::contacts::load(db, ws, &id).await? else {
        return Ok(None);
    };
    let fields = field_definition::applicable(db, ws).await?;
    let kept = storage::dav::kept_of(db, ws, contact.id.as_str()).await?;
    let etag = card::etag(&contact, &fields, kept.as_ref());
    Ok(Some(Found {
        contact,
        fields,
        kept,
        etag,
    }))
}

/// One item of an answer: a card, or the name of one that is not there (any more).
pub enum Item {
    Card(Entry),
    Gone(String),
}

/// Which cards an answer is about.
enum Plan {
    /// Every card, oldest contact first; `None` once the last page was read.
    All(Option<Option<After>>),
    /// Cards by name, in the order asked (multiget), with the contact each names.
    Named(std::vec::IntoIter<(String, Option<String>)>),
    /// The journal's changes since a token: a contact id, or a deleted card's name.
    Changed(std::vec::IntoIter<storage::dav::Change>),
}

/// The cards of one answer, read a page at a time (`next`).
pub struct Pages {
    db: SqlitePool,
    actor: Actor,
    ws: WorkspaceAccess,
    cards: Cards,
    plan: Plan,
}

impl Pages {
    async fn new(
        db: &SqlitePool,
        actor: &Actor,
        ws: &WorkspaceAccess,
        version: Option<Version>,
        plan: Plan,
    ) -> AppResult<Pages> {
        actor.require(Scope::Dav)?;
        Ok(Pages {
            db: db.clone(),
            actor: actor.clone(),
            ws: ws.clone(),
            cards: Cards::of(db, ws, version).await?,
            plan,
        })
    }

    /// The next page, or `None` at the end.
    pub async fn next(&mut self) -> AppResult<Option<Vec<Item>>> {
        match &mut self.plan {
            Plan::All(None) => Ok(None),
            Plan::All(Some(after)) => {
                let mut query = ContactQuery::newest(PAGE);
                query.sort = Sort::Oldest;
                query.after = after.take();
                let page = search::run(&self.db, &self.actor, &self.ws, &query).await?;
                self.plan = Plan::All(match (&page.next_cursor, page.items.last()) {
                    (Some(_), Some(last)) => Some(Some(After::Id(last.id.clone()))),
                    _ => None,
                });
                Ok(Some(
                    page.items.iter().map(|c| Item::Card(self.cards.entry(c))).collect(),
                ))
            }
            Plan::Named(names) => {
                let chunk: Vec<(String, Option<String>)> = names.by_ref().take(PAGE as usize).collect();
                if chunk.is_empty() {
                    return Ok(None);
                }
                let ids = chunk.iter().filter_map(|(_, id)| id.clone()).collect();
                let found = load(&self.db, &self.actor, &self.ws, ids).await?;
                Ok(Some(
                    chunk
                        .into_iter()
                        .map(|(name, id)| match id.and_then(|id| found.get(&id)) {
                            // Under the name asked for, which is how the client knows it.
                            Some(c) => Item::Card(Entry {
                                name,
                                ..self.cards.entry(c)
                            }),
                            None => Item::Gone(name),
                        })
                        .collect(),
                ))
            }
            Plan::Changed(changes) => {
                let chunk: Vec<storage::dav::Change> = changes.by_ref().take(PAGE as usize).collect();
                if chunk.is_empty() {
                    return Ok(None);
                }
                let ids = chunk
                    .iter()
                    .filter(|c| !c.deleted)
                    .map(|c| c.contact_id.clone())
                    .collect();
                let found = load(&self.db, &self.actor, &self.ws, ids).await?;
                Ok(Some(
                    chunk
                        .into_iter()
                        .map(|change| match found.get(&change.contact_id) {
                            Some(c) => Item::Card(self.cards.entry(c)),
                            // Deleted, or gone since the journal was read.
                            None => Item::Gone(change.name),
                        })
                        .collect(),
                ))
            }
        }
    }
}

/// Every card of an address book.
pub async fn all(db: &SqlitePool, actor: &Actor, ws: &WorkspaceAccess, version: Option<Version>) -> AppResult<Pages> {
    Pages::new(db, actor, ws, version, Plan::All(Some(None))).await
}

/// The named cards, in the order asked (multiget).
pub async fn named(
    db: &SqlitePool,
    actor: &Actor,
    ws: &WorkspaceAccess,
    names: Vec<String>,
    version: Option<Version>,
) -> AppResult<Pages> {
    let mut pages = Pages::new(db, actor, ws, version, Plan::Named(Vec::new().into_iter())).await?;
    // The names phones gave, from the keepings already read: no query per name.
    let given: HashMap<&str, &str> = pages
        .cards
        .kept
        .iter()
        .map(|(id, k)| (k.name.as_str(), id.as_str()))
        .collect();
    let resolved: Vec<(String, Option<String>)> = names
        .into_iter()
        .map(|name| {
            let id = contact_of(&name, given.get(name.as_str()).copied()).map(|id| id.to_string());
            (name, id)
        })
        .collect();
    pages.plan = Plan::Named(resolved.into_iter());
    Ok(pages)
}

/// These contacts (those still there), by id.
async fn load(
    db: &SqlitePool,
    actor: &Actor,
    ws: &WorkspaceAccess,
    ids: Vec<String>,
) -> AppResult<HashMap<String, ContactRecord>> {
    let mut query = ContactQuery::newest(PAGE);
    query.only = Some(ids);
    Ok(search::run(db, actor, ws, &query)
        .await?
        .items
        .into_iter()
        .map(|c| (c.id.clone(), c))
        .collect())
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
    let f = found(db, ws, name).await?.ok_or(AppError::NotFound)?;
    Ok(Entry {
        name: name.to_string(),
        card: Some(card::render(&f.contact, &f.fields, f.kept.as_ref(), version)),
        etag: f.etag,
    })
}

/// Every card when `since` is `None` (a first sync), else the changes after it (RFC 6578),
/// with the token to send next time. The token is read before the changes, so a change made
/// meanwhile is sent again next time, never missed.
pub async fn changes(
    db: &SqlitePool,
    actor: &Actor,
    ws: &WorkspaceAccess,
    since: Option<SyncToken>,
    version: Option<Version>,
) -> AppResult<(Pages, SyncToken)> {
    actor.require(Scope::Dav)?;
    let token = latest(db).await?;
    let pages = match since {
        None => all(db, actor, ws, version).await?,
        Some(since) => {
            let journal = storage::dav::changes_since(db, ws, since.0).await?;
            Pages::new(db, actor, ws, version, Plan::Changed(journal.into_iter())).await?
        }
    };
    Ok((pages, token))
}
