//! The contact search as one SQL statement, built with sea-query: every user-supplied value is
//! a bound parameter, never part of the SQL text.

use sea_query::{Alias, Cond, Expr, ExprTrait, LikeExpr, Order, Query, SelectStatement, SqliteQueryBuilder};
use sea_query_sqlx::SqlxBinder;
use sqlx::SqlitePool;

use super::contacts::ContactRecord;
use super::contacts::{BASE_COLUMNS, Values, contacts_as_json, contacts_from_json};
use crate::model::access::WorkspaceAccess;
use crate::model::query::search_digits;
use crate::model::query::{After, ContactQuery, FieldFilter, FieldSort, FilterValue, Op, Sort};

fn col(name: &'static str) -> Expr {
    Expr::col(Alias::new(name))
}

/// The name sort key; the same expressions as the `base_contacts_by_name` index.
const LAST_KEY: &str = "lower(coalesce(last_name, ''))";
const FIRST_KEY: &str = "lower(coalesce(first_name, ''))";

/// `%word%` with LIKE's own wildcards escaped.
fn contains_pattern(word: &str) -> LikeExpr {
    let escaped = word.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
    LikeExpr::new(format!("%{escaped}%")).escape('\\')
}

fn values_of(ws: &WorkspaceAccess) -> SelectStatement {
    let mut sub = Query::select();
    sub.column(Alias::new("contact_id"))
        .from(Alias::new("custom_fields"))
        .and_where(col("workspace_id").eq(ws.id().as_str()));
    sub
}

/// Contacts whose search document (`contact_search`, a trigram FTS5 index over names, email,
/// phone, company and custom values) contains `fragment`. Three characters or more go through
/// the index as a MATCH phrase, which also folds case beyond ASCII (Müller finds MÜLLER);
/// shorter fragments have no trigram and are matched with LIKE.
fn search_document_contains(fragment: &str) -> Expr {
    if fragment.chars().count() >= 3 {
        let phrase = format!("\"{}\"", fragment.replace('"', "\"\""));
        Expr::cust_with_values(
            "contacts.rowid IN (SELECT rowid FROM contact_search WHERE contact_search MATCH ?)",
            [phrase],
        )
    } else {
        Expr::cust_with_values(
            "contacts.rowid IN (SELECT rowid FROM contact_search WHERE body LIKE ?)",
            [format!("%{fragment}%")],
        )
    }
}

fn word_condition(ws: &WorkspaceAccess, word: &str) -> Cond {
    let mut any = Cond::any();
    // The trigram index cannot honour LIKE's ESCAPE clause, so a word holding a wildcard
    // character is matched the slow, exact way instead.
    if word.contains(['%', '_', '\\']) {
        for column in ["first_name", "last_name", "primary_email", "company"] {
            any = any.add(col(column).like(contains_pattern(word)));
        }
        let mut sub = values_of(ws);
        sub.and_where(col("field_value").like(contains_pattern(word)));
        return any.add(col("id").in_subquery(sub));
    }
    any = any.add(search_document_contains(word));
    if let Some(digits) = search_digits(word)
        && digits != word
    {
        any = any.add(search_document_contains(&digits));
    }
    any
}

pub(crate) fn filter_condition(ws: &WorkspaceAccess, f: &FieldFilter) -> Expr {
    let mut sub = values_of(ws);
    sub.and_where(col("field_name").eq(f.name.as_str()));
    let value = col("field_value");
    match (&f.value, f.op) {
        (FilterValue::Text(v), Op::Ne) => {
            sub.and_where(value.eq(v.as_str()));
            return col("id").not_in_subquery(sub);
        }
        (FilterValue::Text(v), Op::Contains) => sub.and_where(value.like(contains_pattern(v))),
        (FilterValue::Text(v), Op::Eq) => sub.and_where(value.eq(v.as_str())),
        (FilterValue::Text(v), Op::Gt) => sub.and_where(value.gt(v.as_str())),
        (FilterValue::Text(v), Op::Gte) => sub.and_where(value.gte(v.as_str())),
        (FilterValue::Text(v), Op::Lt) => sub.and_where(value.lt(v.as_str())),
        (FilterValue::Text(v), Op::Lte) => sub.and_where(value.lte(v.as_str())),
        (FilterValue::Number(n), op) => {
            // In the words of `custom_fields_numbers`, so a range walks that index.
            sub.and_where(Expr::cust(number_shaped("custom_fields")));
            let number = Expr::cust(number_key("custom_fields"));
            sub.and_where(match op {
                Op::Gt => number.gt(*n),
                Op::Gte => number.gte(*n),
                Op::Lt => number.lt(*n),
                Op::Lte => number.lte(*n),
                Op::Ne => number.ne(*n),
                _ => number.eq(*n),
            })
        }
    };
    col("id").in_subquery(sub)
}

