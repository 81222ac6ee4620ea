//! Whether a file is a sound pi-crm database: SQLite reads it, `PRAGMA integrity_check` finds
//! nothing wrong (every page, index and constraint), and it holds pi-crm's schema.

use std::path::Path;
use std::str::FromStr;

use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, Connection};

/// Checks `path` without changing it. The error says what is wrong, in a sentence.
pub async fn check(path: &Path) -> anyhow::Result<()> {
    let options = SqliteConnectOptions::from_str(&format!("sqlite://{}", path.display()))?
        .read_only(true)
        .immutable(true);
    let mut conn = options
        .connect()
        .await
        .map_err(|e| anyhow::anyhow!("{} cannot be opened as a database: {e}", path.display()))?;
    let outcome = inspect(&mut conn, path).await;
    let _ = conn.close().await;
    outcome
}

async fn inspect(conn: &mut sqlx::SqliteConnection, path: &Path) -> anyhow::Result<()> {
    let findings: Vec<String> = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_all(&mut *conn)
        .await
        .map_err(|e| anyhow::anyhow!("{} is damaged: {e}", path.display()))?;
    if findings != ["ok"] {
        let first = findings.into_iter().take(3).collect::<Vec<_>>().join("; ");
        anyhow::bail!("{} is damaged: {first}", path.display());
    }
    let newest: Option<i64> = sqlx::query_scalar("SELECT max(version) FROM _sqlx_migrations WHERE success")
        .fetch_one(&mut *conn)
        .await
        .map_err(|_| anyhow::anyhow!("{} is a database, but not pi-crm's", path.display()))?;
    let ours = crate::storage::db::MIGRATOR
        .iter()
        .map(|m| m.version)
        .max()
        .unwrap_or(0);
    match newest {
        Some(v) if v > ours => anyhow::bail!(
            "{} comes from a newer pi-crm (schema {v}; this one knows up to {ours}): upgrade pi-crm first",
            path.display()
        ),
        None => anyhow::bail!("{} is a database, but not pi-crm's", path.display()),
        Some(_) => Ok(()),
    }
}
