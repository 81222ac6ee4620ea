//! When sessions and API keys were last used. A request only notes it in memory; a background
//! task writes the notes in one short transaction every 30 s, and once more at shutdown. So a
//! read never writes, and never waits on another writer's lock (a long import's, say) just to
//! say it was here.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use sqlx::SqlitePool;

use super::ids::{ApiKeyId, SessionId};
use crate::clock;
use crate::error::AppResult;
use crate::storage;

/// How often the notes are written.
pub const FLUSH_EVERY: Duration = Duration::from_secs(30);

#[derive(Debug, Default)]
pub struct Activity {
    pending: Mutex<Seen>,
}

#[derive(Debug, Default)]
struct Seen {
    sessions: HashMap<SessionId, String>,
    keys: HashMap<ApiKeyId, String>,
}

impl Seen {
    /// Puts back notes a failed write took, keeping any newer note made meanwhile.
    fn restore(&mut self, older: Seen) {
        for (id, at) in older.sessions {
            self.sessions.entry(id).or_insert(at);
        }
        for (id, at) in older.keys {
            self.keys.entry(id).or_insert(at);
        }
    }
}

impl Activity {
    fn seen(&self) -> std::sync::MutexGuard<'_, Seen> {
        self.pending.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub fn session_seen(&self, id: &SessionId) {
        self.seen().sessions.insert(id.clone(), clock::now_text());
    }

    pub fn key_used(&self, id: &ApiKeyId) {
        self.seen().keys.insert(id.clone(), clock::now_text());
    }

    /// Writes the notes taken since the last flush; on failure they wait for the next one.
    /// Returns how many rows were noted.
    pub async fn flush(&self, db: &SqlitePool) -> AppResult<usize> {
        let taken = std::mem::take(&mut *self.seen());
        let noted = taken.sessions.len() + taken.keys.len();
        if noted == 0 {
            return Ok(0);
        }
        let written = async {
            let mut tx = storage::db::begin_write(db).await?;
            storage::sessions::touch_all(&mut tx, &taken.sessions).await?;
            storage::api_keys::touch_all(&mut tx, &taken.keys).await?;
            tx.commit().await
        }
        .await;
        match written {
            Ok(()) => Ok(noted),
            Err(e) => {
                self.seen().restore(taken);
                Err(e.into())
            }
        }
    }
}
