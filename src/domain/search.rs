//! Finding contacts: `q` (name, email, phone in any formatting, company, custom values),
//! `list=` (a list id or name), `field.NAME=VALUE` and typed comparisons
//! (`field.loan_amount.gte=250000`, `field.closing_date.lt=2027-01-01`), `sort=` (`created`,
//! newest first, the default; `oldest`; `name`; `field.NAME` / `-field.NAME`), `limit` and
//! `cursor`.

use serde_json::json;
use sqlx::SqlitePool;

use super::actor::{Actor, Scope};
use super::contact::ContactRecord;
use super::field::FieldType;
use super::field_definition::{self, FieldSet};
use super::ids::ListId;
use super::list;
use super::page::{DEFAULT_LIMIT, MAX_LIMIT, Page};
use super::workspace::WorkspaceAccess;
use crate::error::{AppError, AppResult};
pub use crate::model::query::{After, ContactQuery, FieldFilter, FieldSort, FilterValue, Op, Sort};
use crate::storage;

impl Op {
    fn parse(text: &str) -> Option<Op> {
        Some(match text {
            "eq" => Op::Eq,
            "ne" => Op::Ne,
            "gt" => Op::Gt,
            "gte" => Op::Gte,
            "lt" => Op::Lt,
            "lte" => Op::Lte,
            "contains" => Op::Contains,
            _ => return None,
        })
    }

    pub fn is_range(self) -> bool {
        matches!(self, Op::Gt | Op::Gte | Op::Lt | Op::Lte)
    }
}

impl ContactQuery {
    pub fn newest(limit: u32) -> ContactQuery {
        ContactQuery {
            words: Vec::new(),
            list: None,
            filters: Vec::new(),
            sort: Sort::Newest,
            limit,
            after: None,
            by_field: None,
            only: None,
            values: None,
        }
    }
}

/// The raw query string, as pairs (a name may repeat).
pub type Params = Vec<(String, String)>;

pub async fn parse(
    db: &SqlitePool,
    ws: &WorkspaceAccess,
    fields: &FieldSet,
    region: &str,
    params: &Params,
) -> AppResult<ContactQuery> {
    let mut query = ContactQuery::newest(DEFAULT_LIMIT);
    let mut cursor = None;
    for (key, value) in params {
        let value = value.trim();
        match key.as_str() {
            "q" => query.words = search_words(value),
            "list" if value.is_empty() => {}
            "list" => query.list = Some(find_list(db, ws, value).await?),
            "sort" if value.trim_start_matches('-').starts_with("field.") => {
                let name = &value.trim_start_matches('-')["field.".len()..];
                let def = fields
                    .get(name)
                    .ok_or_else(|| AppError::invalid("sort", format!("no custom field named {name} here")))?;
                query.by_field = Some(FieldSort {
                    name: name.to_string(),
                    descending: value.starts_with('-'),
                    numeric: def.field_type == FieldType::Number,
                });
            }
            "sort" => {
                query.sort = match value {
                    "" | "created" | "-created" | "newest" => Sort::Newest,
                    "oldest" | "+created" => Sort::Oldest,
                    "name" => Sort::Name,
                    _ => {
                        return Err(AppError::invalid(
                            "sort",
                            "sort is created, oldest, name, field.NAME or -field.NAME",
                        ));
                    }
                }
            }
            "limit" => {
                query.limit = value
                    .parse()
                    .ok()
                    .filter(|l| (1..=MAX_LIMIT).contains(l))
                    .ok_or_else(|| AppError::invalid("limit", format!("limit must be between 1 and {MAX_LIMIT}")))?
            }
            "cursor" if !value.is_empty() => cursor = Some(value.to_string()),
            k if k.starts_with("field.") && !value.is_empty() => {
                query
                    .filters
                    .push(parse_filter(&k["field.".len()..], value, fields, region)?)
            }
            _ => {}
        }
    }
    if query.filters.len() > 10 {
        return Err(AppError::invalid("field", "at most 10 field filters at once"));
    }
    query.after = cursor.map(|c| decode_cursor(&c, &query)).transpose()?;
    Ok(query)
}

