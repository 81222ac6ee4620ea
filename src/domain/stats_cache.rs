//! What many requests read and few writes change, kept until anything is written to the
//! database (`storage::freshness`) or a minute passes (the week moves on): the dashboard's
//! costly numbers — each stage's count and money sum, the week's counts; at 100k contacts a
//! stage sum reads 40k values — and the settings every contacts page reads (its fields, lists
//! and columns: three statements, each a round trip to a connection's thread).

use std::any::Any;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sqlx::SqlitePool;

use crate::error::AppResult;
use crate::storage::freshness::Freshness;

const KEPT_FOR: Duration = Duration::from_secs(60);
/// More keys than a household's workspaces times a few numbers means something is wrong;
/// the cache starts over rather than grow.
const MOST_KEYS: usize = 1_000;

#[derive(Default)]
pub struct StatsCache {
    freshness: Freshness,
    entries: Mutex<HashMap<String, Entry>>,
}

struct Entry {
    version: i64,
    at: Instant,
    value: Arc<dyn Any + Send + Sync>,
}

impl StatsCache {
    /// The value under `key`, computed by `compute` unless a copy made since the last write
    /// (and within the minute) is kept. Keys name what was computed, never who asked: the
    /// caller has checked access, and the value holds no one's role.
    pub async fn get_or<T, F, Fut>(&self, db: &SqlitePool, key: String, compute: F) -> AppResult<T>
    where
        T: Clone + Send + Sync + 'static,
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = AppResult<T>>,
    {
        self.as_of(db).await.get_or(key, compute).await
    }

    /// The database as it is now, for several look-ups in one request: one read of its
    /// version serves them all.
    pub async fn as_of(&self, db: &SqlitePool) -> AsOf<'_> {
        let version = match self.freshness.version(db).await {
            Ok(v) => Some(v),
            Err(e) => {
                tracing::warn!(error = %e, "cannot tell whether the database changed; computing afresh");
                None
            }
        };
        AsOf { cache: self, version }
    }

    fn keep<T: Send + Sync + 'static>(&self, key: String, version: i64, value: T) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= MOST_KEYS {
            entries.clear();
        }
        entries.insert(
            key,
            Entry {
                version,
                at: Instant::now(),
                value: Arc::new(value),
            },
        );
    }

    fn kept<T: Clone + 'static>(&self, key: &str, version: i64) -> Option<T> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        let entry = entries.get(key)?;
        if entry.version != version || entry.at.elapsed() > KEPT_FOR {
            return None;
        }
        entry.value.downcast_ref::<T>().cloned()
    }
}

/// The kept values as of one read of the database's version (`StatsCache::as_of`).
pub struct AsOf<'a> {
    cache: &'a StatsCache,
    /// `None`: the version could not be read, so nothing kept is trusted.
    version: Option<i64>,
}

impl AsOf<'_> {
    /// `StatsCache::get_or` against this version.
    pub async fn get_or<T, F, Fut>(&self, key: String, compute: F) -> AppResult<T>
    where
        T: Clone + Send + Sync + 'static,
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = AppResult<T>>,
    {
        let Some(version) = self.version else {
            return compute().await;
        };
        if let Some(kept) = self.cache.kept::<T>(&key, version) {
            return Ok(kept);
        }
        // The version was read before computing: a write that lands meanwhile leaves a copy
        // marked older than the database, which the next read computes again.
        let value = compute().await?;
        self.cache.keep(key, version, value.clone());
        Ok(value)
    }
}
