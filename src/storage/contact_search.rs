//! The contact search as one SQL statement, built with sea-query: every user-supplied value is
//! a bound parameter, never part of the SQL text.

use sea_query::{Alias, Cond, Expr, ExprTrait, Func, LikeExpr, Order, Query, SelectStatement, SqliteQueryBuilder};
use sea_query_sqlx::SqlxBinder;
use sqlx::SqlitePool;

use super::contacts::{BASE_COLUMNS, BaseRow};
use crate::domain::contact::ContactRecord;
use crate::domain::phone::search_digits;
use crate::domain::search::{After, ContactQuery, FieldFilter, FilterValue, Op, Sort};
use crate::domain::workspace::WorkspaceAccess;

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
            "base_contacts.rowid IN (SELECT rowid FROM contact_search WHERE contact_search MATCH ?)",
            [phrase],
        )
    } else {
        Expr::cust_with_values(
            "base_contacts.rowid IN (SELECT rowid FROM contact_search WHERE body LIKE ?)",
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
            let number = Expr::expr(Func::cast_as(value, Alias::new("REAL")));
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

pub fn statement(ws: &WorkspaceAccess, q: &ContactQuery) -> SelectStatement {
    let mut sel = Query::select();
    sel.columns(BASE_COLUMNS.map(Alias::new))
        .from(Alias::new("base_contacts"))
        .and_where(col("workspace_id").eq(ws.id().as_str()));
    for word in &q.words {
        sel.cond_where(word_condition(ws, word));
    }
    for f in &q.filters {
        sel.and_where(filter_condition(ws, f));
    }
    if let Some(list) = &q.list {
        let mut sub = Query::select();
        sub.column(Alias::new("contact_id"))
            .from(Alias::new("contact_list_assignments"))
            .and_where(col("workspace_id").eq(ws.id().as_str()))
            .and_where(col("list_id").eq(list.as_str()));
        sel.and_where(col("id").in_subquery(sub));
    }
    match (q.sort, &q.after) {
        (Sort::Newest, Some(After::Id(id))) => {
            sel.and_where(col("id").lt(id.as_str()));
        }
        (Sort::Oldest, Some(After::Id(id))) => {
            sel.and_where(col("id").gt(id.as_str()));
        }
        (Sort::Name, Some(After::Name { last, first, id })) => {
            sel.and_where(Expr::cust_with_values(
                "(lower(coalesce(last_name, '')), lower(coalesce(first_name, '')), id) > (?, ?, ?)",
                [last.as_str(), first.as_str(), id.as_str()],
            ));
        }
        _ => {}
    }
    match q.sort {
        Sort::Newest => sel.order_by(Alias::new("id"), Order::Desc),
        Sort::Oldest => sel.order_by(Alias::new("id"), Order::Asc),
        Sort::Name => sel
            .order_by_expr(Expr::cust(LAST_KEY), Order::Asc)
            .order_by_expr(Expr::cust(FIRST_KEY), Order::Asc)
            .order_by(Alias::new("id"), Order::Asc),
    };
    sel.limit(u64::from(q.limit) + 1);
    sel
}

/// One page plus one row (to know whether another page follows), without values or lists.
pub async fn find(db: &SqlitePool, ws: &WorkspaceAccess, q: &ContactQuery) -> Result<Vec<ContactRecord>, sqlx::Error> {
    let (sql, values) = statement(ws, q).build_sqlx(SqliteQueryBuilder);
    let rows: Vec<BaseRow> = sqlx::query_as_with(sqlx::AssertSqlSafe(sql), values)
        .fetch_all(db)
        .await?;
    Ok(rows.into_iter().map(Into::into).collect())
}
