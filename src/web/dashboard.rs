//! `/`: the dashboard. For now: the person's workspaces and a form to create one.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum_extra::extract::Form;
use serde::Deserialize;

use super::chrome::{Chrome, CurrentUser};
use super::error::PageError;
use super::flash;
use super::forms::FormErrors;
use crate::domain::workspace::{self, WorkspaceAccess};
use crate::state::AppState;

#[derive(Template, WebTemplate)]
#[template(path = "dashboard.html")]
struct DashboardPage {
    chrome: Chrome,
    first_name: String,
    workspaces: Vec<WorkspaceAccess>,
    errors: FormErrors,
    new_name: String,
}

fn page(user: &CurrentUser, chrome: Chrome, errors: FormErrors, new_name: String) -> DashboardPage {
    let workspaces = chrome.workspaces.clone();
    DashboardPage {
        chrome: chrome.in_section("home"),
        first_name: user.name.split_whitespace().next().unwrap_or(&user.name).to_string(),
        workspaces,
        errors,
        new_name,
    }
}

pub async fn show(user: CurrentUser, chrome: Chrome) -> Response {
    page(&user, chrome, FormErrors::none(), String::new()).into_response()
}

#[derive(Deserialize)]
pub struct NewWorkspace {
    #[serde(default)]
    name: String,
}

pub async fn create_workspace(
    State(state): State<AppState>,
    user: CurrentUser,
    chrome: Chrome,
    Form(form): Form<NewWorkspace>,
) -> Result<Response, PageError> {
    match workspace::create(&state.db, &user.actor(), &form.name).await {
        Ok(ws) => Ok(flash::redirect(
            &state,
            &format!("/workspaces/{}", ws.id()),
            "success",
            "Workspace created.",
        )),
        Err(e) => {
            let errors = FormErrors::from_error_on(e, "name")?;
            let status = if errors.has("name") {
                StatusCode::UNPROCESSABLE_ENTITY
            } else {
                StatusCode::CONFLICT
            };
            Ok((status, page(&user, chrome, errors, form.name)).into_response())
        }
    }
}
