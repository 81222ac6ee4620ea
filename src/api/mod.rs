//! The JSON face, under `/api/v1`. Thin: parse, call `domain`, answer JSON.

pub mod error;
pub mod extract;
pub mod openapi;
pub mod v1;

use axum::extract::DefaultBodyLimit;
use axum::routing::{delete, get};
use axum::{Router, middleware};

use crate::state::AppState;

/// JSON bodies are small; uploads (imports) get their own limit on their own routes.
const JSON_LIMIT: usize = 1024 * 1024;

pub fn router() -> Router<AppState> {
    use v1::{audit, keys, workspaces};
    Router::new()
        .route("/api/v1/keys", get(keys::list).post(keys::create))
        .route("/api/v1/keys/{id}", delete(keys::revoke))
        .route("/api/v1/workspaces", get(workspaces::list).post(workspaces::create))
        .route(
            "/api/v1/workspaces/{ws}",
            get(workspaces::get)
                .patch(workspaces::rename)
                .delete(workspaces::delete),
        )
        .route(
            "/api/v1/workspaces/{ws}/members",
            get(workspaces::members).post(workspaces::add_member),
        )
        .route(
            "/api/v1/workspaces/{ws}/members/{user_id}",
            delete(workspaces::remove_member),
        )
        .route("/api/v1/audit", get(audit::list))
        .layer(DefaultBodyLimit::max(JSON_LIMIT))
        .layer(middleware::from_fn(error::json_errors))
}
