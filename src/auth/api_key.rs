//! API keys on a request: read from `X-Api-Key` or `Authorization: Bearer`, checked once by
//! `layer` (before the rate limit, so a made-up key is limited as anonymous traffic by IP, not
//! given a fresh bucket of its own), and the outcome kept for the API's extractor.

use axum::extract::{Request, State};
use axum::http::{HeaderMap, header};
use axum::middleware::Next;
use axum::response::Response;

use crate::domain::actor::Actor;
use crate::domain::api_key;
use crate::error::AppError;
use crate::state::AppState;

/// The key a request presents, if any.
pub fn presented(headers: &HeaderMap) -> Option<&str> {
    if let Some(k) = headers.get("x-api-key").and_then(|v| v.to_str().ok()) {
        return Some(k);
    }
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
}

/// A presented key after checking: the actor it stands for, or `None` when it is unknown,
/// revoked or expired.
#[derive(Debug, Clone)]
pub struct CheckedKey(pub Option<Actor>);

/// A phone's CardDAV sign-in: `Authorization: Basic` with the account's email and an app
/// password, read on `/dav/` only (nowhere else does pi-crm take a password in a header).
fn basic_credentials(req: &Request) -> Option<(String, String)> {
    use base64::Engine;
    if !req.uri().path().starts_with("/dav") {
        return None;
    }
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, encoded) = value.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD.decode(encoded.trim()).ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (email, password) = text.split_once(':')?;
    Some((email.to_string(), password.to_string()))
}

pub async fn layer(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    if let Some((email, password)) = basic_credentials(&req) {
        let checked = api_key::authenticate_app_password(&state.db, &state.activity, &email, &password).await;
        match checked {
            Ok(actor) => {
                req.extensions_mut().insert(CheckedKey(Some(actor)));
            }
            Err(AppError::Unauthorized(_)) => {
                req.extensions_mut().insert(CheckedKey(None));
            }
            Err(e) => tracing::error!(error = %crate::telemetry::chain(&e), "checking an app password failed"),
        }
        return next.run(req).await;
    }
    if let Some(key) = presented(req.headers()) {
        match api_key::authenticate(&state.db, &state.activity, key).await {
            Ok(actor) => {
                req.extensions_mut().insert(CheckedKey(Some(actor)));
            }
            Err(AppError::Unauthorized(_)) => {
                req.extensions_mut().insert(CheckedKey(None));
            }
            // Left unchecked: the extractor tries again and reports the failure.
            Err(e) => tracing::error!(error = %crate::telemetry::chain(&e), "checking an API key failed"),
        }
    }
    next.run(req).await
}
