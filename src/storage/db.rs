//! The SQLite pool: every connection gets the same pragmas, and migrations are embedded.

use std::path::Path;
use std::str::FromStr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use sqlx::pool::PoolConnection;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Sqlite, SqlitePool};

pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// How long a statement waits for another connection's write lock before it fails.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// How long a connection beyond the first may sit unused before the pool closes it.
pub const IDLE_CONNECTION: Duration = Duration::from_secs(30);

/// Opens (creating if needed) the database at `path`. WAL lets readers run beside the one
/// writer; `synchronous=NORMAL` is durable across power loss in WAL mode except for the last
/// commits, which is the usual trade on SD cards.
pub async fn open(path: &Path) -> anyhow::Result<SqlitePool> {
    let options = SqliteConnectOptions::from_str(&format!("sqlite://{}", path.display()))?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .foreign_keys(true)
        .busy_timeout(BUSY_TIMEOUT)
        .pragma("temp_store", "memory")
        // 2 MB of page cache per connection: each connection has its own, so this times the
        // pool size is most of pi-crm's memory under load.
        .pragma("cache_size", "-2000")
        // Keep the query planner's statistics fresh, cheaply (SQLite's recommendation).
        .optimize_on_close(true, Some(400));
    // Two cores serve requests; four connections keep them busy while one waits on the disk.
    let pool = SqlitePoolOptions::new()
        .max_connections(4)
        .min_connections(1)
        // Each connection keeps up to 2 MB of pages: within a minute of a busy spell the pool
        // is back to one (sqlx looks every `IDLE_CONNECTION`), so memory taken by a burst of
        // work comes back (issue 35); the next burst opens connections again, well under a
        // millisecond each on a local file.
        .idle_timeout(Some(IDLE_CONNECTION))
        // A file on local disk does not drop connections the way a server does; sqlx's ping
        // before every checkout was a round trip to the connection's thread per statement.
        .test_before_acquire(false)
        .connect_with(options)
        .await
        .map_err(|e| anyhow::anyhow!("cannot open the database {}: {e}", path.display()))?;
    Ok(pool)
}

/// Runs for the server's life: once the pool is down to one idle connection (the others close
/// after `IDLE_CONNECTION` unused), that connection hands its page cache back too, so a quiet
/// server keeps none of a busy spell's pages (issue 35: memory a minute after heavy use). The
/// next request reads its pages again from the operating system's cache.
pub async fn shrink_when_quiet(pool: SqlitePool) {
    let mut tick = tokio::time::interval(IDLE_CONNECTION);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        tick.tick().await;
        if pool.size() > 1 || pool.num_idle() < pool.size() as usize {
            continue;
        }
        // Never waits: a connection taken by now means the quiet is over.
        let Some(mut conn) = pool.try_acquire() else { continue };
        if let Err(e) = sqlx::query("PRAGMA shrink_memory").execute(&mut *conn).await {
            tracing::debug!(error = %e, "shrinking an idle connection's cache failed");
        }
    }
}

/// Applies the migrations that have not run yet.
pub async fn migrate(pool: &SqlitePool) -> anyhow::Result<()> {
    MIGRATOR
        .run(pool)
        .await
        .map_err(|e| anyhow::anyhow!("migrating the database failed: {e}"))?;
    // Gathers planner statistics where they are missing or stale, scanning at most ~400 rows
    // per index, so start-up stays fast at any size.
    sqlx::query("PRAGMA analysis_limit = 400").execute(pool).await?;
    sqlx::query("PRAGMA optimize = 0x10002").execute(pool).await?;
    // Start-up read schema and statistics pages; an idle server need not keep them cached.
    sqlx::query("PRAGMA shrink_memory").execute(pool).await?;
    Ok(())
}

/// Where this connection keeps temporary data: memory (the pool's setting, fast for the small
/// sorts of everyday queries) or files. Bulk work switches to files: a million-value index
/// sort, or the statement journal of a delete that touches every page of an import — each
/// hundreds of MB in memory. A statement journal's home is fixed when a transaction begins,
/// so set this before `BEGIN` for that; a sort reads it as it runs.
pub async fn temp_on_disk(conn: &mut sqlx::SqliteConnection, on_disk: bool) -> Result<(), sqlx::Error> {
    let sql = if on_disk {
        "PRAGMA temp_store = file"
    } else {
        "PRAGMA temp_store = memory"
    };
    sqlx::query(sql).execute(conn).await.map(|_| ())
}

