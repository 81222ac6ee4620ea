//! One server per data directory: `serve` holds an exclusive lock on `<data_dir>/pi-crm.lock`
//! for as long as it runs, and `restore` will not replace a database a server has open. The
//! operating system drops the lock when the process ends, however it ends.

use std::fs::{File, OpenOptions, TryLockError};
use std::path::Path;

const NAME: &str = "pi-crm.lock";

/// The data directory's lock, held until dropped.
#[derive(Debug)]
pub struct DataDirLock(#[allow(dead_code)] File);

/// Takes the lock, or says (`Ok(None)`) that a running server holds it.
pub fn try_take(data_dir: &Path) -> anyhow::Result<Option<DataDirLock>> {
    std::fs::create_dir_all(data_dir)?;
    let path = data_dir.join(NAME);
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| anyhow::anyhow!("cannot open {}: {e}", path.display()))?;
    match file.try_lock() {
        Ok(()) => Ok(Some(DataDirLock(file))),
        Err(TryLockError::WouldBlock) => Ok(None),
        Err(TryLockError::Error(e)) => Err(anyhow::anyhow!("cannot lock {}: {e}", path.display())),
    }
}
