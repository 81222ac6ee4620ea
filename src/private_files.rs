//! pi-crm's files are its owner's alone, whatever the umask: the data directory, the backup
//! directories and the upload directory are 0700, and every file pi-crm writes in them — the
//! database and its log, backups, uploads, the secret key — is 0600. (systemd's `UMask=0077`
//! does the same for the service; a `cargo run` or a CLI command under a 022 umask does not.)

use std::io;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;

/// Creates `dir` (and its parents) if missing, and makes it the owner's alone. A file system
/// without Unix modes (a FAT-formatted USB disk for `backup_copy_to`) refuses the change:
/// that is said in the log and is not an error.
pub fn dir(dir: &Path) -> io::Result<()> {
    std::fs::create_dir_all(dir)?;
    restrict(dir, 0o700);
    Ok(())
}

/// Makes an existing file the owner's alone (see `dir` on file systems without modes).
pub fn file(path: &Path) -> io::Result<()> {
    restrict(path, 0o600);
    Ok(())
}

fn restrict(path: &Path, mode: u32) {
    if let Err(e) = std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)) {
        tracing::warn!(path = %path.display(), error = %e, "could not make this private to pi-crm's user");
    }
}

/// Options that create a new file readable by its owner only.
pub fn new_file() -> std::fs::OpenOptions {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true).mode(0o600);
    options
}

/// Creates the database file empty and 0600 when it does not exist yet: SQLite gives its log
/// and shared-memory files the database file's mode, so they are private too.
pub fn database(path: &Path) -> io::Result<()> {
    match new_file().open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => file(path),
        Err(e) => Err(e),
    }
}
