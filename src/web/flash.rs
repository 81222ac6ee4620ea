//! One-shot messages carried across a redirect in a short cookie, shown once, then cleared.

use axum::extract::{Request, State};
use axum::http::HeaderMap;
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};

use crate::auth::cookies;
use crate::auth::session::add_cookie;
use crate::state::AppState;

#[derive(Debug, Clone)]
pub struct Flash {
    /// `success` or `error`; picks the colour.
    pub kind: &'static str,
    pub message: String,
}

impl Flash {
    pub fn from_headers(headers: &HeaderMap) -> Option<Flash> {
        let raw = cookies::get(headers, cookies::FLASH)?;
        let (kind, message) = raw.split_once(':')?;
        let kind = match kind {
            "error" => "error",
            _ => "success",
        };
        Some(Flash {
            kind,
            message: message.chars().take(300).collect(),
        })
    }
}

/// Redirects to `to`, showing `message` on the next page.
pub fn redirect(state: &AppState, to: &str, kind: &'static str, message: &str) -> Response {
    let value = format!("{kind}:{message}");
    let mut response = Redirect::to(to).into_response();
    add_cookie(
        &mut response,
        &cookies::set(cookies::FLASH, &value, Some(60), state.config.is_tls()),
    );
    response
}

/// Clears the flash cookie once a page has been rendered with it.
pub async fn layer(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let had_flash = cookies::get(req.headers(), cookies::FLASH).is_some();
    let mut response = next.run(req).await;
    if had_flash && !response.status().is_redirection() {
        add_cookie(&mut response, &cookies::clear(cookies::FLASH, state.config.is_tls()));
    }
    response
}