/// A connection of its own for one bulk job that changes the connection's settings (below,
/// and `temp_on_disk`). It is closed afterwards, never handed back to the pool, so no other
/// work inherits those settings, even when the job is abandoned half-way.
pub async fn own_connection(pool: &SqlitePool) -> Result<PoolConnection<Sqlite>, sqlx::Error> {
    let mut conn = pool.acquire().await?;
    conn.close_on_drop();
    Ok(conn)
}

/// A connection of its own (`own_connection`) that does not check foreign keys, for one bulk
/// write whose every row points at rows it made itself or that the caller checked while
/// holding the write lock (begin with `BEGIN_WRITE`, then check: nobody can delete them until
/// the commit). An import's million custom values otherwise cost a million look-ups of their
/// contact and workspace (0.6 s of a 100k-row import).
pub async fn unchecked_writer(pool: &SqlitePool) -> Result<PoolConnection<Sqlite>, sqlx::Error> {
    let mut conn = own_connection(pool).await?;
    sqlx::query("PRAGMA foreign_keys = OFF").execute(&mut *conn).await?;
    Ok(conn)
}

/// How every transaction that writes begins: with the write lock taken up front, waiting for
/// it up to `busy_timeout`. A deferred `BEGIN` that reads first and writes later fails at once
/// ("database is locked") when another connection committed in between, since a WAL reader
/// cannot move its snapshot forward — even just `PRAGMA optimize` on a closing connection.
pub const BEGIN_WRITE: &str = "BEGIN IMMEDIATE";

/// Appends `(?, ?, …)` with each of `values` bound: the list of an `IN`. The caller makes
/// sure it is not empty (`IN ()` is an error in SQLite).
pub fn push_list<T: ToString>(q: &mut sqlx::QueryBuilder<Sqlite>, values: impl IntoIterator<Item = T>) {
    q.push("(");
    let mut sep = q.separated(", ");
    for v in values {
        sep.push_bind(v.to_string());
    }
    q.push(")");
}

/// A write transaction (`BEGIN_WRITE`) on a connection of the pool. It waits its turn while
/// a bulk job's transaction is open (`bulk_turn`).
pub async fn begin_write(pool: &SqlitePool) -> Result<sqlx::Transaction<'static, Sqlite>, sqlx::Error> {
    let _turn = {
        let _waiting = Waiting::now();
        TURNS.read().await
    };
    let mut tx = pool.begin_with(BEGIN_WRITE).await?;
    see_schema_changes(&mut tx).await?;
    Ok(tx)
}

/// To run first in each write transaction: reads the schema again if another connection
/// changed it (an import or a revert sets indexes and triggers aside and makes them again,
/// `storage::paused_triggers`). Otherwise SQLite finds the change while it compiles the
/// transaction's first statement, and for a `DELETE` of contacts — whose trigger removes
/// their search documents from the FTS5 table while foreign keys cascade — the FTS5 table's
/// own look-ups reset the schema half-way through and the statement fails once with "no such
/// table: base_contacts" (SQLite 3.40 and 3.51 alike; `tests/api/migrations.rs`).
pub async fn see_schema_changes(conn: &mut sqlx::SqliteConnection) -> Result<(), sqlx::Error> {
    sqlx::query("SELECT 1 FROM sqlite_schema LIMIT 0")
        .execute(conn)
        .await
        .map(|_| ())
}

/// How many of this process's writers wait for their turn right now.
static WAITING: AtomicUsize = AtomicUsize::new(0);

/// Counts a writer in `WAITING` while it waits, however its wait ends (a request given up
/// drops its future half-way).
struct Waiting;

impl Waiting {
    fn now() -> Waiting {
        WAITING.fetch_add(1, Ordering::Relaxed);
        Waiting
    }
}

impl Drop for Waiting {
    fn drop(&mut self) {
        WAITING.fetch_sub(1, Ordering::Relaxed);
    }
}

/// True while some writer of this process waits for a bulk job's transaction to end: the job
/// commits soon, and otherwise may go on writing in the same transaction.
pub fn writers_waiting() -> bool {
    WAITING.load(Ordering::Relaxed) > 0
}

/// Turns at the write lock between this process's writers and its bulk jobs (an import's
/// many transactions). SQLite's busy handler is no queue: a waiting writer sleeps and tries
/// again, up to 100 ms apart, so a job that begins its next transaction as soon as it commits
/// the last kept the lock from them for seconds (p99 1.3 s beside an import). Here a writer
/// waits for the job's transaction to end, and the job for the writers that came first
/// (tokio's lock is fair) to have begun theirs; then SQLite's own lock sorts out the rest, in
/// a few milliseconds. A writer holds its turn only until its transaction has begun, so no
/// one waits here on someone else's long transaction. Process-wide: with several databases in
/// one process (tests), a job only delays others' writers by one of its transactions.
static TURNS: tokio::sync::RwLock<()> = tokio::sync::RwLock::const_new(());

