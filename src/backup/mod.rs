//! Backups (SPEC §12): a consistent copy of the live database made while others keep writing
//! (`VACUUM INTO`), checked (`PRAGMA integrity_check`) before it counts, copied to a second
//! place when one is set, and thinned to the newest of each recent day and week.
//!
//! What is known about each backup lives beside it, not in the database it copies: a
//! `<file>.verified` note written once the check passed, with the size and modification time
//! the file had then. A file without its note, or that changed since, is not counted as good.
//! So the list survives a restore, and a USB disk carries its own record.

pub mod download;
pub mod lock;
pub mod restore;
pub mod retention;
pub mod status;
pub mod verify;

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use sqlx::SqlitePool;

use crate::config::Config;
use crate::storage::db;

/// `pi-crm-20261127-030000.db`: sorts by time, says when at a glance.
const PREFIX: &str = "pi-crm-";
const SUFFIX: &str = ".db";
const NOTE: &str = ".verified";

/// One backup file in a backup directory.
#[derive(Debug, Clone)]
pub struct Backup {
    pub file: String,
    /// When it was made, UTC.
    pub created_at: String,
    pub size: u64,
    /// It passed `PRAGMA integrity_check` and has not changed since.
    pub verified: bool,
    /// The other directories it was copied to (and checked there).
    pub copied_to: Vec<String>,
    pub path: PathBuf,
}

/// The note beside a checked backup.
#[derive(Debug, Serialize, Deserialize)]
struct Note {
    verified_at: String,
    size: u64,
    /// Modification time when checked, in nanoseconds since the epoch.
    modified: u128,
    #[serde(default)]
    copied_to: Vec<String>,
}

fn modified(path: &Path) -> std::io::Result<(u64, u128)> {
    let meta = std::fs::metadata(path)?;
    let nanos = meta
        .modified()?
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    Ok((meta.len(), nanos))
}

fn note_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(NOTE);
    path.with_file_name(name)
}

fn write_note(path: &Path, copied_to: Vec<String>) -> anyhow::Result<()> {
    let (size, modified) = modified(path)?;
    let note = Note {
        verified_at: crate::clock::now_text(),
        size,
        modified,
        copied_to,
    };
    write_durably(&note_path(path), serde_json::to_string_pretty(&note)?.as_bytes())
}

/// `20261127-030000`: the time in backup names and in a restore's safety copy, UTC.
const STAMP: &str = "%Y%m%d-%H%M%S";
/// How many characters a `STAMP` takes.
const STAMP_LEN: usize = "20261127-030000".len();

pub(crate) fn stamp(t: Timestamp) -> String {
    t.strftime(STAMP).to_string()
}

/// The time a backup's name says, when it is one of ours.
fn created_at(name: &str) -> Option<Timestamp> {
    let stamp = name.strip_prefix(PREFIX)?.strip_suffix(SUFFIX)?;
    jiff::civil::DateTime::strptime(STAMP, stamp.get(..STAMP_LEN)?)
        .ok()?
        .to_zoned(jiff::tz::TimeZone::UTC)
        .ok()
        .map(|z| z.timestamp())
}

/// One backup file as listed, when its name is one of ours.
fn describe(path: PathBuf) -> Option<Backup> {
    let name = path.file_name()?.to_string_lossy().to_string();
    let at = created_at(&name)?;
    let (size, modified_now) = modified(&path).ok()?;
    let note: Option<Note> = std::fs::read(note_path(&path))
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok());
    let verified = note
        .as_ref()
        .is_some_and(|n| n.size == size && n.modified == modified_now);
    Some(Backup {
        file: name,
        created_at: crate::clock::format(at),
        size,
        verified,
        copied_to: note.map(|n| n.copied_to).unwrap_or_default(),
        path,
    })
}

/// The backups in `dir`, newest first.
pub fn list(dir: &Path) -> anyhow::Result<Vec<Backup>> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => anyhow::bail!("cannot read the backup directory {}: {e}", dir.display()),
    };
    let mut backups = Vec::new();
    for entry in entries {
        backups.extend(describe(entry?.path()));
    }
    backups.sort_by(|a, b| in_sequence(&b.file).cmp(&in_sequence(&a.file)));
    Ok(backups)
}

