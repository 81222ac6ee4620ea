//! `pi-crm restore FILE [--force]` (SPEC §12): the file is checked first; a data directory a
//! running server holds is refused (unless forced); the current database is kept beside as
//! `pi-crm.db.before-restore-<time>` together with its write-ahead log, so nothing it held is
//! lost; then the backup is copied in under a temporary name and renamed into place.

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
    let stamp = super::stamp(crate::clock::now());
    let kept = if database.exists() {
        let kept = sibling(&database, &format!(".before-restore-{stamp}"));
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
    let partial = sibling(&database, ".restoring");
    std::fs::copy(file, &partial).map_err(|e| anyhow::anyhow!("copying {} failed: {e}", file.display()))?;
    sync_file(&partial)?;
    std::fs::rename(&partial, &database)?;
    sync_dir(&config.data_dir);
    Ok(Restored { database, kept })
}

/// `pi-crm.db` + `-wal` → `pi-crm.db-wal`.
fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_os_string();
    name.push(suffix);
    PathBuf::from(name)
}
