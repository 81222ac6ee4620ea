//! The session cookie: it holds a random token; the database holds its SHA-256, the user, the
//! CSRF token and the times that enforce the idle and absolute timeouts (`domain::session`).

use axum::extract::{Request, State};
use axum::http::HeaderValue;
use axum::http::header::SET_COOKIE;
use axum::middleware::Next;
use axum::response::Response;

use super::cookies;
use crate::domain::session::{self, Lifetimes, SignedIn};
use crate::state::AppState;

/// The signed-in session behind a request, put in the request's extensions by `load_layer`.
#[derive(Debug, Clone)]
pub struct Session(pub SignedIn);

/// Loads the session named by the cookie, if it is live. Runs on every route; it costs one
/// indexed read when a cookie is present and nothing otherwise.
pub async fn load_layer(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    if let Some(token) = cookies::get(req.headers(), cookies::SESSION) {
        match session::find_live(&state.db, &state.activity, &token, lifetimes(&state)).await {
            Ok(Some(row)) => {
                req.extensions_mut().insert(Session(row));
            }
            Ok(None) => {}
            Err(e) => tracing::error!(error = %crate::telemetry::chain(&e), "loading a session failed"),
        }
    }
    next.run(req).await
}

pub fn lifetimes(state: &AppState) -> Lifetimes {
    Lifetimes {
        idle: jiff::SignedDuration::from_mins(state.config.session_idle_minutes),
        absolute: jiff::SignedDuration::from_hours(state.config.session_absolute_hours),
    }
}

/// The `Set-Cookie` value that hands a browser its new session's token.
pub fn cookie_for(state: &AppState, started: &session::Started) -> String {
    let max_age = state.config.session_absolute_hours * 3600;
    cookies::set(cookies::SESSION, &started.token, Some(max_age), state.config.is_tls())
}

pub fn clear_cookie(state: &AppState) -> String {
    cookies::clear(cookies::SESSION, state.config.is_tls())
}

/// Appends a `Set-Cookie` header to a response.
pub fn add_cookie(response: &mut Response, cookie: &str) {
    if let Ok(v) = HeaderValue::from_str(cookie) {
        response.headers_mut().append(SET_COOKIE, v);
    }
}
