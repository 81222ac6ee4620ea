//! Bulk work in turns: a connection of its own that writes in short transactions (`TURN` while
//! someone in this process waits to write, `TURN_ALONE` otherwise), each taken in turn with
//! people's writes (`storage::db::bulk_turn`), as an import's run does.
//! A revert's marks and deletions, and the deletion of a failed run's contacts, go this way:
//! in fixed batches on the pool, a 100k-contact revert took 36 s with saves beside it waiting
//! up to 3.9 s, and its statement journals (kept in memory on the pool's connections) took
//! the server to 147 MB. Like a run, it starts the write-ahead log over now and then rather
//! than checkpointing after each commit, inside its turn.

use std::time::{Duration, Instant};

use sqlx::pool::PoolConnection;
use sqlx::{Sqlite, SqliteConnection, SqlitePool};

use crate::error::AppResult;
use crate::storage;

/// How long a transaction goes on while someone in this process waits to write. Shorter than a
/// run's (`job::TRANSACTION_TIME`): deletions dirty pages all over the indexes, and each commit
/// writes them out (`./scripts/bench imports`, saves beside a 100k revert: at 100 ms, p50
/// 369 ms, p99 762 ms).
const TURN: Duration = Duration::from_millis(50);
/// How long a transaction goes on while nobody waits.
const TURN_ALONE: Duration = Duration::from_secs(1);

pub struct Turns {
    conn: PoolConnection<Sqlite>,
    /// The open transaction's turn and when it began.
    open: Option<(tokio::sync::RwLockWriteGuard<'static, ()>, Instant)>,
    wal_restarted: Instant,
}

impl Turns {
    /// A connection of its own (`storage::db::bulk_deleter`), closed when dropped (an open
    /// transaction is rolled back).
    pub async fn open(db: &SqlitePool) -> AppResult<Turns> {
        Ok(Turns {
            conn: storage::db::bulk_deleter(db).await?,
            open: None,
            wal_restarted: Instant::now(),
        })
    }

    /// The connection inside a transaction: the one open, or a new one begun in turn. `true`
    /// when it has just begun (for what each transaction checks first).
    pub async fn within(&mut self) -> AppResult<(&mut SqliteConnection, bool)> {
        let began = self.open.is_none();
        if began {
            let turn = storage::db::begin_bulk(&mut self.conn).await?;
            self.open = Some((turn, Instant::now()));
        }
        Ok((&mut self.conn, began))
    }

    /// Commits when the transaction has had its time, or when `done`.
    pub async fn commit_if_due(&mut self, done: bool) -> AppResult<()> {
        let due = match &self.open {
            Some((_, began)) => {
                let open_for = began.elapsed();
                done || open_for >= TURN_ALONE || (open_for >= TURN && storage::db::writers_waiting())
            }
            None => false,
        };
        if due {
            sqlx::query("COMMIT").execute(&mut *self.conn).await?;
            self.open = None;
            if done || self.wal_restarted.elapsed() >= super::job::WAL_RESTART_EVERY {
                storage::db::restart_wal(&mut self.conn).await?;
                self.wal_restarted = Instant::now();
            }
        }
        Ok(())
    }
}
