//! CSRF for the web face: a per-session token (per-browser before sign-in), rendered into every
//! form as `csrf_token` and into every page as `<meta name="csrf-token">`, and required on every
//! state-changing request, from the form body or the `X-CSRF-Token` header (htmx).

use axum::body::{Body, Bytes, to_bytes};
use axum::extract::{Request, State};
use axum::http::{Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
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
                // Uploads carry the token as their first form part: read only until that part
                // closes, then hand the consumed bytes on, followed by the untouched stream.
                let boundary = multipart_boundary(&parts.headers).unwrap_or_default();
                let (token, rest) = multipart_token(body, &boundary).await;
                body = rest;
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

/// How much of an upload is read to find its token. pi-crm's upload forms put `csrf_token`
/// first, so a 50 MB file is never held: only this prefix is, and it is handed on unchanged.
const TOKEN_PREFIX_LIMIT: usize = 64 * 1024;

/// Reads the start of a multipart body until the `csrf_token` part is complete (or a file part
/// begins, or the prefix limit is reached), and returns the token with a body that replays the
/// bytes read and then streams the rest.
async fn multipart_token(body: Body, boundary: &str) -> (Option<String>, Body) {
    let mut stream = body.into_data_stream();
    let mut prefix = Vec::new();
    let mut token = None;
    let mut failed = None;
    while !boundary.is_empty() {
        match scan_parts(&prefix, boundary, "csrf_token") {
            Scan::Found(t) => {
                token = Some(t);
                break;
            }
            Scan::Absent => break,
            Scan::NeedMore if prefix.len() >= TOKEN_PREFIX_LIMIT => break,
            Scan::NeedMore => {}
        }
        match stream.next().await {
            Some(Ok(chunk)) => prefix.extend_from_slice(&chunk),
            Some(Err(e)) => {
                failed = Some(e);
                break;
            }
            None => break,
        }
    }
    let head: Vec<Result<Bytes, axum::Error>> = match failed {
        Some(e) => vec![Ok(Bytes::from(prefix)), Err(e)],
        None => vec![Ok(Bytes::from(prefix))],
    };
    (token, Body::from_stream(futures_util::stream::iter(head).chain(stream)))
}

#[derive(Debug, PartialEq)]
enum Scan {
    Found(String),
    /// The body so far is complete up to a file part (or its end) without the field.
    Absent,
    NeedMore,
}

/// Looks for one small text part by name among the complete parts at the start of `body`.
fn scan_parts(body: &[u8], boundary: &str, name: &str) -> Scan {
    let delimiter = format!("--{boundary}");
    let wanted = format!("name=\"{name}\"");
    let text = String::from_utf8_lossy(body);
    let mut pieces = text.split(delimiter.as_str()).skip(1).peekable();
    while let Some(part) = pieces.next() {
        if part.starts_with("--") {
            return Scan::Absent; // the closing delimiter: no more parts
        }
        let Some((head, value)) = part.split_once("\r\n\r\n") else {
            return Scan::NeedMore;
        };
        let disposition = head
            .lines()
            .find(|l| l.to_ascii_lowercase().starts_with("content-disposition"))
            .unwrap_or_default();
        if disposition.contains("filename=") {
            return Scan::Absent; // a file: the token should have come before it
        }
        if pieces.peek().is_none() {
            return Scan::NeedMore; // this part has not closed yet
        }
        if disposition.contains(&wanted) {
            return Scan::Found(value.strip_suffix("\r\n").unwrap_or(value).trim().to_string());
        }
    }
    Scan::NeedMore
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

#[cfg(test)]
mod tests {
    use super::*;

    const B: &str = "XyZ";

    fn body(parts: &[(&str, &str)], file: bool) -> String {
        let mut out = String::new();
        for (name, value) in parts {
            out.push_str(&format!(
                "--{B}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            ));
        }
        if file {
            out.push_str(&format!(
                "--{B}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.csv\"\r\n\r\nName\r\nAnn\r\n"
            ));
        }
        out.push_str(&format!("--{B}--\r\n"));
        out
    }

    #[test]
    fn finds_the_token_only_once_its_part_has_closed() {
        let full = body(&[("csrf_token", "abc123")], true);
        assert_eq!(
            scan_parts(full.as_bytes(), B, "csrf_token"),
            Scan::Found("abc123".into())
        );
        for cut in 0..full
            .find("\r\n--XyZ\r\nContent-Disposition: form-data; name=\"file\"")
            .unwrap()
            + 7
        {
            let scan = scan_parts(&full.as_bytes()[..cut], B, "csrf_token");
            assert_eq!(scan, Scan::NeedMore, "cut at {cut}");
        }
    }

    #[test]
    fn a_file_before_the_token_or_no_token_is_absent() {
        let file_first = format!(
            "--{B}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.csv\"\r\n\r\nx\r\n--{B}\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\nabc\r\n--{B}--\r\n"
        );
        assert_eq!(scan_parts(file_first.as_bytes(), B, "csrf_token"), Scan::Absent);
        let none = body(&[("mapping", "{}")], false);
        assert_eq!(scan_parts(none.as_bytes(), B, "csrf_token"), Scan::Absent);
        let later = body(&[("mode", "x"), ("csrf_token", "t")], true);
        assert_eq!(scan_parts(later.as_bytes(), B, "csrf_token"), Scan::Found("t".into()));
    }

    #[tokio::test]
    async fn the_body_handed_on_is_byte_for_byte_the_upload() {
        let full = body(&[("csrf_token", "tok")], true);
        let chunks: Vec<Result<Bytes, std::io::Error>> = full
            .as_bytes()
            .chunks(7)
            .map(|c| Ok(Bytes::copy_from_slice(c)))
            .collect();
        let (token, rest) = multipart_token(Body::from_stream(futures_util::stream::iter(chunks)), B).await;
        assert_eq!(token.as_deref(), Some("tok"));
        let replayed = to_bytes(rest, usize::MAX).await.unwrap();
        assert_eq!(replayed, full.as_bytes());
    }
}
