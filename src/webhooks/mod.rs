//! Provider webhooks (SPEC §8.3): no session and no CSRF token — the signature is the
//! authentication. Each handler finds the workspace's provider, checks the signature against
//! its secret (403 and no change when it is wrong or missing), then calls the domain.

pub mod mailgun;
pub mod twilio;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;

use crate::domain::ids::WorkspaceId;
use crate::domain::workspace::{self, WorkspaceAccess};
use crate::error::AppError;
use crate::state::AppState;

/// Providers post small bodies; anything bigger is not theirs.
const BODY_LIMIT: usize = 256 * 1024;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/webhooks/twilio/{ws}/sms", post(twilio::inbound))
        .route("/webhooks/twilio/{ws}/status", post(twilio::status))
        .route("/webhooks/mailgun/{ws}/events", post(mailgun::events))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
}

/// Why a webhook is refused. Its answers are plain text: the caller is a provider.
pub enum Refusal {
    /// No such workspace, or it has no provider of this kind: nothing to check against.
    Unknown,
    /// The signature is missing or wrong.
    BadSignature,
    BadRequest(&'static str),
    Failed(AppError),
}

impl From<AppError> for Refusal {
    fn from(e: AppError) -> Self {
        Refusal::Failed(e)
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        match self {
            Refusal::Unknown => (StatusCode::NOT_FOUND, "not found").into_response(),
            Refusal::BadSignature => (StatusCode::FORBIDDEN, "the signature is missing or wrong").into_response(),
            Refusal::BadRequest(why) => (StatusCode::BAD_REQUEST, why).into_response(),
            Refusal::Failed(e) => {
                e.log_if_internal();
                // The provider retries a 5xx later; a 4xx it would not.
                (e.status(), e.public_message()).into_response()
            }
        }
    }
}

/// The workspace a webhook names, before its signature is checked against its secrets.
pub async fn workspace_of(state: &AppState, raw: &str) -> Result<WorkspaceAccess, Refusal> {
    let id = WorkspaceId::parse(raw).ok_or(Refusal::Unknown)?;
    // The signature is checked next, against this workspace's own secret.
    workspace::for_system(&workspace::System::acting(), &state.db, &id)
        .await?
        .map(|(ws, _)| ws)
        .ok_or(Refusal::Unknown)
}

/// The address a provider signed: our public URL, path and query, exactly. Without
/// `public_url` no provider can reach pi-crm, and no signature can be checked.
pub fn public_address(state: &AppState, uri: &axum::http::Uri) -> Result<String, Refusal> {
    let base = state.config.public_url.as_deref().ok_or_else(|| {
        tracing::warn!("a webhook arrived but public_url is not set, so its signature cannot be checked");
        Refusal::BadSignature
    })?;
    let path = uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
    Ok(format!("{}{path}", base.trim_end_matches('/')))
}
