//! Uploaded import files, kept on disk beside the database (`<data dir>/imports/<import id>`)
//! until their import has run: a file can be as large as the upload limit, and the database
//! and memory are no place for it. An upload arrives under a temporary name and gets its
//! import's id only once the import row exists; whatever is left behind by a crash is swept at
//! start.

use std::collections::HashSet;
use std::io;
use std::path::{Path, PathBuf};

use crate::model::ids::ImportId;

const INCOMING: &str = ".incoming-";

/// A file being received or waiting to become an import's; deleted when dropped unless kept.
pub struct UploadFile {
    path: PathBuf,
    kept: bool,
}

impl UploadFile {
    /// A new, empty file in `dir` (created if missing), open for writing.
    pub fn create(dir: &Path) -> io::Result<(UploadFile, std::fs::File)> {
        crate::private_files::dir(dir)?;
        let path = dir.join(format!("{INCOMING}{}", uuid::Uuid::new_v4().simple()));
        let file = crate::private_files::new_file().open(&path)?;
        Ok((UploadFile { path, kept: false }, file))
    }

    /// A copy of a file from elsewhere (the CLI's argument).
    pub fn copy_from(dir: &Path, from: &Path) -> io::Result<UploadFile> {
        let (upload, mut file) = Self::create(dir)?;
        io::copy(&mut std::fs::File::open(from)?, &mut file)?;
        Ok(upload)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Gives the file to an import: it is renamed after it and no longer deleted on drop.
    pub fn keep_for(mut self, dir: &Path, id: &ImportId) -> io::Result<()> {
        std::fs::rename(&self.path, path_for(dir, id.as_str()))?;
        self.kept = true;
        Ok(())
    }
}

impl Drop for UploadFile {
    fn drop(&mut self) {
        if !self.kept {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

pub fn path_for(dir: &Path, id: &str) -> PathBuf {
    dir.join(id)
}

/// Forgets an import's file (its import has run, or its draft expired).
pub fn remove(dir: &Path, id: &str) {
    match std::fs::remove_file(path_for(dir, id)) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => tracing::warn!(import = id, error = %e, "an import's file could not be removed"),
    }
}

/// Removes every file that belongs to no waiting import: uploads left half-received (an hour
/// on) and the files of imports that ended while the process was stopping.
pub fn sweep(dir: &Path, waiting: &HashSet<String>) -> io::Result<usize> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(e),
    };
    let mut removed = 0;
    for entry in entries {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().to_string();
        // An upload may be arriving in a server while a CLI command starts: leave young ones.
        let young = entry
            .metadata()?
            .modified()?
            .elapsed()
            .is_ok_and(|age| age < std::time::Duration::from_secs(3600));
        if name.starts_with(INCOMING) && young {
            continue;
        }
        if !waiting.contains(&name) {
            std::fs::remove_file(entry.path())?;
            removed += 1;
        }
    }
    Ok(removed)
}