/// Where a backup's name puts it in time: its stamp, then the number a later backup in the
/// same second is given (`-2`, `-3`, …). In plain name order `…-2.db` comes before `….db`,
/// and the retention rule then took the newer backup for the older and removed it.
fn in_sequence(name: &str) -> (&str, u32) {
    let stem = name
        .strip_prefix(PREFIX)
        .and_then(|n| n.strip_suffix(SUFFIX))
        .unwrap_or(name);
    match stem.get(STAMP_LEN..).and_then(|rest| rest.strip_prefix('-')) {
        Some(n) => (&stem[..STAMP_LEN], n.parse().unwrap_or(0)),
        None => (stem, 1),
    }
}

/// `list`, read on a blocking thread (it touches every file of the directory).
pub async fn list_in(dir: PathBuf) -> anyhow::Result<Vec<Backup>> {
    tokio::task::spawn_blocking(move || list(&dir)).await?
}

/// The newest backup that counts as good, in the configured backup directory.
pub async fn last_good(config: &Config) -> Option<Backup> {
    list_in(config.backup_dir())
        .await
        .ok()?
        .into_iter()
        .find(|b| b.verified)
}

/// Makes a backup: into `to` when given (`pi-crm backup --to DIR`, kept as is), else into the
/// backup directory, then copied to `backup_copy_to` and both thinned by the retention rule.
pub async fn make(pool: &SqlitePool, config: &Config, to: Option<&Path>) -> anyhow::Result<Backup> {
    let dir = to.map(Path::to_path_buf).unwrap_or_else(|| config.backup_dir());
    let now = crate::clock::now();
    let path = write_checked_copy(pool, &dir, now).await?;
    keep_secret_key_beside(config, &dir)?;
    let mut copied_to = Vec::new();
    if to.is_none()
        && let Some(other) = &config.backup_copy_to
        && other != &dir
    {
        copy_checked(&path, other).await?;
        keep_secret_key_beside(config, other)?;
        copied_to.push(other.display().to_string());
    }
    write_note(&path, copied_to)?;
    if to.is_none() {
        let tz = config.time_zone()?;
        for d in std::iter::once(&dir).chain(config.backup_copy_to.as_ref()) {
            retention::prune(d, config.backup_keep_daily, config.backup_keep_weekly, &tz)?;
        }
    }
    let shown = path.display().to_string();
    describe(path).ok_or_else(|| anyhow::anyhow!("the backup {shown} vanished after it was made"))
}

/// `VACUUM INTO` a temporary name, check the copy, then give it its name: a file with a
/// backup's name is always whole.
async fn write_checked_copy(pool: &SqlitePool, dir: &Path, now: Timestamp) -> anyhow::Result<PathBuf> {
    crate::private_files::dir(dir)
        .map_err(|e| anyhow::anyhow!("cannot create the backup directory {}: {e}", dir.display()))?;
    let stamp = stamp(now);
    // A later backup of the same second comes after every one made in it, kept or not yet
    // pruned, so that it is the newest in `in_sequence`'s order.
    let made_this_second = list(dir)?
        .iter()
        .filter_map(|b| {
            let (at, n) = in_sequence(&b.file);
            (at == stamp).then_some(n)
        })
        .max();
    let mut n = made_this_second.map_or(1, |n| n + 1);
    let name = |n: u32| match n {
        1 => format!("{PREFIX}{stamp}{SUFFIX}"),
        n => format!("{PREFIX}{stamp}-{n}{SUFFIX}"),
    };
    let mut path = dir.join(name(n));
    while path.exists() {
        n += 1;
        path = dir.join(name(n));
    }
    let partial = dir.join(format!(
        ".{}.partial",
        path.file_name().unwrap_or_default().to_string_lossy()
    ));
    let _ = std::fs::remove_file(&partial);
    let mut conn = db::own_connection(pool).await?;
    let vacuumed = sqlx::query("VACUUM INTO ?")
        .bind(partial.to_string_lossy().to_string())
        .execute(&mut *conn)
        .await;
    drop(conn);
    if let Err(e) = vacuumed {
        let _ = std::fs::remove_file(&partial);
        anyhow::bail!("writing the backup into {} failed: {e}", dir.display());
    }
    keep_if_sound(&partial, &path).await?;
    Ok(path)
}

/// Checks a file written under a temporary name and, when sound, gives it its own name,
/// durably; an unsound one is removed. So a file with a backup's name is always whole.
async fn keep_if_sound(partial: &Path, target: &Path) -> anyhow::Result<()> {
    if let Err(e) = verify::check(partial).await {
        let _ = std::fs::remove_file(partial);
        return Err(e);
    }
    crate::private_files::file(partial)?;
    sync_file(partial)?;
    std::fs::rename(partial, target)?;
    if let Some(dir) = target.parent() {
        sync_dir(dir);
    }
    Ok(())
}

