//! `pi-crm restore FILE [--force]` (SPEC §12): the file is checked first; a data directory a
//! running server holds is refused (unless forced); the backup is copied in under a temporary
//! name — with its write-ahead log when it has a non-empty one (a kept `before-restore` copy
//! does), folded in by a checkpoint, so no write it holds is lost — and checked again; the
//! current database is kept beside as `pi-crm.db.before-restore-<time>` (a name no earlier
//! restore used) together with its log; then the copy is renamed into place.

use std::path::{Path, PathBuf};

use super::{lock, sync_dir, sync_file, verify};
use crate::config::Config;

/// What a restore did, for the person who ran it.
pub struct Restored {
    pub database: PathBuf,
    /// Where the database it replaced was kept, if there was one.
    pub kept: Option<PathBuf>,
}

pub async fn restore(config: &Config, file: &Path, force: bool) -> anyhow::Result<Restored> {
    if !file.is_file() {
        anyhow::bail!("{} is not a file", file.display());
    }
    verify::check(file).await?;
    let _lock = match lock::try_take(&config.data_dir)? {
        Some(lock) => Some(lock),
        None if force => None,
        None => anyhow::bail!(
            "a pi-crm server is running on {}; stop it first (or use --force, at your own risk)",
            config.data_dir.display()
        ),
    };
    let database = config.database_path();
    let partial = sibling(&database, ".restoring");
    remove_with_log(&partial);
    let copied = copy_with_log(file, &partial).await;
    if let Err(e) = copied {
        remove_with_log(&partial);
        return Err(e);
    }
    let stamp = super::stamp(crate::clock::now());
    let kept = if database.exists() {
        let kept = unused_kept_name(&database, &stamp);
        std::fs::rename(&database, &kept)?;
        // The log goes with its database (SQLite finds it by name), so the kept copy opens
        // with every write it had; the shared-memory index is rebuilt from it on opening.
        let wal = sibling(&database, "-wal");
        if wal.exists() {
            std::fs::rename(&wal, sibling(&kept, "-wal"))?;
        }
        Some(kept)
    } else {
        None
    };
    let _ = std::fs::remove_file(sibling(&database, "-shm"));
    let _ = std::fs::remove_file(sibling(&database, "-wal"));
    std::fs::rename(&partial, &database)?;
    sync_dir(&config.data_dir);
    Ok(Restored { database, kept })
}

/// Copies `file` to `to` with its write-ahead log, when it has a non-empty one, and folds the
/// log in (a checkpoint on the copy: the source is not touched); then checks the copy whole.
async fn copy_with_log(file: &Path, to: &Path) -> anyhow::Result<()> {
    std::fs::copy(file, to).map_err(|e| anyhow::anyhow!("copying {} failed: {e}", file.display()))?;
    crate::private_files::file(to)?;
    let wal = sibling(file, "-wal");
    let has_log = std::fs::metadata(&wal).is_ok_and(|m| m.len() > 0);
    if has_log {
        std::fs::copy(&wal, sibling(to, "-wal"))
            .map_err(|e| anyhow::anyhow!("copying {} failed: {e}", wal.display()))?;
        fold_log(to)
            .await
            .map_err(|e| anyhow::anyhow!("{} has a write-ahead log that could not be read: {e}", file.display()))?;
    }
    sync_file(to)?;
    verify::check(to).await
}

/// Checkpoints the copy's log into it and leaves no log beside it.
async fn fold_log(db: &Path) -> anyhow::Result<()> {
    use sqlx::{ConnectOptions, Connection};
    let mut conn = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(db)
        .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal)
        .connect()
        .await?;
    sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
        .execute(&mut conn)
        .await?;
    // Back to a rollback journal, so the file stands alone (as a backup does).
    sqlx::query("PRAGMA journal_mode = DELETE").execute(&mut conn).await?;
    conn.close().await?;
    let _ = std::fs::remove_file(sibling(db, "-wal"));
    let _ = std::fs::remove_file(sibling(db, "-shm"));
    Ok(())
}

/// `pi-crm.db.before-restore-<stamp>`, or `…-<stamp>-2`, `-3` … when an earlier restore in the
/// same second kept one: a kept database is never overwritten.
fn unused_kept_name(database: &Path, stamp: &str) -> PathBuf {
    let mut n = 1;
    loop {
        let suffix = if n == 1 {
            format!(".before-restore-{stamp}")
        } else {
            format!(".before-restore-{stamp}-{n}")
        };
        let candidate = sibling(database, &suffix);
        if !candidate.exists() && !sibling(&candidate, "-wal").exists() {
            return candidate;
        }
        n += 1;
    }
}

fn remove_with_log(db: &Path) {
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(sibling(db, suffix));
    }
}

/// `pi-crm.db` + `-wal` → `pi-crm.db-wal`.
fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_os_string();
    name.push(suffix);
    PathBuf::from(name)
}