/// The contacts matching `q`'s words, filters, list and selection: no order, cursor or limit.
fn matching(ws: &WorkspaceAccess, q: &ContactQuery) -> SelectStatement {
    let mut sel = Query::select();
    sel.columns(BASE_COLUMNS.map(|c| (Alias::new("contacts"), Alias::new(c))))
        .from(Alias::new("contacts"))
        .and_where(Expr::col((Alias::new("contacts"), Alias::new("workspace_id"))).eq(ws.id().as_str()));
    for word in &q.words {
        sel.cond_where(word_condition(ws, word));
    }
    for f in &q.filters {
        sel.and_where(filter_condition(ws, f));
    }
    if let Some(only) = &q.only {
        sel.and_where(contact_id().is_in(only.iter().map(String::as_str)));
    }
    if let Some(list) = &q.list {
        let mut sub = Query::select();
        sub.column(Alias::new("contact_id"))
            .from(Alias::new("contact_list_assignments"))
            .and_where(col("workspace_id").eq(ws.id().as_str()))
            .and_where(col("list_id").eq(list.as_str()));
        sel.and_where(contact_id().in_subquery(sub));
    }
    sel
}

fn contact_id() -> Expr {
    Expr::col((Alias::new("contacts"), Alias::new("id")))
}

fn statement(ws: &WorkspaceAccess, q: &ContactQuery) -> SelectStatement {
    let mut sel = matching(ws, q);
    match (q.sort, &q.after) {
        (Sort::Newest, Some(After::Id(id))) => {
            sel.and_where(contact_id().lt(id.as_str()));
        }
        (Sort::Oldest, Some(After::Id(id))) => {
            sel.and_where(contact_id().gt(id.as_str()));
        }
        (Sort::Name, Some(After::Name { last, first, id })) => {
            sel.and_where(Expr::cust_with_values(
                "(lower(coalesce(last_name, '')), lower(coalesce(first_name, '')), contacts.id) > (?, ?, ?)",
                [last.as_str(), first.as_str(), id.as_str()],
            ));
        }
        _ => {}
    }
    match q.sort {
        Sort::Newest => sel.order_by_expr(contact_id(), Order::Desc),
        Sort::Oldest => sel.order_by_expr(contact_id(), Order::Asc),
        Sort::Name => sel
            .order_by_expr(Expr::cust(LAST_KEY), Order::Asc)
            .order_by_expr(Expr::cust(FIRST_KEY), Order::Asc)
            .order_by_expr(contact_id(), Order::Asc),
    };
    sel.limit(u64::from(q.limit) + 1);
    sel
}

/// The value in `table` as a number: a number field's sort key, and what its filters compare.
pub fn number_key(table: &str) -> String {
    format!("CAST({table}.field_value AS REAL)")
}

/// Whether the value in `table` is written as `domain::field` stores a number
/// (`-?digits(.digits)?`): the condition of the partial index `custom_fields_numbers`
/// (migration 0024), which SQLite uses only for a query that repeats it word for word. A value
/// of another shape in a number field (left by a change of the field's type) sorts with the
/// contacts that have none, and no comparison with a number finds it.
pub fn number_shaped(table: &str) -> String {
    format!("{table}.field_value GLOB '[0-9-]*' AND {table}.field_value NOT GLOB '?*[^0-9.]*'")
}

/// Sorted by a field, the ids of the contacts that have a value, a page of them: an index
/// walked in order, `custom_fields_lookup` for text and dates, `custom_fields_numbers` for
/// numbers. The search's other conditions narrow it through `IN`, so an unfiltered list never
/// touches a contact row it will not show.
fn ids_with_values(ws: &WorkspaceAccess, q: &ContactQuery, by: &FieldSort) -> SelectStatement {
    let sv = Alias::new("sv");
    let mut sel = Query::select();
    sel.column((sv.clone(), Alias::new("contact_id")))
        .from_as(Alias::new("custom_fields"), sv.clone())
        .and_where(Expr::col((sv.clone(), Alias::new("workspace_id"))).eq(ws.id().as_str()))
        .and_where(Expr::col((sv.clone(), Alias::new("field_name"))).eq(by.name.as_str()));
    let narrowed = !q.words.is_empty() || !q.filters.is_empty() || q.list.is_some() || q.only.is_some();
    if narrowed {
        let mut inner = matching(ws, q);
        inner.clear_selects().expr(contact_id());
        sel.and_where(Expr::col((sv.clone(), Alias::new("contact_id"))).in_subquery(inner));
    }
    let key = if by.numeric {
        sel.and_where(Expr::cust(number_shaped("sv")));
        number_key("sv")
    } else {
        "sv.field_value".to_string()
    };
    let (order, beyond) = if by.descending {
        (Order::Desc, "<")
    } else {
        (Order::Asc, ">")
    };
    if let Some(After::Value { value, id }) = &q.after {
        // `key` and `beyond` are fixed strings chosen above; the values are bound. The first
        // comparison alone is what lets SQLite start its walk of an expression's index at the
        // cursor rather than at the first value.
        let cursor = format!("{key} {beyond}= ? AND ({key}, sv.contact_id) {beyond} (?, ?)");
        sel.and_where(if by.numeric {
            let number: f64 = value.parse().unwrap_or_default();
            Expr::cust_with_values(
                cursor,
                [
                    sea_query::Value::from(number),
                    sea_query::Value::from(number),
                    sea_query::Value::from(id.as_str()),
                ],
            )
        } else {
            Expr::cust_with_values(cursor, [value.as_str(), value.as_str(), id.as_str()])
        });
    }
    sel.order_by_expr(Expr::cust(key), order.clone())
        .order_by_expr(Expr::col((sv, Alias::new("contact_id"))), order)
        .limit(u64::from(q.limit) + 1);
    sel
}