/// Copies a checked backup into `dir` (a temporary name, then its own) and checks the copy.
async fn copy_checked(path: &Path, dir: &Path) -> anyhow::Result<()> {
    crate::private_files::dir(dir).map_err(|e| anyhow::anyhow!("cannot create {}: {e}", dir.display()))?;
    let name = path.file_name().unwrap_or_default();
    let target = dir.join(name);
    let partial = dir.join(format!(".{}.partial", name.to_string_lossy()));
    std::fs::copy(path, &partial)
        .map_err(|e| anyhow::anyhow!("copying the backup to {} failed: {e}", dir.display()))?;
    keep_if_sound(&partial, &target)
        .await
        .map_err(|e| anyhow::anyhow!("the copy in {} is not sound: {e}", dir.display()))?;
    write_note(&target, Vec::new())
}

/// Without `secret.key`, provider passwords in a restored database cannot be read: one copy
/// goes into each backup directory, readable by its owner only.
fn keep_secret_key_beside(config: &Config, dir: &Path) -> anyhow::Result<()> {
    let source = config.data_dir.join("secret.key");
    let target = dir.join("secret.key");
    if target.exists() || !source.exists() {
        return Ok(());
    }
    let bytes = std::fs::read(&source)?;
    write_durably(&target, &bytes)?;
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o600))?;
    Ok(())
}

/// Writes a small file whole or not at all: a temporary name, flushed, then renamed.
fn write_durably(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let mut partial = path.as_os_str().to_os_string();
    partial.push(".partial");
    let partial = PathBuf::from(partial);
    let _ = std::fs::remove_file(&partial);
    std::io::Write::write_all(&mut crate::private_files::new_file().open(&partial)?, bytes)?;
    sync_file(&partial)?;
    std::fs::rename(&partial, path)?;
    if let Some(dir) = path.parent() {
        sync_dir(dir);
    }
    Ok(())
}

fn sync_file(path: &Path) -> anyhow::Result<()> {
    std::fs::File::open(path)?.sync_all()?;
    Ok(())
}

/// Makes a rename in `dir` survive a power cut. Best effort: some file systems (a FAT USB
/// stick) cannot sync a directory.
fn sync_dir(dir: &Path) {
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Backups made within one second are listed newest first: the retention rule keeps the
    /// newest of a day, so the order decides which one survives.
    #[test]
    fn backups_of_one_second_are_listed_newest_first() {
        let dir = tempfile::tempdir().unwrap();
        for name in [
            "pi-crm-20261206-092328.db",
            "pi-crm-20261206-092328-2.db",
            "pi-crm-20261206-092328-10.db",
            "pi-crm-20261206-092329.db",
            "pi-crm-20261205-235959-3.db",
        ] {
            std::fs::write(dir.path().join(name), b"x").unwrap();
        }
        let names: Vec<String> = list(dir.path()).unwrap().into_iter().map(|b| b.file).collect();
        assert_eq!(
            names,
            [
                "pi-crm-20261206-092329.db",
                "pi-crm-20261206-092328-10.db",
                "pi-crm-20261206-092328-2.db",
                "pi-crm-20261206-092328.db",
                "pi-crm-20261205-235959-3.db",
            ]
        );
    }

    /// Three backups in one second, the day's rule keeping one: each is named after every
    /// earlier one of that second, so the one kept is always the one just made.
    #[tokio::test]
    async fn a_backup_made_in_the_same_second_as_others_is_the_one_kept() {
        let dir = tempfile::tempdir().unwrap();
        let pool = db::open(&dir.path().join("pi-crm.db")).await.unwrap();
        db::migrate(&pool).await.unwrap();
        let backups = dir.path().join("backups");
        let now = "2026-12-06T09:28:00Z".parse::<jiff::Timestamp>().unwrap();
        for expected in [
            "pi-crm-20261206-092800.db",
            "pi-crm-20261206-092800-2.db",
            "pi-crm-20261206-092800-3.db",
        ] {
            let path = write_checked_copy(&pool, &backups, now).await.unwrap();
            write_note(&path, Vec::new()).unwrap();
            assert_eq!(path.file_name().unwrap(), expected);
            retention::prune(&backups, 1, 0, &jiff::tz::TimeZone::UTC).unwrap();
            let left: Vec<String> = list(&backups).unwrap().into_iter().map(|b| b.file).collect();
            assert_eq!(left, [expected], "the newest of the day is kept");
        }
    }
}
