//! Whether anything was written since: SQLite's `PRAGMA data_version`, read on a connection of
//! its own that never writes. The number changes with every commit by any other connection —
//! the pool's, a job's, the CLI's in another process — so a value read before a computation
//! and still the same afterwards means nothing the computation read has changed.

use sqlx::sqlite::SqliteConnection;
use sqlx::{ConnectOptions, SqlitePool};

#[derive(Default)]
pub struct Freshness {
    conn: tokio::sync::Mutex<Option<SqliteConnection>>,
}

impl Freshness {
    pub async fn version(&self, pool: &SqlitePool) -> Result<i64, sqlx::Error> {
        let mut held = self.conn.lock().await;
        let conn = match held.as_mut() {
            Some(conn) => conn,
            None => held.insert(pool.connect_options().connect().await?),
        };
        let read = sqlx::query_scalar("PRAGMA data_version").fetch_one(&mut *conn).await;
        if read.is_err() {
            // A broken connection is opened again next time.
            *held = None;
        }
        read
    }
}
