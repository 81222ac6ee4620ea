//! Settings → "Reach from outside" (SPEC §8.5): the `public_url`, which listener a tunnel or
//! proxy should point at, and the reachability check with its last answer (any signed-in
//! person).

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use axum::response::{IntoResponse, Response};

use super::chrome::{Chrome, CurrentUser};
use super::error::PageError;
use super::flash;
use crate::domain::reachability::{self, Check};
use crate::state::AppState;

#[derive(Template, WebTemplate)]
#[template(path = "settings/reach.html")]
struct ReachPage {
    chrome: Chrome,
    tab: &'static str,
    check: Check,
    /// The public listener's address, when `public_bind` is set.
    public_bind: Option<String>,
    bind: String,
}

pub async fn page(State(state): State<AppState>, _user: CurrentUser, chrome: Chrome) -> Result<Response, PageError> {
    Ok(ReachPage {
        chrome: chrome.in_section("settings"),
        tab: "reach",
        check: reachability::current(&state).await?,
        public_bind: state.config.public_bind.map(|a| a.to_string()),
        bind: state.config.bind.to_string(),
    }
    .into_response())
}

/// Checks now; the page shows the answer.
pub async fn check(State(state): State<AppState>, _user: CurrentUser) -> Result<Response, PageError> {
    let c = reachability::check(&state).await?;
    let (kind, message) = if c.reachable {
        ("success", "Outsiders can reach pi-crm.")
    } else {
        ("error", "Outsiders cannot reach pi-crm yet: see below why.")
    };
    Ok(flash::redirect(&state, "/settings/reach", kind, message))
}
