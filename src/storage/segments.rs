//! A campaign's segment as SQL (sea-query, every value bound): lists to include and exclude,
//! custom-field conditions with the contact search's operators, and for yearly campaigns the
//! contacts whose date falls on today's month and day.

use sea_query::{Alias, Expr, ExprTrait, Query, SelectStatement, SqliteQueryBuilder};
use sea_query_sqlx::SqlxBinder;
use sqlx::{SqliteConnection, SqlitePool};

use super::contact_search::filter_condition;
use crate::model::access::WorkspaceAccess;
use crate::model::query::SegmentQuery;

fn col(name: &'static str) -> Expr {
    Expr::col(Alias::new(name))
}

fn in_lists(ws: &WorkspaceAccess, lists: &[crate::model::ids::ListId]) -> SelectStatement {
    let mut sub = Query::select();
    sub.column(Alias::new("contact_id"))
        .from(Alias::new("contact_list_assignments"))
        .and_where(col("workspace_id").eq(ws.id().as_str()))
        .and_where(col("list_id").is_in(lists.iter().map(|l| l.as_str().to_string())));
    sub
}

fn in_field(ws: &WorkspaceAccess, field: &str) -> SelectStatement {
    let mut sub = Query::select();
    sub.column(Alias::new("contact_id"))
        .from(Alias::new("custom_fields"))
        .and_where(col("workspace_id").eq(ws.id().as_str()))
        .and_where(col("field_name").eq(field))
        .and_where(col("field_value").ne(""));
    sub
}

/// The segment's contacts, selecting `columns` (expressions and their names, in order).
fn statement(ws: &WorkspaceAccess, q: &SegmentQuery, columns: Vec<(Expr, &'static str)>) -> SelectStatement {
    let mut sel = Query::select();
    for (c, name) in columns {
        sel.expr_as(c, Alias::new(name));
    }
    sel.from(Alias::new("contacts"))
        .and_where(col("workspace_id").eq(ws.id().as_str()));
    if !q.lists_any.is_empty() {
        sel.and_where(col("id").in_subquery(in_lists(ws, &q.lists_any)));
    }
    if !q.lists_none.is_empty() {
        sel.and_where(col("id").not_in_subquery(in_lists(ws, &q.lists_none)));
    }
    for f in &q.filters {
        sel.and_where(filter_condition(ws, f));
    }
    if let Some(field) = &q.has_value {
        sel.and_where(col("id").in_subquery(in_field(ws, field)));
    }
    if let Some((field, days)) = &q.on_days {
        // Dates are stored `YYYY-MM-DD` or `--MM-DD` (no year): both end in the month and day.
        let mut sub = in_field(ws, field);
        sub.and_where(Expr::cust("substr(field_value, -5)").is_in(days.iter().cloned()));
        sel.and_where(col("id").in_subquery(sub));
    }
    sel
}

/// The channel's address column.
fn address(channel: &str) -> &'static str {
    if channel == "text" {
        "primary_phone"
    } else {
        "primary_email"
    }
}

/// How many contacts the segment holds, how many of them have no address for the channel,
/// and how many have one on the suppression list.
pub async fn audience(
    db: &SqlitePool,
    ws: &WorkspaceAccess,
    q: &SegmentQuery,
    channel: &str,
) -> Result<(i64, i64, i64), sqlx::Error> {
    let addr = address(channel);
    let columns = vec![
        (Expr::cust(format!("{addr} IS NULL OR {addr} = ''")), "no_address"),
        (
            Expr::cust_with_values(
                format!("{addr} IN (SELECT address FROM suppressions WHERE workspace_id = ? AND channel = ?)"),
                [ws.id().as_str().to_string(), channel.to_string()],
            ),
            "suppressed",
        ),
    ];
    let (inner, values) = statement(ws, q, columns).build_sqlx(SqliteQueryBuilder);
    let sql = format!(
        "SELECT count(*), coalesce(sum(no_address), 0), coalesce(sum(suppressed AND NOT no_address), 0) FROM ({inner})"
    );
    sqlx::query_as_with(sqlx::AssertSqlSafe(sql), values)
        .fetch_one(db)
        .await
}

/// Resolves the segment into `campaign_recipients` for one occurrence, in one statement; a
/// contact already there for it is left as it is. How many were added.
pub async fn resolve_into(
    conn: &mut SqliteConnection,
    ws: &WorkspaceAccess,
    q: &SegmentQuery,
    campaign: &str,
    occurrence: &str,
    now: &str,
) -> Result<u64, sqlx::Error> {
    let columns = vec![
        (Expr::val(campaign.to_string()), "campaign_id"),
        (Expr::val(occurrence.to_string()), "occurrence"),
        (col("id"), "contact_id"),
        (col("workspace_id"), "workspace_id"),
        (Expr::val("pending"), "state"),
        (Expr::val(now.to_string()), "created_at"),
    ];
    let (select, values) = statement(ws, q, columns).build_sqlx(SqliteQueryBuilder);
    let sql = format!(
        "INSERT OR IGNORE INTO campaign_recipients (campaign_id, occurrence, contact_id, workspace_id, state, created_at) {select}"
    );
    Ok(sqlx::query_with(sqlx::AssertSqlSafe(sql), values)
        .execute(conn)
        .await?
        .rows_affected())
}

/// The segment's first contact (the oldest), for a sample.
pub async fn first(
    db: &SqlitePool,
    ws: &WorkspaceAccess,
    q: &SegmentQuery,
) -> Result<Option<crate::model::ids::ContactId>, sqlx::Error> {
    let mut sel = statement(ws, q, vec![(col("id"), "id")]);
    sel.order_by(Alias::new("id"), sea_query::Order::Asc).limit(1);
    let (sql, values) = sel.build_sqlx(SqliteQueryBuilder);
    let id: Option<String> = sqlx::query_scalar_with(sqlx::AssertSqlSafe(sql), values)
        .fetch_optional(db)
        .await?;
    Ok(id.and_then(|i| crate::model::ids::ContactId::parse(&i)))
}
