//! `/settings/backups`: the last good backup, the list, and "back up now" (any signed-in
//! person: the household's data is everyone's to keep safe).

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};

use super::chrome::{Chrome, CurrentUser};
use super::error::PageError;
use super::flash;
use crate::backup::status::{self, Status};
use crate::error::AppError;
use crate::jobs::Job;
use crate::jobs::scheduler::{self, ByHand};
use crate::state::AppState;

#[derive(Template, WebTemplate)]
#[template(path = "settings/backups.html")]
struct BackupsPage {
    chrome: Chrome,
    tab: &'static str,
    status: Status,
    dir: String,
    copy_to: Option<String>,
    /// The person who set up pi-crm downloads backups; others are told who can.
    can_download: bool,
    installer: Option<String>,
}

impl BackupsPage {
    fn ago(&self, at: &str) -> String {
        status::ago(at)
    }

    fn megabytes(&self, bytes: &u64) -> String {
        format!("{:.1} MB", *bytes as f64 / 1_048_576.0)
    }
}

pub async fn page(State(state): State<AppState>, user: CurrentUser, chrome: Chrome) -> Result<Response, PageError> {
    let status = status::of(&state).await.map_err(AppError::Internal)?;
    let can_download = crate::backup::download::allowed(&state, &user.actor()).await?;
    let installer = crate::backup::download::who_may(&state).await?;
    Ok(BackupsPage {
        can_download,
        installer,
        chrome: chrome.in_section("settings"),
        tab: "backups",
        status,
        dir: state.config.backup_dir().display().to_string(),
        copy_to: state.config.backup_copy_to.as_ref().map(|p| p.display().to_string()),
    }
    .into_response())
}

/// Runs the backup job now, through the same claim as the scheduler (never twice at once).
pub async fn back_up_now(State(state): State<AppState>, _user: CurrentUser) -> Result<Response, PageError> {
    let (kind, message) = match scheduler::run_by_hand(&state, Job::Backup)
        .await
        .map_err(AppError::Internal)?
    {
        ByHand::Busy => (
            "error",
            "A backup is being made right now; this page shows it when it is done.".to_string(),
        ),
        ByHand::Ran(Ok(_)) => ("success", "Backup made and checked.".to_string()),
        ByHand::Ran(Err(e)) => ("error", format!("The backup failed: {e}")),
    };
    Ok(flash::redirect(&state, "/settings/backups", kind, &message))
}

/// `GET /settings/backups/{file}`: the backup file itself, streamed, for the person who set up
/// pi-crm (anyone else: 404).
pub async fn download(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(file): Path<String>,
) -> Result<Response, PageError> {
    let (backup, opened) = crate::backup::download::open(&state, &user.actor(), &file).await?;
    Ok(crate::download::backup(&backup.file, opened))
}
