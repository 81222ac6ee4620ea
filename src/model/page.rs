//! Cursor pagination, shared by every list: `limit` (1–200, default 50) and an opaque `cursor`
//! that is the id of the last item already seen. Ids are UUIDv7, so id order is creation order.

use serde::{Deserialize, Serialize};

use crate::error::{AppError, AppResult};

pub const DEFAULT_LIMIT: u32 = 50;
pub const MAX_LIMIT: u32 = 200;

#[derive(Debug, Clone, Default, Deserialize)]
pub struct PageRequest {
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

/// A validated page request.
#[derive(Debug, Clone)]
pub struct PageSpec {
    pub limit: u32,
    pub after: Option<String>,
}

impl PageRequest {
    /// The page size asked for, checked; for lists whose cursor is not one id.
    pub fn limit(&self) -> AppResult<u32> {
        let limit = self.limit.unwrap_or(DEFAULT_LIMIT);
        if limit == 0 || limit > MAX_LIMIT {
            return Err(AppError::invalid(
                "limit",
                format!("limit must be between 1 and {MAX_LIMIT}"),
            ));
        }
        Ok(limit)
    }

    pub fn parse(&self) -> AppResult<PageSpec> {
        let limit = self.limit()?;
        let after = match self.cursor.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(c) if uuid::Uuid::try_parse(c).is_ok() => Some(c.to_string()),
            Some(_) => return Err(AppError::invalid("cursor", "this cursor is not valid")),
        };
        Ok(PageSpec { limit, after })
    }
}

impl PageSpec {
    /// How many rows to fetch: one more than the page, to know whether another page follows.
    pub fn fetch(&self) -> i64 {
        i64::from(self.limit) + 1
    }
}

#[derive(Debug, Serialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

impl<T> Page<T> {
    /// Builds a page from `spec.fetch()` rows; `id` gives the cursor of an item.
    pub fn from_rows(mut rows: Vec<T>, spec: &PageSpec, id: impl Fn(&T) -> String) -> Page<T> {
        let more = rows.len() > spec.limit as usize;
        rows.truncate(spec.limit as usize);
        let next_cursor = if more { rows.last().map(id) } else { None };
        Page {
            items: rows,
            next_cursor,
        }
    }

    /// Pages through items already in memory, sorted by ascending id (small lists such as
    /// workspaces and keys), with the same contract as a SQL-backed list.
    pub fn slice(items: Vec<T>, spec: &PageSpec, id: impl Fn(&T) -> String) -> Page<T> {
        let rows: Vec<T> = items
            .into_iter()
            .filter(|item| {
                spec.after
                    .as_ref()
                    .is_none_or(|after| id(item).as_str() > after.as_str())
            })
            .take(spec.fetch() as usize)
            .collect();
        Page::from_rows(rows, spec, id)
    }

    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            next_cursor: self.next_cursor,
        }
    }
}
