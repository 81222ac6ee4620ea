//! The dashboard's costly numbers — each stage's count and money sum, the week's counts — kept
//! until anything is written to the database (`storage::freshness`) or a minute passes (the
//! week moves on). At 100k contacts a stage sum reads 40k values; a dashboard opened again
//! with nothing changed need not.

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
        let version = match self.freshness.version(db).await {
            Ok(v) => v,
            Err(e) => {
                tracing::warn!(error = %e, "cannot tell whether the database changed; computing afresh");
                return compute().await;
            }
        };
        if let Some(kept) = self.kept::<T>(&key, version) {
            return Ok(kept);
        }
        // The version is read before computing: a write that lands meanwhile leaves a copy
        // marked older than the database, which the next read computes again.
        let value = compute().await?;
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= MOST_KEYS {
            entries.clear();
        }
        entries.insert(
            key,
            Entry {
                version,
                at: Instant::now(),
                value: Arc::new(value.clone()),
            },
        );
        Ok(value)
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
