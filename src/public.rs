//! The public listener (`public_bind`, SPEC §8.5): the only part of pi-crm a tunnel or proxy
//! should expose. It serves what outsiders need — the reviewer's page, the unsubscribe page,
//! the providers' webhooks, `/healthz` and the stylesheet and icon those pages use — and a
//! bare 404 for everything else: no sign-in page, no API, no setup, no session is ever read.

use axum::Router;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::middleware;
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::state::AppState;
use crate::{assets, web};

/// The assets the public pages link to.
const PUBLIC_ASSETS: &[&str] = &["app.css", "favicon.svg"];

pub fn router(state: AppState) -> Router {
    Router::new()
        .merge(crate::webhooks::router())
        .merge(web::unsubscribe::router())
        .merge(web::review::router())
        .route("/healthz", get(crate::health::public))
        .route("/assets/{name}", get(asset).layer(crate::app::asset_compression()))
        .fallback(nothing_here)
        .layer(middleware::from_fn_with_state(state.clone(), crate::app::rate_limit))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            crate::app::security_headers,
        ))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            crate::body_deadline::layer,
        ))
        .layer(middleware::from_fn(crate::compress::whole))
        .layer(crate::app::compression())
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .with_state(state)
}

async fn asset(Path(name): Path<String>) -> Response {
    if PUBLIC_ASSETS.contains(&name.as_str()) {
        assets::serve(Path(name)).await
    } else {
        nothing_here().await
    }
}

/// No page, no hint of what else pi-crm is: the same answer for every other path.
async fn nothing_here() -> Response {
    (StatusCode::NOT_FOUND, "not found").into_response()
}