/// The words of a search box, at most 8. Control characters (a NUL would end FTS5's string
/// early) separate words like spaces do; double quotes, which people type out of habit from
/// web search, are dropped. Every other character is literal text: each word reaches the
/// index as one quoted phrase, so FTS5 operators (`OR`, `NEAR(`, `*`, `^`, `-`) are just words.
pub fn search_words(q: &str) -> Vec<String> {
    q.split(|c: char| c.is_whitespace() || c.is_control() || c == '"')
        .filter(|w| !w.is_empty())
        .take(8)
        .map(str::to_string)
        .collect()
}

async fn find_list(db: &SqlitePool, ws: &WorkspaceAccess, value: &str) -> AppResult<ListId> {
    if let Some(id) = ListId::parse(value)
        && let Ok(found) = list::find(db, ws, &id).await
    {
        return ListId::parse(&found.id).ok_or(AppError::NotFound);
    }
    let mut conn = db.acquire().await?;
    storage::lists::find_by_name(&mut conn, ws, value)
        .await?
        .and_then(|l| ListId::parse(&l.id))
        .ok_or_else(|| AppError::invalid("list", format!("no list called {value:?} here")))
}

/// One condition on a custom field, as a campaign's segment states it (`op`: `eq`, `ne`,
/// `gt`, `gte`, `lt`, `lte`, `contains`), read exactly as the search's `field.NAME.OP=VALUE`.
pub fn condition(field: &str, op: &str, value: &str, fields: &FieldSet, region: &str) -> AppResult<FieldFilter> {
    let op = if op.trim().is_empty() { "eq" } else { op.trim() };
    parse_filter(&format!("{}.{op}", field.trim()), value.trim(), fields, region)
}

fn parse_filter(key: &str, value: &str, fields: &FieldSet, region: &str) -> AppResult<FieldFilter> {
    let (name, op) = match key.rsplit_once('.') {
        Some((name, op)) => (
            name,
            Op::parse(op)
                .ok_or_else(|| AppError::invalid(&format!("field.{key}"), format!("unknown comparison {op:?}")))?,
        ),
        None => (key, Op::Eq),
    };
    let field = format!("field.{name}");
    let def = fields
        .get(name)
        .ok_or_else(|| AppError::invalid(&field, format!("no custom field named {name} here")))?;
    let spec = def.spec(region);
    let reword = |e: AppError| match e {
        AppError::Invalid { message, .. } => AppError::invalid(&field, message),
        other => other,
    };
    let value = match (op, def.field_type) {
        (Op::Contains, _) => FilterValue::Text(value.to_string()),
        (o, FieldType::Number) if o.is_range() => {
            let canonical = spec.parse_text(value).map_err(reword)?;
            FilterValue::Number(canonical.parse().unwrap_or_default())
        }
        (o, FieldType::Date | FieldType::Datetime) if o.is_range() => {
            FilterValue::Text(spec.parse_text(value).map_err(reword)?)
        }
        (o, _) if o.is_range() => {
            return Err(AppError::invalid(&field, "only number and date fields compare by size"));
        }
        _ => FilterValue::Text(spec.parse_text(value).map_err(reword)?),
    };
    Ok(FieldFilter {
        name: name.to_string(),
        op,
        value,
    })
}

fn decode_cursor(text: &str, query: &ContactQuery) -> AppResult<After> {
    let bad = || AppError::invalid("cursor", "this cursor is not valid");
    let bytes = hex::decode(text).map_err(|_| bad())?;
    let parts: Vec<String> = serde_json::from_slice(&bytes).map_err(|_| bad())?;
    if let Some(by) = &query.by_field {
        return match parts.as_slice() {
            [kind, value, id] if kind == "v" && (!by.numeric || value.parse::<f64>().is_ok()) => Ok(After::Value {
                value: value.clone(),
                id: id.clone(),
            }),
            [kind, id] if kind == "n" => Ok(After::Unvalued { id: id.clone() }),
            _ => Err(bad()),
        };
    }
    match (query.sort, parts.as_slice()) {
        (Sort::Name, [last, first, id]) => Ok(After::Name {
            last: last.clone(),
            first: first.clone(),
            id: id.clone(),
        }),
        (Sort::Newest | Sort::Oldest, [id]) => Ok(After::Id(id.clone())),
        _ => Err(bad()),
    }
}