/// A bulk job's turn: hold it for one of its transactions, begin to commit.
async fn bulk_turn() -> tokio::sync::RwLockWriteGuard<'static, ()> {
    TURNS.write().await
}

/// Begins a bulk job's transaction on its own connection in the job's turn (`bulk_turn`),
/// having read any change to the schema (`see_schema_changes`); the turn is held until the
/// returned guard is dropped, after the commit.
pub async fn begin_bulk(
    conn: &mut sqlx::SqliteConnection,
) -> Result<tokio::sync::RwLockWriteGuard<'static, ()>, sqlx::Error> {
    let turn = bulk_turn().await;
    sqlx::query(BEGIN_WRITE).execute(&mut *conn).await?;
    see_schema_changes(conn).await?;
    Ok(turn)
}

/// How long a bulk writer's transaction waits for a write lock someone else holds (a revert,
/// a CLI import) before its job fails.
pub const BULK_BUSY_TIMEOUT: Duration = Duration::from_secs(20);
/// The most a bulk writer waits for readers of older snapshots when it starts the write-ahead
/// log over (`restart_wal`), holding the write lock.
const WAL_RESTART_WAIT: Duration = Duration::from_millis(100);

async fn set_busy_timeout(conn: &mut sqlx::SqliteConnection, wait: Duration) -> Result<(), sqlx::Error> {
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "PRAGMA busy_timeout = {}",
        wait.as_millis()
    )))
    .execute(conn)
    .await
    .map(|_| ())
}

/// An `unchecked_writer` for a job that writes in many short transactions of its own (an
/// import), each begun with `bulk_turn`:
/// - it waits `BULK_BUSY_TIMEOUT` for the write lock;
/// - its statement journals (a multi-row insert that fails half-way is undone from one) go to
///   a file, not memory: they copy every page a statement changes, up to 60 MB of a 100k-row
///   import's peak;
/// - it does not checkpoint after each commit: the job starts the log over itself
///   (`restart_wal`), and most pages change again in its next transaction, to be copied once.
pub async fn bulk_writer(pool: &SqlitePool) -> Result<PoolConnection<Sqlite>, sqlx::Error> {
    let mut conn = unchecked_writer(pool).await?;
    for_bulk_work(&mut conn).await?;
    Ok(conn)
}

/// A connection of its own (`own_connection`) for a job that deletes or marks many rows in
/// short transactions of its own (a revert), with foreign keys checked (their cascades delete
/// what hangs off each contact), and otherwise as a `bulk_writer`.
pub async fn bulk_deleter(pool: &SqlitePool) -> Result<PoolConnection<Sqlite>, sqlx::Error> {
    let mut conn = own_connection(pool).await?;
    for_bulk_work(&mut conn).await?;
    Ok(conn)
}

async fn for_bulk_work(conn: &mut sqlx::SqliteConnection) -> Result<(), sqlx::Error> {
    set_busy_timeout(conn, BULK_BUSY_TIMEOUT).await?;
    temp_on_disk(conn, true).await?;
    sqlx::query("PRAGMA wal_autocheckpoint = 0").execute(conn).await?;
    Ok(())
}

/// For a `bulk_writer` between its transactions: copies the write-ahead log into the database
/// file and starts it again from its beginning. SQLite's automatic checkpoint never starts the
/// log over while some reader is using it, and with people reading all along a bulk job's log
/// grew to gigabytes. The copy runs first without blocking anyone (`PASSIVE`); then, in the
/// job's turn, what is left is copied and the log restarted, waiting at most
/// `WAL_RESTART_WAIT` for readers (this holds the write lock), after which the log is simply
/// left for the next time.
pub async fn restart_wal(conn: &mut sqlx::SqliteConnection) -> Result<(), sqlx::Error> {
    sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
        .execute(&mut *conn)
        .await?;
    let _turn = bulk_turn().await;
    set_busy_timeout(conn, WAL_RESTART_WAIT).await?;
    let checkpoint = sqlx::query("PRAGMA wal_checkpoint(RESTART)").execute(&mut *conn).await;
    set_busy_timeout(conn, BULK_BUSY_TIMEOUT).await?;
    checkpoint.map(|_| ())
}
