//! The HTML face: askama pages and urlencoded forms. Thin: parse, call `domain`, render.

pub mod auth_pages;
pub mod chrome;
pub mod csrf;
pub mod dashboard;
pub mod error;
pub mod flash;
pub mod forms;
pub mod settings;
pub mod workspaces;

use axum::routing::{get, post};
use axum::{Router, middleware};

use crate::state::AppState;

pub fn router(state: AppState) -> Router<AppState> {
    Router::new()
        .route("/", get(dashboard::show))
        .route("/setup", get(auth_pages::setup_page).post(auth_pages::setup_submit))
        .route("/login", get(auth_pages::login_page).post(auth_pages::login_submit))
        .route("/logout", post(auth_pages::logout))
        .route("/workspaces", post(dashboard::create_workspace))
        .route("/workspaces/{ws}", get(workspaces::show))
        .route("/workspaces/{ws}/rename", post(workspaces::rename))
        .route("/workspaces/{ws}/delete", post(workspaces::delete))
        .route("/workspaces/{ws}/members", post(workspaces::add_member))
        .route(
            "/workspaces/{ws}/members/{user_id}/remove",
            post(workspaces::remove_member),
        )
        .route("/settings", get(settings::profile))
        .route("/settings/profile", post(settings::save_profile))
        .route("/settings/password", post(settings::change_password))
        .route("/settings/sessions", get(settings::sessions))
        .route("/settings/sessions/{id}/end", post(settings::end_session))
        .route("/settings/keys", get(settings::keys).post(settings::create_key))
        .route("/settings/keys/{id}/revoke", post(settings::revoke_key))
        .route("/settings/audit", get(settings::audit_log))
        .layer(middleware::from_fn_with_state(state.clone(), flash::layer))
        .layer(middleware::from_fn_with_state(state, csrf::layer))
}