/// The cursor after `c`. Name keys are folded as SQLite's `lower()` folds them (ASCII only),
/// so the next page starts exactly where the index says.
fn encode_cursor(c: &ContactRecord, query: &ContactQuery) -> String {
    let fold = |v: &Option<String>| v.as_deref().unwrap_or("").to_ascii_lowercase();
    let parts = match (&query.by_field, query.sort) {
        (Some(by), _) => match c.custom.get(&by.name) {
            Some(value) => json!(["v", value, c.id]),
            None => json!(["n", c.id]),
        },
        (None, Sort::Name) => json!([fold(&c.base.last_name), fold(&c.base.first_name), c.id]),
        (None, _) => json!([c.id]),
    };
    hex::encode(parts.to_string())
}

pub async fn run(
    db: &SqlitePool,
    actor: &Actor,
    ws: &WorkspaceAccess,
    query: &ContactQuery,
) -> AppResult<Page<ContactRecord>> {
    actor.require(Scope::ReadContacts)?;
    let mut rows = storage::contact_search::find(db, ws, query).await?;
    let more = rows.len() > query.limit as usize;
    rows.truncate(query.limit as usize);
    let next_cursor = if more {
        rows.last().map(|c| encode_cursor(c, query))
    } else {
        None
    };
    Ok(Page {
        items: rows,
        next_cursor,
    })
}

/// How many contacts a search finds, counting no further than `cap` (a count over a whole
/// large workspace costs what the page itself does; "10,000+" says enough).
pub async fn count(
    db: &SqlitePool,
    actor: &Actor,
    ws: &WorkspaceAccess,
    query: &ContactQuery,
    cap: u32,
) -> AppResult<Count> {
    actor.require(Scope::ReadContacts)?;
    let n = storage::contact_search::count(db, ws, query, cap).await?;
    Ok(Count {
        n: n.min(i64::from(cap)),
        more: n > i64::from(cap),
    })
}

/// The contacts list counts its matches up to this many; beyond, it says "10,000+".
pub const COUNT_CAP: u32 = 10_000;

/// What `count` says for the contacts list, kept until anything is written (a count reads up
/// to 10,000 index entries; the page itself reads 50 rows). Keyed by what the query finds —
/// its words, list, filters and selection — never by how it sorts or pages.
pub async fn kept_count(
    db: &SqlitePool,
    as_of: &super::stats_cache::AsOf<'_>,
    actor: &Actor,
    ws: &WorkspaceAccess,
    query: &ContactQuery,
) -> AppResult<Count> {
    actor.require(Scope::ReadContacts)?;
    let key = format!(
        "count {} {:?} {:?} {:?} {:?}",
        ws.id(),
        query.words,
        query.list,
        query.filters,
        query.only
    );
    as_of.get_or(key, || count(db, actor, ws, query, COUNT_CAP)).await
}

/// A bounded count: `more` when there are more than `n`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Count {
    pub n: i64,
    pub more: bool,
}

/// Parses and runs a search in one go (both faces use this).
pub async fn search(
    db: &SqlitePool,
    actor: &Actor,
    ws: &WorkspaceAccess,
    region: &str,
    params: &Params,
) -> AppResult<(Page<ContactRecord>, FieldSet)> {
    actor.require(Scope::ReadContacts)?;
    let fields = field_definition::applicable(db, ws).await?;
    let query = parse(db, ws, &fields, region, params).await?;
    Ok((run(db, actor, ws, &query).await?, fields))
}
