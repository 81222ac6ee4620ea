//! Downloading a backup from the web, for the person who set up pi-crm and nobody else: a
//! backup is the whole database — every household member's contacts, messages and sealed
//! provider secrets — so a household member who may not read Monalisa's workspace may not take
//! it home either. To anyone else the file is not there (404). Every download is audited.

use super::Backup;
use crate::domain::actor::{Actor, Via};
use crate::domain::audit;
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use crate::storage;

/// Whether `actor` may download backups.
pub async fn allowed(state: &AppState, actor: &Actor) -> AppResult<bool> {
    Ok(matches!(actor.via, Via::Ui) && storage::users::is_installer(&state.db, &actor.user_id).await?)
}

/// The name of the person who may (while their account exists), to tell the others.
pub async fn who_may(state: &AppState) -> AppResult<Option<String>> {
    Ok(storage::users::installer_name(&state.db).await?)
}

/// The backup named `file` (one of the listed ones, so never a path of the caller's making),
/// opened for `actor`, with the download in the audit log.
pub async fn open(state: &AppState, actor: &Actor, file: &str) -> AppResult<(Backup, tokio::fs::File)> {
    if !allowed(state, actor).await? {
        return Err(AppError::NotFound);
    }
    let backup = super::list_in(state.config.backup_dir())
        .await
        .map_err(AppError::Internal)?
        .into_iter()
        .find(|b| b.file == file)
        .ok_or(AppError::NotFound)?;
    let opened = tokio::fs::File::open(&backup.path)
        .await
        .map_err(|e| AppError::Internal(anyhow::anyhow!("cannot open {}: {e}", backup.file)))?;
    let mut tx = storage::db::begin_write(&state.db).await?;
    audit::record(&mut tx, actor, "backup.download", "backup", Some(&backup.file), None).await?;
    tx.commit().await?;
    Ok((backup, opened))
}