/// Sorted by a field, the contacts without a value (for a number field: without a number),
/// after the rest: newest first.
fn without_values(ws: &WorkspaceAccess, q: &ContactQuery, by: &FieldSort, limit: u64) -> SelectStatement {
    let mut sel = matching(ws, q);
    let mut has = Query::select();
    has.expr(Expr::val(1))
        .from_as(Alias::new("custom_fields"), Alias::new("nv"))
        .and_where(
            Expr::col((Alias::new("nv"), Alias::new("contact_id"))).equals((Alias::new("contacts"), Alias::new("id"))),
        )
        .and_where(Expr::col((Alias::new("nv"), Alias::new("field_name"))).eq(by.name.as_str()));
    if by.numeric {
        has.and_where(Expr::cust(number_shaped("nv")));
    }
    sel.and_where(Expr::exists(has).not());
    if let Some(After::Unvalued { id }) = &q.after {
        sel.and_where(contact_id().lt(id.as_str()));
    }
    sel.order_by_expr(contact_id(), Order::Desc).limit(limit);
    sel
}

/// The contacts `ids` names, in that order.
async fn in_order(
    db: &SqlitePool,
    ws: &WorkspaceAccess,
    ids: Vec<String>,
    values: Values<'_>,
) -> Result<Vec<ContactRecord>, sqlx::Error> {
    let mut found: std::collections::HashMap<String, ContactRecord> = super::contacts::load_many(db, ws, &ids, values)
        .await?
        .into_iter()
        .map(|c| (c.id.clone(), c))
        .collect();
    Ok(ids.iter().filter_map(|id| found.remove(id)).collect())
}

async fn fetch(db: &SqlitePool, sel: &SelectStatement, values: Values<'_>) -> Result<Vec<ContactRecord>, sqlx::Error> {
    let (sql, binds) = sel.build_sqlx(SqliteQueryBuilder);
    let text: Option<String> = sqlx::query_scalar_with(sqlx::AssertSqlSafe(contacts_as_json(&sql, values)), binds)
        .fetch_one(db)
        .await?;
    contacts_from_json(text.as_deref())
}

/// One page plus one row (to know whether another page follows), with values and lists.
pub async fn find(db: &SqlitePool, ws: &WorkspaceAccess, q: &ContactQuery) -> Result<Vec<ContactRecord>, sqlx::Error> {
    let values = match &q.values {
        Some(names) => Values::Only(names),
        None => Values::All,
    };
    let Some(by) = &q.by_field else {
        return fetch(db, &statement(ws, q), values).await;
    };
    let wanted = q.limit as usize + 1;
    let mut rows = match q.after {
        Some(After::Unvalued { .. }) => Vec::new(),
        _ => {
            let (sql, binds) = ids_with_values(ws, q, by).build_sqlx(SqliteQueryBuilder);
            let ids: Vec<String> = sqlx::query_scalar_with(sqlx::AssertSqlSafe(sql), binds)
                .fetch_all(db)
                .await?;
            in_order(db, ws, ids, values).await?
        }
    };
    if rows.len() < wanted {
        let rest = without_values(ws, q, by, (wanted - rows.len()) as u64);
        rows.extend(fetch(db, &rest, values).await?);
    }
    Ok(rows)
}

/// How many contacts match `q` (its words, filters, list and selection; not its cursor),
/// counting at most `cap + 1`.
pub async fn count(db: &SqlitePool, ws: &WorkspaceAccess, q: &ContactQuery, cap: u32) -> Result<i64, sqlx::Error> {
    let mut matching = matching(ws, q);
    matching.clear_selects().expr(Expr::val(1)).limit(u64::from(cap) + 1);
    let mut counted = Query::select();
    counted
        .expr(Expr::cust("COUNT(*)"))
        .from_subquery(matching, Alias::new("matching"));
    let (sql, values) = counted.build_sqlx(SqliteQueryBuilder);
    sqlx::query_scalar_with(sqlx::AssertSqlSafe(sql), values)
        .fetch_one(db)
        .await
}
