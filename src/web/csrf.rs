//! CSRF for the web face: a per-session token (per-browser before sign-in), rendered into every
//! form as `csrf_token` and into every page as `<meta name="csrf-token">`, and required on every
//! state-changing request, from the form body or the `X-CSRF-Token` header (htmx).

use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use super::error::PageError;
use crate::auth::session::{Session, add_cookie};
use crate::auth::{cookies, tokens};
use crate::error::AppError;
use crate::state::AppState;

/// The token the current page must embed.
#[derive(Debug, Clone)]
pub struct CsrfToken(pub String);

/// Largest urlencoded form body accepted.
pub const FORM_LIMIT: usize = 2 * 1024 * 1024;

pub async fn layer(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let (mut parts, body) = req.into_parts();
    let mut new_pre = None;
    let expected = match parts.extensions.get::<Session>() {
        Some(s) => s.0.csrf_token.clone(),
        None => {
            let pre = cookies::get(&parts.headers, cookies::PRE_SESSION)
                .filter(|v| v.len() == 32 && v.bytes().all(|b| b.is_ascii_hexdigit()))
                .map(str::to_string)
                .unwrap_or_else(|| {
                    let fresh = tokens::random_hex(16);
                    new_pre = Some(fresh.clone());
                    fresh
                });
            pre_session_token(&state, &pre)
        }
    };

    let mut body = body;
    if !matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS) {
        let header_token = parts
            .headers
            .get("x-csrf-token")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let presented = match header_token {
            Some(t) => Some(t),
            None if is_multipart(&parts.headers) => {
                // Uploads carry the token as a form part; read the body (within the upload
                // limit) to find it, then hand the same bytes on.
                let bytes = match to_bytes(body, state.config.max_upload_bytes()).await {
                    Ok(b) => b,
                    Err(_) => {
                        return PageError(AppError::PayloadTooLarge(
                            "the file is larger than this server accepts".into(),
                        ))
                        .into_response();
                    }
                };
                let token = multipart_boundary(&parts.headers).and_then(|b| multipart_field(&bytes, &b, "csrf_token"));
                body = Body::from(bytes);
                token
            }
            None if is_form(&parts.headers) => {
                let bytes = match to_bytes(body, FORM_LIMIT).await {
                    Ok(b) => b,
                    Err(_) => {
                        return PageError(AppError::PayloadTooLarge("this form is too large".into())).into_response();
                    }
                };
                let token = form_urlencoded::parse(&bytes)
                    .find(|(k, _)| k == "csrf_token")
                    .map(|(_, v)| v.into_owned());
                body = Body::from(bytes);
                token
            }
            None => None,
        };
        if !presented.is_some_and(|p| tokens::same_token(&p, &expected)) {
            return PageError(AppError::forbidden(
                "this form has expired or did not come from pi-crm; reload the page and try again",
            ))
            .into_response();
        }
    }
    parts.extensions.insert(CsrfToken(expected));
    let mut response = next.run(Request::from_parts(parts, body)).await;
    if let Some(pre) = new_pre {
        add_cookie(
            &mut response,
            &cookies::set(cookies::PRE_SESSION, &pre, None, state.config.is_tls()),
        );
    }
    response
}

fn is_multipart(headers: &axum::http::HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data"))
}

fn multipart_boundary(headers: &axum::http::HeaderMap) -> Option<String> {
    let value = headers.get(header::CONTENT_TYPE)?.to_str().ok()?;
    value
        .split(';')
        .filter_map(|p| p.trim().strip_prefix("boundary="))
        .map(|b| b.trim_matches('"').to_string())
        .next()
}

/// The text of one small part of a multipart body, by name. Only the first 64 KiB are read:
/// pi-crm's upload forms put `csrf_token` before the file, and a 50 MB file need not be copied.
fn multipart_field(body: &[u8], boundary: &str, name: &str) -> Option<String> {
    let delimiter = format!("--{boundary}");
    let wanted = format!("name=\"{name}\"");
    let text = String::from_utf8_lossy(&body[..body.len().min(64 * 1024)]);
    for part in text.split(delimiter.as_str()) {
        let Some((head, value)) = part.split_once("\r\n\r\n") else {
            continue;
        };
        let disposition = head
            .lines()
            .find(|l| l.to_ascii_lowercase().starts_with("content-disposition"))?;
        if disposition.contains(&wanted) {
            return Some(value.trim_end_matches("\r\n").trim_end_matches('-').trim().to_string());
        }
    }
    None
}

fn is_form(headers: &axum::http::HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"))
}

/// Before sign-in there is no session row; the token is an HMAC of the browser's random
/// `pcrm_pre` cookie under the data-dir secret, so a page from another site cannot know it.
fn pre_session_token(state: &AppState, pre: &str) -> String {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(state.secret.bytes()).expect("HMAC takes any key length");
    mac.update(b"csrf:");
    mac.update(pre.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}
