//! The audit log as a CSV download (settings page and `GET /api/v1/audit?format=csv`), with
//! the same filters and the same visibility as the list: who did what, where, when, and
//! through which face. Streamed a page at a time.

use std::collections::HashMap;

use axum::body::Bytes;
use futures_util::Stream;
use sqlx::SqlitePool;

use super::actor::Actor;
use super::audit::{self, Entry, Filter};
use super::import::cells::csv_rows;
use crate::error::AppResult;

const PAGE: u32 = 200;
const HEADER: [&str; 9] = [
    "timestamp",
    "user",
    "user_email",
    "workspace",
    "action",
    "entity_type",
    "entity_id",
    "via",
    "id",
];

/// A download about to stream: the filter checked, names of people and workspaces loaded.
pub struct AuditCsv {
    db: SqlitePool,
    actor: Actor,
    filter: Filter,
    people: HashMap<String, (String, String)>,
    workspaces: HashMap<String, String>,
}

pub async fn prepare(db: &SqlitePool, actor: &Actor, mut filter: Filter) -> AppResult<AuditCsv> {
    filter.cursor = None;
    filter.limit = Some(1);
    // A bad filter is a 422 now, before the download starts, not a broken file later.
    audit::list(db, actor, &filter).await?;
    filter.limit = Some(PAGE);
    let people: Vec<(String, String, String)> = sqlx::query_as("SELECT id, name, email FROM users")
        .fetch_all(db)
        .await?;
    let workspaces: Vec<(String, String)> = sqlx::query_as("SELECT id, name FROM workspaces").fetch_all(db).await?;
    Ok(AuditCsv {
        db: db.clone(),
        actor: actor.clone(),
        filter,
        people: people
            .into_iter()
            .map(|(id, name, email)| (id, (name, email)))
            .collect(),
        workspaces: workspaces.into_iter().collect(),
    })
}

enum Step {
    Header,
    Page(Option<String>),
    Done,
}

impl AuditCsv {
    pub fn stream(self) -> impl Stream<Item = Result<Bytes, std::io::Error>> + Send {
        futures_util::stream::try_unfold((self, Step::Header), |(csv, step)| async move {
            let cursor = match step {
                Step::Done => return Ok(None),
                Step::Header => {
                    let header = csv_rows([HEADER]).map_err(std::io::Error::other)?;
                    return Ok(Some((Bytes::from(header), (csv, Step::Page(None)))));
                }
                Step::Page(cursor) => cursor,
            };
            let mut filter = csv.filter.clone();
            filter.cursor = cursor;
            let page = audit::list(&csv.db, &csv.actor, &filter)
                .await
                .map_err(|e| std::io::Error::other(e.to_string()))?;
            let out = csv_rows(page.items.iter().map(|e| csv.row(e))).map_err(std::io::Error::other)?;
            let next = match page.next_cursor {
                Some(c) => Step::Page(Some(c)),
                None => Step::Done,
            };
            Ok(Some((Bytes::from(out), (csv, next))))
        })
    }

    fn row(&self, e: &Entry) -> [String; 9] {
        let (name, email) = e
            .user_id
            .as_ref()
            .and_then(|id| self.people.get(id).cloned())
            .unwrap_or_default();
        let workspace = e
            .workspace_id
            .as_ref()
            .map(|id| self.workspaces.get(id).cloned().unwrap_or_else(|| id.clone()))
            .unwrap_or_default();
        [
            e.timestamp.clone(),
            name,
            email,
            workspace,
            e.action.clone(),
            e.entity_type.clone(),
            e.entity_id.clone().unwrap_or_default(),
            e.via.clone(),
            e.id.clone(),
        ]
    }
}
